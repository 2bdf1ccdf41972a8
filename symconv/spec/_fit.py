"""How a layer fits an input: Fit, the windows, the unread positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _sizes


@dataclass(frozen=True)
class Fit:
    """Whether the windows tile the padded input exactly, and which input positions they read.

    `unused[a]` is the number of trailing padded positions along axis `a` that no window
    covers: $(i + p_\\mathrm{lo} + p_\\mathrm{hi} - d(k-1) - 1) \\bmod s$ in floor mode,
    $\\max(0, i + p_\\mathrm{lo} + p_\\mathrm{hi} - ((o - 1)s + d(k-1) + 1))$ for ceil-mode
    pooling (its last window may run past the padded input). The lecture's "7x7 input, 3x3
    filter, stride 3 doesn't fit" is `unused == (1, 1)`; `bool(fit)` is `fit.exact`.

    `unread[a]` lists the input positions along axis `a` that no window reads, through the
    padding map (a reflect, replicate or circular pad reads the pixel it copies): the
    positions whose gradient is zero whatever the weights and inputs. A dilation larger than
    the stride, or a stride larger than the kernel's span, leaves gaps inside the input, not
    only a tail. Computed on first access, in $O(o k + i)$ per axis.

    ```python
    >>> import symconv as sc
    >>> fit = sc.Conv(dims=1, kernel_size=3, stride=3).fits(7)
    >>> fit.unused, fit.unread, fit.exact
    ((1,), ((6,),), False)
    >>> sc.Conv(dims=1, kernel_size=1, stride=2).fits(5).unread
    ((1, 3),)
    >>> sc.Pool(dims=1, kind="max", kernel_size=2, ceil_mode=True).fits(5)
    Fit(unused=(0,))

    ```
    """

    unused: tuple[int, ...]
    # per axis (i, k, s, d, lo, hi, o, mode): what `unread` is computed from
    axes: tuple[tuple[Any, ...], ...] = field(default=(), repr=False, compare=False)

    @property
    def exact(self) -> bool:
        """No trailing padded position is left out (the lectures' "the filter fits")."""
        return not any(self.unused)

    @property
    def unread(self) -> tuple[tuple[int, ...], ...]:
        """Per axis, the input positions no window reads (see the class docstring)."""
        return tuple(
            tuple(int(j) for j in np.flatnonzero(~_sizes.read_mask(*axis))) for axis in self.axes
        )

    @property
    def reads_all(self) -> bool:
        """Every input position is read by some window (every gradient entry can be nonzero)."""
        return all(_sizes.read_mask(*axis).all() for axis in self.axes)

    def __bool__(self) -> bool:
        return self.exact
