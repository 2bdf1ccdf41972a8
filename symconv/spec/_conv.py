"""Conv: a convolution layer (torch's nn.ConvNd, plus flip and full padding)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .. import _sizes
from .._errors import SpecError
from .._validate import as_bool, as_choice, as_dims, as_groups, as_int, as_per_axis, as_size
from ._padding import PADDING_MODES, Padding, PaddingLike, PaddingMode, Pads, _normalise_padding
from ._windowed import _Windowed


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
        from ._formulas import (  # SymPy, loaded for a formula only
            conv_output_formula,
            substitute_axis,
        )

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
