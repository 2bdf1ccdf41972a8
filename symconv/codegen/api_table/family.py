"""The rows of `numeric.family`: pad, unfold/fold, adaptive pooling, unpooling and the
transposed convolution's gradients, with their docstrings and the `PRELUDE` the printed module
defines first."""

from __future__ import annotations

from typing import Any

from .params import (
    _KERNEL,
    _TRANSPOSE_TAIL,
    Param,
    Row,
    _call,
    _p,
    _req,
)

# -- numeric.family: pad, unfold/fold, adaptive pooling, unpooling, conv_transpose gradients ----
# the implementations the family's rows call that the printed module defines first
PRELUDE = (
    "_fold = half_precision(_pad.fold)",
    "_adaptive_avg = half_precision(_adaptive.adaptive_avg_pool)",
)
_FAMILY_DOCS: dict[str, str] = {
    "pad": r"""Pad `input` as `torch.nn.functional.pad`: `pad` holds (lo, hi) pairs, the last axis
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
""",
    "unfold": r"""The sliding blocks of a (N, C, H, W) (or (C, H, W)) input as
`torch.nn.functional.unfold`:
(N, C $\cdot k_1 k_2$, L), entry $[n, (c, a_1, a_2), (o_1, o_2)] = \tilde x[n, c,
S_1 o_1 + D_1 a_1, S_2 o_2 + D_2 a_2]$ ($\tilde x$ zero-padded), L the number of blocks.

This is the patch (im2col) matrix $X$ of `symconv.patch_matrix` with the channel moved into
the rows: a convolution is `w.reshape(C_out, -1) @ unfold(x)`.
""",
    "fold": r"""Sum sliding blocks back into an (N, C, \*output_size) array, as
`torch.nn.functional.fold`: the adjoint of `unfold` with the same arguments
($\langle \mathrm{unfold}(x), y \rangle = \langle x, \mathrm{fold}(y) \rangle$; overlapping
blocks add up). `input` is (N, C $\cdot k_1 k_2$, L) or (C $\cdot k_1 k_2$, L).
""",
    "adaptive_avg_pool1d": r"""`torch.nn.functional.adaptive_avg_pool1d`: output $o$ is the mean of
$x[\lfloor oI/O \rfloor : \lceil (o+1)I/O \rceil]$.""",
    "adaptive_avg_pool2d": r"""`torch.nn.functional.adaptive_avg_pool2d`: per axis, output $o$
averages
$[\lfloor oI/O \rfloor, \lceil (o+1)I/O \rceil)$; `output_size` an int or a pair (`None`
keeps that axis' size).""",
    "adaptive_avg_pool3d": """`torch.nn.functional.adaptive_avg_pool3d` (windows as
`adaptive_avg_pool2d`).""",
    "adaptive_max_pool1d": r"""`torch.nn.functional.adaptive_max_pool1d`: the maximum of
$x[\lfloor oI/O \rfloor : \lceil (o+1)I/O \rceil]$; with `return_indices` also the input
index of each window's first maximum.""",
    "adaptive_max_pool2d": """`torch.nn.functional.adaptive_max_pool2d`; indices are flat over
the spatial axes.

```python
>>> import numpy as np, numeric as nm
>>> y, idx = nm.adaptive_max_pool2d(np.arange(9.0).reshape(1, 1, 3, 3), 2, True)
>>> y[0, 0].tolist(), idx[0, 0].tolist()
([[4.0, 5.0], [7.0, 8.0]], [[4, 5], [7, 8]])

```
""",
    "adaptive_max_pool3d": """`torch.nn.functional.adaptive_max_pool3d` (as
`adaptive_max_pool2d`).""",
    "max_unpool1d": r"""`torch.nn.functional.max_unpool1d`: zeros of length $(i-1)s - 2p + k$ (or
`output_size`, within one stride of it) with each value at its index (from
`max_pool1d(..., return_indices=True)`).""",
    "max_unpool2d": """`torch.nn.functional.max_unpool2d`: the inverse of `max_pool2d` on its
maxima.

```python
>>> import numpy as np, numeric as nm
>>> y, idx = nm.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
>>> nm.max_unpool2d(y, idx, 2)[0, 0]
array([[ 0.,  0.,  0.,  0.],
       [ 0.,  5.,  0.,  7.],
       [ 0.,  0.,  0.,  0.],
       [ 0., 13.,  0., 15.]])

```
""",
    "max_unpool3d": """`torch.nn.functional.max_unpool3d` (as `max_unpool2d`).""",
    "conv_transpose1d_grad_input": r"""dL/dx of `conv_transpose1d`: $y = T^\top x$ gives
$\partial L/\partial x = T\delta$,
`conv1d(grad_output, weight, stride, padding, dilation, groups)` cropped to `input_size`
(the input's full shape).""",
    "conv_transpose1d_grad_weight": r"""dL/dw of `conv_transpose1d`: the weight gradient of the
convolution $T$ with input
$\delta$ and upstream gradient $x$, `conv1d_grad_weight(grad_output, weight_size, input,
...)` (`weight_size`: (C_in, C_out/groups, k)).""",
    "conv_transpose2d_grad_input": """dL/dx of `conv_transpose2d` (see
`conv_transpose1d_grad_input`).

```python
>>> import numpy as np, numeric as nm
>>> w, delta = np.ones((1, 1, 3, 3)), np.ones((1, 1, 8, 8))
>>> nm.conv_transpose2d_grad_input((1, 1, 4, 4), w, delta, stride=2, padding=1,
...                                output_padding=1)[0, 0, 0]
array([4., 6., 6., 6.])

```
""",
}


