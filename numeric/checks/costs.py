"""The cost model's check, registered: `symconv derive algorithm-costs` is
`numeric.algorithms.cost_derivation()` (each algorithm's GEMM formula against the operations
its printed NumPy kernels issue; the derivation lives with the cost model, in
`numeric/algorithms/derivation.py`). It needs nothing of the derivation layer.

```python
>>> from numeric.checks.costs import CHECK
>>> CHECK.name, CHECK.verify, CHECK.after
('algorithm-costs', 'no', 'local-backprop')

```
"""

from __future__ import annotations

from typing import Any

from symconv.derivation import Derivation

from ..algorithms.derivation import cost_derivation
from .hook import NumericCheck, register

__all__ = ["CHECK", "derive_costs"]


def derive_costs(spec: Any, size: Any) -> Derivation:
    """`cost_derivation()`: a general derivation, it reads no layer or input size."""
    built: Derivation = cost_derivation()
    return built


CHECK = register(
    NumericCheck(
        "algorithm-costs",
        "numeric's GEMM cost formulas = the operations its printed kernels issue",
        derive=derive_costs,
        layer="none",
        verify="no",
        why_not="checks numeric's cost model against its printed kernels, not an identity of "
        "convolution; tests/kernels/test_algorithms.py and the docs build run it",
        pages=("theorems.md",),
        after="local-backprop",
    )
)
