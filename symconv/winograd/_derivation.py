"""The Winograd derivation: the transforms, their exact checks and their float32 accuracy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sympy

from ..derivation import Derivation, Outcome
from ._accuracy import (
    _FLOAT32_TRIALS,
    FLOAT32_FACTOR,
    _float32_growth,
    _float32_tile_error,
    _growth_step,
)
from ._checks import (
    _check_dims,
    _coefficient_mismatches_2d,
    _direct_products,
    _hadamard_products,
    winograd_residual,
)
from ._transforms import winograd


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

    def one_d() -> Outcome:
        ok = winograd_residual(f, 1).is_zero_matrix
        return Outcome(1, 0.0 if ok else 1.0, ok, "symbolic d, g: residual expands to zero")

    def two_d() -> Outcome:
        wrong, total = _coefficient_mismatches_2d(f)
        detail = (
            f"{total - wrong} of the {total} coefficients of g[s,t] d[u,v] in Y[i,j] equal the "
            "valid 2D correlation's (symconv.toeplitz), exact rationals: all d, g"
        )
        return Outcome(1, float(wrong), wrong == 0, detail)

    def counts() -> Outcome:
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
        return Outcome(2, float(err), ok, detail)

    def float32() -> Outcome:
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
        return Outcome(_FLOAT32_TRIALS, e["winograd"], ok, detail)

    d.check("A^T[(G g) * (B^T d)] = valid correlation, all d, g", "exact", one_d)
    d.check("2D nested form = valid 2D correlation, all d, g", "exact", two_d)
    d.check("multiplications per tile, counted against the formulas", "exact", counts)
    d.check(
        f"float32 tile error (these points, {dims}D), standard normal inputs", "numeric", float32
    )
    return d
