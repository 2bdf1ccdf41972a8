"""unfold/fold's derivation checks integer tables (the Piecewise per axis, U against the patch
matrix's gather, fold against U^T in scipy.sparse), so a 64 x 64 layer with 16 channels is
admitted and verified; each check still fails on a wrong index map, padding, stride or
dilation."""

from __future__ import annotations

import numpy as np
import pytest

import symconv as sc
from symconv import family
from symconv.derive import derive

CHECKS = {
    "patch": "unfold(x) = X^T, the patch matrix",
    "index": "U's rows are the index form on this layer",
    "fold": "fold's matrix = U^T on this layer and small 1-d/2-d layers",
    "torch": "against torch's F.unfold and F.fold",
}


def _results(spec: sc.Conv, size: tuple[int, ...]) -> dict[str, bool]:
    cert = family.unfold_fold_derivation(spec, size).verify()
    by_name = {r.name: r for r in cert.results}
    return {key: by_name[name].passed for key, name in CHECKS.items()}


def test_64x64_with_16_channels_is_admitted_and_verifies() -> None:
    spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=3, padding=1)
    cert = derive("unfold-fold", spec, (64, 64)).verify()  # the CLI's path, limits included
    assert cert.passed and len(cert.results) == len(CHECKS)
    assert all(r.passed for r in cert.results)
    strided = sc.Conv(dims=2, in_channels=16, kernel_size=5, stride=2, padding=2, dilation=2)
    assert derive("unfold-fold", strided, (64, 64)).verify().passed
    assert "unfold" not in family.unfold_fold_derivation(spec, (64, 64)).results  # no SymPy U


def test_small_layers_keep_the_sympy_matrices() -> None:
    spec = sc.Conv(dims=2, in_channels=2, kernel_size=2, stride=2, padding=1)
    d = family.unfold_fold_derivation(spec, (3, 4))
    u = d.results["unfold"]
    assert u == family.unfold_matrix(spec, (3, 4)) and u.T == family.fold_matrix(spec, (3, 4))
    assert d.results["patch"].shape == (2 * 3, 2 * 4)
    assert d.verify().passed


def _window(shift: int = 0, stride: int = 0, dilation: int = 0, flip: bool = False):
    real = family.window_table

    def mutant(out: int, kernel: int, s: int, d: int) -> np.ndarray:
        t = real(out, kernel, s + stride, d + dilation) + shift
        return t[:, ::-1] if flip else t

    return mutant


SPEC = sc.Conv(dims=2, in_channels=3, kernel_size=3, stride=2, dilation=2, padding=2)


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param({"flip": True}, id="index-map-reversed"),
        pytest.param({"shift": 1}, id="padding-off-by-one"),
        pytest.param({"stride": 1}, id="stride"),
        pytest.param({"dilation": 1}, id="dilation"),
    ],
)
def test_every_check_fails_on_a_wrong_unfold(monkeypatch, mutation) -> None:
    assert all(_results(SPEC, (64, 64)).values())
    monkeypatch.setattr(family, "window_table", _window(**mutation))
    got = _results(SPEC, (64, 64))
    assert not any(got.values()), got
    one_d = sc.Conv(dims=1, in_channels=2, kernel_size=3, stride=2, dilation=2, padding=2)
    assert not any(_results(one_d, (64,)).values())


def test_fold_check_fails_on_a_wrong_crop(monkeypatch) -> None:
    real = family._fold_entries

    def cropped_late(spec, size, out):  # every scatter lands one row further
        rows, cols, shape = real(spec, size, out)
        return (rows + 1) % shape[0], cols, shape

    monkeypatch.setattr(family, "_fold_entries", cropped_late)
    got = _results(SPEC, (64, 64))
    assert got == {"patch": True, "index": True, "fold": False, "torch": True}


def test_index_check_reads_the_displayed_piecewise() -> None:
    """The Piecewise is evaluated, not assumed: a shifted coordinate or a dropped condition
    reads other entries, and one whose condition mixes two axes is refused (None)."""
    import sympy

    size, out = (9, 8), SPEC.output_size((9, 8))
    n, c, a1, a2, o1, o2 = sympy.symbols("n c a_1 a_2 o_1 o_2", integer=True, nonnegative=True)
    x = sympy.IndexedBase("x")
    r1, r2 = 2 * o1 + 2 * a1 - 2, 2 * o2 + 2 * a2 - 2  # stride 2, dilation 2, padding 2

    def reads(expr, cond):
        pw = sympy.Piecewise((expr, cond), (0, True))
        return family._piecewise_reads(pw, {}, x, (n, c), [a1, a2], [o1, o2], SPEC, size, out)

    inside = sympy.And(r1 >= 0, r1 < 9, r2 >= 0, r2 < 8)
    want = family._unfold_rows(SPEC, size, out)
    assert np.array_equal(reads(x[n, c, r1, r2], inside), want)
    assert not np.array_equal(reads(x[n, c, r1 + 1, r2], inside), want)
    assert not np.array_equal(reads(x[n, c, r1, r2], sympy.And(r1 >= 0, r2 >= 0)), want)
    assert reads(x[n, c, r2, r1], inside) is None  # a coordinate reading the other axis
    assert reads(x[n, c, r1, r2], sympy.And(inside, r1 + a2 >= 0)) is None
    assert reads(x[c, n, r1, r2], inside) is None
