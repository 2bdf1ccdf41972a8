r"""Rotations by 90 degrees and flips: the condition on the weights, solved with `linsolve`.

$T P_g = P_g T$ entry by entry is a linear system in the weight symbols; its solution is the
kernel's own symmetry under $g$ (`_kernel_symmetry`), which the checks confirm on a grid.
Private: used by `symconv.equivariance`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from ._equivariance_core import (
    Equivariance,
    _full_map,
    _kind,
    _moved,
    _rows,
    _spatial,
    _spatial_map,
)
from ._results import Outcome
from .indexform import index_form
from .spec import Conv, Pool


def _image(transform: str, a: tuple[int, ...], kernel: tuple[int, ...]) -> tuple[int, ...]:
    """Where the kernel symmetry sends tap `a`: w[a] = w[image(a)]."""
    if transform == "rot90":
        return (a[1], kernel[0] - 1 - a[0])
    if transform == "flip_h":
        return (*a[:-1], kernel[-1] - 1 - a[-1])
    return (kernel[0] - 1 - a[0], a[1])


def _kernel_symmetry(spec: Conv, transform: str) -> list[sympy.Eq]:
    w = sympy.IndexedBase("w")
    out = []
    for k, c, *a in np.ndindex(*spec.weight_shape):
        b = _image(transform, tuple(a), spec.kernel_size)
        if tuple(b) != tuple(a):
            out.append(sympy.Eq(w[(k, c, *a)], w[(k, c, *b)]))
    return out


def _weight_symbols(spec: Conv) -> list[sympy.Indexed]:
    w = sympy.IndexedBase("w")
    return [w[idx] for idx in np.ndindex(*spec.weight_shape)]


def _solve(eqs: Sequence[Any], syms: list[sympy.Indexed]) -> tuple[Any, ...]:
    """The solution of a linear system in the weights, one expression per symbol."""
    eqs = [e.lhs - e.rhs if isinstance(e, sympy.Eq) else e for e in eqs]
    if not eqs:
        return tuple(syms)
    (sol,) = sympy.linsolve(eqs, syms)
    return tuple(sol)


# -- the same condition on integer tables (the verification grid) ------------------------------
# Entry (o, c) of T P - P T is a linear form in the weights with integer coefficients: the
# count of taps of weight w reading x[c] in row o of T P, minus that in row o of P T. The
# condition's solutions are the null space of those forms; the kernel's symmetry is the space
# of kernels constant on the orbits of `_image`. Equal spaces, checked exactly: every orbit's
# indicator solves every form, and the forms' rank is (weights - orbits).
def _equation_matrix(spec: Conv, sizes: tuple[int, ...], transform: str) -> np.ndarray:
    """The distinct nonzero rows of T P - P T as integer forms over the flat weights, from the
    index form's taps (`gather()`): `(equations, weights)` int64."""
    form = index_form(spec, sizes)
    g = form.gather()
    pi_in = _full_map(_spatial_map(transform, sizes, (), False), form.in_shape()[0])
    out_shape = form.out_shape()
    pi_out = _full_map(_spatial_map(transform, out_shape[1:], (), False), out_shape[0])
    n_out, n_in, n_w = math.prod(out_shape), math.prod(form.in_shape()), math.prod(g.weight_shape)
    # row o of P T is row pi_out(o) of T: T's tap in row r lands in row pi_out^{-1}(r)
    inverse = np.full(n_out, -1, dtype=np.int64)
    ok = pi_out >= 0
    inverse[pi_out[ok]] = np.arange(n_out)[ok]
    cols = pi_in[g.cols]  # row o of T P reads x[pi_in(j)] with T[o, j]
    keep = cols >= 0
    rows_pt = inverse[g.rows]
    keep_pt = rows_pt >= 0
    diff = np.zeros((n_out * n_in, n_w), dtype=np.int64)
    np.add.at(diff, (g.rows[keep] * n_in + cols[keep], g.weights[keep]), 1)
    np.add.at(diff, (rows_pt[keep_pt] * n_in + g.cols[keep_pt], g.weights[keep_pt]), -1)
    nonzero = diff[np.any(diff != 0, axis=1)]
    return np.unique(nonzero, axis=0) if len(nonzero) else nonzero.reshape(0, n_w)


def _orbits(spec: Conv, transform: str) -> np.ndarray:
    """The kernel symmetry's orbit of every flat weight index (a label per weight)."""
    shape = spec.weight_shape
    label = np.arange(math.prod(shape))
    for _ in range(4):  # union along w[a] = w[image(a)]; orbits have at most 4 elements
        for flat, (k, c, *a) in enumerate(np.ndindex(*shape)):
            b = np.ravel_multi_index((k, c, *_image(transform, tuple(a), spec.kernel_size)), shape)
            low = min(label[flat], label[b])
            label[flat] = label[b] = low
    return label


