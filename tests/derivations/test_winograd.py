"""Winograd F(m, r): exact transforms, residuals, multiplication counts, float32 error, errors."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import sympy

import symconv as sc
from symconv.derive import derive
from symconv.winograd import (
    FLOAT32_FACTOR,
    Winograd,
    default_points,
    float32_error,
    winograd,
    winograd_derivation,
    winograd_residual,
)

wg = importlib.import_module("symconv.winograd")  # `symconv.winograd` is also the function


def _patch_winograd(monkeypatch, fake) -> None:
    """Replace `winograd` where the derivation and its float32 growth look it up."""
    for name in ("symconv.winograd._derivation", "symconv.winograd._accuracy"):
        monkeypatch.setattr(importlib.import_module(name), "winograd", fake)


def test_f23_matches_wincnn() -> None:
    f = winograd(2, 3, points=(0, 1, -1))
    assert f.AT == sympy.Matrix([[1, 1, 1, 0], [0, 1, -1, 1]])
    half = sympy.Rational(1, 2)
    assert f.G == sympy.Matrix([[1, 0, 0], [half, half, half], [half, -half, half], [0, 0, 1]])
    assert f.BT == sympy.Matrix([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, -1, 0, 1]])


def test_f43_lavin_transform() -> None:
    f = winograd(4, 3)
    assert f.points == (0, 1, -1, 2, -2)
    assert list(f.BT.row(0)) == [4, 0, -5, 0, 1, 0]


@pytest.mark.parametrize(
    ("m", "r"), [(1, 1), (1, 3), (2, 2), (2, 3), (3, 2), (4, 3), (6, 3), (2, 5)]
)
def test_1d_residual_is_zero_for_all_d_and_g(m: int, r: int) -> None:
    assert winograd_residual(winograd(m, r)).is_zero_matrix


def test_2d_residual_f2x2_3x3_symbolic() -> None:
    assert winograd_residual(winograd(2, 3), dims=2).is_zero_matrix


def test_2d_f4x4_3x3_exact_rationals() -> None:
    f = winograd(4, 3)
    rng = np.random.default_rng(3)
    d = sympy.Matrix(rng.integers(-5, 6, (6, 6)).tolist())
    g = sympy.Matrix(rng.integers(-5, 6, (3, 3)).tolist()) / 3
    want = sympy.Matrix(
        4, 4, lambda i, j: sum(d[i + a, j + b] * g[a, b] for a in range(3) for b in range(3))
    )
    assert f.apply2d(d, g) == want


def test_custom_points_still_exact() -> None:
    f = winograd(3, 3, points=(0, 1, -1, sympy.Rational(1, 2)))
    assert winograd_residual(f).is_zero_matrix


def test_wrong_transform_is_detected() -> None:
    f = winograd(2, 3)
    bad = type(f)(f.m, f.r, f.points, f.AT, f.G * 2, f.BT)
    assert not winograd_residual(bad).is_zero_matrix


def test_multiplications() -> None:
    assert winograd(2, 3).tile_multiplications(2) == (16, 36)
    assert winograd(2, 3).speedup(2) == sympy.Rational(9, 4)
    assert winograd(4, 3).tile_multiplications(2) == (36, 144)
    assert winograd(4, 3).speedup(2) == 4
    assert winograd(4, 3).multiplications == 6


def test_numpy_arrays_and_float32_error() -> None:
    AT, G, BT = winograd(4, 3).numpy(np.float32)
    assert (
        AT.dtype == np.float32 and AT.shape == (4, 6) and G.shape == (6, 3) and BT.shape == (6, 6)
    )
    e2, e4 = float32_error(2, 3, trials=300), float32_error(4, 3, trials=300)
    assert e2["winograd"] < 1e-5 and e4["winograd"] < 3e-4
    assert e4["winograd"] > e2["winograd"]  # error grows with the tile


def test_default_points_sequence() -> None:
    assert default_points(7) == (0, 1, -1, 2, -2, sympy.Rational(1, 2), sympy.Rational(-1, 2))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"m": 0, "r": 3}, "m must be an integer >= 1"),
        ({"m": 2, "r": True}, "r must be an integer >= 1"),
        ({"m": 2, "r": 3, "points": (0, 1)}, r"needs m \+ r - 2 = 3 finite"),
        ({"m": 2, "r": 3, "points": (0, 1, -1, 2)}, "got 4"),
        ({"m": 2, "r": 3, "points": (0, 1, 1)}, "distinct"),
        ({"m": 2, "r": 3, "points": (0, 1, sympy.sqrt(2))}, "not rational"),
        ({"m": 2, "r": 3, "points": (0, 1, "2")}, "rational numbers"),
        ({"m": 2, "r": 3, "points": (0, 1, float("inf"))}, "not finite"),
    ],
)
def test_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(sc.SpecError, match=match):
        winograd(**kwargs)


def test_derivation_and_registry() -> None:
    d = winograd_derivation(2, 3)
    cert = d.verify()
    assert cert.passed and cert.level == "exact", cert.text()
    assert d["multiplications"][2] == (16, 36)
    assert derive("winograd", sc.Conv(dims=2, kernel_size=3), 6)["winograd"].m == 4
    with pytest.raises(sc.SpecError, match="tile length"):
        derive("winograd", sc.Conv(dims=2, kernel_size=3), 2)


def test_tile_length_is_capped() -> None:
    """F(m, r) beyond MAX_TILE fails at once (the CLI's `-i 40` or `-k 25` ran for minutes)."""
    from symconv.winograd import MAX_TILE

    assert MAX_TILE == 16
    assert winograd(14, 3).alpha == 16 and winograd(1, 16).alpha == 16  # at the cap
    for m, r in ((15, 3), (2, 16), (38, 3), (2, 25)):
        with pytest.raises(sc.SpecError, match=rf"m \+ r - 1 = {m + r - 1} > 16 \(MAX_TILE\)"):
            winograd(m, r)
    with pytest.raises(sc.SpecError, match="MAX_TILE"):
        winograd_derivation(2, 25)
    with pytest.raises(sc.SpecError, match="MAX_TILE"):
        derive("winograd", sc.Conv(dims=2, kernel_size=3), 40)
    with pytest.raises(sc.SpecError, match="MAX_TILE"):
        float32_error(20, 3, trials=10)


def test_derivation_at_the_cap_verifies() -> None:
    """At the cap, F(2, 15), the exact checks pass (the 1D reference correlation substitutes
    the filter with `xreplace`, where `subs` took about 90 s; the 2D check compares 230400
    coefficients as integers; a benchmark, not asserted), and the float32 check fails: the
    transforms are exact and useless in float32."""
    d = winograd_derivation(2, 15)
    cert = d.verify()
    exact = [r for r in cert.results if r.level == "exact"]
    assert len(exact) == 3 and all(r.passed for r in exact), cert.text()
    (f32,) = (r for r in cert.results if r.level == "numeric")
    assert not f32.passed and f32.max_error > 1, cert.text()
    assert list(d["float32_growth"]) == [2]  # only m = 2 fits under MAX_TILE with r = 15


@pytest.mark.parametrize("dims", [2.0, True, "2"])
def test_residual_dims_must_be_the_integer_1_or_2(dims) -> None:
    with pytest.raises(sc.SpecError, match="dims must be 1 or 2"):
        winograd_residual(winograd(2, 3), dims=dims)


# -- the float32 check measures the derived transforms ------------------------------------------
def test_float32_error_measures_the_given_points() -> None:
    """`float32_error` used to build the default points whatever the derivation derived."""
    default = float32_error(2, 3, trials=200)
    assert float32_error(2, 3, points=(0, 1, -1), trials=200) == default  # the defaults
    bad = float32_error(2, 3, points=[5, 7, 11], trials=200)
    assert bad["direct"] == default["direct"]  # the same tiles
    assert bad["winograd"] > 1e4 * default["winograd"]  # about 5 against 3e-6


def test_derivation_float32_check_fails_for_bad_points() -> None:
    """`winograd_derivation(2, 3, [5, 7, 11])` is exact, and its float32 check measured the
    default points and passed with 2.9e-6; its own transforms err by about 5."""
    cert = winograd_derivation(2, 3, [5, 7, 11]).verify()
    assert all(r.passed for r in cert.results if r.level == "exact"), cert.text()
    (f32,) = (r for r in cert.results if r.level == "numeric")
    assert not f32.passed and f32.max_error > 1 and "points 5, 7, 11" in f32.detail, cert.text()
    assert not cert.passed


def test_float32_check_is_relative_to_the_direct_error() -> None:
    """F(7x7, 3x3)'s max abs error, 2e-3, passed the old absolute bound (1e-2); its mean error
    is about 100 times the float32 direct correlation's, past `FLOAT32_FACTOR`. F(6x6, 3x3),
    about 17 times, passes."""
    assert winograd_derivation(6, 3).verify().passed
    cert = winograd_derivation(7, 3).verify()
    (f32,) = (r for r in cert.results if r.level == "numeric")
    assert f32.max_error < 1e-2 and not f32.passed, cert.text()
    e = float32_error(7, 3, trials=500)
    assert e["winograd_mean"] > FLOAT32_FACTOR * e["direct_mean"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dims": 3}, "dims must be 1 or 2, got 3"),
        ({"dims": True}, "dims must be 1 or 2, got True"),
        ({"trials": 0}, "trials must be an integer >= 1, got 0"),
        ({"trials": 2.5}, "trials must be an integer >= 1, got 2.5"),
        ({"points": (0, 1)}, r"needs m \+ r - 2 = 3 finite"),
        ({"seed": "x"}, "seed must be an integer >= 0, got 'x'"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"points": (0, 1, np.float32("nan"))}, "is not finite"),
    ],
)
def test_float32_error_rejects(kwargs: dict, match: str) -> None:
    with pytest.raises(sc.SpecError, match=match):
        float32_error(2, 3, **kwargs)


