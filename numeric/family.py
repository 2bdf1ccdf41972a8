r"""The rest of `torch.nn.functional`'s convolution family, derived from the index forms.

Same signatures, defaults and semantics as torch, on NumPy arrays and torch tensors (torch
autograd runs through them on tensors that require a gradient); all are re-exported by
`numeric` (`numeric.pad`, `numeric.unfold`, ...).

- `pad`: $\tilde x[j] = x[\varphi(j - P_\mathrm{lo})]$ with the padding map $\varphi$ of the
  index form (`symconv._indexmap.phi`): constant, reflect, replicate, circular (torch crops a
  negative circular pad first, then wraps what is left);
- `unfold` / `fold`: the patch (im2col) matrix and its adjoint
  (`symconv.family.unfold_fold_derivation`);
- `adaptive_avg_pool{1,2,3}d`, `adaptive_max_pool{1,2,3}d`: window $o$ is
  $[\lfloor oI/O \rfloor, \lceil (o+1)I/O \rceil)$ (`symconv.family.adaptive_window_derivation`);
- `max_unpool{1,2,3}d`: each value scattered to its index, output $(i-1)s - 2p + k$;
- `conv_transpose{1,2,3}d_grad_input` / `_grad_weight`: the transposed convolution's
  gradients, which are convolutions (`numeric.conv*d` and `conv*d_grad_weight`).

float16 (NumPy and torch) and bfloat16 (torch) inputs of the functions that add numbers
(`fold`, `adaptive_avg_pool*d`, the transposed convolution's gradients, as numeric's
convolutions and pooling) run in float32 and return their own dtype; `pad`, `unfold`,
`adaptive_max_pool*d` and `max_unpool*d` only move values and run in the input's dtype.

```python
>>> import numpy as np, numeric as nm
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> nm.pad(x, (1, 1, 1, 1), mode="reflect")[0, 0, 0]
array([5., 4., 5., 6., 7., 6.])
>>> cols = nm.unfold(x, 2, stride=2)             # (N, C * 2 * 2, 4 blocks)
>>> bool((nm.fold(cols, (4, 4), 2, stride=2) == x).all())
True
>>> nm.adaptive_avg_pool2d(x, 2)[0, 0]
array([[ 2.5,  4.5],
       [10.5, 12.5]])

```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import _FAMILY, _adaptive, _ops, _pad
from ._half import half_precision

Array = Any
IntOrTuple = int | Sequence[int]

__all__ = list(_FAMILY)  # the names numeric re-exports, listed once (numeric/__init__.py)

_fold = half_precision(_pad.fold)
_adaptive_avg = half_precision(_adaptive.adaptive_avg_pool)


def pad(
    input: Array, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Array:
    r"""Pad `input` as `torch.nn.functional.pad`: `pad` holds (lo, hi) pairs, the last axis
    first; a negative entry crops. `mode`: `"constant"` (`value`, default 0, any number of
    axes), `"reflect"` (mirror without repeating the edge; each pad below the axis' length),
    `"replicate"` (repeat the edge) or `"circular"` (wrap around; at most the length) on the
    last 1-3 axes of a (C, \*spatial) or (N, C, \*spatial) input.

    Position $j$ of the padded axis reads $x[\varphi(j - P_\mathrm{lo})]$, $\varphi$ the mode's
    padding map of the index form (the map `numeric.conv*d(padding_mode=...)` pads with).

    ```python
    >>> import numpy as np, numeric as nm
    >>> nm.pad(np.arange(4.0), (2, 1), value=-1.0)
    array([-1., -1.,  0.,  1.,  2.,  3., -1.])
    >>> nm.pad(np.arange(4.0)[None], (2, 2), mode="circular")
    array([[2., 3., 0., 1., 2., 3., 0., 1.]])

    ```
    """
    return _pad.pad("pad", input, pad, mode, value)


def unfold(
    input: Array,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    stride: IntOrTuple = 1,
) -> Array:
    r"""The sliding blocks of a (N, C, H, W) (or (C, H, W)) input as `torch.nn.functional.unfold`:
    (N, C $\cdot k_1 k_2$, L), entry $[n, (c, a_1, a_2), (o_1, o_2)] = \tilde x[n, c,
    S_1 o_1 + D_1 a_1, S_2 o_2 + D_2 a_2]$ ($\tilde x$ zero-padded), L the number of blocks.

    This is the patch (im2col) matrix $X$ of `symconv.patch_matrix` with the channel moved into
    the rows: a convolution is `w.reshape(C_out, -1) @ unfold(x)`.
    """
    return _pad.unfold("unfold", input, kernel_size, dilation, padding, stride)


def fold(
    input: Array,
    output_size: IntOrTuple,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    stride: IntOrTuple = 1,
) -> Array:
    r"""Sum sliding blocks back into an (N, C, \*output_size) array, as
    `torch.nn.functional.fold`: the adjoint of `unfold` with the same arguments
    ($\langle \mathrm{unfold}(x), y \rangle = \langle x, \mathrm{fold}(y) \rangle$; overlapping
    blocks add up). `input` is (N, C $\cdot k_1 k_2$, L) or (C $\cdot k_1 k_2$, L).
    """
    return _fold("fold", input, output_size, kernel_size, dilation, padding, stride)


# -- adaptive pooling -----------------------------------------------------------------------
def adaptive_avg_pool1d(input: Array, output_size: IntOrTuple) -> Array:
    r"""`torch.nn.functional.adaptive_avg_pool1d`: output $o$ is the mean of
    $x[\lfloor oI/O \rfloor : \lceil (o+1)I/O \rceil]$."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Array, output_size: Any) -> Array:
    r"""`torch.nn.functional.adaptive_avg_pool2d`: per axis, output $o$ averages
    $[\lfloor oI/O \rfloor, \lceil (o+1)I/O \rceil)$; `output_size` an int or a pair (`None`
    keeps that axis' size)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Array, output_size: Any) -> Array:
    """`torch.nn.functional.adaptive_avg_pool3d` (windows as `adaptive_avg_pool2d`)."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input: Array, output_size: IntOrTuple, return_indices: bool = False) -> Any:
    r"""`torch.nn.functional.adaptive_max_pool1d`: the maximum of
    $x[\lfloor oI/O \rfloor : \lceil (o+1)I/O \rceil]$; with `return_indices` also the input
    index of each window's first maximum."""
    return _adaptive.adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Array, output_size: Any, return_indices: bool = False) -> Any:
    """`torch.nn.functional.adaptive_max_pool2d`; indices are flat over the spatial axes.

    ```python
    >>> import numpy as np, numeric as nm
    >>> y, idx = nm.adaptive_max_pool2d(np.arange(9.0).reshape(1, 1, 3, 3), 2, True)
    >>> y[0, 0].tolist(), idx[0, 0].tolist()
    ([[4.0, 5.0], [7.0, 8.0]], [[4, 5], [7, 8]])

    ```
    """
    return _adaptive.adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Array, output_size: Any, return_indices: bool = False) -> Any:
    """`torch.nn.functional.adaptive_max_pool3d` (as `adaptive_max_pool2d`)."""
    return _adaptive.adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)