def _rank(rows: np.ndarray) -> int:
    """The exact rank of an integer matrix (fraction-free elimination on Python ints)."""
    m = [[int(v) for v in r] for r in rows]
    rank, n_cols = 0, (len(m[0]) if m else 0)
    for col in range(n_cols):
        pivot = next((r for r in range(rank, len(m)) if m[r][col]), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        p = m[rank]
        for r in range(rank + 1, len(m)):
            f = m[r][col]
            if f:
                m[r] = [p[col] * x - f * y for x, y in zip(m[r], p, strict=True)]
        rank += 1
    return rank


def _condition_is_symmetry(spec: Conv, sizes: tuple[int, ...], transform: str) -> str:
    """'' when the solutions of T P = P T (integer forms) are exactly the kernels with the
    transform's symmetry; else what differs."""
    eqs = _equation_matrix(spec, sizes, transform)
    label = _orbits(spec, transform)
    orbits = np.unique(label)
    indicator = (label[:, None] == orbits[None, :]).astype(np.int64)  # (weights, orbits)
    unsolved = np.nonzero(np.any(eqs @ indicator != 0, axis=0))[0]
    if len(unsolved):
        return f"a kernel with the {transform} symmetry breaks T P = P T (orbit {unsolved[0]})"
    rank, want = _rank(eqs), len(label) - len(orbits)
    if rank != want:
        return f"{len(label) - rank} free weights, the {transform} symmetry leaves {len(orbits)}"
    return ""


def _symmetric_setup(spec: Conv | Pool, sizes: tuple[int, ...], transform: str) -> bool:
    """Whether the transformation maps the padded grid and the windows onto themselves."""
    axes = [0, 1] if transform == "rot90" else ([spec.dims - 1] if transform == "flip_h" else [0])
    fit = spec.fits(sizes).unused
    for a in axes:
        k, _, dil, lo, hi = spec._axis(a)
        if lo != hi or fit[a] or sizes[a] < dil * (k - 1) + 1:
            return False
    if transform == "rot90":
        return spec._axis(0) == spec._axis(1)
    return True


def _symmetry_core(
    spec: Conv | Pool, sizes: tuple[int, ...], transform: str, subs: dict | None
) -> dict[str, Any]:
    rows, in_shape, out_shape = _rows(spec, sizes, None)
    is_max = _kind(spec) == "max"
    pi_in = _full_map(_spatial_map(transform, sizes, (), False), in_shape[0])
    pi_out = _full_map(_spatial_map(transform, out_shape[1:], (), False), out_shape[0])
    eqs: set[Any] = set()
    bad = []
    for o in range(math.prod(out_shape)):
        lhs = _moved(rows.get(o, {}), pi_in, is_max)
        rhs = rows.get(int(pi_out[o]), {})
        if isinstance(spec, Pool):
            if lhs != rhs:
                bad.append(o)
            continue
        diffs = [sympy.expand(lhs.get(c, 0) - rhs.get(c, 0)) for c in set(lhs) | set(rhs)]
        nonzero = [e for e in diffs if e != 0]
        eqs.update(nonzero)
        if subs:
            nonzero = [e for e in nonzero if e.xreplace(subs) != 0]
        if nonzero:
            bad.append(o)
    condition: list[sympy.Eq] = []
    if isinstance(spec, Conv):
        syms = _weight_symbols(spec)
        sol = _solve(sorted(eqs, key=sympy.default_sort_key), syms)
        condition = [sympy.Eq(s, v) for s, v in zip(syms, sol, strict=True) if v != s]
    return {
        "rows": rows,
        "out_shape": out_shape,
        "broken_flat": bad,
        "broken": _spatial(bad, out_shape),
        "equations": eqs,
        "condition": condition,
    }


def _symmetry(
    spec: Conv | Pool, sizes: tuple[int, ...], transform: str, subs: dict | None
) -> tuple[Equivariance, dict[str, Any]]:
    """The rotation or flip derivation and its numbers (`_symmetry_core`), for the checks."""
    core = _symmetry_core(spec, sizes, transform, subs)
    broken, condition = core["broken"], core["condition"]
    n_out = math.prod(core["out_shape"][1:])
    exact = not broken
    d = Equivariance(f"Equivariance of {spec} to {transform} on input {sizes}")
    d.results.update(
        exact=exact,
        broken=broken,
        count=len(broken),
        outputs=n_out,
        condition=condition,
        transform=transform,
        input_size=sizes,
        equations=len(core["equations"]),
    )
    i, j, n = sympy.symbols("i j n", integer=True)
    a, b, K = sympy.symbols("a b K", integer=True)
    x, w, g = sympy.IndexedBase("x"), sympy.IndexedBase("w"), sympy.IndexedBase("(g x)")
    src = {"rot90": (j, n - 1 - i), "flip_h": (i, n - 1 - j), "flip_v": (n - 1 - i, j)}
    if spec.dims == 1:
        d.add_step(
            "The transformation",
            sympy.Eq(g[i], x[n - 1 - i], evaluate=False),
            "flip_h of a row reverses it",
            definition=True,
        )
    else:
        d.add_step(
            "The transformation",
            sympy.Eq(g[i, j], x[src[transform]], evaluate=False),
            "numpy's rot90 (counter-clockwise)" if transform == "rot90" else "a mirror",
            definition=True,
        )
    d.add_step(
        "Equivariance, row by row",
        sympy.Symbol(r"T P_g^{\mathrm{in}} = P_g^{\mathrm{out}} T"),
        "row o of T P reads x[pi(j)] with T[o, j]; row o of P T is row pi(o) of T",
        definition=True,
    )
    numeric = f"torch: conv({transform}(x))"
    checked = (
        (f"condition = the kernel's {transform}", numeric)
        if isinstance(spec, Conv) and not subs
        else (numeric,)
    )
    o1, o2, P, Dl, m, c_, e_ = sympy.symbols("o_1 o_2 P D m c d", integer=True)
    general: dict[str, Any] = {}
    if spec.dims == 2 and transform == "rot90":
        # second index: after rotation tap (a, b) reads n-1-o1-Da+P; output (o2, m-1-o1)'s tap
        # (c, d) reads m-1-o1+Dd-P with m = n + 2P - D(K-1)
        lhs_ = (n + 2 * P - Dl * (K - 1)) - 1 - o1 + Dl * e_ - P
        general["sol"] = sympy.solve(sympy.Eq(lhs_, n - 1 - o1 - Dl * a + P), e_)
        general["want"] = K - 1 - a
        d.add_step(
            "Matching taps (general)",
            sympy.Eq(w[a, b], w[b, K - 1 - a]),
            "tap (a, b) of the rotated input meets tap (b, K - 1 - a) of the rotated output: "
            "the kernel must be invariant under rot90",
            by="matched tap solved symbolically",
        )
    else:
        lhs_ = (n + 2 * P - Dl * (K - 1)) - 1 - o2 + Dl * e_ - P
        general["sol"] = sympy.solve(sympy.Eq(lhs_, n - 1 - o2 - Dl * b + P), e_)
        general["want"] = K - 1 - b
        pair = {"flip_h": (w[a, b], w[a, K - 1 - b]), "flip_v": (w[a, b], w[K - 1 - a, b])}
        stmt = sympy.Eq(w[b], w[K - 1 - b]) if spec.dims == 1 else sympy.Eq(*pair[transform])
        d.add_step(
            "Matching taps (general)",
            stmt,
            "the mirrored input meets the mirrored tap: the kernel must be mirror-symmetric",
            by="matched tap solved symbolically",
        )
    del o1, o2, m, c_
    if isinstance(spec, Conv):
        d.add_step(
            "Condition on the weights (solved)",
            sympy.Tuple(*condition),
            f"linsolve of the {len(core['equations'])} distinct entry equations "
            f"T P = P T; empty means every kernel works",
            by=checked,
        )
        if subs:
            kernel = [e.xreplace(subs) for e in condition]
            holds = all(k == sympy.true for k in kernel)
            d.add_step(
                f"With the given weights the condition {'holds' if holds else 'fails'}",
                sympy.Tuple(*(sympy.Eq(k, v, evaluate=False) for k, v in subs.items())),
                "the weights given, put into the condition above",
                by=checked,
            )
    d.add_step(
        "Broken outputs",
        sympy.FiniteSet(*[sympy.Tuple(*p) for p in broken]),
        f"{len(broken)} of {n_out} outputs; {'exact' if exact else 'not exact'}",
        by=checked,
    )
    d.check(
        "matched tap solved symbolically",
        "general",
        lambda: Outcome(
            1,
            0.0,
            len(general["sol"]) == 1 and sympy.simplify(general["sol"][0] - general["want"]) == 0,
            f"d = {general['sol']}",
        ),
    )
    return d, core
