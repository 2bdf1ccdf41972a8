r"""numeric: symconv's generated kernels behind `torch.nn.functional`'s signatures.

The array type picks the backend: `numpy.ndarray` runs the generated NumPy kernels,
`torch.Tensor` the generated torch kernels on the tensor's device. float32 and float64, any
batch size (including 0); float16 arrays and float16 / bfloat16 tensors run in float32 and
come back in their own dtype (torch's CPU rule). torch is optional: `import numeric` needs
only NumPy.

```python
>>> import numpy as np
>>> import numeric as nm
>>> x = np.ones((1, 1, 4, 4))
>>> w = np.ones((2, 1, 3, 3))
>>> nm.conv2d(x, w, padding=1)[0, 0]
array([[4., 6., 6., 4.],
       [6., 9., 9., 6.],
       [6., 9., 9., 6.],
       [4., 6., 6., 4.]])

```

Every invalid argument raises `symconv.SpecError` (a `ValueError`) naming the operation and
what is wrong. Workspaces (padded copies, im2col) are chunked over the batch within
`set_workspace_limit(bytes)` (default 256 MB; `workspace_limit(bytes)` as a context manager).
NumPy kernels split the batch across `set_num_threads(n)` threads (default: the CPUs available).
On torch tensors that require a gradient the conv, transposed conv and pooling functions are
differentiable: their backward runs numeric's derived gradients (`conv*_grad_input`,
`conv*_grad_weight`, `conv_grad_bias`, `*_pool*d_backward`).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import _ops
from ._backend import get_workspace_limit, set_workspace_limit, workspace_limit
from ._parallel import get_num_threads, set_num_threads

if TYPE_CHECKING:  # pragma: no cover
    from . import algorithms as algorithms
    from . import grad
    from . import local as local
    from . import p4 as p4

Array = Any
IntOrTuple = int | Sequence[int]

__all__ = [
    "avg_pool1d",
    "avg_pool1d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "avg_pool3d",
    "avg_pool3d_backward",
    "conv1d",
    "conv1d_grad_input",
    "conv1d_grad_weight",
    "conv2d",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "conv3d",
    "conv3d_grad_input",
    "conv3d_grad_weight",
    "conv_grad_bias",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "get_num_threads",
    "get_workspace_limit",
    "grad",
    "lp_pool1d",
    "lp_pool1d_backward",
    "lp_pool2d",
    "lp_pool2d_backward",
    "lp_pool3d",
    "lp_pool3d_backward",
    "max_pool1d",
    "max_pool1d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool3d",
    "max_pool3d_backward",
    "set_num_threads",
    "set_workspace_limit",
    "workspace_limit",
]


def conv1d(
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
    algorithm: str = "auto",
) -> Array:
    """1-d convolution, `torch.nn.functional.conv1d`'s signature: input (N, C_in, L),
    weight (C_out, C_in/groups, *kernel), padding an int, a tuple, `"valid"`, `"same"` or
    `"full"`. symconv extras (keywords): `padding_mode` (zeros, reflect, replicate, circular: as
    `nn.Conv1d`), `flip=True` (the true convolution) and `algorithm`: `"auto"`, `"direct"`,
    `"shifted"` (stride 1) or `"fft"` (see `numeric.algorithms`); `"winograd"` and
    `"separable"` run 2-d layers only and raise `symconv.SpecError` here.

    `"same"` with an even kernel follows torch (the odd pixel of padding on the high side);
    NumPy's and SciPy's `"same"` put it on the low side, so their output is one position later:

    ```python
    >>> import numpy as np, numeric as nm
    >>> x, w = np.arange(6.0), np.array([1.0, 10.0, 100.0, 1000.0])
    >>> nm.conv1d(x[None, None], w[None, None], padding="same")[0, 0]
    array([2100., 3210., 4321., 5432.,  543.,   54.])
    >>> np.correlate(x, w, "same")
    array([1000., 2100., 3210., 4321., 5432.,  543.])
    >>> nm.conv1d(x[None, None], w[None, None], padding=((2, 1),), flip=True)[0, 0]
    array([1.000e+00, 1.200e+01, 1.230e+02, 1.234e+03, 2.345e+03, 3.450e+03])
    >>> bool((_ == np.convolve(x, w, "same")).all())  # numpy.convolve: flip=True, (2, 1)
    True

    ```
    """
    return _ops.conv(
        1, "conv1d", input, weight, bias, stride, padding, dilation, groups, padding_mode, flip,
        algorithm,
    )  # fmt: skip


def conv_transpose1d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Array:
    """1-d transposed convolution, `torch.nn.functional.conv_transpose1d`'s signature: weight
    (C_in, C_out/groups, *kernel); output size (i - 1)s - 2p + d(k - 1) + output_padding + 1.
    """
    return _ops.conv_transpose(
        1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def conv1d_grad_input(
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
    algorithm: str = "auto",
) -> Array:
    """dL/dx of `conv1d` (`torch.nn.grad.conv1d_input`): `input_size` is the input's full
    shape, `grad_output` dL/dy. Runs the derived operator `symconv.backprop.GradInput`
    (`algorithm="direct"`) or another algorithm: `"shifted"` (stride 1) or `"fft"`
    (`numeric.algorithms`; default `"auto"`). `"winograd"` and `"separable"` raise
    `symconv.SpecError` here (2-d only; separable runs the forward pass only).
    """
    return _ops.conv_grad_input(
        1, "conv1d_grad_input", input_size, weight, grad_output, stride, padding, dilation,
        groups, padding_mode, flip, algorithm,
    )  # fmt: skip


def conv1d_grad_weight(
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
    algorithm: str = "auto",
) -> Array:
    """dL/dw of `conv1d` (`torch.nn.grad.conv1d_weight`): `weight_size` is the weight's
    shape. Runs the derived operator `symconv.backprop.GradWeight`
    (`algorithm="direct"`) or another algorithm: `"shifted"` (stride 1) or `"fft"`
    (`numeric.algorithms`; default `"auto"`). `"winograd"` and `"separable"` raise
    `symconv.SpecError` here (2-d only; separable runs the forward pass only).
    """
    return _ops.conv_grad_weight(
        1, "conv1d_grad_weight", input, weight_size, grad_output, stride, padding, dilation,
        groups, padding_mode, flip, algorithm,
    )  # fmt: skip


def max_pool1d(
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """1-d max pooling, `torch.nn.functional.max_pool1d`'s signature; with `return_indices`
    also the flat input index (over the spatial axes) of each window's first maximum.
    """
    return _ops.max_pool(
        1, "max_pool1d", input, return_indices, kernel_size=kernel_size, stride=stride,
        padding=padding, dilation=dilation, ceil_mode=ceil_mode,
    )  # fmt: skip


def avg_pool1d(
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Array:
    """1-d average pooling, `torch.nn.functional.avg_pool1d`'s signature."""
    return _ops.avg_pool(
        1, "avg_pool1d", input, kernel_size=kernel_size, stride=stride, padding=padding,
        ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor_override=None,
    )  # fmt: skip


