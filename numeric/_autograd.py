"""torch autograd through numeric's convolutions: the backward pass runs the derived gradients.

When a torch tensor argument of `numeric.conv1d/2d/3d`, `conv_transpose1d/2d/3d`, of a
pooling function or of a `numeric.local` layer requires a gradient (and grad mode is on), the
call goes through a `torch.autograd.Function` whose backward calls numeric's own derived gradients
(`conv*_grad_input`, `conv*_grad_weight` and `conv_grad_bias` with the same layer and
algorithm; `*_pool*d_backward`): numeric's kernels can train a torch model, and
`torch.autograd.gradcheck` checks the derived gradients against finite differences of the
forward.

```python
>>> import torch, numeric as nm
>>> x = torch.randn(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
>>> w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
>>> torch.autograd.gradcheck(lambda x, w: nm.conv2d(x, w, padding=1), (x, w))
True

```
"""

from __future__ import annotations

import functools
import sys
from typing import Any

__all__ = ["conv", "conv_transpose", "local", "needs_grad", "pool"]


def needs_grad(*arrays: Any) -> bool:
    """Whether any argument is a torch tensor that requires a gradient, with grad mode on."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.is_grad_enabled():
        return False
    return any(isinstance(a, torch.Tensor) and a.requires_grad for a in arrays)


def _batched(dims: int, x: Any, delta: Any) -> tuple[bool, Any, Any]:
    """(unbatched, x, delta) with the batch axis the gradient functions need (torch accepts an
    unbatched input: one sample without its axis)."""
    unbatched = x.ndim == dims + 1
    if unbatched:
        x, delta = x.unsqueeze(0), delta.unsqueeze(0)
    return unbatched, x, delta.contiguous()


@functools.cache
def _function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    from . import _ops

    class NumericConv(torch.autograd.Function):
        """y = numeric conv(x, w, b); backward: numeric's derived dL/dx, dL/dw, dL/db."""

        @staticmethod
        def forward(ctx: Any, x: Any, w: Any, b: Any, conf: tuple) -> Any:
            ctx.save_for_backward(x, w)
            ctx.conf, ctx.has_bias = conf, b is not None
            dims, op, *layer, algorithm, winograd_m = conf
            # mypy cannot count *layer (the 6 layer arguments), hence the ignores
            return _ops.conv(dims, op, x, w, b, *layer, algorithm, winograd_m)  # type: ignore[call-arg]

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, delta: Any) -> Any:
            x, w = ctx.saved_tensors
            dims, op, *layer, algorithm, winograd_m = ctx.conf
            if algorithm == "separable":  # a forward-only algorithm: the gradients by "auto"
                algorithm, winograd_m = "auto", None
            unbatched, xb, d = _batched(dims, x, delta)
            dx = dw = db = None
            if ctx.needs_input_grad[0]:
                dx = _ops.conv_grad_input(
                    dims, f"{op} (backward)", xb.shape, w, d, *layer, algorithm, winograd_m
                )  # type: ignore[call-arg]  # *layer, as in forward
                dx = dx[0] if unbatched else dx
            if ctx.needs_input_grad[1]:
                dw = _ops.conv_grad_weight(
                    dims, f"{op} (backward)", xb, w.shape, d, *layer, algorithm, winograd_m
                )  # type: ignore[call-arg]  # *layer, as in forward
            if ctx.has_bias and ctx.needs_input_grad[2]:
                db = _ops.conv_grad_bias(f"{op} (backward)", d)
            return dx, dw, db, None

    return NumericConv


def conv(
    dims: int, op: str, x: Any, w: Any, b: Any, layer: tuple, algorithm: str, winograd_m: Any
) -> Any:
    """`numeric._ops.conv` through autograd (`layer`: stride, padding, dilation, groups,
    padding_mode, flip)."""
    conf = (dims, op, *layer, algorithm, winograd_m)
    return _function().apply(x, w, b, conf)


@functools.cache
def _local_function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    from . import local as layers

    class NumericLocal(torch.autograd.Function):
        """Locally connected / tiled layer; backward: numeric.local's derived gradients."""

        @staticmethod
        def forward(ctx: Any, x: Any, w: Any, b: Any, conf: tuple) -> Any:
            ctx.save_for_backward(x, w)
            ctx.conf, ctx.has_bias = conf, b is not None
            op, tiled, *layer = conf
            return layers._forward(op, tiled, x, w, b, *layer)

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, delta: Any) -> Any:
            x, w = ctx.saved_tensors
            op, tiled, *layer = ctx.conf
            d = delta.contiguous()
            dx = dw = db = None
            if ctx.needs_input_grad[0]:
                dx = layers._grad_input(f"{op} (backward)", tiled, x.shape, w, d, *layer)
            if ctx.needs_input_grad[1]:
                dw = layers._grad_weight(f"{op} (backward)", tiled, x, w.shape, d, *layer)
            if ctx.has_bias and ctx.needs_input_grad[2]:
                # locally connected: one bias per output position; tiled: per channel
                db = d.sum(dim=(0, *range(2, d.ndim))) if tiled else d.sum(dim=0)
            return dx, dw, db, None

    return NumericLocal


