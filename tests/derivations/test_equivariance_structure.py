"""Rotations, flips and translations on integer tables (issue 18) against the row-by-row
SymPy derivation they replace: the same broken outputs, equation count and solved condition
on small layers, and the 64x64 16->16 requests admitted and verified."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv as sc
from symconv.equivariance._core import _full_map, _moved, _rows, _spatial, _spatial_map
from symconv.equivariance._symmetry import _solve, _symmetry_core, _weight_symbols
from symconv.equivariance._translate import _interior, _tapwise_broken
from symconv.indexform import index_form


def sympy_rows_core(spec, sizes, transform, subs):
    """The reference: T's rows from `toeplitz` (SymPy), T P and P T compared row by row, the
    distinct entry equations solved with `linsolve` over every weight."""
    rows, in_shape, out_shape = _rows(spec, sizes, None)
    pi_in = _full_map(_spatial_map(transform, sizes, (), False), in_shape[0])
    pi_out = _full_map(_spatial_map(transform, out_shape[1:], (), False), out_shape[0])
    eqs, bad = set(), []
    for o in range(math.prod(out_shape)):
        lhs = _moved(rows.get(o, {}), pi_in, False)
        rhs = rows.get(int(pi_out[o]), {})
        diffs = [sympy.expand(lhs.get(c, 0) - rhs.get(c, 0)) for c in set(lhs) | set(rhs)]
        nonzero = [e for e in diffs if e != 0]
        eqs.update(nonzero)
        if subs:
            nonzero = [e for e in nonzero if e.xreplace(subs) != 0]
        if nonzero:
            bad.append(o)
    syms = _weight_symbols(spec)
    sol = _solve(sorted(eqs, key=sympy.default_sort_key), syms)
    condition = [sympy.Eq(s, v) for s, v in zip(syms, sol, strict=True) if v != s]
    return bad, _spatial(bad, out_shape), len(eqs), condition


def _cases():
    rng = np.random.default_rng(7)
    grid = itertools.product(
        ((1, "flip_h"), (2, "rot90"), (2, "flip_h"), (2, "flip_v")),
        (2, 3),
        (0, 1, ((1, 0), (1, 1))),
        (1, 2),
        (1, 2),
        ("zeros", "reflect", "replicate", "circular"),
        ((1, 1, 1), (2, 4, 2), (2, 3, 1)),
    )
    out = []
    for (dims, transform), k, pad, stride, dil, mode, (cin, cout, groups) in grid:
        if rng.random() > 0.06 or (dims == 1 and not isinstance(pad, int)):
            continue
        try:
            spec = sc.Conv(
                dims=dims, kernel_size=k, padding=pad, stride=stride, dilation=dil,
                padding_mode=mode, in_channels=cin, out_channels=cout, groups=groups, bias=False,
            )  # fmt: skip
            spec.output_size((5,) * dims)
        except ValueError:
            continue
        out.append(pytest.param(spec, (5,) * dims, transform, id=f"{spec}-{transform}"))
    return out


@pytest.mark.parametrize(("spec", "sizes", "transform"), _cases())
def test_integer_tables_agree_with_sympy_rows(spec, sizes, transform) -> None:
    """Broken outputs, equation count and the solved condition equal the SymPy row-by-row
    derivation's, with symbolic weights and with numbers (a symmetric and a random kernel)."""
    w = sympy.IndexedBase("w")
    rng = np.random.default_rng(3)
    ones = {w[i]: sympy.Integer(1) for i in np.ndindex(*spec.weight_shape)}
    rand = {
        w[i]: sympy.Rational(int(rng.integers(-3, 4)), 2) for i in np.ndindex(*spec.weight_shape)
    }
    for subs in (None, ones, rand):
        core = _symmetry_core(spec, sizes, transform, subs)
        bad, broken, n_eqs, condition = sympy_rows_core(spec, sizes, transform, subs)
        assert core["broken_flat"] == bad
        assert core["broken"] == broken
        assert core["equations"] == n_eqs
        assert core["condition"] == condition


