"""The table of numeric's public convolution and pooling functions: one row per function.

Each `Row` names the function, its spatial dims, its parameters (torch's, in torch's order, with
torch's defaults; symconv's extras keyword-only after them), its return annotation, its
docstring and the implementation it calls (`numeric._ops`, `numeric._pad`, ...).
`symconv.codegen.api` prints the rows into `numeric/_generated/api.py`, which `numeric`
re-exports, and the family rows (pad, unfold/fold, adaptive pooling, unpooling, the transposed
convolution's gradients) into `api_family.py`, which `numeric.family` re-exports. The tests
compare every printed signature with its row and with torch's function.

The algorithm sentences of the convolutions' docstrings are printed from `RULES`, the table's
statement of which algorithm runs which layer (`numeric.algorithms.supported` is the rule the
kernels apply; tests/kernels/test_numeric_api.py checks that the two agree for every row).

```python
>>> from symconv.codegen.api_table import rows
>>> row = next(r for r in rows() if r.name == "conv2d")
>>> [p.name for p in row.params][:4], row.call[0]
(['input', 'weight', 'bias', 'stride'], '_ops.conv')
>>> runs("winograd", 1, "forward"), runs("winograd", 2, "grad_input")
(False, True)

```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ALGORITHMS",
    "NOTES",
    "PRELUDE",
    "RULES",
    "Param",
    "Row",
    "names",
    "rows",
    "runs",
]


class _Required:
    """The default of a parameter that has none."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Param:
    """One parameter: its name, its annotation (source text, as `from __future__ import
    annotations` keeps it) and its default (a literal; `REQUIRED` when it has none)."""

    name: str
    annotation: str
    default: Any = REQUIRED
    keyword_only: bool = False


@dataclass(frozen=True)
class Row:
    """One public function.

    `call` is the implementation and its arguments (source text); `torch` the function whose
    signature the row repeats (None where torch has none, e.g. the pooling gradients);
    `family` marks the functions `numeric.family` holds (`numeric` re-exports them too).
    """

    name: str
    dims: int | None
    params: tuple[Param, ...]
    returns: str
    doc: str
    call: tuple[str, tuple[str, ...]]
    torch: str | None
    family: bool = False  # numeric.family's (the rest of torch's convolution family)


# -- the algorithm rules the docstrings state --------------------------------------------------
ALGORITHMS = ("direct", "winograd", "shifted", "fft", "separable")  # as numeric.algorithms
# which spatial dims and which ops each algorithm runs (None: all), and what else it needs of
# the layer (printed after its name)
RULES: dict[str, tuple[tuple[int, ...] | None, tuple[str, ...] | None]] = {
    "direct": (None, None),
    "winograd": ((2,), None),
    "shifted": (None, None),
    "fft": (None, None),
    "separable": ((2,), ("forward",)),
}
NOTES: dict[str, str] = {
    "winograd": "3x3 kernel, stride 1",
    "shifted": "stride 1",
    "separable": "needs a rank-1 kernel in every (out, in) channel slice, see "
    "`numeric.algorithms.rank_one_factors`; forward only: on torch tensors that require a "
    'gradient the backward runs `"auto"`',
}


def runs(algorithm: str, dims: int, op: str) -> bool:
    """Whether `algorithm` runs `op` ("forward", "grad_input", "grad_weight") of a `dims`-d
    convolution whose kernel and stride suit it (`NOTES`)."""
    on_dims, on_ops = RULES[algorithm]
    return (on_dims is None or dims in on_dims) and (on_ops is None or op in on_ops)


def _q(algorithm: str) -> str:
    return f'`"{algorithm}"`'


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _named(algorithm: str, op: str) -> str:
    note = NOTES.get(algorithm, "")
    if algorithm == "separable" and op != "forward":
        note = ""
    return _q(algorithm) + (f" ({note})" if note else "")


def _refused(dims: int, op: str) -> list[str]:
    return [a for a in ALGORITHMS if not runs(a, dims, op)]


def _forward_algorithms(d: int) -> str:
    items = [_q("auto")] + [_named(a, "forward") for a in ALGORITHMS if runs(a, d, "forward")]
    refused = _refused(d, "forward")
    if not refused:
        return (
            f"`algorithm`: {_listing(items)}; see `numeric.algorithms`. An algorithm that cannot "
            'run the layer raises `symconv.SpecError`; `"auto"` picks only among those that can.'
        )
    return (
        f"`algorithm`: {_listing(items)} (see `numeric.algorithms`); "
        f"{' and '.join(map(_q, refused))} run {_dims_of(refused)} layers only and raise "
        "`symconv.SpecError` here."
    )


