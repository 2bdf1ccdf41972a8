r"""Named results of the check functions: small `NamedTuple`s, so a caller reads fields by
name and the older tuple unpacking (`ok, n = factored_product_check(form)`) keeps working.

Each module whose function returns one re-exports it (`symconv.derivation.Outcome`,
`symconv.toeplitz.ProductCheck`, `symconv.backprop.GradientCheck`, ...).

```python
>>> from symconv._results import Outcome, ProductCheck
>>> r = Outcome(cases=3, max_error=0.0, passed=True, detail="float64")
>>> r.passed, r == (3, 0.0, True, "float64")
(True, True)
>>> holds, nonzeros = ProductCheck(holds=True, nonzeros=12)
>>> holds, nonzeros
(True, 12)

```
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["ChainRule", "DiagonalCheck", "GradientCheck", "Outcome", "ProductCheck"]


class Outcome(NamedTuple):
    """What a check function of `Derivation.check` returns: `cases` examined, the largest
    discrepancy `max_error` (0 when exact), whether it `passed`, and a `detail` for the
    certificate (the worst case, the precision). A plain 4-tuple in this order is accepted too.

    ```python
    >>> from symconv.derivation import Derivation, Outcome
    >>> d = Derivation("one check").add_step("claim", "1 + 1 = 2", by="arithmetic")
    >>> _ = d.check("arithmetic", "exact", lambda: Outcome(1, 0.0, 1 + 1 == 2, "integers"))
    >>> d.verify().passed
    True

    ```
    """

    cases: int
    max_error: float
    passed: bool
    detail: str = ""


class DiagonalCheck(NamedTuple):
    """Whether every (strided) diagonal of a matrix is constant and full (`holds`), and how
    many `diagonals` were examined (`symconv.toeplitz`'s structure checks)."""

    holds: bool
    diagonals: int


class ProductCheck(NamedTuple):
    r"""`symconv.toeplitz.factored_product_check`: whether $T = V\,\mathrm{Pad}$ `holds`
    exactly, and the `nonzeros` of $T$ (the entries compared)."""

    holds: bool
    nonzeros: int


class GradientCheck(NamedTuple):
    r"""`symconv.backprop.verify_exact`: whether $T^\top\delta = \partial L/\partial x$
    (`grad_input`) and $X^\top\delta = \partial L/\partial w$ (`grad_weight`) hold exactly.
    `all(result)` is both."""

    grad_input: bool
    grad_weight: bool


class ChainRule(NamedTuple):
    r"""`symconv.case_studies.residual_chain_rule`: whether the chain rule through
    $y = x + F(x)$ `holds` symbolically, and the `jacobian` $\partial y/\partial x$
    (a SymPy matrix)."""

    holds: bool
    jacobian: Any
