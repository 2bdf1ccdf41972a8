"""`symconv verify`: the registry reads the derivations' own checks; table, --json, --only,
exit codes, skips, and a failing check turns the exit status to 1."""

from __future__ import annotations

import json

import pytest

from symconv.cli import main
from symconv.derivation import Derivation, Outcome
from symconv.verify import REGISTRY, Identity, Skip, verify

QUICK = ["output-size", "activation-step", "toeplitz-torch"]


def test_registry_names_the_identities() -> None:
    expected = {
        "output-size",
        "activation-step",
        "backprop",
        "backprop-grid",
        "pool-gradients",
        "equivariance",
        "toeplitz-factorization",
        "toeplitz-torch",
        "transpose-adjoint",
        "numeric-kernels",
    }
    assert expected <= set(REGISTRY)
    assert all(i.statement and callable(i.derivation) for i in REGISTRY.values())


def test_registry_reads_the_derivations_checks() -> None:
    """The rows are the derivation's own Certificate, grouped by level."""
    d = REGISTRY["output-size"].derivation()
    cert = d.verify()
    report = verify(only=["output-size"])
    levels = [
        lv for lv in ("general", "exact", "numeric") if any(c.level == lv for c in cert.results)
    ]
    by_level = [(lv, sum(c.cases for c in cert.results if c.level == lv)) for lv in levels]
    assert [(r.level, r.cases) for r in report.rows] == by_level
    assert sorted(c.name for r in report.rows for c in r.checks) == sorted(c.name for c in d.checks)


def test_cli_table_and_exit_status(capsys) -> None:
    code = main(["verify", *(a for n in QUICK for a in ("--only", n))])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split() == [
        "identity",
        "level",
        "cases",
        "max",
        "discrepancy",
        "skipped",
        "result",
    ]
    assert "toeplitz-torch" in out and "numeric" in out and "all passed" in out


def test_cli_json(capsys) -> None:
    assert main(["verify", "--only", "output-size", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is True
    assert {r["level"] for r in data["rows"]} == {"general", "exact"}
    assert all(r["status"] == "pass" and r["checks"] for r in data["rows"])


def test_cli_list_and_unknown_name(capsys) -> None:
    assert main(["verify", "--list"]) == 0
    assert "backprop-grid" in capsys.readouterr().out
    assert main(["verify", "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown identity 'nope'" in err and "output-size" in err and len(err.splitlines()) == 1


@pytest.fixture
def extra_identities():
    added = []

    def add(name, factory):
        REGISTRY[name] = Identity(name, "test only", factory)
        added.append(name)

    yield add
    for name in added:
        del REGISTRY[name]


def test_failure_and_skip(extra_identities, capsys) -> None:
    def broken() -> Derivation:
        d = Derivation("broken")
        d.check("1 = 2", "exact", lambda: Outcome(1, 1.0, False, "one is not two"))
        return d

    def missing() -> Derivation:
        raise Skip("nothing to check yet")

    extra_identities("broken", broken)
    extra_identities("missing", missing)
    report = verify(only=["missing"])
    assert report.passed and report.rows[0].status == "skip"
    assert main(["verify", "--only", "broken", "--only", "missing"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "one is not two" in out and "skip missing: nothing to check yet" in out


def test_progress_callback() -> None:
    seen = []
    verify(only=["output-size", "activation-step"], progress=lambda *a: seen.append(a))
    assert seen == [(0, 2, "output-size"), (1, 2, "activation-step"), (2, 2, "")]


@pytest.mark.slow
def test_full_verify_passes(capsys) -> None:
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    for name in REGISTRY:
        assert name in out


def test_rows_stream_before_the_run_ends() -> None:
    """`on_rows` receives each identity's rows as it completes: the first identity's rows are
    out before the second identity starts."""
    events = []
    report = verify(
        only=["output-size", "activation-step"],
        progress=lambda done, total, name: events.append(("start", name)) if name else None,
        on_rows=lambda rows: events.append(("rows", rows[0].identity)),
    )
    assert events == [
        ("start", "output-size"),
        ("rows", "output-size"),
        ("start", "activation-step"),
        ("rows", "activation-step"),
    ]
    assert report.passed


def test_jobs_give_the_same_report() -> None:
    """`jobs=2` runs the identities in worker processes; rows come back in registry order,
    streamed in that order too, and equal to the one-process run."""
    names = ["output-size", "activation-step", "transpose-adjoint"]
    streamed: list[str] = []
    one = verify(only=names)
    two = verify(only=names, jobs=2, on_rows=lambda rows: streamed.append(rows[0].identity))
    strip = lambda r: (r.identity, r.level, r.cases, r.max_error, r.passed)  # noqa: E731
    assert [strip(r) for r in two.rows] == [strip(r) for r in one.rows]
    assert streamed == names
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        verify(only=names, jobs=0)


def test_cli_streams_the_table_it_reports(capsys, monkeypatch) -> None:
    """The CLI prints the header, then each identity's rows as on_rows delivers them (the
    report's own text, line for line), then the summary; --quiet and --jobs parse."""
    import symconv.verify as module

    seen_before_end: list[str] = []
    real = module.verify

    def spy(*args, on_rows=None, **kw):
        def relay(rows):
            on_rows(rows)
            seen_before_end.append(capsys.readouterr().out)  # printed already, mid-run

        return real(*args, on_rows=relay, **kw)

    monkeypatch.setattr(module, "verify", spy)
    assert main(["verify", "--only", "output-size", "--only", "activation-step", "--quiet"]) == 0
    assert "identity" in seen_before_end[0] and "output-size" in seen_before_end[0]
    assert "activation-step" in seen_before_end[1] and "output-size" not in seen_before_end[1]
    rest = capsys.readouterr().out
    assert "2 identities" in rest and "all passed" in rest
    with pytest.raises(SystemExit) as exit_:
        main(["verify", "--only", "output-size", "--jobs", "0"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--jobs must be an integer >= 1" in err and len(err.splitlines()) == 1


def test_worker_tasks_cover_every_identity_once() -> None:
    """The worker schedule: every requested identity in exactly one task, a group's members
    in one task (only those requested), and the CLI's default --jobs within 1..4."""
    from symconv.verify import _TOGETHER, _auto_jobs, _tasks

    names = list(REGISTRY)
    tasks = _tasks(names)
    flat = [n for task in tasks for n in task]
    assert sorted(flat) == sorted(names) and len(flat) == len(set(flat))
    for group in _TOGETHER:
        assert any(set(group) <= set(task) for task in tasks)
    assert _tasks(["backprop-grid", "output-size"]) == [("backprop-grid",), ("output-size",)]
    assert _auto_jobs(3) == 1 and 1 <= _auto_jobs(len(names)) <= 4
