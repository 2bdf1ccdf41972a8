r"""TeX to MathML at build time, so the site needs no math script and no network.

`latex2mathml` does the conversion; `to_mathml` then refuses anything that did not convert
(a `<merror>`, or a TeX command left as text), so a formula either renders or fails the build.
`convert_arithmatex` turns the `\( \)` / `\[ \]` spans that `pymdownx.arithmatex` makes of
docstring math into MathML.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

__all__ = ["MathError", "convert_arithmatex", "to_mathml"]

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
