r"""The index maps of the index form as pure integer functions (NumPy only, no SymPy).

`symconv.indexform` builds its tables from these, and `numeric` (which must not import SymPy)
reads the same maps, so there is one implementation of every input position:

- `phi(mode, i, n)`: the padding mode's map $\varphi$ on unpadded coordinates $i$;
- `window_table(out, kernel, stride, dilation)`: the padded coordinate $S o + D a$ of every
  output $o$ and tap $a$;
- `adaptive_table(size, out)`: adaptive pooling's windows $[\lfloor oI/O \rfloor,
  \lceil (o+1)I/O \rceil)$ as an `(out, longest window)` table, -1 past a window's end.

```python
>>> from symconv._indexmap import phi
>>> phi("reflect", [-2, -1, 0, 4, 5], 5).tolist()   # mirror without repeating the edge
[2, 1, 0, 4, 3]

```
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _sizes

__all__ = ["PAD_MODES", "adaptive_table", "phi", "window_coord", "window_table"]

PAD_MODES = ("zeros", "reflect", "replicate", "circular")


def phi(mode: str, i: Any, n: int) -> Any:
    """The padding mode's index map on unpadded coordinates `i` (int, list or array); -1 = a
    zero: `symconv._sizes.pad_index`, the one definition (zeros: $i$ inside $[0, n)$, else -1;
    circular: $i \\bmod n$; replicate: clamp; reflect: mirror without repeating the edge)."""
    return _sizes.pad_index(mode, np.asarray(i), n)


def window_coord(
    o: Any, a: Any, kernel: int, stride: int, dilation: int, flip: bool = False
) -> Any:
    """Padded coordinate $S o + D a'$ read by output `o` at tap `a` ($a' = K - 1 - a$ under
    `flip`): `symconv._sizes.tap_coordinate`; `o` and `a` broadcast
    (`window_coord(o[:, None], a[None, :], ...)` is the table)."""
    return _sizes.tap_coordinate(np.asarray(o), np.asarray(a), kernel, stride, dilation, flip)


def window_table(out: int, kernel: int, stride: int, dilation: int, flip: bool = False) -> Any:
    """`window_coord` for every output `o` (rows) and tap `a` (columns): `(out, kernel)` ints."""
    return window_coord(
        np.arange(out)[:, None], np.arange(kernel)[None, :], kernel, stride, dilation, flip
    )


def adaptive_table(size: int, out: int) -> Any:
    r"""Adaptive pooling's windows on an axis of length `size` pooled to `out`: an
    `(out, longest window)` array of input positions, -1 past a window's end.

    Window $o$ is $[\lfloor o I / O \rfloor, \lceil (o + 1) I / O \rceil)$
    (`symconv._sizes.adaptive_start`, `adaptive_end`).
    """
    o = np.arange(out)
    start = np.asarray(_sizes.adaptive_start(o, size, out), dtype=np.int64)
    end = np.asarray(_sizes.adaptive_end(o, size, out), dtype=np.int64)
    longest = int((end - start).max(initial=0))
    pos = start[:, None] + np.arange(longest)[None, :]
    return np.where(pos < end[:, None], pos, -1)
