r"""Locally connected and tiled layers: forward and backpropagation, NumPy or torch.

A locally connected layer gives every output position its own kernel,
$y[n, k, o] = b[k, o] + \sum_{c, a} \tilde x[n, c', S o + D a]\, w[k, o, c, a]$, weight
$(C_\mathrm{out}, o_1, \dots, o_d, C_\mathrm{in}/G, k_1, \dots, k_d)$; a tiled one uses
kernel $o \bmod t$, weight $(C_\mathrm{out}, t_1, \dots, t_d, C_\mathrm{in}/G, k_1, \dots, k_d)$
(the tiles are read from the weight's shape). The number of spatial axes $d \in \{1, 2, 3\}$
is read from the weight too. The arguments are validated by building the layer's spec
(`symconv.local.LocallyConnected` / `Tiled`), and the generated kernels of
`numeric/_generated/*_local.py` run on the backend the array type picks. On torch tensors that
require a gradient the layers are differentiable (the backward runs these gradients).

```python
>>> import numpy as np
>>> from numeric.local import locally_connected
>>> x = np.arange(5.0).reshape(1, 1, 5)
>>> w = np.ones((1, 3, 1, 3))            # (C_out, *O, C_in, *K): 3 positions, kernel 3
>>> w[0, 1] = 2.0                        # the middle position has its own kernel
>>> locally_connected(x, w)
array([[[ 3., 12.,  9.]]])

```
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any, cast

from symconv._errors import SpecError
from symconv.local import LocallyConnected, Tiled

from ._autograd import needs_grad
from ._backend import Backend, check_ndim, chunk_for, itemsize, pick, prod, shape_arg

__all__ = [
    "locally_connected",
    "locally_connected_grad_bias",
    "locally_connected_grad_input",
    "locally_connected_grad_weight",
    "tiled",
    "tiled_grad_input",
    "tiled_grad_weight",
]

Array = Any
IntOrTuple = int | Sequence[int]

_LC_LAYOUT = "(C_out, *output_size, C_in/groups, *kernel_size)"
_TILED_LAYOUT = "(C_out, *tiles, C_in/groups, *kernel_size)"


def _kernels(be: Backend) -> ModuleType:
    """The generated local module of a backend (`numpy_local` or `torch_local`)."""
    return importlib.import_module(f"numeric._generated.{be.name}_local")


def _dims(op: str, shape: Sequence[int], layout: str) -> int:
    """Spatial axes d of a weight with 2 + 2 d dimensions."""
    nd = len(shape)
    if nd not in (4, 6, 8):
        raise SpecError(
            f"{op}: weight must have 2 + 2d dimensions {layout} for d = 1, 2 or 3 spatial "
            f"axes, got shape {tuple(shape)}"
        )
    return (nd - 2) // 2


def _layout(dims: int) -> str:
    return "(N, C, " + ", ".join("DHW"[3 - dims :]) + ")"


def _build(op: str, cls: type, **kw: Any) -> Any:
    try:
        return cls(**kw)
    except SpecError as err:
        raise SpecError(f"{op}: {err}") from None


def _spec(
    op: str,
    tiled_layer: bool,
    size: Sequence[int],
    weight_shape: Sequence[int],
    bias: bool,
    stride: IntOrTuple,
    padding: Any,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    flip: bool,
) -> LocallyConnected | Tiled:
    """The layer's spec for the full input shape `size` (N, C_in, *I); the weight checked."""
    layout = _TILED_LAYOUT if tiled_layer else _LC_LAYOUT
    dims = _dims(op, weight_shape, layout)
    if len(size) != dims + 2:
        raise SpecError(
            f"{op}: a weight of shape {tuple(weight_shape)} has {dims} spatial axes, so the "
            f"input must be {_layout(dims)}, got shape {tuple(size)}"
        )
    wshape = tuple(int(v) for v in weight_shape)
    common: dict[str, Any] = dict(
        dims=dims,
        in_channels=int(size[1]),
        out_channels=wshape[0],
        kernel_size=wshape[2 + dims :],
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        padding_mode=padding_mode,
        flip=flip,
    )
    if tiled_layer:
        spec = _build(op, Tiled, tiles=wshape[1 : 1 + dims], **common)
        spec.output_size(tuple(int(s) for s in size[2:]))  # validates the windows
    else:
        spec = _build(op, LocallyConnected, input_size=tuple(int(s) for s in size[2:]), **common)
    if wshape != spec.weight_shape:
        where = "" if tiled_layer else f" on input {spec.input_size}"
        raise SpecError(
            f"{op}: weight has shape {wshape}, expected {spec.weight_shape} = {layout} for "
            f"{spec}{where} (output size {spec.output_size(tuple(size[2:]))})"
        )
    return spec