def test_derivation_rejects_bad_dims_when_built() -> None:
    with pytest.raises(sc.SpecError, match="dims must be 1 or 2, got 3"):
        winograd_derivation(2, 3, dims=3)


# -- the 2D check covers every coefficient --------------------------------------------------
def test_2d_coefficients_agree_with_the_symbolic_residual() -> None:
    """Where the symbolic residual is cheap: no wrong coefficient for F(2, 3), and for a wrong
    G exactly as many as the residual has nonzero terms g[s,t] d[u,v]."""
    from symconv.winograd._checks import _coefficient_mismatches_2d

    f = winograd(2, 3)
    assert _coefficient_mismatches_2d(f) == (0, 2 * 2 * 3 * 3 * 4 * 4)
    G = f.G.copy()
    G[1, 0] += 1
    bad = Winograd(f.m, f.r, f.points, f.AT, G, f.BT)
    residual = winograd_residual(bad, dims=2)
    terms = sum(len(sympy.Add.make_args(e)) for e in residual if e != 0)
    wrong, _ = _coefficient_mismatches_2d(bad)
    assert wrong == terms > 0


def test_derivation_2d_check_is_exact_for_all_values_beyond_alpha_4(monkeypatch) -> None:
    """F(4x4, 3x3) was checked on 5 random tiles and labelled exact; now every one of its
    16 * 9 * 36 coefficients is compared, and one wrong entry of G fails the check with the
    number of wrong coefficients as its discrepancy."""
    from symconv.winograd._checks import _coefficient_mismatches_2d

    cert = winograd_derivation(4, 3).verify()
    (two_d,) = (r for r in cert.results if r.name.startswith("2D"))
    assert two_d.level == "exact" and two_d.passed and "5184 of the 5184" in two_d.detail

    real = wg.winograd
    f = real(4, 3)
    G = f.G.copy()
    G[5, 2] = G[5, 2] * 3  # the point at infinity's row: only the last output is touched
    bad = Winograd(f.m, f.r, f.points, f.AT, G, f.BT)
    _patch_winograd(monkeypatch, lambda m, r, points=None: bad if m == 4 else real(m, r))
    cert = wg.winograd_derivation(4, 3).verify()
    (two_d,) = (r for r in cert.results if r.name.startswith("2D"))
    wrong, total = _coefficient_mismatches_2d(bad)
    assert 1 < wrong < total
    assert not two_d.passed and two_d.max_error == wrong, cert.text()  # counted, not sampled