def _gradient_algorithms(d: int, op: str) -> str:
    items = [_named(a, op) for a in ALGORITHMS if a != "direct" and runs(a, d, op)]
    text = (
        f'(`algorithm="direct"`) or another algorithm: {_listing(items)} '
        '(`numeric.algorithms`; default `"auto"`).'
    )
    refused = _refused(d, op)
    by_dims = [a for a in refused if d not in (RULES[a][0] or (d,))]
    by_op = [a for a in refused if op not in (RULES[a][1] or (op,))]
    if not refused:
        return text
    if not by_dims and len(refused) == 1:
        return text + (
            f" {_q(refused[0])} runs the forward pass only and raises `symconv.SpecError` here."
        )
    why = [f"{_dims_of(by_dims)} only"] if by_dims else []
    why += [f"{a} runs the forward pass only" for a in by_op]
    return text + (
        f" {' and '.join(map(_q, refused))} raise `symconv.SpecError` here ({'; '.join(why)})."
    )


def _dims_of(algorithms: list[str]) -> str:
    """The dims the algorithms run ("2-d")."""
    return " or ".join(f"{n}-d" for n in sorted({n for a in algorithms for n in RULES[a][0] or ()}))


# -- parameters -------------------------------------------------------------------------------
def _p(name: str, annotation: str, default: Any = REQUIRED) -> Param:
    return Param(name, annotation, default)


def _kw(name: str, annotation: str, default: Any) -> Param:
    return Param(name, annotation, default, keyword_only=True)


_CONV_TAIL = (
    _p("stride", "IntOrTuple", 1),
    _p("padding", "Any", 0),
    _p("dilation", "IntOrTuple", 1),
    _p("groups", "int", 1),
    _kw("padding_mode", "str", "zeros"),
    _kw("flip", "bool", False),
    _kw("algorithm", "str", "auto"),
)
_CONV_ARGS = ("stride", "padding", "dilation", "groups", "padding_mode", "flip", "algorithm")
_TRANSPOSE_TAIL = (
    _p("stride", "IntOrTuple", 1),
    _p("padding", "IntOrTuple", 0),
    _p("output_padding", "IntOrTuple", 0),
    _p("groups", "int", 1),
    _p("dilation", "IntOrTuple", 1),
)
_KERNEL = (_p("kernel_size", "IntOrTuple"), _p("stride", "IntOrTuple | None", None))
_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}


def _max_pool_params(d: int) -> tuple[Param, ...]:
    return (
        *_KERNEL,
        _p("padding", "IntOrTuple", 0),
        _p("dilation", "IntOrTuple", 1),
        _p("ceil_mode", "bool", False),
    )


def _avg_pool_params(d: int) -> tuple[Param, ...]:
    tail = (_p("divisor_override", "int | None", None),) if d > 1 else ()
    return (
        *_KERNEL,
        _p("padding", "IntOrTuple", 0),
        _p("ceil_mode", "bool", False),
        _p("count_include_pad", "bool", True),
        *tail,
    )


def _lp_pool_params() -> tuple[Param, ...]:
    return (_p("norm_type", "float"), *_KERNEL, _p("ceil_mode", "bool", False))


_TYPES = {
    "input": "Array",
    "weight": "Array",
    "grad_output": "Array",
    "indices": "Array",
    "input_size": "Sequence[int]",
    "weight_size": "Sequence[int]",
}


def _req(names: str) -> tuple[Param, ...]:
    """Required array parameters, by name (their annotations from `_TYPES`)."""
    return tuple(_p(n, _TYPES[n]) for n in names.split())


def _call(impl: str, *args: str) -> tuple[str, tuple[str, ...]]:
    """The implementation's call: its name and its arguments (source text)."""
    return impl, args


def _keywords(params: tuple[Param, ...], skip: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(f"{p.name}={p.name}" for p in params if p.name not in skip)


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


def rows() -> list[Row]:
    """Every public function, in the order the module prints them: per dims the convolutions,
    then the pooling functions; `conv_grad_bias`; then `numeric.family`'s."""
    out: list[Row] = []
    for d in (1, 2, 3):
        out += _conv_rows(d) + _pool_rows(d)
    out.append(
        Row(
            "conv_grad_bias",
            None,
            (_p("grad_output", "Array"),),
            "Array",
            "dL/db of any `conv*d`: the sum of `grad_output` over the batch and the spatial axes.",
            ("_ops.conv_grad_bias", ('"conv_grad_bias"', "grad_output")),
            None,
        )
    )
    return out + _family_rows()


def names(family: bool | None = None) -> list[str]:
    """The functions' names, sorted: all of them (both API modules' `__all__`), or
    `numeric.family`'s (`family=True`) or the others (`family=False`)."""
    return sorted(r.name for r in rows() if family is None or r.family == family)
