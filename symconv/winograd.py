r"""Winograd minimal filtering $F(m, r)$: the matrices $A^\top$, $G$, $B^\top$, derived exactly.

$F(m, r)$ computes $m$ outputs of the valid correlation of a tile $d$ of length
$\alpha = m + r - 1$ with a filter $g$ of length $r$ using $\alpha$ multiplications instead
of $m r$:

$$y = A^\top\big[(G g) \odot (B^\top d)\big], \qquad
  y_i = \sum_{k < r} d_{i + k}\, g_k .$$

**Construction (Cook-Toom, the Chinese remainder theorem at $\alpha$ points).** The linear
convolution $c = h * g$ of polynomials of degree $m - 1$ and $r - 1$ has degree $\alpha - 1$,
so it is fixed by its values at $\alpha$ points $a_0, \dots, a_{\alpha - 2}$ and $\infty$ (the
leading coefficient). With the evaluation (Vandermonde) matrices $V_n[i, j] = a_i^j$ ($n$
columns; the row of $\infty$ is $e_{n-1}^\top$), $c = V_\alpha^{-1}[(V_r g) \odot (V_m h)]$.
Correlation is the transpose of convolution (Lavin & Gray), so

$$A^\top = V_m^\top, \qquad G = D^{-1} V_r, \qquad B^\top = D\, V_\alpha^{-\top},$$

with $D$ the diagonal of Lagrange denominators $f_i = \prod_{k \ne i}(a_i - a_k)$ (1 for
$\infty$; wincnn's `FractionsInG`: the fractions go to $G$, which is transformed once per
filter, and $B^\top$ stays integral for the default points). The 2D algorithm nests the 1D one:
$Y = A^\top\big[(G g G^\top) \odot (B^\top d B)\big] A$.

The precondition wincnn documents but never checks (at least $m + r - 2$ distinct finite
points) raises `SpecError` here.

```python
>>> from symconv.winograd import winograd
>>> f = winograd(2, 3)
>>> f.AT.tolist(), f.BT.tolist()
([[1, 1, 1, 0], [0, 1, -1, 1]], [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, -1, 0, 1]])
>>> f.G.tolist()
[[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
>>> f.speedup(dims=2)        # 36 / 16 multiplications per 2x2 output tile
9/4

```
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from ._errors import SpecError
from .derivation import Derivation
from .spec import Conv
from .toeplitz import toeplitz

__all__ = [
    "FLOAT32_FACTOR",
    "MAX_TILE",
    "Winograd",
    "default_points",
    "float32_error",
    "winograd",
    "winograd_derivation",
    "winograd_residual",
]

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


def _symbols(name: str, *shape: int) -> sympy.Matrix:
    base = sympy.IndexedBase(name)
    if len(shape) == 1:
        return sympy.Matrix(shape[0], 1, lambda i, _: base[i])
    return sympy.Matrix(shape[0], shape[1], lambda i, j: base[i, j])


def _valid_correlation(d: sympy.Matrix, g: sympy.Matrix, dims: int) -> sympy.Matrix:
    """The reference, read from `symconv.toeplitz` (cross-correlation, valid)."""
    if dims == 1:
        spec = Conv(dims=1, kernel_size=g.rows, bias=False)
        T = toeplitz(spec, d.rows)
        w = sympy.IndexedBase("w")
        sub = {w[0, 0, a]: g[a] for a in range(g.rows)}
        return (T.xreplace(sub) * d).applyfunc(sympy.expand)
    spec = Conv(dims=2, kernel_size=g.shape, bias=False)
    T = toeplitz(spec, d.shape)
    w = sympy.IndexedBase("w")
    sub = {w[0, 0, a, b]: g[a, b] for a in range(g.rows) for b in range(g.cols)}
    o = (d.rows - g.rows + 1, d.cols - g.cols + 1)
    y = T.xreplace(sub) * d.reshape(d.rows * d.cols, 1)
    return y.reshape(*o).applyfunc(sympy.expand)


def winograd_residual(f: Winograd, dims: int = 1) -> sympy.Matrix:
    """The symbolic residual of $F(m, r)$ (or $F(m \\times m, r \\times r)$) against the valid
    correlation of symbolic `d` with symbolic `g` (from `symconv.toeplitz`): zero when correct.

    ```python
    >>> winograd_residual(winograd(2, 3)).is_zero_matrix
    True

    ```
    """
    if _check_dims(dims) == 1:
        d, g = _symbols("d", f.alpha), _symbols("g", f.r)
        got = f.apply(d, g)
    else:
        d, g = _symbols("d", f.alpha, f.alpha), _symbols("g", f.r, f.r)
        got = f.apply2d(d, g)
    return (got.applyfunc(sympy.expand) - _valid_correlation(d, g, dims)).applyfunc(sympy.expand)


def _coefficient_mismatches_2d(f: Winograd) -> tuple[int, int]:
    r"""`(wrong, total)`: how many of the $m^2 r^2 \alpha^2$ coefficients of the nested 2D
    algorithm differ from the valid 2D correlation's, in exact arithmetic (0 wrong: the identity
    holds for all $d$, $g$).

    $Y = A^\top[(G g G^\top) \odot (B^\top d B)] A$ is bilinear in $(g, d)$; the coefficient of
    $g_{st} d_{uv}$ in $Y_{ij}$ is $\sum_{p, q} A^\top_{ip} A^\top_{jq} G_{ps} G_{qt}
    B^\top_{pu} B^\top_{qv} = T_{isu} T_{jtv}$ with $T_{isu} = \sum_p A^\top_{ip} G_{ps}
    B^\top_{pu}$ (the sum over $p, q$ separates), so all of them cost $m^2 r^2 \alpha^2$
    products, not the seconds that expanding the symbolic residual takes from $\alpha = 5$.
    The reference coefficients are read from `symconv.toeplitz`'s 2D matrix.
    """
    m, r, a = f.m, f.r, f.alpha
    T = [f.G.T * sympy.diag(*f.AT.row(i)) * f.BT for i in range(m)]  # T[i][s, u]
    scale = sympy.ilcm(1, 1, *(x.q for Ti in T for x in Ti))  # integers: exact, and fast
    N = np.empty((m, r, a), dtype=object)
    for i, Ti in enumerate(T):
        for (s, u), x in np.ndenumerate(np.array(Ti.tolist(), dtype=object)):
            N[i, s, u] = int(x * scale)
    got = N[:, None, :, None, :, None] * N[None, :, None, :, None, :]  # (i, j, s, t, u, v)
    want = np.zeros((m, m, r, r, a, a), dtype=object)
    w = sympy.IndexedBase("w")
    ref = toeplitz(Conv(dims=2, kernel_size=(r, r), bias=False), (a, a))
    for (row, col), entry in ref.todok().items():
        i, j = divmod(row, m)
        u, v = divmod(col, a)
        for term, c in entry.as_coefficients_dict().items():
            if not (isinstance(term, sympy.Indexed) and term.base == w):
                raise AssertionError(f"unexpected entry {entry} in the reference Toeplitz matrix")
            s, t = (int(k) for k in term.indices[2:])
            want[i, j, s, t, u, v] += int(c) * int(scale) ** 2
    return int(np.count_nonzero(got != want)), got.size


def _hadamard_products(f: Winograd, dims: int) -> int:
    r"""The multiplications the element-wise stage actually performs, counted from the
    transforms: entry $P$ of $(G^{\otimes d} \operatorname{vec} g) \odot
    (B^{\top \otimes d} \operatorname{vec} d)$ multiplies two data-dependent values when row
    $P$ of both Kronecker powers is nonzero (a product of nonzero rationals is nonzero, so the
    zero pattern of a Kronecker power is the Kronecker power of the zero pattern)."""
    g_nz = np.array([[x != 0 for x in row] for row in f.G.tolist()], dtype=bool)
    b_nz = np.array([[x != 0 for x in row] for row in f.BT.tolist()], dtype=bool)
    kg, kb = g_nz, b_nz
    for _ in range(dims - 1):
        kg, kb = np.kron(kg, g_nz), np.kron(kb, b_nz)
    return int(np.count_nonzero(kg.any(axis=1) & kb.any(axis=1)))


def _direct_products(f: Winograd, dims: int) -> int:
    """Multiplications of the direct valid correlation of one tile: the nonzeros of its
    Toeplitz matrix (one weight times one input each), from `symconv.toeplitz`."""
    size = f.alpha if dims == 1 else (f.alpha,) * dims
    return int(toeplitz(Conv(dims=dims, kernel_size=f.r, bias=False), size).nnz())


def _check_dims(dims: Any) -> int:
    if isinstance(dims, bool) or not isinstance(dims, int) or dims not in (1, 2):
        raise SpecError(f"{_OP}: dims must be 1 or 2, got {dims!r}")
    return dims


def _float32_tile_error(f: Winograd, dims: int, trials: int, seed: int) -> dict[str, float]:
    """`float32_error` for the transforms `f` (whatever their points)."""
    r = f.r
    AT, G, BT = f.numpy(np.float32)
    rng = np.random.default_rng(seed)
    a = f.alpha
    if dims == 1:
        d = rng.standard_normal((trials, a))
        g = rng.standard_normal((trials, r))
        win = np.einsum(
            "ia,na->ni", AT, (g.astype(np.float32) @ G.T) * (d.astype(np.float32) @ BT.T)
        )
        windows = np.lib.stride_tricks.sliding_window_view(d, r, axis=1)  # (n, m, r)
        ref = np.einsum("nik,nk->ni", windows, g)
        direct = np.einsum("nik,nk->ni", windows.astype(np.float32), g.astype(np.float32))
    else:
        d = rng.standard_normal((trials, a, a))
        g = rng.standard_normal((trials, r, r))
        d32, g32 = d.astype(np.float32), g.astype(np.float32)
        U = G @ g32 @ G.T  # (n, alpha, alpha)
        V = BT @ d32 @ BT.T
        win = AT @ (U * V) @ AT.T
        windows = np.lib.stride_tricks.sliding_window_view(d, (r, r), axis=(1, 2))
        ref = np.einsum("nijab,nab->nij", windows, g)
        direct = np.einsum("nijab,nab->nij", windows.astype(np.float32), g32)
    err_w = np.abs(win.astype(np.float64) - ref)
    err_d = np.abs(direct.astype(np.float64) - ref)
    return {
        "winograd": float(np.max(err_w)),
        "direct": float(np.max(err_d)),
        "winograd_mean": float(np.mean(err_w)),
        "direct_mean": float(np.mean(err_d)),
    }


def float32_error(
    m: int,
    r: int = 3,
    *,
    points: Sequence[Any] | None = None,
    dims: int = 2,
    trials: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    r"""Max abs error of the float32 Winograd tile against a float64 direct correlation.

    The transforms are `winograd(m, r, points)`: the default points unless `points` is given.
    Inputs and filters are standard normal; `trials` random tiles, vectorised. Returns the max
    (`winograd`) and mean (`winograd_mean`) abs error, and the same for the float32 *direct*
    correlation on the same tiles (`direct`, `direct_mean`) for comparison.

    Raises:
        SpecError: what `winograd` refuses; `dims` not 1 or 2; `trials` not an integer >= 1.

    ```python
    >>> e = float32_error(2, 3, trials=100)
    >>> e["winograd"] < 1e-5 and e["direct"] < 1e-5
    True
    >>> float32_error(2, 3, points=[5, 7, 11], trials=100)["winograd"] > 0.1  # badly chosen
    True

    ```
    """
    f = winograd(m, r, points)
    dims = _check_dims(dims)
    if isinstance(trials, bool) or not isinstance(trials, numbers.Integral) or trials < 1:
        raise SpecError(f"{_OP}: trials must be an integer >= 1, got {trials!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise SpecError(f"{_OP}: seed must be an integer >= 0, got {seed!r}")
    return _float32_tile_error(f, dims, int(trials), int(seed))


FLOAT32_FACTOR = 64
r"""The float32 check of `winograd_derivation` passes when the float32 tile's *mean* abs error
is at most `FLOAT32_FACTOR` (64, six of float32's 24 significand bits) times the float32 direct
correlation's on the same tiles. The mean, not the max: the ratio of the means moves by a few
percent between seeds, the ratio of the maxima by a factor of two. With the default points and
$r = 3$ in 2D the ratio is about 2 for $F(2 \times 2, 3 \times 3)$, 8 for $F(4 \times 4,
3 \times 3)$, 17 for $F(6 \times 6, 3 \times 3)$ and 100 for $F(7 \times 7, 3 \times 3)$, which
fails; badly chosen points fail at once (0, 1, -1 replaced by 5, 7, 11: about $10^7$)."""

_FLOAT32_TRIALS = 500
_GROWTH_M = range(2, 7)


def _tex_number(x: float) -> str:
    mant, _, exp = f"{x:.2g}".partition("e")
    return mant if not exp else rf"{mant} \times 10^{{{int(exp)}}}"


def _float32_growth(f: Winograd, dims: int) -> dict[int, dict[str, float]]:
    """The float32 error of F(k, r) with the default points for k = 2..6 (and k = m), the tile
    length at most `MAX_TILE`; `f` is reused where it is that transform."""
    out = {}
    for k in sorted({*_GROWTH_M, f.m}):
        if k + f.r - 1 > MAX_TILE:
            continue
        default = f if k == f.m and f.points == default_points(f.alpha - 1) else winograd(k, f.r)
        out[k] = _float32_tile_error(default, dims, _FLOAT32_TRIALS, 0)
    return out


def _growth_step(d: Derivation, r: int, dims: int, growth: dict[int, dict[str, float]]) -> None:
    def ratio(e: dict[str, float]) -> float:
        return e["winograd_mean"] / e["direct_mean"]

    rows = []
    tex_rows = []
    for k, e in growth.items():
        a = k + r - 1
        saving = sympy.Rational((k * r) ** dims, a**dims)
        values = (e["winograd"], e["winograd_mean"], e["direct_mean"])
        rows.append([k, a, saving, *(sympy.Float(v, 2) for v in values), sympy.Float(ratio(e), 3)])
        cells = [str(k), str(a), f"{float(saving):.3g}", *map(_tex_number, values)]
        tex_rows.append(" & ".join([*cells, f"{ratio(e):.3g}"]))
    names = ("m", "alpha", "saving", "max_err", "mean_err", "direct_mean_err", "mean_ratio")
    head = (
        r"m & \alpha & \text{saving} & \max|e| & \text{mean}\,|e| & \text{mean}\,|e_{direct}| "
        r"& \text{ratio}"
    )
    tile = f"F({'x'.join(['m'] * dims)}, {'x'.join([str(r)] * dims)})"
    d.add_step(
        "float32 error growth with m",
        sympy.Matrix([[sympy.Symbol(n) for n in names], *rows]),
        f"{tile} with the default points, measured when this derivation was built: "
        f"{_FLOAT32_TRIALS} standard-normal tiles in float32 against float64; saving = "
        f"(m r)^{dims} / alpha^{dims} multiplications; ratio = mean error / the float32 direct "
        f"correlation's mean error (the float32 check passes up to {FLOAT32_FACTOR})",
        by="float32 tile error",
        latex=r"\begin{array}{rrrrrrr}" + r" \\ ".join([head, *tex_rows]) + r"\end{array}",
    )


def winograd_derivation(
    m: int = 2, r: int = 3, points: Sequence[Any] | None = None, *, dims: int = 2
) -> Derivation:
    r"""The derivation of $F(m, r)$ (and the nested $F(m \times m, r \times r)$) with checks.

    Checks: the 1D residual is zero for symbolic $d$, $g$ (exact, all values); every
    coefficient of the 2D nested form equals the valid 2D correlation's (exact, all values);
    the multiplications per tile counted from the transforms and from the Toeplitz matrix
    against the formulas $\alpha^d$ and $(m r)^d$ (exact); the float32 error of these
    transforms (with these points) on standard-normal tiles, passing when its mean is at most
    `FLOAT32_FACTOR` times the float32 direct correlation's (numeric). The last step is a
    table of the float32 error and the saving for $m = 2, \dots, 6$ (default points), measured
    when the derivation is built; `dims` (1 or 2) is the dimension of the float32 measurements.

    ```python
    >>> winograd_derivation(2, 3).verify().passed
    True
    >>> winograd_derivation(2, 3, [5, 7, 11]).verify().passed   # exact, but useless in float32
    False

    ```
    """
    f = winograd(m, r, points)
    dims = _check_dims(dims)
    a = f.alpha
    x = sympy.Symbol("x")
    d = Derivation(f"Winograd minimal filtering F({m}, {r}) and F({m}x{m}, {r}x{r})")
    d.add_step(
        "The task",
        sympy.Eq(
            sympy.Symbol("y_i"),
            sympy.Sum(
                sympy.Indexed("d", sympy.Symbol("i") + sympy.Symbol("k"))
                * sympy.Indexed("g", sympy.Symbol("k")),
                (sympy.Symbol("k"), 0, r - 1),
            ),
        ),
        f"{m} outputs of a valid correlation from a tile of {a} inputs",
        definition=True,
    )
    h = sum(sympy.Symbol(f"h{j}") * x**j for j in range(m))
    gp = sum(sympy.Symbol(f"g{j}") * x**j for j in range(r))
    d.add_step(
        "Linear convolution is a polynomial product",
        sympy.Eq(sympy.Symbol("c(x)"), sympy.Mul(h, gp, evaluate=False)),
        f"degree {a - 1}: fixed by {a} values (Chinese remainder theorem / interpolation)",
        definition=True,
    )
    d.add_step(
        "Interpolation points",
        sympy.FiniteSet(*f.points, sympy.oo),
        "m + r - 2 finite points plus infinity (the leading coefficient)",
        definition=True,
    )
    d.add_step(
        "Transforms (fractions in G)",
        sympy.Tuple(f.AT, f.G, f.BT),
        "A^T = V_m^T, G = D^-1 V_r, B^T = D V_alpha^-T: correlation is the transpose of "
        "the Cook-Toom convolution",
        by=("A^T[(G g) * (B^T d)]", "2D nested form"),
    )
    d.add_step(
        "1D algorithm",
        sympy.Eq(sympy.Symbol("y"), sympy.Symbol(r"A^{T}\left[(G g) \odot (B^{T} d)\right]")),
        f"{a} multiplications instead of {m * r}",
        by=("A^T[(G g) * (B^T d)]", "multiplications per tile"),
    )
    d.add_step(
        "2D algorithm (nested)",
        sympy.Eq(
            sympy.Symbol("Y"),
            sympy.Symbol(r"A^{T}\left[(G g G^{T}) \odot (B^{T} d B)\right] A"),
        ),
        f"{a**2} multiplications instead of {(m * r) ** 2} per {m}x{m} tile: "
        f"{float(f.speedup(2)):.3g} times fewer",
        by=("2D nested form", "multiplications per tile"),
    )
    growth = _float32_growth(f, dims)
    _growth_step(d, r, dims, growth)
    d.results.update(
        winograd=f,
        multiplications={1: f.tile_multiplications(1), 2: f.tile_multiplications(2)},
        float32_growth=growth,
    )

    def one_d() -> tuple[int, float, bool, str]:
        ok = winograd_residual(f, 1).is_zero_matrix
        return 1, 0.0 if ok else 1.0, ok, "symbolic d, g: residual expands to zero"

    def two_d() -> tuple[int, float, bool, str]:
        wrong, total = _coefficient_mismatches_2d(f)
        detail = (
            f"{total - wrong} of the {total} coefficients of g[s,t] d[u,v] in Y[i,j] equal the "
            "valid 2D correlation's (symconv.toeplitz), exact rationals: all d, g"
        )
        return 1, float(wrong), wrong == 0, detail

    def counts() -> tuple[int, float, bool, str]:
        formula = {k: f.tile_multiplications(k) for k in (1, 2)}
        counted = {k: (_hadamard_products(f, k), _direct_products(f, k)) for k in (1, 2)}
        w, direct = counted[2]
        ok = (
            counted == formula
            and f.multiplications == counted[1][0]
            and f.speedup(2) == sympy.Rational(direct, w)
        )
        err = max(abs(x - y) for k in (1, 2) for x, y in zip(counted[k], formula[k], strict=True))
        detail = (
            f"counted: {w} element-wise products (nonzero rows of G and B^T, Kronecker-squared) "
            f"against {direct} direct (nonzeros of the Toeplitz matrix) per {m}x{m} tile, "
            f"{counted[1][0]} against {counted[1][1]} in 1D; formulas alpha^2 = {formula[2][0]}, "
            f"(m r)^2 = {formula[2][1]}: {f.speedup(2)}x"
        )
        return 2, float(err), ok, detail

    def float32() -> tuple[int, float, bool, str]:
        e = _float32_tile_error(f, dims, _FLOAT32_TRIALS, 0)
        ratio = e["winograd_mean"] / e["direct_mean"] if e["direct_mean"] > 0 else math.inf
        ok = ratio <= FLOAT32_FACTOR
        detail = (
            f"points {', '.join(map(str, f.points))}: mean abs error {e['winograd_mean']:.2g}, "
            f"{ratio:.3g}x the float32 direct correlation's {e['direct_mean']:.2g} (passes up "
            f"to {FLOAT32_FACTOR}x); max {e['winograd']:.2g} against {e['direct']:.2g}"
        )
        if not ok:  # the exact identities may all hold: say which tiles float32 tolerates
            within = [
                k
                for k, g in growth.items()
                if g["direct_mean"] > 0 and g["winograd_mean"] / g["direct_mean"] <= FLOAT32_FACTOR
            ]
            detail += (
                "; only float32 accuracy fails: tiles within the threshold (default points) "
                + (", ".join(f"F({k}, {f.r})" for k in within) if within else "none measured")
            )
        return _FLOAT32_TRIALS, e["winograd"], ok, detail

    d.check("A^T[(G g) * (B^T d)] = valid correlation, all d, g", "exact", one_d)
    d.check("2D nested form = valid 2D correlation, all d, g", "exact", two_d)
    d.check("multiplications per tile, counted against the formulas", "exact", counts)
    d.check(
        f"float32 tile error (these points, {dims}D), standard normal inputs", "numeric", float32
    )
    return d
