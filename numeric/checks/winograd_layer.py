r"""numeric's Winograd layer checked: `symconv derive winograd-layer` (the math is
`symconv.winograd_layer`'s docstring: channels, dilation phases, both gradients).

The derivation states how numeric runs a 3x3 stride-1 layer by $F(m \times m, 3 \times 3)$ and
checks the weight gradient's $F(3 \times 3, m \times m)$ exactly and the generated kernels
against the Toeplitz matrix. Winograd's exact transforms (`symconv.winograd`: `winograd`,
`winograd_residual`, the 2-d coefficient count) and $T$ (`symconv.toeplitz_numeric`) belong to
the derivation layer, which numeric may not import: the application layer passes them in
(`symconv.registry.INJECTED`; `symconv.winograd_layer.winograd_layer_derivation(m)` with them
bound), and a test passes wrong ones to see the checks fail.

```python
>>> from numeric.checks.winograd_layer import CHECK, NEEDS
>>> CHECK.name, CHECK.layer, CHECK.after, NEEDS[0]
('winograd-layer', 'tile', 'winograd', 'toeplitz_numeric')

```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy

import numeric as nm
from symconv._errors import SpecError
from symconv.derivation import Derivation, Outcome, discrepancy
from symconv.spec import Conv

from ..algorithms import conv2d as by_algorithm
from .hook import NumericCheck, register

__all__ = ["CHECK", "NEEDS", "derive_layer", "winograd_layer_derivation"]

NEEDS = ("toeplitz_numeric", "winograd", "winograd_residual", "winograd_mismatches_2d")
"""The derivation-layer functions `winograd_layer_derivation` takes: $T$ and Winograd's exact
transforms (`winograd(m, r)`), their symbolic residual and their 2-d coefficient count."""


def _cases() -> list[tuple[dict[str, Any], tuple[int, int, int, int], tuple[int, int]]]:
    """(conv2d keywords, (N, C_in, C_out, groups), input size): every feature the kernels have."""
    return [
        (dict(padding=1), (2, 3, 4, 1), (7, 9)),
        (dict(padding=2, dilation=2), (1, 4, 6, 2), (9, 8)),
        (dict(padding=(3, 0), dilation=(3, 1)), (2, 2, 2, 1), (12, 5)),
        (dict(padding=1, padding_mode="reflect", flip=True), (1, 2, 3, 1), (6, 6)),
        (dict(padding="same", padding_mode="circular"), (1, 4, 4, 4), (5, 7)),
    ]


def _kernels_error(m: int, toeplitz_numeric: Callable[..., Any]) -> float:
    """Max abs error of numeric's Winograd kernels (float64, integer-valued data): forward
    against T x + b, dL/dx against T^T delta (T from `toeplitz_numeric`, injected), dL/dw
    against the direct kernel's (itself checked exactly by `symconv verify numeric-kernels`)."""
    rng = np.random.default_rng(m)
    worst = 0.0
    for kw, (n, c, k, g), size in _cases():
        spec = Conv(dims=2, in_channels=c, out_channels=k, kernel_size=3, groups=g, **kw)
        x = rng.integers(-3, 4, (n, c, *size)).astype(np.float64)
        w = rng.integers(-3, 4, spec.weight_shape).astype(np.float64)
        y = by_algorithm(x, w, None, groups=g, algorithm="winograd", winograd_m=m, **kw)
        T = toeplitz_numeric(spec, size, w)
        worst = max(worst, discrepancy(y.reshape(n, -1), (T @ x.reshape(n, -1).T).T))
        delta = rng.integers(-3, 4, y.shape).astype(np.float64)
        gkw = dict(groups=g, **kw)
        dx = nm.conv2d_grad_input(x.shape, w, delta, algorithm="winograd", **gkw)
        ref = (T.T @ delta.reshape(n, -1).T).T
        worst = max(worst, discrepancy(dx.reshape(n, -1), ref))
        dw = nm.conv2d_grad_weight(x, w.shape, delta, algorithm="winograd", **gkw)
        dw_ref = nm.conv2d_grad_weight(x, w.shape, delta, algorithm="direct", **gkw)
        worst = max(worst, discrepancy(dw, dw_ref))
    return worst


_KERNELS = "generated kernels = T x, T^T delta and the direct dL/dw"


