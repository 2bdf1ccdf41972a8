r"""TeX to MathML at build time, so the site needs no math script and no network.

`latex2mathml` does the conversion; `to_mathml` then refuses anything that did not convert
(a `<merror>`, or a TeX command left as text), so a formula either renders or fails the build.
`convert_arithmatex` turns the `\( \)` / `\[ \]` spans that `pymdownx.arithmatex` makes of
docstring math into MathML.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from typing import Any

from latex2mathml.converter import convert

__all__ = ["MathError", "check_symbols", "convert_arithmatex", "structure", "to_mathml"]

_XMLNS = re.compile(r'\s+xmlns="[^"]*"')
_LEFTOVER = re.compile(r">[^<]*\\[A-Za-z]+[^<]*<")  # a TeX command that became text
_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<block>.*?)\\\])'
    r"\s*</(?P=tag)>",
    re.S,
)


class MathError(ValueError):
    """A formula that does not convert to MathML."""


def to_mathml(tex: str, display: bool = True) -> str:
    """`tex` as a `<math>` element (display block or inline); raises `MathError` if it fails."""
    try:
        out = convert(tex, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises a variety of its own exceptions
        raise MathError(f"cannot convert {tex!r} to MathML: {error}") from error
    out = _XMLNS.sub("", out, count=1)
    if "<merror" in out or _LEFTOVER.search(out):
        raise MathError(f"TeX left unconverted in the MathML of {tex!r}: {out[:300]}")
    return out


def convert_arithmatex(page_html: str) -> str:
    """Replace every arithmatex span/div (generic mode) in `page_html` by MathML."""

    def one(m: re.Match[str]) -> str:
        inline = m.group("inline")
        tex = html.unescape(inline if inline is not None else m.group("block"))
        math = to_mathml(tex, display=inline is None)
        return f'<div class="sc-math">{math}</div>' if inline is None else math

    return _ARITHMATEX.sub(one, page_html)


_LIMITS = {"munder": "msub", "mover": "msup", "munderover": "msubsup"}
_SCRIPTS = {"msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "munder", "mover", "munderover"}


def structure(mathml: str) -> str:
    """The MathML's tokens and scripts as one string: `mrow`s dissolved, each script element
    as `msub{base|script}`, attributes dropped. Two renderings of one symbol agree in it iff
    they show the same tokens with the same sub- and superscripts."""

    def walk(node: ET.Element) -> str:
        tag = node.tag.rsplit("}", 1)[-1]
        if tag in ("mi", "mn", "mo", "mtext", "ms"):
            return f"{tag}:{(node.text or '').strip()};"
        inner = [walk(child) for child in node]
        if tag in _SCRIPTS:  # limits of a displayed sum count as its scripts
            return _LIMITS.get(tag, tag) + "{" + "|".join(inner) + "}"
        return "".join(inner)  # math, mrow, mstyle, ...: only their children count

    return walk(ET.fromstring(mathml))


def check_symbols(expr: Any, mathml: str) -> None:
    """Raise `MathError` when a symbol of the SymPy object `expr` whose name is TeX does not
    appear in `mathml` as that TeX renders on its own: the braces of its sub- and
    superscripts misplaced by the printer (e.g. `(x \\circledast_N h)_q` printed as
    `(x \\circledast_{N h) q}`)."""
    import sympy

    if not isinstance(expr, sympy.Basic):
        return
    shown = structure(mathml)
    names = {a.name for a in expr.atoms(sympy.Symbol)}
    names |= {str(a.label) for a in expr.atoms(sympy.IndexedBase)}
    for name in sorted(n for n in names if "\\" in n):
        own = structure(to_mathml(name, display=False))
        if own not in shown:
            raise MathError(
                f"the symbol {name!r} renders as something else: its tokens and scripts "
                f"{own!r} are not in the formula's {shown!r}"
            )
