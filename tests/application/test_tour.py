"""`symconv tour`, the README's main job: every section runs and every check in it passes."""

from __future__ import annotations

import json

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
    """Without a worker, each section is started just before it is emitted (no timing: the
    order of events), and every section title is printed."""
    import symconv.tour as tour_module

    events: list[str] = []
    real = tour_module._sections

    def traced(submit, executor=None):
        assert executor is None  # no worker: everything here, in order

        def wrap(section):
            def run():
                events.append("compute")
                return section()

            return run

        return [wrap(s) for s in real(submit, executor)]

    monkeypatch.setattr(tour_module, "_sections", traced)
    assert tour_module.tour(emit=lambda text: events.append("emit"))
    assert events == ["compute", "emit"] * (len(events) // 2) and len(events) >= 14


def test_tour_with_a_worker_prints_the_same_in_a_fresh_process() -> None:
    """`symconv tour` (a forked worker runs the torch comparisons) prints the same sections as
    the in-process run, every check passing; torch is imported by the worker only."""
    import json
    import os
    import subprocess
    import sys

    from helpers import ROOT

    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    probe = (
        "import json, sys\n"
        "import symconv.tour as t\n"
        "texts = []\n"
        "ok = t.tour(emit=texts.append, workers=True)\n"
        "print(json.dumps({'ok': ok, 'texts': texts, 'torch': 'torch' in sys.modules}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["ok"] and not got["torch"]
    here: list[str] = []
    assert _tour_here(here.append)
    assert [t.splitlines()[1] for t in got["texts"]] == [t.splitlines()[1] for t in here]
    assert got["texts"] == here


def _tour_here(emit) -> bool:
    import symconv.tour as tour_module

    return tour_module.tour(emit=emit)


def test_tour_text_and_quiet(capsys) -> None:
    assert main(["tour", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n== ") >= 6 and "VGG16" in out
