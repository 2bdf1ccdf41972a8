"""Commutativity: convolution commutes in one channel (polynomial multiplication), not across
channels (matrix products of polynomials): `commutativity_derivation`."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import sympy

from ..derivation import Derivation, Outcome, grid_check
from ..spec import Conv
from ..toeplitz import toeplitz


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
