r"""Integer coefficient tables: how the exact checks compare operators without SymPy.

An operator's coefficient table lists, for every tap, a tuple of integer keys (output, input,
weight index, ...); equal tables (as multisets: a key repeated $m$ times is the coefficient
$m$) are equal bilinear forms with symbolic weights, checked in integer arithmetic. Tables of a
factored operator (`IndexForm.factors()`) are compared factor by factor: equal factors give
equal products, so a check costs the factors' size, not the layer's.

```python
>>> import numpy as np
>>> same(table(np.array([1, 0, 1]), np.array([5, 2, 5])), table(np.array([0, 1, 1]), [2, 5, 5]))
True

```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Table", "same", "same_factors", "table"]

Table = tuple[np.ndarray, np.ndarray]  # distinct key rows (n, m), their counts (n,)


def table(*keys: Any) -> Table:
    """The multiset of key tuples `zip(*keys)` as (sorted distinct rows, counts): canonical.

    Keys are non-negative integers; rows are encoded into one int64 (mixed radix) when the
    radix product fits, so the sort is one-dimensional.
    """
    arr = np.stack([np.asarray(k, dtype=np.int64).ravel() for k in keys], axis=1)
    if arr.size == 0:
        return np.zeros((0, len(keys)), dtype=np.int64), np.zeros(0, dtype=np.int64)
    if arr.min() < 0:
        raise ValueError("table: keys must be non-negative")
    radix = arr.max(axis=0) + 1
    if float(np.prod(radix.astype(float))) < 2.0**62:
        place = np.ones(len(radix), dtype=np.int64)
        for j in range(len(radix) - 2, -1, -1):
            place[j] = place[j + 1] * radix[j + 1]
        uniq, counts = np.unique(arr @ place, return_counts=True)
        rows = np.stack(np.unravel_index(uniq, tuple(radix)), axis=1).astype(np.int64)
        return rows, counts
    uniq, counts = np.unique(arr, axis=0, return_counts=True)
    return uniq, counts


def same(a: Table, b: Table) -> bool:
    """Whether two tables (from `table`) are the same multiset."""
    return (
        a[0].shape == b[0].shape
        and bool(np.array_equal(a[0], b[0]))
        and bool(np.array_equal(a[1], b[1]))
    )


def same_factors(a: Sequence[Table], b: Sequence[Table]) -> bool:
    """Whether two products of tables are equal: both empty (some factor empty on each side),
    or their factors equal one by one (sufficient; all that a check needs)."""
    a_empty, b_empty = any(len(x[1]) == 0 for x in a), any(len(x[1]) == 0 for x in b)
    if a_empty or b_empty:
        return a_empty and b_empty
    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
