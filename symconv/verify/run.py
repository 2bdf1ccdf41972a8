"""Running the identities of `symconv.verify.REGISTRY`: `verify()` (one process or worker
processes), its `Report` of `LevelRow`s per identity and level, and the text `_Table` the
`symconv verify` command streams.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import SpecError
from ..derivation import LEVELS, CheckResult
from .identities import REGISTRY, Identity, Skip


@dataclass(frozen=True)
class LevelRow:
    """One line of the table: one identity at one level (or a skipped identity, level None).

    `skipped` is the reason when nothing of the row ran; `checks` may still hold skipped
    checks beside those that ran (counted in the table's `skipped` column).
    """

    identity: str
    level: str | None
    cases: int
    max_error: float
    passed: bool
    checks: tuple[CheckResult, ...] = ()
    skipped: str = ""
    seconds: float = 0.0

    @property
    def skipped_checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.skipped)

    @property
    def failed(self) -> bool:
        return not self.skipped and not self.passed

    @property
    def status(self) -> str:
        return "skip" if self.skipped else ("pass" if self.passed else "FAIL")

    def as_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "statement": REGISTRY[self.identity].statement if self.identity in REGISTRY else "",
            "level": self.level,
            "cases": self.cases,
            "max_error": self.max_error,
            "status": self.status,
            "skipped": self.skipped or None,
            "skipped_checks": len(self.skipped_checks),
            "checks": [c.as_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class Report:
    """What `verify()` found: rows per (identity, level), and the wall time."""

    rows: tuple[LevelRow, ...]
    seconds: float = 0.0
    names: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """Nothing failed (skipped rows and checks neither pass nor fail)."""
        return not any(r.failed for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "seconds": round(self.seconds, 2),
            "rows": [r.as_dict() for r in self.rows],
        }

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def text(self) -> str:
        table = _Table(self.names or tuple(dict.fromkeys(r.identity for r in self.rows)))
        return "\n".join([*table.head(), *table.lines(self.rows), *table.foot(self)])


class _Table:
    """The text table, laid out before any row is known, so rows can be printed as they come:
    `head()`, `lines(rows)` per identity, `foot(report)`; `Report.text()` is their join.
    Skipped checks have a column of their own (a check that did not run never reads as ok)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.widths = (max([len("identity"), *map(len, names)]), 7, 7, 15, 7)

    def _line(self, row: Sequence[str]) -> str:
        w = self.widths
        cells = [
            row[0].ljust(w[0]),
            row[1].ljust(w[1]),
            row[2].rjust(w[2]),
            row[3].rjust(w[3]),
            row[4].rjust(w[4]),
        ]
        return "  ".join([*cells, row[5]]).rstrip()

    def head(self) -> list[str]:
        return [
            self._line(("identity", "level", "cases", "max discrepancy", "skipped", "result")),
            self._line(["-" * w for w in self.widths] + ["------"]),
        ]

    def lines(self, rows: Sequence[LevelRow]) -> list[str]:
        return [
            self._line(
                (
                    r.identity,
                    r.level or "-",
                    str(r.cases) if not r.skipped else "-",
                    f"{r.max_error:.3g}" if not r.skipped else "-",
                    str(len(r.skipped_checks)) if not r.skipped else "all",
                    r.status,
                )
            )
            for r in rows
        ]

    def foot(self, report: Report) -> list[str]:
        ran = [r for r in report.rows if not r.skipped]
        failed = [r for r in ran if r.failed]
        skipped = len(report.rows) - len(ran)
        skipped_checks = sum(len(r.skipped_checks) for r in ran)
        notes = dict.fromkeys(
            [f"skip {r.identity}: {r.skipped}" for r in report.rows if r.skipped]
            + [
                f"skip {r.identity} [{r.level}] {c.name}: {c.skipped}"
                for r in ran
                for c in r.skipped_checks
            ]
        )
        lines = list(notes)
        for r in failed:
            for c in r.checks:
                if c.failed:
                    lines.append(f"FAIL {r.identity} [{r.level}] {c.name}: {c.detail}")
        names = report.names or tuple(dict.fromkeys(r.identity for r in report.rows))
        summary = (
            f"{len(names)} identities, {len(ran)} level checks: "
            + ("all passed" if not failed else f"{len(failed)} FAILED")
            + (f", {skipped} skipped" if skipped else "")
            + (f", {skipped_checks} check(s) skipped" if skipped_checks else "")
            + f" ({report.seconds:.1f} s)"
        )
        return [*lines, summary]


def _rows(identity: Identity) -> list[LevelRow]:
    start = time.perf_counter()
    try:
        cert = identity.derivation().verify()
    except Skip as why:
        return [LevelRow(identity.name, None, 0, 0.0, True, skipped=str(why))]
    elapsed = time.perf_counter() - start
    rows = []
    for level in LEVELS:
        mine = tuple(r for r in cert.results if r.level == level)
        ran = [r for r in mine if not r.skipped]
        if mine:
            rows.append(
                LevelRow(
                    identity.name,
                    level,
                    sum(r.cases for r in ran),
                    max((r.max_error for r in ran), default=0.0),
                    bool(ran) and not any(r.failed for r in ran),
                    mine,
                    skipped="" if ran else "; ".join(dict.fromkeys(r.skipped for r in mine)),
                    seconds=elapsed,
                )
            )
    return rows


def _one_thread() -> None:
    """Worker set-up: torch (imported later, by the checks) on one thread per worker; the
    workers already share the cores, and tiny convolutions on a spinning pool only wait."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")


class _TorchThreads:
    """torch on one thread while the checks run in this process (`jobs=1`), restored after.

    The checks' convolutions are tiny: a pool of threads only spins (on 2 cores, CPU time of
    the torch-based identities doubles to triples). `pin()` is called before each identity, so
    a torch imported by an earlier identity is pinned from the next one on; torch imported
    before `verify()` is pinned from the start."""

    def __init__(self) -> None:
        self.saved: int | None = None

    def pin(self) -> None:
        import sys

        torch = sys.modules.get("torch")
        if self.saved is None and torch is not None and hasattr(torch, "set_num_threads"):
            self.saved = int(torch.get_num_threads())
            torch.set_num_threads(1)

    def restore(self) -> None:
        import sys

        torch = sys.modules.get("torch")
        if self.saved is not None and torch is not None:
            torch.set_num_threads(self.saved)
        self.saved = None


# Identities by decreasing time, the slow ones (a schedule only: any order gives the same report)
_SLOW = (
    "backprop-grid",
    "backprop",
    "equivariance",
    "toeplitz-factorization",
    "local-backprop",
    "commutativity",
    "depthwise-separable",
    "local-params",
    "grouped-conv",
    "separable",
    "residual",
    "transpose-adjoint",
    "toeplitz-torch",
    "pool-gradients",
)


def _context() -> Any:
    """The workers' start method: a fork of this process where that is safe (no torch imported
    yet, one thread: the workers then share the modules imported already, SymPy's included),
    else fresh workers (forkserver, which preloads this module once): a fork of a process
    whose OpenMP pool is running (torch used before) can hang in the child."""
    import multiprocessing
    import sys
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and "torch" not in sys.modules and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context(None)


def _auto_jobs(count: int) -> int:
    """`symconv verify`'s default `--jobs` for `count` identities: one worker per available
    CPU (at most 4), one process for fewer than 4 identities (workers would cost more than
    they save)."""
    import os

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4)) if count >= 4 else 1


# Identities one worker runs one after the other: those that share cached results (backprop's
# quick grid is part of backprop-grid's), and those whose checks import torch (about 1 s of
# CPU per process: imported once, by one worker, while the others run the rest)
_TOGETHER = (
    ("backprop", "backprop-grid"),
    (
        "pool-gradients",
        "equivariance",
        "residual",
        "depthwise-separable",
        "grouped-conv",
        "toeplitz-torch",
    ),
)


def _tasks(names: Sequence[str]) -> list[tuple[str, ...]]:
    """`names` as worker tasks: identities of one `_TOGETHER` group in one task, the slowest
    tasks first (the last to start is a short one: less idle workers at the end)."""
    tasks: list[tuple[str, ...]] = []
    placed: set[str] = set()
    for name in names:
        if name in placed:
            continue
        group = next((g for g in _TOGETHER if name in g), (name,))
        task = tuple(n for n in group if n in names)
        placed.update(task)
        tasks.append(task)

    def rank(task: tuple[str, ...]) -> int:
        return min(_SLOW.index(n) if n in _SLOW else len(_SLOW) for n in task)

    return sorted(tasks, key=rank)


def _rows_of_all(names: tuple[str, ...]) -> list[list[LevelRow]]:
    """`_rows` of each name, in one worker process (what a worker receives)."""
    return [_rows(REGISTRY[n]) for n in names]


def verify(
    only: Sequence[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    *,
    jobs: int = 1,
    on_rows: Callable[[list[LevelRow]], None] | None = None,
) -> Report:
    """Run every registered identity (or those named in `only`) at every level it supports.

    `progress(done, total, name)` is called as each identity starts (one job) or completes
    (several), and once at the end. `on_rows(rows)` receives each identity's rows as soon as
    they and every identity before it are done, in registry order: the table streams.
    `jobs > 1` runs the identities in that many worker processes (`concurrent.futures`); the
    report is the same. Raises `SpecError` for an unknown name or a `jobs` below 1.
    """
    names = list(REGISTRY) if not only else list(dict.fromkeys(only))
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise SpecError(
            f"verify: unknown identity {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(REGISTRY)}"
        )
    if type(jobs) is not int or jobs < 1:
        raise SpecError(f"verify: jobs must be an integer >= 1, got {jobs!r}")
    start = time.perf_counter()
    done: dict[str, list[LevelRow]] = {}
    emitted = 0

    def finish(name: str, rows: list[LevelRow]) -> None:
        nonlocal emitted
        done[name] = rows
        while emitted < len(names) and names[emitted] in done:
            if on_rows is not None:
                on_rows(done[names[emitted]])
            emitted += 1

    if jobs == 1 or len(names) < 2:
        threads = _TorchThreads()
        try:
            for i, name in enumerate(names):
                if progress is not None:
                    progress(i, len(names), name)
                threads.pin()
                finish(name, _rows(REGISTRY[name]))
        finally:
            threads.restore()
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(
            max_workers=min(jobs, len(names)), mp_context=_context(), initializer=_one_thread
        ) as pool:
            futures = {pool.submit(_rows_of_all, task): task for task in _tasks(names)}
            completed = 0
            for future in as_completed(futures):
                for name, rows in zip(futures[future], future.result(), strict=True):
                    finish(name, rows)
                    completed += 1
                    if progress is not None:
                        progress(completed, len(names), name)
    if progress is not None:
        progress(len(names), len(names), "")
    rows = [row for name in names for row in done[name]]
    return Report(tuple(rows), time.perf_counter() - start, tuple(names))
