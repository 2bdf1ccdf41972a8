r"""Backpropagation through convolution, derived from the index form.

For the cross-correlation $y[o] = b + \sum_a \tilde x[S o + D a]\, w[a]$ (one axis, one channel;
channels and groups only add the channel sums) and an upstream gradient
$\delta[o] = \partial L / \partial y[o]$, the chain rule and the collapse of a Kronecker delta give

- $\partial L/\partial \tilde x$ = the *full* correlation of the stride-dilated $\hat\delta$
  ($\hat\delta[S o] = \delta[o]$, zeros between) with the flipped kernel, at dilation $D$;
  then $\partial L/\partial x = \mathrm{Pad}^\top\, \partial L/\partial \tilde x$ (crop for zeros,
  fold back for reflect, replicate and circular);
- $\partial L/\partial w$ = the correlation of the padded input with $\delta$ dilated by the
  stride $S$, read at stride $D$;
- $\partial L/\partial b$ = the sum of $\delta$.

`backprop(spec)` returns the `Derivation` (general steps with symbolic sizes) and the derived
gradient operators as specs of their own (`GradInput`, `GradWeight`): the numeric backend runs
exactly these. `verify()` checks them against $T^\top\delta$ and $X^\top\delta$ (the Toeplitz and
patch matrices) as exact bilinear identities on a grid of specs.

```python
>>> import symconv as sc
>>> d = sc.backprop(sc.Conv(dims=1, kernel_size=3, stride=2, padding=1))
>>> d["grad_input"].conv.pads, d["grad_input"].conv.flip    # full padding, flipped kernel
(((2, 2),), True)

```
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from . import _sizes
from ._cache import pure
from ._errors import SpecError
from ._tables import Table, same_factors, table
from .derivation import Derivation, grid_check
from .indexform import index_form
from .limits import check_symbolic
from .poolgrad import pool_backprop
from .spec import PADDING_MODES, Conv, Pool

__all__ = [
    "GradInput",
    "GradWeight",
    "activation_step",
    "backprop",
    "exact_grid",
    "grad_input_op",
    "grad_weight_op",
    "sympy_gradients",
    "verify_exact",
]


@dataclass(frozen=True)
class GradInput:
    r"""$\partial L/\partial x$ as a convolution: dilate $\delta$ by `stride`, run `conv`, fold.

    `conv` maps $\hat\delta$ (channels $C_\mathrm{out}$) to $\partial L/\partial\tilde x$ (channels
    $C_\mathrm{in}$, the padded size); its weight is the forward weight with the two channel
    axes exchanged within each group (`transpose_weight`), and `flip` toggled. `pads` is the
    forward padding that $\mathrm{Pad}^\top$ removes (or folds back, for `padding_mode`).
    """

    spec: Conv
    conv: Conv
    stride: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    padding_mode: str

    def direct_padding(self) -> tuple[tuple[int, int], ...]:
        """Padding of the same convolution applied straight to $\\hat\\delta$ giving
        $\\partial L/\\partial x$ for zero padding (negative = crop): JAX's formula."""
        return tuple(
            (lo - plo, hi - phi)
            for (lo, hi), (plo, phi) in zip(self.conv.pads, self.pads, strict=True)
        )


@dataclass(frozen=True)
class GradWeight:
    r"""$\partial L/\partial w$ as a convolution of $\tilde x$ with $\delta$ as the kernel.

    Per (output channel $k$, input channel $c$): `conv` (one channel, kernel = the output size,
    dilation = the forward stride, stride = the forward dilation, no padding) runs over the padded
    input channel $\lfloor k/(C_\mathrm{out}/G)\rfloor C_\mathrm{in}/G + c$ with $\delta[k]$ as the
    kernel; the first `kernel_size` outputs are $\partial L/\partial w[k, c]$, reversed along
    every kernel axis when `flip` (a true convolution reads tap $a$ at $K - 1 - a$).
    """

    spec: Conv
    conv: Conv
    padded_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    flip: bool


def _check_conv(spec: Any, op: str) -> Conv:
    if not isinstance(spec, Conv) or type(spec) is not Conv:
        raise SpecError(f"{op}: expected a symconv.Conv, got {type(spec).__name__}")
    return spec