def _check(op: str, name: str, a: Array, shape: Sequence[int]) -> None:
    if tuple(a.shape) != tuple(shape):
        raise SpecError(f"{op}: {name} has shape {tuple(a.shape)}, expected {tuple(shape)}")


def _bytes(spec: Any, size: Sequence[int], item: int) -> int:
    """Workspace per sample: padded input, the per-position columns (and their gradient), y."""
    padded = prod(i + lo + hi for i, (lo, hi) in zip(size, spec.pads, strict=True))
    out = prod(spec.output_size(tuple(size)))
    cols = out * prod(spec.kernel_size) * spec.in_channels
    return item * (2 * padded * spec.in_channels + 2 * cols + 2 * out * spec.out_channels)


def _args(spec: Any) -> tuple[Any, ...]:
    return spec.stride, spec.pads, spec.dilation, spec.groups, spec.padding_mode, spec.flip


def _forward(
    op: str, tiled_layer: bool, input: Array, weight: Array, bias: Array | None, *conf: Any
) -> Array:
    be = pick(op, input=input, weight=weight, bias=bias)
    if needs_grad(input, weight, bias):  # torch autograd: backward by the derived gradients
        return _autograd_local(op, tiled_layer, input, weight, bias, conf)
    spec = _spec(op, tiled_layer, tuple(input.shape), weight.shape, bias is not None, *conf)
    out = spec.output_size(tuple(input.shape[2:]))
    if bias is not None:
        want = (spec.out_channels,) if tiled_layer else (spec.out_channels, *out)
        _check(op, "bias", bias, want)
    chunk = chunk_for(_bytes(spec, input.shape[2:], itemsize(input)))
    fn = _kernels(be).tiled_forward if tiled_layer else _kernels(be).local_forward
    return be.run(fn, input, weight, bias, *_args(spec), chunk)


def _grad_input(
    op: str,
    tiled_layer: bool,
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    *conf: Any,
) -> Array:
    be = pick(op, weight=weight, grad_output=grad_output)
    size = shape_arg(op, "input_size", input_size)
    spec = _spec(op, tiled_layer, size, weight.shape, False, *conf)
    out = spec.output_size(size[2:])
    check_ndim(op, "grad_output", grad_output, spec.dims + 2, _layout(spec.dims))
    _check(op, "grad_output", grad_output, (size[0], spec.out_channels, *out))
    chunk = chunk_for(_bytes(spec, size[2:], itemsize(weight)))
    fn = _kernels(be).tiled_grad_input if tiled_layer else _kernels(be).local_grad_input
    return be.run(fn, grad_output, weight, size[2:], *_args(spec), chunk)


def _grad_weight(
    op: str,
    tiled_layer: bool,
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    *conf: Any,
) -> Array:
    be = pick(op, input=input, grad_output=grad_output)
    wsize = shape_arg(op, "weight_size", weight_size)
    spec = _spec(op, tiled_layer, tuple(input.shape), wsize, False, *conf)
    out = spec.output_size(tuple(input.shape[2:]))
    check_ndim(op, "grad_output", grad_output, spec.dims + 2, _layout(spec.dims))
    _check(op, "grad_output", grad_output, (input.shape[0], spec.out_channels, *out))
    chunk = chunk_for(_bytes(spec, input.shape[2:], itemsize(input)))
    mod = _kernels(be)
    if tiled_layer:
        return be.run(
            mod.tiled_grad_weight, input, grad_output,
            cast(Tiled, spec).tiles,  # tiled_layer: _spec built a Tiled
            spec.kernel_size,
            *_args(spec), chunk,
        )  # fmt: skip
    return be.run(mod.local_grad_weight, input, grad_output, spec.kernel_size, *_args(spec), chunk)