def winograd_layer_derivation(
    m: int = 4,
    *,
    toeplitz_numeric: Callable[..., Any],
    winograd: Callable[..., Any],
    winograd_residual: Callable[..., Any],
    winograd_mismatches_2d: Callable[[Any], tuple[int, int]],
) -> Derivation:
    r"""How numeric runs a 3x3 stride-1 layer by $F(m \times m, 3 \times 3)$, with checks:
    the weight gradient's $F(3 \times 3, m \times m)$ exact (symbolic residual for $m = 2$,
    exact rational tiles otherwise), its $B^\top$ the forward's, and the generated kernels on
    integer data against the Toeplitz matrix (forward, dL/dx) and the direct dL/dw.

    The derivation layer's functions come in by keyword (`NEEDS`): `toeplitz_numeric(spec,
    size, w)` ($T$), `winograd(m, r)` (the exact transforms $F(m, r)$),
    `winograd_residual(f, 2)` (its symbolic residual) and `winograd_mismatches_2d(f)`
    (`(wrong, total)` coefficients of the 2-d algorithm)."""
    f, b = winograd(m, 3), winograd(3, m)
    a = f.alpha
    d = Derivation(f"A 3x3 stride-1 layer by Winograd F({m}x{m}, 3x3), forward and gradients")
    ij, k, c = sympy.symbols("ij k c")
    d.add_step(
        "Channels inside the transform",
        sympy.Eq(
            sympy.Indexed("M", ij, k),
            sympy.Sum(sympy.Indexed("U", ij, k, c) * sympy.Indexed("V", ij, c), (c, 1, "C_in")),
        ),
        f"A^T is linear: per tile position (i, j) of {a}x{a}, one GEMM (out x in channels) "
        "times (in channels x tiles)",
        by=_KERNELS,
    )
    q, r, D, aa = sympy.symbols("q r D a", integer=True)
    d.add_step(
        "Dilation phases",
        sympy.Eq(
            sympy.Indexed("y", D * q + r),
            sympy.Sum(
                sympy.Indexed(r"\tilde{x}", D * (q + aa) + r) * sympy.Indexed("w", aa), (aa, 0, 2)
            ),
        ),
        "output D q + r reads only phase r: an undilated layer on x~[r::D]",
        by=_KERNELS,
    )
    d.add_step(
        "Input gradient",
        "dL/dx = delta padded D(k - 1) - p, correlated with flip(w), channels exchanged",
        "symconv.backprop's GradInput at stride 1: a 3x3 stride-1 layer, run by the same kernel",
        by=_KERNELS,
    )
    d.add_step(
        "Weight gradient",
        sympy.Eq(
            sympy.Symbol(r"\partial L / \partial w"),
            sympy.Symbol(
                r"A'^{T}\left[\sum_{t} (G' \delta_t G'^{T}) \odot (B^{T} d_t B)\right] A'"
            ),
        ),
        f"F(3x3, {m}x{m}) = winograd(3, {m}): delta's {m}x{m} blocks are the filters, the "
        f"forward's {a}x{a} input tiles the data; the sum over tiles and samples is one GEMM per "
        "tile position",
        by=("F(3x3, mxm)", _KERNELS),
    )
    d.add_step(
        "F(3, m) transforms",
        sympy.Tuple(b.AT, b.G),
        "A'^T and G'; B^T is the forward's",
        by=("F(3x3, mxm)", "the weight gradient's B^T"),
    )
    d.results.update(forward=f, weight_gradient=b)

    def weight_gradient() -> Outcome:
        if b.alpha <= 4:
            ok = winograd_residual(b, 2).is_zero_matrix
            return Outcome(
                1, 0.0 if ok else 1.0, ok, "symbolic delta block and tile: residual is zero"
            )
        wrong, total = winograd_mismatches_2d(b)
        detail = f"{total - wrong} of the {total} coefficients equal the correlation's: all values"
        return Outcome(1, float(wrong), wrong == 0, detail)

    def shared_tiles() -> Outcome:
        ok = b.BT == f.BT and b.points == f.points
        return Outcome(
            1, 0.0 if ok else 1.0, ok, "the same points, the same B^T: input tiles shared"
        )

    def kernels() -> Outcome:
        err = _kernels_error(m, toeplitz_numeric)
        detail = (
            f"{len(_cases())} layers (dilation, groups, depthwise, reflect/circular, flip): "
            f"max abs error {err:.2g} on integer data"
        )
        return Outcome(len(_cases()), err, err <= 1e-9, detail)

    d.check(
        "F(3x3, mxm): sum of delta-weighted tiles = the weight gradient", "exact", weight_gradient
    )
    d.check("the weight gradient's B^T is the forward's", "exact", shared_tiles)
    d.check("generated kernels = T x, T^T delta and the direct dL/dw", "numeric", kernels)
    return d


def derive_layer(spec: Any, size: Any, **needs: Any) -> Derivation:
    """A 3x3 stride-1 layer by F(m x m, 3 x 3); the input size, if given, is the tile length
    m + 2 (6 by default: m = 4; 4: m = 2, the tiles numeric runs)."""
    tile = 6 if size is None else (size if isinstance(size, int) else size[0])
    if isinstance(tile, bool) or not isinstance(tile, int) or tile not in (4, 6):
        raise SpecError(
            f"derive winograd-layer: tile length must be 4 or 6 (m = 2 or 4), got {tile}"
        )
    return winograd_layer_derivation(tile - 2, **needs)


CHECK = register(
    NumericCheck(
        "winograd-layer",
        "a 3x3 layer by F(4x4, 3x3): channels, dilation, dL/dx, dL/dw by F(3x3, 4x4)",
        derive=derive_layer,
        needs=NEEDS,
        layer="tile",
        pages=("theorems.md",),
        after="winograd",
    )
)
