"""Convolution: the forward pass and the input, weight and bias gradients."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from symconv._errors import SpecError
from symconv.spec import Conv

from .._autograd import needs_grad, with_batch_axis
from .._backend import (
    check_ndim,
    itemsize,
    pick,
    prod,
    shape_arg,
)
from .._half import half_precision
from .._parallel import map_batch
from ._common import (
    Array,
    IntOrTuple,
    _batched,
    _check_shape,
    _checked_size,
    _chunk,
    _layout,
    _spec,
    _work,
    lazy,
)
from .fft_blocks import (
    _fft_blocks,
    _fft_forward_blocks,
    _fft_grad_input_blocks,
    _fft_grad_weight_blocks,
)


# -- convolution --------------------------------------------------------------------------------
def conv_spec(
    op: str,
    dims: int,
    c_in: int,
    weight_shape: Sequence[int],
    bias: bool,
    stride: IntOrTuple,
    padding: Any,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    flip: bool,
) -> Conv:
    """The `symconv.Conv` these arguments describe, the weight's channel count checked."""
    if len(weight_shape) != dims + 2:
        raise SpecError(
            f"{op}: weight must have {dims + 2} dimensions (C_out, C_in/groups, *kernel), "
            f"got shape {tuple(weight_shape)}"
        )
    c_out, c_g = int(weight_shape[0]), int(weight_shape[1])
    spec = _spec(
        op,
        Conv,
        dims=dims,
        in_channels=c_in,
        out_channels=c_out,
        kernel_size=tuple(int(k) for k in weight_shape[2:]),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        padding_mode=padding_mode,
        flip=flip,
    )
    if c_g * spec.groups != c_in:
        raise SpecError(
            f"{op}: weight of shape {tuple(weight_shape)} expects {c_g * spec.groups} input "
            f"channels (C_in/groups = {c_g}, groups = {spec.groups}), but the input has {c_in}"
        )
    return spec


def _conv_bytes(spec: Conv, size: Sequence[int], item: int) -> int:
    """Workspace per sample: padded input, im2col columns (or, for the gradient, the padded
    delta's convolution), a copy of y."""
    padded = prod(i + lo + hi for i, (lo, hi) in zip(size, spec.pads, strict=True))
    out = prod(spec.output_size(tuple(size)))
    taps = prod(spec.kernel_size)
    cg = spec.in_channels // spec.groups
    work = max(out * taps * cg, 2 * padded * spec.out_channels)
    return item * (padded * spec.in_channels + work + out * spec.out_channels)


def _algorithm(
    op: str,
    kind: str,
    spec: Conv,
    size: Sequence[int],
    batch: int,
    algorithm: str,
    weight: Array | None = None,
    winograd_m: int | None = None,
    operands: Sequence[Array] = (),
) -> tuple[str, Any, bool]:
    """The algorithm to run, what choosing it found (separable: the kernel's rank-1 factors,
    found once per call), and whether the operands were found finite (only "auto" looks: True
    otherwise). Under "auto", `operands` holding inf or NaN restrict the choice to the
    algorithms that do not spread them (`numeric.algorithms.NON_SPREADING`)."""
    algorithms = lazy("algorithms")

    finite = algorithm != "auto" or winograd_m is not None or algorithms.all_finite(*operands)
    item = itemsize(next(a for a in (*operands, weight) if a is not None)) if operands else 4
    name, found = algorithms.plan(
        kind, op, spec, tuple(int(n) for n in size), batch, algorithm, weight, winograd_m,
        finite=finite, itemsize=item,
    )  # fmt: skip
    return name, found, finite


def _by_taps(kind: str, spec: Conv, finite: bool, item: int, meets: Array) -> bool:
    """Whether `kind` of `spec` runs tap by tap over the in-bounds outputs (`numeric._taps`):
    only when "auto" found a non-finite operand (`finite` False), `meets` (the operand the
    padding's zeros would multiply: the weight for y and dL/dx, delta for dL/dw) is itself
    non-finite, and numeric leaves the padding out there (`_taps.padding_rule`). dL/dx runs so
    for every padding (its kernels multiply the zeros between strided outputs too)."""
    _taps, algorithms = lazy("_taps"), lazy("algorithms")

    if finite or not _taps.padding_rule(kind, item):
        return False
    if kind != "grad_input" and (spec.padding_mode != "zeros" or not any(map(any, spec.pads))):
        return False  # no zero padding: no padded zero to leave out
    return not algorithms.all_finite(meets)


