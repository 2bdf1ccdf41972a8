"""Zero padding for the FFT: the circular convolution of length N equals the linear one
exactly when N >= the FFT size (`fft_padding_derivation`)."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from typing import Any

import sympy

from .._fft_sizes import fft_size
from ..derivation import Derivation, Outcome, grid_check
from ..spec import Conv
from ..toeplitz import toeplitz

_ALIAS = "circular = linear exactly at N = fft_size"


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
