"""The transforms of F(m, r): interpolation points, Vandermonde matrices, A^T, G, B^T."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from .._errors import SpecError

_OP = "winograd"
MAX_TILE = 16
r"""Largest tile length $\alpha = m + r - 1$ that `winograd` derives: float32 accuracy is lost
well before it (with the default points and $r = 3$, the float32 check of `winograd_derivation`
fails from $F(7 \times 7, 3 \times 3)$, $\alpha = 9$, and the max abs error of the 2D tile
passes 1e-2 at $\alpha = 10$), and the exact checks take up to a second at 16 and grow fast
beyond it."""


def _point_sequence() -> Iterator[sympy.Rational]:
    """0, 1, -1, 2, -2, 1/2, -1/2, 3, -3, 1/3, -1/3, ... (small, well-conditioned first)."""
    yield sympy.Integer(0)
    for n in itertools.count(1):
        yield sympy.Integer(n)
        yield sympy.Integer(-n)
        if n > 1:
            yield sympy.Rational(1, n)
            yield sympy.Rational(-1, n)


def default_points(count: int) -> tuple[sympy.Rational, ...]:
    """The first `count` finite interpolation points: 0, 1, -1, 2, -2, 1/2, -1/2, 3, ...

    ```python
    >>> default_points(5)
    (0, 1, -1, 2, -2)

    ```
    """
    return tuple(itertools.islice(_point_sequence(), count))


def _as_rational(p: Any) -> sympy.Rational:
    if isinstance(p, sympy.Basic):
        if not p.is_Rational:
            raise SpecError(f"{_OP}: interpolation point {p} is not rational")
        return sympy.Rational(p)
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise SpecError(
            f"{_OP}: interpolation points must be rational numbers (int, Fraction, "
            f"sympy.Rational or a finite float), got {p!r}"
        )
    if isinstance(p, float | np.floating) and not np.isfinite(p):
        raise SpecError(f"{_OP}: interpolation point {p!r} is not finite")
    if isinstance(p, Fraction):
        return sympy.Rational(p.numerator, p.denominator)
    if isinstance(p, np.floating):  # its exact binary value, as a Python float's
        return sympy.Rational(float(p))
    if isinstance(p, np.integer):
        return sympy.Rational(int(p))
    return sympy.Rational(p)  # ints exactly; floats by their exact binary value


def _check_size(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise SpecError(f"{_OP}: {name} must be an integer >= 1, got {v!r}")
    return int(v)


def _vandermonde(points: Sequence[sympy.Rational], n: int) -> sympy.Matrix:
    """Evaluation of a polynomial with `n` coefficients at `points` and at infinity (last row)."""
    finite = sympy.Matrix(len(points), n, lambda i, j: points[i] ** j)
    infinity = sympy.Matrix(1, n, lambda i, j: 1 if j == n - 1 else 0)
    return finite.col_join(infinity)


@dataclass(frozen=True)
class Winograd:
    r"""The transforms of $F(m, r)$: $y = A^\top[(G g) \odot (B^\top d)]$ (exact rationals).

    `AT` is $m \times \alpha$, `G` is $\alpha \times r$, `BT` is $\alpha \times \alpha$, with
    $\alpha = m + r - 1$ = `multiplications` (per 1D tile; $\alpha^d$ per $d$-dimensional tile
    against $(m r)^d$ for the direct method). `points` are the finite interpolation points (the
    point at infinity is always the last).
    """

    m: int
    r: int
    points: tuple[sympy.Rational, ...]
    AT: sympy.Matrix
    G: sympy.Matrix
    BT: sympy.Matrix

    @property
    def alpha(self) -> int:
        """Tile length $\\alpha = m + r - 1$."""
        return self.m + self.r - 1

    @property
    def multiplications(self) -> int:
        """Element-wise multiplications per 1D tile: $\\alpha = m + r - 1$."""
        return self.alpha

    def tile_multiplications(self, dims: int = 2) -> tuple[int, int]:
        """`(winograd, direct)` multiplications per output tile: $(\\alpha^d, (m r)^d)$."""
        return self.alpha**dims, (self.m * self.r) ** dims

    def speedup(self, dims: int = 2) -> sympy.Rational:
        """Reduction in multiplications, $(m r)^d / \\alpha^d$, an exact `Rational`."""
        w, direct = self.tile_multiplications(dims)
        return sympy.Rational(direct, w)

    def numpy(self, dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(AT, G, BT)` as float arrays of `dtype`, for a kernel."""
        return tuple(  # type: ignore[return-value]  # three arrays
            np.array(M.tolist(), dtype=np.float64).astype(dtype) for M in (self.AT, self.G, self.BT)
        )

    def apply(self, d: Any, g: Any) -> Any:
        """$A^\\top[(G g) \\odot (B^\\top d)]$ on sympy column vectors (exact), 1D."""
        return self.AT * (self.G * g).multiply_elementwise(self.BT * d)

    def apply2d(self, d: Any, g: Any) -> Any:
        """$A^\\top[(G g G^\\top) \\odot (B^\\top d B)] A$ on sympy matrices (exact), 2D."""
        U = self.G * g * self.G.T
        V = self.BT * d * self.BT.T
        return self.AT * U.multiply_elementwise(V) * self.AT.T


def winograd(m: int, r: int, points: Sequence[Any] | None = None) -> Winograd:
    r"""Derive $A^\top$, $G$, $B^\top$ of $F(m, r)$ from interpolation points (wincnn's method).

    Args:
        m: outputs per tile, >= 1.
        r: filter length, >= 1; $m + r - 1$ at most `MAX_TILE` (16).
        points: exactly $m + r - 2$ distinct finite rational points (the point at infinity is
            added); default `default_points(m + r - 2)`: 0, 1, -1, 2, -2, 1/2, -1/2, ...

    Raises:
        SpecError: bad `m` or `r`, a tile longer than `MAX_TILE`, a wrong number of points,
            repeated or non-rational points.

    ```python
    >>> f = winograd(4, 3)
    >>> f.AT.shape, f.G.shape, f.BT.shape, f.points
    ((4, 6), (6, 3), (6, 6), (0, 1, -1, 2, -2))

    ```
    """
    m, r = _check_size("m", m), _check_size("r", r)
    alpha = m + r - 1
    if alpha > MAX_TILE:
        raise SpecError(
            f"{_OP}: F({m}, {r}) has tile length m + r - 1 = {alpha} > {MAX_TILE} (MAX_TILE): "
            f"too large for the exact derivation, and useless in floating point"
        )
    need = alpha - 1
    if points is None:
        pts = default_points(need)
    else:
        pts = tuple(_as_rational(p) for p in points)
        if len(pts) != need:
            raise SpecError(
                f"{_OP}: F({m}, {r}) needs m + r - 2 = {need} finite interpolation points "
                f"(plus the point at infinity), got {len(pts)}: {list(pts)}"
            )
        if len(set(pts)) != len(pts):
            raise SpecError(f"{_OP}: interpolation points must be distinct, got {list(pts)}")
    # Lagrange denominators f_i = prod_{k != i} (a_i - a_k); 1 for the point at infinity.
    f = [sympy.Mul(*(a - b for b in pts if b != a)) for a in pts] + [sympy.Integer(1)]
    if f[0] < 0:  # wincnn flips the first row's sign; any nonzero scaling of row i works
        f[0] = -f[0]
    D = sympy.diag(*f)
    AT = _vandermonde(pts, m).T
    G = D.inv() * _vandermonde(pts, r)
    BT = D * _vandermonde(pts, alpha).inv().T
    return Winograd(m, r, pts, AT, G, BT)
