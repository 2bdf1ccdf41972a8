r"""Pooling under a shift: which outputs can change, and Goodfellow's figure 9.8.

Max pooling is only approximately invariant: window $A_o$ reads other inputs $A'_o$ after the
shift, and the output is unchanged whenever the maximum over $A_o \cup A'_o$ lies in the
overlap. Private: `symconv.equivariance` re-exports `max_pool_changes` and `pooling_example`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy

from .._errors import SpecError
from ..derivation import Derivation, Outcome, grid_check
from ..spec import Pool
from ._core import (
    _ZERO,
    Equivariance,
    _full_map,
    _moved,
    _rows,
    _shift_of,
    _spatial,
    _spatial_map,
)

__all__ = ["max_pool_changes", "pooling_example"]


def _windows(
    spec: Pool, sizes: tuple[int, ...], shift: tuple[int, ...]
) -> tuple[list[set[int]], list[set[int]], tuple[int, ...]]:
    """Per output: the inputs its window reads before (`A`) and after (`A'`) the shift."""
    rows, in_shape, out_shape = _rows(spec, sizes, None)
    pi_in = _full_map(_spatial_map("translate", sizes, shift, False), in_shape[0])
    before = [set(rows.get(o, {})) for o in range(math.prod(out_shape))]
    after = [set(_moved(rows.get(o, {}), pi_in, True)) for o in range(math.prod(out_shape))]
    return before, after, out_shape


def max_pool_changes(spec: Pool, x: Any, shift: int | Sequence[int] = 1) -> set[tuple[int, ...]]:
    r"""The outputs of max pooling that can change when the input `x` is shifted (same position).

    Window $A_o$ reads the inputs $A_o$; after a zero-filled shift by $t$ it reads $A'_o$ (a
    zero entering counts as an input of value 0). With $U = A_o \cup A'_o$ and
    $I = A_o \cap A'_o$, output $o$ is **unchanged whenever the maximum over $U$ is attained in
    $I$** (both windows then hold it). So the outputs that change are a subset of
    $\{o : \max_U x > \max_I x\}$, the set returned (equal to it when values do not tie).

    `x` is one channel: an array of the spatial input size.
    """
    if not isinstance(spec, Pool) or spec.kind != "max":
        raise SpecError(f"max_pool_changes: expected a max Pool spec, got {spec}")
    arr = np.asarray(x, dtype=float)
    sizes = tuple(arr.shape)
    if len(sizes) != spec.dims:
        raise SpecError(f"max_pool_changes: x has {len(sizes)} axes, the spec {spec.dims}")
    before, after, out_shape = _windows(spec, sizes, _shift_of(spec, shift))
    flat = arr.ravel()

    def value(c: int) -> float:
        return 0.0 if c == _ZERO else float(flat[c])

    out = set()
    for o, (a, b) in enumerate(zip(before, after, strict=True)):
        union, inter = a | b, a & b
        top = max(value(c) for c in union)
        if not inter or max(value(c) for c in inter) < top:
            out.add(_spatial([o], out_shape)[0])
    return out


def _pool_invariance(
    d: Equivariance,
    spec: Pool,
    sizes: tuple[int, ...],
    shift: tuple[int, ...],
    core: dict[str, Any],
) -> None:
    before, after, out_shape = _windows(spec, sizes, shift)
    can = [o for o, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    fractions = [
        len((a | b) - (a & b)) / len(a | b)
        for a, b in zip(before, after, strict=True)
        if _ZERO not in b and a | b
    ]
    expected = sum(fractions) / len(fractions) if fractions else 0.0
    d.results.update(
        can_change=_spatial(can, out_shape),
        guaranteed_unchanged=_spatial(
            [o for o in range(len(before)) if o not in set(can)], out_shape
        ),
        expected_changed_fraction=expected,
    )
    k, t = sympy.symbols("k t", positive=True, integer=True)
    if spec.kind == "max":
        d.add_step(
            "Invariance of one output (max)",
            sympy.Symbol(
                r"y'[o] = y[o] \Leftarrow \max_{U_o} x = \max_{I_o} x,\ "
                r"U_o = A_o \cup A'_o,\ I_o = A_o \cap A'_o"
            ),
            "an output is guaranteed unchanged only if the largest input of the two windows "
            "(before and after the shift) lies in their overlap; max_pool_changes applies it",
            by="max pooling: changed outputs within",
        )
        d.add_step(
            "Probability of a change (1D, i.i.d. inputs, |t| < k)",
            sympy.Eq(sympy.Symbol("P_change"), 2 * t / (k + t)),
            "the argmax of the k + |t| inputs of U is uniform; the output changes iff it "
            "falls in one of the 2|t| inputs outside the overlap; k = 3, t = 1 gives 1/2: "
            "'only half of the output pixels have changed'",
            by="P_change = 2t/(k + t)",
        )

        def change_probability() -> Outcome:
            cases = [(kk, tt) for kk in range(2, 5) for tt in range(1, kk) if kk + tt <= 6]

            def err(c: tuple[int, int]) -> float:
                kk, tt = c
                orders = list(itertools.permutations(range(kk + tt)))
                changed = sum(max(v[:kk]) != max(v[tt:]) for v in orders)
                return abs(sympy.Rational(changed, len(orders)) - sympy.Rational(2 * tt, kk + tt))

            return grid_check(cases, err)

        d.check(
            "P_change = 2t/(k + t): every order of k + t distinct inputs, k < 5",
            "exact",
            change_probability,
        )
    else:
        d.add_step(
            f"Change of one output ({spec.kind})",
            sympy.Symbol(
                r"y'[o] - y[o] = \frac{1}{N_o}\Big(\sum_{A'_o \setminus A_o} x"
                r" - \sum_{A_o \setminus A'_o} x\Big)"
                if spec.kind == "avg"
                else r"y'[o]^p - y[o]^p = \sum_{A'_o \setminus A_o} x^p"
                r" - \sum_{A_o \setminus A'_o} x^p"
            ),
            "nonzero for generic inputs whenever the windows differ; small when the |t| "
            "inputs entering and leaving are alike",
            by="torch: conv(shift(x))",
        )
    d.add_step(
        "Outputs that can change (same position)",
        sympy.Integer(len(can)),
        f"of {len(before)}: those whose window reads other inputs after the shift (for "
        f"some input each of them changes); expected fraction for i.i.d. inputs, away "
        f"from the border: {expected:.3g}",
        by="torch: conv(shift(x))",
    )


def pooling_example() -> Derivation:
    r"""Goodfellow et al., *Deep Learning*, fig. 9.8: max pooling (width 3, stride 1) over a
    detector row shifted right by one. Every detector value in view changes, half the pooled ones.

    ```python
    >>> from symconv.equivariance import pooling_example
    >>> d = pooling_example()
    >>> d["inputs_changed"], d["outputs_changed"], d["view"]
    (4, 2, 4)

    ```
    """
    spec = Pool(dims=1, kind="max", kernel_size=3, stride=1, padding=1)
    r = sympy.Rational
    row = [r(0), r(3, 10), r(1, 10), r(1), r(1, 5), r(1, 10), r(0)]
    n = len(row)
    pi = _spatial_map("translate", (n,), (1,), False)
    shifted = [row[j] if j >= 0 else sympy.Integer(0) for j in pi.tolist()]
    rows, _, out_shape = _rows(spec, (n,), None)

    def pool(v: list[Any]) -> list[Any]:
        return [max(v[c] for c in rows[o]) for o in range(out_shape[1])]

    view = slice(2, 6)  # the figure shows the middle four positions
    y, y_s = pool(row), pool(shifted)
    changed_in = sum(a != b for a, b in zip(row[view], shifted[view], strict=True))
    changed_out = sum(a != b for a, b in zip(y[view], y_s[view], strict=True))
    predicted = max_pool_changes(spec, np.array(row, dtype=float), 1)
    d = Derivation("Max pooling is approximately invariant (Goodfellow fig. 9.8)")
    d.results.update(
        detector=row[view],
        shifted=shifted[view],
        pooled=y[view],
        pooled_shifted=y_s[view],
        inputs_changed=changed_in,
        outputs_changed=changed_out,
        view=4,
        predicted=predicted,
        spec=spec,
    )
    mat = sympy.Matrix
    d.add_step(
        "Detector stage",
        mat([row[view], shifted[view]]),
        "top: the detector row; bottom: shifted right by one (every value changes)",
        definition=True,
    )
    d.add_step(
        "Pooling stage",
        mat([y[view], y_s[view]]),
        "max over width 3, stride 1: only half of the pooled values change",
        by="figure reproduced",
    )
    d.add_step(
        "Changed",
        sympy.Tuple(sympy.Rational(changed_in, 4), sympy.Rational(changed_out, 4)),
        "inputs changed, outputs changed (fractions of the view); 2/(k + 1) = 1/2 for k = 3",
        by="figure reproduced",
    )

    def run() -> Outcome:
        full = {(o,) for o in range(n) if y[o] != y_s[o]}
        return Outcome(
            1,
            0.0,
            changed_in == 4 and changed_out == 2 and full <= predicted,
            f"changed {sorted(full)}, predicted {sorted(predicted)}",
        )

    d.check("figure reproduced; changed outputs within the prediction", "exact", run)
    return d
