"""A printed claim of the lectures and how its verdict is reached (`Claim`, `show`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from .. import errata

__all__ = ["KHAN", "LECTURES", "XU", "Claim", "Verdict", "claim", "show"]

Verdict = Literal["agree", "erratum", "question", "not computable", "disagrees"]

KHAN = "Khan, CS-568 Deep Learning: Convolutional Neural Networks"
XU = "Xu, CS 4644 / 7643 Lecture 8: Convolution, pooling, CNN architectures"
LECTURES = {
    "000": KHAN,
    "001": XU,
    "002": errata.KONDOR,
    "003": errata.LARSON,
    "004": errata.FISCHER,
}


@dataclass(frozen=True)
class Claim:
    """One printed equation or number, and how the engine recomputes it.

    Args:
        lecture: the key of `LECTURES` ("000" to "004").
        place: where it is printed, in words (the slide's title or the example).
        quantity: what the value is.
        printed: the value as printed.
        printed_value: the printed value read as a number, tuple or boolean ("holds");
            `None` for a question the lecture does not answer.
        compute: recomputes it with the engine; `None` when the engine cannot.
        call: the engine call `compute` makes, as the reader would type it.
        ulp: one unit of the last printed digit (numbers agree when they differ by less).
        note: why it is not computable, or a remark on the rounding rule.
        erratum: the `symconv.errata` record when the printed value is wrong.
    """

    lecture: str
    place: str
    quantity: str
    printed: str
    printed_value: Any
    compute: Callable[[], Any] | None = field(repr=False, compare=False)
    call: str = ""
    ulp: Any = 1
    note: str = ""
    erratum: errata.Erratum | None = field(default=None, repr=False, compare=False)

    def computed(self) -> Any:
        """The engine's value now (`None` when not computable)."""
        return None if self.compute is None else self.compute()

    def verdict(self) -> Verdict:
        """Recompute and compare (see the module docstring for the verdicts)."""
        if self.compute is None:
            return "not computable"
        if self.printed_value is None:
            return "question"
        try:
            value = self.compute()
        except Exception:  # the engine cannot reproduce it at all: as wrong as a wrong value
            return "disagrees"
        return self._judge(value)

    def _judge(self, value: Any) -> Verdict:
        """The verdict on `value`, what `compute` returned (a printed value to compare with)."""
        try:
            agrees = _agree(value, self.printed_value, self.ulp)
        except Exception:  # not comparable with the printed value: as wrong as a wrong value
            return "disagrees"
        if self.erratum is not None:
            return "disagrees" if agrees else "erratum"
        return "agree" if agrees else "disagrees"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the record, the engine's value (as text) and the verdict."""
        value = self.computed()  # once: `verdict` would compute it again
        if self.compute is None:
            verdict: Verdict = "not computable"
        elif self.printed_value is None:
            verdict = "question"
        else:
            verdict = self._judge(value)
        return {
            "lecture": self.lecture,
            "source": LECTURES[self.lecture],
            "place": self.place,
            "quantity": self.quantity,
            "printed": self.printed,
            "computed": show(value),
            "verdict": verdict,
            "call": self.call,
            "note": self.note or (self.erratum.explain() if self.erratum else ""),
        }


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Fraction | np.integer | np.floating) and not isinstance(
        v, bool
    )


def _agree(computed: Any, printed: Any, ulp: Any) -> bool:
    if isinstance(computed, tuple) and isinstance(printed, tuple):
        return len(computed) == len(printed) and all(
            _agree(c, p, ulp) for c, p in zip(computed, printed, strict=True)
        )
    if _is_number(computed) and _is_number(printed):
        return abs(Fraction(computed) - Fraction(printed)) < Fraction(ulp)
    return bool(computed == printed)


def show(value: Any) -> str:
    """A computed value as the audit table shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "holds" if value else "does not hold"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | Fraction):
        return f"{float(value):.4g}"
    if isinstance(value, tuple):
        return (
            " x ".join(show(v) for v in value) if all(_is_number(v) for v in value) else str(value)
        )
    return str(value)


def claim(
    lecture: str,
    place: str,
    quantity: str,
    printed: str,
    printed_value: Any,
    compute: Callable[[], Any] | None,
    call: str = "",
    **kw: Any,
) -> Claim:
    return Claim(lecture, place, quantity, printed, printed_value, compute, call, **kw)
