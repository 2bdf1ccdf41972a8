r"""Transposed convolution: the adjoint of a convolution, and its direct-convolution equivalent.

A convolution with input length $o$ and output length $i$ is a matrix $T$ ($i \times o$ per
channel pair); the transposed convolution is $T^\top$: it maps $i$ values back to $o$ by the
scatter $y[S i' + D a - P] \mathrel{+}= x[i']\, w[a]$. `ConvTranspose` follows torch's
`nn.ConvTranspose{1,2,3}d`: weight shape $(C_\mathrm{in}, C_\mathrm{out}/G, k_1, \dots)$ and

$$o = (i - 1)s - 2p + d(k - 1) + \mathrm{output\_padding} + 1.$$

**What `output_padding` disambiguates.** The forward convolution rounds down: all lengths
$o, o + 1, \dots, o + s - 1$ give the same $i = \lfloor (o + 2p - d(k-1) - 1)/s \rfloor + 1$
when the stride does not fit ($a = (o + 2p - d(k - 1) - 1) \bmod s$ positions are left over).
The transpose cannot tell which $o$ was meant, so `output_padding` $= a$ says it: it adds $a$
positions on the high side, where no input contributes except through the kernel's tail.

**As a direct convolution** (Dumoulin & Visin, *A guide to convolution arithmetic*,
relationships 8-14): insert $s - 1$ zeros between input values, pad $p' = d(k-1) - p$ on each
side (plus `output_padding` on the high side; a negative $p'$ crops), and convolve (valid,
stride 1) with the flipped kernel (`conv_transpose_equivalent`).

```python
>>> from symconv.transpose import ConvTranspose, conv_transpose_equivalent
>>> spec = ConvTranspose(dims=2, in_channels=4, out_channels=2, kernel_size=3, stride=2,
...                      padding=1, output_padding=1)
>>> spec.output_size((4, 4))
(8, 8)
>>> conv_transpose_equivalent(spec).padding
((1, 2), (1, 2))

```
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _sizes
from ._cache import pure
from ._errors import SpecError
from ._tables import same_factors, table
from ._validate import as_bool, as_dims, as_groups, as_int, as_per_axis, as_size
from .spec import Conv

__all__ = ["ConvTranspose", "TransposeEquivalent", "conv_transpose_equivalent", "verify_adjoint"]


@dataclass(frozen=True, kw_only=True)
class ConvTranspose:
    r"""A transposed convolution layer (torch's `nn.ConvTranspose{1,2,3}d`, zero padding only).

    Args:
        dims: 1, 2 or 3 spatial axes.
        in_channels, out_channels: channel counts, both divisible by `groups`.
        kernel_size, stride, dilation: an int or one per axis, >= 1.
        padding: an int or one per axis, >= 0: cropped from both ends of the output.
        output_padding: an int or one per axis, added on the high side; each must be smaller
            than the stride or the dilation of its axis (torch's rule).
        groups, bias: as `Conv`.

    ```python
    >>> ConvTranspose(dims=1, kernel_size=3, stride=2).output_size(4)
    (9,)

    ```
    """

    # The fields hold the validated values (`__post_init__` makes every per-axis value a
    # tuple); the `__init__` below, seen by type checkers only, takes what a user may give.
    dims: int = 2
    in_channels: int = 1
    out_channels: int = 1
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] = 1  # type: ignore[assignment]  # a tuple after __post_init__
    padding: tuple[int, ...] = 0  # type: ignore[assignment]  # a tuple after __post_init__
    output_padding: tuple[int, ...] = 0  # type: ignore[assignment]  # a tuple after __post_init__
    dilation: tuple[int, ...] = 1  # type: ignore[assignment]  # a tuple after __post_init__
    groups: int = 1
    bias: bool = True

    _op = "ConvTranspose"

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            dims: int = 2,
            in_channels: int = 1,
            out_channels: int = 1,
            kernel_size: int | Sequence[int],
            stride: int | Sequence[int] = 1,
            padding: int | Sequence[int] = 0,
            output_padding: int | Sequence[int] = 0,
            dilation: int | Sequence[int] = 1,
            groups: int = 1,
            bias: bool = True,
        ) -> None: ...

    def __post_init__(self) -> None:
        op, dims = self._op, as_dims(self._op, self.dims)
        set_ = object.__setattr__
        set_(self, "dims", dims)
        set_(self, "in_channels", as_int(op, "in_channels", self.in_channels, 1))
        set_(self, "out_channels", as_int(op, "out_channels", self.out_channels, 1))
        for name, minimum in (
            ("kernel_size", 1),
            ("stride", 1),
            ("dilation", 1),
            ("padding", 0),
            ("output_padding", 0),
        ):
            set_(self, name, as_per_axis(op, name, getattr(self, name), dims, minimum))
        set_(self, "groups", as_groups(op, self.groups, self.in_channels, self.out_channels))
        set_(self, "bias", as_bool(op, "bias", self.bias))
        for a in range(dims):
            op_, s, d = self.output_padding[a], self.stride[a], self.dilation[a]
            if op_ >= s and op_ >= d:
                raise SpecError(
                    f"{op}: output_padding {op_} must be smaller than the stride {s} or the "
                    f"dilation {d} along axis {a}"
                )

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """`(in_channels, out_channels // groups, *kernel_size)`, torch's layout."""
        return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)

    def num_parameters(self) -> int:
        return math.prod(self.weight_shape) + (self.out_channels if self.bias else 0)

    def output_size(self, input_size: int | Sequence[int]) -> tuple[int, ...]:
        r"""$o = (i - 1)s - 2p + d(k - 1) + \mathrm{output\_padding} + 1$ per axis (>= 1)."""
        sizes = as_size(self._op, input_size, self.dims)
        out = []
        for a, i in enumerate(sizes):
            o = _sizes.transpose_out(
                i,
                self.kernel_size[a],
                self.stride[a],
                self.dilation[a],
                self.padding[a],
                self.output_padding[a],
            )
            if o < 1:
                raise SpecError(
                    f"{self._op}: output size {o} < 1 along axis {a} (input {i}, "
                    f"padding {self.padding[a]} crops too much)"
                )
            out.append(o)
        return tuple(out)

    def adjoint(self) -> Conv:
        """The convolution this layer transposes: channels swapped, same kernel, stride, padding,
        dilation and groups, and the same weight tensor (torch's layouts agree)."""
        return Conv(
            dims=self.dims,
            in_channels=self.out_channels,
            out_channels=self.in_channels,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            groups=self.groups,
            bias=False,
        )

    def __str__(self) -> str:
        return (
            f"ConvTranspose{self.dims}d({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"output_padding={self.output_padding})"
        )


