"""Honest certificates: a check that did not run is *skipped* with its reason, never ok.

The missing-dependency tests run the CLI in a subprocess whose `import torch` (and
`import scipy`) fails, as on a machine where only `pip install symconv` was run.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

from helpers import ROOT

from symconv.derivation import Derivation, Outcome, SkipCheck

_BLOCKED = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None  # `import name` raises ModuleNotFoundError
from symconv.cli import main
sys.exit(main({argv!r}))
"""


def run_without(blocked: tuple[str, ...], *argv: str) -> subprocess.CompletedProcess[str]:
    code = _BLOCKED.format(blocked=blocked, argv=list(argv))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_derive_without_torch_shows_skip_not_ok() -> None:
    out = run_without(("torch",), "derive", "toeplitz")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    numeric = [line for line in out.stdout.splitlines() if " numeric " in line]
    assert numeric and all("[skip]" in line for line in numeric), out.stdout
    assert "torch not installed" in numeric[0]
    assert "(level exact)" in out.stdout  # the exact check ran and passed; numeric did not


def test_derive_json_without_torch() -> None:
    out = run_without(("torch", "scipy"), "derive", "toeplitz", "--json")
    assert out.returncode == 0, out.stderr
    cert = json.loads(out.stdout)["certificate"]
    by_level = {c["level"]: c["status"] for c in cert["checks"]}
    assert by_level == {"exact": "ok", "numeric": "skip"}
    assert cert["level"] == "exact" and cert["passed"] and not cert["failed"]


def test_verify_without_torch_has_a_skipped_column_and_exits_0() -> None:
    out = run_without(("torch",), "verify", "--only", "toeplitz-torch", "--only", "output-size")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    head = out.stdout.splitlines()[0].split()
    assert "skipped" in head
    row = next(line for line in out.stdout.splitlines() if line.startswith("toeplitz-torch"))
    assert row.split()[-1] == "skip" and "pass" not in row
    assert "torch is not installed" in out.stdout  # the one-line note


def test_certificate_level_needs_every_check_of_the_level_to_run() -> None:
    d = Derivation("two numeric checks, one cannot run")
    d.check("runs", "numeric", lambda: Outcome(3, 0.0, True, ""))

    def cannot() -> tuple[int, float, bool, str]:
        raise SkipCheck("no reference here")

    d.check("cannot run", "numeric", cannot)
    d.check("zero cases", "exact", lambda: Outcome(0, 0.0, True, "nothing examined"))
    cert = d.verify()
    assert [r.status for r in cert.results] == ["ok", "skip", "skip"]
    assert cert.level is None  # numeric: one check skipped; exact: its only check skipped
    assert cert.passed and not cert.failed
    assert "[ok  ]" not in cert.text().split("\n")[2] and "no reference here" in cert.text()


def test_a_missing_optional_import_is_a_skip_but_other_import_errors_raise() -> None:
    def needs_scipy() -> tuple[int, float, bool, str]:
        err = ModuleNotFoundError("No module named 'scipy.sparse'")
        err.name = "scipy.sparse"
        raise err

    def broken() -> tuple[int, float, bool, str]:
        import symconv_no_such_module  # noqa: F401

        return 1, 0.0, True, ""

    d = Derivation("imports").check("scipy", "numeric", needs_scipy)
    (result,) = d.verify().results
    assert result.status == "skip" and "scipy not installed" in result.skipped
    try:
        Derivation("x").check("broken", "exact", broken).verify()
    except ImportError:
        pass
    else:  # pragma: no cover - the assertion below is the failure
        raise AssertionError("an ImportError of a required module must not become a skip")


def test_a_failed_check_is_not_hidden_by_skips() -> None:
    d = Derivation("fails").check("bad", "exact", lambda: Outcome(2, 1.0, False, "differs"))
    d.check("skip", "numeric", lambda: Outcome(0, 0.0, True, "no torch"))
    cert = d.verify()
    assert cert.failed and not cert.passed and cert.level is None
    assert "FAILED" in str(cert)


class _Recording(ProcessPoolExecutor):
    """A process pool that records the checks it was handed."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self.sent: list[str] = []

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        self.sent.append(fn)
        return super().submit(fn, *args, **kwargs)


def _outcome(ok: bool) -> Outcome:
    return Outcome(1, 0.0 if ok else 1.0, ok, "module-level")


def test_verify_with_an_executor_gives_the_same_certificate() -> None:
    """Numeric checks that pickle run on the executor (equivariance's torch checks are
    partials), the rest here; the certificate is the one `verify()` gives. A closure, or a
    check of another level, stays here; a failure there is a failure here."""
    from symconv import Conv
    from symconv.equivariance import equivariance

    derivations = [
        equivariance(Conv(dims=1, kernel_size=3, padding=1, padding_mode="reflect"), 8, shift=1),
        equivariance(Conv(dims=2, kernel_size=3, padding=1), 5, transform="rot90"),
    ]
    d = Derivation("mixed")
    d.check("numeric, module-level", "numeric", functools.partial(_outcome, False))
    d.check("numeric, a closure", "numeric", lambda: Outcome(1, 0.0, True, "closure"))
    d.check("exact, module-level", "exact", functools.partial(_outcome, True))
    derivations.append(d)
    with _Recording() as pool:
        for d in derivations:
            here = d.verify()
            pool.sent.clear()
            there = d.verify(executor=pool)
            assert there.results == here.results and there.steps == here.steps
            numeric = [c.run for c in d.checks if c.level == "numeric"]
            assert pool.sent == [r for r in numeric if isinstance(r, functools.partial)], d.title
    assert there.failed and [r.status for r in there.results] == ["FAIL", "ok", "ok"]
