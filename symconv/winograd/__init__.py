"""Winograd minimal filtering $F(m, r)$: the matrices $A^\top$, $G$, $B^\top$, derived exactly.

$F(m, r)$ computes $m$ outputs of the valid correlation of a tile $d$ of length
$\alpha = m + r - 1$ with a filter $g$ of length $r$ using $\alpha$ multiplications instead
of $m r$:

$$y = A^\top\big[(G g) \\odot (B^\top d)\big], \\qquad
  y_i = \\sum_{k < r} d_{i + k}\\, g_k .$$

**Construction (Cook-Toom, the Chinese remainder theorem at $\alpha$ points).** The linear
convolution $c = h * g$ of polynomials of degree $m - 1$ and $r - 1$ has degree $\alpha - 1$,
so it is fixed by its values at $\alpha$ points $a_0, \\dots, a_{\alpha - 2}$ and $\\infty$ (the
leading coefficient). With the evaluation (Vandermonde) matrices $V_n[i, j] = a_i^j$ ($n$
columns; the row of $\\infty$ is $e_{n-1}^\top$), $c = V_\alpha^{-1}[(V_r g) \\odot (V_m h)]$.
Correlation is the transpose of convolution (Lavin & Gray), so

$$A^\top = V_m^\top, \\qquad G = D^{-1} V_r, \\qquad B^\top = D\\, V_\alpha^{-\top},$$

with $D$ the diagonal of Lagrange denominators $f_i = \\prod_{k \ne i}(a_i - a_k)$ (1 for
$\\infty$; wincnn's `FractionsInG`: the fractions go to $G$, which is transformed once per
filter, and $B^\top$ stays integral for the default points). The 2D algorithm nests the 1D one:
$Y = A^\top\big[(G g G^\top) \\odot (B^\top d B)\big] A$.

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

from ._accuracy import FLOAT32_FACTOR, float32_error
from ._checks import winograd_residual
from ._derivation import winograd_derivation
from ._transforms import MAX_TILE, Winograd, default_points, winograd

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