@dataclass(frozen=True)
class TransposeEquivalent:
    r"""A transposed convolution as a direct one (Dumoulin & Visin, relationships 8-14).

    1. `stretch(x)`: insert `zeros_inserted` $= s - 1$ zeros between neighbouring inputs
       (length $(i - 1)s + 1$), then pad `padding` $= (p', p' + \mathrm{output\_padding})$ with
       $p' = d(k-1) - p$ zeros per axis (a negative entry crops that many from that side);
    2. `conv`: a valid convolution (no padding), stride 1, the same dilation and groups, the
       flipped kernel (`flip=True`), weight rearranged by `weight(w)` (in/out channels swapped
       within each group).
    """

    spec: ConvTranspose
    zeros_inserted: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    conv: Conv

    def stretched_size(self, input_size: int | Sequence[int]) -> tuple[int, ...]:
        r"""Spatial length after zero insertion and padding: $(i - 1)s + 1 + p'_\mathrm{lo}
        + p'_\mathrm{hi}$."""
        sizes = as_size(self.spec._op, input_size, self.spec.dims)
        return tuple(
            _sizes.padded_length((i - 1) * (z + 1) + 1, lo, hi)
            for i, z, (lo, hi) in zip(sizes, self.zeros_inserted, self.padding, strict=True)
        )

    def stretch(self, x: np.ndarray) -> np.ndarray:
        """`x` of shape `(N, C_in, *spatial)`, $s - 1$ zeros between values, padded (or
        cropped); a `SpecError` names a shape that does not fit the layer."""
        x = np.asarray(x)
        s = self.spec
        if x.ndim != s.dims + 2 or x.shape[1] != s.in_channels:
            raise SpecError(
                f"{s._op}: x of shape {x.shape} must be (N, {s.in_channels}, *spatial) with "
                f"{s.dims} spatial axes"
            )
        s.output_size(x.shape[2:])  # each spatial length >= 1, and an output of at least 1
        full = tuple(
            (i - 1) * (z + 1) + 1 for i, z in zip(x.shape[2:], self.zeros_inserted, strict=True)
        )
        out = np.zeros(x.shape[:2] + full, dtype=x.dtype)
        every = tuple(slice(None, None, z + 1) for z in self.zeros_inserted)
        out[(slice(None), slice(None), *every)] = x
        grow = [(0, 0), (0, 0), *((max(lo, 0), max(hi, 0)) for lo, hi in self.padding)]
        out = np.pad(out, grow)
        return out[
            (
                slice(None),
                slice(None),
                *(
                    slice(max(-lo, 0), n - max(-hi, 0))
                    for n, (lo, hi) in zip(out.shape[2:], self.padding, strict=True)
                ),
            )
        ]

    def weight(self, w: Any) -> Any:
        """The direct convolution's weight `(C_out, C_in/G, *k)` from the transposed layer's
        `(C_in, C_out/G, *k)` (NumPy array or torch tensor; the flip is `conv.flip`)."""
        s = self.spec
        g, cin_g, cout_g = s.groups, s.in_channels // s.groups, s.out_channels // s.groups
        k = tuple(w.shape[2:])
        return w.reshape(g, cin_g, cout_g, *k).swapaxes(1, 2).reshape(s.out_channels, cin_g, *k)


