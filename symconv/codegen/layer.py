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

import re
import textwrap
from collections.abc import Sequence
from typing import Any

from .._errors import SpecError
from ..indexform import index_form
from ..spec import Conv, Pool
from ..transpose import ConvTranspose
from ._layer_module import (
    _LIB,
    LAYER_BACKENDS,
    Layer,
    _check_helper,
    _chk,
    _Module,
    _pad_helpers,
    _shape_doc,
    _size_text,
    _taps_const,
    _tuple,
    _zeros,
)
from ._layer_pool import _pool

__all__ = ["LAYER_BACKENDS", "Layer", "layer_file_name", "layer_module"]


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