@pytest.mark.parametrize("transform", ["rot90", "flip_h", "flip_v"])
def test_64x64_16_to_16_is_admitted_and_verifies(transform) -> None:
    """The issue-18 size: no refusal, every check passes, the condition is the kernel's
    symmetry for each of the 256 channel pairs, and a symmetric kernel is exact."""
    spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=3, padding=1)
    d = sc.equivariance(spec, (64, 64), transform=transform)
    cert = d.verify()
    assert all(r.passed for r in cert.results), [r for r in cert.results if not r.passed]
    assert not d.exact
    per_pair = {"rot90": 6, "flip_h": 3, "flip_v": 3}[transform]  # 9 taps minus the orbits
    assert len(d.condition) == 256 * per_pair
    sym = np.array([[1, 2, 1], [2, 5, 2], [1, 2, 1]])
    weight = np.broadcast_to(sym, spec.weight_shape)
    assert sc.equivariance(spec, (64, 64), transform=transform, weight=weight).exact


def _loop_tapwise(form, t, u, cyclic):
    """Per output and tap, as the check read before it was vectorised."""
    tables = [form.tap_table(a) for a in range(form.dims)]
    sizes, outs = form.input_size, form.output_size

    def source(o, a):
        pos = tuple(int(tables[ax][o[ax], a[ax]]) for ax in range(form.dims))
        return None if min(pos) < 0 else pos

    def shifted(src):
        if src is None:
            return None
        v = [s - d for s, d in zip(src, t, strict=True)]
        if cyclic:
            return tuple(x % n for x, n in zip(v, sizes, strict=True))
        return tuple(v) if all(0 <= x < n for x, n in zip(v, sizes, strict=True)) else None

    bad = set()
    for o in np.ndindex(*outs):
        prev = [v - s for v, s in zip(o, u, strict=True)]
        if cyclic:
            prev = [p % m for p, m in zip(prev, outs, strict=True)]
        valid = all(0 <= p < m for p, m in zip(prev, outs, strict=True))
        for a in np.ndindex(*[ax.kernel for ax in form.axes]):
            if shifted(source(o, a)) != (source(prev, a) if valid else None):
                bad.add(tuple(int(v) for v in o))
                break
    return bad


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_vectorised_translation_criterion_equals_loop(mode, dims) -> None:
    """`_tapwise_broken` on the broadcast grid and `_interior` per axis give the per-output
    loops' sets, for shifts and output shifts of both signs."""
    spec = sc.Conv(dims=dims, kernel_size=3, padding=1, stride=(2,) + (1,) * (dims - 1),
                   dilation=(1,) * (dims - 1) + (2,), padding_mode=mode)  # fmt: skip
    sizes = (6,) * dims
    form = index_form(spec, sizes)
    inside = []
    for a, ax in enumerate(form.axes):
        j = form.tap_table(a, padded=True)
        inside.append(np.all((j >= ax.lo) & (j < ax.lo + ax.size), axis=1))
    rng = np.random.default_rng(dims)
    for _ in range(6):
        t = tuple(int(v) for v in rng.integers(-3, 4, dims))
        u = tuple(int(v) for v in rng.integers(-2, 3, dims))
        for cyclic in (False, True) if mode == "circular" else (False,):
            assert _tapwise_broken(form, t, u, cyclic) == _loop_tapwise(form, t, u, cyclic)
        want = {
            o for o in np.ndindex(*form.output_size)
            if all(0 <= v - s < m and inside[a][v] and inside[a][v - s]
                   for a, (v, s, m) in enumerate(zip(o, u, form.output_size, strict=True)))
        }  # fmt: skip
        assert _interior(form, u) == want


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_unique_sparse_rows_is_unique_rows(data) -> None:
    """The distinct rows of T P - P T from its entries equal `np.unique(rows, axis=0)`'s, with
    every row's index; a hash clash (forced: every multiplier 0) takes the dense way."""
    import importlib

    symmetry = importlib.import_module("symconv.equivariance._symmetry")
    n = data.draw(st.integers(1, 12))
    m = data.draw(st.integers(1, 6))
    values = st.integers(-2, 2)
    dense = np.array(
        data.draw(st.lists(st.lists(values, min_size=m, max_size=m), min_size=n, max_size=n))
    )
    dense = dense[np.any(dense != 0, axis=1)]
    if not len(dense):
        return
    picks = data.draw(st.lists(st.integers(0, len(dense) - 1), min_size=1, max_size=3 * len(dense)))
    dense = dense[picks]  # repeated rows
    r, c = np.nonzero(dense)
    want = np.unique(dense, axis=0, return_inverse=True)
    for mix in (None, np.zeros(m, dtype=np.int64)):
        forms, which = symmetry._unique_sparse_rows(r, c, dense[r, c], len(dense), m, mix)
        assert np.array_equal(forms, want[0]) and np.array_equal(which, want[1].ravel())


