"""float32 accuracy of a Winograd algorithm: the tile error and its growth with the tile size."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from .._errors import SpecError
from ..derivation import Derivation
from ._checks import _check_dims
from ._transforms import _OP, MAX_TILE, Winograd, default_points, winograd


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
