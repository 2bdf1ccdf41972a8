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
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm

from .._results import Outcome

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
    "latex",
]

Level = Literal["general", "exact", "numeric"]
LEVELS: tuple[Level, ...] = ("general", "exact", "numeric")
# a check that needs one of these and finds it missing is skipped, with a one-line note
OPTIONAL_DEPENDENCIES = ("torch", "scipy")
# What `Derivation.check` takes: a function of no arguments returning an `Outcome`
_OutcomeRun = Callable[[], Outcome]


class SkipCheck(Exception):
    """Raised by a check that cannot run here (an optional dependency missing, a layer with no
    counterpart to compare with); the message is the reason the certificate shows."""


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


_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?'*")


class _PrettyPrinter(PrettyPrinter):
    """SymPy's pretty printer with the Kronecker delta as an Iverson bracket `[i = j]`."""

    def _print_Symbol(self, expr: Any, bold_name: bool = False) -> Any:
        if _IDENTIFIER.fullmatch(expr.name):  # x, x_1, C_in: sub- and superscripts as usual
            return super()._print_Symbol(expr, bold_name)
        return prettyForm(expr.name)  # a phrase or formula as a name: verbatim

    def _print_KroneckerDelta(self, expr: Any) -> Any:
        inner = self._print(sympy.Eq(*expr.args, evaluate=False))
        return prettyForm(*inner.parens("[", "]"))


def pretty(expr: Any, ascii: bool = False) -> str:
    """`expr` for a terminal: SymPy's pretty printer (Unicode, or ASCII), symbols whose names
    are LaTeX renamed to plain text, Kronecker deltas as Iverson brackets."""
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    previous = pretty_use_unicode(not ascii)
    try:
        return _PrettyPrinter({"use_unicode": not ascii, "wrap_line": False}).doprint(_plain(expr))
    finally:
        pretty_use_unicode(previous)


StepKind = Literal["definition", "claim"]


@dataclass(frozen=True)
class Step:
    """One step of a derivation: a *definition* (states what a symbol means; nothing to check)
    or a *claim*, established by the derivation's checks named in `by` (a name, or the start
    of one). `keeps` lists conditions (SymPy booleans) the statement must still state, e.g.
    that a tap index is an integer: a Piecewise that dropped one fails the step's check."""

    title: str
    statement: Any
    justification: str = ""
    latex_override: str | None = None
    kind: StepKind = "claim"
    by: tuple[str, ...] = ()
    keeps: tuple[Any, ...] = ()

    @property
    def is_definition(self) -> bool:
        return self.kind == "definition"

    def latex(self) -> str:
        if self.latex_override is not None:
            return self.latex_override
        if isinstance(self.statement, str):
            return r"\text{" + _tex_escape(self.statement) + "}"
        return latex(self.statement)

    def text(self, ascii: bool = False) -> str:
        """The statement for a terminal: SymPy's pretty printer (Unicode, or ASCII)."""
        if isinstance(self.statement, str):
            return self.statement
        return pretty(self.statement, ascii=ascii)

    def problems(self) -> list[str]:
        """What is wrong with the statement itself, whatever the checks say: a bare boolean,
        an equation whose two sides are the same expression, a condition it lost."""
        found: list[str] = []
        stmt = self.statement
        if isinstance(stmt, bool) or isinstance(stmt, sympy.logic.boolalg.BooleanAtom):
            return [f"the statement is the bare boolean {stmt}"]
        if not isinstance(stmt, sympy.Basic):
            return found
        if _bare_boolean(stmt):
            found.append("a part of the statement is a bare boolean (True or False)")
        for rel in stmt.atoms(sympy.Eq):
            if rel.lhs == rel.rhs:
                found.append(f"{sympy.sstr(rel)} restates its left side")
        conditions = [c for pw in stmt.atoms(sympy.Piecewise) for _, c in pw.args]
        for cond in self.keeps:
            if not any(c == cond or c.has(cond) for c in conditions):
                found.append(f"the condition {sympy.sstr(cond)} was lost")
        return found