def _eager_condition(spec: sc.Conv, forms: np.ndarray) -> list:
    """The condition as every pair's equations built at once (the construction the lazy
    `SolvedCondition` replaced), for comparison."""
    import importlib

    symmetry = importlib.import_module("symconv.equivariance._symmetry")
    w = sympy.IndexedBase("w")
    taps = list(np.ndindex(*spec.kernel_size))
    one = [w[(0, 0, *a)] for a in taps]
    eqs = [sum(int(f) * s for f, s in zip(row, one, strict=True) if f) for row in forms.tolist()]
    sol = symmetry._solve(eqs, one)
    pairs = [(s, v) for s, v in zip(one, sol, strict=True) if v != s]
    out = []
    for k, c in np.ndindex(*spec.weight_shape[:2]):
        here = {w[(0, 0, *a)]: w[(k, c, *a)] for a in taps}
        out.extend(sympy.Eq(s.xreplace(here), v.xreplace(here), evaluate=False) for s, v in pairs)
    return out


@pytest.mark.parametrize(
    ("spec", "size", "transform"),
    [
        (sc.Conv(dims=2, in_channels=3, out_channels=2, kernel_size=3, padding=1), (5, 5), "rot90"),
        (sc.Conv(dims=2, in_channels=2, out_channels=4, groups=2, kernel_size=4, padding=(1, 2)),
         (6, 6), "flip_h"),
        (sc.Conv(dims=2, in_channels=2, out_channels=2, kernel_size=5, padding=2), (7, 7), "flip_v"),
        (sc.Conv(dims=1, in_channels=2, out_channels=3, kernel_size=3, padding=1), (6,), "flip_h"),
    ],
)  # fmt: skip
def test_solved_condition_reads_as_every_pairs_equations(spec, size, transform) -> None:
    """The lazy condition is, equation by equation and as printed, every channel pair's
    equations built at once; its sampler is the one read off those equations."""
    import importlib

    symmetry = importlib.import_module("symconv.equivariance._symmetry")
    _, forms, _ = symmetry._spatial_forms(spec, size, transform)
    lazy = symmetry._solved_condition(spec, forms)
    eager = _eager_condition(spec, forms)
    assert lazy == eager and [str(e) for e in lazy] == [str(e) for e in eager]
    assert lazy[-1] == eager[-1] and lazy[1:4] == eager[1:4] and len(lazy) == len(eager)
    # the sampler's tables, read off the equations: a pivot from its form, a free weight itself
    syms = _weight_symbols(spec)
    index = {w: i for i, w in enumerate(syms)}
    solved = {e.lhs: e.rhs for e in eager}
    want = sorted(
        (i, index[t], float(c))
        for i, w in enumerate(syms)
        for t, c in symmetry._terms(solved.get(w, w))
    )
    a = lazy.sampler()
    got = sorted(zip(a.rows.tolist(), a.cols.tolist(), a.values.tolist(), strict=True))
    assert got == want and a.size == len(syms)
    assert symmetry._condition_matches_symmetry(lazy, spec, transform) == ""
    assert symmetry._condition_matches_symmetry(eager, spec, transform) == ""


def test_a_wrong_pair_equation_fails_the_structured_check() -> None:
    """Checked on pair (0, 0), a wrong coefficient there still fails the exact check."""
    import importlib

    symmetry = importlib.import_module("symconv.equivariance._symmetry")
    spec = sc.Conv(dims=2, in_channels=4, out_channels=4, kernel_size=3, padding=1)
    _, forms, _ = symmetry._spatial_forms(spec, (6, 6), "rot90")
    good = symmetry._solved_condition(spec, forms)
    first = good.first_pair
    wrong = [sympy.Eq(first[0].lhs, 2 * first[0].rhs), *first[1:]]
    bad = symmetry.SolvedCondition(spec, wrong, good._terms)
    assert symmetry._condition_matches_symmetry(good, spec, "rot90") == ""
    assert "breaks" in symmetry._condition_matches_symmetry(bad, spec, "rot90")
