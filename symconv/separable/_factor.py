"""separable(): rank 1 and its factors; low_rank(): the best rank-r approximation."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import SpecError
from .._tolerances import RANK_TOL
from ._exact import _check_tol, _separable_exact
from ._kernel import _OP, Separable, _as_kernel, _flat


def separable(kernel: Any, *, tol: float | None = None) -> Separable | None:
    r"""Whether `kernel` is separable (rank 1), and its factors; `None` when it is not.

    Args:
        kernel: a sympy Matrix or Array, nested lists (ints, Fractions, Rationals, sympy
            expressions, floats) or a numpy array (integer, float, or object holding those),
            with 2 or more axes. Strings, bools (numpy bool arrays too) and complex floats
            are refused.
        tol: floats only: the largest relative singular value $\sigma_2 / \sigma_1$ (of every
            unfolding) still counted as zero. Default: by the kernel's float type, as
            `numeric.algorithms.rank_one_factors` decides (its `RANK_TOL`, here `RANK_TOL`):
            $10^{-6}$ for float32, $10^{-10}$ for float64 (and any other float type). A numpy
            array has its dtype; for nested lists it is the least precise float among the
            entries (Python floats and sympy Floats are float64, numpy scalars their type).

    **Exact kernels** (no floats) use a pivot $P = K_p \ne 0$ and the fibres $f_a$ through
    it: $K$ is rank 1 iff $K_i P^{d-1} = \prod_a f_a[i_a]$ for every index $i$. How that is
    decided depends on the entries:

    - integers, rationals, and polynomials or rational functions (rational coefficients) of
      symbols or `Indexed` elements: *exactly* (expansion, or the numerator over a common
      denominator, is canonical), without calling the simplifier;
    - anything else (trigonometric or other functions, radicals, $\pi$, `sympy.I`): by
      expansion, then `expand_trig`, `trigsimp` and `simplify`. Zero testing such
      expressions is undecidable in general, so a *returned* result is always right (each
      identity was proved) and the factors are simplified, but `None` may also mean an
      identity SymPy could not prove. Such kernels cost simplifier calls (each can take
      around 0.1 s), linear in the number of entries.

    A zero kernel is separable with zero factors.

    **Float kernels** use the SVD of each unfolding (in float64); the first factor is
    scaled to have its first significant entry equal to 1. Floats are not mixed with
    symbols: such a kernel (`[[a, 2.0], [1, 2]]`, or an entry `0.5*a`) raises `SpecError`
    (convert the floats exactly with `sympy.Rational` or `sympy.nsimplify`, or substitute
    numbers for the symbols). Exact numbers among floats (`sympy.sqrt(2)`) are evaluated.

    ```python
    >>> import sympy
    >>> a, b, c, d = sympy.symbols("a b c d")
    >>> s = separable([[a * c, a * d], [b * c, b * d]])
    >>> [list(f) for f in s.factors]
    [[a, b], [c, d]]
    >>> t = sympy.Symbol("t")
    >>> [list(f) for f in separable([[sympy.sin(t), sympy.cos(t)],
    ...                              [sympy.sin(2 * t), 2 * sympy.cos(t) ** 2]]).factors]
    [[1, 2*cos(t)], [sin(t), cos(t)]]
    >>> import numpy as np
    >>> f = separable(np.outer([1.0, 2.0, 1.0], [0.25, 0.5, 0.25]))
    >>> [np.round(v, 6).tolist() for v in f.factors]
    [[1.0, 2.0, 1.0], [0.25, 0.5, 0.25]]
    >>> g = np.exp(-np.arange(-3, 4) ** 2 / 4.0)
    >>> separable(np.outer(g, g).astype(np.float32)) is not None  # float32: tol 1e-6
    True

    ```
    """
    k = _as_kernel(kernel)
    _check_tol(_OP, tol)
    if k.exact:
        return _separable_exact(k.arr)
    a = k.arr
    shape = a.shape
    dims = len(shape)
    default = RANK_TOL.get(str(k.dtype), RANK_TOL["float64"])
    tol = default if tol is None else float(tol)
    cut = min(tol, default)  # factor entries this small (relative) are rounding: zeroed
    top = float(np.max(np.abs(a)))
    if top == 0.0:
        zeros = tuple(np.zeros(n) for n in shape)
        return Separable(zeros, 0.0, zeros, False)
    vecs = []
    for axis in range(dims):
        M = np.moveaxis(a, axis, 0).reshape(shape[axis], -1)
        U, s, _ = np.linalg.svd(M, full_matrices=False)
        if len(s) > 1 and s[1] > tol * s[0]:
            return None
        vecs.append(U[:, 0])
    core = a
    for v in vecs:
        core = np.tensordot(v, core, axes=(0, 0))  # contracts axis 0 each time
    scale = float(core)
    firsts = []
    for v in vecs:
        lead = v[np.flatnonzero(np.abs(v) > cut * np.max(np.abs(v)))[0]]
        firsts.append(lead)
    prims = [v / lead for v, lead in zip(vecs, firsts, strict=True)]
    prims = [np.where(np.abs(v) > cut * np.max(np.abs(v)), v, 0.0) + 0.0 for v in prims]
    scale *= math.prod(firsts)
    factors = (*prims[:-1], prims[-1] * scale)
    return Separable(tuple(factors), scale, tuple(prims), False)


@dataclass(frozen=True)
class LowRank:
    r"""The best rank-$r$ approximation $K_r = \sum_{i < r} \sigma_i u_i v_i^\top$.

    `us[:, i] * sqrt(sigma_i)` and `vs[:, i] * sqrt(sigma_i)` are the separable pairs;
    `error` is $\|K - K_r\|_F = \sqrt{\sum_{i \ge r} \sigma_i^2}$, `spectral_error`
    $\sigma_r$ (Eckart-Young: no rank-$r$ matrix does better in either norm).
    """

    us: np.ndarray
    vs: np.ndarray
    singular_values: np.ndarray
    rank: int
    error: float
    spectral_error: float

    def matrix(self) -> np.ndarray:
        s = self.singular_values[: self.rank]
        return (self.us * s) @ self.vs.T

    def pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """`(u_i, v_i)` with $K_r = \\sum_i u_i v_i^\\top$ (weights split evenly)."""
        root = np.sqrt(self.singular_values[: self.rank])
        return [(self.us[:, i] * root[i], self.vs[:, i] * root[i]) for i in range(self.rank)]


def low_rank(kernel: Any, r: int) -> LowRank:
    r"""Best rank-`r` approximation of a **2-D** kernel (a matrix) by the SVD, with the
    Eckart-Young error.

    Only matrices: "rank $r$" and the Eckart-Young optimum are defined for them, and an
    N-D kernel has several unfoldings to choose from; reshape one first (for example
    `K.reshape(K.shape[0], -1)`, a sum of $r$ products of a vector along axis 0 and an
    $(N-1)$-D kernel) and reshape the result back. Entries must be real numbers (ints,
    rationals, floats, or sympy numbers; no symbols). `r` larger than the smaller side is
    clamped to it (`rank` says which was used); the SVD runs in float64.

    ```python
    >>> lr = low_rank([[1, 0], [0, 1]], 1)
    >>> round(lr.error, 6), round(lr.spectral_error, 6)
    (1.0, 1.0)

    ```
    """
    k = _as_kernel(kernel, "low_rank", axes="2")
    if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 1:
        raise SpecError(f"low_rank: rank r must be an integer >= 1, got {r!r}")
    if k.exact:
        flat = _flat(k.arr)
        if any(v.free_symbols for v in flat):
            raise SpecError(f"low_rank: kernel must be numeric (no symbols), got {kernel!r}")
        try:
            a = np.array([float(v) for v in flat], dtype=np.float64).reshape(k.arr.shape)
        except TypeError as err:
            raise SpecError(f"low_rank: kernel entries must be real, got {kernel!r}") from err
        if not np.isfinite(a).all():
            raise SpecError(f"low_rank: kernel entries must be finite as float64, got {kernel!r}")
    else:
        a = k.arr
    U, s, Vt = np.linalg.svd(a, full_matrices=False)
    r = min(int(r), len(s))
    rest = s[r:]
    return LowRank(
        U[:, :r],
        Vt[:r].T,
        s,
        r,
        float(np.sqrt(np.sum(rest**2))),
        float(rest[0]) if len(rest) else 0.0,
    )
