"""`at(expr, values)`: a SymPy expression at given values, by one structural replacement.

The checks evaluate general formulas on grids of integers (`formula.subs({K: 3, ...})`) many
thousand times. `subs` sorts the substitutions, tries each on every subexpression and rebuilds
through its fallback machinery; `xreplace` rebuilds the tree once, evaluating as it goes (a
`Piecewise`, `floor` or `Mod` of integers evaluates exactly as under `subs`). For keys that are
symbols or `Indexed` objects (never bound variables of a `Sum`, `Derivative` or `Lambda`) the
result is the same expression, 10-40x faster.

```python
>>> import sympy
>>> k, s = sympy.symbols("k s", integer=True)
>>> at(sympy.floor((7 - k) / s) + 1, {k: 3, s: 2})
3

```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy

__all__ = ["at"]


def at(expr: Any, values: Mapping[Any, Any]) -> Any:
    """`expr.subs(values)` for keys that are free symbols or `Indexed` objects: plain ints
    become SymPy Integers, other values (expressions) are put in as they are."""
    return expr.xreplace(
        {key: sympy.Integer(v) if type(v) is int else v for key, v in values.items()}
    )
