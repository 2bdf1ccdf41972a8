"""The convolution theorem: DFT diagonalises circulants; FFT padding; commutativity."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import symconv as sc
import symconv.fourier as fourier
from symconv.derive import derive
from symconv.fourier import (
    circular_spec,
    commutativity_derivation,
    dft_matrix,
    fft_padding_derivation,
    fft_plan,
    fft_size,
    fourier_derivation,
    impulse_response,
)


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        (circular_spec(3), 6),
        (circular_spec(2), 4),
        (circular_spec(4, flip=True), 5),
        (circular_spec(2, dilation=2), 6),
        (circular_spec(1), 3),
        (circular_spec(3, dims=2), (3, 3)),
        (circular_spec(3, dims=2), (4, 4)),
        (circular_spec((2, 3), dims=2, flip=True), (3, 4)),
    ],
)
def test_dft_diagonalises_circulant(spec: sc.Conv, size) -> None:
    cert = fourier_derivation(spec, size).verify()
    assert cert.passed and cert.level == "exact", cert.text()


def test_wrong_eigenvalues_are_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = circular_spec(3)
    # predict the true-convolution (unreflected) spectrum for a cross-correlation: must fail
    monkeypatch.setattr(fourier, "_taps", lambda s, ax, n: [(a - 1) % n for a in range(3)])
    checked, bad = fourier._diagonalisation_residual(spec, (5,))
    assert checked and bad


def test_sympy_dft_small_case_by_simplification() -> None:
    # independent of the cyclotomic route: n = 4 has exact entries 1, -i, -1, i
    spec, n = circular_spec(3), 4
    F = dft_matrix(n)
    T = sympy.Matrix(sc.toeplitz(spec, n))
    D = (F * T * F.inv()).applyfunc(sympy.expand_complex).applyfunc(sympy.simplify)
    h = sympy.Matrix(list(impulse_response(spec, n)))
    lam = (F * h).applyfunc(sympy.expand_complex)
    assert D == sympy.diag(*lam)


def test_impulse_response_is_first_column() -> None:
    for spec, n in [(circular_spec(3), 5), (circular_spec(4, flip=True), 6)]:
        T = sc.toeplitz(spec, n)
        assert list(impulse_response(spec, n)) == list(T[:, 0])


def test_errors() -> None:
    with pytest.raises(sc.SpecError, match="circular"):
        fourier._check_circulant(sc.Conv(dims=1, kernel_size=3, padding=1), 5)
    with pytest.raises(sc.SpecError, match="single-channel"):
        fourier._check_circulant(
            sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular", out_channels=2), 5
        )
    with pytest.raises(sc.SpecError, match="output has the input's size"):
        fourier._check_circulant(sc.Conv(dims=1, kernel_size=3, padding_mode="circular"), 5)
    with pytest.raises(sc.SpecError, match="n must be"):
        dft_matrix(0)
    with pytest.raises(sc.SpecError, match=r"expected a symconv\.Conv"):
        fft_plan(sc.Pool(kernel_size=2), 4)


def test_fft_size_special_cases() -> None:
    assert fft_size(8, 3, 2, 2) == 10  # full
    assert fft_size(8, 3) == 8  # valid
    assert fft_size(8, 4, 1, 2) == 10  # torch same, even kernel: n + hi
    assert fft_size(1, 3, 1, 1) == 3  # the kernel must fit


def test_fft_padding_derivation() -> None:
    cert = fft_padding_derivation().verify()
    assert cert.passed, cert.text()


@given(
    n=st.integers(1, 9),
    k=st.integers(1, 4),
    lo=st.integers(0, 3),
    hi=st.integers(0, 3),
    seed=st.integers(0, 2**16),
)
def test_fft_plan_matches_direct_correlation(n: int, k: int, lo: int, hi: int, seed: int) -> None:
    if n + lo + hi < k:
        return
    spec = sc.Conv(dims=1, kernel_size=k, padding=((lo, hi),), bias=False)
    plan = fft_plan(spec, n)
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(n), rng.standard_normal(k)
    N = plan.sizes[0]
    # cross-correlation: multiply by the conjugate spectrum of the kernel rolled to the end
    h = np.zeros(N)
    h[:k] = w[::-1]  # reflected kernel: a true convolution
    full = np.fft.ifft(np.fft.fft(x, N) * np.fft.fft(h)).real
    got = full[(plan.start[0] + np.arange(plan.output_size[0])) % N]
    want = sc.toeplitz_numeric(spec, n, w[None, None]) @ x
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_fft_plan_circular_and_reflect() -> None:
    plan = fft_plan(circular_spec(3, dims=2), (8, 8))
    assert plan.sizes == (8, 8) and plan.pre_pad == ((0, 0), (0, 0)) and plan.reflect
    spec = sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="reflect")
    plan = fft_plan(spec, 6)
    assert plan.pre_pad == ((1, 1),) and plan.sizes == (8,)
    strided = fft_plan(sc.Conv(dims=1, kernel_size=3, stride=2), 7)
    assert strided.step == (2,) and strided.output_size == (3,)


def test_commutativity() -> None:
    d = commutativity_derivation()
    cert = d.verify()
    assert cert.passed, cert.text()
    assert any(s.title.startswith("Erratum") for s in d.steps)
    names = {r.name for r in cert.results}
    assert "f * g = g * f in 2-d, single channel, full output" in names
    assert "C x C layers commute iff W_A(z) W_B(z) = W_B(z) W_A(z)" in names


def test_commuting_multichannel_kernels_by_their_polynomials() -> None:
    """W(z) of a kernel and back; W_B = W_A^2 (a full convolution of W_A with itself over the
    channel matrices) commutes with W_A as layers, a kernel with a nonzero commutator does not."""
    from symconv.fourier._commutativity import (
        _kernel_polynomial,
        _multichannel_matrix,
        _polynomial_kernel,
    )

    z = sympy.Symbol("z")
    wa = np.array([[[1, 2], [0, 1]], [[-1, 0], [3, 1]]])
    assert (_polynomial_kernel(_kernel_polynomial(wa, z), z) == wa).all()
    pa = _kernel_polynomial(wa, z)
    wb = _polynomial_kernel((pa * pa).applyfunc(sympy.expand), z)
    assert wb.shape == (2, 2, 3)
    ab = _multichannel_matrix(wb, 4) * _multichannel_matrix(wa, 3)
    ba = _multichannel_matrix(wa, 5) * _multichannel_matrix(wb, 3)
    assert ab == ba
    wc = np.array([[[1, 0], [1, 0]], [[0, 0], [1, 0]]])
    assert _multichannel_matrix(wc, 4) * _multichannel_matrix(wa, 3) != (
        _multichannel_matrix(wa, 4) * _multichannel_matrix(wc, 3)
    )


@pytest.mark.parametrize("op", ["fourier", "fft-padding", "commutativity"])
def test_registry_defaults(op: str) -> None:
    d = derive(op, sc.Conv(dims=2, kernel_size=3), None)
    assert d.verify().passed
    assert d.markdown().startswith("### ")


def test_registry_converts_plain_conv_1d() -> None:
    d = derive("fourier", sc.Conv(dims=1, kernel_size=4, flip=True), 5)
    assert d.verify().passed
