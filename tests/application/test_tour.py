"""`symconv tour`, the README's main job: every section runs and every check in it passes."""

from __future__ import annotations

import json

import symconv.tour as tour_module
from symconv.cli import main


def test_tour_runs_and_passes(capsys) -> None:
    assert main(["tour", "--json"]) == 0
    sections = json.loads(capsys.readouterr().out)
    titles = " | ".join(s["title"] for s in sections)
    for expected in (
        "Output size",
        "arithmetic",
        "matrix",
        "Backpropagation",
        "equivariance",
        "VGG16",
        "generated kernel",
    ):
        assert expected in titles
    assert all(s["passed"] for s in sections)
    matrix = next(s for s in sections if "matrix" in s["title"])
    assert "max difference" in matrix["text"]


def test_tour_streams_each_section_as_it_completes(monkeypatch) -> None:
    """Without workers, each section is started just before it is emitted (no timing: the
    order of events), and every section title is printed."""
    import symconv.tour._sections as sections

    events: list[str] = []
    real = sections.plan

    def traced(compared, submit, torch=None, sympy=None):
        assert torch is None and sympy is None  # no worker: everything here, in order

        def wrap(section):
            def run():
                events.append("compute")
                return section()

            return run

        return [wrap(s) for s in real(compared, submit, torch, sympy)]

    monkeypatch.setattr(sections, "plan", traced)
    assert tour_module.tour(emit=lambda text: events.append("emit"))
    assert events == ["compute", "emit"] * (len(events) // 2) and len(events) >= 14


PROBE = """
import json, sys
import symconv._torch_trials as trials
import symconv.tour as t

kernels, translate = t._torch.kernels, trials.translate_trials

def probe_kernels():
    r = kernels()
    return dict(r, text=r["text"] + f"\\nworker has SymPy: {'sympy' in sys.modules}")

def probe_translate(*args):
    assert "sympy" not in sys.modules, "the torch worker loaded SymPy"
    return translate(*args)

t._torch.kernels, trials.translate_trials = probe_kernels, probe_translate
texts = []
ok = t.tour(emit=texts.append, workers=True)
print(json.dumps({"ok": ok, "texts": texts, "torch here": "torch" in sys.modules}))
"""


def test_tour_with_workers_prints_the_same_in_a_fresh_process() -> None:
    """`symconv tour`'s three processes print what the in-process run prints, every check
    passing; torch is imported by the torch worker only, and that worker never loads SymPy
    (it is forked first and runs the equivariance checks from plain values)."""
    import json
    import os
    import subprocess
    import sys

    from helpers import ROOT

    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["ok"] and not got["torch here"]
    kernels = next(t for t in got["texts"] if "generated kernel" in t)
    assert kernels.endswith("worker has SymPy: False")
    here: list[str] = []
    assert tour_module.tour(emit=here.append)
    assert [t.replace("\nworker has SymPy: False", "") for t in got["texts"]] == here


def test_tour_text_and_quiet(capsys) -> None:
    assert main(["tour", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n== ") >= 6 and "VGG16" in out
