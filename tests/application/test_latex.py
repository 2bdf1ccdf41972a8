"""`Derivation.latex()` and `symconv derive OP --format latex` compile as printed.

Every registered derivation (symconv.derive's registry with its default layer and a few
others) is pasted into the body of a plain `article` with `amsmath` and `amssymb` and compiled
by pdflatex; a failure names the derivation. The test skips with a reason where pdflatex is
missing (.ci/run installs texlive).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from symconv.cli import main
from symconv.derivation import Derivation, _tex_escape

sys.path.insert(0, str(ROOT / "tests" / "derivations"))  # test_steps
from test_steps import EXTRA, registered

PDFLATEX = shutil.which("pdflatex")
needs_tex = pytest.mark.skipif(PDFLATEX is None, reason="pdflatex not installed (.ci/run does)")

ARTICLE = r"""\documentclass{article}
\usepackage{amsmath}
\usepackage{amssymb}
\begin{document}
%s
\end{document}
"""


def compile_tex(source: str, where: Path) -> str:
    """pdflatex's log when it fails, "" when it compiles."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "doc.tex").write_text(source)
    run = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if run.returncode == 0 and (where / "doc.pdf").exists():
        return ""
    errors = [line for line in run.stdout.splitlines() if line.startswith("!")]
    return "\n".join(errors[:3]) or run.stdout[-800:]


@needs_tex
def test_every_registered_derivation_compiles(tmp_path: Path) -> None:
    derivations = [
        (where, d)
        for where, d in registered()
        if where.startswith("derive ")  # the docs and verify registries hold the same kinds
    ]
    assert len(derivations) >= 16 + len(EXTRA)
    # one document, each derivation in its own group: a failure is found by bisection below
    failures = []
    for n, (where, d) in enumerate(derivations):
        log = compile_tex(ARTICLE % d.latex(), tmp_path / str(n))
        if log:
            failures.append(f"{where}: {log}")
    assert not failures, "\n".join(failures)


@needs_tex
def test_cli_latex_and_standalone_compile(tmp_path: Path, capsys) -> None:
    assert main(["derive", "transpose", "--format", "latex"]) == 0
    fragment = capsys.readouterr().out
    assert fragment.startswith(r"\begin{align*}") and "documentclass" not in fragment
    assert not compile_tex(ARTICLE % fragment, tmp_path / "fragment")
    assert main(["derive", "backprop", "--format", "latex", "--standalone"]) == 0
    document = capsys.readouterr().out
    assert document.startswith(r"\documentclass{article}")
    assert not compile_tex(document, tmp_path / "standalone")


@needs_tex
def test_a_broken_fragment_fails_and_is_named(tmp_path: Path) -> None:
    d = Derivation("broken").add_step("raw", "x", latex=r"\frac{1}", definition=True)
    assert compile_tex(ARTICLE % d.latex(), tmp_path)


def test_text_is_escaped() -> None:
    tex = _tex_escape("Pad^T x <= y > |z| ~ 50% & #1 {a_b} $ \\")
    for raw in "^<>|~":
        assert raw not in re.sub(r"\\text[a-z]+\{\}", "", tex)
    assert r"\textasciicircum{}" in tex and r"\textless{}" in tex and r"\textbar{}" in tex
    assert r"\%" in tex and r"\&" in tex and r"\_" in tex and r"\textbackslash{}" in tex


def test_fragment_is_one_align_with_a_line_per_step() -> None:
    from symconv.derive import derive

    d = derive("output-size")
    tex = d.latex()
    lines = tex.splitlines()
    assert lines[0] == r"\begin{align*}" and lines[-1] == r"\end{align*}"
    assert len(lines) == 2 + 1 + len(d.steps)  # environment, title, one line per step
    assert r"(definition)" in tex  # the assumption of an exact stride is marked
