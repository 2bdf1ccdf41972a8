r"""Layer specifications: `Conv` and `Pool`, frozen and validated at construction.

Conventions follow torch (`nn.ConvNd`, `MaxPoolNd`, `AvgPoolNd`, `LPPoolNd`) so every numeric
result can be compared with torch one to one. The lectures' other conventions are options:
`flip=True` is the true convolution $y_o = \sum_a x_{o - a} w_a$ (torch computes the
cross-correlation $y_o = \sum_a x_{o + a} w_a$), and `padding="full"` pads $d(k-1)$ on each side.

Sizes given as one integer apply to every spatial axis; tuples give one value per axis.

```python
>>> import symconv as sc
>>> spec = sc.Conv(dims=2, in_channels=3, out_channels=10, kernel_size=5, padding=2)
>>> spec.output_size((32, 32)), spec.num_parameters()
((32, 32), 760)

```
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import _sizes
from ._errors import SpecError
from ._validate import as_bool, as_choice, as_dims, as_groups, as_int, as_per_axis, as_size

__all__ = ["PADDING_MODES", "POOL_KINDS", "Conv", "Fit", "Pool"]

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
PoolKind = Literal["max", "avg", "lp"]
PADDING_MODES: tuple[PaddingMode, ...] = ("zeros", "reflect", "replicate", "circular")
# each mode as numpy.pad's (torch's reflect does not repeat the edge: numpy's "reflect")
NUMPY_PAD_MODES: dict[str, Literal["constant", "reflect", "edge", "wrap"]] = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}
PADDING_STRINGS = ("valid", "same", "full")
POOL_KINDS: tuple[PoolKind, ...] = ("max", "avg", "lp")

PaddingLike = int | str | Sequence[int] | Sequence[tuple[int, int]]
Pads = tuple[tuple[int, int], ...]
# `Conv.padding` once validated: a padding string, one int per axis, or one (lo, hi) per axis
Padding = str | tuple[int, ...] | Pads


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


class _Windowed:
    """Arithmetic shared by every sliding-window layer."""

    dims: int
    _op: str

    def _axis(self, axis: int) -> tuple[int, int, int, int, int]:  # k, s, d, lo, hi
        raise NotImplementedError

    def _check_input(self, input_size: Any) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def _op_name(self) -> str:
        return self._op

    def fits(self, input_size: int | Sequence[int]) -> Fit:
        """Whether the stride tiles the padded input exactly, and which positions are read.

        See `Fit`: `unused` counts the trailing padded positions no window reaches, `unread`
        lists the input positions no window reads (torch's gradient is zero exactly there).
        """
        outs = self.output_size(input_size)
        sizes = self._check_input(input_size)
        mode = getattr(self, "padding_mode", "zeros")
        axes = tuple((i, *self._axis(a), outs[a], mode) for a, i in enumerate(sizes))
        return Fit(tuple(_sizes.unused(*axis[:7]) for axis in axes), axes)

    def receptive_field(self) -> tuple[int, ...]:
        """Span of one window on the input, per axis: $d(k - 1) + 1$."""
        return tuple(
            _sizes.dilated_extent(self._axis(a)[0], self._axis(a)[2]) for a in range(self.dims)
        )

    def _channels_out(self) -> int:
        raise NotImplementedError

    def output_size(self, input_size: int | Sequence[int]) -> tuple[int, ...]:
        raise NotImplementedError

    def activations(self, input_size: int | Sequence[int]) -> int:
        """Number of output values per sample: channels times the output's spatial size."""
        return self._channels_out() * math.prod(self.output_size(input_size))

    def activation_memory(self, input_size: int | Sequence[int], bytes_per_element: int = 4) -> int:
        """Bytes of the output per sample (float32 by default)."""
        nbytes = as_int(self._op_name, "bytes_per_element", bytes_per_element, 1)
        return self.activations(input_size) * nbytes

    def _check_window(self, sizes: tuple[int, ...], pads: Pads) -> None:
        for a, i in enumerate(sizes):
            k, _, d, lo, hi = self._axis(a)
            span, padded = _sizes.dilated_extent(k, d), _sizes.padded_length(i, lo, hi)
            if span > padded:
                what = f"kernel_size {k}" + (f" with dilation {d} spans {span}" if d > 1 else "")
                raise SpecError(
                    f"{self._op}: {what} > padded input {padded} along axis {a} "
                    f"(input {i}, padding {(lo, hi)})"
                )


@dataclass(frozen=True, kw_only=True)
class Conv(_Windowed):
    r"""A convolution layer (torch's `nn.Conv{1,2,3}d`, plus `flip` and `"full"` padding).

    Args:
        dims: number of spatial axes, 1, 2 or 3.
        in_channels, out_channels: channel counts, both divisible by `groups`.
        kernel_size, stride, dilation: an int or one int per axis, all >= 1.
        padding: an int (both sides), one int per axis, one `(lo, hi)` pair per axis, or
            `"valid"` (none), `"same"` (torch's: total $d(k-1)$, the odd one on the high side;
            stride 1 only) or `"full"` ($d(k-1)$ each side, the lectures' full convolution).
            With an even kernel NumPy's and SciPy's `mode="same"` centre the other way, the
            odd pixel on the low side: `numpy.correlate(x, w, "same")` is padding
            `((2, 1),)` for a 4-tap kernel where torch's `"same"` is `((1, 2),)` (its output
            one position earlier), and `numpy.convolve` / `scipy.signal.convolve` `"same"` is
            `flip=True` with `((2, 1),)`, not `flip=True, padding="same"`.
        groups: channel groups; `groups == in_channels` is depthwise.
        bias: whether the layer adds a per-channel bias.
        padding_mode: `"zeros"`, `"reflect"` (mirror without repeating the edge), `"replicate"`
            (clamp) or `"circular"` (wrap around).
        flip: `False` (default, torch and every DL library) computes cross-correlation;
            `True` the true convolution with the kernel reversed along every spatial axis.

    Raises:
        SpecError: on any invalid value or combination, naming the parameter and the rule.

    ```python
    >>> Conv(dims=1, kernel_size=3, padding="full").pads
    ((2, 2),)
    >>> Conv(dims=2, kernel_size=4, padding="same").pads   # odd pixel on the high side
    ((1, 2), (1, 2))
    >>> import numpy as np
    >>> from symconv import toeplitz_numeric
    >>> x, w = np.arange(6.0), np.array([1.0, 10.0, 100.0, 1000.0])
    >>> def run(**kw):  # the layer's matrix applied to x
    ...     spec = Conv(dims=1, kernel_size=4, bias=False, **kw)
    ...     return toeplitz_numeric(spec, 6, w.reshape(1, 1, 4)) @ x
    >>> run(padding="same")                                 # torch: (1, 2)
    array([2100., 3210., 4321., 5432.,  543.,   54.])
    >>> np.correlate(x, w, "same")                          # numpy, scipy: (2, 1)
    array([1000., 2100., 3210., 4321., 5432.,  543.])
    >>> bool((run(padding=((2, 1),)) == np.correlate(x, w, "same")).all())
    True
    >>> bool((run(padding=((2, 1),), flip=True) == np.convolve(x, w, "same")).all())
    True

    ```
    """

    # The fields hold the validated values (`__post_init__` makes every per-axis value a
    # tuple); the `__init__` below, seen by type checkers only, takes what a user may give.
    dims: int = 2
    in_channels: int = 1
    out_channels: int = 1
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] = 1  # type: ignore[assignment]  # a tuple after __post_init__
    padding: Padding = 0  # type: ignore[assignment]  # canonical after __post_init__
    dilation: tuple[int, ...] = 1  # type: ignore[assignment]  # a tuple after __post_init__
    groups: int = 1
    bias: bool = True
    padding_mode: PaddingMode = "zeros"
    flip: bool = False
    pads: Pads = field(init=False, repr=False, compare=False)

    _op = "Conv"

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            dims: int = 2,
            in_channels: int = 1,
            out_channels: int = 1,
            kernel_size: int | Sequence[int],
            stride: int | Sequence[int] = 1,
            padding: PaddingLike = 0,
            dilation: int | Sequence[int] = 1,
            groups: int = 1,
            bias: bool = True,
            padding_mode: PaddingMode = "zeros",
            flip: bool = False,
        ) -> None: ...

    def __post_init__(self) -> None:
        op = self._op
        dims = as_dims(op, self.dims)
        set_ = object.__setattr__
        set_(self, "dims", dims)
        set_(self, "in_channels", as_int(op, "in_channels", self.in_channels, 1))
        set_(self, "out_channels", as_int(op, "out_channels", self.out_channels, 1))
        set_(self, "kernel_size", as_per_axis(op, "kernel_size", self.kernel_size, dims, 1))
        set_(self, "stride", as_per_axis(op, "stride", self.stride, dims, 1))
        set_(self, "dilation", as_per_axis(op, "dilation", self.dilation, dims, 1))
        set_(self, "groups", as_groups(op, self.groups, self.in_channels, self.out_channels))
        set_(self, "bias", as_bool(op, "bias", self.bias))
        set_(self, "flip", as_bool(op, "flip", self.flip))
        set_(self, "padding_mode", as_choice(op, "padding_mode", self.padding_mode, PADDING_MODES))
        padding, pads = _normalise_padding(op, self.padding, dims, self.kernel_size, self.dilation)
        if padding == "same" and any(s > 1 for s in self.stride):
            raise SpecError(
                f"{op}: padding 'same' needs stride 1, got stride {self.stride} "
                f"(torch rejects it too; for strided layers give the padding explicitly)"
            )
        set_(self, "padding", padding)
        set_(self, "pads", pads)

    # -- arithmetic -------------------------------------------------------------------------
    def _axis(self, axis: int) -> tuple[int, int, int, int, int]:
        lo, hi = self.pads[axis]
        return self.kernel_size[axis], self.stride[axis], self.dilation[axis], lo, hi

    def _channels_out(self) -> int:
        return self.out_channels

    def _check_input(self, input_size: Any) -> tuple[int, ...]:
        sizes = as_size(self._op, input_size, self.dims)
        for a, i in enumerate(sizes):
            lo, hi = self.pads[a]
            if self.padding_mode == "reflect" and max(lo, hi) >= i:
                raise SpecError(
                    f"{self._op}: padding {(lo, hi)} with padding_mode 'reflect' must be smaller "
                    f"than the input size {i} along axis {a}"
                )
            if self.padding_mode == "circular" and max(lo, hi) > i:
                raise SpecError(
                    f"{self._op}: padding {(lo, hi)} with padding_mode 'circular' must be at most "
                    f"the input size {i} along axis {a} (it would wrap around more than once)"
                )
        self._check_window(sizes, self.pads)
        return sizes

    def output_size(self, input_size: int | Sequence[int]) -> tuple[int, ...]:
        r"""Spatial output size for a spatial `input_size`.

        $o = \lfloor (i + p_\mathrm{lo} + p_\mathrm{hi} - d(k-1) - 1)/s \rfloor + 1$ per axis.

        ```python
        >>> Conv(dims=2, kernel_size=3, stride=2).output_size(7)
        (3, 3)

        ```
        """
        sizes = self._check_input(input_size)
        return tuple(_sizes.conv_out(i, *self._axis(a)) for a, i in enumerate(sizes))

    def output_size_formula(self, axis: int | None = None) -> Any:
        r"""The output size as a SymPy expression.

        With `axis=None`, the general formula in the symbols of `symconv.arith.SYMBOLS`
        ($i, k, s, d, p$ and, for asymmetric padding, $p_\mathrm{lo}, p_\mathrm{hi}$).
        With an axis, this spec's values substituted, leaving the input size $i$.
        """
        from .arith import conv_output_formula, substitute_axis

        formula = conv_output_formula(symmetric=self._symmetric())
        return formula if axis is None else substitute_axis(formula, self, axis)

    def _symmetric(self) -> bool:
        return all(lo == hi for lo, hi in self.pads)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """`(out_channels, in_channels // groups, *kernel_size)`, torch's layout."""
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def num_parameters(self) -> int:
        """Weights plus biases: $C_\\mathrm{out} (C_\\mathrm{in}/G) \\prod k + C_\\mathrm{out}$."""
        return math.prod(self.weight_shape) + (self.out_channels if self.bias else 0)

    def macs(self, input_size: int | Sequence[int]) -> int:
        """Multiply-accumulates per sample: outputs times $(C_\\mathrm{in}/G) \\prod k$."""
        return self.activations(input_size) * math.prod(self.weight_shape[1:])

    def flops(self, input_size: int | Sequence[int], exact: bool = False) -> int:
        """Floating-point operations per sample.

        By default `2 * macs` (a multiply-add counts two: the convention of papers and of
        torch's `flop_counter`). With `exact=True`, the exact count: per output $n$
        multiplications and $n - 1$ additions for $n = (C_\\mathrm{in}/G)\\prod k$ terms, plus
        one addition for the bias (the lectures' count; `symconv params --exact` prints both).

        ```python
        >>> spec = Conv(kernel_size=3, bias=False)
        >>> spec.flops(5), spec.flops(5, exact=True)   # 9 outputs of 9 terms: 18 vs 17 each
        (162, 153)

        ```
        """
        if not as_bool(self._op, "exact", exact):
            return 2 * self.macs(input_size)
        terms = math.prod(self.weight_shape[1:])
        return self.activations(input_size) * (2 * terms - 1 + (1 if self.bias else 0))

    def replace(self, **changes: Any) -> Conv:
        """A copy with some fields changed (validated again)."""
        if "padding" not in changes and isinstance(self.padding, str):
            changes["padding"] = self.padding
        return replace(self, **changes)

    def __str__(self) -> str:
        extra = "" if self.padding_mode == "zeros" else f", padding_mode={self.padding_mode!r}"
        extra += ", flip=True" if self.flip else ""
        extra += f", groups={self.groups}" if self.groups > 1 else ""
        extra += f", dilation={self.dilation}" if any(d > 1 for d in self.dilation) else ""
        extra += "" if self.bias else ", bias=False"
        return (
            f"Conv{self.dims}d({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding!r}{extra})"
        )


