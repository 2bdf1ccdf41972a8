r"""The identity registry behind `symconv verify`: every identity symconv states, checked at
every level it supports.

An `Identity` is a name, a one-line statement and a *derivation factory*: a function returning
the `Derivation` whose checks establish it. Which identities there are, their statements and
order, come from the one registry, `symconv.registry`: an entry verified as `default` runs
`derive(name)`, one verified as `own` the factory registered here with `@register(name)`.
`verify()` calls each factory, runs `Derivation.verify()` (the same checks a user gets from
the derivation itself) and groups the certificate's results by level (`general`, `exact`,
`numeric`; see `symconv.derivation`). A factory raises `Skip` when what it checks is not
available (torch not installed, the `numeric` kernels not written yet); the row then says so,
it is never counted as a pass.

```python
>>> from symconv.verify import REGISTRY, verify
>>> report = verify(only=["output-size"])
>>> report.passed, [(row.level, row.passed) for row in report.rows]
(True, [('general', True), ('exact', True)])

```
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import SpecError
from ._tables import same, table
from ._torchref import conv_reference
from .backprop import backprop, exact_grid, verify_exact
from .derivation import LEVELS, CheckResult, Derivation, Outcome, grid_check
from .derive import derive
from .indexform import index_form
from .poolgrad import pool_backprop
from .registry import identities
from .registry import identity as _entry
from .spec import Conv, Pool
from .toeplitz import toeplitz_numeric
from .transpose import ConvTranspose, verify_adjoint

__all__ = [
    "REGISTRY",
    "Identity",
    "LevelRow",
    "Report",
    "Skip",
    "backprop_grid_derivation",
    "command",
    "numeric_kernels_derivation",
    "toeplitz_factorization_derivation",
    "toeplitz_torch_derivation",
    "transpose_adjoint_derivation",
    "verify",
]


class Skip(Exception):
    """Raised by a derivation factory whose subject is unavailable; the message says why."""


@dataclass(frozen=True)
class Identity:
    """A registered identity: `name` (CLI id), `statement`, and its derivation factory."""

    name: str
    statement: str
    derivation: Callable[[], Derivation]


REGISTRY: dict[str, Identity] = {}


def register(name: str, statement: str | None = None) -> Callable[[Callable[[], Derivation]], Any]:
    """Decorator: add a derivation factory to `REGISTRY` under `name`; without a `statement`,
    the registry's (`symconv.registry`: `name` must be one of its identities)."""
    said = _entry(name).statement if statement is None else statement

    def add(factory: Callable[[], Derivation]) -> Callable[[], Derivation]:
        REGISTRY[name] = Identity(name, said, factory)
        return factory

    return add


def _merged(title: str, parts: Iterable[Derivation]) -> Derivation:
    """One derivation with the steps and checks of several (check names get the part's title)."""
    d = Derivation(title)
    for part in parts:
        d.extend(part, prefix=f"{part.title}: ")
    return d


def _torch() -> Any:
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is a test dependency
        raise Skip("torch is not installed (pip install 'symconv[torch]')") from err
    return torch


def _sample_grid(every: int = 3) -> list[tuple[Conv, tuple[int, ...]]]:
    return exact_grid(quick=True)[::every]


# -- identities built elsewhere ---------------------------------------------------------------
@register("backprop")
def _backprop() -> Derivation:
    spec = Conv(
        dims=2,
        in_channels=2,
        out_channels=4,
        groups=2,
        kernel_size=3,
        stride=2,
        padding=1,
        padding_mode="reflect",
    )
    return backprop(spec)


