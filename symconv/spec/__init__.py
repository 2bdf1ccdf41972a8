r"""Layer specifications: `Conv` and `Pool`, frozen and validated at construction.

Conventions follow torch (`nn.ConvNd`, `MaxPoolNd`, `AvgPoolNd`, `LPPoolNd`) so every numeric
result can be compared with torch one to one. The lectures' other conventions are options:
`flip=True` is the true convolution $y_o = \sum_a x_{o - a} w_a$ (torch computes the
cross-correlation $y_o = \sum_a x_{o + a} w_a$), and `padding="full"` pads $d(k-1)$ on each side.

Sizes given as one integer apply to every spatial axis; tuples give one value per axis.

```python
>>> import symconv as sc
>>> spec = sc.Conv(dims=2, in_channels=3, out_channels=10, kernel_size=5, padding=2)
>>> spec.output_size((32, 32)), spec.num_parameters()
((32, 32), 760)

```
"""

from __future__ import annotations

from ._conv import Conv
from ._fit import Fit
from ._padding import (
    NUMPY_PAD_MODES,
    PADDING_MODES,
    PADDING_STRINGS,
    POOL_KINDS,
    Padding,
    PaddingLike,
    PaddingMode,
    Pads,
    PoolKind,
)
from ._pool import Pool

__all__ = [
    "NUMPY_PAD_MODES",
    "PADDING_MODES",
    "PADDING_STRINGS",
    "POOL_KINDS",
    "Conv",
    "Fit",
    "Padding",
    "PaddingLike",
    "PaddingMode",
    "Pads",
    "Pool",
    "PoolKind",
]