# -- the multiplication count is counted, not restated --------------------------------------
def test_multiplication_counts_come_from_the_transforms_and_the_toeplitz_matrix() -> None:
    from symconv.winograd._checks import _direct_products, _hadamard_products

    for m, r in ((2, 3), (4, 3), (3, 2), (1, 5)):
        f = winograd(m, r)
        assert _hadamard_products(f, 1) == f.alpha and _hadamard_products(f, 2) == f.alpha**2
        assert _direct_products(f, 1) == m * r and _direct_products(f, 2) == (m * r) ** 2


def test_multiplication_check_fails_when_the_formula_overstates(monkeypatch) -> None:
    """The check compared alpha^2 with alpha * alpha; here G has a zero row, so the element-wise
    stage multiplies only 3 x 3 of its 4 x 4 entries, against the formula's 16."""
    real = wg.winograd
    f = real(2, 3)
    G = f.G.copy()
    G[1, :] = sympy.zeros(1, 3)
    lazy = Winograd(f.m, f.r, f.points, f.AT, G, f.BT)
    _patch_winograd(monkeypatch, lambda m, r, points=None: lazy if m == 2 else real(m, r))
    cert = wg.winograd_derivation(2, 3).verify()
    (counts,) = (r for r in cert.results if r.name.startswith("multiplications"))
    assert not counts.passed and counts.max_error == 16 - 9, cert.text()


# -- the float32 error growth with m is part of the derivation --------------------------------
def test_derivation_reports_float32_growth_with_m() -> None:
    d = winograd_derivation(2, 3)
    growth = d["float32_growth"]
    assert list(growth) == [2, 3, 4, 5, 6]
    assert growth[4] == float32_error(4, 3, trials=500)  # measured, default points, 2D
    means = [growth[k]["winograd_mean"] for k in growth]
    assert means == sorted(means) and means[-1] > 5 * means[0]  # grows with m
    table = d.steps[-1]
    assert "growth" in table.title and table.statement.shape == (6, 7)
    savings = dict(zip(table.statement[1:, 0], table.statement[1:, 2], strict=True))
    assert savings[2] == sympy.Rational(9, 4) and savings[4] == 4  # F(4x4, 3x3): 4x
    assert r"\begin{array}" in table.latex()
    d1 = winograd_derivation(4, 3, dims=1)["float32_growth"]
    assert d1[4] == float32_error(4, 3, dims=1, trials=500)


def test_numpy_scalar_points_are_exact() -> None:
    """numpy floats and ints are points like Python ones: their exact binary values."""
    a = winograd(2, 3, [np.float32(0.5), np.int64(1), -1])
    b = winograd(2, 3, [sympy.Rational(1, 2), 1, -1])
    assert a.points == b.points and a.G == b.G
    assert winograd(2, 3, [np.float32(0.1), 1, -1]).points[0] == sympy.Rational(
        float(np.float32(0.1))
    )
