r"""The convolution theorem, derived on the Toeplitz matrices: the DFT diagonalises circulants.

A convolution with circular padding, stride 1 and a full-size output has a circulant matrix
$T$ (`symconv.structure` says so). Its first column is the *impulse response* $h = T e_0$,
and with the DFT matrix $F_{k j} = \omega^{k j}$, $\omega = e^{-2\pi i / n}$,

$$F\, T\, F^{-1} = \operatorname{diag}(F h), \qquad
  \lambda_k = \sum_m h_m\, \omega^{k m}.$$

For the cross-correlation (torch's convention) with padding $(p_\mathrm{lo}, p_\mathrm{hi})$,
$h_{(p_\mathrm{lo} - D a) \bmod n} \mathrel{+}= w_a$: the kernel **reflected**, rolled by
$p_\mathrm{lo}$ and zero-extended, so $\lambda_k = \omega^{k p_\mathrm{lo}}\,
\overline{\hat w_k}$ for real $w$ (the correlation theorem,
$\widehat{x \star w} = \hat x \cdot \overline{\hat w}$). For the true convolution
(`flip=True`) the kernel is not reflected, $\lambda_k = \omega^{k(p_\mathrm{lo} - D(K-1))}
\hat w_k$. In 2D the DFT is $F_{n_1} \otimes F_{n_2}$ and diagonalises the doubly block
circulant matrix.

**Exactness.** The checks work in the cyclotomic field: $\omega$ is a root of the cyclotomic
polynomial $\Phi_N$ (its minimal polynomial), so an integer polynomial $P$ vanishes at
$\omega$ iff $\Phi_N \mid P$. Every entry of $F T F^{-1} - \operatorname{diag}(F h)$ is linear
in the weights with such polynomial coefficients; all remainders mod $\Phi_N$ are zero: a proof
for every weight, no floating point and no `simplify` heuristics. That check grows with
$N^2$ entries, so it runs up to side 16; at every size the same identity is also proved on
$T$'s structure (`structural_diagonalisation`): each row of $T$, read as a polynomial in
$z = \omega^k$, must equal $h$'s, which is an integer comparison per axis, linear in the layer.

Also here: how much zero padding makes the circular (FFT) convolution equal the linear one
(`fft_size`, `fft_plan`), and when convolutions commute (`commutativity_derivation`).

```python
>>> import symconv as sc
>>> from symconv.fourier import circular_spec, fourier_derivation
>>> spec = circular_spec(3)
>>> spec.pads, sc.structure(spec, 5).name
(((1, 1),), 'circulant')
>>> fourier_derivation(spec, 5).verify().passed
True

```
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import sympy

from .._errors import SpecError
from .._fft_sizes import FFTPlan, fft_plan, fft_size
from .._tables import same, table
from ..derivation import Derivation, Outcome, discrepancy
from ..indexform import index_form
from ..limits import check_symbolic
from ..spec import Conv
from ..toeplitz import structure, toeplitz, toeplitz_numeric
from ._commutativity import commutativity_derivation
from ._padding import fft_padding_derivation

__all__ = [
    "FFTPlan",
    "circular_spec",
    "commutativity_derivation",
    "dft_matrix",
    "eigenvalues",
    "fft_padding_derivation",
    "fft_plan",
    "fft_size",
    "fourier_derivation",
    "impulse_response",
]

_OP = "fourier"
_CYCLOTOMIC_MAX = 16  # inputs up to this side also get the cyclotomic field check, dense F
OMEGA = sympy.Symbol("omega")


# the check names the convolution theorem's and the FFT padding's steps rely on
_DIAG = "F T F^-1 = diag(F h), every weight"


def dft_matrix(n: int) -> sympy.Matrix:
    r"""The $n \times n$ DFT matrix $F_{k j} = e^{-2 \pi i k j / n}$ (exact SymPy entries).

    ```python
    >>> dft_matrix(2).tolist()
    [[1, 1], [1, -1]]

    ```
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecError(f"dft_matrix: n must be an integer >= 1, got {n!r}")
    return sympy.Matrix(n, n, lambda k, j: sympy.exp(-2 * sympy.pi * sympy.I * ((k * j) % n) / n))