def grad_input_op(spec: Conv, input_size: int | Sequence[int]) -> GradInput:
    """The derived $\\partial L/\\partial x$ operator of `spec` at `input_size` (`GradInput`)."""
    spec = _check_conv(spec, "grad_input_op")
    fit = spec.fits(input_size)
    pads = []
    for a in range(spec.dims):
        k, _, d, _, _ = spec._axis(a)
        reach = _sizes.dilated_extent(k, d) - 1
        pads.append((reach, reach + fit.unused[a]))  # full padding, plus the unread tail
    conv = Conv(
        dims=spec.dims,
        in_channels=spec.out_channels,
        out_channels=spec.in_channels,
        kernel_size=spec.kernel_size,
        stride=1,
        padding=tuple(pads),
        dilation=spec.dilation,
        groups=spec.groups,
        bias=False,
        flip=not spec.flip,
    )
    return GradInput(spec, conv, spec.stride, spec.pads, spec.padding_mode)


def grad_weight_op(spec: Conv, input_size: int | Sequence[int]) -> GradWeight:
    """The derived $\\partial L/\\partial w$ operator of `spec` at `input_size` (`GradWeight`)."""
    spec = _check_conv(spec, "grad_weight_op")
    out = spec.output_size(input_size)
    sizes = spec._check_input(input_size)
    padded = tuple(_sizes.padded_length(i, *spec.pads[a]) for a, i in enumerate(sizes))
    conv = Conv(
        dims=spec.dims,
        in_channels=1,
        out_channels=1,
        kernel_size=out,
        stride=spec.dilation,
        dilation=spec.stride,
        bias=False,
    )
    return GradWeight(spec, conv, padded, spec.kernel_size, spec.flip)


def transpose_weight(spec: Conv) -> np.ndarray:
    """Index map of the gradient convolution's weight: entry `[ci, kl, *a]` holds the flat index
    of the forward weight `w[g*(C_out/G) + kl, ci - g*(C_in/G), *a]`, `g = ci // (C_in/G)`."""
    cin_g, cout_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    flat = np.arange(math.prod(spec.weight_shape)).reshape(spec.weight_shape)
    ci = np.arange(spec.in_channels)
    g = ci // cin_g
    kl = np.arange(cout_g)
    return flat[g[:, None] * cout_g + kl[None, :], (ci - g * cin_g)[:, None]]


# -- exact verification: both sides as integer coefficient tables of bilinear forms ------------
# Each side is a product (IndexForm.factors): a channel table times one table per axis; equal
# factors give equal products, so the check costs the factors' size, not the layer's.
def _empty() -> Table:
    return table(np.zeros(0), np.zeros(0), np.zeros(0))


@pure(maxsize=64)
def _direct_factors(spec: Conv, sizes: tuple[int, ...], order: tuple[int, int, int]) -> list[Table]:
    """The forward operator's factors as (input, weight, delta) keys permuted by `order`:
    channels `(c_in, lead, k)`, each axis `(i, a, o)`."""
    f = index_form(spec, sizes).factors()
    k, cin, lead = f.channels.T
    ch = (cin, lead, k)
    out = [table(*(ch[j] for j in order))]
    for ax in f.axes:
        o, a, i = ax.T
        keys = (i, a, o)
        out.append(table(*(keys[j] for j in order)))
    return out


