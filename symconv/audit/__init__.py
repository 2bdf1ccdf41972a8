r"""The lectures, audited: every printed equation and number the engine can compute.

Each `Claim` records one thing a lecture prints — a size, a count, an equation, a worked value
— where it is printed, the value as printed, and the engine call that recomputes it (`call`,
shown to the reader, and `compute`, which runs it). `Claim.verdict()` recomputes and answers:

- `"agree"`: the engine's value equals the printed one, allowing for the printed rounding
  (`ulp`, one unit of the last printed digit; "35K" agrees with 34,944);
- `"erratum"`: it differs, and `symconv.errata` records the difference with its explanation;
- `"question"`: the lecture asks and prints no answer; the engine's answer is shown;
- `"not computable"`: nothing the engine computes (a figure's pixels, an error rate, a
  complexity class); `note` says why.

A claim that disagrees without an erratum is a defect of this audit: the tests fail on it.
The computed values are never written down here; `table()` recomputes them.

```python
>>> from symconv import audit
>>> c = next(c for c in audit.AUDIT if c.printed == "76*10 = 760")
>>> c.verdict(), c.computed(), c.call
('agree', 760, 'Conv(in_channels=3, out_channels=10, kernel_size=5, padding=2).num_parameters()')
>>> sorted({c.verdict() for c in audit.AUDIT})
['agree', 'erratum', 'not computable', 'question']

```
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

from .. import arch, errata
from ._claim import KHAN, LECTURES, XU, Claim, Verdict, show
from ._fischer import CLAIMS as _FISCHER
from ._khan import CLAIMS as _KHAN
from ._kondor import CLAIMS as _KONDOR
from ._larson import CLAIMS as _LARSON
from ._xu import CLAIMS as _XU

__all__ = ["AUDIT", "KHAN", "LECTURES", "XU", "Claim", "Verdict", "show", "table"]

_CLAIMS: list[Claim] = [*_KHAN, *_XU, *_KONDOR, *_LARSON, *_FISCHER]


def _from_erratum(e: errata.Erratum) -> Claim:
    lecture = next(k for k, name in LECTURES.items() if e.source.startswith(name))
    return Claim(
        lecture,
        e.place,
        e.quantity,
        e.printed,
        e.printed_value,
        e.compute,
        "symconv.errata",
        ulp=e.ulp,
        erratum=e,
    )


def _googlenet_agreeing() -> list[Claim]:
    """GoogLeNet's Table 1 cells the engine reproduces (the others are errata): sizes and depths
    compared as printed, counts in the printed unit (K = 1024, M = 10^6) to the printed digit."""
    out = []
    for n, c in enumerate(_googlenet()):
        if not c.agrees:
            continue
        printed: str | int | Fraction  # the cell as printed, compared in its own unit
        ulp: int | Fraction
        if c.quantity == "output":
            printed, ulp = c.printed, 1
        elif c.quantity == "depth":
            printed, ulp = int(c.printed), 1
        else:
            printed, ulp = errata.reading(c.printed)
        out.append(
            Claim(
                "002",
                f"GoogLeNet table, {c.row}",
                c.quantity,
                c.printed,
                printed,
                functools.partial(_googlenet_cell, n),
                f"arch.compare_googlenet(): row {c.row!r}, {c.quantity}",
                ulp=ulp,
            )
        )
    return out


@functools.cache
def _googlenet() -> tuple[Any, ...]:
    """Table 1 against the engine's GoogLeNet (computed once a process: it is pure)."""
    return tuple(arch.compare_googlenet())


def _googlenet_cell(n: int) -> Any:
    c = _googlenet()[n]
    return int(c.computed) if c.quantity == "depth" else c.computed


def _audit() -> tuple[Claim, ...]:
    claims = [*_CLAIMS, *_googlenet_agreeing(), *(_from_erratum(e) for e in errata.ERRATA)]
    order = {k: i for i, k in enumerate(LECTURES)}
    return tuple(sorted(claims, key=lambda c: order[c.lecture]))  # stable: printed order kept


AUDIT: tuple[Claim, ...] = _audit()


def table() -> list[dict[str, Any]]:
    """Every claim as a JSON-ready row, recomputed now (`Claim.as_dict`)."""
    return [c.as_dict() for c in AUDIT]
