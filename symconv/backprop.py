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
from ._backprop_general import _general_steps, activation_step
from ._cache import pure
from ._errors import SpecError
from ._results import GradientCheck
from ._tables import Table, same_factors, table
from .derivation import Derivation, Outcome
from .indexform import index_form
from .limits import check_symbolic, factor_tables_cost
from .poolgrad import pool_backprop
from .spec import PADDING_MODES, Conv, Pool

__all__ = [
    "GradInput",
    "GradWeight",
    "GradientCheck",
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


def _grad_input_tables(
    spec: Conv, sizes: tuple[int, ...], op: GradInput | None = None
) -> tuple[list[Table], list[Table]]:
    r"""$(T^\top\delta)$ and the derived $\partial L/\partial x$, as factor tables of
    (input index, weight index, delta index) -> coefficient: channels, then each axis."""
    direct = _direct_factors(spec, tuple(sizes), (0, 1, 2))
    op = grad_input_op(spec, sizes) if op is None else op
    out = spec.output_size(sizes)
    dil = tuple(s * (o - 1) + 1 for s, o in zip(op.stride, out, strict=True))
    pform = _pad_form(spec, sizes, op)  # Pad^T as the operator states it
    if pform is None:
        return direct, [_empty()]
    padded = tuple(len(pform.pad_table(d)) for d in range(spec.dims))
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
    for d, (ax, s) in enumerate(zip(gf.axes, op.stride, strict=True)):
        p, a, m = ax.T  # padded position, tap, position in the stride-dilated delta
        keep = m % s == 0  # zeros between the dilated delta's values read nothing
        i = pform.pad_table(d)[p[keep]]  # Pad^T: fold padded positions back (-1: a zero pad)
        ok = i >= 0
        derived.append(table(i[ok], a[keep][ok], m[keep][ok] // s))
    return direct, derived


def _pad_form(spec: Conv, sizes: tuple[int, ...], op: GradInput) -> Any:
    r"""The index form whose `pad_table` is the operator's own $\mathrm{Pad}^\top$ (its `pads`
    and `padding_mode`, the layer's unless changed); None where they make no layer."""
    if op.pads == spec.pads and op.padding_mode == spec.padding_mode:
        return index_form(spec, sizes)
    try:
        layer = spec.replace(padding=op.pads, padding_mode=op.padding_mode)
        return index_form(layer, layer._check_input(sizes))
    except SpecError:
        return None


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
    if len(op.kernel_size) != spec.dims:
        return direct, [_empty()]
    for d, (ax, kk) in enumerate(zip(gf.axes, op.kernel_size, strict=True)):
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
) -> GradientCheck:
    r"""Exact check on one spec: $T^\top\delta = \partial L/\partial x$ and
    $X^\top\delta = \partial L/\partial w$, for all $w$ and $\delta$.

    Both sides are bilinear forms in ($w$, $\delta$) with integer coefficients; comparing the
    coefficient tables is exact symbolic equality. Each table is a product (channel pairs times
    one tap table per axis, `IndexForm.factors`) and is compared factor by factor, so a
    64x64 layer with 16 -> 16 channels costs its 3x3 taps per axis, not its 9.4M taps.
    `grad_input`/`grad_weight` replace the derived operators (to show that a wrong one is
    caught). Returns a `GradientCheck(grad_input, grad_weight)`: each rule holds or not;
    `all(...)` is both.
    """
    sizes = spec._check_input(input_size)
    if grad_input is None and grad_weight is None:
        return _verify_derived(spec, tuple(sizes))
    return GradientCheck(
        same_factors(*_grad_input_tables(spec, sizes, grad_input)),
        same_factors(*_grad_weight_tables(spec, sizes, grad_weight)),
    )


@pure(maxsize=8192)
def _verify_derived(spec: Conv, sizes: tuple[int, ...]) -> GradientCheck:
    """`verify_exact` of the derived operators, once per (spec, size) and process."""
    return GradientCheck(
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
    terms: list[list[Any]] = [[b[r // per_channel]] if spec.bias else [] for r in range(n_out)]
    for r, c, k in zip(g.rows.tolist(), g.cols.tolist(), g.weights.tolist(), strict=True):
        terms[r].append(w[k] * x[c])
    y = [sympy.Add(*row) for row in terms]  # one Add per row: `+=` re-sorted it per term
    loss = sympy.Add(*(delta[r] * y[r] for r in range(n_out)))
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
# the general steps (symbolic sizes) and activation_step live in symconv._backprop_general


def backprop(spec: Conv | Pool, input_size: int | Sequence[int] | None = None) -> Derivation:
    r"""Derive $\partial L/\partial x$, $\partial L/\partial w$, $\partial L/\partial b$ of `spec`.

    For a `Conv`: the general derivation (symbolic sizes), then the derived operators at
    `input_size` (default: 7 per axis, or the smallest size the spec accepts) in
    `d["grad_input"]` (`GradInput`), `d["grad_weight"]` (`GradWeight`) and the bias rule.
    `verify()` checks them exactly against $T^\top\delta$ and $X^\top\delta$ on this spec and on
    the verification grid. For a `Pool`, see `symconv.poolgrad.pool_backprop`.
    """
    # the cost first, integer arithmetic only: a Conv is checked on factor tables (channel
    # pairs, one table per axis), never on its matrix; a Pool's gathers are the layer's taps
    cost = factor_tables_cost if type(spec) is Conv else None
    check_symbolic("backprop", spec, input_size, cost=cost)
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

    def this_spec() -> Outcome:
        ok = verify_exact(spec, size)
        return Outcome(2, 0.0 if all(ok) else 1.0, all(ok), f"at input {size}")

    def bias() -> Outcome:
        layer, small, reduced = _bias_layer(spec)
        sg = sympy_gradients(layer, small)
        per = sg["per_channel"]
        terms = sympy.Add.make_args(sg["loss"])  # a term without b_k has derivative 0 in b_k:
        bad = sum(  # differentiate the others only (exactly dL/db_k, ~20x fewer terms to walk)
            sympy.expand(
                sympy.diff(sympy.Add(*(t for t in terms if t.has(sg["b"][k]))), sg["b"][k])
                - sum(sg["delta"][k * per + o] for o in range(per))
            )
            != 0
            for k in range(layer.out_channels)
        )
        return Outcome(
            layer.out_channels, float(bad), bad == 0, f"SymPy diff at input {small}{reduced}"
        )

    def grid() -> Outcome:
        cases = exact_grid(dims=(spec.dims,) if spec.dims < 3 else (1, 2), quick=True)
        bad = [(str(c), s) for c, s in cases if not all(verify_exact(c, s))]
        return Outcome(
            len(cases), float(len(bad)), not bad, f"first failure {bad[0]}" if bad else ""
        )

    def jax_padding() -> Outcome:
        # zero padding: the padding on delta-hat giving dL/dx directly equals JAX's formula
        i, k, s, dd, lo, hi = sympy.symbols("i k s d lo hi", integer=True, positive=True)
        o = _sizes.conv_out(i, k, s, dd, lo, hi)
        reach = _sizes.dilated_extent(k, dd) - 1
        unused = (i + lo + hi - reach - 1) - s * (o - 1)
        ours = (reach - lo, reach + unused - hi)
        jax = (reach - lo, i + reach - (s * (o - 1) + 1) - (reach - lo))
        ok = all(sympy.simplify(p - q) == 0 for p, q in zip(ours, jax, strict=True))
        return Outcome(1, 0.0 if ok else 1.0, ok, "symbolic in i, k, s, d, lo, hi")

    d.check("T^T delta = dL/dx and X^T delta = dL/dw (this spec)", "exact", this_spec)
    d.check("dL/db = sum of delta (SymPy differentiation)", "exact", bias)
    d.check("same on the verification grid", "exact", grid)
    d.check("zero padding: lands on JAX's gradient padding", "general", jax_padding)
    return d


_BIAS_TAPS = 256  # SymPy's diff is per term: the bias check's layer keeps at most this many


def _bias_layer(spec: Conv) -> tuple[Conv, tuple[int, ...], str]:
    """The layer (with a bias) whose loss the bias check differentiates in SymPy, at its
    smallest input, and what was reduced (', ...' notes): `spec` itself while it has at most
    `_BIAS_TAPS` taps there, else, step by step until it has, at most 2 channels per group,
    zero padding, one channel, no padding. dL/db reads no input and no weight, so each
    reduction keeps what the check is about: the loss's bias terms per output channel."""
    g = spec.groups
    cin, cout = spec.in_channels // g, spec.out_channels // g
    steps = (
        (dict(in_channels=g * min(cin, 2), out_channels=g * min(cout, 2)), "{} -> {} channels"),
        (dict(padding_mode="zeros"), "zero padding"),
        (dict(in_channels=1, out_channels=1, groups=1), "1 -> 1 channel"),
        (dict(padding=0), "no padding"),
    )
    layer = spec.replace(bias=True)
    small = layer._check_input(_default_size(layer, start=1))
    notes = ""
    for change, note in steps:
        if index_form(layer, small).tap_count() <= _BIAS_TAPS:
            break
        smaller = layer.replace(**change)
        if smaller == layer:
            continue
        layer, small = smaller, smaller._check_input(_default_size(smaller, start=1))
        notes += ", " + note.format(layer.in_channels, layer.out_channels)
    return layer, small, notes


def _default_size(spec: Conv, start: int = 7) -> tuple[int, ...]:
    for n in range(start, 64):
        try:
            return spec._check_input((n,) * spec.dims)
        except SpecError:
            continue
    return spec._check_input((64,) * spec.dims)
