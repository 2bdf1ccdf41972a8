"""Pooling: max (with indices), average and power-average, and their backward passes."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from symconv._errors import SpecError
from symconv.spec import Pool

from .._autograd import needs_grad, with_batch_axis
from .._backend import (
    check_ndim,
    itemsize,
    pick,
    prod,
)
from .._half import half_precision
from ._common import Array, _batched, _check_shape, _checked_size, _layout, _spec


# -- pooling ------------------------------------------------------------------------------------
def pool_spec(op: str, dims: int, x: Array, **kw: Any) -> tuple[Pool, tuple[int, ...]]:
    stride = kw.pop("stride", None)
    if isinstance(stride, tuple | list) and len(stride) == 0:
        stride = None  # torch: stride=[] means the kernel size
    spec = _spec(op, Pool, dims=dims, stride=stride, **kw)
    return spec, _checked_size(op, spec, x.shape[2:], x.shape, itemsize(x))


def max_pool(dims: int, op: str, input: Array, return_indices: bool, **kw: Any) -> Any:
    be = pick(op, input=input)
    if needs_grad(input):
        return _autograd_pool("max", dims, op, input, None, kw, return_indices)
    x, unbatched = _batched(op, "input", input, dims)
    spec, out = pool_spec(op, dims, x, kind="max", **kw)
    y, idx = be.run(
        be.pool.max_pool, x, spec.kernel_size, spec.stride, spec.padding, spec.dilation, out
    )
    if unbatched:
        y, idx = y[0], idx[0]
    return (y, idx) if return_indices else y


def max_pool_backward(
    dims: int, op: str, grad_output: Array, input: Array, indices: Array | None, **kw: Any
) -> Array:
    be = pick(op, grad_output=grad_output, input=input)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    spec, out = pool_spec(op, dims, input, kind="max", **kw)
    _check_shape(op, "grad_output", grad_output, (*input.shape[:2], *out))
    if indices is None:
        _, indices = be.run(
            be.pool.max_pool, input, spec.kernel_size, spec.stride, spec.padding,
            spec.dilation, out,
        )  # fmt: skip
    else:
        _check_indices(op, be, indices, grad_output, prod(input.shape[2:]))
    return be.run(be.pool.max_pool_backward, grad_output, indices, tuple(input.shape[2:]))


def _check_indices(op: str, be: Any, indices: Any, grad_output: Array, per: int) -> None:
    """`indices` as `max_pool*d(return_indices=True)` returns them: the array type (and device)
    of grad_output, integer, its shape, each a flat spatial index in [0, per) or -1 (a window
    entirely in the padding: it sends nothing)."""
    if be.name == "torch":
        import torch

        ok = isinstance(indices, torch.Tensor) and indices.device == grad_output.device
        integer = ok and not (indices.dtype.is_floating_point or indices.dtype.is_complex)
        integer = integer and indices.dtype != torch.bool
    else:
        ok = isinstance(indices, np.ndarray)
        integer = ok and indices.dtype.kind in "iu"
    if not ok:
        where = (
            f"a torch.Tensor on {grad_output.device}" if be.name == "torch" else "a numpy.ndarray"
        )
        raise SpecError(
            f"{op}: indices must be {where} like grad_output, got {type(indices).__name__}"
        )
    if not integer:
        raise SpecError(f"{op}: indices must have an integer dtype, got {indices.dtype}")
    _check_shape(op, "indices", indices, grad_output.shape)
    if indices.numel() if be.name == "torch" else indices.size:
        lo, hi = int(indices.min()), int(indices.max())
        if lo < -1 or hi >= per:
            bad = lo if lo < -1 else hi
            raise SpecError(
                f"{op}: indices must be flat positions in [0, {per}) of the input's spatial axes "
                f"(or -1 for a window entirely in the padding), got {bad}"
            )


def avg_pool(dims: int, op: str, input: Array, **kw: Any) -> Array:
    be = pick(op, input=input)
    if needs_grad(input):
        return _autograd_pool("avg", dims, op, input, None, kw)
    x, unbatched = _batched(op, "input", input, dims)
    spec, out = pool_spec(op, dims, x, kind="avg", **kw)
    y = be.run(
        be.pool.avg_pool, x, spec.kernel_size, spec.stride, spec.padding, out,
        spec.count_include_pad, spec.divisor_override,
    )  # fmt: skip
    return y[0] if unbatched else y


def avg_pool_backward(dims: int, op: str, grad_output: Array, input: Array, **kw: Any) -> Array:
    be = pick(op, grad_output=grad_output, input=input)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    spec, out = pool_spec(op, dims, input, kind="avg", **kw)
    _check_shape(op, "grad_output", grad_output, (*input.shape[:2], *out))
    return be.run(
        be.pool.avg_pool_backward, grad_output, tuple(input.shape[2:]), spec.kernel_size,
        spec.stride, spec.padding, spec.count_include_pad, spec.divisor_override,
    )  # fmt: skip


def lp_pool(dims: int, op: str, input: Array, norm_type: float, **kw: Any) -> Array:
    be = pick(op, input=input)
    if needs_grad(input):
        return _autograd_pool("lp", dims, op, input, norm_type, kw)
    x, unbatched = _batched(op, "input", input, dims)
    spec, out = pool_spec(op, dims, x, kind="lp", norm_type=norm_type, **kw)
    y = be.run(be.pool.lp_pool, x, float(norm_type), spec.kernel_size, spec.stride, out)
    return y[0] if unbatched else y


def lp_pool_backward(
    dims: int, op: str, grad_output: Array, input: Array, norm_type: float, **kw: Any
) -> Array:
    be = pick(op, grad_output=grad_output, input=input)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    spec, out = pool_spec(op, dims, input, kind="lp", norm_type=norm_type, **kw)
    _check_shape(op, "grad_output", grad_output, (*input.shape[:2], *out))
    return be.run(
        be.pool.lp_pool_backward, grad_output, input, float(norm_type), spec.kernel_size,
        spec.stride,
    )  # fmt: skip


# -- float16 / bfloat16: computed in float32, returned in the input's dtype ----------------------
max_pool = half_precision(max_pool)
max_pool_backward = half_precision(max_pool_backward)
avg_pool = half_precision(avg_pool)
avg_pool_backward = half_precision(avg_pool_backward)
lp_pool = half_precision(lp_pool)
lp_pool_backward = half_precision(lp_pool_backward)


# -- torch autograd (numeric._autograd): the backward pass runs the functions above --
@functools.cache
def _autograd_function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    class NumericPool(torch.autograd.Function):
        """max / avg / lp pooling; backward: numeric's pooling backward functions."""

        @staticmethod
        def forward(ctx: Any, x: Any, conf: tuple) -> Any:
            kind, dims, op, norm, kw, return_indices = conf
            ctx.conf = conf
            if kind == "max":
                y, idx = max_pool(dims, op, x, True, **kw)
                ctx.save_for_backward(x, idx)
                if return_indices:
                    ctx.mark_non_differentiable(idx)
                    return y, idx
                return y
            ctx.save_for_backward(x)
            if kind == "avg":
                return avg_pool(dims, op, x, **kw)
            return lp_pool(dims, op, x, norm, **kw)

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, delta: Any, *_: Any) -> Any:
            kind, dims, op, norm, kw, _ = ctx.conf
            x, *idx = ctx.saved_tensors
            unbatched, xb, d = with_batch_axis(dims, x, delta)
            name = f"{op} (backward)"
            if kind == "max":
                dx = max_pool_backward(
                    dims, name, d, xb, idx[0].unsqueeze(0) if unbatched else idx[0], **kw
                )
            elif kind == "avg":
                dx = avg_pool_backward(dims, name, d, xb, **kw)
            else:
                dx = lp_pool_backward(dims, name, d, xb, norm, **kw)
            return (dx[0] if unbatched else dx), None

    return NumericPool


def _autograd_pool(
    kind: str, dims: int, op: str, x: Any, norm: Any, kw: dict, return_indices: bool = False
) -> Any:
    """A pooling function through autograd (`kw`: its keyword arguments)."""
    return _autograd_function().apply(x, (kind, dims, op, norm, kw, return_indices))