def circular_spec(
    kernel_size: int | Sequence[int], dims: int = 1, *, flip: bool = False, dilation: int = 1
) -> Conv:
    """A single-channel convolution whose matrix is circulant: circular 'same' padding."""
    return Conv(
        dims=dims,
        kernel_size=kernel_size,
        padding="same",
        padding_mode="circular",
        flip=flip,
        dilation=dilation,
        bias=False,
    )


def _check_circulant(spec: Any, input_size: Any) -> tuple[int, ...]:
    if not isinstance(spec, Conv) or type(spec) is not Conv:
        raise SpecError(f"{_OP}: expected a symconv.Conv, got {type(spec).__name__}")
    if spec.dims > 2:
        raise SpecError(f"{_OP}: dims must be 1 or 2 for the exact check, got {spec.dims}")
    if spec.in_channels != 1 or spec.out_channels != 1:
        raise SpecError(
            f"{_OP}: the DFT diagonalises single-channel circulants; got in_channels "
            f"{spec.in_channels}, out_channels {spec.out_channels} (with channels, each "
            f"channel block is diagonalised: apply it per block)"
        )
    sizes = spec._check_input(input_size)
    if spec.padding_mode != "circular" or any(s != 1 for s in spec.stride):
        raise SpecError(
            f"{_OP}: T is circulant only for padding_mode 'circular' and stride 1, got "
            f"padding_mode {spec.padding_mode!r}, stride {spec.stride}"
        )
    if spec.output_size(sizes) != sizes:
        raise SpecError(
            f"{_OP}: T is circulant only when the output has the input's size; got output "
            f"{spec.output_size(sizes)} for input {sizes} (use padding='same')"
        )
    check_symbolic(_OP, spec, sizes)  # the cost first (symconv.limits): integers only
    return sizes


def _taps(spec: Conv, axis: int, n: int) -> list[int]:
    """Position of tap a in the impulse response: $(p_\\mathrm{lo} - D a') \\bmod n$."""
    k, lo, d = spec.kernel_size[axis], spec.pads[axis][0], spec.dilation[axis]
    return [(lo - d * ((k - 1 - a) if spec.flip else a)) % n for a in range(k)]


def impulse_response(spec: Conv, input_size: int | Sequence[int]) -> sympy.Array:
    r"""The predicted first column of $T$ (the response to $e_0$), symbolic weights `w[0, 0, ...]`.

    Cross-correlation: $h_{(p_\mathrm{lo} - D a) \bmod n} \mathrel{+}= w_a$ (reflected, rolled);
    true convolution: $h_{(p_\mathrm{lo} - D(K - 1 - a)) \bmod n} \mathrel{+}= w_a$.

    ```python
    >>> impulse_response(circular_spec(3), 5).tolist()
    [w[0, 0, 1], w[0, 0, 0], 0, 0, w[0, 0, 2]]

    ```
    """
    sizes = _check_circulant(spec, input_size)
    w = sympy.IndexedBase("w")
    h: dict[tuple[int, ...], Any] = defaultdict(int)
    taps = [_taps(spec, ax, n) for ax, n in enumerate(sizes)]
    for a in itertools.product(*(range(k) for k in spec.kernel_size)):
        h[tuple(taps[ax][a[ax]] for ax in range(spec.dims))] += w[(0, 0, *a)]
    return sympy.Array(
        [h.get(idx, 0) for idx in itertools.product(*(range(n) for n in sizes))], sizes
    )


