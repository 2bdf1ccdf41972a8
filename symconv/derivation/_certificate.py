"""Checks and what they establish: a named `Check` runs to a `CheckResult` (or is skipped,
never counted as passed), a `StepReport` says what one displayed step reached, and a
`Certificate` gathers them with the level reached."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .._results import Outcome
from ._step import StepKind

Level = Literal["general", "exact", "numeric"]
LEVELS: tuple[Level, ...] = ("general", "exact", "numeric")
# a check that needs one of these and finds it missing is skipped, with a one-line note
OPTIONAL_DEPENDENCIES = ("torch", "scipy")
# What `Derivation.check` takes: a function of no arguments returning an `Outcome`
_OutcomeRun = Callable[[], Outcome]


class SkipCheck(Exception):
    """Raised by a check that cannot run here (an optional dependency missing, a layer with no
    counterpart to compare with); the message is the reason the certificate shows."""


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
        return self.judge(self.run)

    def judge(self, run: _OutcomeRun) -> CheckResult:
        """The result of this check from `run` (its own `run`, or what fetches its outcome
        from another process): skipped, failed or passed as the class docstring says."""
        try:
            result = run()
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