def _bare_boolean(node: Any) -> bool:
    """Whether a part of `node` is `True` or `False`, except a Piecewise's "otherwise"."""
    if isinstance(node, sympy.logic.boolalg.BooleanAtom):
        return True
    if isinstance(node, sympy.Piecewise):
        return any(
            _bare_boolean(expr) or (cond is not sympy.true and _bare_boolean(cond))
            for expr, cond in node.args
        )
    return isinstance(node, sympy.Basic) and any(_bare_boolean(a) for a in node.args)


def _plain(expr: Any) -> Any:
    r"""`expr` with symbols whose names are LaTeX (`C_{\mathrm{in}}`, `\tilde{x}`) renamed to
    plain names, so that text output carries no LaTeX commands."""
    if not isinstance(expr, sympy.Basic):
        return expr
    renames: dict[Any, Any] = {}
    for atom in expr.atoms(sympy.Symbol, sympy.IndexedBase):
        name = str(atom.label if isinstance(atom, sympy.IndexedBase) else atom.name)
        plain = _plain_name(name)
        if plain != name:
            renames[atom] = (
                sympy.IndexedBase(plain)
                if isinstance(atom, sympy.IndexedBase)
                else sympy.Symbol(plain, **atom.assumptions0)
            )
    return expr.xreplace(renames) if renames else expr


_TEX_WORDS = {
    "mathrm": "",
    "operatorname": "",
    "text": "",
    "textbf": "",
    "mathbb": "",
    "mathcal": "",
    "frac": "",
    "left": "",
    "right": "",
    "Big": "",
    "big": "",
    "quad": " ",
    "qquad": " ",
    "partial": "d",
    "top": "T",
    "in": " in ",
    "times": " x ",
    "cdot": " * ",
    "odot": " (.) ",
    "otimes": " (x) ",
    "circledast": "(*)",
    "forall": "for all ",
    "iff": " <=> ",
    "Leftarrow": " <= ",
    "Rightarrow": " => ",
    "setminus": " minus ",
    "le": " <= ",
    "leq": " <= ",
    "ge": " >= ",
    "geq": " >= ",
    "ne": " != ",
    "neq": " != ",
    "infty": "oo",
}


def _plain_name(name: str) -> str:
    r"""A symbol name without LaTeX: `\tilde{x}` -> `x~`, `C_{\mathrm{in}}` -> `C_in`,
    `\frac{a}{b}` -> `a/b`, other commands by their names (`\delta` -> `delta`), braces
    removed."""
    if "\\" not in name and "{" not in name:
        return name
    out = _unfrac(name)
    out = re.sub(r"\\(tilde|hat|bar|overline)\{([^{}]*)\}", lambda m: m[2] + _ACCENT[m[1]], out)
    out = re.sub(r"\\(tilde|hat|bar) ?([A-Za-z])", lambda m: m[2] + _ACCENT[m[1]], out)
    out = re.sub(r"\\[,;: !]", " ", out)
    out = re.sub(r"\\partial ?", "d", out)
    out = re.sub(r"\\([A-Za-z]+)", lambda m: _TEX_WORDS.get(m[1], m[1]), out)
    out = re.sub(r"\\([^A-Za-z])", r"\1", out)  # \_ \{ \%: the character
    # a script of several symbols keeps its extent: x_{q + mN} -> x_(q + mN)
    script = re.compile(r"([_^])\{([^{}]*)\}")  # innermost first, then the ones around
    while script.search(out):
        out = script.sub(
            lambda m: m[1] + (m[2] if re.fullmatch(r"[\w']*", m[2]) else f"({m[2]})"), out
        )
    out = out.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", out).strip()


def _unfrac(text: str) -> str:
    r"""`\frac{a}{b}` -> `a/b` (nested braces allowed)."""
    while (start := text.find(r"\frac{")) >= 0:
        parts, pos = [], start + len(r"\frac")
        for _ in range(2):
            depth, end = 0, pos
            for end in range(pos, len(text)):
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                if depth == 0:
                    break
            parts.append(text[pos + 1 : end])
            pos = end + 1
        text = text[:start] + f"{parts[0]}/{parts[1]}" + text[pos:]
    return text


