r"""The general steps of `symconv.backprop`: the chain rule through a convolution with symbolic
sizes (one axis, one channel), down to $\partial L/\partial \tilde x$ as the full correlation of
the stride-dilated $\delta$ with the flipped kernel, $\partial L/\partial w$ and
$\partial L/\partial b$ (`_general_steps`, with its exact checks of the collapse and the flip),
and the step through an activation (`activation_step`). `backprop()` adds the layer's own
operators and their exact checks.

```python
>>> from symconv._backprop_general import activation_step
>>> activation_step().verify().passed
True

```
"""

from __future__ import annotations

import itertools

import sympy

from ._subs import at as _at
from .derivation import Derivation, Outcome, grid_check

# the exact checks that establish the general steps' result: the derived operators against
# T^T delta and X^T delta, on this layer and on the verification grid
_GRADIENTS = ("T^T delta = dL/dx", "same on the verification grid")


def _general_steps(d: Derivation) -> None:
    j, o, a, m = sympy.symbols("j o a m", integer=True)
    S, D, K = sympy.symbols("S D K", integer=True, positive=True)
    x, w, b, delta = (sympy.IndexedBase(n) for n in (r"\tilde{x}", "w", "b", r"\delta"))
    dhat = sympy.IndexedBase(r"\hat{\delta}")
    L = sympy.Symbol("L")
    y = sympy.Sum(x[S * o + D * a] * w[a], (a, 0, K - 1)) + b
    d.add_step(
        "Forward (one axis, one channel)",
        sympy.Eq(sympy.Indexed("y", o), y),
        "the index form; channels and groups add sums over c",
        definition=True,
    )
    d.add_step(
        "Chain rule",
        sympy.Eq(
            sympy.Derivative(L, x[j]),
            sympy.Sum(
                delta[o] * sympy.Derivative(sympy.Indexed("y", o), x[j]),
                (o, 0, sympy.Symbol("O") - 1),
            ),
        ),
        r"delta[o] = dL/dy[o]",
        by=_GRADIENTS,
    )
    kd = sympy.Sum(w[a] * sympy.KroneckerDelta(j, S * o + D * a), (a, 0, K - 1))
    d.add_step(
        "Local derivative",
        sympy.Eq(sympy.Derivative(sympy.Indexed("y", o), x[j]), kd),
        "dx[S o + D a]/dx[j] is a Kronecker delta, written [j = S o + D a]",
        by=_GRADIENTS,
    )
    tap = (j - S * o) / D
    integral = sympy.Eq(sympy.Mod(j - S * o, D), 0)
    collapsed = sympy.Piecewise((w[tap], integral & (tap >= 0) & (tap <= K - 1)), (0, True))
    d.add_step(
        "The sum over a collapses",
        sympy.Eq(kd, collapsed),
        "one tap a = (j - S o)/D, when it is an integer in [0, K)",
        by="the sum over a collapses",
        keeps=(integral,),
    )
    d.add_step(
        "Dilate delta by the stride",
        sympy.Eq(dhat[m], sympy.Piecewise((delta[m / S], sympy.Eq(sympy.Mod(m, S), 0)), (0, True))),
        "so the sum over o becomes a sum over m = S o",
        definition=True,
    )
    grad = sympy.Sum(dhat[j - D * a] * w[a], (a, 0, K - 1))
    flipped = sympy.Sum(dhat[j - D * (K - 1) + D * a] * w[K - 1 - a], (a, 0, K - 1))
    d.add_step(
        "dL/dx~ as a correlation",
        sympy.Eq(sympy.Symbol(r"\frac{\partial L}{\partial \tilde{x}_j}"), grad),
        "substitute m = j - D a",
        by=_GRADIENTS,
    )
    d.add_step(
        "Flip the kernel",
        sympy.Eq(grad, flipped),
        "a -> K - 1 - a: dL/dx is the full correlation of the stride-dilated delta "
        "with the flipped kernel (padding D(K-1) each side), at dilation D",
        by="flip: the sum reindexed",
    )
    d.add_step(
        "Through the padding",
        sympy.Symbol(
            r"\frac{\partial L}{\partial x} = "
            r"\mathrm{Pad}^\top \frac{\partial L}{\partial \tilde{x}}"
        ),
        "zeros: crop; reflect, replicate, circular: add the copies back onto their source",
        by=_GRADIENTS,
    )
    gw = sympy.Sum(delta[o] * x[S * o + D * a], (o, 0, sympy.Symbol("O") - 1))
    d.add_step(
        "dL/dw",
        sympy.Eq(sympy.Symbol(r"\frac{\partial L}{\partial w_a}"), gw),
        "the correlation of the padded input with delta dilated by the stride S, read at stride D",
        by=_GRADIENTS,
    )
    d.add_step(
        "dL/db",
        sympy.Eq(
            sympy.Symbol(r"\frac{\partial L}{\partial b}"),
            sympy.Sum(delta[o], (o, 0, sympy.Symbol("O") - 1)),
        ),
        "dy[o]/db = 1: the sum of delta",
        by="dL/db = sum of delta",
    )
    d.results["collapsed"] = collapsed

    def collapse() -> Outcome:
        ws = sympy.symbols("w0:4")
        cases = list(itertools.product(range(1, 4), range(1, 4), range(1, 4), range(7), range(3)))

        def err(c: tuple[int, ...]) -> float:
            kk, ss, dd, jj, oo = c
            weights = {w[t]: ws[t] for t in range(kk)}
            left = sum((ws[t] for t in range(kk) if jj == ss * oo + dd * t), start=sympy.Integer(0))
            right = _at(_at(collapsed, {K: kk, S: ss, D: dd, j: jj, o: oo}), weights)
            return 0.0 if sympy.expand(left - right) == 0 else 1.0

        return grid_check(cases, err)

    def flip() -> Outcome:
        cases = list(range(1, 6))

        def err(kk: int) -> float:
            diff = (grad - flipped).subs(K, kk).doit()
            return 0.0 if sympy.expand(diff) == 0 else 1.0

        return grid_check(cases, err)

    d.check("the sum over a collapses: K, S, D < 4, j < 7, o < 3", "exact", collapse)
    d.check("flip: the sum reindexed a -> K - 1 - a, every K < 6", "exact", flip)