def lp_pool1d(
    input: Array,
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> Array:
    r"""1-d power-average pooling, `torch.nn.functional.lp_pool1d`'s signature: the
    p-th root of the window's sum of p-th powers. With `ceil_mode`, a last window clipped at
    the input's end has its sum scaled by (window size / inputs covered), as torch computes
    it (see `symconv.Pool`'s `norm_type`):

    ```python
    >>> import numpy as np, numeric as nm
    >>> nm.lp_pool1d(np.arange(1.0, 6.0)[None, None], 2, 2, ceil_mode=True)[0, 0]
    array([2.23606798, 5.        , 7.07106781])

    ```

    The last window reads only 5: $\sqrt{2 \cdot 5^2} = 7.07$, not 5.
    """
    return _ops.lp_pool(
        1, "lp_pool1d", input, norm_type, kernel_size=kernel_size, stride=stride,
        ceil_mode=ceil_mode,
    )  # fmt: skip


def max_pool1d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    indices: Array | None = None,
) -> Array:
    """dL/dx of `max_pool1d`: `grad_output` dL/dy, `input` the forward input, then the forward's
    pooling arguments. `indices` (from `return_indices=True`) skips recomputing the argmax;
    ties go to the first maximum in the window (torch's rule).
    """
    return _ops.max_pool_backward(
        1, "max_pool1d_backward", grad_output, input, indices, kernel_size=kernel_size,
        stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
    )  # fmt: skip