def conv_transpose_equivalent(spec: ConvTranspose) -> TransposeEquivalent:
    r"""The direct convolution computing `spec` (see `TransposeEquivalent`).

    Per axis $p' = d(k-1) - p$: pad $(p', p' + \mathrm{output\_padding})$ (negative: crop).

    ```python
    >>> eq = conv_transpose_equivalent(ConvTranspose(dims=1, kernel_size=3, stride=2, padding=1))
    >>> eq.zeros_inserted, eq.padding, eq.conv.flip
    ((1,), ((1, 1),), True)

    ```
    """
    _check_transpose("conv_transpose_equivalent", spec)
    pads = []
    for a in range(spec.dims):
        k, d = spec.kernel_size[a], spec.dilation[a]
        pads.append(
            _sizes.transpose_equivalent_padding(k, d, spec.padding[a], spec.output_padding[a])
        )
    conv = Conv(
        dims=spec.dims,
        in_channels=spec.in_channels,
        out_channels=spec.out_channels,
        kernel_size=spec.kernel_size,
        stride=1,
        padding=0,
        dilation=spec.dilation,
        groups=spec.groups,
        bias=spec.bias,
        flip=True,
    )
    return TransposeEquivalent(
        spec,
        tuple(s - 1 for s in spec.stride),
        tuple(pads),
        conv,
    )


def verify_adjoint(spec: ConvTranspose, input_size: int | Sequence[int]) -> bool:
    r"""Whether `toeplitz(spec)` is exactly $T^\top$ of `spec.adjoint()` (same weight symbols).

    Compared on integer coefficient tables, one factor at a time (`IndexForm.factors`): no
    symbolic matrix is built, so a 64x64 layer with 16 -> 16 channels takes milliseconds.

    The adjoint convolution runs on the transposed layer's output size. When `output_padding`
    reaches the stride (allowed if it is below the dilation) that convolution has more outputs
    than the transposed layer has inputs; only the rows that exist are compared.
    """
    _check_transpose("verify_adjoint", spec)
    return _verify_adjoint(spec, as_size(spec._op, input_size, spec.dims))


@pure(maxsize=4096)
def _verify_adjoint(spec: ConvTranspose, sizes: tuple[int, ...]) -> bool:
    from .indexform import index_form  # a layer up (SymPy): see verify_adjoint

    conv = spec.adjoint()
    out = spec.output_size(sizes)
    # both matrices as products (channel pairs times one tap table per axis); T^T swaps rows
    # and columns, keeping only the convolution's outputs the transposed layer has as inputs
    ft, fc = index_form(spec, sizes).factors(), index_form(conv, out).factors()
    k_t, cin_t, lead_t = ft.channels.T
    k_c, cin_c, lead_c = fc.channels.T
    mine, theirs = [table(k_t, cin_t, lead_t)], [table(cin_c, k_c, lead_c)]
    for d, n in enumerate(sizes):
        q, a, i = ft.axes[d].T
        mine.append(table(q, a, i))
        o, a, q = fc.axes[d].T
        keep = o < n
        theirs.append(table(q[keep], a[keep], o[keep]))
    return ft.out_shape == (spec.out_channels, *out) and same_factors(mine, theirs)


def _check_transpose(op: str, spec: Any) -> None:
    if not isinstance(spec, ConvTranspose):
        raise SpecError(
            f"{op}: spec must be a symconv.ConvTranspose (a transposed convolution), got {spec!r}"
        )
