r"""An index form as a formula: `expression()` (the operator as a SymPy equation with symbolic
sizes), `padding_expression()` ($\tilde x$ from $x$), the symbols and their values for one
spec, and `WindowMax`, max pooling's unevaluated window maximum. `IndexForm`'s methods of the
same names call these."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy

if TYPE_CHECKING:
    from . import IndexForm


class WindowMax(sympy.Function):
    r"""Unevaluated maximum over a window: `WindowMax(expr, (a, 0, K - 1), ...)`.

    Renders as $\max_{0 \le a < K} \mathrm{expr}$; the limits follow `sympy.Sum`'s convention
    (inclusive upper bound).
    """

    @classmethod
    def eval(cls, *args: Any) -> None:
        return None

    def _latex(self, printer: Any) -> str:
        expr, *limits = self.args
        lims = r",\ ".join(
            rf"{printer._print(lo)} \le {printer._print(v)} \le {printer._print(hi)}"
            for v, lo, hi in limits
        )
        return rf"\max_{{{lims}}} {printer._print(expr)}"


def symbols(form: IndexForm) -> dict[str, Any]:
    """`IndexForm.symbols`: the size and index symbols of `expression()`."""

    def sub(name: str, a: int) -> sympy.Symbol:
        return sympy.Symbol(
            name if form.dims == 1 else f"{name}_{a + 1}", integer=True, nonnegative=True
        )

    pos = {"integer": True, "positive": True}
    return {
        "C_in": sympy.Symbol(r"C_{\mathrm{in}}", **pos),
        "C_out": sympy.Symbol(r"C_{\mathrm{out}}", **pos),
        "G": sympy.Symbol("G", **pos),
        "K": [sub("K", a) for a in range(form.dims)],
        "S": [sub("S", a) for a in range(form.dims)],
        "D": [sub("D", a) for a in range(form.dims)],
        "P": [sub("P", a) for a in range(form.dims)],
        "T": [sub("t", a) for a in range(form.dims)],
        "o": [sub("o", a) for a in range(form.dims)],
        "a": [sub("a", a) for a in range(form.dims)],
        "i": [sub("i", a) for a in range(form.dims)],
        "I": [sub("I", a) for a in range(form.dims)],
        "n": sympy.Symbol("n", integer=True, nonnegative=True),
        "k": sympy.Symbol("k", integer=True, nonnegative=True),
        "c": sympy.Symbol("c", integer=True, nonnegative=True),
    }


def substitutions(form: IndexForm) -> dict[sympy.Symbol, int]:
    """`IndexForm.substitutions`: this spec's values for the size symbols."""
    s = symbols(form)
    out: dict[sympy.Symbol, int] = {
        s["C_in"]: form.in_channels,
        s["C_out"]: form.out_channels,
        s["G"]: form.groups,
    }
    for a, ax in enumerate(form.axes):
        out.update(
            {
                s["K"][a]: ax.kernel,
                s["S"][a]: ax.stride,
                s["D"][a]: ax.dilation,
                s["P"][a]: ax.lo,
            }
        )
        if form.tiles is not None:
            out[s["T"][a]] = form.tiles[a]
        if ax.size is not None:
            out[s["I"][a]] = ax.size
    return out


