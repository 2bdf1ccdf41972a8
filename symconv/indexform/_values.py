"""The values an index form is made of and hands out: `Axis` (one spatial axis of the index
map), `Gather` (every tap, flattened) and `Factors` (the taps as channel pairs times per-axis
tap tables)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .. import _sizes

Kind = Literal["conv", "local", "tiled", "pool", "transpose"]


@dataclass(frozen=True)
class Axis:
    """One spatial axis of an index form: the numbers the index map needs.

    `size` and `out` are the input and output lengths (`None` when the form is symbolic);
    `lo`, `hi` the padding (for a transposed convolution: the cropping $p$ and $p$ minus the
    output padding's extension); `mode` the padding mode; `flip` whether the tap is reversed.
    """

    kernel: int
    stride: int
    dilation: int
    lo: int
    hi: int
    size: int | None
    out: int | None
    mode: str = "zeros"
    flip: bool = False

    @property
    def padded(self) -> int | None:
        """Length of the padded input $\\tilde x$."""
        return None if self.size is None else _sizes.padded_length(self.size, self.lo, self.hi)


@dataclass(frozen=True)
class Gather:
    """Every tap of an operator, flattened (C order), as parallel integer arrays.

    Tap `t` says: output `rows[t]` reads input `cols[t]` times weight `weights[t]` (a flat index
    into `weight_shape`; for pooling, the flat window offset). Rows index `(C_out, *out_shape)`,
    columns `(C_in, *in_shape)`. A pair `(row, col)` can repeat (reflect, replicate and circular
    padding fold two taps onto one input): the matrix entry is then the sum.
    """

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    out_shape: tuple[int, ...]  # (C_out, *spatial)
    in_shape: tuple[int, ...]  # (C_in, *spatial)
    weight_shape: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, int]:
        return math.prod(self.out_shape), math.prod(self.in_shape)

    def __len__(self) -> int:
        return int(self.rows.size)


@dataclass(frozen=True)
class Factors:
    r"""An operator's taps as a product: channel pairs times one tap table per axis.

    `channels` has one row `(k, c_in, lead)` per channel pair (output channel, input channel,
    flat index of the weight's leading, non-spatial part); `axes[d]` one row `(o, a, i)` per tap
    of axis `d` that reads the input (output position, kernel tap, input position). Every tap
    of the operator is one row of each, so two operators with equal factor tables have equal
    coefficient tables (the converse needs no more than nonempty factors).
    """

    channels: np.ndarray
    axes: tuple[np.ndarray, ...]
    out_shape: tuple[int, ...]
    in_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.channels) * math.prod(len(a) for a in self.axes)

    def gather(self) -> Gather:
        """The product, flattened as `IndexForm.gather()` flattens it (for tests and display)."""
        dims = len(self.axes)
        grid = np.indices([len(a) for a in self.axes]).reshape(dims, -1)
        o = [a[g, 0] for a, g in zip(self.axes, grid, strict=True)]
        tap = [a[g, 1] for a, g in zip(self.axes, grid, strict=True)]
        src = [a[g, 2] for a, g in zip(self.axes, grid, strict=True)]
        out_sp = np.ravel_multi_index(o, self.out_shape[1:])
        in_sp = np.ravel_multi_index(src, self.in_shape[1:])
        a_sp = np.ravel_multi_index(tap, self.weight_shape[len(self.weight_shape) - dims :])
        k, cin, lead = self.channels.T
        n_out, n_in, n_a = (
            math.prod(self.out_shape[1:]),
            math.prod(self.in_shape[1:]),
            math.prod(self.weight_shape[len(self.weight_shape) - dims :]),
        )
        rows = (k[:, None] * n_out + out_sp[None, :]).ravel()
        cols = (cin[:, None] * n_in + in_sp[None, :]).ravel()
        weights = (lead[:, None] * n_a + a_sp[None, :]).ravel()
        return Gather(rows, cols, weights, self.out_shape, self.in_shape, self.weight_shape)
