r"""Derivations: ordered steps with SymPy statements, rendered as LaTeX, Markdown or text.

A `Derivation` is what every public derivation function returns. Each `Step` has a title, a
statement (a SymPy object: an equation, a matrix, an expression), its LaTeX and a one-line
justification. `verify()` runs the checks attached to the derivation and returns a
`Certificate` naming the level each reached (DESIGN.md, "Verification levels"):

- `general`: proved with symbolic sizes;
- `exact`: exact symbolic equality on every case of a finite grid;
- `numeric`: floating-point agreement on sampled cases.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import sympy
from sympy.printing.latex import LatexPrinter

__all__ = ["LEVELS", "Certificate", "Check", "CheckResult", "Derivation", "Step", "latex"]

Level = Literal["general", "exact", "numeric"]
LEVELS: tuple[Level, ...] = ("general", "exact", "numeric")


class _LatexPrinter(LatexPrinter):
    r"""SymPy's LaTeX printer, with the Kronecker delta as an Iverson bracket $[i = j]$, so it
    cannot be confused with the upstream gradient $\delta = \partial L / \partial y$."""

    def _print_KroneckerDelta(self, expr: Any, exp: Any = None) -> str:
        i, j = (self._print(a) for a in expr.args)
        tex = rf"\left[{i} = {j}\right]"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


def latex(expr: Any) -> str:
    """LaTeX of a SymPy object as symconv renders it (Kronecker deltas as Iverson brackets)."""
    return _LatexPrinter().doprint(expr)


@dataclass(frozen=True)
class Step:
    """One step of a derivation."""

    title: str
    statement: Any
    justification: str = ""
    latex_override: str | None = None

    def latex(self) -> str:
        if self.latex_override is not None:
            return self.latex_override
        if isinstance(self.statement, str):
            return r"\text{" + self.statement + "}"
        return latex(self.statement)

    def text(self) -> str:
        if isinstance(self.statement, str):
            return self.statement
        return sympy.sstr(self.statement)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: what was checked, at which level, on how many cases."""

    name: str
    level: Level
    cases: int
    max_error: float
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "level": self.level,
            "cases": self.cases,
            "max_error": self.max_error,
            "passed": self.passed,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Check:
    """A named check: `run()` returns `(cases, max_error, passed, detail)`."""

    name: str
    level: Level
    run: Callable[[], tuple[int, float, bool, str]]

    def __call__(self) -> CheckResult:
        cases, err, ok, detail = self.run()
        return CheckResult(self.name, self.level, cases, float(err), bool(ok), detail)


@dataclass(frozen=True)
class Certificate:
    """What `Derivation.verify()` established."""

    title: str
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def level(self) -> Level | None:
        """The strongest level at which every check of that level passed."""
        for level in LEVELS:
            mine = [r for r in self.results if r.level == level]
            if mine and all(r.passed for r in mine):
                return level
        return None

    def __bool__(self) -> bool:
        return self.passed

    def summary(self) -> str:
        """One line: "verified (level L)", or which checks FAILED, at which level, and which
        levels passed in full (a failing float32 check after passing exact ones says so)."""
        if self.passed:
            return f"verified (level {self.level})"
        failed = [r for r in self.results if not r.passed]
        levels = [lv for lv in LEVELS if any(r.level == lv for r in failed)]
        held = [
            lv for lv in LEVELS if lv not in levels and any(r.level == lv for r in self.results)
        ]
        names = "; ".join(f"{r.name}: max discrepancy {r.max_error:.3g}" for r in failed)
        text = f"FAILED: {len(failed)} {'/'.join(levels)} check(s) ({names})"
        if held:
            text += f"; every {'/'.join(held)} check passed"
        return text

    def text(self) -> str:
        lines = [f"{self.title}: {self.summary()}"]
        for r in self.results:
            mark = "ok " if r.passed else "FAIL"
            lines.append(
                f"  [{mark}] {r.level:<8} {r.name} - {r.cases} case(s), "
                f"max discrepancy {r.max_error:.3g}{' - ' + r.detail if r.detail else ''}"
            )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "passed": self.passed,
            "level": self.level,
            "checks": [r.as_dict() for r in self.results],
        }


@dataclass
class Derivation:
    """An ordered list of steps with attached checks.

    ```python
    >>> from symconv.arith import lecture_formula_derivation
    >>> d = lecture_formula_derivation()
    >>> d.verify().passed
    True

    ```
    """

    title: str
    steps: list[Step] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def step(
        self, title: str, statement: Any, justification: str = "", latex: str | None = None
    ) -> Derivation:
        self.steps.append(Step(title, statement, justification, latex))
        return self

    def check(
        self, name: str, level: Level, run: Callable[[], tuple[int, float, bool, str]]
    ) -> Derivation:
        self.checks.append(Check(name, level, run))
        return self

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __getitem__(self, key: str) -> Any:
        return self.results[key]

    def verify(self) -> Certificate:
        """Run every attached check; the certificate says what passed at which level."""
        return Certificate(self.title, tuple(check() for check in self.checks))

    # -- rendering ----------------------------------------------------------------------
    def latex(self) -> str:
        """The steps as one LaTeX `aligned`-free block: a `\\text` title and a display per step."""
        parts = [rf"\textbf{{{_tex_escape(self.title)}}}"]
        for n, s in enumerate(self.steps, 1):
            note = rf"\quad\text{{({_tex_escape(s.justification)})}}" if s.justification else ""
            parts.append(rf"\text{{{n}. {_tex_escape(s.title)}:}}\quad {s.latex()}{note}")
        return r" \\ ".join(parts)

    def markdown(self) -> str:
        """Markdown with `$$...$$` displays, one numbered step each."""
        lines = [f"### {self.title}", ""]
        for n, s in enumerate(self.steps, 1):
            lines.append(f"{n}. **{s.title}.** {s.justification}".rstrip())
            lines += ["", "$$", s.latex(), "$$", ""]
        return "\n".join(lines)

    def text(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        for n, s in enumerate(self.steps, 1):
            lines.append(f"{n}. {s.title}: {s.text()}")
            if s.justification:
                lines.append(f"   ({s.justification})")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "steps": [
                {
                    "title": s.title,
                    "latex": s.latex(),
                    "text": s.text(),
                    "justification": s.justification,
                }
                for s in self.steps
            ],
        }

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + r"\begin{array}{l}" + self.latex() + r"\end{array}$"

    def __str__(self) -> str:
        return self.text()


def _tex_escape(text: str) -> str:
    for a, b in (
        ("\\", r"\textbackslash "),
        ("_", r"\_"),
        ("%", r"\%"),
        ("&", r"\&"),
        ("#", r"\#"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("$", r"\$"),
    ):
        text = text.replace(a, b)
    return text


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


def grid_check(
    cases: Sequence[Any], predicate: Callable[[Any], float]
) -> tuple[int, float, bool, str]:
    """Run `predicate` (returning a discrepancy, 0 when equal) over `cases`; a NaN discrepancy
    counts as infinite."""
    worst, bad = 0.0, None
    for case in cases:
        err = float(predicate(case))
        err = math.inf if math.isnan(err) else err
        if err > worst:
            worst, bad = err, case
    return len(cases), worst, worst == 0.0, "" if bad is None else f"worst case {bad!r}"