def avg_pool1d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Array:
    """dL/dx of `avg_pool1d`: `grad_output` dL/dy, `input` the forward input (its shape is
    used), then the forward's pooling arguments.
    """
    return _ops.avg_pool_backward(
        1, "avg_pool1d_backward", grad_output, input, kernel_size=kernel_size,
        stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, divisor_override=None,
    )  # fmt: skip


def lp_pool1d_backward(
    grad_output: Array,
    input: Array,
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> Array:
    """dL/dx of `lp_pool1d`: `grad_output` dL/dy, `input` the forward input, then the forward's
    arguments (zero where a window's sum of powers is zero, as torch).
    """
    return _ops.lp_pool_backward(
        1, "lp_pool1d_backward", grad_output, input, norm_type, kernel_size=kernel_size,
        stride=stride, ceil_mode=ceil_mode,
    )  # fmt: skip


def conv2d(
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
    algorithm: str = "auto",
) -> Array:
    """2-d convolution, `torch.nn.functional.conv2d`'s signature: input (N, C_in, H, W),
    weight (C_out, C_in/groups, *kernel), padding an int, a tuple, `"valid"`, `"same"` or
    `"full"`. symconv extras (keywords): `padding_mode` (zeros, reflect, replicate, circular: as
    `nn.Conv2d`), `flip=True` (the true convolution) and `algorithm`: `"auto"`, `"direct"`,
    `"winograd"` (3x3 kernel, stride 1), `"shifted"` (stride 1), `"fft"` or `"separable"`
    (needs a rank-1 kernel in every (out, in) channel slice, see
    `numeric.algorithms.rank_one_factors`; forward only: on torch tensors that require a
    gradient the backward runs `"auto"`); see `numeric.algorithms`. An algorithm that cannot
    run the layer raises `symconv.SpecError`; `"auto"` picks only among those that can.

    ```python
    >>> import numpy as np, numeric as nm
    >>> nm.conv2d(np.zeros((8, 3, 32, 32)), np.zeros((10, 3, 5, 5)), padding=2).shape
    (8, 10, 32, 32)

    ```
    """
    return _ops.conv(
        2, "conv2d", input, weight, bias, stride, padding, dilation, groups, padding_mode, flip,
        algorithm,
    )  # fmt: skip


def conv_transpose2d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Array:
    """2-d transposed convolution, `torch.nn.functional.conv_transpose2d`'s signature: weight
    (C_in, C_out/groups, *kernel); output size (i - 1)s - 2p + d(k - 1) + output_padding + 1.

    ```python
    >>> import numpy as np, numeric as nm
    >>> nm.conv_transpose2d(np.zeros((1, 4, 4, 4)), np.zeros((4, 2, 3, 3)), stride=2,
    ...                     padding=1, output_padding=1).shape
    (1, 2, 8, 8)

    ```
    """
    return _ops.conv_transpose(
        2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def conv2d_grad_input(
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
    algorithm: str = "auto",
) -> Array:
    """dL/dx of `conv2d` (`torch.nn.grad.conv2d_input`): `input_size` is the input's full
    shape, `grad_output` dL/dy. Runs the derived operator `symconv.backprop.GradInput`
    (`algorithm="direct"`) or another algorithm: `"winograd"` (3x3 kernel, stride 1),
    `"shifted"` (stride 1) or `"fft"` (`numeric.algorithms`; default `"auto"`). `"separable"`
    runs the forward pass only and raises `symconv.SpecError` here.

    ```python
    >>> import numpy as np, numeric as nm
    >>> w, delta = np.ones((2, 1, 3, 3)), np.ones((1, 2, 2, 2))
    >>> nm.conv2d_grad_input((1, 1, 4, 4), w, delta)[0, 0]
    array([[2., 4., 4., 2.],
           [4., 8., 8., 4.],
           [4., 8., 8., 4.],
           [2., 4., 4., 2.]])

    ```
    """
    return _ops.conv_grad_input(
        2, "conv2d_grad_input", input_size, weight, grad_output, stride, padding, dilation,
        groups, padding_mode, flip, algorithm,
    )  # fmt: skip


def conv2d_grad_weight(
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
    algorithm: str = "auto",
) -> Array:
    """dL/dw of `conv2d` (`torch.nn.grad.conv2d_weight`): `weight_size` is the weight's
    shape. Runs the derived operator `symconv.backprop.GradWeight`
    (`algorithm="direct"`) or another algorithm: `"winograd"` (3x3 kernel, stride 1),
    `"shifted"` (stride 1) or `"fft"` (`numeric.algorithms`; default `"auto"`). `"separable"`
    runs the forward pass only and raises `symconv.SpecError` here.

    ```python
    >>> import numpy as np, numeric as nm
    >>> nm.conv2d_grad_weight(np.ones((1, 1, 4, 4)), (2, 1, 3, 3), np.ones((1, 2, 2, 2)))[0, 0]
    array([[4., 4., 4.],
           [4., 4., 4.],
           [4., 4., 4.]])

    ```
    """
    return _ops.conv_grad_weight(
        2, "conv2d_grad_weight", input, weight_size, grad_output, stride, padding, dilation,
        groups, padding_mode, flip, algorithm,
    )  # fmt: skip


def max_pool2d(
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """2-d max pooling, `torch.nn.functional.max_pool2d`'s signature; with `return_indices`
    also the flat input index (over the spatial axes) of each window's first maximum.

    ```python
    >>> import numpy as np, numeric as nm
    >>> y, idx = nm.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> y[0, 0].tolist(), idx[0, 0].tolist()
    ([[5.0, 7.0], [13.0, 15.0]], [[5, 7], [13, 15]])

    ```
    """
    return _ops.max_pool(
        2, "max_pool2d", input, return_indices, kernel_size=kernel_size, stride=stride,
        padding=padding, dilation=dilation, ceil_mode=ceil_mode,
    )  # fmt: skip


def avg_pool2d(
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """2-d average pooling, `torch.nn.functional.avg_pool2d`'s signature.

    ```python
    >>> import numpy as np, numeric as nm
    >>> nm.avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])

    ```
    """
    return _ops.avg_pool(
        2, "avg_pool2d", input, kernel_size=kernel_size, stride=stride, padding=padding,
        ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor_override=divisor_override,
    )  # fmt: skip


def lp_pool2d(
    input: Array,
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> Array:
    """2-d power-average pooling, `torch.nn.functional.lp_pool2d`'s signature: the
    p-th root of the window's sum of p-th powers (with `ceil_mode`, a window clipped at the
    input's end scaled to the full window as torch: see `lp_pool1d`).

    ```python
    >>> import numpy as np, numeric as nm
    >>> nm.lp_pool2d(np.full((1, 1, 2, 2), 3.0), 2, 2)[0, 0]
    array([[6.]])

    ```
    """
    return _ops.lp_pool(
        2, "lp_pool2d", input, norm_type, kernel_size=kernel_size, stride=stride,
        ceil_mode=ceil_mode,
    )  # fmt: skip


def max_pool2d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    indices: Array | None = None,
) -> Array:
    """dL/dx of `max_pool2d`: `grad_output` dL/dy, `input` the forward input, then the forward's
    pooling arguments. `indices` (from `return_indices=True`) skips recomputing the argmax;
    ties go to the first maximum in the window (torch's rule).

    ```python
    >>> import numpy as np, numeric as nm
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> nm.max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2)[0, 0]
    array([[0., 0., 0., 0.],
           [0., 1., 0., 1.],
           [0., 0., 0., 0.],
           [0., 1., 0., 1.]])

    ```
    """
    return _ops.max_pool_backward(
        2, "max_pool2d_backward", grad_output, input, indices, kernel_size=kernel_size,
        stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
    )  # fmt: skip


def avg_pool2d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """dL/dx of `avg_pool2d`: `grad_output` dL/dy, `input` the forward input (its shape is
    used), then the forward's pooling arguments.
    """
    return _ops.avg_pool_backward(
        2, "avg_pool2d_backward", grad_output, input, kernel_size=kernel_size,
        stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, divisor_override=divisor_override,
    )  # fmt: skip


def lp_pool2d_backward(
    grad_output: Array,
    input: Array,
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> Array:
    """dL/dx of `lp_pool2d`: `grad_output` dL/dy, `input` the forward input, then the forward's
    arguments (zero where a window's sum of powers is zero, as torch).
    """
    return _ops.lp_pool_backward(
        2, "lp_pool2d_backward", grad_output, input, norm_type, kernel_size=kernel_size,
        stride=stride, ceil_mode=ceil_mode,
    )  # fmt: skip


def conv3d(
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
    algorithm: str = "auto",
) -> Array:
    """3-d convolution, `torch.nn.functional.conv3d`'s signature: input (N, C_in, D, H, W),
    weight (C_out, C_in/groups, *kernel), padding an int, a tuple, `"valid"`, `"same"` or
    `"full"`. symconv extras (keywords): `padding_mode` (zeros, reflect, replicate, circular: as
    `nn.Conv3d`), `flip=True` (the true convolution) and `algorithm`: `"auto"`, `"direct"`,
    `"shifted"` (stride 1) or `"fft"` (see `numeric.algorithms`); `"winograd"` and
    `"separable"` run 2-d layers only and raise `symconv.SpecError` here.
    """
    return _ops.conv(
        3, "conv3d", input, weight, bias, stride, padding, dilation, groups, padding_mode, flip,
        algorithm,
    )  # fmt: skip


def conv_transpose3d(
    input: Array,
    weight: Array,
    bias: Array | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Array:
    """3-d transposed convolution, `torch.nn.functional.conv_transpose3d`'s signature: weight
    (C_in, C_out/groups, *kernel); output size (i - 1)s - 2p + d(k - 1) + output_padding + 1.
    """
    return _ops.conv_transpose(
        3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def conv3d_grad_input(
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
    algorithm: str = "auto",
) -> Array:
    """dL/dx of `conv3d` (`torch.nn.grad.conv3d_input`): `input_size` is the input's full
    shape, `grad_output` dL/dy. Runs the derived operator `symconv.backprop.GradInput`
    (`algorithm="direct"`) or another algorithm: `"shifted"` (stride 1) or `"fft"`
    (`numeric.algorithms`; default `"auto"`). `"winograd"` and `"separable"` raise
    `symconv.SpecError` here (2-d only; separable runs the forward pass only).
    """
    return _ops.conv_grad_input(
        3, "conv3d_grad_input", input_size, weight, grad_output, stride, padding, dilation,
        groups, padding_mode, flip, algorithm,
    )  # fmt: skip


def conv3d_grad_weight(
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
    algorithm: str = "auto",
) -> Array:
    """dL/dw of `conv3d` (`torch.nn.grad.conv3d_weight`): `weight_size` is the weight's
    shape. Runs the derived operator `symconv.backprop.GradWeight`
    (`algorithm="direct"`) or another algorithm: `"shifted"` (stride 1) or `"fft"`
    (`numeric.algorithms`; default `"auto"`). `"winograd"` and `"separable"` raise
    `symconv.SpecError` here (2-d only; separable runs the forward pass only).
    """
    return _ops.conv_grad_weight(
        3, "conv3d_grad_weight", input, weight_size, grad_output, stride, padding, dilation,
        groups, padding_mode, flip, algorithm,
    )  # fmt: skip


def max_pool3d(
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """3-d max pooling, `torch.nn.functional.max_pool3d`'s signature; with `return_indices`
    also the flat input index (over the spatial axes) of each window's first maximum.
    """
    return _ops.max_pool(
        3, "max_pool3d", input, return_indices, kernel_size=kernel_size, stride=stride,
        padding=padding, dilation=dilation, ceil_mode=ceil_mode,
    )  # fmt: skip


def avg_pool3d(
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """3-d average pooling, `torch.nn.functional.avg_pool3d`'s signature."""
    return _ops.avg_pool(
        3, "avg_pool3d", input, kernel_size=kernel_size, stride=stride, padding=padding,
        ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor_override=divisor_override,
    )  # fmt: skip


def lp_pool3d(
    input: Array,
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> Array:
    """3-d power-average pooling, `torch.nn.functional.lp_pool3d`'s signature: the
    p-th root of the window's sum of p-th powers (with `ceil_mode`, a window clipped at the
    input's end scaled to the full window as torch: see `lp_pool1d`).
    """
    return _ops.lp_pool(
        3, "lp_pool3d", input, norm_type, kernel_size=kernel_size, stride=stride,
        ceil_mode=ceil_mode,
    )  # fmt: skip


def max_pool3d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    indices: Array | None = None,
) -> Array:
    """dL/dx of `max_pool3d`: `grad_output` dL/dy, `input` the forward input, then the forward's
    pooling arguments. `indices` (from `return_indices=True`) skips recomputing the argmax;
    ties go to the first maximum in the window (torch's rule).
    """
    return _ops.max_pool_backward(
        3, "max_pool3d_backward", grad_output, input, indices, kernel_size=kernel_size,
        stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
    )  # fmt: skip


def avg_pool3d_backward(
    grad_output: Array,
    input: Array,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Array:
    """dL/dx of `avg_pool3d`: `grad_output` dL/dy, `input` the forward input (its shape is
    used), then the forward's pooling arguments.
    """
    return _ops.avg_pool_backward(
        3, "avg_pool3d_backward", grad_output, input, kernel_size=kernel_size,
        stride=stride, padding=padding, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, divisor_override=divisor_override,
    )  # fmt: skip


def lp_pool3d_backward(
    grad_output: Array,
    input: Array,
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> Array:
    """dL/dx of `lp_pool3d`: `grad_output` dL/dy, `input` the forward input, then the forward's
    arguments (zero where a window's sum of powers is zero, as torch).
    """
    return _ops.lp_pool_backward(
        3, "lp_pool3d_backward", grad_output, input, norm_type, kernel_size=kernel_size,
        stride=stride, ceil_mode=ceil_mode,
    )  # fmt: skip


def conv_grad_bias(grad_output: Array) -> Array:
    """dL/db of any `conv*d`: the sum of `grad_output` over the batch and the spatial axes."""
    return _ops.conv_grad_bias("conv_grad_bias", grad_output)


# Submodules load on first use (`numeric.algorithms` needs SymPy for its cost model): `import
# numeric` loads neither SymPy, SciPy nor torch.
_SUBMODULES = {
    "algorithms": "Winograd, FFT, separable; the cost model behind 'auto'",
    "family": "pad, unfold/fold, adaptive pooling, unpooling, conv_transpose gradients",
    "grad": "torch.nn.grad-style aliases of the functions above",
    "local": "locally connected and tiled layers",
    "p4": "p4 lifting and group convolution",
}


def __getattr__(name: str) -> Any:
    if name in _FAMILY:
        value = getattr(importlib.import_module(".family", __name__), name)
        globals()[name] = value
        return value
    if name not in _SUBMODULES:
        raise AttributeError(f"module 'numeric' has no attribute {name!r}")
    return importlib.import_module(f".{name}", __name__)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})


# the rest of torch.nn.functional's convolution family, loaded on first use from numeric.family
# (whose __all__ is this list)
_FAMILY = (
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "conv_transpose1d_grad_input",
    "conv_transpose1d_grad_weight",
    "conv_transpose2d_grad_input",
    "conv_transpose2d_grad_weight",
    "conv_transpose3d_grad_input",
    "conv_transpose3d_grad_weight",
    "fold",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "pad",
    "unfold",
)
__all__ += _FAMILY