# -- locally connected ---------------------------------------------------------------------------
def locally_connected(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    flip: bool = False,
) -> Array:
    r"""Locally connected layer (unshared convolution), 1-3 spatial axes.

    `input` $(N, C_\mathrm{in}, *I)$, `weight` $(C_\mathrm{out}, *O, C_\mathrm{in}/G, *K)$ with
    $O$ the output size, `bias` $(C_\mathrm{out}, *O)$ (one bias per output too) or `None`.
    `stride`, `padding` (an int, a tuple, `"valid"`, `"same"` or `"full"`), `dilation`,
    `groups`, `padding_mode` (zeros, reflect, replicate, circular) and `flip` (true convolution)
    as in `numeric.conv2d`. Returns $(N, C_\mathrm{out}, *O)$.

    ```python
    >>> import numpy as np
    >>> x = np.ones((2, 3, 5, 5))
    >>> w = np.ones((4, 3, 3, 3, 3, 3))        # 4 filters, 3x3 outputs, 3 channels, 3x3 kernel
    >>> locally_connected(x, w).shape
    (2, 4, 3, 3)

    ```
    """
    return _forward(
        "locally_connected", False, input, weight, bias, stride, padding, dilation, groups,
        padding_mode, flip,
    )  # fmt: skip


def locally_connected_grad_input(
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    flip: bool = False,
) -> Array:
    r"""$\partial L/\partial x = \mathrm{Pad}^\top T^\top \delta$ of `locally_connected`.

    `input_size` is the input's full shape $(N, C_\mathrm{in}, *I)$, `grad_output`
    $\delta = \partial L/\partial y$.

    ```python
    >>> import numpy as np
    >>> w = np.ones((1, 3, 1, 3))
    >>> locally_connected_grad_input((1, 1, 5), w, np.ones((1, 1, 3)))
    array([[[1., 2., 3., 2., 1.]]])

    ```
    """
    return _grad_input(
        "locally_connected_grad_input", False, input_size, weight, grad_output, stride,
        padding, dilation, groups, padding_mode, flip,
    )  # fmt: skip


def locally_connected_grad_weight(
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    flip: bool = False,
) -> Array:
    r"""$\partial L/\partial w[k, o, c, a] = \sum_n \delta[n, k, o]\, \tilde x[n, c', S o + D a]$
    of `locally_connected`: one product per weight and sample, no sum over positions
    (`symconv.local_params.local_backprop`). `weight_size` is the weight's shape.

    ```python
    >>> import numpy as np
    >>> x = np.arange(5.0).reshape(1, 1, 5)
    >>> locally_connected_grad_weight(x, (1, 3, 1, 3), np.ones((1, 1, 3)))[0, :, 0]
    array([[0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])

    ```
    """
    return _grad_weight(
        "locally_connected_grad_weight", False, input, weight_size, grad_output, stride,
        padding, dilation, groups, padding_mode, flip,
    )  # fmt: skip


def locally_connected_grad_bias(grad_output: Array) -> Array:
    r"""$\partial L/\partial b[k, o] = \sum_n \delta[n, k, o]$: shape $(C_\mathrm{out}, *O)$.

    ```python
    >>> import numpy as np
    >>> locally_connected_grad_bias(np.ones((4, 2, 3))).shape
    (2, 3)

    ```
    """
    op = "locally_connected_grad_bias"
    be = pick(op, grad_output=grad_output)
    if grad_output.ndim not in (3, 4, 5):
        raise SpecError(
            f"{op}: grad_output must be (N, C_out, *spatial) with 1-3 spatial axes, got shape "
            f"{tuple(grad_output.shape)}"
        )
    return be.run(_kernels(be).local_grad_bias, grad_output)