def activation_step() -> Derivation:
    r"""$\delta_j = h'(a_j) \sum_k \delta_k w_{kj}$: the step through an activation $z = h(a)$."""
    j, k, n = sympy.symbols("j k K", integer=True)
    a, w, delta = sympy.IndexedBase("a"), sympy.IndexedBase("w"), sympy.IndexedBase(r"\delta")
    h = sympy.Function("h")
    d = Derivation("Backpropagation through an activation")
    d.add_step(
        "Next layer",
        sympy.Eq(sympy.Indexed("a'", k), sympy.Sum(w[k, j] * h(a[j]), (j, 1, n))),
        "a'_k = sum_j w_kj h(a_j)",
        definition=True,
    )
    rhs = sympy.diff(h(a[j]), a[j]) * sympy.Sum(delta[k] * w[k, j], (k, 1, n))
    d.add_step(
        "Chain rule",
        sympy.Eq(delta[j], rhs),
        "delta_j = h'(a_j) sum_k delta_k w_kj: for a convolution the sum over k is the "
        "correlation with the flipped kernel",
        by="delta_j = h'(a_j)",
    )

    def check() -> Outcome:
        # symbolic: differentiate L = sum_k c_k a'_k with a'_k = sum_j w_kj h(a_j), 3 units each
        hs = sympy.Function("h")
        aa = sympy.symbols("a0:3")
        ww = sympy.Matrix(3, 3, lambda r, c: sympy.Symbol(f"w{r}{c}"))
        cc = sympy.symbols("c0:3")
        loss = sum(cc[r] * sum(ww[r, c] * hs(aa[c]) for c in range(3)) for r in range(3))
        ok = all(
            sympy.simplify(
                sympy.diff(loss, aa[c])
                - sympy.diff(hs(aa[c]), aa[c]) * sum(cc[r] * ww[r, c] for r in range(3))
            )
            == 0
            for c in range(3)
        )
        return Outcome(3, 0.0 if ok else 1.0, ok, "3 units, generic h")

    d.check("delta_j = h'(a_j) sum_k delta_k w_kj", "general", check)
    return d
