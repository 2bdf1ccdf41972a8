"""The numeric side of a check: `discrepancy` between two arrays (NaN never passes) and
`grid_check`, a predicate run over a grid of cases, giving an `Outcome`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._results import Outcome


def discrepancy(a: Any, b: Any) -> float:
    """The largest |a - b| over two arrays of one shape, NaN and inf counting as equal only
    where both hold the same value; `inf` when the shapes or the non-finite places differ, so
    that a NaN can never pass a check (`max(worst, nan)` would keep `worst`).

    ```python
    >>> import numpy as np
    >>> discrepancy([1.0, np.nan], [1.5, np.nan]), discrepancy([1.0, np.nan], [1.0, 2.0])
    (0.5, inf)
    >>> discrepancy([1j], [0])  # complex values keep their imaginary parts
    1.0

    ```
    """
    a, b = np.asarray(a), np.asarray(b)
    kind = complex if np.iscomplexobj(a) or np.iscomplexobj(b) else float
    a, b = a.astype(kind), b.astype(kind)
    if a.shape != b.shape:
        return math.inf
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    if not np.all(np.isfinite(a) | same) or not np.all(np.isfinite(b) | same):
        return math.inf
    with np.errstate(invalid="ignore"):  # inf - inf where `same` already holds
        return float(np.max(np.where(same, 0.0, np.abs(a - b)), initial=0.0))


def grid_check(cases: Sequence[Any], predicate: Callable[[Any], float]) -> Outcome:
    """Run `predicate` (returning a discrepancy, 0 when equal) over `cases`; a NaN discrepancy
    counts as infinite. The `Outcome`'s detail names the worst case.

    ```python
    >>> grid_check([1, 2, 3], lambda n: abs(n * n - n - n))  # n^2 = 2n only at n = 2
    Outcome(cases=3, max_error=3.0, passed=False, detail='worst case 3')

    ```
    """
    worst, bad = 0.0, None
    for case in cases:
        err = float(predicate(case))
        err = math.inf if math.isnan(err) else err
        if err > worst:
            worst, bad = err, case
    return Outcome(len(cases), worst, worst == 0.0, "" if bad is None else f"worst case {bad!r}")