def eigenvalues(spec: Conv, input_size: int | Sequence[int]) -> sympy.Array:
    r"""$\lambda = F h$, the eigenvalues of $T$, in $\omega$ = `symconv.fourier.OMEGA`
    ($e^{-2\pi i/n}$; 2D: $\omega_1, \omega_2$ per axis as `omega_0`, `omega_1`)."""
    sizes = _check_circulant(spec, input_size)
    h = impulse_response(spec, sizes)
    support = [(m, h[m]) for m in itertools.product(*(range(n) for n in sizes)) if h[m] != 0]
    if spec.dims == 1:
        n = sizes[0]
        return sympy.Array(
            [
                sum((v * OMEGA ** ((k * m) % n) for (m,), v in support), sympy.S.Zero)
                for k in range(n)
            ]
        )
    w0, w1 = sympy.symbols("omega_0 omega_1")
    n0, n1 = sizes
    vals = [
        sum(
            (v * w0 ** ((k0 * m0) % n0) * w1 ** ((k1 * m1) % n1) for (m0, m1), v in support),
            sympy.S.Zero,
        )
        for k0 in range(n0)
        for k1 in range(n1)
    ]
    return sympy.Array(vals, sizes)


# -- exact arithmetic in the cyclotomic field -----------------------------------------------
@lru_cache(maxsize=64)
def _reduction(L: int) -> np.ndarray:
    """Integer matrix M with (coefficients of z^e mod Phi_L) = M[:, e], e < L."""
    z = sympy.Symbol("z")
    phi = sympy.Poly(sympy.cyclotomic_poly(L, z), z)
    deg = phi.degree()
    M = np.zeros((max(deg, 1), L), dtype=object)
    for e in range(L):
        rem = sympy.Poly(z**e, z).rem(phi)
        for (p,), c in rem.terms():
            M[p, e] = int(c)
    return M