def _flipped(be: Any, spec: Conv, w: Array) -> Array:
    return be.conv._flip(w, tuple(range(2, 2 + spec.dims))) if spec.flip else w


def conv(
    dims: int,
    op: str,
    input: Array,
    weight: Array,
    bias: Array | None,
    stride: IntOrTuple,
    padding: Any,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    flip: bool,
    algorithm: str = "auto",
    winograd_m: int | None = None,
) -> Array:
    be = pick(op, input=input, weight=weight, bias=bias)
    if needs_grad(input, weight, bias):  # torch autograd: backward by numeric's gradients
        layer = (stride, padding, dilation, groups, padding_mode, flip)
        return _autograd_conv(dims, op, input, weight, bias, layer, algorithm, winograd_m)
    x, unbatched = _batched(op, "input", input, dims)
    spec = conv_spec(
        op, dims, x.shape[1], weight.shape, bias is not None, stride, padding, dilation,
        groups, padding_mode, flip,
    )  # fmt: skip
    _checked_size(op, spec, x.shape[2:], x.shape, itemsize(x))
    if bias is not None:
        _check_shape(op, "bias", bias, (spec.out_channels,))
    name, factors, finite = _algorithm(
        op, "forward", spec, x.shape[2:], x.shape[0], algorithm, weight, winograd_m, (x, weight)
    )
    if _by_taps("forward", spec, finite, itemsize(x), weight):
        _taps = lazy("_taps")

        w = _flipped(be, spec, weight)
        chunk, cap = _chunk(be, _conv_bytes(spec, x.shape[2:], itemsize(x)))

        def taps(s: slice) -> Array:
            return _taps.forward(x[s], w, bias, spec.stride, spec.pads, spec.dilation, spec.groups)

        y = map_batch(be.name, x.shape[0], _work(spec, x.shape), chunk, taps, "concat", threads=cap)
        return y[0] if unbatched else y
    blocks = _fft_blocks(name, spec, x.shape, itemsize(x), "forward")
    if blocks:
        y = _fft_forward_blocks(be, blocks, x, weight, bias, spec)
        return y[0] if unbatched else y
    chunk, cap = _chunk(
        be, _bytes(spec, x.shape[2:], itemsize(x), name), _fixed(spec, x.shape, x, name)
    )
    if name == "direct":

        def call(s: slice) -> Array:
            return be.run(
                be.conv.conv_forward, x[s], weight, bias, spec.stride, spec.pads,
                spec.dilation, spec.groups, spec.padding_mode, spec.flip, chunk,
            )  # fmt: skip

        y = map_batch(be.name, x.shape[0], _work(spec, x.shape), chunk, call, "concat", threads=cap)
    else:
        algorithms = lazy("algorithms")

        m = algorithms.WINOGRAD_M if winograd_m is None else winograd_m

        def write(s: slice, out: Array) -> None:  # each part straight into the output
            be.run(algorithms.forward, be, name, spec, x[s], weight, bias, chunk, m, factors, out)

        size = (x.shape[0], spec.out_channels, *spec.output_size(x.shape[2:]))
        y = map_batch(
            be.name, x.shape[0], _work(spec, x.shape), chunk, write, "into",
            be.conv._empty(size, x), threads=cap,
        )  # fmt: skip
    return y[0] if unbatched else y


def _bytes(spec: Conv, size: Sequence[int], item: int, algorithm: str) -> int:
    """Workspace per sample of `algorithm` (direct: `_conv_bytes`)."""
    if algorithm == "direct":
        return _conv_bytes(spec, size, item)
    workspace_bytes = lazy("algorithms").workspace_bytes

    return workspace_bytes(spec, tuple(int(s) for s in size), algorithm, item)


def _fixed(spec: Conv, shape: Sequence[int], a: Array, algorithm: str, op: str = "forward") -> int:
    """Workspace per call that does not grow with the batch (`fixed_workspace_bytes`)."""
    fixed_workspace_bytes = lazy("algorithms").fixed_workspace_bytes

    size = tuple(int(s) for s in shape[2:])
    return fixed_workspace_bytes(spec, size, algorithm, itemsize(a), op)


