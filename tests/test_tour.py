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
