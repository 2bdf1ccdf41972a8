r"""Integer coefficient tables: how the exact checks compare operators without SymPy.

An operator's coefficient table lists, for every tap, a tuple of integer keys (output, input,
weight index, ...); equal tables (as multisets: a key repeated $m$ times is the coefficient
$m$) are equal bilinear forms with symbolic weights, checked in integer arithmetic. Tables of a
factored operator (`IndexForm.factors()`) are compared factor by factor: equal factors give
equal products, so a check costs the factors' size, not the layer's.

```python
>>> import numpy as np
>>> same(table(np.array([1, 0, 1]), np.array([5, 2, 5])), table([0, 1, 1], [2, 5, 5]))
True
>>> same(table([1, 0]), table([1, 1]))
False

```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Table", "same", "same_factors", "table"]

Table = np.ndarray  # (taps, keys) int64: one row of keys per tap, in any order
_SMALL = 64  # up to this many taps, `same` sorts Python lists (5-10x faster than the arrays)


def table(*keys: Any) -> Table:
    """The key tuples `zip(*keys)` as one `(taps, len(keys))` int64 array (a multiset)."""
    cols = [np.asarray(k).ravel() for k in keys]
    n = len(cols[0])
    if any(len(c) != n for c in cols):
        raise ValueError(f"table: keys of different lengths {[len(c) for c in cols]}")
    out = np.empty((n, len(cols)), dtype=np.int64)
    for j, c in enumerate(cols):  # filled column by column: np.stack costs twice as much
        out[:, j] = c
    return out


def same(a: Table, b: Table) -> bool:
    """Whether two tables hold the same key tuples with the same multiplicities.

    Both are encoded with one mixed radix (each key's largest value on either side, plus one)
    into int64 codes, sorted and compared; no two tuples share a code.
    """
    if a.shape != b.shape:
        return False
    if len(a) == 0:
        return True
    if len(a) <= _SMALL:  # sorted lists of key rows: the same comparison, no array overhead
        return sorted(a.tolist()) == sorted(b.tolist())
    low = min(int(a.min()), int(b.min()))
    if low < 0:
        a, b = a - low, b - low
    radix = np.maximum(a.max(axis=0), b.max(axis=0)) + 1
    if float(np.prod(radix.astype(float))) >= 2.0**62:  # pragma: no cover - huge keys
        order_a, order_b = np.lexsort(a.T[::-1]), np.lexsort(b.T[::-1])
        return bool(np.array_equal(a[order_a], b[order_b]))
    place = np.ones(len(radix), dtype=np.int64)
    for j in range(len(radix) - 2, -1, -1):
        place[j] = place[j + 1] * radix[j + 1]
    return bool(np.array_equal(np.sort(a @ place), np.sort(b @ place)))


def same_factors(a: Sequence[Table], b: Sequence[Table]) -> bool:
    """Whether two products of tables are equal: both empty (some factor empty on each side),
    or their factors equal one by one (sufficient; all that a check needs)."""
    a_empty, b_empty = any(len(x) == 0 for x in a), any(len(x) == 0 for x in b)
    if a_empty or b_empty:
        return a_empty and b_empty
    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