def conv_grad_input(
    dims: int,
    op: str,
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    stride: IntOrTuple,
    padding: Any,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    flip: bool,
    algorithm: str = "auto",
    winograd_m: int | None = None,
) -> Array:
    be = pick(op, weight=weight, grad_output=grad_output)
    size = shape_arg(op, "input_size", input_size)
    if len(size) != dims + 2:
        raise SpecError(
            f"{op}: input_size must be the input's full shape {_layout(dims)}, got {size}"
        )
    check_ndim(op, "grad_output", grad_output, dims + 2, _layout(dims))
    spec = conv_spec(
        op, dims, size[1], weight.shape, False, stride, padding, dilation, groups,
        padding_mode, flip,
    )  # fmt: skip
    out = _checked_size(op, spec, size[2:], size, itemsize(weight))
    _check_shape(op, "grad_output", grad_output, (size[0], spec.out_channels, *out))
    name, _, finite = _algorithm(
        op, "grad_input", spec, size[2:], size[0], algorithm, winograd_m=winograd_m,
        operands=(grad_output, weight),
    )  # fmt: skip
    if _by_taps("grad_input", spec, finite, itemsize(weight), weight):
        return _grad_input_by_taps(be, spec, grad_output, weight, size)
    blocks = _fft_blocks(name, spec, size, itemsize(weight), "grad_input")
    if blocks:
        return _fft_grad_input_blocks(be, blocks, grad_output, weight, size)
    chunk, cap = _chunk(
        be,
        _bytes(spec, size[2:], itemsize(weight), name) * 2,
        _fixed(spec, size, weight, name, "grad_input"),
    )
    if name != "direct":
        algorithms = lazy("algorithms")

        m = algorithms.WINOGRAD_M if winograd_m is None else winograd_m

        def write(s: slice, out: Array) -> None:  # each part straight into dL/dx
            be.run(
                algorithms.grad_input, be, name, spec, grad_output[s], weight, size[2:], chunk,
                m, out,
            )  # fmt: skip

        dx = be.conv._empty(size, grad_output)
        return map_batch(be.name, size[0], _work(spec, size), chunk, write, "into", dx, threads=cap)

    def call(s: slice) -> Array:
        return be.run(
            be.conv.conv_grad_input, grad_output[s], weight, size[2:], spec.stride,
            spec.pads, spec.dilation, spec.groups, spec.padding_mode, spec.flip, chunk,
        )  # fmt: skip

    return map_batch(be.name, size[0], _work(spec, size), chunk, call, "concat", threads=cap)


def _grad_input_by_taps(
    be: Any, spec: Conv, grad_output: Array, weight: Array, size: Sequence[int]
) -> Array:
    """dL/dx tap by tap (`numeric._taps.grad_input`), batch chunks by the workspace budget; for a
    padding mode other than zeros on the padded grid, then folded back (Pad^T)."""
    _taps = lazy("_taps")

    w, pads, inner = _flipped(be, spec, weight), spec.pads, tuple(size[2:])
    if spec.padding_mode != "zeros":
        inner = tuple(n + lo + hi for n, (lo, hi) in zip(inner, pads, strict=True))
        pads = tuple((0, 0) for _ in inner)
    chunk, cap = _chunk(be, _conv_bytes(spec, size[2:], itemsize(weight)) * 2)

    def call(s: slice) -> Array:
        g = _taps.grad_input(
            grad_output[s], w, inner, spec.stride, pads, spec.dilation, spec.groups
        )
        if spec.padding_mode == "zeros":
            return g
        return be.conv._fold(g, tuple(size[2:]), spec.pads, spec.padding_mode)

    return map_batch(be.name, size[0], _work(spec, size), chunk, call, "concat", threads=cap)


