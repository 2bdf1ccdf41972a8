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

from ._errors import SpecError
from ._fft_sizes import FFTPlan, fft_plan, fft_size
from ._tables import same, table
from .derivation import Derivation, Outcome, discrepancy, grid_check
from .indexform import index_form
from .limits import check_symbolic
from .spec import Conv
from .toeplitz import structure, toeplitz, toeplitz_numeric

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
_ALIAS = "circular = linear exactly at N = fft_size"


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


# -- zero padding for the FFT ----------------------------------------------------------------
def _circular_terms(n: int, K: int, N: int, lo: int, out: int) -> list[frozenset]:
    """Outputs of the circular route as multisets of (input j, weight a) products."""
    full: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for j in range(n):
        for b in range(K):  # reflected kernel: h[b] = w[K - 1 - b], true convolution with h
            full[(j + b) % N].append((j, K - 1 - b))
    s = K - 1 - lo
    return [frozenset(full[(o + s) % N]) for o in range(out)]


def _linear_terms(n: int, k: int, lo: int, hi: int) -> list[frozenset]:
    spec = Conv(dims=1, kernel_size=k, padding=((lo, hi),), bias=False)
    T = dict(toeplitz(spec, n).todok())
    rows: dict[int, set] = defaultdict(set)
    for (o, j), v in T.items():
        rows[o].add((j, int(v.indices[2])))
    return [frozenset(rows[o]) for o in range(spec.output_size(n)[0])]