# -- tiled ----------------------------------------------------------------------------------------
def tiled(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    flip: bool = False,
) -> Array:
    r"""Tiled convolution: output position $o$ uses kernel $o \bmod t$ (per axis), 1-3 axes.

    `weight` $(C_\mathrm{out}, *t, C_\mathrm{in}/G, *K)$, the tiles $t$ read from its shape
    ($t = 1$: `numeric.conv2d`; $t$ = the output size: `locally_connected`); `bias`
    $(C_\mathrm{out},)$ or `None`; the other arguments as `locally_connected`.

    ```python
    >>> import numpy as np
    >>> x = np.ones((1, 1, 6))
    >>> w = np.stack([np.ones((1, 1, 2)), 2 * np.ones((1, 1, 2))], axis=1)   # t = 2 kernels
    >>> tiled(x, w)
    array([[[2., 4., 2., 4., 2.]]])

    ```
    """
    return _forward(
        "tiled", True, input, weight, bias, stride, padding, dilation, groups, padding_mode,
        flip,
    )  # fmt: skip


def tiled_grad_input(
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    flip: bool = False,
) -> Array:
    r"""$\partial L/\partial x$ of `tiled`; `input_size` is the input's full shape.

    ```python
    >>> import numpy as np
    >>> w = np.stack([np.ones((1, 1, 2)), 2 * np.ones((1, 1, 2))], axis=1)
    >>> tiled_grad_input((1, 1, 4), w, np.ones((1, 1, 3)))
    array([[[1., 3., 3., 1.]]])

    ```
    """
    return _grad_input(
        "tiled_grad_input", True, input_size, weight, grad_output, stride, padding, dilation,
        groups, padding_mode, flip,
    )  # fmt: skip


def tiled_grad_weight(
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: Any = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    *,
    padding_mode: str = "zeros",
    flip: bool = False,
) -> Array:
    r"""$\partial L/\partial w[k, \tau, c, a] = \sum_{n,\ o \bmod t = \tau} \delta[n, k, o]\,
    \tilde x[n, c', S o + D a]$ of `tiled`; `weight_size` is the weight's shape. The bias
    gradient is `numeric.conv_grad_bias`.

    ```python
    >>> import numpy as np
    >>> x = np.arange(4.0).reshape(1, 1, 4)
    >>> tiled_grad_weight(x, (1, 2, 1, 2), np.ones((1, 1, 3)))[0, :, 0]
    array([[2., 4.],
           [1., 2.]])

    ```
    """
    return _grad_weight(
        "tiled_grad_weight", True, input, weight_size, grad_output, stride, padding, dilation,
        groups, padding_mode, flip,
    )  # fmt: skip


# -- torch autograd (numeric._autograd): the backward pass runs the functions above --
@functools.cache
def _autograd_function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    class NumericLocal(torch.autograd.Function):
        """Locally connected / tiled layer; backward: numeric.local's derived gradients."""

        @staticmethod
        def forward(ctx: Any, x: Any, w: Any, b: Any, conf: tuple) -> Any:
            ctx.save_for_backward(x, w)
            ctx.conf, ctx.has_bias = conf, b is not None
            op, tiled, *layer = conf
            return _forward(op, tiled, x, w, b, *layer)

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, delta: Any) -> Any:
            x, w = ctx.saved_tensors
            op, tiled, *layer = ctx.conf
            d = delta.contiguous()
            dx = dw = db = None
            if ctx.needs_input_grad[0]:
                dx = _grad_input(f"{op} (backward)", tiled, x.shape, w, d, *layer)
            if ctx.needs_input_grad[1]:
                dw = _grad_weight(f"{op} (backward)", tiled, x, w.shape, d, *layer)
            if ctx.has_bias and ctx.needs_input_grad[2]:
                # locally connected: one bias per output position; tiled: per channel
                db = d.sum(dim=(0, *range(2, d.ndim))) if tiled else d.sum(dim=0)
            return dx, dw, db, None

    return NumericLocal


def _autograd_local(op: str, tiled: bool, x: Any, w: Any, b: Any, layer: tuple) -> Any:
    """`numeric.local`'s forward through autograd (`layer`: stride, padding, dilation, groups,
    padding_mode, flip)."""
    return _autograd_function().apply(x, w, b, (op, tiled, *layer))
