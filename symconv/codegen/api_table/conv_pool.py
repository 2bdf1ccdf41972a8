"""The rows of the convolutions (`conv1d` ... `conv3d`, their gradients and transposes) and
of the pooling functions, per spatial dims, with their docstrings' examples."""

from __future__ import annotations

from .params import (
    _AXES,
    _CONV_ARGS,
    _CONV_TAIL,
    _TRANSPOSE_TAIL,
    Row,
    _avg_pool_params,
    _call,
    _keywords,
    _lp_pool_params,
    _max_pool_params,
    _p,
    _req,
)
from .rules import (
    _forward_algorithms,
    _gradient_algorithms,
)

# -- docstrings: per-dims examples and notes ------------------------------------------------------
_EXAMPLES: dict[str, str] = {
    "conv1d": """
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
""",
    "conv2d": """
```python
>>> import numpy as np, numeric as nm
>>> nm.conv2d(np.zeros((8, 3, 32, 32)), np.zeros((10, 3, 5, 5)), padding=2).shape
(8, 10, 32, 32)

```
""",
    "conv_transpose2d": """
```python
>>> import numpy as np, numeric as nm
>>> nm.conv_transpose2d(np.zeros((1, 4, 4, 4)), np.zeros((4, 2, 3, 3)), stride=2,
...                     padding=1, output_padding=1).shape
(1, 2, 8, 8)

```
""",
    "conv2d_grad_input": """
```python
>>> import numpy as np, numeric as nm
>>> w, delta = np.ones((2, 1, 3, 3)), np.ones((1, 2, 2, 2))
>>> nm.conv2d_grad_input((1, 1, 4, 4), w, delta)[0, 0]
array([[2., 4., 4., 2.],
       [4., 8., 8., 4.],
       [4., 8., 8., 4.],
       [2., 4., 4., 2.]])

```
""",
    "conv2d_grad_weight": """
```python
>>> import numpy as np, numeric as nm
>>> nm.conv2d_grad_weight(np.ones((1, 1, 4, 4)), (2, 1, 3, 3), np.ones((1, 2, 2, 2)))[0, 0]
array([[4., 4., 4.],
       [4., 4., 4.],
       [4., 4., 4.]])

```
""",
    "max_pool2d": """
```python
>>> import numpy as np, numeric as nm
>>> y, idx = nm.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
>>> y[0, 0].tolist(), idx[0, 0].tolist()
([[5.0, 7.0], [13.0, 15.0]], [[5, 7], [13, 15]])

```
""",
    "avg_pool2d": """
```python
>>> import numpy as np, numeric as nm
>>> nm.avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0, 0]
array([[ 2.5,  4.5],
       [10.5, 12.5]])

```
""",
    "lp_pool1d": r"""
```python
>>> import numpy as np, numeric as nm
>>> nm.lp_pool1d(np.arange(1.0, 6.0)[None, None], 2, 2, ceil_mode=True)[0, 0]
array([2.23606798, 5.        , 7.07106781])

```

The last window reads only 5: $\sqrt{2 \cdot 5^2} = 7.07$, not 5.
""",
    "lp_pool2d": """
```python
>>> import numpy as np, numeric as nm
>>> nm.lp_pool2d(np.full((1, 1, 2, 2), 3.0), 2, 2)[0, 0]
array([[6.]])

```
""",
    "max_pool2d_backward": """
```python
>>> import numpy as np, numeric as nm
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> nm.max_pool2d_backward(np.ones((1, 1, 2, 2)), x, 2)[0, 0]
array([[0., 0., 0., 0.],
       [0., 1., 0., 1.],
       [0., 0., 0., 0.],
       [0., 1., 0., 1.]])

```
""",
}


def _doc(name: str, first: str) -> str:
    """The docstring: the first paragraph (wrapped by the printer), then the row's example."""
    example = _EXAMPLES.get(name, "").strip("\n")
    return first + ("\n\n" + example if example else "")


