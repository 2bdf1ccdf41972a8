"""The docs' MathML is checked for structure: every symbol whose name is TeX must render with
the tokens and scripts its name says (a subscript's braces misplaced by the printer fail)."""

from __future__ import annotations

import sys

import pytest
import sympy
from helpers import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))
sys.path.insert(0, str(ROOT / "tests" / "derivations"))  # test_steps

from scdocs.mathml import MathError, check_symbols, structure, to_mathml
from scdocs.registry import render
from test_steps import registered

from symconv.derivation import latex


def test_a_misplaced_subscript_fails() -> None:
    wrong = sympy.Symbol(r"(x \circledast_N h)_q")  # SymPy prints (x \circledast_{N h) q}
    with pytest.raises(MathError, match="circledast"):
        check_symbols(wrong, to_mathml(latex(wrong)))
    right = sympy.Symbol(r"(x \circledast_{N} h)_{q}")
    check_symbols(sympy.Eq(right, sympy.Symbol("y")), to_mathml(latex(right) + " = y"))


def test_structure_shows_scripts() -> None:
    assert structure(to_mathml("x_{1}^{2} + y")) == "msubsup{mi:x;|mn:1;|mn:2;}mo:+;mi:y;"


def test_every_derivation_step_renders_its_symbols() -> None:
    bad = []
    for where, d in registered():
        for step in d.steps:
            if isinstance(step.statement, sympy.Basic) and step.latex_override is None:
                try:
                    check_symbols(step.statement, to_mathml(step.latex()))
                except MathError as error:
                    bad.append(f"{where}: {step.title}: {error}")
    assert not bad, "\n".join(bad)


def test_theorems_page_circular_convolution_subscript() -> None:
    html = render("derivation", {"op": "fft-padding"}).text
    first = html[html.index("<math") : html.index("</math>") + len("</math>")]
    assert "msub{mo:\u229b;|mi:N;}mi:h;msub{mo:);|mi:q;}" in structure(first)
    # the per-step certificate: a badge per step and the table
    assert "[definition]" in html and "[established (exact)]" in html
    assert 'class="sc-steps-certificate"' in html
