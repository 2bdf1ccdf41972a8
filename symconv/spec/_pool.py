"""Pool: a pooling layer (torch's MaxPoolNd, AvgPoolNd, LPPoolNd)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .. import _sizes
from .._errors import SpecError
from .._validate import as_bool, as_choice, as_dims, as_int, as_per_axis, as_size
from ._padding import POOL_KINDS, Pads, PoolKind, _finite_positive
from ._windowed import _Windowed


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
        from ._formulas import (  # SymPy, loaded for a formula only
            pool_output_formula,
            substitute_axis,
        )

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