POOL_SPECS = (
    Pool(kind="max", kernel_size=3, stride=2, padding=1, ceil_mode=True),
    Pool(kind="max", kernel_size=2, stride=1, dilation=2),
    Pool(kind="avg", kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
    Pool(kind="avg", kernel_size=2, divisor_override=3),
    Pool(kind="lp", kernel_size=2, norm_type=3, ceil_mode=True),
    Pool(dims=1, kind="lp", kernel_size=3, stride=2, norm_type=1.5),
)


@register("pool-gradients")
def _pool_gradients() -> Derivation:
    _torch()
    return _merged("Pooling gradients", (pool_backprop(s, 7) for s in POOL_SPECS))


@register("equivariance")
def _equivariance() -> Derivation:
    try:
        from .equivariance import equivariance
    except ImportError as err:  # pragma: no cover - being written alongside
        raise Skip(f"symconv.equivariance is not importable: {err}") from err
    return _merged(
        "Equivariance",
        (
            equivariance(Conv(dims=1, kernel_size=3, padding=1), 7),
            equivariance(Conv(dims=2, kernel_size=3, padding=1, padding_mode="circular"), 5),
            equivariance(Conv(dims=1, kernel_size=3, stride=2), 7, shift=2),
            equivariance(Conv(dims=2, kernel_size=3, padding=1, bias=False), 5, transform="rot90"),
            equivariance(Pool(kind="max", kernel_size=2), 6),
        ),
    )


# -- identities checked here ------------------------------------------------------------------
def _factorization_error(case: tuple[Conv, tuple[int, ...]]) -> float:
    """0 when T's taps and V Pad's are the same multiset of (row, col, weight) key tuples: the
    integer coefficient of every (row, col, weight) is equal (`_tables.same`), exactly."""
    spec, size = case
    form = index_form(spec, size)
    g, v, pad = form.gather(), form.gather(padded=True), form.pad_gather()
    lookup = np.full(math.prod(pad.out_shape), -1, dtype=np.int64)
    lookup[pad.rows] = pad.cols
    cols = lookup[v.cols]
    ok = cols >= 0
    t = table(g.rows, g.cols, g.weights)
    return 0.0 if same(t, table(v.rows[ok], cols[ok], v.weights[ok])) else 1.0


def _theorem(op: str) -> Callable[[], Derivation]:
    """An identity verified as `default`: the derivation `derive(op)` builds."""

    def factory() -> Derivation:
        return derive(op)

    return factory


@register("toeplitz-factorization")
def toeplitz_factorization_derivation() -> Derivation:
    """$T = V\\,\\mathrm{Pad}$ as exact integer coefficient tables, on the verification grid."""
    d = Derivation("Toeplitz matrix: T = V Pad")
    d.add_step(
        "Factorization",
        "T = V Pad",
        "Pad copies x into the padded input; V convolves it",
        by="T = V Pad for all weights",
    )

    def grid() -> Outcome:
        cases = exact_grid(quick=True)
        n, err, ok, detail = grid_check(cases, _factorization_error)
        return Outcome(n, err, ok, detail or "coefficient of every (row, col, weight) equal")

    d.check("T = V Pad for all weights (coefficient tables), verification grid", "exact", grid)
    return d


@register("toeplitz-torch")
def toeplitz_torch_derivation() -> Derivation:
    """`toeplitz_numeric` against torch on a sample of the grid (every mode, flip, groups)."""
    _torch()  # skips the derivation without torch
    d = Derivation("Toeplitz matrix against torch")
    d.add_step(
        "Statement",
        "vec(y) = T vec(x)",
        "T from the index form, y from torch.nn.functional",
        by="T x = torch conv(x)",
    )

    def numeric() -> Outcome:
        rng = np.random.default_rng(0)
        cases = [
            *_sample_grid(),
            (
                Conv(
                    dims=3,
                    in_channels=2,
                    out_channels=2,
                    kernel_size=2,
                    padding=1,
                    padding_mode="circular",
                ),
                (3, 3, 3),
            ),
        ]
        worst, where = 0.0, ""
        for spec, size in cases:
            x = rng.standard_normal((1, spec.in_channels, *size))
            w = rng.standard_normal(spec.weight_shape)
            ours = toeplitz_numeric(spec, size, w) @ x.reshape(-1)
            theirs = conv_reference(spec, x, w).numpy().reshape(-1)
            err = float(np.max(np.abs(ours - theirs), initial=0.0))
            if err > worst:
                worst, where = err, f"worst {spec} on {size}"
        return Outcome(len(cases), worst, worst < 1e-10, where)

    d.check("T x = torch conv(x), float64, |error| < 1e-10", "numeric", numeric)
    return d


def _transpose_cases() -> list[tuple[Any, int]]:
    cases = []
    for dims, k, s, p, dil, g, i in itertools.product(
        (1, 2), (1, 2, 3), (1, 2, 3), (0, 1), (1, 2), (1, 2), (2, 3)
    ):
        for op in range(max(s, dil)):
            try:
                spec = ConvTranspose(
                    dims=dims,
                    in_channels=2 * g,
                    out_channels=g,
                    kernel_size=k,
                    stride=s,
                    padding=p,
                    output_padding=op,
                    dilation=dil,
                    groups=g,
                )
                spec.output_size(i)
            except SpecError:
                continue
            cases.append((spec, i))
    return cases


@register("transpose-adjoint")
def transpose_adjoint_derivation() -> Derivation:
    """`transpose.verify_adjoint` (exact, symbolic weights) on a grid of transposed convs."""
    d = Derivation("Transposed convolution = T^T")
    d.add_step(
        "Statement",
        "toeplitz(ConvTranspose) = toeplitz(spec.adjoint())^T",
        "entry by entry",
        by="T^T entry by entry",
    )

    def grid() -> Outcome:
        return grid_check(_transpose_cases(), lambda c: 0.0 if verify_adjoint(*c) else 1.0)

    d.check("T^T entry by entry, symbolic weights, dims 1-2", "exact", grid)
    return d


@register("backprop-grid")
def backprop_grid_derivation() -> Derivation:
    """`backprop.verify_exact` on every spec of `backprop.exact_grid()` (the exact-level grid)."""
    d = Derivation("Backpropagation on the verification grid")
    d.add_step(
        "Statement",
        "T^T delta = dL/dx, X^T delta = dL/dw",
        "for all weights and deltas",
        by="derived gradient operators",
    )

    def grid() -> Outcome:
        return grid_check(exact_grid(), lambda c: 0.0 if all(verify_exact(*c)) else 1.0)

    d.check("derived gradient operators, every spec of the grid", "exact", grid)
    return d


_NUMERIC_NAMES = ("conv1d", "conv2d", "conv3d")


@register("numeric-kernels")
def numeric_kernels_derivation() -> Derivation:
    """The generated kernels of the `numeric` package against the Toeplitz matrix.

    Raises `Skip` until `numeric` exports `conv1d`/`conv2d`/`conv3d`.
    """
    try:
        import numeric
    except ImportError as err:
        raise Skip(f"the numeric package is not importable: {err}") from err
    missing = [n for n in _NUMERIC_NAMES if not callable(getattr(numeric, n, None))]
    if missing:
        raise Skip(f"numeric has no {', '.join(missing)} yet")
    d = Derivation("Generated numeric kernels against the Toeplitz matrix")
    d.add_step(
        "Statement",
        "numeric.convNd(x, w, b, ...) = T x + b",
        "NumPy arrays, float64",
        by="numeric.convNd = T x + b",
    )

    def numeric_check() -> Outcome:
        rng = np.random.default_rng(1)
        worst, where, n = 0.0, "", 0
        for spec, size in _sample_grid(every=4):
            if any(lo != hi for lo, hi in spec.pads) or spec.flip:
                continue  # torch-style signature: symmetric padding, cross-correlation
            x = rng.standard_normal((2, spec.in_channels, *size))
            w = rng.standard_normal(spec.weight_shape)
            b = rng.standard_normal(spec.out_channels)
            fn = getattr(numeric, f"conv{spec.dims}d")
            y = np.asarray(
                fn(
                    x,
                    w,
                    b,
                    stride=spec.stride,
                    padding=tuple(lo for lo, _ in spec.pads),
                    dilation=spec.dilation,
                    groups=spec.groups,
                    padding_mode=spec.padding_mode,
                )
            )
            T = toeplitz_numeric(spec, size, w)
            ref = (T @ x.reshape(2, -1).T).T.reshape(y.shape) + b.reshape(
                (1, -1) + (1,) * spec.dims
            )
            err = float(np.max(np.abs(y - ref), initial=0.0))
            n += 1
            if err > worst:
                worst, where = err, f"worst {spec} on {size}"
        return Outcome(n, worst, worst < 1e-9, where)

    d.check("numeric.convNd = T x + b, float64", "numeric", numeric_check)
    return d


def _in_registry_order() -> None:
    """`REGISTRY` as the registry lists the identities: `own` ones as registered above,
    `default` ones as `derive(name)`; an identity registered here but not there, or the
    reverse, is an error at import."""
    own = dict(REGISTRY)
    REGISTRY.clear()
    for e in identities():
        name = e.identity_name
        if e.verify == "own" and name not in own:
            raise RuntimeError(f"symconv.verify: the registry's identity {name!r} has no factory")
        factory = own.pop(name).derivation if e.verify == "own" else _theorem(e.name)
        REGISTRY[name] = Identity(name, e.statement, factory)
    if own:
        raise RuntimeError(f"symconv.verify: {sorted(own)} registered but not in symconv.registry")


_in_registry_order()


# -- running ----------------------------------------------------------------------------------
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


# -- the `symconv verify` subcommand --------------------------------------------------------------
class _Progress:
    """A tqdm bar on stderr (only where stderr is a terminal); `write` prints a table line
    above it."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="verify", unit="identity", leave=False)

    def __call__(self, done: int, total: int, name: str) -> None:
        if self.bar is not None:
            self.bar.n = done
            self.bar.set_postfix_str(name, refresh=True)

    def write(self, line: str) -> None:
        import sys

        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def command(args: Any) -> int:
    """`symconv verify [--only NAME]... [--list] [--json] [--jobs N] [--quiet]`: exit 0 when
    every identity passes. The table streams: each identity's rows print as they complete.
    Without `--jobs`, `_auto_jobs` picks the number of worker processes."""
    import sys

    if args.list:
        if args.json:
            print(json.dumps({n: i.statement for n, i in REGISTRY.items()}, indent=2))
        else:
            width = max(map(len, REGISTRY))
            for n, i in REGISTRY.items():
                print(f"{n.ljust(width)}  {i.statement}")
        return 0
    names = list(REGISTRY) if not args.only else list(dict.fromkeys(args.only))
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        verify(names)  # raises the SpecError naming them
    _one_thread()  # the whole process: torch, imported by the first check using it, on 1 thread
    bar = _Progress(len(names), sys.stderr.isatty() and not getattr(args, "quiet", False))
    table = _Table(names)
    on_rows = None
    if not args.json:
        for line in table.head():
            bar.write(line)

        def on_rows(rows: list[LevelRow]) -> None:
            for line in table.lines(rows):
                bar.write(line)

    try:
        jobs = getattr(args, "jobs", None) or _auto_jobs(len(names))
        report = verify(names, bar, jobs=jobs, on_rows=on_rows)
    finally:
        bar.close()
    if args.json:
        print(report.json())
    else:
        for line in table.foot(report):
            print(line)
    return 0 if report.passed else 1