_ACCENT: dict[str, str] = {"tilde": "~", "hat": "^", "bar": "_bar", "overline": "_bar"}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: what was checked, at which level, on how many cases.

    A check that did not run (`skipped` holds the reason) is neither passed nor failed:
    `passed` is False and `failed` is False.
    """

    name: str
    level: Level
    cases: int
    max_error: float
    passed: bool
    detail: str = ""
    skipped: str = ""

    @property
    def failed(self) -> bool:
        return not self.skipped and not self.passed

    @property
    def status(self) -> Literal["ok", "skip", "FAIL"]:
        return "skip" if self.skipped else ("ok" if self.passed else "FAIL")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "level": self.level,
            "status": self.status,
            "cases": self.cases,
            "max_error": self.max_error,
            "passed": self.passed,
            "detail": self.detail,
            "skipped": self.skipped or None,
        }


def _missing_optional(err: ImportError) -> str | None:
    """The optional dependency whose absence raised `err`, or None (a real import error)."""
    root = (getattr(err, "name", None) or "").split(".")[0]
    return root if root in OPTIONAL_DEPENDENCIES else None


@dataclass(frozen=True)
class Check:
    """A named check: `run()` returns an `Outcome(cases, max_error, passed, detail)`; anything
    else is a `TypeError` naming the check.

    It is *skipped* (never counted as passed) when it raises `SkipCheck`, when an optional
    dependency (torch, scipy) it imports is missing, or when it examined no case at all.
    """

    name: str
    level: Level
    run: _OutcomeRun

    def __call__(self) -> CheckResult:
        try:
            result = self.run()
        except SkipCheck as why:
            return CheckResult(self.name, self.level, 0, 0.0, False, "", str(why))
        except ImportError as error:
            missing = _missing_optional(error)
            if missing is None:
                raise
            reason = f"{missing} not installed (pip install {missing}): not checked"
            return CheckResult(self.name, self.level, 0, 0.0, False, "", reason)
        if not isinstance(result, Outcome):
            raise TypeError(
                f"check {self.name!r} returned {type(result).__name__}, not an Outcome(cases, "
                "max_error, passed, detail) (symconv.derivation.Outcome)"
            )
        cases, err, ok, detail = result
        if cases == 0:  # nothing examined: the check did not run, whatever it returned
            reason = detail or "no case to check"
            return CheckResult(self.name, self.level, 0, 0.0, False, "", reason)
        return CheckResult(self.name, self.level, cases, float(err), bool(ok), detail)


@dataclass(frozen=True)
class StepReport:
    """What the certificate says of one displayed step.

    `status`: `definition`; `established` (every check named ran and passed, `level` the
    highest of theirs); `skipped` (its checks did not run); `failed` (a check failed);
    `unchecked` (a claim naming no check, or a name no check has); `malformed` (the statement
    itself is wrong: see `Step.problems`).
    """

    number: int
    title: str
    kind: StepKind
    status: Literal["definition", "established", "skipped", "failed", "unchecked", "malformed"]
    level: Level | None = None
    checks: tuple[str, ...] = ()
    problem: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "unchecked", "malformed")

    def text(self) -> str:
        what = self.status if self.level is None else f"{self.status} ({self.level})"
        extra = f": {self.problem}" if self.problem else ""
        return f"{self.number}. {self.title}: {what}{extra}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "kind": self.kind,
            "status": self.status,
            "level": self.level,
            "checks": list(self.checks),
            "problem": self.problem or None,
        }


@dataclass(frozen=True)
class Certificate:
    """What `Derivation.verify()` established: every check's result, and per displayed step
    what was established at which level."""

    title: str
    results: tuple[CheckResult, ...]
    steps: tuple[StepReport, ...] = ()

    @property
    def failed(self) -> bool:
        """Some check ran and failed, or a displayed step is unchecked or malformed."""
        return any(r.failed for r in self.results) or any(s.failed for s in self.steps)

    @property
    def skipped(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.skipped)

    @property
    def passed(self) -> bool:
        """Nothing failed and at least one check ran (skipped checks neither pass nor fail)."""
        return not self.failed and any(not r.skipped for r in self.results)

    @property
    def level(self) -> Level | None:
        """The highest level whose checks all ran and passed (`general` > `exact` >
        `numeric`); None when no level qualifies."""
        for level in LEVELS:
            mine = [r for r in self.results if r.level == level]
            if mine and all(r.passed and not r.skipped for r in mine):
                return level
        return None

    def __bool__(self) -> bool:
        return self.passed

    def summary(self) -> str:
        """One line: "verified (level L)", "not checked" when no check ran, or which checks
        FAILED, at which level, and which levels passed in full (a failing float32 check after
        passing exact ones says so); failing steps (unchecked or malformed) are counted too."""
        if self.passed:
            return f"verified (level {self.level})"
        if not self.failed:
            return f"not checked (level {self.level})"
        failed = [r for r in self.results if r.failed]
        steps = [s for s in self.steps if s.failed]
        levels = [lv for lv in LEVELS if any(r.level == lv for r in failed)]
        held = [
            lv
            for lv in LEVELS
            if lv not in levels and any(r.level == lv and not r.skipped for r in self.results)
        ]
        parts = []
        if failed:
            names = "; ".join(f"{r.name}: max discrepancy {r.max_error:.3g}" for r in failed)
            parts.append(f"{len(failed)} {'/'.join(levels)} check(s) ({names})")
        if steps:
            parts.append(f"{len(steps)} displayed step(s) not established")
        text = "FAILED: " + ", ".join(parts)
        if held and failed:
            text += f"; every {'/'.join(held)} check passed"
        return text

    def text(self) -> str:
        lines = [f"{self.title}: {self.summary()}"]
        for r in self.results:
            mark = f"{r.status:<4}"
            if r.skipped:
                lines.append(f"  [{mark}] {r.level:<8} {r.name} - skipped: {r.skipped}")
                continue
            lines.append(
                f"  [{mark}] {r.level:<8} {r.name} - {r.cases} case(s), "
                f"max discrepancy {r.max_error:.3g}{' - ' + r.detail if r.detail else ''}"
            )
        if self.steps:
            lines.append("  steps:")
            lines += [f"    {s.text()}" for s in self.steps]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "passed": self.passed,
            "failed": self.failed,
            "level": self.level,
            "checks": [r.as_dict() for r in self.results],
            "steps": [s.as_dict() for s in self.steps],
        }

    def __str__(self) -> str:
        return self.text()


class Steps(list[Step]):
    """The steps of a derivation: `steps[i]` by position, `steps["title"]` by title."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for step in self:
                if step.title == key:
                    return step
            raise KeyError(f"no step titled {key!r}; titles: {[s.title for s in self]}")
        return super().__getitem__(key)


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

    def verify(self) -> Certificate:
        """Run every attached check; the certificate says what passed at which level, and per
        step what was established."""
        results = tuple(check() for check in self.checks)
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


