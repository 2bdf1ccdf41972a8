"""Transposed convolution: the forward pass and its gradients, through the convolution's."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from symconv._errors import SpecError
from symconv.spec import Conv
from symconv.transpose import ConvTranspose

from .._autograd import needs_grad, with_batch_axis
from .._backend import (
    check_ndim,
    chunk_for,
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
from .conv import _conv_bytes, conv, conv_grad_bias, conv_grad_weight, conv_spec


def conv_transpose(
    dims: int,
    op: str,
    input: Array,
    weight: Array,
    bias: Array | None,
    stride: IntOrTuple,
    padding: IntOrTuple,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
) -> Array:
    be = pick(op, input=input, weight=weight, bias=bias)
    if needs_grad(input, weight, bias):  # torch autograd: dL/dx = T delta, a convolution
        conf = (stride, padding, output_padding, groups, dilation)
        return _autograd_conv_transpose(dims, op, input, weight, bias, conf)
    x, unbatched = _batched(op, "input", input, dims)
    spec = _transpose_spec(
        op, dims, x.shape, weight, stride, padding, output_padding, groups, dilation,
        bias=bias is not None,
    )  # fmt: skip
    out = _checked_size(op, spec, x.shape[2:], x.shape, itemsize(x))
    if bias is not None:
        _check_shape(op, "bias", bias, (spec.out_channels,))
    per = (
        itemsize(x)
        * prod(out)
        * (spec.in_channels * 4 + spec.out_channels * 3)
        * prod(spec.kernel_size)
    )
    all_finite = lazy("algorithms").all_finite

    if not all_finite(weight):  # y = T^T x tap by tap: no zero between the inputs multiplied
        _taps = lazy("_taps")

        pads = tuple((p, p) for p in spec.padding)
        chunk, cap = _chunk(be, per // max(1, int(x.shape[0])))

        def taps(s: slice) -> Array:
            y = _taps.grad_input(x[s], weight, out, spec.stride, pads, spec.dilation, spec.groups)
            return y if bias is None else y + bias.reshape(-1, *(1 for _ in out))

        y = map_batch(be.name, x.shape[0], 0.0, chunk, taps, "concat", threads=cap)
        return y[0] if unbatched else y
    y = be.run(
        be.conv.conv_transpose_forward, x, weight, bias, spec.stride, spec.padding,
        spec.output_padding, spec.dilation, spec.groups, chunk_for(per),
    )  # fmt: skip
    return y[0] if unbatched else y


def _transpose_spec(
    op: str,
    dims: int,
    size: Sequence[int],
    weight: Array,
    stride: IntOrTuple,
    padding: IntOrTuple,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
    bias: bool = False,
) -> ConvTranspose:
    """The `symconv.ConvTranspose` of a transposed convolution on input (N, C_in, *size): the
    forward pass and both gradients build it here, with the weight's channel check."""
    check_ndim(op, "weight", weight, dims + 2, "(C_in, C_out/groups, *kernel)")
    groups_ = groups if isinstance(groups, int) and not isinstance(groups, bool) else 1
    spec = _spec(
        op,
        ConvTranspose,
        dims=dims,
        in_channels=int(size[1]),
        out_channels=int(weight.shape[1]) * groups_,
        kernel_size=tuple(int(k) for k in weight.shape[2:]),
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
        bias=bias,
    )
    if weight.shape[0] != size[1]:
        raise SpecError(
            f"{op}: weight of shape {tuple(weight.shape)} expects {weight.shape[0]} input "
            f"channels, but the input has {size[1]}"
        )
    return spec


def conv_transpose_grad_input(
    dims: int,
    op: str,
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    stride: IntOrTuple,
    padding: IntOrTuple,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
) -> Array:
    r"""dL/dx of `conv_transpose`: $y = T^\top x$, so $\partial L/\partial x = T \delta$, the
    convolution with the same weight, stride, padding, dilation and groups, cropped to the
    input's size ($T\delta$ has $i + \lfloor \mathrm{output\_padding} / s \rfloor$ entries per
    axis; the rest are positions x does not have)."""
    pick(op, weight=weight, grad_output=grad_output)
    size = shape_arg(op, "input_size", input_size)
    if len(size) != dims + 2:
        raise SpecError(
            f"{op}: input_size must be the input's full shape {_layout(dims)}, got {size}"
        )
    check_ndim(op, "grad_output", grad_output, dims + 2, _layout(dims))
    spec = _transpose_spec(
        op, dims, size, weight, stride, padding, output_padding, groups, dilation
    )
    out = _checked_size(op, spec, size[2:])
    _check_shape(op, "grad_output", grad_output, (size[0], spec.out_channels, *out))
    layer = (spec.stride, spec.padding, spec.dilation, spec.groups, "zeros", False)
    dx = conv(dims, op, grad_output, weight, None, *layer)
    return dx[(slice(None), slice(None), *(slice(0, n) for n in size[2:]))]


