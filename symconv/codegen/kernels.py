r"""The kernel nodes: index maps read off the index forms, and the array programs that use them.

`conv_nodes()` and `pool_nodes()` return the nodes a `KernelPrinter` prints into
`numeric/_generated/*_conv.py` and `*_pool.py`. Every index computation in a kernel goes through
an `IndexMap` whose expression comes from `symconv.indexform` (the padding maps $\varphi$, tap
positions), from `symconv._sizes` (output sizes, padding arithmetic) or from the derived gradient
operators of `symconv.backprop` (`GradInput`'s padding, `GradWeight`'s window); each names that
source in its `origin` (the printed function's docstring). The kernel bodies only slice, gather
and multiply with them: they are the template modules `symconv/codegen/templates/conv.py` and
`pool.py`, real Python over the primitive vocabulary of `templates/prims.py` (`_zeros`, `_take`,
`_matmul`, ...) that each backend printer spells in its library.
"""

from __future__ import annotations

import sympy

from .. import _sizes
from .._errors import SpecError
from ..indexform import index_form
from ..spec import Conv, PaddingMode, Pool
from .printer import IndexMap
from .templates import template_kernels

__all__ = ["conv_nodes", "form_summary", "pool_nodes"]

_MODES: tuple[PaddingMode, ...] = ("zeros", "reflect", "replicate", "circular")


def _sym(*names: str) -> list[sympy.Symbol]:
    return [sympy.Symbol(n, integer=True) for n in names]


def _by_name(expr: sympy.Expr, names: dict[str, str]) -> sympy.Expr:
    """Rename the form's symbols (`S`, `D`, `K`, ...) to the kernel's argument names."""
    return expr.xreplace(
        {s: sympy.Symbol(names[s.name], integer=True) for s in expr.free_symbols if s.name in names}
    )


def _phi_map(mode: PaddingMode) -> IndexMap:
    """$\\varphi$ of `mode` from the index form's `padding_expression()`: $u = j - P$, $n = I$."""
    form = index_form(Conv(dims=1, kernel_size=1, padding_mode=mode))
    rhs = form.padding_expression().rhs
    names = {"j": "u", "P": "p0", "I": "n"}
    if isinstance(rhs, sympy.Piecewise):  # zeros: the index inside, nothing (-1) outside
        (read, cond), _ = rhs.args
        expr = sympy.Piecewise((read.indices[-1], cond), (-1, True))
    else:
        expr = rhs.indices[-1]
    expr = _by_name(expr, names).subs(sympy.Symbol("p0", integer=True), 0)
    return IndexMap(
        f"_phi_{mode}",
        ("u", "n"),
        expr,
        f"padding map phi of mode {mode!r}: the input position x~[j] reads, u = j - P; -1: a zero.",
        derivation="symconv.indexform.IndexForm.padding_expression",
    )


def _position(spec: Conv | Pool) -> sympy.Expr:
    """The padded-input position $S o + D a'$ the index form reads (last index of x~)."""
    eq = index_form(spec).expression()
    reads = [i for i in eq.rhs.atoms(sympy.Indexed) if str(i.base) == r"\tilde{x}"]
    return reads[0].indices[-1]


def _start_map(name: str, pos: sympy.Expr, origin: str, derivation: str) -> IndexMap:
    """Window start of one tap: the position at $o = 0$; the step must be $S$ (checked)."""
    s = next(v for v in pos.free_symbols if v.name == "S")
    o = next(v for v in pos.free_symbols if v.name == "o")
    if sympy.expand(pos - pos.subs(o, 0) - s * o) != 0:
        raise SpecError(f"codegen: position {pos} is not start + S*o; cannot print a window")
    start = _by_name(pos.subs(o, 0), {"a": "a", "K": "k", "D": "d"})
    return IndexMap(name, ("a", "k", "d"), start, origin, derivation)


def _size_maps() -> list[IndexMap]:
    i, k, s, d, lo, hi, p = _sym("i", "k", "s", "d", "lo", "hi", "p")
    reach = _sizes.dilated_extent(k, d) - 1
    return [
        IndexMap(
            "_conv_out",
            ("i", "k", "s", "d", "lo", "hi"),
            _sizes.conv_out(i, k, s, d, lo, hi),
            "output length (symconv._sizes.conv_out).",
            derivation="symconv._sizes.conv_out",
        ),
        IndexMap(
            "_reach",
            ("k", "d"),
            reach,
            "GradInput's full padding d(k - 1) on each side.",
            derivation="symconv.backprop.grad_input_op",
        ),
        IndexMap(
            "_unused",
            ("i", "k", "s", "d", "lo", "hi"),
            _sizes.unused(i, k, s, d, lo, hi),
            "GradInput's extra high padding: the unread tail (symconv._sizes.unused).",
            derivation="symconv.backprop.grad_input_op",
        ),
        IndexMap(
            "_transpose_lo",
            ("k", "d", "p"),
            reach - p,
            "ConvTranspose as a direct convolution: pad p' = d(k - 1) - p "
            "(symconv.transpose.conv_transpose_equivalent).",
            derivation="symconv.transpose.conv_transpose_equivalent",
        ),
    ]