_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "_": r"\_",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
# characters outside ASCII that the text may hold, as math (pdflatex's default input)
_TEXT_MATH = {
    "×": r"\times",
    "≥": r"\geq",
    "≤": r"\leq",
    "≠": r"\neq",
    "→": r"\to",
    "∞": r"\infty",
    "·": r"\cdot",
    "−": "-",
    "⊛": r"\circledast",
    "α": r"\alpha",
    "δ": r"\delta",
    "λ": r"\lambda",
    "π": r"\pi",
    "ω": r"\omega",
    "σ": r"\sigma",
    "τ": r"\tau",
}


def _mathjax_text(text: str) -> str:
    """`text` for MathJax's `\\text{...}`, which shows its content literally: only the
    characters that would end or escape it are replaced."""
    return text.translate(str.maketrans("{}\\$", "()/S"))


def _tex_escape(text: str) -> str:
    r"""`text` for LaTeX's text mode: every special character escaped (`^` as
    `\textasciicircum{}`, `<` as `\textless{}`, ...), non-ASCII symbols as math, and any other
    non-ASCII character as `?` (pdflatex cannot typeset it without packages)."""
    out = []
    for ch in text:
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ch in _TEXT_MATH:
            out.append(rf"\ensuremath{{{_TEXT_MATH[ch]}}}")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


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
