"""Winograd F(m, r): exact transforms, residuals, multiplication counts, float32 error, errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symconv as sc
from symconv.derive import derive
from symconv.winograd import (
    default_points,
    float32_error,
    winograd,
    winograd_derivation,
    winograd_residual,
)


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
    """At the cap, F(2, 15), the exact checks pass (the reference correlation substitutes the
    filter with `xreplace`: seconds here, where `subs` took about 90 s; a benchmark, not
    asserted)."""
    cert = winograd_derivation(2, 15).verify()
    exact = [r for r in cert.results if r.level == "exact"]
    assert len(exact) == 3 and all(r.passed for r in exact), cert.text()


@pytest.mark.parametrize("dims", [2.0, True, "2"])
def test_residual_dims_must_be_the_integer_1_or_2(dims) -> None:
    with pytest.raises(sc.SpecError, match="dims must be 1 or 2"):
        winograd_residual(winograd(2, 3), dims=dims)
