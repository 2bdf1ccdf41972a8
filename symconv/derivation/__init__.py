r"""Derivations: ordered steps with SymPy statements, rendered as LaTeX, Markdown or text.

A `Derivation` is what every public derivation function returns. Each `Step` has a title, a
statement (a SymPy object: an equation, a matrix, an expression), its LaTeX and a one-line
justification, and is either a *definition* or a *claim* naming the checks that establish it
(`Derivation.add_step(..., by=...)`). `verify()` runs the checks attached to the derivation and
returns a `Certificate` naming the level each reached and, per step, what was established; a
check that could not run is *skipped* with its reason, never counted as passed. Levels
(docs/index.md, "Verification levels"):

- `general`: proved with symbolic sizes;
- `exact`: exact symbolic equality on every case of a finite grid;
- `numeric`: floating-point agreement on sampled cases.

The package's modules: `_printing` (LaTeX and terminal text of SymPy objects), `_text` (prose
escaped for LaTeX and MathJax), `_step` (`Step`, `Steps`), `_certificate` (`Check`,
`CheckResult`, `StepReport`, `Certificate`, the levels), `_grid` (`discrepancy`, `grid_check`);
this module holds `Derivation` and re-exports their names.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import sympy

from .._results import Outcome
from ._certificate import (
    LEVELS,
    OPTIONAL_DEPENDENCIES,
    Certificate,
    Check,
    CheckResult,
    Level,
    SkipCheck,
    StepReport,
    _OutcomeRun,
)
from ._grid import discrepancy, grid_check
from ._printing import latex, pretty
from ._step import Step, StepKind, Steps
from ._text import _mathjax_text, _tex_escape

__all__ = [
    "LEVELS",
    "OPTIONAL_DEPENDENCIES",
    "Certificate",
    "Check",
    "CheckResult",
    "Derivation",
    "Outcome",
    "SkipCheck",
    "Step",
    "StepReport",
    "Steps",
    "discrepancy",
    "grid_check",
    "latex",
    "pretty",
]


def _resolve(names: Sequence[str], checks: Sequence[Check]) -> tuple[list[int], list[str]]:
    """Indices of the checks a step names (exactly, or by the start of the name), and the
    names that match no check."""
    found: list[int] = []
    missing: list[str] = []
    for name in names:
        hits = [i for i, c in enumerate(checks) if c.name == name]
        hits = hits or [i for i, c in enumerate(checks) if c.name.startswith(name)]
        if hits:
            found += [i for i in hits if i not in found]
        else:
            missing.append(name)
    return found, missing


@dataclass
class Derivation:
    """An ordered list of steps with attached checks.

    Each step is a definition or a claim naming the checks that establish it;
    `verify()` runs the checks and reports per step what was established at which level.

    ```python
    >>> from symconv.arith import lecture_formula_derivation
    >>> d = lecture_formula_derivation()
    >>> d.verify().passed
    True
    >>> d.steps[0].title, d.steps["Dilation 1"].kind
    ('General output size', 'claim')

    ```
    """

    title: str
    steps: list[Step] = field(default_factory=Steps)
    checks: list[Check] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.steps, Steps):
            self.steps = Steps(self.steps)

    def add_step(
        self,
        title: str,
        statement: Any,
        justification: str = "",
        latex: str | None = None,
        *,
        by: str | Sequence[str] = (),
        definition: bool = False,
        keeps: Sequence[Any] = (),
        proof: bool = False,
    ) -> Derivation:
        """Append a step: a definition (`definition=True`) or a claim established by the
        checks named in `by`. `proof=True` adds a symbolic check of its own: every equation
        of the statement simplifies to `lhs - rhs = 0`."""
        names = (by,) if isinstance(by, str) else tuple(by)
        if proof:
            name = f"step '{title}': lhs - rhs simplifies to 0"
            self.check(name, "general", _proof(statement))
            names += (name,)
        kind: StepKind = "definition" if definition else "claim"
        self.steps.append(Step(title, statement, justification, latex, kind, names, tuple(keeps)))
        return self

    def step(self, key: int | str, *args: Any, **kwargs: Any) -> Any:
        """The step at position `key` or titled `key`. (Called with a statement as well, the
        old spelling of `add_step`, it appends one.)"""
        if args or kwargs:
            return self.add_step(str(key), *args, **kwargs)
        return cast(Steps, self.steps)[key]  # a Steps (__post_init__)

    def check(self, name: str, level: Level, run: _OutcomeRun) -> Derivation:
        self.checks.append(Check(name, level, run))
        return self

    def extend(self, part: Derivation, prefix: str = "") -> Derivation:
        """Append the steps and checks of `part`, check names (and the steps' references to
        them) prefixed with `prefix`."""
        for step in part.steps:
            self.steps.append(dataclasses.replace(step, by=tuple(prefix + b for b in step.by)))
        self.checks.extend(Check(prefix + c.name, c.level, c.run) for c in part.checks)
        return self

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __getitem__(self, key: str) -> Any:
        return self.results[key]

    def audit(self) -> list[str]:
        """What is wrong with the displayed steps without running a check: malformed
        statements, claims that name no check or a check the derivation does not have."""
        out = []
        for n, step in enumerate(self.steps, 1):
            problem = self._step_problem(step)
            if problem:
                out.append(f"{self.title}: step {n} ({step.title}): {problem}")
        return out

    def _step_problem(self, step: Step) -> str:
        problems = step.problems()
        if problems:
            return "; ".join(problems)
        if step.is_definition:
            return ""
        if not step.by:
            return "a claim that names no check"
        _, missing = _resolve(step.by, self.checks)
        return f"names no check {missing}" if missing else ""

    def verify(self, executor: Executor | None = None) -> Certificate:
        """Run every attached check; the certificate says what passed at which level, and per
        step what was established.

        With `executor` (a `concurrent.futures` executor: a process that holds torch, say), the
        numeric-level checks run there while the others run here; the certificate is the same.
        An executor of other processes receives only the checks that can be pickled (a
        module-level function or a `functools.partial` of one, not a closure); the rest run
        here.

        ```python
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> from symconv.arith import lecture_formula_derivation
        >>> d = lecture_formula_derivation()
        >>> with ThreadPoolExecutor(1) as pool:
        ...     d.verify(executor=pool).results == d.verify().results
        True

        ```
        """
        if executor is None:
            results = tuple(check() for check in self.checks)
            return Certificate(self.title, results, self._step_reports(results))
        away = {  # the check's function travels, its judging stays: nothing of symconv.derivation
            i: executor.submit(check.run)  # (nor SymPy) need load on the other side
            for i, check in enumerate(self.checks)
            if check.level == "numeric" and _can_travel(check, executor)
        }
        here = {i: check() for i, check in enumerate(self.checks) if i not in away}
        results = tuple(
            self.checks[i].judge(away[i].result) if i in away else here[i]
            for i in range(len(self.checks))
        )
        return Certificate(self.title, results, self._step_reports(results))

    def _step_reports(self, results: Sequence[CheckResult]) -> tuple[StepReport, ...]:
        reports = []
        for n, step in enumerate(self.steps, 1):
            problem = self._step_problem(step)
            if problem:
                status: Literal["unchecked"] | None = (
                    "unchecked" if not step.problems() and not step.is_definition else None
                )
                reports.append(
                    StepReport(n, step.title, step.kind, status or "malformed", problem=problem)
                )
                continue
            if step.is_definition:
                reports.append(StepReport(n, step.title, step.kind, "definition"))
                continue
            mine = [results[i] for i in _resolve(step.by, self.checks)[0]]
            names = tuple(r.name for r in mine)
            ran = [r for r in mine if not r.skipped]
            level = next((lv for lv in LEVELS if any(r.level == lv for r in ran)), None)
            if any(r.failed for r in ran):
                bad = next(r for r in ran if r.failed)
                reports.append(
                    StepReport(n, step.title, step.kind, "failed", None, names, bad.name)
                )
            elif not ran:
                reports.append(StepReport(n, step.title, step.kind, "skipped", None, names))
            else:
                reports.append(StepReport(n, step.title, step.kind, "established", level, names))
        return tuple(reports)

    # -- rendering ----------------------------------------------------------------------
    def latex(self, *, standalone: bool = False) -> str:
        r"""The derivation as LaTeX that compiles as printed in the body of a plain `article`
        with `amsmath` and `amssymb`: one `align*` environment, the title and then one line
        per step (number, title, statement, the justification as escaped text).
        `standalone=True` gives a complete document.

        ```python
        >>> from symconv.arith import lecture_formula_derivation
        >>> tex = lecture_formula_derivation().latex()
        >>> tex.splitlines()[0], tex.splitlines()[-1]
        ('\\begin{align*}', '\\end{align*}')

        ```
        """
        lines = [r"\begin{align*}", rf"&\text{{\textbf{{{_tex_escape(self.title)}}}}} \\"]
        for n, s in enumerate(self.steps, 1):
            kind = r"\ (definition)" if s.is_definition else ""
            head = rf"\text{{{n}. {_tex_escape(s.title)}{kind}:}}"
            note = rf"\quad\text{{({_tex_escape(s.justification)})}}" if s.justification else ""
            end = r" \\" if n < len(self.steps) else ""
            lines.append(rf"&{head}\quad {s.latex()}{note}{end}")
        lines.append(r"\end{align*}")
        body = "\n".join(lines)
        if not standalone:
            return body
        return "\n".join(
            [
                r"\documentclass{article}",
                r"\usepackage{amsmath}",
                r"\usepackage{amssymb}",
                r"\allowdisplaybreaks",
                r"\begin{document}",
                body,
                r"\end{document}",
            ]
        )

    def markdown(self) -> str:
        """Markdown with `$$...$$` displays, one numbered step each."""
        lines = [f"### {self.title}", ""]
        for n, s in enumerate(self.steps, 1):
            kind = " *(definition)*" if s.is_definition else ""
            lines.append(f"{n}. **{s.title}.**{kind} {s.justification}".rstrip())
            if isinstance(s.statement, str) and s.latex_override is None:
                lines += ["", f"   {s.statement}", ""]  # a sentence: words, not math
            else:
                lines += ["", "$$", s.latex(), "$$", ""]
        return "\n".join(lines)

    def text(self, ascii: bool = False) -> str:
        """The derivation for a terminal: SymPy's pretty printer (Unicode, or plain ASCII with
        `ascii=True`), no LaTeX commands."""
        lines = [self.title, "=" * len(self.title)]
        for n, s in enumerate(self.steps, 1):
            kind = " (definition)" if s.is_definition else ""
            body = s.text(ascii=ascii).splitlines() or [""]
            if len(body) == 1 and len(body[0]) + len(s.title) < 90:
                lines.append(f"{n}. {s.title}{kind}: {body[0]}")
            else:
                lines.append(f"{n}. {s.title}{kind}:")
                lines += [f"   {line}".rstrip() for line in body]
            if s.justification:
                lines.append(f"   ({s.justification})")
        out = "\n".join(lines)
        return out.encode("ascii", "replace").decode() if ascii else out

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "steps": [
                {
                    "title": s.title,
                    "kind": s.kind,
                    "checks": list(s.by),
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
        """What a notebook shows: one display, a row per step. MathJax reads `\\text{...}`
        literally, so the text here is made safe for it (no braces, backslashes or dollars)
        rather than escaped for LaTeX."""
        rows = [rf"\text{{{_mathjax_text(self.title)}}}"]
        for n, s in enumerate(self.steps, 1):
            kind = " (definition)" if s.is_definition else ""
            why = rf"\quad\text{{({_mathjax_text(s.justification)})}}" if s.justification else ""
            shown = (
                rf"\text{{{_mathjax_text(s.statement)}}}"
                if isinstance(s.statement, str) and s.latex_override is None
                else s.latex()
            )
            rows.append(rf"\text{{{n}. {_mathjax_text(s.title)}{kind}:}}\quad {shown}{why}")
        return r"$\displaystyle \begin{array}{l}" + r" \\ ".join(rows) + r"\end{array}$"

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.text()


def _proof(statement: Any) -> Callable[[], Outcome]:
    """A check that every equation in `statement` simplifies to `lhs - rhs = 0`."""

    def run() -> Outcome:
        eqs = [statement] if isinstance(statement, sympy.Eq) else []
        if isinstance(statement, sympy.Basic) and not eqs:
            eqs = sorted(statement.atoms(sympy.Eq), key=sympy.default_sort_key)
        bad = [e for e in eqs if sympy.simplify(e.lhs - e.rhs) != 0]
        ok = bool(eqs) and not bad
        detail = "SymPy simplify" if ok else f"not proved: {sympy.sstr(bad or statement)}"
        return Outcome(max(len(eqs), 1), 0.0 if ok else 1.0, ok, detail)

    return run


def _can_travel(check: Check, executor: Executor) -> bool:
    """Whether `check` can run on `executor`: a thread pool takes any; another executor (a
    process) takes a check that pickles."""
    from concurrent.futures import ThreadPoolExecutor

    if isinstance(executor, ThreadPoolExecutor):
        return True
    try:
        pickle.dumps(check.run)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True
