r"""One layer's kernel: `symconv generate --spec`, its constants folded in from the index form.

`layer_module(spec, input_size, backend)` prints a standalone module (only NumPy, or only torch,
needed to import it) for one `Conv`, `ConvTranspose` or `Pool` at one input size:

- `Conv`, `ConvTranspose`: `forward(x, w, b=None)`, `grad_input(delta, w)`,
  `grad_weight(x, delta)`, `grad_bias(delta)`;
- `Pool`: `forward(x)` (max: `(y, indices)` as torch's `return_indices=True`) and `backward`
  (max: `backward(delta, indices)`, avg: `backward(delta)`, lp: `backward(delta, x)`).

Every index is read off `symconv.index_form(spec, input_size)`, nothing is re-derived here:
per axis and kernel tap $a$, `IndexForm.tap_table(axis, padded=True)` lists the padded position
$S o + D a'$ each output $o$ reads (a transposed convolution: the input $i$ with
$S i + D a - P = o$); the outputs that read something and the positions they read are both
arithmetic progressions, printed as two `slice` literals (checked, element by element, against
the table). The padding comes from the form's axes ($P_\mathrm{lo}, P_\mathrm{hi}$) and, for
reflect, replicate and circular padding, `IndexForm.pad_table` ($\varphi$) as an index tuple;
average pooling's divisors are counted from the same tables (and checked against
`IndexForm.divisors()`). The rest is a template: loops over the taps that slice, multiply and
add; each printed function uses only the helpers it needs, and checks its inputs' type, dtype
and shape (a 4-channel input to a 3-channel layer, or a 7x7 input to a layer printed for 8x8,
is refused with a `ValueError` naming both).

```python
>>> import symconv as sc
>>> text = layer_module(sc.Conv(dims=2, in_channels=3, out_channels=10, kernel_size=3,
...                             padding=1), (32, 32))
>>> "slice(2, 34)" in text and "import sympy" not in text
True
>>> layer_file_name(sc.Conv(dims=2, in_channels=3, out_channels=10, kernel_size=5, padding=2),
...                 (32, 32))
'numpy_conv2d_3to10_k5_p2_32x32.py'

```
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from .._errors import SpecError
from ..indexform import IndexForm, index_form
from ..spec import Conv, Pool
from ..transpose import ConvTranspose

__all__ = ["LAYER_BACKENDS", "Layer", "layer_file_name", "layer_module"]

Layer = Conv | ConvTranspose | Pool
LAYER_BACKENDS = ("numpy", "torch")

# -- the backend vocabulary (the only place the two backends differ) ---------------------------
_LIB = {"numpy": "numpy", "torch": "torch"}
_ARRAY = {"numpy": "numpy.ndarray", "torch": "torch.Tensor"}
_IS_FLOAT = {
    "numpy": "numpy.issubdtype(v.dtype, numpy.floating)",
    "torch": "v.is_floating_point()",
}
_REFUSED = {  # array types that pass isinstance but would be misread (a mask ignored)
    "numpy": " or isinstance(v, numpy.ma.MaskedArray)",
    "torch": "",
}
_IS_INT = {
    "numpy": "numpy.issubdtype(v.dtype, numpy.integer)",
    "torch": "v.dtype == torch.int64",
}


def _zeros(backend: str, shape: str, like: str) -> str:
    if backend == "numpy":
        return f"numpy.zeros({shape}, dtype={like}.dtype)"
    return f"{like}.new_zeros({shape})"


def _full(backend: str, shape: str, value: str, like: str) -> str:
    if backend == "numpy":
        return f"numpy.full({shape}, {value}, dtype={like}.dtype)"
    return f"{like}.new_full({shape}, {value})"


# -- reading the index form --------------------------------------------------------------------
def _progression(values: np.ndarray, what: str) -> str:
    """`values` (an arithmetic progression, checked) as a `slice` literal."""
    start = int(values[0])
    step = int(values[1] - values[0]) if len(values) > 1 else 1
    stop = int(values[-1]) + 1
    if step < 1 or not np.array_equal(values, np.arange(start, stop, step)):
        raise SpecError(f"generate: {what} {values.tolist()} is not a progression; no slice")
    return f"slice({start}, {stop})" if step == 1 else f"slice({start}, {stop}, {step})"


def _taps(form: IndexForm) -> list[list[tuple[int, str, str]]]:
    """Per axis: `(a, outputs, positions)` slice literals of each tap that reads something."""
    out = []
    for axis, ax in enumerate(form.axes):
        table = form.tap_table(axis, padded=form.kind != "transpose")
        entries = []
        for a in range(ax.kernel):
            (o,) = np.nonzero(table[:, a] >= 0)
            if len(o):
                what = f"axis {axis} tap {a}:"
                entries.append(
                    (a, _progression(o, f"{what} outputs"), _progression(table[o, a], what))
                )
        out.append(entries)
    return out


def _int_tuple(values: Sequence[int]) -> str:
    """A tuple literal of `values`, runs of four or more written as `*range(...)`."""
    vals = [int(v) for v in values]
    parts: list[str] = []
    i = 0
    while i < len(vals):
        j = i + 1
        step = vals[j] - vals[i] if j < len(vals) else 0
        while j < len(vals) and vals[j] - vals[j - 1] == step:
            j += 1
        if j - i >= 4 and step != 0:
            stop = vals[j - 1] + (1 if step > 0 else -1)
            parts.append(f"*range({vals[i]}, {stop}" + ("" if step == 1 else f", {step}") + ")")
            i = j
        elif j - i >= 4:
            parts.append(f"*({vals[i]},) * {j - i}")
            i = j
        else:
            parts.append(str(vals[i]))
            i += 1
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _size_text(size: Sequence[int]) -> str:
    return "x".join(map(str, size))


def _tuple(values: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, values)) + ("," if len(values) == 1 else "") + ")"


# -- file names --------------------------------------------------------------------------------
def _per_axis(values: Sequence[Any]) -> str:
    vals = [str(v) for v in values]
    return vals[0] if len(set(vals)) == 1 else "x".join(vals)


def _pads_text(pads: Sequence[tuple[int, int]]) -> str:
    return _per_axis([f"{lo}" if lo == hi else f"{lo}to{hi}" for lo, hi in pads])


def layer_file_name(spec: Layer, input_size: int | Sequence[int], backend: str = "numpy") -> str:
    """The module's file name, read off the layer: kind, dimensions, channels, every option that
    differs from its default, and the input size; e.g. `numpy_conv2d_3to10_k5_p2_32x32.py`.
    Two different layers (or input sizes) get different names."""
    spec, size = _checked(spec, input_size, backend)
    d = spec.dims
    parts = [backend]
    if isinstance(spec, Pool):
        parts += [f"{spec.kind}pool{d}d", f"k{_per_axis(spec.kernel_size)}"]
        if spec.stride != spec.kernel_size:
            parts.append(f"s{_per_axis(spec.stride)}")
        if any(spec.padding):
            parts.append(f"p{_per_axis(spec.padding)}")
        if any(v != 1 for v in spec.dilation):
            parts.append(f"d{_per_axis(spec.dilation)}")
        if spec.ceil_mode:
            parts.append("ceil")
        if spec.kind == "avg" and not spec.count_include_pad:
            parts.append("nopad")
        if spec.divisor_override is not None:
            parts.append(f"div{spec.divisor_override}")
        if spec.kind == "lp":
            norm = repr(float(spec.norm_type))  # type: ignore[arg-type]  # lp: set
            norm = norm.removesuffix(".0").replace(".", "p").replace("+", "").replace("-", "m")
            parts.append(f"norm{norm}")
    else:
        kind = "convtranspose" if isinstance(spec, ConvTranspose) else "conv"
        parts += [f"{kind}{d}d", f"{spec.in_channels}to{spec.out_channels}"]
        parts.append(f"k{_per_axis(spec.kernel_size)}")
        if any(v != 1 for v in spec.stride):
            parts.append(f"s{_per_axis(spec.stride)}")
        if isinstance(spec, ConvTranspose):
            if any(spec.padding):
                parts.append(f"p{_per_axis(spec.padding)}")
            if any(spec.output_padding):
                parts.append(f"op{_per_axis(spec.output_padding)}")
        elif any(lo or hi for lo, hi in spec.pads):
            parts.append(f"p{_pads_text(spec.pads)}")
        if any(v != 1 for v in spec.dilation):
            parts.append(f"d{_per_axis(spec.dilation)}")
        if spec.groups != 1:
            parts.append(f"g{spec.groups}")
        if isinstance(spec, Conv):
            if spec.padding_mode != "zeros" and any(lo or hi for lo, hi in spec.pads):
                parts.append(spec.padding_mode)
            if spec.flip:
                parts.append("flip")
    parts.append(_size_text(size))
    return "_".join(parts) + ".py"


def _checked(
    spec: Any, input_size: int | Sequence[int], backend: str
) -> tuple[Layer, tuple[int, ...]]:
    if backend not in LAYER_BACKENDS:
        raise SpecError(f"generate: backend must be one of {list(LAYER_BACKENDS)}, got {backend!r}")
    if not isinstance(spec, Conv | ConvTranspose | Pool):
        raise SpecError(
            f"generate: a layer module is printed for Conv, ConvTranspose or Pool, got "
            f"{type(spec).__name__}"
        )
    size = index_form(spec, input_size).input_size  # validates the size against the layer
    return spec, tuple(size)  # type: ignore[arg-type]  # sized


# -- printing ----------------------------------------------------------------------------------
class _Module:
    """Collects the pieces of one layer module (constants, helpers, functions) in order."""

    def __init__(self, spec: Layer, size: tuple[int, ...], backend: str) -> None:
        self.spec, self.size, self.b = spec, size, backend
        self.form = index_form(spec, size)
        self.out = tuple(self.form.output_size)  # type: ignore[arg-type]  # sized
        self.d = spec.dims
        self.consts: list[str] = []
        self.helpers: list[str] = []
        self.funcs: list[str] = []
        self.imports = {_LIB[backend]} | ({"itertools"} if spec.dims > 1 else set())

    # array indexing text: x[:, :, o0, o1]
    def idx(self, name: str, var: str) -> str:
        return f"{name}[:, :, {', '.join(f'{var}{k}' for k in range(self.d))}]"

    def loop(self) -> str:
        if self.d == 1:
            return "for a0, o0, j0 in TAPS[0]:"
        names = ", ".join(f"(a{k}, o{k}, j{k})" for k in range(self.d))
        return f"for {names} in itertools.product(*TAPS):"

    def wtap(self) -> str:
        return f"w[:, :, {', '.join(f'a{k}' for k in range(self.d))}]"

    def spatial(self, shape: Sequence[int]) -> str:
        return ", ".join(map(str, shape))


def _shape_doc(channels: str, size: Sequence[int]) -> str:
    return f"(N, {channels}, {', '.join(map(str, size))})"


def _check_helper(m: _Module) -> str:
    array = _ARRAY[m.b]
    return f'''def _check(name, v, shape, what, like=None):
    """Refuse `v` unless it is a floating-point {array} of `shape` (None: any length)."""
    ok = isinstance(v, {array}) and {_IS_FLOAT[m.b]}
    if not ok{_REFUSED[m.b]}:
        got = type(v).__name__ + (f" of dtype {{v.dtype}}" if hasattr(v, "dtype") else "")
        raise ValueError(f"{{name}} must be a floating-point {array}, got {{got}}")
    if v.ndim != len(shape) or any(n not in (None, k) for n, k in zip(shape, v.shape)):
        raise ValueError(f"{{name}} must have shape {{what}}, got {{tuple(v.shape)}}")
    if like is not None and v.dtype != like.dtype:
        raise ValueError(f"{{name}} has dtype {{v.dtype}}, not {{like.dtype}} as the others")
    return v'''


def _chk(name: str, shape: str, what: str, like: str | None = None) -> str:
    """A call of the printed `_check`, one line."""
    extra = f", like={like}" if like else ""
    return f"    {name} = _check({name!r}, {name}, {shape}, {what!r}{extra})".replace("'", '"')


def _pad_helpers(m: _Module, fill: str) -> tuple[str, str]:
    """`_pad(x)` (x -> x~, from the form's padding) and `_unpad(g)` (its adjoint), or empty."""
    axes = m.form.axes
    padded = tuple(int(ax.padded) for ax in axes)  # type: ignore[arg-type]  # sized
    if padded == m.size:
        return "", ""
    mode = getattr(m.spec, "padding_mode", "zeros")
    inner = ", ".join(f"{ax.lo}:{ax.lo + cast(int, ax.size)}" for ax in axes)  # sized form
    if mode == "zeros":
        shape = f"(x.shape[0], x.shape[1], {m.spatial(padded)})"
        new = _zeros(m.b, shape, "x") if fill == "0.0" else _full(m.b, shape, fill, "x")
        pads = [(ax.lo, ax.hi) for ax in axes]
        pad = f'''def _pad(x):
    """x~: x padded with {fill.replace("math.", "")} by (P_lo, P_hi) = {pads} per axis."""
    xp = {new}
    xp[:, :, {inner}] = x
    return xp'''
        unpad = f'''def _unpad(g):
    """The adjoint of _pad: the interior of the padded gradient."""
    return g[:, :, {inner}]'''
        return pad, unpad
    phis = [_int_tuple(m.form.pad_table(a).tolist()) for a in range(m.d)]
    m.consts.append(
        f"# x~[..., j] = x[..., PHI[axis][j]]: the {mode!r} padding map phi(j - P_lo) per axis\n"
        "# (IndexForm.pad_table)\n"
        "PHI = (\n" + "".join(f"    {p},\n" for p in phis) + ")"
    )
    gathers = "".join(f"[{':, ' * (2 + k)}PHI[{k}]]" for k in range(m.d))
    pad = f'''def _pad(x):
    """x~: x padded by its {mode!r} padding map phi (PHI)."""
    return x{gathers}'''
    if m.b == "numpy":
        body = """        shape = (*g.shape[:axis], n, *g.shape[axis + 1 :])
        out = numpy.zeros(shape, dtype=g.dtype)
        numpy.add.at(out, (slice(None),) * axis + (numpy.asarray(phi),), g)"""
    else:
        body = """        out = g.new_zeros((*g.shape[:axis], n, *g.shape[axis + 1 :]))
        out.index_add_(axis, torch.tensor(phi, device=g.device), g)"""
    sizes = ", ".join(f"({k + 2}, PHI[{k}], {n})" for k, n in enumerate(m.size))
    unpad = f'''def _unpad(g):
    """The adjoint of _pad: each padded position's gradient added to the input it copies."""
    for axis, phi, n in ({sizes}{"," if m.d == 1 else ""}):
{body}
        g = out
    return g'''
    return pad, unpad


def _taps_const(m: _Module, what: str) -> None:
    lines = [
        f"# TAPS[axis]: (tap a, outputs o, {what}) as slices, one entry per kernel tap that",
        f"# reads something; from symconv.index_form(spec, {m.size}).tap_table(axis"
        + (", padded=True)" if m.form.kind != "transpose" else ")"),
        "TAPS = (",
    ]
    for axis, entries in enumerate(_taps(m.form)):
        lines.append(f"    (  # axis {axis}")
        lines += [f"        ({a}, {o}, {j})," for a, o, j in entries]
        lines.append("    ),")
    lines.append(")")
    m.consts.append("\n".join(lines))


# -- convolution and transposed convolution ----------------------------------------------------
def _mix_helpers(rows: int, cols: int, groups: int) -> dict[str, str]:
    """Per-tap channel mixing for a weight tap `wt` of shape (rows, cols / groups)."""
    rg, cg = rows // groups, cols // groups
    if groups == 1:
        apply = f"(wt @ v.reshape(n, {cols}, p)).reshape(n, {rows}, *v.shape[2:])"
        apply_t = f"(wt.swapaxes(0, 1) @ v.reshape(n, {rows}, p)).reshape(n, {cols}, *v.shape[2:])"
        outer = f"(u.reshape(n, {rows}, p) @ v.reshape(n, {cols}, p).swapaxes(1, 2)).sum(0)"
        g = ""
    else:
        wg = f"wt.reshape({groups}, {rg}, {cg})"
        apply = f"({wg} @ v.reshape(n, {groups}, {cg}, p)).reshape(n, {rows}, *v.shape[2:])"
        apply_t = (
            f"({wg}.swapaxes(1, 2) @ v.reshape(n, {groups}, {rg}, p))"
            f".reshape(n, {cols}, *v.shape[2:])"
        )
        outer = (
            f"(u.reshape(n, {groups}, {rg}, p) @ v.reshape(n, {groups}, {cg}, p).swapaxes(2, 3))"
            f".sum(0).reshape({rows}, {cg})"
        )
        g = f" in {groups} groups of {rg} x {cg}"
    size = "n, p = v.shape[0], math.prod(v.shape[2:])"
    return {
        "_apply": f'''def _apply(wt, v):
    """(N, {cols}, ...) -> (N, {rows}, ...): sum_c wt[k, c] v[:, c]{g}."""
    {size}
    return {apply}''',
        "_apply_t": f'''def _apply_t(wt, v):
    """(N, {rows}, ...) -> (N, {cols}, ...): sum_k wt[k, c] v[:, k]{g}."""
    {size}
    return {apply_t}''',
        "_outer": f'''def _outer(u, v):
    """sum over batch and positions of u[:, k] v[:, c]{g}: a ({rows}, {cg}) weight tap."""
    {size}
    return {outer}''',
    }


def _conv(m: _Module) -> None:
    spec = m.spec
    transpose = isinstance(spec, ConvTranspose)
    cin, cout, g = spec.in_channels, spec.out_channels, spec.groups  # type: ignore[union-attr]  # not a Pool
    wshape = tuple(spec.weight_shape)  # type: ignore[union-attr]  # not a Pool
    x_doc, y_doc = _shape_doc(str(cin), m.size), _shape_doc(str(cout), m.out)
    m.imports.add("math")
    m.consts.append(
        f"X_SHAPE = (None, {cin}, {m.spatial(m.size)})  # None: any batch size\n"
        f"Y_SHAPE = (None, {cout}, {m.spatial(m.out)})\n"
        f"W_SHAPE = {_tuple(wshape)}"
    )
    _taps_const(m, "input positions j read" if transpose else "padded positions j read")
    size, out = _size_text(m.size), _size_text(m.out)
    m.helpers.append(_check_helper(m))
    if transpose:  # weight (C_in, C_out / G): rows C_in, columns C_out
        mix = _mix_helpers(cin, cout, g)
        fwd, gin, gw = "_apply_t", "_apply", "_outer(x[:, :, {j}], delta[:, :, {o}])"
        pad, unpad = "", ""
    else:  # weight (C_out, C_in / G): rows C_out, columns C_in
        mix = _mix_helpers(cout, cin, g)
        fwd, gin, gw = "_apply", "_apply_t", "_outer(delta[:, :, {o}], xp[:, :, {j}])"
        pad, unpad = _pad_helpers(m, "0.0")
    m.helpers += [h for h in (pad, unpad) if h]
    m.helpers += [mix["_apply"], mix["_apply_t"], mix["_outer"]]
    js = ", ".join(f"j{k}" for k in range(m.d))
    os_ = ", ".join(f"o{k}" for k in range(m.d))
    padded = m.size if transpose else tuple(int(ax.padded) for ax in m.form.axes)  # type: ignore[arg-type]  # sized
    read = "_pad(x)" if pad else "x"
    x_what = f"{x_doc}: batch, {cin} channels, input {size}"
    d_what = f"{y_doc}: batch, {cout} channels, output {out}"
    w_what = f"{_tuple(wshape)}: the weight"
    m.funcs.append(f'''def forward(x, w, b=None):
    """y = the layer applied to x: {x_doc} -> {y_doc}; w {_tuple(wshape)}, b ({cout},) or None."""
{_chk("x", "X_SHAPE", x_what)}
{_chk("w", "W_SHAPE", w_what, "x")}
    if b is not None:
    {_chk("b", f"({cout},)", f"({cout},): the bias", "x")}
    xp = {read}
    y = {_zeros(m.b, f"(x.shape[0], {cout}, {m.spatial(m.out)})", "x")}
    {m.loop()}
        y[:, :, {os_}] += {fwd}({m.wtap()}, xp[:, :, {js}])
    if b is not None:
        y += b.reshape(1, {cout}{", 1" * m.d})
    return y''')
    back = "    return _unpad(gp)" if unpad else "    return gp"
    m.funcs.append(f'''def grad_input(delta, w):
    """dL/dx for dL/dy = delta {y_doc}: shape {x_doc}."""
{_chk("delta", "Y_SHAPE", d_what)}
{_chk("w", "W_SHAPE", w_what, "delta")}
    gp = {_zeros(m.b, f"(delta.shape[0], {cin}, {m.spatial(padded)})", "delta")}
    {m.loop()}
        gp[:, :, {js}] += {gin}({m.wtap()}, delta[:, :, {os_}])
{back}''')
    m.funcs.append(f'''def grad_weight(x, delta):
    """dL/dw for input x {x_doc} and dL/dy = delta {y_doc}: shape {_tuple(wshape)}."""
{_chk("x", "X_SHAPE", x_what)}
{_chk("delta", "Y_SHAPE", d_what, "x")}
    if delta.shape[0] != x.shape[0]:
        got = f"{{x.shape[0]}} and {{delta.shape[0]}}"
        raise ValueError(f"x and delta must have the same batch size, got {{got}}")
    xp = {read}
    dw = {_zeros(m.b, _tuple(wshape), "x")}
    {m.loop()}
        {m.wtap().replace("w[", "dw[")} = {gw.format(o=os_, j=js)}
    return dw''')
    dims = ", ".join(str(k) for k in (0, *range(2, 2 + m.d)))
    m.funcs.append(f'''def grad_bias(delta):
    """dL/db for dL/dy = delta {y_doc}: shape ({cout},)."""
{_chk("delta", "Y_SHAPE", d_what)}
    return delta.sum(({dims}))''')


# -- pooling -----------------------------------------------------------------------------------
def _counts(m: _Module, include_pad: bool) -> list[list[int]]:
    """Per axis and output: the window's taps inside the padded input (`include_pad`) or inside
    the input, counted from the index form's tap tables (as `IndexForm.divisors`)."""
    return [(m.form.tap_table(a, padded=include_pad) >= 0).sum(axis=1).tolist() for a in range(m.d)]


def _divisor_const(m: _Module, counts: list[list[int]], what: str) -> str:
    vectors = "".join(f"    {_int_tuple(c)},\n" for c in counts)
    m.consts.append(
        f"# {what}, per axis and output (a window's count is their product)\nCOUNTS = (\n{vectors})"
    )
    if m.b == "numpy":
        vec = "numpy.asarray(COUNTS[{k}], dtype=like.dtype)"
    else:
        vec = "torch.tensor(COUNTS[{k}], dtype=like.dtype, device=like.device)"
    terms = []
    for k in range(m.d):
        shape = ", ".join("-1" if i == k else "1" for i in range(m.d))
        terms.append(f"{vec.format(k=k)}.reshape({shape})")
    body = " * ".join(terms) if m.d == 1 else "(\n        " + "\n        * ".join(terms) + "\n    )"
    m.helpers.append(f'''def _count(like):
    """The window counts as an array of the output's spatial shape {_tuple(m.out)}."""
    return {body}''')
    return "_count(x)"


def _pool(m: _Module) -> None:
    spec: Pool = m.spec  # type: ignore[assignment]  # _pool: a Pool module
    kind = spec.kind
    size, out = _size_text(m.size), _size_text(m.out)
    x_doc, y_doc = _shape_doc("C", m.size), _shape_doc("C", m.out)
    m.consts.append(
        f"X_SHAPE = (None, None, {m.spatial(m.size)})  # None: any batch size, any channels\n"
        f"Y_SHAPE = (None, None, {m.spatial(m.out)})"
    )
    _taps_const(m, "padded positions j read")
    m.helpers.append(_check_helper(m))
    fill = {"max": "-math.inf", "avg": "0.0", "lp": "0.0"}[kind]
    pad, unpad = _pad_helpers(m, fill)
    if kind == "max":  # its backward scatters through the indices, never through the padding
        unpad = ""
    m.helpers += [h for h in (pad, unpad) if h]
    read = "_pad(x)" if pad else "x"
    js = ", ".join(f"j{k}" for k in range(m.d))
    os_ = ", ".join(f"o{k}" for k in range(m.d))
    x_what = f"{x_doc}: batch, channels, input {size}"
    d_what = f"{y_doc}: batch, channels, output {out}"
    cx, cd = _chk("x", "X_SHAPE", x_what), _chk("delta", "Y_SHAPE", d_what)
    lib = _LIB[m.b]
    new_y = _zeros(m.b, f"(x.shape[0], x.shape[1], {m.spatial(m.out)})", "x")
    padded = tuple(int(ax.padded) for ax in m.form.axes)  # type: ignore[arg-type]  # sized
    new_gp = _zeros(m.b, f"(delta.shape[0], delta.shape[1], {m.spatial(padded)})", "delta")
    crop = "    return _unpad(gp)" if unpad else "    return gp"
    if kind == "max":
        m.imports.add("math")
        n_in, n_out = math.prod(m.size), math.prod(m.out)
        inner = ", ".join(f"{ax.lo}:{ax.lo + cast(int, ax.size)}" for ax in m.form.axes)
        if m.b == "numpy":
            plane = f"numpy.full({_tuple(padded)}, -1, dtype=numpy.int64)"
            ar = f"numpy.arange({n_in}).reshape({m.spatial(m.size)})"
            new_i = "numpy.full(y.shape, -1, dtype=numpy.int64)"
            count = "indices.size"
            scatter = f"""    flat = numpy.zeros((n * c, {n_in}), dtype=delta.dtype)
    rows = numpy.arange(n * c)[:, None]
    numpy.add.at(flat, (rows, indices.reshape(n * c, {n_out})), delta.reshape(n * c, {n_out}))"""
        else:
            plane = f"torch.full({_tuple(padded)}, -1, dtype=torch.int64, device=x.device)"
            ar = f"torch.arange({n_in}, device=x.device).reshape({m.spatial(m.size)})"
            new_i = "torch.full(y.shape, -1, dtype=torch.int64, device=x.device)"
            count = "indices.numel()"
            scatter = f"""    flat = delta.new_zeros((n * c, {n_in}))
    flat.scatter_add_(1, indices.reshape(n * c, {n_out}), delta.reshape(n * c, {n_out}))"""
        int_kind = ("int64 " if m.b == "torch" else "integer ") + _ARRAY[m.b]
        new_yfull = _full(m.b, f"(x.shape[0], x.shape[1], {m.spatial(m.out)})", "-math.inf", "x")
        m.funcs.append(f'''def forward(x):
    """(y, indices) as torch's max_pool{m.d}d(..., return_indices=True): x {x_doc} -> y {y_doc};
    indices: each maximum's flat position in the input plane (the first maximum of its window;
    a NaN wins, as in torch)."""
{cx}
    xp = {read}
    # the flat input index at each padded position, -1 in the padding
    where = {plane}
    where[{inner}] = {ar}
    y = {new_yfull}
    idx = {new_i}
    {m.loop()}
        v, i = xp[:, :, {js}], where[{js}]
        old, old_i = y[:, :, {os_}], idx[:, :, {os_}]
        take = (i >= 0) & ((v > old) | {lib}.isnan(v) | (old_i < 0))
        y[:, :, {os_}] = {lib}.where(take, v, old)
        idx[:, :, {os_}] = {lib}.where(take, i, old_i)
    return y, idx''')
        m.funcs.append(f'''def backward(delta, indices):
    """dL/dx {x_doc} for dL/dy = delta {y_doc}: each delta goes to the input its maximum came
    from (indices as forward returns them)."""
{cd}
    v = indices
    if not isinstance(v, {_ARRAY[m.b]}) or not ({_IS_INT[m.b]}):
        got = type(v).__name__ + (f" of dtype {{v.dtype}}" if hasattr(v, "dtype") else "")
        raise ValueError(f"indices must be an {int_kind}, got {{got}}")
    if tuple(v.shape) != tuple(delta.shape):
        got = f"{{tuple(v.shape)}}, delta {{tuple(delta.shape)}}"
        raise ValueError(f"indices must have delta's shape, got {{got}}")
    if {count} and (int(v.min()) < 0 or int(v.max()) >= {n_in}):
        raise ValueError("indices must lie in [0, {n_in}): flat positions in a {size} input")
    n, c = delta.shape[:2]
{scatter}
    return flat.reshape(n, c, {m.spatial(m.size)})''')
        return
    if spec.divisor_override is not None:
        divisor = str(spec.divisor_override)
        div_doc = f"divisor_override {spec.divisor_override}"
    elif kind == "lp":
        divisor = _divisor_const(m, _counts(m, False), "Input positions in each window")
        div_doc = "its input positions"
    else:
        include = bool(spec.count_include_pad)
        where_ = "padded input" if include else "input"
        counts = _counts(m, include)
        grid = np.prod(np.meshgrid(*counts, indexing="ij"), axis=0)
        if not np.array_equal(grid, m.form.divisors()):
            raise SpecError(f"generate: the window counts of {spec} disagree with divisors()")
        divisor = _divisor_const(m, counts, f"Window taps inside the {where_}")
        div_doc = f"its taps inside the {where_}"
    if kind == "avg":
        m.funcs.append(f'''def forward(x):
    """Average pooling: x {x_doc} -> y {y_doc}, each window's sum over {div_doc}."""
{cx}
    xp = {read}
    y = {new_y}
    {m.loop()}
        y[:, :, {os_}] += xp[:, :, {js}]
    return y / {divisor}''')
        m.funcs.append(f'''def backward(delta):
    """dL/dx {x_doc} for dL/dy = delta {y_doc}: delta / divisor spread over each window."""
{cd}
    g = delta / {divisor.replace("(x)", "(delta)")}
    gp = {new_gp}
    {m.loop()}
        gp[:, :, {js}] += g[:, :, {os_}]
{crop}''')
        return
    p = float(spec.norm_type)  # type: ignore[arg-type]  # lp: set
    inv, pm1, one_m = 1.0 / p, p - 1.0, 1.0 - p
    k = math.prod(spec.kernel_size)
    if m.b == "numpy":  # x^p of a negative x, y^(1 - p) at y = 0: as torch, no warnings
        quiet, ind = '    with numpy.errstate(all="ignore"):\n', "    "
    else:
        quiet, ind = "", ""
    m.funcs.append(f'''def forward(x):
    """Power-average pooling as torch's lp_pool{m.d}d, p = {p!r}: x {x_doc} -> y {y_doc},
    y = ({k} / N_o * sum over the window of x^p)^(1/p), N_o {div_doc}."""
{cx}
    xp = {read}
    s = {new_y}
{quiet}{ind}    {m.loop()}
{ind}        s[:, :, {os_}] += xp[:, :, {js}] ** {p!r}
{ind}    return (s / {divisor} * {k}) ** {inv!r}''')
    m.funcs.append(f'''def backward(delta, x):
    """dL/dx {x_doc} for dL/dy = delta {y_doc} (symconv.poolgrad): dy_o/dx_j =
    c_o x_j^(p-1) y_o^(1-p), c_o = {k} / N_o; zero where the window's sum of powers is zero."""
{cd}
{_chk("x", "X_SHAPE", x_what, "delta")}
    if tuple(x.shape[:2]) != tuple(delta.shape[:2]):
        got = f"{{tuple(x.shape)}} and {{tuple(delta.shape)}}"
        raise ValueError(f"x and delta must agree on batch and channels, got {{got}}")
    y = forward(x)
    xp = {read}
    gp = {new_gp}
{quiet}{ind}    coef = {lib}.where(y != 0, delta * ({k} / {divisor}) * y ** {one_m!r}, 0.0)
{ind}    {m.loop()}
{ind}        gp[:, :, {js}] += coef[:, :, {os_}] * xp[:, :, {js}] ** {pm1!r}
{crop}''')


def layer_module(spec: Layer, input_size: int | Sequence[int], backend: str = "numpy") -> str:
    """The standalone module for `spec` at `input_size` (see the module docstring)."""
    spec, size = _checked(spec, input_size, backend)
    m = _Module(spec, size, backend)
    if isinstance(spec, Pool):
        _pool(m)
        api = "forward, backward"
        template = "the loops over TAPS and the input checks"
    else:
        _conv(m)
        api = "forward, grad_input, grad_weight, grad_bias"
        template = "the loops over TAPS, the input checks and the channel mixing"
    lib = "NumPy" if backend == "numpy" else "torch"
    consts = re.findall(r"^([A-Z_]+) =", "\n".join(m.consts), re.MULTILINE)
    head = [
        f'r"""One layer for {lib}: GENERATED by `symconv generate --spec` (do not edit).',
        "",
        f"    {spec}",
        "",
        f"Functions: {api}. Input size {_size_text(size)}, output size {_size_text(m.out)}.",
        "",
        *textwrap.wrap(
            f"Printed from symconv.index_form(spec, {_tuple(size)}): {', '.join(consts)}"
            + (" and the padding of _pad." if any("def _pad" in h for h in m.helpers) else "."),
            96,
        ),
        *textwrap.wrap(f"From a template (symconv.codegen.layer): {template}.", 96),
        '"""',
    ]
    std = sorted(m.imports - {_LIB[backend]})
    imports = "\n".join(f"import {name}" for name in std) + f"\n\nimport {_LIB[backend]}"
    body = "\n\n".join(m.consts) + "\n\n\n" + "\n\n\n".join(m.helpers + m.funcs)
    return "\n".join(head) + "\n\n" + imports + "\n\n" + body + "\n"
