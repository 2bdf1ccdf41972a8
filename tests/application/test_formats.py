"""Formats a reader can use: text (Unicode or ASCII) with no LaTeX in it, str() of a
Derivation and of a Certificate, notebook reprs, and the derive command's flags."""

from __future__ import annotations

import json
import re
import sys

import pytest
from helpers import ROOT

from symconv.cli import main
from symconv.derive import derive

sys.path.insert(0, str(ROOT / "tests" / "derivations"))  # test_steps
from test_steps import registered

TEX_COMMAND = re.compile(r"\\[A-Za-z]{2,}|[_^]\{")  # a command, or a TeX sub/superscript
# in ASCII art a "\" is also a bracket's edge: there, look for the commands symconv writes
TEX_IN_ASCII = re.compile(
    r"\\(?:frac|mathrm|text|left|right|tilde|hat|partial|operatorname|mathbb|times|cdot|"
    r"circledast|begin|end|top|quad|mathcal|overline|iff|forall|odot|otimes|setminus)\b|[_^]\{"
)


@pytest.fixture(scope="module")
def derivations():
    return [(w, d) for w, d in registered() if w.startswith("derive ")]


def test_text_has_no_latex_nor_sympy_str(derivations) -> None:
    for where, d in derivations:
        for ascii in (False, True):
            text = d.text(ascii=ascii)
            found = (TEX_IN_ASCII if ascii else TEX_COMMAND).search(text)
            assert not found, f"{where}: {found and found[0]}"
            assert "Matrix([" not in text and "**" not in text, where
            if ascii:
                assert text.isascii(), where


def test_text_uses_the_pretty_printer() -> None:
    d = derive("backprop")
    unicode, ascii = d.text(), d.text(ascii=True)
    assert "╲" in unicode and "[j = D⋅a + S⋅o]" in unicode  # a Sum, an Iverson bracket
    assert "\\ `" in ascii and "[j = D*a + S*o]" in ascii
    assert "x~" in unicode and "C_in" in derive("toeplitz").text()


def test_str_of_derivation_and_certificate_is_their_text() -> None:
    d = derive("output-size")
    cert = d.verify()
    assert str(d) == d.text() and str(cert) == cert.text()
    assert not str(cert).startswith("Certificate(")
    assert "verified (level general)" in str(cert)


def test_notebook_reprs() -> None:
    d = derive("output-size")
    assert d._repr_markdown_() == d.markdown()
    tex = d._repr_latex_()
    assert tex.startswith("$\\displaystyle \\begin{array}{l}") and tex.endswith("\\end{array}$")


def test_steps_have_a_getter_and_adding_has_a_verb() -> None:
    d = derive("transpose")
    last = d.steps[-2]
    assert d.step(last.title) is last is d.steps[last.title]
    assert d.steps[-2].title == "output_padding = a returns the input size"
    n = len(d.steps)
    d.add_step("extra", "a remark", definition=True)
    assert len(d.steps) == n + 1 and d.steps["extra"].is_definition


def test_cli_text_ascii_and_no_verify(capsys) -> None:
    assert main(["derive", "output-size", "--ascii", "--no-verify"]) == 0
    out = capsys.readouterr().out
    assert out.isascii() and "verified" not in out and "(definition)" in out
    assert main(["derive", "output-size", "--json", "--no-verify"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "certificate" not in data and data["steps"][2]["kind"] == "definition"
    assert main(["derive", "output-size", "--json"]) == 0
    cert = json.loads(capsys.readouterr().out)["certificate"]
    assert [s["status"] for s in cert["steps"]].count("established") == 4


def test_cli_standalone_needs_latex(capsys) -> None:
    assert main(["derive", "output-size", "--standalone"]) == 2
    assert "--standalone" in capsys.readouterr().err