def _conv_rows(d: int) -> list[Row]:
    conv, transpose = f"conv{d}d", f"conv_transpose{d}d"
    gi, gw = f"conv{d}d_grad_input", f"conv{d}d_grad_weight"
    forward = (
        f"{d}-d convolution, `torch.nn.functional.{conv}`'s signature: input (N, C_in, "
        f"{_AXES[d]}), weight (C_out, C_in/groups, *kernel), padding an int, a tuple, "
        '`"valid"`, `"same"` or `"full"`. symconv extras (keywords): `padding_mode` (zeros, '
        f"reflect, replicate, circular: as `nn.Conv{d}d`), `flip=True` (the true convolution) "
        f"and {_forward_algorithms(d)}"
    )
    transposed = (
        f"{d}-d transposed convolution, `torch.nn.functional.{transpose}`'s signature: weight "
        "(C_in, C_out/groups, *kernel); output size (i - 1)s - 2p + d(k - 1) + output_padding + 1."
    )
    grad_input = (
        f"dL/dx of `{conv}` (`torch.nn.grad.conv{d}d_input`): `input_size` is the input's full "
        "shape, `grad_output` dL/dy. Runs the derived operator `symconv.backprop.GradInput` "
        + _gradient_algorithms(d, "grad_input")
    )
    grad_weight = (
        f"dL/dw of `{conv}` (`torch.nn.grad.conv{d}d_weight`): `weight_size` is the weight's "
        "shape. Runs the derived operator `symconv.backprop.GradWeight` "
        + _gradient_algorithms(d, "grad_weight")
    )
    bias = _p("bias", "Array | None", None)
    transpose_args = ("stride", "padding", "output_padding", "groups", "dilation")
    return [
        Row(
            conv, d, (*_req("input weight"), bias, *_CONV_TAIL), "Array", _doc(conv, forward),
            _call("_ops.conv", str(d), f'"{conv}"', "input", "weight", "bias", *_CONV_ARGS),
            f"torch.nn.functional.{conv}",
        ),
        Row(
            transpose, d, (*_req("input weight"), bias, *_TRANSPOSE_TAIL), "Array",
            _doc(transpose, transposed),
            _call("_ops.conv_transpose", str(d), f'"{transpose}"', "input", "weight", "bias",
                  *transpose_args),
            f"torch.nn.functional.{transpose}",
        ),
        Row(
            gi, d, (*_req("input_size weight grad_output"), *_CONV_TAIL), "Array",
            _doc(gi, grad_input),
            _call("_ops.conv_grad_input", str(d), f'"{gi}"', "input_size", "weight",
                  "grad_output", *_CONV_ARGS),
            f"torch.nn.grad.conv{d}d_input",
        ),
        Row(
            gw, d, (*_req("input weight_size grad_output"), *_CONV_TAIL), "Array",
            _doc(gw, grad_weight),
            _call("_ops.conv_grad_weight", str(d), f'"{gw}"', "input", "weight_size",
                  "grad_output", *_CONV_ARGS),
            f"torch.nn.grad.conv{d}d_weight",
        ),
    ]  # fmt: skip


def _pool_rows(d: int) -> list[Row]:
    mx, avg, lp = f"max_pool{d}d", f"avg_pool{d}d", f"lp_pool{d}d"
    mxp, avgp, lpp = _max_pool_params(d), _avg_pool_params(d), _lp_pool_params()
    divisor = () if d > 1 else ("divisor_override=None",)
    clipped = (
        ". With `ceil_mode`, a last window clipped at the input's end has its sum scaled by "
        "(window size / inputs covered), as torch computes it (see `symconv.Pool`'s "
        "`norm_type`):"
        if d == 1
        else " (with `ceil_mode`, a window clipped at the input's end scaled to the full window "
        "as torch: see `lp_pool1d`)."
    )
    backward = "`grad_output` dL/dy, `input` the forward input"
    max_doc = (
        f"{d}-d max pooling, `torch.nn.functional.{mx}`'s signature; with `return_indices` also "
        "the flat input index (over the spatial axes) of each window's first maximum."
    )
    lp_doc = (
        f"{d}-d power-average pooling, `torch.nn.functional.{lp}`'s signature: the p-th root of "
        f"the window's sum of p-th powers{clipped}"
    )
    max_back = (
        f"dL/dx of `{mx}`: {backward}, then the forward's pooling arguments. `indices` (from "
        "`return_indices=True`) skips recomputing the argmax; ties go to the first maximum in "
        "the window (torch's rule)."
    )
    avg_back = (
        f"dL/dx of `{avg}`: {backward} (its shape is used), then the forward's pooling arguments."
    )
    lp_back = (
        f"dL/dx of `{lp}`: {backward}, then the forward's arguments (zero where a window's sum "
        "of powers is zero, as torch)."
    )
    lp_keywords = _keywords(lpp, ("norm_type",))
    return [
        Row(
            mx, d, (*_req("input"), *mxp, _p("return_indices", "bool", False)), "Any",
            _doc(mx, max_doc),
            _call("_ops.max_pool", str(d), f'"{mx}"', "input", "return_indices", *_keywords(mxp)),
            f"torch.nn.functional.{mx}",
        ),
        Row(
            avg, d, (*_req("input"), *avgp), "Array",
            _doc(avg, f"{d}-d average pooling, `torch.nn.functional.{avg}`'s signature."),
            _call("_ops.avg_pool", str(d), f'"{avg}"', "input", *_keywords(avgp), *divisor),
            f"torch.nn.functional.{avg}",
        ),
        Row(
            lp, d, (*_req("input"), *lpp), "Array", _doc(lp, lp_doc),
            _call("_ops.lp_pool", str(d), f'"{lp}"', "input", "norm_type", *lp_keywords),
            f"torch.nn.functional.{lp}",
        ),
        Row(
            f"{mx}_backward", d, (*_req("grad_output input"), *mxp,
                                  _p("indices", "Array | None", None)), "Array",
            _doc(f"{mx}_backward", max_back),
            _call("_ops.max_pool_backward", str(d), f'"{mx}_backward"', "grad_output", "input",
                  "indices", *_keywords(mxp)),
            None,
        ),
        Row(
            f"{avg}_backward", d, (*_req("grad_output input"), *avgp), "Array",
            _doc(f"{avg}_backward", avg_back),
            _call("_ops.avg_pool_backward", str(d), f'"{avg}_backward"', "grad_output", "input",
                  *_keywords(avgp), *divisor),
            None,
        ),
        Row(
            f"{lp}_backward", d, (*_req("grad_output input"), *lpp), "Array",
            _doc(f"{lp}_backward", lp_back),
            _call("_ops.lp_pool_backward", str(d), f'"{lp}_backward"', "grad_output", "input",
                  "norm_type", *lp_keywords),
            None,
        ),
    ]  # fmt: skip