def expression(form: IndexForm, symbolic: bool = True) -> sympy.Eq:
    """`IndexForm.expression`: the operator as `Eq(y[n, k, *o], rhs)`."""
    s = symbols(form)
    x, xt = sympy.IndexedBase("x"), sympy.IndexedBase(r"\tilde{x}")
    w, b, y = sympy.IndexedBase("w"), sympy.IndexedBase("b"), sympy.IndexedBase("y")
    n, k, c, o, a = s["n"], s["k"], s["c"], s["o"], s["a"]
    K, S, D = s["K"], s["S"], s["D"]
    cin_g, cout_g = s["C_in"] / s["G"], s["C_out"] / s["G"]
    limits = [(a[i], 0, K[i] - 1) for i in range(form.dims)]
    lhs = y[(n, k, *o)]
    if form.kind == "transpose":  # scatter: y[q] = sum over i, a with S i + D a - P = q
        i, P = s["i"], s["P"]
        cin = sympy.floor(k / cout_g) * cin_g + c
        term = x[(n, cin, *i)] * w[(cin, sympy.Mod(k, cout_g), *a)]
        for ax in range(form.dims):
            term *= sympy.KroneckerDelta(o[ax], S[ax] * i[ax] + D[ax] * a[ax] - P[ax])
        rhs = sympy.Sum(
            term,
            (c, 0, cin_g - 1),
            *[(i[ax], 0, s["I"][ax] - 1) for ax in range(form.dims)],
            *limits,
        )
        rhs = b[k] + rhs if form.spec.bias else rhs
        return finish(form, lhs, rhs, symbolic)
    taps = [K[i] - 1 - a[i] if ax.flip else a[i] for i, ax in enumerate(form.axes)]
    pos = [S[i] * o[i] + D[i] * taps[i] for i in range(form.dims)]
    if form.kind == "pool":
        read = xt[(n, k, *pos)]
        spec = form.spec
        if spec.kind == "max":
            rhs = WindowMax(read, *[sympy.Tuple(*lim) for lim in limits])
        elif spec.kind == "avg":
            if spec.divisor_override is not None:
                div = sympy.Integer(spec.divisor_override)
            elif spec.count_include_pad:
                div = sympy.Mul(*K)
            else:
                div = sympy.Symbol(r"N_{o}", integer=True, positive=True)
            rhs = sympy.Sum(read, *limits) / div
        else:
            p = sympy.Symbol("p", positive=True)
            rhs = sympy.Pow(sympy.Sum(read**p, *limits), 1 / p)
        return finish(
            form, lhs, rhs, symbolic, extra={p: spec.norm_type} if spec.kind == "lp" else None
        )
    groups_one = not symbolic and form.groups == 1
    cin = c if groups_one else sympy.floor(k / cout_g) * cin_g + c
    if form.kind == "local":
        widx = (k, *o, c, *a)
    elif form.kind == "tiled":
        widx = (k, *(sympy.Mod(o[i], s["T"][i]) for i in range(form.dims)), c, *a)
    else:
        widx = (k, c, *a)
    rhs = sympy.Sum(xt[(n, cin, *pos)] * w[widx], (c, 0, cin_g - 1), *limits)
    if form.spec.bias:
        rhs = b[(k, *o)] + rhs if form.kind == "local" else b[k] + rhs
    return finish(form, lhs, rhs, symbolic)


def finish(
    form: IndexForm, lhs: Any, rhs: Any, symbolic: bool, extra: dict | None = None
) -> sympy.Eq:
    """The equation `lhs = rhs`, with this spec's sizes put in unless `symbolic`."""
    eq = sympy.Eq(lhs, rhs, evaluate=False)
    if not symbolic:
        subs = substitutions(form) | (extra or {})
        eq = sympy.Eq(
            lhs, rhs.xreplace({k: sympy.sympify(v) for k, v in subs.items()}), evaluate=False
        )
    return eq


def padding_expression(form: IndexForm) -> sympy.Eq:
    """`IndexForm.padding_expression`: the padded input from `x`."""
    s = symbols(form)
    x, xt = sympy.IndexedBase("x"), sympy.IndexedBase(r"\tilde{x}")
    n, c = s["n"], s["c"]
    j = [
        sympy.Symbol("j" if form.dims == 1 else f"j_{a + 1}", integer=True)
        for a in range(form.dims)
    ]
    idx, inside = [], []
    for a, ax in enumerate(form.axes):
        u, size = j[a] - s["P"][a], s["I"][a]
        inside.append(sympy.And(u >= 0, u < size))
        idx.append(
            {
                "circular": sympy.Mod(u, size),
                "replicate": sympy.Min(sympy.Max(u, 0), size - 1),
                "reflect": (size - 1) - sympy.Abs((size - 1) - sympy.Abs(u)),
            }.get(ax.mode, u)
        )
    rhs = x[(n, c, *idx)]
    if all(ax.mode == "zeros" for ax in form.axes):
        rhs = sympy.Piecewise((rhs, sympy.And(*inside)), (0, True))
    return sympy.Eq(xt[(n, c, *j)], rhs, evaluate=False)