def _padded(spec: Conv, sizes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(_sizes.padded_length(i, *spec.pads[a]) for a, i in enumerate(sizes))


def _grad_input_tables(
    spec: Conv, sizes: tuple[int, ...], op: GradInput | None = None
) -> tuple[list[Table], list[Table]]:
    r"""$(T^\top\delta)$ and the derived $\partial L/\partial x$, as factor tables of
    (input index, weight index, delta index) -> coefficient: channels, then each axis."""
    direct = _direct_factors(spec, tuple(sizes), (0, 1, 2))
    op = grad_input_op(spec, sizes) if op is None else op
    out = spec.output_size(sizes)
    dil = tuple(s * (o - 1) + 1 for s, o in zip(op.stride, out, strict=True))
    padded = _padded(spec, sizes)
    if op.conv.output_size(dil) != tuple(n for n, _ in zip(padded, dil, strict=True)):
        return direct, [_empty()]
    gf = index_form(op.conv, dil).factors()
    # the gradient conv's weight [ci, kl, *a] is the forward weight at transpose_weight's index
    n_a = math.prod(spec.kernel_size)
    tw = transpose_weight(spec).reshape(-1, n_a)
    lead_map = tw[:, 0] // n_a
    if not np.array_equal(tw, lead_map[:, None] * n_a + np.arange(n_a)):
        return direct, [_empty()]  # a weight map that moves taps: not this layer's gradient
    ci, k, lead = gf.channels.T
    derived = [table(ci, lead_map[lead], k)]
    pform = index_form(spec, sizes)
    for d, (ax, s) in enumerate(zip(gf.axes, op.stride, strict=True)):
        p, a, m = ax.T  # padded position, tap, position in the stride-dilated delta
        keep = m % s == 0  # zeros between the dilated delta's values read nothing
        i = pform.pad_table(d)[p[keep]]  # Pad^T: fold padded positions back (-1: a zero pad)
        ok = i >= 0
        derived.append(table(i[ok], a[keep][ok], m[keep][ok] // s))
    return direct, derived


def _grad_weight_tables(
    spec: Conv, sizes: tuple[int, ...], op: GradWeight | None = None
) -> tuple[list[Table], list[Table]]:
    r"""$(X^\top\delta)$ and the derived $\partial L/\partial w$, as factor tables of
    (weight index, input index, delta index) -> coefficient: channels, then each axis."""
    direct = _direct_factors(spec, tuple(sizes), (1, 0, 2))
    op = grad_weight_op(spec, sizes) if op is None else op
    gf = index_form(op.conv, op.padded_size).factors()
    cin_g, cout_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    k, c = np.divmod(np.arange(spec.out_channels * cin_g), cin_g)
    derived = [table(k * cin_g + c, (k // cout_g) * cin_g + c, k)]
    pform = index_form(spec, sizes)
    for d, (ax, kk) in enumerate(zip(gf.axes, spec.kernel_size, strict=True)):
        a, o, xt = ax.T  # output of the gradient conv (a tap), delta position, padded input
        keep = a < kk  # the first kernel_size outputs
        a = kk - 1 - a[keep] if op.flip else a[keep]
        x = pform.pad_table(d)[xt[keep]]
        ok = x >= 0
        derived.append(table(a[ok], x[ok], o[keep][ok]))
    return direct, derived


def verify_exact(
    spec: Conv,
    input_size: int | Sequence[int],
    *,
    grad_input: GradInput | None = None,
    grad_weight: GradWeight | None = None,
) -> tuple[bool, bool]:
    r"""Exact check on one spec: $T^\top\delta = \partial L/\partial x$ and
    $X^\top\delta = \partial L/\partial w$, for all $w$ and $\delta$.

    Both sides are bilinear forms in ($w$, $\delta$) with integer coefficients; comparing the
    coefficient tables is exact symbolic equality. Each table is a product (channel pairs times
    one tap table per axis, `IndexForm.factors`) and is compared factor by factor, so a
    64x64 layer with 16 -> 16 channels costs its 3x3 taps per axis, not its 9.4M taps.
    `grad_input`/`grad_weight` replace the derived operators (to show that a wrong one is
    caught).
    """
    sizes = spec._check_input(input_size)
    if grad_input is None and grad_weight is None:
        return _verify_derived(spec, tuple(sizes))
    return (
        same_factors(*_grad_input_tables(spec, sizes, grad_input)),
        same_factors(*_grad_weight_tables(spec, sizes, grad_weight)),
    )


@pure(maxsize=8192)
def _verify_derived(spec: Conv, sizes: tuple[int, ...]) -> tuple[bool, bool]:
    """`verify_exact` of the derived operators, once per (spec, size) and process."""
    return (
        same_factors(*_grad_input_tables(spec, sizes)),
        same_factors(*_grad_weight_tables(spec, sizes)),
    )


def sympy_gradients(spec: Conv, input_size: int | Sequence[int]) -> dict[str, Any]:
    r"""Differentiate $L = \sum \delta \cdot y$ with SymPy, $y = Tx + b$ built from the index form:
    the independent check of the derived rules (small specs only)."""
    sizes = spec._check_input(input_size)
    g = index_form(spec, sizes).gather()
    if len(g) > 4000:
        raise SpecError(f"sympy_gradients: {len(g)} taps is too many for SymPy; use verify_exact")
    w, x, b, delta = (sympy.IndexedBase(n) for n in ("w", "x", "b", "delta"))
    n_out = math.prod(g.out_shape)
    per_channel = n_out // spec.out_channels
    y = [b[r // per_channel] if spec.bias else sympy.Integer(0) for r in range(n_out)]
    for r, c, k in zip(g.rows.tolist(), g.cols.tolist(), g.weights.tolist(), strict=True):
        y[r] += w[k] * x[c]
    loss = sum(delta[r] * y[r] for r in range(n_out))
    return {
        "loss": loss,
        "x": x,
        "w": w,
        "b": b,
        "delta": delta,
        "rows": n_out,
        "per_channel": per_channel,
    }


def exact_grid(dims: Iterable[int] = (1, 2), quick: bool = False) -> list[tuple[Conv, tuple]]:
    """The exact-level verification grid: sizes up to 7, kernels up to 3, strides and dilations
    up to 3, padding 0-2, every padding mode, groups 1 (2 -> 3 channels) and 2 (4 -> 2),
    cross-correlation and true convolution; specs the input size cannot take are skipped.
    In 2D the sizes are 3 and 5 and stride equals dilation or one of them is 1; `quick` keeps
    about a third of the cases."""
    return list(_exact_grid(tuple(dims), bool(quick)))


@pure(maxsize=16)
def _exact_grid(dims: tuple[int, ...], quick: bool) -> tuple[tuple[Conv, tuple], ...]:
    cases = []
    for dims_, mode, flip, groups in itertools.product(dims, PADDING_MODES, (False, True), (1, 2)):
        sizes = (1, 3, 5, 7) if dims_ == 1 else (3, 5)
        cin, cout = (2, 3) if groups == 1 else (4, 2)
        for n, k, s, d, p in itertools.product(sizes, (1, 2, 3), (1, 2, 3), (1, 2, 3), (0, 1, 2)):
            if quick and (n + k + s + d + p) % 3:
                continue
            if dims_ == 2 and s != d and 1 not in (s, d):
                continue
            try:
                spec = Conv(
                    dims=dims_,
                    in_channels=cin,
                    out_channels=cout,
                    kernel_size=k,
                    stride=s,
                    dilation=d,
                    padding=p,
                    groups=groups,
                    padding_mode=mode,
                    flip=flip,
                )
                size = spec._check_input((n,) * dims_)
            except SpecError:
                continue
            cases.append((spec, size))
    return tuple(cases)


# -- the derivation ------------------------------------------------------------------------------
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

    def collapse() -> tuple[int, float, bool, str]:
        ws = sympy.symbols("w0:4")
        cases = list(itertools.product(range(1, 4), range(1, 4), range(1, 4), range(7), range(3)))

        def err(c: tuple[int, ...]) -> float:
            kk, ss, dd, jj, oo = c
            weights = {w[t]: ws[t] for t in range(kk)}
            left = sum((ws[t] for t in range(kk) if jj == ss * oo + dd * t), start=sympy.Integer(0))
            # xreplace with Integers evaluates the Piecewise as subs does, 7x faster
            values = dict(zip((K, S, D, j, o), map(sympy.Integer, c), strict=True))
            right = collapsed.xreplace(values).xreplace(weights)
            return 0.0 if sympy.expand(left - right) == 0 else 1.0

        return grid_check(cases, err)

    def flip() -> tuple[int, float, bool, str]:
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

    def check() -> tuple[int, float, bool, str]:
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
        return 3, 0.0 if ok else 1.0, ok, "3 units, generic h"

    d.check("delta_j = h'(a_j) sum_k delta_k w_kj", "general", check)
    return d


def backprop(spec: Conv | Pool, input_size: int | Sequence[int] | None = None) -> Derivation:
    r"""Derive $\partial L/\partial x$, $\partial L/\partial w$, $\partial L/\partial b$ of `spec`.

    For a `Conv`: the general derivation (symbolic sizes), then the derived operators at
    `input_size` (default: 7 per axis, or the smallest size the spec accepts) in
    `d["grad_input"]` (`GradInput`), `d["grad_weight"]` (`GradWeight`) and the bias rule.
    `verify()` checks them exactly against $T^\top\delta$ and $X^\top\delta$ on this spec and on
    the verification grid. For a `Pool`, see `symconv.poolgrad.pool_backprop`.
    """
    check_symbolic("backprop", spec, input_size)  # the cost first: integer arithmetic only
    if isinstance(spec, Pool):
        return pool_backprop(spec, input_size)
    spec = _check_conv(spec, "backprop")
    size = _default_size(spec) if input_size is None else spec._check_input(input_size)
    d = Derivation(f"Backpropagation through {spec}")
    _general_steps(d)
    gi, gw = grad_input_op(spec, size), grad_weight_op(spec, size)
    d.results.update(
        grad_input=gi,
        grad_weight=gw,
        grad_bias="sum of delta over batch and space",
        input_size=size,
    )
    d.add_step(
        "This layer: dL/dx",
        sympy.Symbol(
            rf"\text{{dilate }}\delta\text{{ by }}{list(spec.stride)},\ \text{{then }}"
            rf"\mathrm{{{gi.conv}}}".replace("_", r"\_")
        ),
        f"padding {gi.conv.pads} = full padding plus the {list(spec.fits(size).unused)} "
        "unread tail; then Pad^T",
        by="T^T delta = dL/dx",
    )
    d.add_step(
        "This layer: dL/dw",
        sympy.Symbol(rf"\mathrm{{{gw.conv}}}".replace("_", r"\_")),
        f"over the padded input {list(gw.padded_size)}, first {list(spec.kernel_size)} outputs",
        by="T^T delta = dL/dx",
    )

    def this_spec() -> tuple[int, float, bool, str]:
        ok = verify_exact(spec, size)
        return 2, 0.0 if all(ok) else 1.0, all(ok), f"at input {size}"

    def bias() -> tuple[int, float, bool, str]:
        small = spec._check_input(_default_size(spec, start=1))
        layer = spec.replace(bias=True)
        reduced = ""
        if index_form(layer, small).tap_count() > 256:  # SymPy's diff is per term: keep it small
            g = spec.groups
            cin, cout = spec.in_channels // g, spec.out_channels // g
            layer = layer.replace(in_channels=g * min(cin, 2), out_channels=g * min(cout, 2))
            reduced = f", {layer.in_channels} -> {layer.out_channels} channels"
        sg = sympy_gradients(layer, small)
        per = sg["per_channel"]
        bad = sum(
            sympy.expand(
                sympy.diff(sg["loss"], sg["b"][k])
                - sum(sg["delta"][k * per + o] for o in range(per))
            )
            != 0
            for k in range(layer.out_channels)
        )
        return layer.out_channels, float(bad), bad == 0, f"SymPy diff at input {small}{reduced}"

    def grid() -> tuple[int, float, bool, str]:
        cases = exact_grid(dims=(spec.dims,) if spec.dims < 3 else (1, 2), quick=True)
        bad = [(str(c), s) for c, s in cases if not all(verify_exact(c, s))]
        return len(cases), float(len(bad)), not bad, f"first failure {bad[0]}" if bad else ""

    def jax_padding() -> tuple[int, float, bool, str]:
        # zero padding: the padding on delta-hat giving dL/dx directly equals JAX's formula
        i, k, s, dd, lo, hi = sympy.symbols("i k s d lo hi", integer=True, positive=True)
        o = _sizes.conv_out(i, k, s, dd, lo, hi)
        reach = _sizes.dilated_extent(k, dd) - 1
        unused = (i + lo + hi - reach - 1) - s * (o - 1)
        ours = (reach - lo, reach + unused - hi)
        jax = (reach - lo, i + reach - (s * (o - 1) + 1) - (reach - lo))
        ok = all(sympy.simplify(p - q) == 0 for p, q in zip(ours, jax, strict=True))
        return 1, 0.0 if ok else 1.0, ok, "symbolic in i, k, s, d, lo, hi"

    d.check("T^T delta = dL/dx and X^T delta = dL/dw (this spec)", "exact", this_spec)
    d.check("dL/db = sum of delta (SymPy differentiation)", "exact", bias)
    d.check("same on the verification grid", "exact", grid)
    d.check("zero padding: lands on JAX's gradient padding", "general", jax_padding)
    return d


def _default_size(spec: Conv, start: int = 7) -> tuple[int, ...]:
    for n in range(start, 64):
        try:
            return spec._check_input((n,) * spec.dims)
        except SpecError:
            continue
    return spec._check_input((64,) * spec.dims)
