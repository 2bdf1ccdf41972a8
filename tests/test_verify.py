"""`symconv verify`: the registry reads the derivations' own checks; table, --json, --only,
exit codes, skips, and a failing check turns the exit status to 1."""

from __future__ import annotations

import json

import pytest

from symconv.cli import main
from symconv.derivation import Derivation
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
        d.check("1 = 2", "exact", lambda: (1, 1.0, False, "one is not two"))
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