def _grad_weight_start() -> IndexMap:
    """GradWeight: $\\tilde x$ correlated with $\\delta$, stride $D$, dilation $S$: output
    (= weight tap) $a$ reads from $D a + S o$, so its window starts at the position at $o = 0$."""
    pos = _position(Conv(dims=1, kernel_size=1))  # S*o + D*a of a plain correlation
    syms = {v.name: v for v in pos.free_symbols}
    tap, d = _sym("a", "d")
    # the gradient convolution: its stride is the forward dilation, its output index is the tap
    gw = pos.xreplace({syms["S"]: d, syms["o"]: tap, syms["a"]: sympy.Integer(0)})
    return IndexMap(
        "_gw_start",
        ("a", "d"),
        gw,
        "GradWeight window start of weight tap a (stride D, o = 0).",
        derivation="symconv.backprop.grad_weight_op",
    )


def _pool_maps() -> list[IndexMap]:
    pos = _position(Pool(dims=1, kind="max", kernel_size=1))  # S*o + D*a
    syms = {v.name: v for v in pos.free_symbols}
    o, a, s, d, p, i, k, j, m = _sym("o", "a", "s", "d", "p", "i", "k", "j", "out")
    ren = {syms["S"]: s, syms["D"]: d, syms["o"]: o, syms["a"]: a}
    inside = _phi_map("zeros").expr.args[0][1]  # (u >= 0) & (u < n) of the zeros padding map
    u, n = (sympy.Symbol(v, integer=True) for v in ("u", "n"))
    return [
        IndexMap(
            "_pool_start",
            ("a", "d"),
            pos.xreplace({**ren, o: 0}).subs(o, 0),
            "pooling window start of tap a (Pool index form S*o + D*a at o = 0).",
            derivation="symconv.indexform.IndexForm.expression",
        ),
        IndexMap(
            "_pool_source",
            ("o", "a", "s", "d", "p"),
            pos.xreplace(ren) - p,
            "input coordinate read by output o at tap a: S*o + D*a - P.",
            derivation="symconv.indexform.IndexForm.expression",
        ),
        IndexMap(
            "_in_padded",
            ("j", "i", "p"),
            sympy.StrictLessThan(j, _sizes.padded_length(i, p, p)),
            "a padded position inside x~ (its length: symconv._sizes.padded_length).",
            derivation="symconv.indexform.IndexForm.in_shape",
        ),
        IndexMap(
            "_in_input",
            ("j", "i", "p"),
            inside.xreplace({u: j - p, n: i}),
            "a padded position that reads the input (the zeros padding map is not -1).",
            derivation="symconv.indexform.IndexForm.padding_expression",
        ),
        IndexMap(
            "_ceil_extra",
            ("i", "k", "s", "d", "p", "out"),
            sympy.Max(
                0,
                s * (m - 1) + _sizes.dilated_extent(k, d) - _sizes.padded_length(i, p, p),
            ),
            "ceil mode: how far the last window reaches beyond the padded input.",
            derivation="symconv.indexform.IndexForm.expression",
        ),
    ]


def form_summary() -> list[str]:
    """The index forms the modules are printed from, one line each (for the header)."""
    conv = index_form(Conv(dims=1, kernel_size=1)).expression()
    flip = index_form(Conv(dims=1, kernel_size=1, flip=True)).expression()
    pool = index_form(Pool(dims=1, kind="max", kernel_size=1)).expression()
    return [
        f"conv:  {conv.lhs} = {conv.rhs}",
        f"flip:  {flip.lhs} = {flip.rhs}",
        f"pad:   {index_form(Conv(dims=1, kernel_size=1)).padding_expression()}",
        f"pool:  {pool.lhs} = {pool.rhs}",
        "grad:  symconv.backprop.GradInput / GradWeight; symconv.poolgrad rules",
    ]


def conv_nodes() -> list:
    """Index maps and kernels of the convolution module."""
    maps = [_phi_map(m) for m in _MODES]
    maps.append(
        _start_map(
            "_start_corr",
            _position(Conv(dims=1, kernel_size=1)),
            "window start of tap a, cross-correlation (index form S*o + D*a at o = 0).",
            "symconv.indexform.IndexForm.expression",
        )
    )
    maps.append(
        _start_map(
            "_start_flip",
            _position(Conv(dims=1, kernel_size=1, flip=True)),
            "window start of tap a, true convolution (S*o + D*(K - 1 - a) at o = 0).",
            "symconv.indexform.IndexForm.expression",
        )
    )
    maps += _size_maps()
    maps.append(_grad_weight_start())
    return maps + template_kernels("conv")


def pool_nodes() -> list:
    """Index maps and kernels of the pooling module."""
    return _pool_maps() + template_kernels("pool")
