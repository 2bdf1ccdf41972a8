r"""Printing SymPy objects as symconv shows them: LaTeX (Kronecker deltas as Iverson brackets)
and text for a terminal (SymPy's pretty printer, symbols whose names are LaTeX renamed to plain
text).

```python
>>> import sympy
>>> from symconv.derivation import latex
>>> latex(sympy.KroneckerDelta(sympy.Symbol("i"), sympy.Symbol("j")))
'\\left[i = j\\right]'

```
"""

from __future__ import annotations

import re
from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm


class _LatexPrinter(LatexPrinter):
    r"""SymPy's LaTeX printer, with the Kronecker delta as an Iverson bracket $[i = j]$, so it
    cannot be confused with the upstream gradient $\delta = \partial L / \partial y$."""

    def _print_KroneckerDelta(self, expr: Any, exp: Any = None) -> str:
        i, j = (self._print(a) for a in expr.args)
        tex = rf"\left[{i} = {j}\right]"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


def latex(expr: Any) -> str:
    """LaTeX of a SymPy object as symconv renders it (Kronecker deltas as Iverson brackets)."""
    return _LatexPrinter().doprint(expr)


_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?'*")


class _PrettyPrinter(PrettyPrinter):
    """SymPy's pretty printer with the Kronecker delta as an Iverson bracket `[i = j]`."""

    def _print_Symbol(self, expr: Any, bold_name: bool = False) -> Any:
        if _IDENTIFIER.fullmatch(expr.name):  # x, x_1, C_in: sub- and superscripts as usual
            return super()._print_Symbol(expr, bold_name)
        return prettyForm(expr.name)  # a phrase or formula as a name: verbatim

    def _print_KroneckerDelta(self, expr: Any) -> Any:
        inner = self._print(sympy.Eq(*expr.args, evaluate=False))
        return prettyForm(*inner.parens("[", "]"))


def pretty(expr: Any, ascii: bool = False) -> str:
    """`expr` for a terminal: SymPy's pretty printer (Unicode, or ASCII), symbols whose names
    are LaTeX renamed to plain text, Kronecker deltas as Iverson brackets."""
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    previous = pretty_use_unicode(not ascii)
    try:
        return _PrettyPrinter({"use_unicode": not ascii, "wrap_line": False}).doprint(_plain(expr))
    finally:
        pretty_use_unicode(previous)


def _plain(expr: Any) -> Any:
    r"""`expr` with symbols whose names are LaTeX (`C_{\mathrm{in}}`, `\tilde{x}`) renamed to
    plain names, so that text output carries no LaTeX commands."""
    if not isinstance(expr, sympy.Basic):
        return expr
    renames: dict[Any, Any] = {}
    for atom in expr.atoms(sympy.Symbol, sympy.IndexedBase):
        name = str(atom.label if isinstance(atom, sympy.IndexedBase) else atom.name)
        plain = _plain_name(name)
        if plain != name:
            renames[atom] = (
                sympy.IndexedBase(plain)
                if isinstance(atom, sympy.IndexedBase)
                else sympy.Symbol(plain, **atom.assumptions0)
            )
    return expr.xreplace(renames) if renames else expr


_TEX_WORDS = {
    "mathrm": "",
    "operatorname": "",
    "text": "",
    "textbf": "",
    "mathbb": "",
    "mathcal": "",
    "frac": "",
    "left": "",
    "right": "",
    "Big": "",
    "big": "",
    "quad": " ",
    "qquad": " ",
    "partial": "d",
    "top": "T",
    "in": " in ",
    "times": " x ",
    "cdot": " * ",
    "odot": " (.) ",
    "otimes": " (x) ",
    "circledast": "(*)",
    "forall": "for all ",
    "iff": " <=> ",
    "Leftarrow": " <= ",
    "Rightarrow": " => ",
    "setminus": " minus ",
    "le": " <= ",
    "leq": " <= ",
    "ge": " >= ",
    "geq": " >= ",
    "ne": " != ",
    "neq": " != ",
    "infty": "oo",
}


def _plain_name(name: str) -> str:
    r"""A symbol name without LaTeX: `\tilde{x}` -> `x~`, `C_{\mathrm{in}}` -> `C_in`,
    `\frac{a}{b}` -> `a/b`, other commands by their names (`\delta` -> `delta`), braces
    removed."""
    if "\\" not in name and "{" not in name:
        return name
    out = _unfrac(name)
    out = re.sub(r"\\(tilde|hat|bar|overline)\{([^{}]*)\}", lambda m: m[2] + _ACCENT[m[1]], out)
    out = re.sub(r"\\(tilde|hat|bar) ?([A-Za-z])", lambda m: m[2] + _ACCENT[m[1]], out)
    out = re.sub(r"\\[,;: !]", " ", out)
    out = re.sub(r"\\partial ?", "d", out)
    out = re.sub(r"\\([A-Za-z]+)", lambda m: _TEX_WORDS.get(m[1], m[1]), out)
    out = re.sub(r"\\([^A-Za-z])", r"\1", out)  # \_ \{ \%: the character
    # a script of several symbols keeps its extent: x_{q + mN} -> x_(q + mN)
    script = re.compile(r"([_^])\{([^{}]*)\}")  # innermost first, then the ones around
    while script.search(out):
        out = script.sub(
            lambda m: m[1] + (m[2] if re.fullmatch(r"[\w']*", m[2]) else f"({m[2]})"), out
        )
    out = out.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", out).strip()


def _unfrac(text: str) -> str:
    r"""`\frac{a}{b}` -> `a/b` (nested braces allowed)."""
    while (start := text.find(r"\frac{")) >= 0:
        parts, pos = [], start + len(r"\frac")
        for _ in range(2):
            depth, end = 0, pos
            for end in range(pos, len(text)):
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                if depth == 0:
                    break
            parts.append(text[pos + 1 : end])
            pos = end + 1
        text = text[:start] + f"{parts[0]}/{parts[1]}" + text[pos:]
    return text


_ACCENT: dict[str, str] = {"tilde": "~", "hat": "^", "bar": "_bar", "overline": "_bar"}
