"""The table of numeric's public convolution and pooling functions: one row per function.

Each `Row` names the function, its spatial dims, its parameters (torch's, in torch's order, with
torch's defaults; symconv's extras keyword-only after them), its return annotation, its
docstring and the implementation it calls (`numeric._ops`, `numeric._pad`, ...).
`symconv.codegen.api` prints the rows into `numeric/_generated/api.py`, which `numeric`
re-exports, and the family rows (pad, unfold/fold, adaptive pooling, unpooling, the transposed
convolution's gradients) into `api_family.py`, which `numeric.family` re-exports. The tests
compare every printed signature with its row and with torch's function.

The algorithm sentences of the convolutions' docstrings are printed from `RULES`, the table's
statement of which algorithm runs which dims and ops; `RULES` is also printed into
`numeric/_generated/rules.py`, which `numeric.algorithms.supported` applies (with the kernel and
stride each algorithm needs), so the docstrings and the rule come from one source;
tests/kernels/test_numeric_api.py checks both agree for every row.

```python
>>> from symconv.codegen.api_table import rows
>>> row = next(r for r in rows() if r.name == "conv2d")
>>> [p.name for p in row.params][:4], row.call[0]
(['input', 'weight', 'bias', 'stride'], '_ops.conv')
>>> runs("winograd", 1, "forward"), runs("winograd", 2, "grad_input")
(False, True)

```
"""

from __future__ import annotations

from .conv_pool import _conv_rows, _pool_rows
from .family import PRELUDE, _family_rows
from .params import REQUIRED as REQUIRED
from .params import Param, Row, _p
from .rules import ALGORITHMS, NOTES, RULES, runs

__all__ = [
    "ALGORITHMS",
    "NOTES",
    "PRELUDE",
    "RULES",
    "Param",
    "Row",
    "names",
    "rows",
    "runs",
]


def rows() -> list[Row]:
    """Every public function, in the order the module prints them: per dims the convolutions,
    then the pooling functions; `conv_grad_bias`; then `numeric.family`'s."""
    out: list[Row] = []
    for d in (1, 2, 3):
        out += _conv_rows(d) + _pool_rows(d)
    out.append(
        Row(
            "conv_grad_bias",
            None,
            (_p("grad_output", "Array"),),
            "Array",
            "dL/db of any `conv*d`: the sum of `grad_output` over the batch and the spatial axes.",
            ("_ops.conv_grad_bias", ('"conv_grad_bias"', "grad_output")),
            None,
        )
    )
    return out + _family_rows()


def names(family: bool | None = None) -> list[str]:
    """The functions' names, sorted: all of them (both API modules' `__all__`), or
    `numeric.family`'s (`family=True`) or the others (`family=False`)."""
    return sorted(r.name for r in rows() if family is None or r.family == family)