def fft_padding_derivation(spec: Any = None, input_size: Any = None) -> Derivation:
    r"""How much zero padding makes circular (FFT) convolution equal the linear one.

    Checked exactly (symbolic $x$, $w$: each output as its set of products $x_j w_a$) on the
    grid $n \le 6$, $k \le 4$, $p_\mathrm{lo}, p_\mathrm{hi} \le k$: equal at $N$ =
    `fft_size`, and at $N + 1, N + 2$; different at $N - 1$ whenever $N - 1 \ge K$ (the bound
    is tight).
    """
    n, K, N = sympy.symbols("n K N", integer=True, positive=True)
    lo, hi = sympy.symbols("p_lo p_hi", integer=True, nonnegative=True)
    d = Derivation("Zero padding for FFT convolution: circular = linear")
    d.add_step(
        "Circular convolution aliases the linear one",
        sympy.Eq(
            sympy.Symbol(r"(x \circledast_{N} h)_{q}"),
            sympy.Sum(sympy.Symbol(r"(x * h)_{q + mN}"), (sympy.Symbol("m"), -sympy.oo, sympy.oo)),
        ),
        "the full linear convolution is supported on [0, n + K - 2]",
        definition=True,
    )
    d.add_step(
        "Cross-correlation with padding (lo, hi) is a crop of it",
        sympy.Eq(sympy.Symbol("y_o"), sympy.Symbol(r"(x * \bar w)_{o + K - 1 - p_{lo}}")),
        "w reflected: correlation = convolution with the reflected kernel; o < n + lo + hi - K + 1",
        definition=True,
    )
    s_, e_ = K - 1 - lo, n + hi - 1
    d.add_step(
        "No alias reaches the crop iff",
        sympy.And(sympy.Ge(s_ + N, n + K - 1), sympy.Lt(e_ - N, 0)),
        "needed q in [K-1-lo, n+hi-1]: q + N must pass the support [0, n+K-2], q - N fall "
        "below it (m = +-1 decide; |m| > 1 follow)",
        by=_ALIAS,
    )
    bound = sympy.Max(K, n + sympy.Max(lo, hi))
    d.add_step(
        "So the smallest length is", sympy.Eq(N, bound), "N >= K holds the kernel", by=_ALIAS
    )
    d.add_step(
        "Special cases",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("N_full"), n + K - 1),
            sympy.Eq(sympy.Symbol("N_valid"), n),
            sympy.Eq(sympy.Symbol("N_same"), n + sympy.ceiling((K - 1) / 2)),
        ),
        "full: lo = hi = K - 1; valid: 0; torch same: the odd pad on the high side",
        by="special cases of max(K, n + max(lo, hi))",
    )
    d.add_step(
        "Fast lengths",
        sympy.Symbol(r"N' = \text{next fast length} \ge N"),
        "any N' >= N works as well (the numeric backend picks a product of small primes)",
        by=_ALIAS,
    )

    def special() -> Outcome:
        cases = [(nn, kk) for nn in range(1, 9) for kk in range(1, nn + 1)]

        def err(c: tuple[int, int]) -> float:
            nn, kk = c
            full = fft_size(nn, kk, kk - 1, kk - 1) - (nn + kk - 1)
            valid = fft_size(nn, kk, 0, 0) - nn
            same = fft_size(nn, kk, (kk - 1) // 2, kk // 2) - (nn + math.ceil((kk - 1) / 2))
            return abs(full) + abs(valid) + abs(same)

        return grid_check(cases, err)

    d.check("special cases of max(K, n + max(lo, hi)) = fft_size, n < 9, K <= n", "exact", special)

    def grid() -> Outcome:
        cases = [
            c
            for c in itertools.product(range(1, 7), range(1, 5), range(0, 5), range(0, 5))
            if c[2] <= c[1] and c[3] <= c[1] and c[0] + c[2] + c[3] >= c[1]
        ]

        def err(c: tuple[int, int, int, int]) -> float:
            nn, kk, pl, ph = c
            lin = _linear_terms(nn, kk, pl, ph)
            nmin = fft_size(nn, kk, pl, ph)
            for extra in (0, 1, 2):
                if _circular_terms(nn, kk, nmin + extra, pl, len(lin)) != lin:
                    return 1.0
            if nmin - 1 >= kk and _circular_terms(nn, kk, nmin - 1, pl, len(lin)) == lin:
                return 1.0  # the bound would not be tight
            return 0.0

        return grid_check(cases, err)

    d.check("circular = linear exactly at N = fft_size, not below", "exact", grid)
    return d


# -- commutativity ---------------------------------------------------------------------------
def _full(x: Any, w: Any, flip: bool = True) -> list[Any]:
    """The full true convolution (`flip=False`: cross-correlation) of `x` with `w`, any
    number of axes, read from `symconv.toeplitz` (padding='full'); C-order flattened."""
    x, w = sympy.Array(x), sympy.Array(w)
    kernel, size = tuple(map(int, w.shape)), tuple(map(int, x.shape))
    spec = Conv(dims=len(size), kernel_size=kernel, padding="full", flip=flip, bias=False)
    T = toeplitz(spec, size)
    base = sympy.IndexedBase("w")
    taps = itertools.product(*(range(n) for n in kernel))
    T = T.xreplace({base[(0, 0, *a)]: sympy.sympify(w[a]) for a in taps})  # exact, no subs
    return list((T * sympy.Matrix(sympy.flatten(x.tolist()))).applyfunc(sympy.expand))


def _kernel_polynomial(kernel: Any, z: sympy.Symbol) -> sympy.Matrix:
    """W(z) = sum_a W[:, :, a] z^a of a (C_out, C_in, k) kernel (true convolution)."""
    c_out, c_in, k = kernel.shape
    return sympy.Matrix(
        c_out, c_in, lambda i, j: sum(int(kernel[i, j, a]) * z**a for a in range(k))
    )


def _polynomial_kernel(poly: sympy.Matrix, z: sympy.Symbol) -> np.ndarray:
    """The (C_out, C_in, k) integer kernel of a matrix of polynomials in z."""
    k = 1 + max(sympy.degree(e, z) if e != 0 else 0 for e in poly)
    out = np.zeros((poly.rows, poly.cols, k), dtype=np.int64)
    for i in range(poly.rows):
        for j in range(poly.cols):
            coeffs = sympy.Poly(poly[i, j], z).all_coeffs()[::-1]
            out[i, j, : len(coeffs)] = [int(c) for c in coeffs]
    return out


def _multichannel_matrix(kernel: np.ndarray | sympy.Array, n: int) -> sympy.Matrix:
    """T of a full true convolution with the (C_out, C_in, k) `kernel`, as a dense sympy Matrix."""
    c_out, c_in, k = kernel.shape
    spec = Conv(
        dims=1,
        in_channels=c_in,
        out_channels=c_out,
        kernel_size=k,
        padding="full",
        flip=True,
        bias=False,
    )
    T = toeplitz(spec, n)
    base = sympy.IndexedBase("w")
    sub = {  # xreplace: each w[o, c, a] is replaced exactly, without subs' machinery
        base[o, c, a]: sympy.sympify(kernel[o, c, a])
        for o in range(c_out)
        for c in range(c_in)
        for a in range(k)
    }
    return sympy.Matrix(T.xreplace(sub))


def commutativity_derivation(spec: Any = None, input_size: Any = None) -> Derivation:
    r"""When do convolutions commute? Single channel yes, cross-correlation no, channels: rarely.

    - $f * g = g * f$ for single-channel true convolution, 'full' output included;
    - $\operatorname{corr}(f, g) = \operatorname{reflect}(\operatorname{corr}(g, f))$, not equal;
    - multi-channel: two full convolutions with kernels $W_A(z) \in R[z]^{C_2 \times C_1}$,
      $W_B(z) \in R[z]^{C_1' \times C_2'}$ (z-transforms over the polynomial ring) compose as
      $W_B(z) W_A(z)$. Both orders are defined and comparable only if all four channel counts
      are equal ($C \times C$ each); then they commute iff $W_A W_B = W_B W_A$ — true for
      $C = 1$ and for depthwise (diagonal) kernels, and for $W_B = p(W_A)$ (checked exactly
      with $W_B = W_A^2 + 3 W_A + I$ against random kernels, whose commutators do not vanish),
      false in general, as the exact counterexample with $1 \times 1$ kernels shows;
    - single-channel true convolution commutes in 2-d as well (checked exactly).

    **Erratum (lecture 004):** "linear operations are not guaranteed to be commutative unless
    each operation has the same number of input and output channels" — equal channel counts
    are *necessary* for the two compositions to exist and have the same shape, not
    *sufficient* for them to be equal.
    """
    d = Derivation("Commutativity of convolution")
    f = sympy.IndexedBase("f")
    g = sympy.IndexedBase("g")
    d.add_step(
        "True convolution commutes (substitute b = o - a)",
        sympy.Eq(
            sympy.Sum(
                f[sympy.Symbol("o") - sympy.Symbol("a")] * g[sympy.Symbol("a")],
                (sympy.Symbol("a"), -sympy.oo, sympy.oo),
            ),
            sympy.Sum(
                g[sympy.Symbol("o") - sympy.Symbol("b")] * f[sympy.Symbol("b")],
                (sympy.Symbol("b"), -sympy.oo, sympy.oo),
            ),
        ),
        "single channel, 'full' output: both have length n_f + n_g - 1",
        by=("f * g = g * f, single channel", "f * g = g * f in 2-d"),
    )
    d.add_step(
        "Cross-correlation does not: it reflects",
        sympy.Eq(
            sympy.Symbol(r"\operatorname{corr}(f, g)_o"),
            sympy.Symbol(r"\operatorname{corr}(g, f)_{n_f + n_g - 2 - o}"),
        ),
        "corr(f, g)_o = sum_a f[o + a - (n_g - 1)] g_a; swap roles and substitute",
        by="corr(f, g) = reflect(corr(g, f))",
    )
    z = sympy.Symbol("z")
    A = sympy.Matrix(2, 2, lambda i, j: sympy.Symbol(f"a{i}{j}_0") + sympy.Symbol(f"a{i}{j}_1") * z)
    B = sympy.Matrix(2, 2, lambda i, j: sympy.Symbol(f"b{i}{j}_0") + sympy.Symbol(f"b{i}{j}_1") * z)
    d.add_step(
        "Multi-channel: kernels are matrices over the polynomial ring R[z]",
        sympy.Eq(sympy.Symbol("Y(z)"), sympy.Symbol("W(z) X(z)")),
        "Y_k(z) = sum_c W_kc(z) X_c(z): composition is the matrix product W_B(z) W_A(z)",
        by="C x C layers commute iff",
    )
    comm = (A * B - B * A).applyfunc(sympy.expand)
    WA, WB = sympy.MatrixSymbol("W_A", 2, 2), sympy.MatrixSymbol("W_B", 2, 2)
    d.add_step(
        "Commutator of two 2-channel layers (kernel size 2)",
        sympy.Eq(WA * WB - WB * WA, comm, evaluate=False),
        "nonzero in general: equal channel counts do not make convolutions commute",
        by="2-channel commutator nonzero",
    )
    d.add_step(
        "When they commute",
        sympy.Symbol(
            r"C = 1;\ \text{depthwise (diagonal } W\text{)};\ W_A, W_B "
            r"\text{ commuting (e.g. } W_B = p(W_A)\text{)}"
        ),
        "C_in = C_out = 1 always; with C_A: C1 -> C2 and C_B: C2 -> C1 both orders exist but "
        "have shapes C1 x C1 and C2 x C2: comparable only if C1 = C2",
        by=("f * g = g * f, single channel", "depthwise convolutions commute", "C x C layers"),
    )
    Ac = np.array([[[1], [1]], [[0], [1]]])
    Bc = np.array([[[1], [0]], [[1], [1]]])
    d.add_step(
        "Counterexample (1x1 kernels, C = 2)",
        sympy.Tuple(sympy.Matrix(Ac[:, :, 0]), sympy.Matrix(Bc[:, :, 0])),
        "AB = [[2, 1], [1, 1]] but BA = [[1, 1], [1, 2]]",
        by="equal channel counts, 1x1 kernels",
    )
    d.add_step(
        "Erratum (lecture 004)",
        "equal channel counts: necessary for both compositions to exist, not sufficient",
        "the lecture: 'not guaranteed to be commutative unless each operation has the same "
        "number of input and output channels' - read 'unless' as a necessary condition only",
        by="equal channel counts, 1x1 kernels",
    )

    def single() -> Outcome:
        cases = list(itertools.product(range(1, 5), range(1, 5)))

        def err(c: tuple[int, int]) -> float:
            nf, ng = c
            fs, gs = [f[i] for i in range(nf)], [g[i] for i in range(ng)]
            return float(_full(fs, gs) != _full(gs, fs))

        return grid_check(cases, err)

    def corr() -> Outcome:
        cases = list(itertools.product(range(1, 5), range(1, 5)))
        unequal = 0

        def err(c: tuple[int, int]) -> float:
            nonlocal unequal
            nf, ng = c
            fs, gs = [f[i] for i in range(nf)], [g[i] for i in range(ng)]
            a, b = _full(fs, gs, flip=False), _full(gs, fs, flip=False)
            unequal += a != b
            return float(a != b[::-1])

        n, e, ok, _ = grid_check(cases, err)
        return Outcome(
            n, e, ok, f"reflect identity exact; corr(f, g) != corr(g, f) in {unequal} cases"
        )

    def depthwise() -> Outcome:
        cases = 0
        for ka, kb, n in ((1, 2, 3), (2, 2, 2), (2, 3, 2)):
            wa = np.zeros((2, 2, ka), dtype=object)
            wb = np.zeros((2, 2, kb), dtype=object)
            for c in range(2):
                for a in range(ka):
                    wa[c, c, a] = sympy.Symbol(f"a{c}_{a}")
                for a in range(kb):
                    wb[c, c, a] = sympy.Symbol(f"b{c}_{a}")
            ab = _multichannel_matrix(wb, n + ka - 1) * _multichannel_matrix(wa, n)
            ba = _multichannel_matrix(wa, n + kb - 1) * _multichannel_matrix(wb, n)
            if (ab - ba).applyfunc(sympy.expand) != sympy.zeros(*ab.shape):
                return Outcome(cases, 1.0, False, f"ka={ka}, kb={kb}, n={n}")
            cases += 1
        return Outcome(cases, 0.0, True, "symbolic depthwise kernels, C = 2, via symconv.toeplitz")

    def counterexample() -> Outcome:
        n = 3
        ab = _multichannel_matrix(Bc, n) * _multichannel_matrix(Ac, n)
        ba = _multichannel_matrix(Ac, n) * _multichannel_matrix(Bc, n)
        differ = ab != ba
        return Outcome(1, 0.0 if differ else 1.0, differ, "B after A != A after B (exact integers)")

    def general() -> Outcome:
        ok = any(v != 0 for v in comm)
        return Outcome(1, 0.0 if ok else 1.0, ok, "symbolic commutator is not identically zero")

    def single_2d() -> Outcome:
        cases = [((2, 2), (2, 2)), ((2, 3), (3, 1)), ((3, 2), (2, 2))]

        def err(c: tuple[tuple[int, int], tuple[int, int]]) -> float:
            (fa, fb), (ga, gb) = c
            fs = sympy.Matrix(fa, fb, lambda i, j: f[i, j])
            gs = sympy.Matrix(ga, gb, lambda i, j: g[i, j])
            return float(_full(fs, gs) != _full(gs, fs))

        return grid_check(cases, err)

    def polynomial() -> Outcome:
        # W_B = W_A^2 + 3 W_A + I commutes with W_A; a random W_B commutes exactly when its
        # commutator W_A W_B - W_B W_A over R[z] vanishes (here it does not)
        rng = np.random.default_rng(7)
        cases, outcomes = 0, []
        for ka, n in ((2, 3), (3, 2)):
            wa = rng.integers(-3, 4, size=(2, 2, ka))
            poly_a = _kernel_polynomial(wa, z)
            poly_b = (poly_a * poly_a + 3 * poly_a + sympy.eye(2)).applyfunc(sympy.expand)
            for wb in (_polynomial_kernel(poly_b, z), rng.integers(-3, 4, size=(2, 2, ka))):
                kb, poly = wb.shape[2], _kernel_polynomial(wb, z)
                ab = _multichannel_matrix(wb, n + ka - 1) * _multichannel_matrix(wa, n)
                ba = _multichannel_matrix(wa, n + kb - 1) * _multichannel_matrix(wb, n)
                commutator = (poly_a * poly - poly * poly_a).applyfunc(sympy.expand)
                if (ab == ba) != (commutator == sympy.zeros(2, 2)):
                    return Outcome(cases, 1.0, False, f"ka={ka}, n={n}")
                outcomes.append(ab == ba)
                cases += 1
        ok = outcomes == [True, False] * 2  # p(W_A) commutes, the random kernels do not
        detail = "W_B = W_A^2 + 3 W_A + I commutes; random W_B do not, as their commutators say"
        return Outcome(cases, 0.0 if ok else 1.0, ok, detail)

    d.check("f * g = g * f, single channel, full output", "exact", single)
    d.check("f * g = g * f in 2-d, single channel, full output", "exact", single_2d)
    d.check("C x C layers commute iff W_A(z) W_B(z) = W_B(z) W_A(z)", "exact", polynomial)
    d.check("corr(f, g) = reflect(corr(g, f))", "exact", corr)
    d.check("depthwise convolutions commute", "exact", depthwise)
    d.check("equal channel counts, 1x1 kernels: do not commute", "exact", counterexample)
    d.check("2-channel commutator nonzero for symbolic kernels", "general", general)
    return d
