r"""Hypothesis strategies for convolution and pooling layers, and for their arrays.

Every strategy *constructs* a valid value: sizes are drawn from the range a spec allows (the
input size from the spec's minimum upwards), never drawn freely and filtered. Each draw shrinks
towards the smallest readable case: kernel 1, stride 1, dilation 1, no padding, one channel,
one group, zero padding mode, the smallest input the spec accepts (where the dilated kernel
equals the padded input).

`conv_specs` and `pool_specs` draw **`(spec, input_size)` pairs**, since most properties need
both and a spec alone does not say which input sizes it accepts. For the spec alone, map:
`conv_specs().map(lambda case: case[0])`.

Ranges are given as an `int` (exactly that value) or an inclusive `(lo, hi)` pair.

```python
>>> from hypothesis import given
>>> from symconv.testing import conv_specs
>>> @given(conv_specs(dims=2, padding_modes=("zeros",)))
... def test_output_is_positive(case):
...     spec, size = case
...     assert min(spec.output_size(size)) >= 1
>>> test_output_is_positive()

```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st

from .._errors import SpecError
from ..spec import PADDING_MODES, POOL_KINDS, Conv, Pool

__all__ = [
    "PADDING_STYLES",
    "ConvArrays",
    "arrays_for",
    "conv_specs",
    "filled",
    "inputs",
    "pool_specs",
    "upstream_gradients",
    "weights",
]

#: How a drawn `Conv` gives its padding: one int, one int per axis, `(lo, hi)` per axis, or a
#: padding string. Listed in shrinking order.
PADDING_STYLES = ("int", "tuple", "valid", "same", "full", "pairs")

Range = int | tuple[int, int]


def _range(name: str, value: Range, minimum: int) -> tuple[int, int]:
    """An int or an inclusive `(lo, hi)` pair as a checked `(lo, hi)`."""
    if isinstance(value, bool):
        raise SpecError(f"strategies: {name} must be an int or a (lo, hi) pair, got {value!r}")
    if isinstance(value, int | np.integer):
        lo = hi = int(value)
    elif isinstance(value, Sequence) and len(value) == 2:
        lo, hi = (int(v) for v in value)
    else:
        raise SpecError(f"strategies: {name} must be an int or a (lo, hi) pair, got {value!r}")
    if lo < minimum or hi < lo:
        raise SpecError(f"strategies: {name} range {(lo, hi)} must satisfy {minimum} <= lo <= hi")
    return lo, hi


def _choices(name: str, value: Any, allowed: Sequence[Any]) -> tuple[Any, ...]:
    values = (value,) if isinstance(value, str | bool | int | float) else tuple(value)
    bad = [v for v in values if v not in allowed]
    if not values or bad:
        raise SpecError(
            f"strategies: {name} must be chosen from {tuple(allowed)!r}, got {tuple(values)!r}"
        )
    return tuple(v for v in allowed if v in values)  # canonical (shrinking) order


def _per_axis(draw: Any, dims: int, lo: int, hi: int, square: bool) -> tuple[int, ...]:
    if square:
        return (draw(st.integers(lo, hi)),) * dims
    return tuple(draw(st.integers(lo, hi)) for _ in range(dims))


def _pad_cap(mode: str, pad_hi: int, max_size: int) -> int:
    """Largest padding a mode allows on an input of at most `max_size`."""
    if mode == "reflect":
        return min(pad_hi, max_size - 1)
    if mode == "circular":
        return min(pad_hi, max_size)
    return pad_hi


def _kernel_cap(style: str, d: int, pad: int, max_size: int, mode: str) -> int:
    """Largest kernel whose dilated span leaves an input of at most `max_size` valid."""
    if style in ("same", "full"):
        if mode == "reflect":  # the padding (d(k-1), or its high half for same) must stay < i
            limit = max_size - 1
        elif mode == "circular":
            limit = max_size
        else:
            return 10**9
        reach = limit if style == "full" else 2 * limit
        return reach // d + 1
    return (max_size + 2 * pad - 1) // d + 1


def conv_specs(
    dims: int | Sequence[int] = 2,
    *,
    max_size: int = 8,
    kernel_size: Range = (1, 3),
    stride: Range = (1, 3),
    dilation: Range = (1, 2),
    padding: Range = (0, 2),
    channels: Range = (1, 4),
    groups: Range = (1, 4),
    padding_modes: str | Sequence[str] = PADDING_MODES,
    padding_styles: str | Sequence[str] = PADDING_STYLES,
    flip: bool | Sequence[bool] = (False, True),
    bias: bool | Sequence[bool] = (True, False),
    square: bool = False,
) -> st.SearchStrategy[tuple[Conv, tuple[int, ...]]]:
    r"""`(Conv, input_size)` pairs, every one valid (`spec.output_size(input_size)` succeeds).

    Args:
        dims: spatial axes, one value or a choice.
        max_size: largest spatial input size per axis.
        kernel_size, stride, dilation: per-axis values (int: exactly; `(lo, hi)`: a range).
        padding: the explicit padding amounts (styles `"int"`, `"tuple"`, `"pairs"`).
        channels: range of `in_channels` and `out_channels` (each a multiple of `groups`).
        groups: range of the group count; `groups == in_channels` (depthwise) is drawn often,
            since the channels per group shrink to 1.
        padding_modes: a subset of `"zeros"`, `"reflect"`, `"replicate"`, `"circular"`.
        padding_styles: a subset of `PADDING_STYLES`; `"same"` forces stride 1.
        flip, bias: a value or a choice.
        square: the same kernel, stride, dilation and padding on every axis.

    The edges are reachable and shrink targets: the smallest input is the one where the dilated
    kernel spans the whole padded input; strides exceed kernels; axes of size 1 occur.
    """
    dims_ = _choices("dims", dims, (1, 2, 3))
    k_lo, k_hi = _range("kernel_size", kernel_size, 1)
    s_lo, s_hi = _range("stride", stride, 1)
    d_lo, d_hi = _range("dilation", dilation, 1)
    p_lo, p_hi = _range("padding", padding, 0)
    c_lo, c_hi = _range("channels", channels, 1)
    g_lo, g_hi = _range("groups", groups, 1)
    g_hi = min(g_hi, c_hi)
    if g_lo > g_hi or max(c_lo, g_lo) > c_hi:
        raise SpecError(f"conv_specs: no group count in {groups} fits channels {channels}")
    modes = _choices("padding_modes", padding_modes, PADDING_MODES)
    styles = _choices("padding_styles", padding_styles, PADDING_STYLES)
    if s_lo > 1:
        styles = tuple(s for s in styles if s != "same")
    if not styles:
        raise SpecError("conv_specs: padding style 'same' needs stride 1 in the stride range")
    if max_size < 1:
        raise SpecError(f"conv_specs: max_size must be >= 1, got {max_size}")
    flips = _choices("flip", flip, (False, True))
    biases = _choices("bias", bias, (True, False))
    feasible = [
        (m, s)
        for m in modes
        for s in styles
        if _kernel_cap(s, d_lo, _pad_cap(m, p_hi, max_size), max_size, m) >= k_lo
        and (s not in ("int", "tuple", "pairs") or _pad_cap(m, p_hi, max_size) >= p_lo)
    ]
    if not feasible:
        raise SpecError(
            f"conv_specs: kernel_size {k_lo} with dilation {d_lo} does not fit an input of at "
            f"most {max_size} with padding up to {p_hi} in any allowed mode and style"
        )

    @st.composite
    def draw_case(draw: Any) -> tuple[Conv, tuple[int, ...]]:
        n = draw(st.sampled_from(dims_))
        mode = draw(st.sampled_from([m for m in modes if any(f[0] == m for f in feasible)]))
        style = draw(st.sampled_from([s for m, s in feasible if m == mode]))
        cap = _pad_cap(mode, p_hi, max_size)
        g = draw(st.integers(g_lo, g_hi))
        per_group = (max(1, -(-c_lo // g)), max(1, c_hi // g))
        cin = g * draw(st.integers(*per_group))
        cout = g * draw(st.integers(*per_group))
        strides = _per_axis(draw, n, s_lo, s_hi, square)
        strides = (1,) * n if style == "same" else strides
        kernel, dil = [], []
        for _ in range(1 if square else n):
            d = draw(st.integers(d_lo, d_hi))
            if _kernel_cap(style, d, cap, max_size, mode) < k_lo:
                d = d_lo  # feasible by the check above
            kernel.append(
                draw(st.integers(k_lo, min(k_hi, _kernel_cap(style, d, cap, max_size, mode))))
            )
            dil.append(d)
        if square:
            kernel, dil = kernel * n, dil * n
        spans = [d * (k - 1) + 1 for k, d in zip(kernel, dil, strict=True)]
        need = [max(0, s - max_size) for s in spans]  # padding the span needs on a max_size input
        # every style draws the same choices (one (lo, hi) pair per axis), so shrinking the
        # style towards "int" keeps the other draws aligned
        pairs = []
        for x in need[:1] if square else need:
            lo = draw(st.integers(max(p_lo, x - cap), cap))
            pairs.append((lo, draw(st.integers(max(p_lo, x - lo), cap))))
        pairs = pairs * n if square else pairs
        sym = tuple(max(lo, p_lo, -(-x // 2)) for (lo, _), x in zip(pairs, need, strict=True))
        pad: Any = {"int": max(sym), "tuple": sym, "pairs": tuple(pairs)}.get(style, style)
        spec = Conv(
            dims=n,
            in_channels=cin,
            out_channels=cout,
            kernel_size=kernel[0] if square else tuple(kernel),
            stride=strides[0] if square else strides,
            padding=pad,
            dilation=dil[0] if square else tuple(dil),
            groups=g,
            bias=draw(st.sampled_from(biases)),
            padding_mode=mode,
            flip=draw(st.sampled_from(flips)),
        )
        size = []
        for a, span in enumerate(spans):
            lo, hi = spec.pads[a]
            smallest = max(1, span - lo - hi)
            if mode == "reflect":
                smallest = max(smallest, max(lo, hi) + 1)
            elif mode == "circular":
                smallest = max(smallest, max(lo, hi))
            size.append(draw(st.integers(smallest, max(smallest, max_size))))
        spec.output_size(size)  # valid by construction; a SpecError here is a strategy bug
        return spec, tuple(size)

    return draw_case()


def pool_specs(
    dims: int | Sequence[int] = 2,
    *,
    kinds: str | Sequence[str] = POOL_KINDS,
    max_size: int = 8,
    kernel_size: Range = (1, 3),
    stride: Range = (1, 3),
    dilation: Range = (1, 2),
    padding: Range = (0, 1),
    ceil_mode: bool | Sequence[bool] = (False, True),
    norm_types: Sequence[float] = (2.0, 1.0, 3.0, 1.5),
    square: bool = False,
) -> st.SearchStrategy[tuple[Pool, tuple[int, ...]]]:
    """`(Pool, input_size)` pairs, every one valid, following torch's pooling rules.

    Padding is at most half the kernel (torch's rule) and zero for `lp`; dilation is drawn for
    max pooling only; avg pooling draws `count_include_pad` and sometimes `divisor_override`;
    3-d avg and lp pooling get inputs of at least one window. Shrinks to a 1-wide max pool.
    """
    dims_ = _choices("dims", dims, (1, 2, 3))
    kinds_ = _choices("kinds", kinds, POOL_KINDS)
    k_lo, k_hi = _range("kernel_size", kernel_size, 1)
    s_lo, s_hi = _range("stride", stride, 1)
    d_lo, d_hi = _range("dilation", dilation, 1)
    p_lo, p_hi = _range("padding", padding, 0)
    ceils = _choices("ceil_mode", ceil_mode, (False, True))
    if not norm_types or not any(
        _pool_kernels(kind, n, 1, k_lo, k_hi, p_lo, p_hi, max_size)
        for kind in kinds_
        for n in dims_
    ):
        raise SpecError(
            f"pool_specs: no kernel_size in {kernel_size} fits an input of at most {max_size} "
            f"with padding {padding}"
        )

    @st.composite
    def draw_case(draw: Any) -> tuple[Pool, tuple[int, ...]]:
        n = draw(st.sampled_from(dims_))
        kind = draw(st.sampled_from(kinds_))
        strides = _per_axis(draw, n, s_lo, s_hi, square)
        kernel, dil, pad = [], [], []
        for _ in range(1 if square else n):
            d = draw(st.integers(d_lo, d_hi))  # drawn for every kind: shrinking stays aligned
            d = d if kind == "max" else 1
            ks = _pool_kernels(kind, n, d, k_lo, k_hi, p_lo, p_hi, max_size)
            if not ks:
                d = 1
                ks = _pool_kernels(kind, n, d, k_lo, k_hi, p_lo, p_hi, max_size)
            k = draw(st.sampled_from(ks))
            kernel.append(k)
            dil.append(d)
            pad.append(draw(st.integers(*_pool_pads(kind, d, k, p_lo, p_hi, max_size))))
        if square:
            kernel, dil, pad = kernel * n, dil * n, pad * n
        cip = draw(st.sampled_from((True, False)))
        div = draw(st.one_of(st.none(), st.integers(1, 4)))
        norm = draw(st.sampled_from(tuple(norm_types)))
        extra: dict[str, Any] = {}
        if kind == "avg":
            extra.update(count_include_pad=cip, divisor_override=div)
        elif kind == "lp":
            extra["norm_type"] = norm
        spec = Pool(
            dims=n,
            kind=kind,
            kernel_size=tuple(kernel),
            stride=strides,
            padding=tuple(pad),
            dilation=tuple(dil),
            ceil_mode=draw(st.sampled_from(ceils)),
            **extra,
        )
        size = []
        for k, d, p in zip(kernel, dil, pad, strict=True):
            smallest = max(1, d * (k - 1) + 1 - 2 * p)
            if n == 3 and kind != "max":
                smallest = max(smallest, k)
            size.append(draw(st.integers(smallest, max(smallest, max_size))))
        spec.output_size(size)  # valid by construction
        return spec, tuple(size)

    return draw_case()


def _pool_pads(kind: str, d: int, k: int, p_lo: int, p_hi: int, max_size: int) -> tuple[int, int]:
    """Padding range of one axis: at most half the kernel (torch), zero for lp, and enough
    for the dilated window to fit an input of `max_size`."""
    if kind == "lp":
        p_lo = p_hi = 0
    need = -(-(d * (k - 1) + 1 - max_size) // 2)
    return max(p_lo, need), min(p_hi, k // 2)


def _pool_kernels(
    kind: str, dims: int, d: int, k_lo: int, k_hi: int, p_lo: int, p_hi: int, max_size: int
) -> list[int]:
    """Kernel sizes of one axis that some padding and some input up to `max_size` accept."""
    ks = []
    for k in range(k_lo, k_hi + 1):
        lo, hi = _pool_pads(kind, d, k, p_lo, p_hi, max_size)
        if lo <= hi and not (dims == 3 and kind != "max" and k > max_size):
            ks.append(k)
    return ks


# -- arrays ----------------------------------------------------------------------------------
class ConvArrays(NamedTuple):
    """Arrays for one layer call: input `x` `(N, C_in, *input_size)`, `weight` (None for
    pooling), `bias` (None without one) and the upstream gradient `delta` `(N, C_out, *out)`."""

    x: np.ndarray
    weight: np.ndarray | None
    bias: np.ndarray | None
    delta: np.ndarray


def filled(
    shape: Sequence[int], dtype: Any = np.float64, values: Any = "normal"
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of `shape`.

    `values`: `"normal"` (standard normal, from a drawn seed: fast for large arrays),
    `"integers"` (small integers -3..3 stored as `dtype`: sums are exact in floating point), or
    a Hypothesis strategy for the elements (uses `hypothesis.extra.numpy.arrays`, which shrinks
    values too, but is slower).
    """
    shape = tuple(int(s) for s in shape)
    dtype = np.dtype(dtype)
    if isinstance(values, st.SearchStrategy):
        from hypothesis.extra import numpy as hnp

        return hnp.arrays(dtype, shape, elements=values)
    if values not in ("normal", "integers"):
        raise SpecError(
            f"filled: values must be 'normal', 'integers' or a strategy, got {values!r}"
        )

    def make(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if values == "integers":
            return rng.integers(-3, 4, size=shape).astype(dtype)
        return rng.standard_normal(shape).astype(dtype)

    return st.integers(0, 2**32 - 1).map(make)


def _batch(batch: Range) -> st.SearchStrategy[int]:
    lo, hi = _range("batch", batch, 0)
    return st.integers(lo, hi)


def _channels(spec: Conv | Pool, channels: int) -> tuple[int, int]:
    if isinstance(spec, Pool):
        return channels, channels
    return spec.in_channels, spec.out_channels


def inputs(
    spec: Conv | Pool,
    input_size: Sequence[int],
    *,
    batch: Range = (0, 2),
    channels: int = 1,
    dtype: Any = np.float64,
    values: Any = "normal",
) -> st.SearchStrategy[np.ndarray]:
    """Inputs `(N, C_in, *input_size)` for `spec` (a `Pool` runs over `channels` channels)."""
    cin = _channels(spec, channels)[0]
    return _batch(batch).flatmap(lambda n: filled((n, cin, *input_size), dtype, values))


def weights(spec: Conv, *, dtype: Any = np.float64, values: Any = "normal") -> st.SearchStrategy:
    """Weights of shape `spec.weight_shape`."""
    return filled(spec.weight_shape, dtype, values)


def upstream_gradients(
    spec: Conv | Pool,
    input_size: Sequence[int],
    *,
    batch: int = 1,
    channels: int = 1,
    dtype: Any = np.float64,
    values: Any = "normal",
) -> st.SearchStrategy[np.ndarray]:
    r"""Upstream gradients $\delta = \partial L/\partial y$ of shape `(batch, C_out, *out)`."""
    cout = _channels(spec, channels)[1]
    return filled((batch, cout, *spec.output_size(input_size)), dtype, values)


def arrays_for(
    spec: Conv | Pool,
    input_size: Sequence[int],
    *,
    batch: Range = (0, 2),
    channels: Range = (1, 2),
    dtype: Any = np.float64,
    values: Any = "normal",
) -> st.SearchStrategy[ConvArrays]:
    """Everything one call of `spec` needs, with one batch size: `ConvArrays(x, weight, bias,
    delta)`. Batch 0 is drawn (and is the shrink target only if it fails); for a `Pool`,
    `channels` is drawn from its range and `weight` and `bias` are None."""

    return _arrays(spec, tuple(input_size), batch, channels, dtype, values)


@st.composite
def _arrays(
    draw: Any,
    spec: Conv | Pool,
    input_size: tuple[int, ...],
    batch: Range,
    channels: Range,
    dtype: Any,
    values: Any,
) -> ConvArrays:
    n = draw(_batch(batch))
    c = draw(st.integers(*_range("channels", channels, 1))) if isinstance(spec, Pool) else 1
    cin, cout = _channels(spec, c)
    x = draw(filled((n, cin, *input_size), dtype, values))
    delta = draw(filled((n, cout, *spec.output_size(input_size)), dtype, values))
    if isinstance(spec, Pool):
        return ConvArrays(x, None, None, delta)
    w = draw(filled(spec.weight_shape, dtype, values))
    b = draw(filled((spec.out_channels,), dtype, values)) if spec.bias else None
    return ConvArrays(x, w, b, delta)