@dataclass(frozen=True, kw_only=True)
class Pool(_Windowed):
    r"""A pooling layer (torch's `MaxPoolNd`, `AvgPoolNd`, `LPPoolNd`).

    Args:
        dims: 1, 2 or 3 spatial axes.
        kind: `"max"`, `"avg"` or `"lp"` (power-average, $(\sum x^p)^{1/p}$).
        kernel_size: window size per axis.
        stride: defaults to `kernel_size` (non-overlapping windows).
        padding: symmetric, at most half the kernel size (torch's rule, dilation not counted);
            zero for `lp` (as torch).
        dilation: max pooling only.
        ceil_mode: round the output size up; a last window may start in the left padding or
            the input, never in the right padding.
        count_include_pad: avg only (default True): divide by the full window, pads included.
        divisor_override: avg only: divide by this instead.
        norm_type: lp only: the power $p > 0$. Where `ceil_mode` clips the last window at
            the input's end, torch (and symconv) scale its sum to the full window: the output
            is $(\frac{K}{n} \sum x^p)^{1/p}$ with $K$ the window's size and $n$ the inputs
            it covers (torch's `lp_pool` is `avg_pool` of $x^p$ times $K$, and the average
            divides by $n$), not the $p$-norm $(\sum x^p)^{1/p}$ of what the window reads.

    ```python
    >>> Pool(kind="max", kernel_size=3, stride=2).output_size(55)
    (27, 27)
    >>> Pool(dims=1, kind="lp", kernel_size=2, norm_type=2, ceil_mode=True).output_size(5)
    (3,)

    ```
    """

    # The fields hold the validated values (see `Conv`); the `__init__` below, seen by type
    # checkers only, takes what a user may give.
    dims: int = 2
    kind: PoolKind = "max"
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...] = None  # type: ignore[assignment]  # None: kernel_size (__post_init__)
    padding: tuple[int, ...] = 0  # type: ignore[assignment]  # a tuple after __post_init__
    dilation: tuple[int, ...] = 1  # type: ignore[assignment]  # a tuple after __post_init__
    ceil_mode: bool = False
    count_include_pad: bool | None = None
    divisor_override: int | None = None
    norm_type: float | None = None

    _op = "Pool"

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            dims: int = 2,
            kind: PoolKind = "max",
            kernel_size: int | Sequence[int],
            stride: int | Sequence[int] | None = None,
            padding: int | Sequence[int] = 0,
            dilation: int | Sequence[int] = 1,
            ceil_mode: bool = False,
            count_include_pad: bool | None = None,
            divisor_override: int | None = None,
            norm_type: float | None = None,
        ) -> None: ...

    def __post_init__(self) -> None:
        op, dims = self._op, as_dims(self._op, self.dims)
        set_ = object.__setattr__
        set_(self, "dims", dims)
        kind = as_choice(op, "kind", self.kind, POOL_KINDS)
        op = f"Pool({kind})"
        kernel = as_per_axis(op, "kernel_size", self.kernel_size, dims, 1)
        stride = kernel if self.stride is None else as_per_axis(op, "stride", self.stride, dims, 1)
        if isinstance(self.padding, str):
            raise SpecError(
                f"{op}: padding must be an integer >= 0 or a tuple of {dims} "
                f"(pooling takes no padding strings), got {self.padding!r}"
            )
        padding = as_per_axis(op, "padding", self.padding, dims, 0)
        dilation = as_per_axis(op, "dilation", self.dilation, dims, 1)
        if kind != "max" and any(d != 1 for d in dilation):
            raise SpecError(f"{op}: dilation {dilation} is only defined for max pooling")
        for a, (k, pad) in enumerate(zip(kernel, padding, strict=True)):
            # torch checks the undilated kernel, for max pooling too: pad <= kernel_size / 2
            if 2 * pad > k:
                raise SpecError(
                    f"{op}: padding {pad} must be at most half the kernel size {k} along axis {a}"
                )
        if kind == "lp" and any(padding):
            raise SpecError(
                f"{op}: padding {padding} is not supported for lp pooling (as in torch)"
            )
        set_(self, "ceil_mode", as_bool(op, "ceil_mode", self.ceil_mode))
        cip = self.count_include_pad
        if kind == "avg":
            cip = True if cip is None else as_bool(op, "count_include_pad", cip)
        elif cip is not None:
            raise SpecError(f"{op}: count_include_pad {cip!r} applies to avg pooling only")
        div = self.divisor_override
        if div is not None:
            if kind != "avg":
                raise SpecError(f"{op}: divisor_override {div!r} applies to avg pooling only")
            div = as_int(op, "divisor_override", div, 1)
            if div > 2**53:  # beyond it the float divisor is no longer this integer
                raise SpecError(f"{op}: divisor_override must be at most 2**53, got {div}")
        p = self.norm_type
        if kind == "lp":
            if (
                p is None
                or isinstance(p, bool)
                or not isinstance(p, int | float)
                or not _finite_positive(p)
            ):
                raise SpecError(f"{op}: norm_type must be a finite number > 0, got {p!r}")
        elif p is not None:
            raise SpecError(f"{op}: norm_type {p!r} applies to lp pooling only")
        for name, value in (
            ("kind", kind),
            ("kernel_size", kernel),
            ("stride", stride),
            ("padding", padding),
            ("dilation", dilation),
            ("count_include_pad", cip),
            ("divisor_override", div),
        ):
            set_(self, name, value)

    @property
    def _op_name(self) -> str:
        return f"Pool({self.kind})"

    def _axis(self, axis: int) -> tuple[int, int, int, int, int]:
        p = self.padding[axis]
        return self.kernel_size[axis], self.stride[axis], self.dilation[axis], p, p

    def _channels_out(self) -> int:
        return 1

    @property
    def pads(self) -> Pads:
        return tuple((p, p) for p in self.padding)

    def _check_input(self, input_size: Any) -> tuple[int, ...]:
        op = self._op_name
        sizes = as_size(op, input_size, self.dims)
        for a, i in enumerate(sizes):
            k, s, d, p, _ = self._axis(a)
            if self.dims == 3 and self.kind != "max" and i < k:
                raise SpecError(
                    f"{op}: kernel_size {k} > input {i} along axis {a} (3-d average and lp "
                    f"pooling need the unpadded input to hold one window, as torch's avg_pool3d)"
                )
            if _sizes.pool_out(i, k, s, d, p, self.ceil_mode) < 1:
                span = _sizes.dilated_extent(k, d)
                raise SpecError(
                    f"{op}: kernel_size {k}"
                    + (f" with dilation {d} spans {span}" if d > 1 else "")
                    + f" > padded input {i + 2 * p} along axis {a} (output size would be < 1)"
                )
        return sizes

    def output_size(self, input_size: int | Sequence[int]) -> tuple[int, ...]:
        """Spatial output size, torch's rule including `ceil_mode` (see `_sizes.pool_out`)."""
        sizes = self._check_input(input_size)
        return tuple(
            _sizes.pool_out(i, *self._axis(a)[:4], ceil_mode=self.ceil_mode)
            for a, i in enumerate(sizes)
        )

    def output_size_formula(self, axis: int | None = None) -> Any:
        """The output size as a SymPy expression (ceil mode as a `Piecewise`); see `Conv`."""
        from .arith import pool_output_formula, substitute_axis

        formula = pool_output_formula(ceil_mode=self.ceil_mode)
        return formula if axis is None else substitute_axis(formula, self, axis)

    def num_parameters(self) -> int:
        """Pooling has no parameters."""
        return 0

    def flops(self, input_size: int | Sequence[int], channels: int = 1) -> int:
        """Operations per sample: one per window element per output (comparisons or adds)."""
        return self.activations(input_size, channels) * math.prod(self.kernel_size)

    def activations(self, input_size: int | Sequence[int], channels: int = 1) -> int:
        """Output values per sample for `channels` channels (pooling keeps the depth)."""
        channels = as_int(self._op_name, "channels", channels, 1)
        return channels * math.prod(self.output_size(input_size))

    def activation_memory(
        self, input_size: int | Sequence[int], bytes_per_element: int = 4, channels: int = 1
    ) -> int:
        """Bytes of the output per sample for `channels` channels (float32 by default)."""
        nbytes = as_int(self._op_name, "bytes_per_element", bytes_per_element, 1)
        return self.activations(input_size, channels) * nbytes

    def replace(self, **changes: Any) -> Pool:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def __str__(self) -> str:
        name = {"max": "MaxPool", "avg": "AvgPool", "lp": "LPPool"}[self.kind]
        extra = f", padding={self.padding}" if any(self.padding) else ""
        extra += f", dilation={self.dilation}" if any(d > 1 for d in self.dilation) else ""
        extra += ", ceil_mode=True" if self.ceil_mode else ""
        if self.kind == "avg":  # torch's defaults: count_include_pad=True, no divisor_override
            extra += ", count_include_pad=False" if not self.count_include_pad else ""
            extra += (
                f", divisor_override={self.divisor_override}"
                if self.divisor_override is not None
                else ""
            )
        extra += f", norm_type={self.norm_type}" if self.kind == "lp" else ""
        return f"{name}{self.dims}d(kernel_size={self.kernel_size}, stride={self.stride}{extra})"


