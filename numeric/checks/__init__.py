r"""numeric's checks: derivations that compare numeric's code with the symbolic results.

Each module registers its check at import through the hook (`numeric.checks.hook`), and
importing this package imports them all; `symconv.registry` reads the hook, so the checks
appear in `symconv derive`, `symconv verify` and the docs without being named there.

- `algorithm-costs` (`costs`): the cost model's GEMM formulas against the operations the
  printed kernels issue (`numeric.algorithms.cost_derivation`); needs nothing;
- `numeric-kernels` (`kernels`): `numeric.conv{1,2,3}d` $= T x + b$; needs
  `toeplitz_numeric` and `exact_grid`;
- `winograd-layer` (`winograd_layer`): the Winograd layer's kernels against $T x$ and
  $T^\top \delta$, its weight gradient exactly; needs `toeplitz_numeric` and Winograd's exact
  transforms.

numeric may not import the derivation layer (`.importlinter`): what a check needs of it (the
Toeplitz matrix, Winograd's transforms) it names in `needs` and receives as keyword arguments
from the application layer (`symconv.registry.INJECTED`). SymPy loads with this package;
`import numeric` does not import it.

```python
>>> import numeric.checks
>>> [c.name for c in numeric.checks.registered()]
['algorithm-costs', 'numeric-kernels', 'winograd-layer']

```
"""

from __future__ import annotations

from . import costs, kernels, winograd_layer
from .hook import NumericCheck, register, registered

__all__ = ["NumericCheck", "costs", "kernels", "register", "registered", "winograd_layer"]