def _family_doc(name: str, d: int | None) -> str:
    """A family docstring: its own text, or for the 2-d and 3-d gradients the 1-d one's."""
    if name in _FAMILY_DOCS:
        return _FAMILY_DOCS[name]
    what = "dL/dx" if name.endswith("input") else "dL/dw"
    first = name.replace(f"{d}d", "1d")
    return f"{what} of `conv_transpose{d}d` (see `{first}`)."


def _family_rows() -> list[Row]:
    def row(name: str, d: int | None, params: tuple[Param, ...], returns: str, call: Any) -> Row:
        torch = None if "_grad_" in name else f"torch.nn.functional.{name}"
        return Row(name, d, params, returns, _family_doc(name, d), call, torch, family=True)

    blocks = ("dilation", "padding", "stride")
    sizes = (
        _p("dilation", "IntOrTuple", 1),
        _p("padding", "IntOrTuple", 0),
        _p("stride", "IntOrTuple", 1),
    )
    kernel = _p("kernel_size", "IntOrTuple")
    out = [
        row(
            "pad",
            None,  # any number of axes
            (
                *_req("input"),
                _p("pad", "Sequence[int]"),
                _p("mode", "str", "constant"),
                _p("value", "float | None", None),
            ),
            "Array",
            _call("_pad.pad", '"pad"', "input", "pad", "mode", "value"),
        ),
        row(
            "unfold",
            2,
            (*_req("input"), kernel, *sizes),
            "Array",
            _call("_pad.unfold", '"unfold"', "input", "kernel_size", *blocks),
        ),
        row(
            "fold",
            2,
            (*_req("input"), _p("output_size", "IntOrTuple"), kernel, *sizes),
            "Array",
            _call("_fold", '"fold"', "input", "output_size", "kernel_size", *blocks),
        ),
    ]
    for d in (1, 2, 3):
        size = _p("output_size", "IntOrTuple" if d == 1 else "Any")
        avg, mx = f"adaptive_avg_pool{d}d", f"adaptive_max_pool{d}d"
        out += [
            row(
                avg,
                d,
                (*_req("input"), size),
                "Array",
                _call("_adaptive_avg", f'"{avg}"', str(d), "input", "output_size"),
            ),
            row(
                mx,
                d,
                (*_req("input"), size, _p("return_indices", "bool", False)),
                "Any",
                _call(
                    "_adaptive.adaptive_max_pool",
                    f'"{mx}"',
                    str(d),
                    "input",
                    "output_size",
                    "return_indices",
                ),
            ),
        ]
    for d in (1, 2, 3):
        name = f"max_unpool{d}d"
        out.append(
            row(
                name,
                d,
                (
                    *_req("input indices"),
                    *_KERNEL,
                    _p("padding", "IntOrTuple", 0),
                    _p("output_size", "Sequence[int] | None", None),
                ),
                "Array",
                _call(
                    "_adaptive.max_unpool",
                    f'"{name}"',
                    str(d),
                    "input",
                    "indices",
                    "kernel_size",
                    "stride",
                    "padding",
                    "output_size",
                ),
            )
        )
    for d in (1, 2, 3):
        gi, gw = f"conv_transpose{d}d_grad_input", f"conv_transpose{d}d_grad_weight"
        tail = ("stride", "padding", "output_padding", "groups", "dilation")
        out += [
            row(
                gi,
                d,
                (*_req("input_size weight grad_output"), *_TRANSPOSE_TAIL),
                "Array",
                _call(
                    "_ops.conv_transpose_grad_input",
                    str(d),
                    f'"{gi}"',
                    "input_size",
                    "weight",
                    "grad_output",
                    *tail,
                ),
            ),
            row(
                gw,
                d,
                (*_req("input weight_size grad_output"), *_TRANSPOSE_TAIL),
                "Array",
                _call(
                    "_ops.conv_transpose_grad_weight",
                    str(d),
                    f'"{gw}"',
                    "input",
                    "weight_size",
                    "grad_output",
                    *tail,
                ),
            ),
        ]
    return out  # fmt: skip