# -- max unpooling --------------------------------------------------------------------------
def max_unpool1d(
    input: Array,
    indices: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    output_size: Sequence[int] | None = None,
) -> Array:
    r"""`torch.nn.functional.max_unpool1d`: zeros of length $(i-1)s - 2p + k$ (or
    `output_size`, within one stride of it) with each value at its index (from
    `max_pool1d(..., return_indices=True)`)."""
    return _adaptive.max_unpool(
        "max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size
    )


def max_unpool2d(
    input: Array,
    indices: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    output_size: Sequence[int] | None = None,
) -> Array:
    """`torch.nn.functional.max_unpool2d`: the inverse of `max_pool2d` on its maxima.

    ```python
    >>> import numpy as np, numeric as nm
    >>> y, idx = nm.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> nm.max_unpool2d(y, idx, 2)[0, 0]
    array([[ 0.,  0.,  0.,  0.],
           [ 0.,  5.,  0.,  7.],
           [ 0.,  0.,  0.,  0.],
           [ 0., 13.,  0., 15.]])

    ```
    """
    return _adaptive.max_unpool(
        "max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size
    )


def max_unpool3d(
    input: Array,
    indices: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    output_size: Sequence[int] | None = None,
) -> Array:
    """`torch.nn.functional.max_unpool3d` (as `max_unpool2d`)."""
    return _adaptive.max_unpool(
        "max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size
    )


# -- gradients of the transposed convolution --------------------------------------------------
def conv_transpose1d_grad_input(
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Array:
    r"""dL/dx of `conv_transpose1d`: $y = T^\top x$ gives $\partial L/\partial x = T\delta$,
    `conv1d(grad_output, weight, stride, padding, dilation, groups)` cropped to `input_size`
    (the input's full shape)."""
    return _ops.conv_transpose_grad_input(
        1, "conv_transpose1d_grad_input", input_size, weight, grad_output, stride, padding,
        output_padding, groups, dilation,
    )  # fmt: skip


def conv_transpose1d_grad_weight(
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Array:
    r"""dL/dw of `conv_transpose1d`: the weight gradient of the convolution $T$ with input
    $\delta$ and upstream gradient $x$, `conv1d_grad_weight(grad_output, weight_size, input,
    ...)` (`weight_size`: (C_in, C_out/groups, k))."""
    return _ops.conv_transpose_grad_weight(
        1, "conv_transpose1d_grad_weight", input, weight_size, grad_output, stride, padding,
        output_padding, groups, dilation,
    )  # fmt: skip


def conv_transpose2d_grad_input(
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Array:
    r"""dL/dx of `conv_transpose2d` (see `conv_transpose1d_grad_input`).

    ```python
    >>> import numpy as np, numeric as nm
    >>> w, delta = np.ones((1, 1, 3, 3)), np.ones((1, 1, 8, 8))
    >>> nm.conv_transpose2d_grad_input((1, 1, 4, 4), w, delta, stride=2, padding=1,
    ...                                output_padding=1)[0, 0, 0]
    array([4., 6., 6., 6.])

    ```
    """
    return _ops.conv_transpose_grad_input(
        2, "conv_transpose2d_grad_input", input_size, weight, grad_output, stride, padding,
        output_padding, groups, dilation,
    )  # fmt: skip


def conv_transpose2d_grad_weight(
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Array:
    """dL/dw of `conv_transpose2d` (see `conv_transpose1d_grad_weight`)."""
    return _ops.conv_transpose_grad_weight(
        2, "conv_transpose2d_grad_weight", input, weight_size, grad_output, stride, padding,
        output_padding, groups, dilation,
    )  # fmt: skip


def conv_transpose3d_grad_input(
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Array:
    """dL/dx of `conv_transpose3d` (see `conv_transpose1d_grad_input`)."""
    return _ops.conv_transpose_grad_input(
        3, "conv_transpose3d_grad_input", input_size, weight, grad_output, stride, padding,
        output_padding, groups, dilation,
    )  # fmt: skip


def conv_transpose3d_grad_weight(
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Array:
    """dL/dw of `conv_transpose3d` (see `conv_transpose1d_grad_weight`)."""
    return _ops.conv_transpose_grad_weight(
        3, "conv_transpose3d_grad_weight", input, weight_size, grad_output, stride, padding,
        output_padding, groups, dilation,
    )  # fmt: skip