def conv_grad_weight(
    dims: int,
    op: str,
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    stride: IntOrTuple,
    padding: Any,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    flip: bool,
    algorithm: str = "auto",
    winograd_m: int | None = None,
) -> Array:
    be = pick(op, input=input, grad_output=grad_output)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    check_ndim(op, "grad_output", grad_output, dims + 2, _layout(dims))
    wsize = shape_arg(op, "weight_size", weight_size)
    spec = conv_spec(
        op, dims, input.shape[1], wsize, False, stride, padding, dilation, groups,
        padding_mode, flip,
    )  # fmt: skip
    out = _checked_size(op, spec, input.shape[2:], input.shape, itemsize(input))
    _check_shape(op, "grad_output", grad_output, (input.shape[0], spec.out_channels, *out))
    name, _, finite = _algorithm(
        op, "grad_weight", spec, input.shape[2:], input.shape[0], algorithm,
        winograd_m=winograd_m, operands=(input, grad_output),
    )  # fmt: skip
    if _by_taps("grad_weight", spec, finite, itemsize(input), grad_output):
        _taps = lazy("_taps")

        chunk, cap = _chunk(be, _conv_bytes(spec, input.shape[2:], itemsize(input)) * 2)

        def taps(s: slice) -> Array:
            dw = _taps.grad_weight(
                input[s], grad_output[s], spec.kernel_size, spec.stride, spec.pads,
                spec.dilation, spec.groups,
            )  # fmt: skip
            return _flipped(be, spec, dw)

        return map_batch(
            be.name, input.shape[0], _work(spec, input.shape), chunk, taps, "sum", threads=cap
        )
    blocks = _fft_blocks(name, spec, input.shape, itemsize(input), "grad_weight")
    if blocks:
        return _fft_grad_weight_blocks(be, blocks, input, grad_output, spec)
    chunk, cap = _chunk(
        be,
        _bytes(spec, input.shape[2:], itemsize(input), name) * 2,
        _fixed(spec, input.shape, input, name, "grad_weight"),
    )
    if name != "direct":
        algorithms = lazy("algorithms")

        m = algorithms.WINOGRAD_M if winograd_m is None else winograd_m

        def call(s: slice) -> Array:
            return be.run(
                algorithms.grad_weight, be, name, spec, input[s], grad_output[s], chunk, m
            )
    else:

        def call(s: slice) -> Array:
            return be.run(
                be.conv.conv_grad_weight, input[s], grad_output[s], spec.kernel_size,
                spec.stride, spec.pads, spec.dilation, spec.groups, spec.padding_mode,
                spec.flip, chunk,
            )  # fmt: skip

    return map_batch(
        be.name, input.shape[0], _work(spec, input.shape), chunk, call, "sum", threads=cap
    )


def conv_grad_bias(op: str, grad_output: Array) -> Array:
    be = pick(op, grad_output=grad_output)
    if grad_output.ndim < 3:
        raise SpecError(f"{op}: grad_output must be (N, C_out, *spatial), got {grad_output.shape}")
    return be.run(be.conv.conv_grad_bias, grad_output)


# -- float16 / bfloat16: computed in float32, returned in the input's dtype ----------------------
conv = half_precision(conv)
conv_grad_input = half_precision(conv_grad_input)
conv_grad_weight = half_precision(conv_grad_weight)
conv_grad_bias = half_precision(conv_grad_bias)


# -- torch autograd (numeric._autograd): the backward pass runs the functions above --
@functools.cache
def _autograd_function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    class NumericConv(torch.autograd.Function):
        """y = numeric conv(x, w, b); backward: numeric's derived dL/dx, dL/dw, dL/db."""

        @staticmethod
        def forward(ctx: Any, x: Any, w: Any, b: Any, conf: tuple) -> Any:
            ctx.save_for_backward(x, w)
            ctx.conf, ctx.has_bias = conf, b is not None
            dims, op, *layer, algorithm, winograd_m = conf
            # mypy cannot count *layer (the 6 layer arguments), hence the ignores
            return conv(dims, op, x, w, b, *layer, algorithm, winograd_m)  # type: ignore[call-arg]

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, delta: Any) -> Any:
            x, w = ctx.saved_tensors
            dims, op, *layer, algorithm, winograd_m = ctx.conf
            if algorithm == "separable":  # a forward-only algorithm: the gradients by "auto"
                algorithm, winograd_m = "auto", None
            unbatched, xb, d = with_batch_axis(dims, x, delta)
            dx = dw = db = None
            if ctx.needs_input_grad[0]:
                dx = conv_grad_input(
                    dims, f"{op} (backward)", xb.shape, w, d, *layer, algorithm, winograd_m
                )  # type: ignore[call-arg]  # *layer, as in forward
                dx = dx[0] if unbatched else dx
            if ctx.needs_input_grad[1]:
                dw = conv_grad_weight(
                    dims, f"{op} (backward)", xb, w.shape, d, *layer, algorithm, winograd_m
                )  # type: ignore[call-arg]  # *layer, as in forward
            if ctx.has_bias and ctx.needs_input_grad[2]:
                db = conv_grad_bias(f"{op} (backward)", d)
            return dx, dw, db, None

    return NumericConv


def _autograd_conv(
    dims: int, op: str, x: Any, w: Any, b: Any, layer: tuple, algorithm: str, winograd_m: Any
) -> Any:
    """`numeric.conv` through autograd (`layer`: stride, padding, dilation, groups,
    padding_mode, flip)."""
    conf = (dims, op, *layer, algorithm, winograd_m)
    return _autograd_function().apply(x, w, b, conf)