def _normalise_padding(
    op: str, padding: Any, dims: int, kernel: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[Padding, Pads]:
    """Canonical padding (what the user meant) and the resolved `(lo, hi)` pair per axis."""
    if isinstance(padding, str):
        choice = as_choice(op, "padding", padding, PADDING_STRINGS)
        rules: dict[str, Callable[[int, int], tuple[int, int]]] = {
            "valid": lambda k, d: (0, 0),
            "same": _sizes.same_padding,
            "full": _sizes.full_padding,
        }
        rule = rules[choice]
        return choice, tuple(rule(k, d) for k, d in zip(kernel, dilation, strict=True))
    if (
        isinstance(padding, Sequence)
        and padding
        and all(isinstance(p, Sequence) and not isinstance(p, str) for p in padding)
    ):
        if len(padding) != dims:
            raise SpecError(
                f"{op}: padding {tuple(padding)!r} has {len(padding)} (lo, hi) pairs, "
                f"expected {dims} (one per spatial axis)"
            )
        pads = []
        for a, pair in enumerate(padding):
            if len(pair) != 2:
                raise SpecError(
                    f"{op}: padding[{a}] {tuple(pair)!r} must be a (lo, hi) pair of integers >= 0"
                )
            pads.append(tuple(as_int(op, f"padding[{a}]", p, 0) for p in pair))
        pads_t = tuple(pads)
        return pads_t, pads_t  # type: ignore[return-value]  # pairs (len checked above)
    sym = as_per_axis(op, "padding", padding, dims, 0)
    return sym, tuple((p, p) for p in sym)


def _finite_positive(p: int | float) -> bool:
    """Whether `p` is a finite number > 0 as a float (an int beyond float's range is not)."""
    try:
        return p > 0 and math.isfinite(float(p))
    except OverflowError:
        return False
