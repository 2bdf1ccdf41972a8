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
    """Each section is emitted before the next one is computed (no timing: the order of
    events), and the CLI's text run prints every section title."""
    import symconv.tour as tour_module

    events: list[str] = []
    real = tour_module._sections

    def traced():
        def wrap(section):
            def run():
                events.append("compute")
                return section()

            return run

        return [wrap(s) for s in real()]

    monkeypatch.setattr(tour_module, "_sections", traced)
    assert tour_module.tour(emit=lambda text: events.append("emit"))
    assert events == ["compute", "emit"] * (len(events) // 2) and len(events) >= 12


def test_tour_text_and_quiet(capsys) -> None:
    assert main(["tour", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n== ") >= 6 and "VGG16" in out