def conv_transpose_grad_weight(
    dims: int,
    op: str,
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    stride: IntOrTuple,
    padding: IntOrTuple,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
) -> Array:
    r"""dL/dw of `conv_transpose`: $y = T^\top x$ is, read backwards, the convolution $T$ with
    input $\delta$ and upstream gradient $x$; dL/dw is that convolution's weight gradient
    (x zero-extended to $T\delta$'s size where `output_padding` reaches the stride)."""
    be = pick(op, input=input, grad_output=grad_output)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    check_ndim(op, "grad_output", grad_output, dims + 2, _layout(dims))
    wsize = shape_arg(op, "weight_size", weight_size)
    if len(wsize) != dims + 2:
        raise SpecError(
            f"{op}: weight_size must be (C_in, C_out/groups, *kernel), {dims + 2} entries, "
            f"got {wsize}"
        )
    shape = tuple(int(s) for s in input.shape)
    spec = _transpose_spec(
        op, dims, shape, np.empty(wsize, dtype=np.int8), stride, padding, output_padding,
        groups, dilation,
    )  # fmt: skip
    out = _checked_size(op, spec, shape[2:])
    _check_shape(op, "grad_output", grad_output, (shape[0], spec.out_channels, *out))
    layer = (spec.stride, spec.padding, spec.dilation, spec.groups, "zeros", False)
    cspec = conv_spec(op, dims, spec.out_channels, wsize, False, *layer)
    full = cspec.output_size(out)
    x = input
    if tuple(full) != shape[2:] and not _finite(grad_output):
        return _transpose_grad_weight_by_taps(be, cspec, input, grad_output, itemsize(input))
    if tuple(full) != shape[2:]:
        grown = be.conv._zeros((*shape[:2], *full), input)
        grown[(slice(None), slice(None), *(slice(0, n) for n in shape[2:]))] = input
        x = grown
    return conv_grad_weight(dims, op, grad_output, wsize, x, *layer)


def _finite(a: Array) -> bool:
    all_finite = lazy("algorithms").all_finite

    return all_finite(a)


def _transpose_grad_weight_by_taps(
    be: Any, cspec: Conv, x: Array, grad_output: Array, item: int
) -> Array:
    """dL/dw of a transposed convolution whose `output_padding` leaves positions of its
    gradient convolution's output that x does not have, with inf or NaN in grad_output: tap by
    tap over x's own positions (`numeric._taps.grad_weight`), so that no zero standing in for
    them multiplies grad_output; the padding's zeros left out or multiplied by the rule of
    `conv_grad_weight` (`_taps.padding_rule`: multiplied for float64, as torch's native kernels
    do)."""
    _taps = lazy("_taps")

    g, pads = grad_output, cspec.pads
    if not _taps.padding_rule("grad_weight", item):
        g, pads = be.conv._pad(grad_output, pads, "zeros"), tuple((0, 0) for _ in pads)
    chunk, cap = _chunk(be, _conv_bytes(cspec, grad_output.shape[2:], item) * 2)

    def call(s: slice) -> Array:
        return _taps.grad_weight(
            g[s], x[s], cspec.kernel_size, cspec.stride, pads, cspec.dilation, cspec.groups
        )

    work = _work(cspec, grad_output.shape)
    return map_batch(be.name, x.shape[0], work, chunk, call, "sum", threads=cap)


# -- float16 / bfloat16: computed in float32, returned in the input's dtype ----------------------
conv_transpose = half_precision(conv_transpose)
conv_transpose_grad_input = half_precision(conv_transpose_grad_input)
conv_transpose_grad_weight = half_precision(conv_transpose_grad_weight)


# -- torch autograd (numeric._autograd): the backward pass runs the functions above --
@functools.cache
def _autograd_function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    class NumericConvTranspose(torch.autograd.Function):
        """y = T^T x (T: the convolution with the same weight, stride, padding, dilation and
        groups); backward: dL/dx = T delta (numeric's conv), dL/dw = the conv's weight
        gradient with delta as its input and x as its upstream gradient."""

        @staticmethod
        def forward(ctx: Any, x: Any, w: Any, b: Any, conf: tuple) -> Any:
            ctx.save_for_backward(x, w)
            ctx.conf, ctx.has_bias = conf, b is not None
            dims, op, stride, padding, output_padding, groups, dilation = conf
            return conv_transpose(
                dims, op, x, w, b, stride, padding, output_padding, groups, dilation
            )

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, delta: Any) -> Any:
            x, w = ctx.saved_tensors
            dims, op, *layer = ctx.conf
            unbatched, xb, d = with_batch_axis(dims, x, delta)
            name = f"{op} (backward)"
            dx = dw = db = None
            if ctx.needs_input_grad[0]:
                dx = conv_transpose_grad_input(dims, name, xb.shape, w, d, *layer)
                dx = dx[0] if unbatched else dx
            if ctx.needs_input_grad[1]:
                dw = conv_transpose_grad_weight(dims, name, xb, w.shape, d, *layer)
            if ctx.has_bias and ctx.needs_input_grad[2]:
                db = conv_grad_bias(name, d)
            return dx, dw, db, None

    return NumericConvTranspose


def _autograd_conv_transpose(dims: int, op: str, x: Any, w: Any, b: Any, conf: tuple) -> Any:
    """`numeric.conv_transpose` through autograd (`conf`: stride, padding,
    output_padding, groups, dilation)."""
    return _autograd_function().apply(x, w, b, (dims, op, *conf))