def local(op: str, tiled: bool, x: Any, w: Any, b: Any, layer: tuple) -> Any:
    """`numeric.local`'s forward through autograd (`layer`: stride, padding, dilation, groups,
    padding_mode, flip)."""
    return _local_function().apply(x, w, b, (op, tiled, *layer))


@functools.cache
def _pool_function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    from . import _ops

    class NumericPool(torch.autograd.Function):
        """max / avg / lp pooling; backward: numeric's pooling backward functions."""

        @staticmethod
        def forward(ctx: Any, x: Any, conf: tuple) -> Any:
            kind, dims, op, norm, kw, return_indices = conf
            ctx.conf = conf
            if kind == "max":
                y, idx = _ops.max_pool(dims, op, x, True, **kw)
                ctx.save_for_backward(x, idx)
                if return_indices:
                    ctx.mark_non_differentiable(idx)
                    return y, idx
                return y
            ctx.save_for_backward(x)
            if kind == "avg":
                return _ops.avg_pool(dims, op, x, **kw)
            return _ops.lp_pool(dims, op, x, norm, **kw)

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, delta: Any, *_: Any) -> Any:
            kind, dims, op, norm, kw, _ = ctx.conf
            x, *idx = ctx.saved_tensors
            unbatched, xb, d = _batched(dims, x, delta)
            name = f"{op} (backward)"
            if kind == "max":
                dx = _ops.max_pool_backward(
                    dims, name, d, xb, idx[0].unsqueeze(0) if unbatched else idx[0], **kw
                )
            elif kind == "avg":
                dx = _ops.avg_pool_backward(dims, name, d, xb, **kw)
            else:
                dx = _ops.lp_pool_backward(dims, name, d, xb, norm, **kw)
            return (dx[0] if unbatched else dx), None

    return NumericPool


def pool(
    kind: str, dims: int, op: str, x: Any, norm: Any, kw: dict, return_indices: bool = False
) -> Any:
    """A pooling function through autograd (`kw`: its keyword arguments)."""
    return _pool_function().apply(x, (kind, dims, op, norm, kw, return_indices))


@functools.cache
def _transpose_function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    from . import _ops

    class NumericConvTranspose(torch.autograd.Function):
        """y = T^T x (T: the convolution with the same weight, stride, padding, dilation and
        groups); backward: dL/dx = T delta (numeric's conv), dL/dw = the conv's weight
        gradient with delta as its input and x as its upstream gradient."""

        @staticmethod
        def forward(ctx: Any, x: Any, w: Any, b: Any, conf: tuple) -> Any:
            ctx.save_for_backward(x, w)
            ctx.conf, ctx.has_bias = conf, b is not None
            dims, op, stride, padding, output_padding, groups, dilation = conf
            return _ops.conv_transpose(
                dims, op, x, w, b, stride, padding, output_padding, groups, dilation
            )

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, delta: Any) -> Any:
            x, w = ctx.saved_tensors
            dims, op, *layer = ctx.conf
            unbatched, xb, d = _batched(dims, x, delta)
            name = f"{op} (backward)"
            dx = dw = db = None
            if ctx.needs_input_grad[0]:
                dx = _ops.conv_transpose_grad_input(dims, name, xb.shape, w, d, *layer)
                dx = dx[0] if unbatched else dx
            if ctx.needs_input_grad[1]:
                dw = _ops.conv_transpose_grad_weight(dims, name, xb, w.shape, d, *layer)
            if ctx.has_bias and ctx.needs_input_grad[2]:
                db = _ops.conv_grad_bias(name, d)
            return dx, dw, db, None

    return NumericConvTranspose


def conv_transpose(dims: int, op: str, x: Any, w: Any, b: Any, conf: tuple) -> Any:
    """`numeric._ops.conv_transpose` through autograd (`conf`: stride, padding,
    output_padding, groups, dilation)."""
    return _transpose_function().apply(x, w, b, (dims, op, *conf))
