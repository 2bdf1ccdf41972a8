"""Separable kernels: rank-1 detection, factors, low-rank approximation, and the cost saving.

A $d$-dimensional kernel is *separable* when it is an outer product of $d$ vectors,
$K = u \\otimes v$ ($K = u v^\top$ in 2D). Convolving with it is then $d$ one-dimensional
convolutions, one per axis: in matrix form the 2D Toeplitz matrix is a Kronecker product,

$$T_{u v^\top} = T_u \\otimes T_v = (T_u \\otimes I)(I \\otimes T_v),$$

so the cost per output drops from $w^d$ to $d\\,w$ multiply-adds (and the parameters likewise).

- `separable(kernel)`: exact for integers, rationals and polynomial or rational functions of
  symbols; simplification-based for other symbolic entries (trigonometric, radicals, ...);
  the SVD with a tolerance that follows the float type for floats. The factors or `None`.
- `low_rank(kernel, r)`: the best rank-$r$ approximation of a 2-D kernel (SVD, Eckart-Young).

```python
>>> from symconv.separable import separable
>>> sobel = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
>>> [list(f) for f in separable(sobel).factors]
[[1, 2, 1], [1, 0, -1]]
>>> [list(f) for f in separable([[1, 2, 1], [2, 4, 2], [1, 2, 1]]).factors]
[[1, 2, 1], [1, 2, 1]]
>>> separable([[1, 0], [0, 1]]) is None
True

```
"""

from __future__ import annotations

from .._tolerances import RANK_TOL
from ._derivation import separable_derivation
from ._factor import LowRank, low_rank, separable
from ._kernel import Separable

__all__ = [
    "RANK_TOL",
    "LowRank",
    "Separable",
    "low_rank",
    "separable",
    "separable_derivation",
]
