"""`symconv derive` runs the torch checks of an op whose checks travel (its registry entry's
`travels`) in a worker process that imports torch while this one derives; the certificate is
the one the in-process run gives."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import pytest
from helpers import ROOT

import symconv.cli.derive_command as derive_command
from symconv.cli import main
from symconv.registry import ENTRIES

TRAVELS = [e.name for e in ENTRIES if e.travels]
SMALL = ["-i", "12x12", "-k", "3", "-p", "1", "--in-channels", "2", "--out-channels", "2"]


def test_an_op_that_travels_has_only_picklable_torch_checks() -> None:
    """What `travels` promises: every numeric-level check of the op pickles (else it would
    quietly run here, and the worker's torch import would be wasted)."""
    import symconv as sc
    from symconv.derive import derive

    assert TRAVELS == ["equivariance", "unfold-fold"]
    layer = sc.Conv(dims=2, in_channels=2, out_channels=2, kernel_size=3, padding=1)
    cases = [("equivariance", {"transform": t}) for t in ("translate", "rot90", "flip_h")]
    for name, options in [*cases, ("unfold-fold", {})]:
        d = derive(name, layer, (6, 6), **options)
        numeric = [c for c in d.checks if c.level == "numeric"]
        assert numeric
        for check in numeric:
            pickle.dumps(check.run)


class _Recording(ThreadPoolExecutor):
    made: ClassVar[list[_Recording]] = []

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.ran: list[object] = []
        _Recording.made.append(self)

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        self.ran.append(fn)
        return super().submit(fn, *args, **kwargs)


@pytest.mark.parametrize(
    ("argv", "worker"),
    [
        (["derive", "equivariance", *SMALL, "--transform", "rot90"], True),
        (["derive", "equivariance", *SMALL, "--no-verify"], False),  # nothing to check
        (["derive", "unfold-fold", *SMALL], True),
        (["derive", "backprop", *SMALL], False),  # its torch checks are closures: here
    ],
)
def test_a_worker_only_for_an_op_whose_checks_travel(monkeypatch, capsys, argv, worker) -> None:
    monkeypatch.setattr(derive_command, "Worker", _Recording)
    monkeypatch.setattr(derive_command, "can_fork", lambda: True)
    _Recording.made.clear()
    assert main([*argv, "--json"]) == 0
    capsys.readouterr()
    assert bool(_Recording.made) == worker
    if worker:  # torch first, then the derivation's numeric checks
        (pool,) = _Recording.made
        assert pool.ran[0] is derive_command.preload and len(pool.ran) >= 2


def test_the_certificate_is_the_same_with_the_worker(capsys) -> None:
    """A fresh `symconv derive` (worker forked: torch not imported there yet) prints the JSON
    the in-process run prints."""
    argv = ["derive", "equivariance", *SMALL, "--transform", "rot90", "--json"]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(
        [sys.executable, "-m", "symconv", *argv], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert main(argv) == 0
    here = json.loads(capsys.readouterr().out)
    there = json.loads(out.stdout)
    assert there == here and there["certificate"]["passed"]
