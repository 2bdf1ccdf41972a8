"""Separable kernels: exact and float detection, factors, low rank, the Kronecker identity."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symconv as sc
from numeric.algorithms import RANK_TOL, rank_one_factors
from symconv.derive import derive
from symconv.separable import RANK_TOL as SEPARABLE_RANK_TOL
from symconv.separable import low_rank, separable, separable_derivation


def _lists(s) -> list[list]:
    return [list(f) for f in s.factors]


def test_sobel_and_binomial() -> None:
    assert _lists(separable([[1, 0, -1], [2, 0, -2], [1, 0, -1]])) == [[1, 2, 1], [1, 0, -1]]
    assert _lists(separable(sympy.Matrix([[1, 2, 1], [2, 4, 2], [1, 2, 1]]))) == [[1, 2, 1]] * 2


def test_normalisation_sign_and_scale() -> None:
    s = separable([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    assert s.factors[0] == (1, 2, 1) and s.factors[1] == (-1, 0, 1)
    assert s.integer_factors == ((1, 2, 1), (1, 0, -1)) and s.scale == -1
    g = separable(sympy.Matrix([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)
    assert g.integer_factors == ((1, 2, 1), (1, 2, 1)) and g.scale == sympy.Rational(1, 16)
    assert g.outer() == sympy.Array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16


def test_not_separable() -> None:
    assert separable([[0, 1, 0], [1, -4, 1], [0, 1, 0]]) is None
    assert separable(np.eye(3)) is None


def test_symbolic_kernel() -> None:
    a, b, c, d = sympy.symbols("a b c d")
    s = separable([[a * c, a * d], [b * c, b * d]])
    assert _lists(s) == [[a, b], [c, d]]
    assert separable([[a, b], [c, d]]) is None


def test_nd_kernel_exact_and_float() -> None:
    t = np.einsum("i,j,k->ijk", [1, 2, 1], [1, 0, -1], [1, 3])
    s = separable(t)
    assert s is not None and s.dims == 3 and _lists(s) == [[1, 2, 1], [1, 0, -1], [1, 3]]
    f = separable(t.astype(float))
    np.testing.assert_allclose(f.outer(), t, atol=1e-12)
    t[0, 0, 0] += 1
    assert separable(t) is None and separable(t.astype(float)) is None


def test_zero_kernel() -> None:
    s = separable([[0, 0], [0, 0]])
    assert s is not None and s.scale == 0


@given(
    u=st.lists(st.integers(-5, 5), min_size=1, max_size=4),
    v=st.lists(st.integers(-5, 5), min_size=1, max_size=4),
)
def test_outer_products_are_found_exactly(u: list[int], v: list[int]) -> None:
    if len(u) < 2 and len(v) < 2:
        u = [*u, 1]
    K = np.outer(u, v)
    if K.shape[0] < 2 or K.shape[1] < 2:
        return
    s = separable(K.tolist())
    assert s is not None
    assert s.outer() == sympy.Array(K.tolist())
    lead = [x for x in s.factors[0] if x != 0]
    assert not lead or lead[0] > 0
    assert all(sympy.sympify(x).is_integer for f in s.factors for x in f)


@given(seed=st.integers(0, 2**16), n=st.integers(2, 5))
def test_float_outer_products(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal(n), rng.standard_normal(n + 1)
    s = separable(np.outer(u, v))
    assert s is not None
    np.testing.assert_allclose(s.outer(), np.outer(u, v), atol=1e-10)
    assert separable(rng.standard_normal((n, n))) is None


def test_low_rank_eckart_young() -> None:
    rng = np.random.default_rng(0)
    K = rng.standard_normal((5, 5))
    s = np.linalg.svd(K, compute_uv=False)
    for r in (1, 2, 5):
        lr = low_rank(K, r)
        assert np.isclose(np.linalg.norm(K - lr.matrix()), lr.error)
        assert np.isclose(lr.error, np.sqrt(np.sum(s[r:] ** 2)))
        total = sum(np.outer(a, b) for a, b in lr.pairs())
        np.testing.assert_allclose(total, lr.matrix(), atol=1e-12)
    assert low_rank(K, 5).error < 1e-12


def test_errors() -> None:
    with pytest.raises(sc.SpecError, match="at least 2"):
        separable([1, 2, 3])
    with pytest.raises(sc.SpecError, match="must be 2-D"):
        low_rank(np.ones((2, 2, 2)), 1)
    with pytest.raises(sc.SpecError, match="r must be"):
        low_rank(np.ones((2, 2)), 0)
    with pytest.raises(sc.SpecError, match="no symbols"):
        low_rank([[sympy.Symbol("a"), 1], [1, 1]], 1)
    with pytest.raises(sc.SpecError, match="rectangular"):
        separable([[1, 2], [3]])


def test_derivation() -> None:
    d = separable_derivation()
    cert = d.verify()
    assert cert.passed and cert.level == "exact", cert.text()
    assert derive("separable", None, None).verify().passed


# -- float tolerance by dtype (audit 1) --------------------------------------------------------
def _gaussian() -> np.ndarray:
    g = np.exp(-(np.arange(-3, 4) ** 2) / 4.0)
    return np.outer(g, g)


def test_float32_kernel_gets_the_float32_tolerance() -> None:
    G = _gaussian().astype(np.float32)
    s = separable(G)
    assert s is not None  # sigma_2 / sigma_1 ~ 6e-9: float32 rounding, under 1e-6
    np.testing.assert_allclose(s.outer(), G, rtol=0, atol=1e-6)
    assert rank_one_factors(G[None, None]) is not None
    # nested lists of float32 scalars: the same rule; a float32 array inside a list too
    assert separable([[np.float32(v) for v in row] for row in G]) is not None
    assert separable(list(G)) is not None
    # an explicit tol still rules, and float64 input keeps the float64 rule
    assert separable(G, tol=1e-10) is None
    assert separable(G.astype(np.float64)) is None
    assert separable(_gaussian(), tol=1e-6) is not None


def test_default_tolerance_agrees_with_numeric() -> None:
    assert SEPARABLE_RANK_TOL == RANK_TOL
    rng = np.random.default_rng(1)
    u, v = rng.standard_normal(5), rng.standard_normal(5)
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    base = np.outer(u, v)
    # sigma_2 / sigma_1 about eps: away from both thresholds (1e-10, 1e-6)
    for dtype in (np.float32, np.float64):
        for eps in (1e-13, 1e-8, 1e-4):
            K = (base + eps * np.linalg.norm(base) * np.outer(x, y)).astype(dtype)
            mine, theirs = separable(K), rank_one_factors(K[None, None])
            assert (mine is None) == (theirs is None), (dtype, eps)
    # and both have a rank-1 answer and a rank-2 one among those
    K32 = (base + 1e-8 * np.linalg.norm(base) * np.outer(x, y)).astype(np.float32)
    K64 = (base + 1e-8 * np.linalg.norm(base) * np.outer(x, y)).astype(np.float64)
    assert separable(K32) is not None and separable(K64) is None


# -- exact zero tests of symbolic minors (audit 2) -------------------------------------------
_t, _x = sympy.symbols("t x")
_sin, _cos = sympy.sin(_t), sympy.cos(_t)


def _assert_factors_rebuild(s, kernel) -> None:
    assert s is not None and s.exact
    diff = s.outer() - sympy.Array(kernel)
    assert all(sympy.simplify(e) == 0 for e in sympy.flatten(diff.tolist()))
    rebuilt = s.scale * sympy.Array(list(s.integer_factors[0]))
    for f in s.integer_factors[1:]:
        rebuilt = sympy.tensorproduct(rebuilt, sympy.Array(list(f)))
    diff = rebuilt - sympy.Array(kernel)
    assert all(sympy.simplify(e) == 0 for e in sympy.flatten(diff.tolist()))


def test_trigonometric_rank_one_kernels_are_found() -> None:
    K1 = [[_sin**2 + _cos**2, 1], [1, 1]]
    s1 = separable(K1)
    _assert_factors_rebuild(s1, K1)
    assert _lists(s1) == [[1, 1], [1, 1]]
    K2 = [[_sin, _cos], [sympy.sin(2 * _t), 2 * _cos**2]]  # row 2 = 2 cos(t) * row 1
    s2 = separable(K2)
    _assert_factors_rebuild(s2, K2)
    assert _lists(s2) == [[1, 2 * _cos], [_sin, _cos]]
    K3 = [[sympy.exp(_x), sympy.exp(2 * _x)], [sympy.exp(-_x), 1]]
    _assert_factors_rebuild(separable(K3), K3)


def test_symbolic_rank_two_kernels_are_refused() -> None:
    assert separable([[_sin, _cos], [_cos, _sin]]) is None
    assert separable([[_sin, _cos], [sympy.sin(2 * _t), _cos**2]]) is None
    # log(x t) == log(x) + log(t) only for positive symbols: not an identity here
    assert separable([[sympy.log(_x * _t), 1], [1, 1 / (sympy.log(_x) + sympy.log(_t))]]) is None
    p, q = sympy.symbols("p q", positive=True)
    K = [[sympy.log(p * q), 1], [1, 1 / (sympy.log(p) + sympy.log(q))]]
    _assert_factors_rebuild(separable(K), K)


def test_rational_function_kernel_is_exact() -> None:
    a = sympy.Symbol("a")
    K = [[1 / (a - 1), 1 / (a**2 - 1)], [a + 1, 1]]  # expanding the minor alone leaves 3 terms
    _assert_factors_rebuild(separable(K), K)
    assert separable([[1 / (a - 1), 1 / (a**2 - 1)], [a + 1, 2]]) is None


def test_polynomial_kernels_never_call_the_simplifier(monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("the simplifier ran on a polynomial kernel")

    for name in ("simplify", "trigsimp", "expand_trig"):
        monkeypatch.setattr(sympy, name, boom)
    a, b, c, d = sympy.symbols("a b c d")
    w = sympy.IndexedBase("w")
    u = [a + b, a * b, 3, a**2 - 1]
    v = [c, w[0] * d, sympy.Rational(1, 2), c - d, 1]
    K = [[sympy.expand(ui * vj) for vj in v] for ui in u]
    s = separable(K)
    assert s is not None
    assert all(sympy.expand(e) == 0 for e in sympy.flatten((s.outer() - sympy.Array(K)).tolist()))
    K[3][4] += 1
    assert separable(K) is None
    assert separable([[a / b, a / c], [1 / b, 1 / c]]) is not None  # rational: no simplifier


# -- mixed inputs (audit 3) --------------------------------------------------------------------
def test_floats_mixed_with_symbols_are_refused() -> None:
    a = sympy.Symbol("a")
    for K in (
        [[a, 2.0], [1, 2]],
        sympy.Matrix([[a, 2.0], [1, 2]]),
        np.array([[a, 2.0], [1, 2]], dtype=object),
        [[0.5 * a, 1], [a, 2]],  # a Float inside a symbolic entry
        [[a, np.float32(2)], [1, 2]],
    ):
        with pytest.raises(sc.SpecError, match=r"mixes floats .* with symbols"):
            separable(K)
        with pytest.raises(sc.SpecError, match="mixes floats"):
            low_rank(K, 1)
    # converted exactly, it is symbolic and exact
    s = separable([[a, sympy.Rational(2.0)], [1, 2]])
    assert s is None
    assert _lists(separable([[a, 2 * a], [sympy.nsimplify(0.5), 1]])) == [
        [2 * a, 1],
        [sympy.Rational(1, 2), 1],
    ]


def test_other_mixed_inputs() -> None:
    # Fractions and numpy integer scalars are exact
    s = separable([[Fraction(1, 2), 1], [1, np.int64(2)]])
    assert s.exact and s.integer_factors == ((1, 2), (1, 2)) and s.scale == sympy.Rational(1, 2)
    # an object array of sympy expressions is symbolic
    a, b, c, d = sympy.symbols("a b c d")
    obj = np.array([[a * c, a * d], [b * c, b * d]], dtype=object)
    assert _lists(separable(obj)) == [[a, b], [c, d]]
    # exact numbers among floats are evaluated; a non-real one is refused
    f = separable([[sympy.sqrt(2), 1.0], [2.0, sympy.sqrt(2)]])
    assert f is not None and not f.exact
    with pytest.raises(sc.SpecError, match="must be real"):
        separable([[sympy.I, 1.0], [1.0, 1.0]])
    with pytest.raises(sc.SpecError, match="finite"):
        separable([[sympy.exp(1000), 1.0], [1.0, 1.0]])
    # numpy integers are taken exactly (no int64 wrap-around of uint64 values)
    big = np.array([[2**63, 2**63], [1, 1]], dtype=np.uint64)
    assert separable(big).outer() == sympy.Array(big.tolist())
    # a numpy bool array is a 0/1 mask, read exactly; a bool entry in a list is refused, as
    # are complex entries
    mask = separable(np.ones((2, 2), dtype=bool))
    assert mask is not None and mask.exact and mask.outer() == sympy.Array([[1, 1], [1, 1]])
    for K in ([[True, True], [True, True]], [[1j, 1], [1, 1]]):
        with pytest.raises(sc.SpecError, match=r"bool|complex"):
            separable(K)
    with pytest.raises(sc.SpecError, match="strings are not parsed"):
        separable([["a", 1], [1, 1]])


# -- low_rank: 2-D only (audit 4) ----------------------------------------------------------------
def test_low_rank_states_the_2d_rule() -> None:
    for K in (np.ones((2, 2, 2)), [1.0, 2.0], np.ones((2, 0))):
        with pytest.raises(sc.SpecError, match=r"must be 2-D .*reshape .*got shape"):
            low_rank(K, 1)
    with pytest.raises(sc.SpecError, match="must be real"):
        low_rank([[sympy.I, 1], [1, 1]], 1)
    lr = low_rank([[sympy.sqrt(2), 1], [Fraction(1, 2), 0]], 2)
    assert lr.rank == 2 and lr.error < 1e-12
    assert low_rank(np.eye(3), 7).rank == 3  # r is clamped to the smaller side
