"""Separable kernels: exact and float detection, factors, low rank, the Kronecker identity."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symconv as sc
from symconv.derive import derive
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
    with pytest.raises(sc.SpecError, match="must be 2D"):
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