def _diagonalisation_residual(spec: Conv, sizes: tuple[int, ...]) -> tuple[int, int]:
    """(number of (weight, k, l) polynomials checked, number not divisible by Phi_L)."""
    T = dict(toeplitz(spec, sizes).todok())
    L = math.lcm(*sizes)
    scale = [L // n for n in sizes]
    N = math.prod(sizes)
    ks = np.array(list(itertools.product(*(range(n) for n in sizes))))  # (N, dims), C order
    taps = [_taps(spec, ax, n) for ax, n in enumerate(sizes)]
    per_weight: dict[Any, list[tuple[int, int, int]]] = defaultdict(list)
    for (o, j), v in T.items():
        for sym, c in sympy.expand(v).as_coefficients_dict().items():
            per_weight[sym].append((o, j, int(c)))
    M = _reduction(L)
    checked = bad = 0
    for sym, entries in per_weight.items():
        R = np.zeros((N, N, L), dtype=object)  # R[k, l, e]: coefficient of z^e, times N
        for o, j, c in entries:
            oi, ji = np.unravel_index(o, sizes), np.unravel_index(j, sizes)
            e = sum(
                s * (ks[:, None, ax] * oi[ax] - ks[None, :, ax] * ji[ax])
                for ax, s in enumerate(scale)
            )
            k_idx, l_idx = np.indices((N, N))
            np.add.at(R, (k_idx, l_idx, np.mod(e, L)), c)
        a = tuple(sym.indices[2:])  # w[0, 0, a...]
        m = [taps[ax][a[ax]] for ax in range(spec.dims)]
        e = np.mod(sum(s * ks[:, ax] * m[ax] for ax, s in enumerate(scale)), L)
        np.subtract.at(R, (np.arange(N), np.arange(N), e), N)
        reduced = R.reshape(-1, L).dot(M.T)
        checked += N * N
        bad += int(np.count_nonzero(np.any(reduced != 0, axis=1)))
    return checked, bad


def structural_diagonalisation(spec: Conv, sizes: tuple[int, ...]) -> tuple[bool, int]:
    r"""$F T F^{-1} = \operatorname{diag}(F h)$ ($h$: `impulse_response`) exactly, on T's factors.

    $F T F^{-1} = \operatorname{diag}(\lambda)$ iff every Fourier mode $(u_k)_j = \omega^{-k j}$
    (a column of $n F^{-1}$) is an eigenvector, $\sum_j T_{o j}\, \omega^{-k(j - o)} = \lambda_k$
    for every row $o$ and frequency $k$. Per row, both sides are values at $z = \omega^k$ of
    polynomials of degree $< n$ (per axis in 2D), $P_o(z) = \sum_j T_{o j} z^{(o - j) \bmod n}$
    and $\sum_m h_m z^m$; they agree at all $n$ distinct roots of unity iff they are the same
    polynomial (interpolation), i.e. iff, per weight, row $o$ of $T$ holds the weight at the
    exponents $(o - j) \bmod n$ where $h$ does. $T$'s taps are one table per axis
    (`IndexForm.factors`, rows $(o, a, j)$), so the check compares, per axis, the table
    $(o, a, (o - j) \bmod n)$ with $(o, a, (p_\mathrm{lo} - D a') \bmod n)$ for every row $o$
    (`impulse_response`'s taps) as integer multisets (a repeated key: a coefficient 2):
    $O(n K)$ per axis, an exact proof for every weight. Returns (holds, rows x taps checked).
    """
    f = index_form(spec, sizes).factors()
    ok = len(f.channels) == 1
    checked = 0
    for ax, n in enumerate(sizes):
        o, a, j = f.axes[ax].T
        rows = np.repeat(np.arange(n), spec.kernel_size[ax])
        taps = np.tile(np.array(_taps(spec, ax, n), dtype=np.int64), n)
        kernel = np.tile(np.arange(spec.kernel_size[ax]), n)
        ok = ok and same(table(o, a, np.mod(o - j, n)), table(rows, kernel, taps))
        checked += len(rows)
    return ok, checked


def _support(h: sympy.Array, sizes: tuple[int, ...]) -> sympy.Tuple:
    """The nonzero entries of `h` as equations h[m] = (weights)."""
    hb = sympy.IndexedBase("h")
    return sympy.Tuple(
        *(sympy.Eq(hb[m], h[m]) for m in itertools.product(*(range(n) for n in sizes)) if h[m] != 0)
    )


def _eigenvalue_formula(spec: Conv, sizes: tuple[int, ...], h: sympy.Array) -> sympy.Eq:
    """lambda_k = sum over h's support of h_m omega^(k m), k symbolic (per axis in 2D)."""
    ks = sympy.symbols(" ".join(f"k_{ax}" for ax in range(spec.dims)), integer=True)
    ks = ks if isinstance(ks, tuple) else (ks,)
    omegas = (OMEGA,) if spec.dims == 1 else sympy.symbols("omega_0 omega_1")
    total = sympy.S.Zero
    for m in itertools.product(*(range(n) for n in sizes)):
        if h[m] != 0:
            term = h[m]
            for om, k_, mm in zip(omegas, ks, m, strict=True):
                term = term * om ** (k_ * mm)
            total += term
    return sympy.Eq(sympy.Indexed(sympy.IndexedBase("lambda"), *ks), total)


def _numeric_probes(spec: Conv, sizes: tuple[int, ...]) -> float:
    """max |F T F^-1 v - fft(h) v| over random complex v and weights (T: scipy.sparse, F: FFT),
    relative to max |fft(h) v|."""
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(3):
        w = rng.standard_normal(spec.weight_shape)
        Tn = toeplitz_numeric(spec, sizes, w)
        hn = Tn[:, [0]].toarray().reshape(sizes)  # T e_0
        lam = np.fft.fftn(hn)
        for _ in range(2):
            v = rng.standard_normal(sizes) + 1j * rng.standard_normal(sizes)
            got = np.fft.fftn((Tn @ np.fft.ifftn(v).ravel()).reshape(sizes))
            want = lam * v
            worst = max(worst, discrepancy(got, want) / max(1.0, float(np.max(np.abs(want)))))
    return worst


def fourier_derivation(spec: Conv | None = None, input_size: Any = None) -> Derivation:
    r"""The DFT diagonalises the circulant $T$ of `spec`: $F T F^{-1} = \operatorname{diag}(F h)$.

    `spec` defaults to `circular_spec(3)`; a plain `Conv` is turned into its circulant version
    (same dims and kernel size, circular 'same' padding, one channel, stride 1). Default sizes:
    6 (1D), 4x4 (2D); any size within `symconv.limits`. Checks: exact on T's structure (every
    size) and in the cyclotomic field (sides up to 16), numeric against `numpy.fft` (the dense
    $F T F^{-1}$ up to side 16, random probes $F T F^{-1} v$ beyond), and the correlation
    theorem (exact and numeric).
    """
    spec = circular_spec(3) if spec is None else spec
    check_symbolic("fourier_derivation", spec, input_size)  # the cost first: integers only
    if (
        isinstance(spec, Conv)
        and type(spec) is Conv
        and (spec.padding_mode != "circular" or spec.in_channels != 1 or spec.out_channels != 1)
    ):
        spec = circular_spec(spec.kernel_size, spec.dims, flip=spec.flip, dilation=spec.dilation[0])
    if input_size is None and isinstance(spec, Conv):
        input_size = (6,) if spec.dims == 1 else (4,) * spec.dims
    sizes = _check_circulant(spec, input_size)
    small = max(sizes) <= _CYCLOTOMIC_MAX  # the field check and dense F: small inputs
    n_all = math.prod(sizes)
    h = impulse_response(spec, sizes)
    lam = eigenvalues(spec, sizes) if small else _eigenvalue_formula(spec, sizes, h)
    lo = spec.pads[0][0]
    d = Derivation(f"The convolution theorem for {spec} on input {sizes}")
    T = toeplitz(spec, sizes) if small else None  # for display; the checks read integer tables
    d.add_step(
        "T is circulant",
        T if n_all <= 16 else sympy.Symbol(rf"T \in \mathbb{{R}}^{{{n_all}^2}}"),
        structure(spec, sizes).evidence,
        by=_DIAG,
    )
    shown_h: Any = h if small else _support(h, sizes)
    d.add_step(
        "Impulse response h = T e_0 (first column)",
        shown_h,
        "the kernel reflected (cross-correlation) or not (true convolution), rolled by the low "
        "padding, zero-extended",
        by=_DIAG,
    )
    d.add_step(
        "Eigenvectors: the Fourier modes",
        sympy.Eq(
            sympy.Symbol(r"T\,u_k"),
            sympy.Symbol(r"\lambda_k u_k"),
        ),
        "u_k[j] = omega^(-k j): T u_k[o] = sum_m h[m] omega^(-k(o - m)) = lambda_k u_k[o]",
        latex=r"(T u_k)_o = \sum_m h_m \omega^{-k(o - m)} = \lambda_k (u_k)_o,"
        r"\quad (u_k)_j = \omega^{-kj}",
        by=_DIAG,
    )
    d.add_step(
        "Diagonalisation",
        sympy.Eq(sympy.Symbol(r"F T F^{-1}"), sympy.Symbol(r"\operatorname{diag}(F h)")),
        "F = F_n1 (x) F_n2 in 2D (Kronecker product): doubly block circulant",
        by=(_DIAG, "F T F^-1 = diag(fft(h))"),
    )
    d.add_step(
        "Eigenvalues (omega = exp(-2 pi i / n))",
        lam,
        "lambda = F h" if small else "lambda = F h at every frequency k (its nonzero terms)",
        by=_DIAG,
    )
    k = sympy.Symbol("k")
    if spec.flip:
        rule = sympy.Eq(
            sympy.Symbol(r"\lambda_k"),
            OMEGA ** (k * (lo - spec.dilation[0] * (spec.kernel_size[0] - 1)))
            * sympy.Symbol(r"\hat w_k"),
        )
        why = "true convolution: the DFT of the kernel itself, up to a phase from the padding"
    else:
        rule = sympy.Eq(
            sympy.Symbol(r"\lambda_k"),
            OMEGA ** (k * lo) * sympy.Symbol(r"\overline{\hat w_k}"),
        )
        why = (
            "cross-correlation = convolution with the reflected kernel, whose DFT is the "
            "conjugate for real w: corr(x, w)^ = x^ conj(w^)"
        )
    d.add_step(
        "In terms of the kernel's DFT (per axis)",
        rule,
        why,
        by=(_DIAG, "DFT of the reflected kernel", "correlation theorem"),
    )
    d.results.update(impulse_response=h, eigenvalues=lam)
    if T is not None:
        d.results.update(T=T)

    def exact() -> Outcome:
        ok, rows = structural_diagonalisation(spec, sizes)
        how = "each row's polynomial per weight equals h's, per axis in integers (interpolation)"
        if not small:
            return Outcome(rows, 0.0 if ok else 1.0, ok, f"{how}; {rows} (row, tap) pairs")
        checked, bad = _diagonalisation_residual(spec, sizes)
        return Outcome(
            checked,
            float(bad) + (0.0 if ok else 1.0),
            bad == 0 and ok,
            f"every entry, per weight, reduced mod the cyclotomic polynomial Phi_"
            f"{math.lcm(*sizes)}; and {how}",
        )

    def numeric() -> Outcome:
        if not small:
            worst = _numeric_probes(spec, sizes)
            return Outcome(
                6,
                worst,
                worst < 1e-10,
                "float64, random weights, F T F^-1 v against fft(h) v for random complex v "
                "(numpy.fft, T sparse; relative to max |fft(h) v|)",
            )
        rng = np.random.default_rng(0)
        worst = 0.0
        for _ in range(3):
            w = rng.standard_normal(spec.weight_shape)
            Tn = toeplitz_numeric(spec, sizes, w).toarray()
            F: np.ndarray = np.ones((1, 1))  # then complex: the DFT matrices' Kronecker product
            for n in sizes:
                F = np.kron(F, np.fft.fft(np.eye(n)))
            got = F @ Tn @ np.linalg.inv(F)
            hn = Tn[:, 0].reshape(sizes)
            want = np.diag(np.fft.fftn(hn).ravel())
            worst = max(worst, discrepancy(got, want))
        return Outcome(3, worst, worst < 1e-10, "float64, random weights, numpy.fft")

    def correlation() -> Outcome:
        # DFT(reflect w)[k] = sum_m w[-m] z^{km} and conj(DFT w)[k] = sum_m w[m] z^{-km}:
        # the same exponent of z for every (k, m), so equal for every real w, exactly.
        cases = 0
        for n in range(1, 9):
            for kk in range(n):
                lhs = sorted(((-m) % n, (kk * m) % n) for m in range(n))
                rhs = sorted((m, (-kk * m) % n) for m in range(n))
                if lhs != rhs:
                    return Outcome(cases, 1.0, False, f"n={n}, k={kk}")
                cases += 1
        return Outcome(cases, 0.0, True, "exponent bookkeeping for every n <= 8 and frequency k")

    def correlation_numeric() -> Outcome:
        rng = np.random.default_rng(1)
        x, w = rng.standard_normal(7), rng.standard_normal(7)
        corr = np.array([np.dot(np.roll(x, -o), w) for o in range(7)])
        err = float(np.max(np.abs(np.fft.fft(corr) - np.fft.fft(x) * np.conj(np.fft.fft(w)))))
        return Outcome(1, err, err < 1e-12, "fft(corr(x, w)) = fft(x) conj(fft(w)), n = 7, float64")

    d.check("F T F^-1 = diag(F h), every weight", "exact", exact)
    d.check("F T F^-1 = diag(fft(h)) in float64", "numeric", numeric)
    d.check("DFT of the reflected kernel = conjugate DFT (real w)", "exact", correlation)
    d.check("correlation theorem in float64", "numeric", correlation_numeric)
    return d
