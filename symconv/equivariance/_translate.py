r"""Translation equivariance: the output shift, the broken outputs, strides and the border.

Tap $a$ of output $o$ reads $x[\varphi(S o + D a - P)]$; after a shift by $t$ it reads the
input $t$ earlier, which is tap $a$ of output $o - u$ exactly when $S u = t$. `_translate_core`
computes the numbers (output shift, broken outputs, reproducing shifts) by comparing rows;
`_translate` writes the derivation. `_interior` and `_tapwise_broken` state the criteria the
checks compare the rows with. Private: used by `symconv.equivariance`.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import sympy

from .._results import Outcome
from ..indexform import index_form
from ..spec import Conv, Pool
from ._core import (
    _ZERO,
    Equivariance,
    _compare,
    _expr,
    _full_map,
    _kind,
    _moved,
    _rows,
    _spatial,
    _spatial_map,
)
from ._pooling import _pool_invariance

# the numeric check every translation derivation carries (symconv.equivariance._checks)
_NUMERIC = "torch: conv(shift(x)) vs shift(conv(x))"


def _inside_taps(form: Any) -> list[np.ndarray]:
    """Per axis, per output: whether every tap reads inside the unpadded input."""
    out = []
    for a, ax in enumerate(form.axes):
        j = form.tap_table(a, padded=True)  # coordinate in the padded input, -1 beyond it
        out.append(np.all((j >= ax.lo) & (j < ax.lo + ax.size), axis=1))
    return out


def _on_axes(per_axis: list[np.ndarray], dims: int) -> list[np.ndarray]:
    """Per-axis arrays `(outputs_d, ...)` reshaped to broadcast on the output grid (axis d of
    the outputs first, then axis d of the kernel, if any, at position dims + d)."""
    out = []
    for d, v in enumerate(per_axis):
        shape = [1] * (dims * (2 if v.ndim == 2 else 1))
        shape[d] = v.shape[0]
        if v.ndim == 2:
            shape[dims + d] = v.shape[1]
        out.append(v.reshape(shape))
    return out


def _interior(form: Any, u: tuple[int, ...]) -> set[tuple[int, ...]]:
    r"""Outputs $o$ with $o - u$ an output and every tap of $o$ and of $o - u$ inside the input."""
    inside = _inside_taps(form)
    per_axis = []
    for a, (v, m) in enumerate(zip(u, form.output_size, strict=True)):
        prev = np.arange(m) - v
        valid = (prev >= 0) & (prev < m)
        per_axis.append(
            valid & inside[a] & np.where(valid, inside[a][np.clip(prev, 0, m - 1)], False)
        )
    ok = np.ones(tuple(form.output_size), dtype=bool)
    for axis_ok in _on_axes(per_axis, form.dims):
        ok = ok & axis_ok
    return {tuple(int(i) for i in o) for o in np.argwhere(ok)}


def _tapwise_broken(
    form: Any, t: tuple[int, ...], u: tuple[int, ...], cyclic: bool
) -> set[tuple[int, ...]]:
    r"""The index-form criterion: output $o$ is equivariant iff for every tap $a$
    $\sigma_t(\mathrm{src}(o, a)) = \mathrm{src}(o - u, a)$ (`None` for a zero on either side).

    Every (output, tap) pair at once, on the grid `(outputs..., taps...)`: a side is `None`
    when any axis has no input there, else the tuples compare axis by axis."""
    dims, sizes, outs = form.dims, form.input_size, form.output_size
    lhs, rhs = [], []
    for d in range(dims):
        src = form.tap_table(d)  # (outputs, taps) on axis d, -1: no input
        n, m = sizes[d], outs[d]
        moved = src - t[d]
        if cyclic:
            moved = np.mod(moved, n)
        ok = (src >= 0) & (moved >= 0) & (moved < n)
        lhs.append(np.where(ok, moved, -1))
        prev = np.arange(m) - u[d]
        if cyclic:
            prev = np.mod(prev, m)
        valid = (prev >= 0) & (prev < m)
        rhs.append(np.where(valid[:, None], src[np.clip(prev, 0, m - 1)], -1))
    none_l = none_r = np.zeros((1,) * (2 * dims), dtype=bool)
    equal = np.ones((1,) * (2 * dims), dtype=bool)
    for left, right in zip(_on_axes(lhs, dims), _on_axes(rhs, dims), strict=True):
        none_l = none_l | (left < 0)
        none_r = none_r | (right < 0)
        equal = equal & (left == right)
    same = (none_l & none_r) | (~none_l & ~none_r & equal)
    same = np.broadcast_to(same, (*outs, *[ax.kernel for ax in form.axes]))
    bad = ~np.all(same, axis=tuple(range(dims, 2 * dims)))
    return {tuple(int(v) for v in o) for o in np.argwhere(bad)}


class _LazyRows:
    """Rows of $T$ as `{input column: coefficient}`, built one at a time when asked for (the
    counterexample step reads one row; the check itself never builds them)."""

    def __init__(self, form: Any) -> None:
        self.form = form

    def get(self, r: int, default: Any = None) -> Any:
        out_shape, in_shape = self.form.out_shape(), self.form.in_shape()
        w = sympy.IndexedBase("w")
        row: dict[int, Any] = {}
        for widx, inp in self.form.taps(np.unravel_index(r, out_shape)):
            c = int(np.ravel_multi_index(inp, in_shape))
            row[c] = row.get(c, 0) + w[widx]
        return row if row else default


class _FactoredRows:
    r"""Rows of $T S_t$ and $S_u T$ compared one axis at a time, in integers.

    A row of $T$ is its channel pairs times one tap set per axis, and the shifts move each axis
    on its own (channels stay). Per axis, output $o$'s taps after the input shift are
    $a \mapsto \sigma_t(\mathrm{src}(o, a))$ and those of output $o - u$ are
    $a \mapsto \mathrm{src}(o - u, a)$ (-1: no tap); two rows of the product agree iff both
    have an empty axis or every axis agrees (products of nonempty sets are equal iff their
    factors are). Exact, with the weights as distinct symbols.
    """

    def __init__(self, form: Any, shift: tuple[int, ...], cyclic: bool) -> None:
        self.form, self.cyclic = form, cyclic
        self.src = [form.tap_table(d) for d in range(form.dims)]
        self.lhs = []
        for d, (t, n) in enumerate(zip(shift, form.input_size, strict=True)):
            src = self.src[d]
            moved = np.mod(src - t, n) if cyclic else src - t
            ok = (src >= 0) & (moved >= 0) & (moved < n)
            self.lhs.append(np.where(ok, moved, -1))
        self.n_ch = form.out_channels
        self.memo: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def broken(self, u: tuple[int, ...], stop: bool = False) -> list[int]:
        outs = self.form.output_size
        empty_l, empty_r, equal = [], [], []
        for d, (v, m) in enumerate(zip(u, outs, strict=True)):
            if (d, v) not in self.memo:  # the candidate search revisits each axis's shifts
                prev = np.arange(m) - v
                if self.cyclic:
                    prev = np.mod(prev, m)
                inside = (prev >= 0) & (prev < m)
                rhs = np.where(inside[:, None], self.src[d][np.clip(prev, 0, m - 1)], -1)
                self.memo[(d, v)] = (
                    np.all(self.lhs[d] < 0, axis=1),
                    np.all(rhs < 0, axis=1),
                    np.all(self.lhs[d] == rhs, axis=1),
                )
            el, er, eq = self.memo[(d, v)]
            empty_l.append(el)
            empty_r.append(er)
            equal.append(eq)
        grid = np.ix_(*[np.arange(m) for m in outs])
        any_l = np.zeros(outs, dtype=bool)
        any_r = np.zeros(outs, dtype=bool)
        all_eq = np.ones(outs, dtype=bool)
        for d, g in enumerate(grid):
            any_l = any_l | empty_l[d][g]
            any_r = any_r | empty_r[d][g]
            all_eq = all_eq & equal[d][g]
        same = (any_l & any_r) | (~any_l & ~any_r & all_eq)
        bad = np.flatnonzero(~same.ravel())
        if stop:
            return [int(bad[0])] if len(bad) else []
        n_sp = same.size
        flat = (np.arange(self.n_ch)[:, None] * n_sp + bad[None, :]).ravel()
        return flat.tolist()


def _translate_core(
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    shift: tuple[int, ...],
    subs: dict | None = None,
    all_candidates: bool = True,
) -> dict[str, Any]:
    """The numbers of a translation: output shift, broken positions, reproducing shifts."""
    form = index_form(spec, sizes)
    is_max = _kind(spec) == "max"
    cyclic = isinstance(spec, Conv) and spec.padding_mode == "circular"
    strides = tuple(ax.stride for ax in form.axes)
    if cyclic:  # a cyclic shift by t is a shift by t mod n
        shift = tuple(t % n for t, n in zip(shift, sizes, strict=True))
    if form.kind == "conv" and subs is None:
        # symbolic weights: compare the rows factor by factor (channels are not moved)
        rows: Any = _LazyRows(form)
        in_shape, out_shape = form.in_shape(), form.out_shape()
        factored = _FactoredRows(form, shift, cyclic)

        def broken_for(u: tuple[int, ...], stop: bool = False) -> list[int]:
            return factored.broken(u, stop)

    else:
        rows, in_shape, out_shape = _rows(spec, sizes, subs)
        pi_in = _full_map(_spatial_map("translate", sizes, shift, cyclic), in_shape[0])

        def broken_for(u: tuple[int, ...], stop: bool = False) -> list[int]:
            pi_out = _full_map(_spatial_map("translate", out_shape[1:], u, cyclic), out_shape[0])
            return _compare(rows, pi_in, pi_out, out_shape, is_max, stop)

    divisible = all(t % s == 0 for t, s in zip(shift, strides, strict=True))
    if divisible:
        u = tuple(t // s for t, s in zip(shift, strides, strict=True))
        bad = broken_for(u)
        reproducing = [u] if not bad else []
    else:
        near = itertools.product(
            *[sorted({t // s, -(-t // s)}) for t, s in zip(shift, strides, strict=True)]
        )
        u, bad = min(((v, broken_for(v)) for v in near), key=lambda p: (len(p[1]), p[0]))
        reproducing = []
        if all_candidates:
            ranges = [range(m) if cyclic else range(-(m - 1), m) for m in out_shape[1:]]
            reproducing = [v for v in itertools.product(*ranges) if not broken_for(v, True)]
        if reproducing:
            u, bad = reproducing[0], []
    return {
        "form": form,
        "rows": rows,
        "in_shape": in_shape,
        "out_shape": out_shape,
        "cyclic": cyclic,
        "divisible": divisible,
        "output_shift": u,
        "broken_flat": bad,
        "broken": _spatial(bad, out_shape),
        "reproducing": reproducing,
        "strides": strides,
        "is_max": is_max,
    }


def _translate(
    spec: Conv | Pool, sizes: tuple[int, ...], shift: tuple[int, ...], subs: dict | None
) -> tuple[Equivariance, dict[str, Any]]:
    """The translation derivation and its numbers (`_translate_core`), for the checks."""
    core = _translate_core(spec, sizes, shift, subs)
    form, u, broken = core["form"], core["output_shift"], core["broken"]
    out_shape, in_shape, cyclic = core["out_shape"], core["in_shape"], core["cyclic"]
    n_out = math.prod(out_shape[1:])
    exact = not broken
    mode = spec.padding_mode if isinstance(spec, Conv) else "pool"
    d = Equivariance(f"Translation equivariance of {spec} on input {sizes}, shift {shift}")
    d.results.update(
        exact=exact,
        broken=broken,
        count=len(broken),
        outputs=n_out,
        shift=shift,
        output_shift=u,
        divisible=core["divisible"],
        reproducing_shifts=tuple(core["reproducing"]),
        shift_kind="cyclic" if cyclic else "zero-filled",
        input_size=sizes,
    )
    s = form.symbols()
    o, a, t_sym = s["o"][0], s["a"][0], sympy.Symbol("t", integer=True)
    S, D, P, K = s["S"][0], s["D"][0], s["P"][0], s["K"][0]
    n_sym, u_sym = sympy.Symbol("n", integer=True, positive=True), sympy.Symbol("u", integer=True)
    x, w, y = sympy.IndexedBase("x"), sympy.IndexedBase("w"), sympy.IndexedBase("y")
    d.add_step(
        "The layer (index form)",
        form.expression(),
        "tap a of output o reads the padded input at S o + D a",
        definition=True,
    )
    d.add_step(
        "The shift",
        sympy.Eq(
            sympy.Indexed(sympy.IndexedBase(r"\left(S_{t} x\right)"), s["i"][0]),
            x[sympy.Mod(s["i"][0] - t_sym, n_sym)] if cyclic else x[s["i"][0] - t_sym],
            evaluate=False,
        ),
        "cyclic for circular padding" if cyclic else "zero-filled: what enters at the border is 0",
        definition=True,
    )
    # the checks `_translate_checks` attaches: the exact grid (symbolic weights, Conv only) and
    # the numeric comparison with torch (every layer)
    checked = (
        ("broken set = index-form criterion", _NUMERIC)
        if isinstance(spec, Conv) and subs is None
        else (_NUMERIC,)
    )
    # general form: which output shift u reproduces a shift t of the input
    lhs = S * o + D * a - P - t_sym
    rhs = S * (o - u_sym) + D * a - P
    sol = sympy.solve(sympy.Eq(lhs, rhs), u_sym)
    d.add_step(
        "Output shift (general)",
        sympy.Eq(u_sym, sol[0]),
        "after the shift tap a of output o reads S o + D a - P - t; that is tap a of output "
        "o - u iff S u = t: an integer output shift exists only for multiples of the stride",
        by="S u = t solved for u",
    )
    d.check(
        "S u = t solved for u (symbolic sizes)",
        "general",
        lambda: Outcome(
            1, 0.0, len(sol) == 1 and sympy.simplify(sol[0] - t_sym / S) == 0, f"u = {sol}"
        ),
    )
    if cyclic:
        y_o = sympy.Sum(x[sympy.Mod(o + a - P, n_sym)] * w[a], (a, 0, K - 1))
        y_t = sympy.Sum(x[sympy.Mod(o + a - P - t_sym, n_sym)] * w[a], (a, 0, K - 1))
        inner = sympy.Mod(sympy.Mod(o - t_sym, n_sym) + a - P, n_sym)
        d.add_step(
            "Circular padding, stride 1 (general)",
            sympy.Eq(sympy.Indexed("y", o), y_o),
            "the layer on a cyclic input (n = input size, P = low padding)",
            definition=True,
        )
        d.add_step(
            "The shifted input gives the shifted output",
            sympy.Eq(y_t, y[sympy.Mod(o - t_sym, n_sym)]),
            "substituting x -> x[(. - t) mod n] gives y[(o - t) mod n]: T is (block) "
            "circulant and commutes with every cyclic shift",
            by=("(o - t) mod n", *checked[:-1], "circulant")
            if isinstance(spec, Conv) and subs is None
            else ("(o - t) mod n", *checked),
        )
        d.check(
            "(o - t) mod n + a - P = o + a - P - t (mod n)",
            "general",
            lambda: Outcome(
                1, 0.0, sympy.simplify(inner - sympy.Mod(o + a - P - t_sym, n_sym)) == 0, ""
            ),
        )
    elif isinstance(spec, Conv):
        crit = sympy.And(
            *[
                sympy.And(P <= S * v, S * v + D * (K - 1) - P <= s["I"][0] - 1)
                for v in (o, o - u_sym)
            ]
        )
        d.add_step(
            "Interior (sufficient)",
            sympy.Implies(crit, sympy.Eq(sympy.Indexed(sympy.IndexedBase("y'"), o), y[o - u_sym])),
            "if every tap of o and of o - u reads inside the unpadded input, row o of T S_t is "
            "row o - u of T; near the border the padding differs from the shifted input",
            by=checked,
        )
        d.add_step(
            "Exact criterion (index form)",
            sympy.Symbol(r"\forall a:\ \sigma_t(\mathrm{src}(o, a)) = \mathrm{src}(o - u, a)"),
            "two rows agree iff every tap reads the same input (weights are distinct symbols); "
            "sigma_t shifts and drops what leaves the input, src is IndexForm.source",
            by=checked,
        )
    rows = core["rows"]
    if broken:
        first = core["broken_flat"][0]
        pi_out = _full_map(_spatial_map("translate", out_shape[1:], u, cyclic), out_shape[0])
        pi_in = _full_map(_spatial_map("translate", sizes, shift, cyclic), in_shape[0])
        left = _expr(_moved(rows.get(first, {}), pi_in, core["is_max"]), in_shape, _kind(spec))
        src = int(pi_out[first])
        zero = {_ZERO: 1} if core["is_max"] else {}
        right = _expr(rows.get(src, {}) if src >= 0 else zero, in_shape, _kind(spec))
        pos = _spatial([first], out_shape)[0]
        d.add_step(
            "Smallest counterexample",
            sympy.Ne(left, right, evaluate=False),
            f"output {pos}: y'[o] on the left, y[o - u] with u = {u} on the right",
            by="the counterexample's two sides differ",
        )
        differ = sympy.expand(left - right) != 0
        d.check(
            "the counterexample's two sides differ",
            "exact",
            lambda: Outcome(1, 0.0 if differ else 1.0, differ, "expanded difference nonzero"),
        )
        d.results["counterexample"] = (pos, left, right)
    if not core["divisible"]:
        d.add_step(
            "Not a multiple of the stride",
            sympy.Symbol(f"{len(core['reproducing'])} output shifts reproduce it"),
            f"shift {shift} with stride {core['strides']}: the best output shift ({u}) breaks "
            f"{len(broken)} of {n_out}; none reproduces it whenever some window stays inside "
            f"the input after the shift and the kernel has >= 2 taps along the axis (tiny "
            f"layers whose windows read only padding or entering zeros are exceptions)",
            by=checked,
        )
    d.add_step(
        "Broken outputs",
        sympy.FiniteSet(*[sympy.Tuple(*p) for p in broken]),
        f"{len(broken)} of {n_out} outputs; {'exact' if exact else 'not exact'} "
        f"({mode} padding, {d.results['shift_kind']} shift, output shift {u})",
        by=checked,
    )
    if isinstance(spec, Conv) and core["divisible"] and not cyclic:
        interior = _interior(form, u)
        band = sorted(set(np.ndindex(*out_shape[1:])) - interior)
        d.results["interior"] = tuple(sorted(interior))
        d.results["band"] = tuple(tuple(int(v) for v in p) for p in band)
        if mode == "zeros":
            why = (
                "with zero padding a pad zero and a zero entering with the shift coincide, so "
                "some band outputs stay equivariant: zero padding keeps the size, not "
                "equivariance at the border"
            )
        else:
            why = f"{mode} padding copies inputs into the border, which the shift does not move"
        d.add_step(
            "Border band",
            sympy.Symbol(f"{len(band)} outputs outside the interior"),
            why,
            by=checked,
        )
    if isinstance(spec, Pool):
        _pool_invariance(d, spec, sizes, shift, core)
    return d, core
