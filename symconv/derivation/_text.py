r"""Prose inside mathematics: a step's title or justification made safe for LaTeX's text mode
(`_tex_escape`) or for MathJax's `\text{...}` (`_mathjax_text`).

```python
>>> from symconv.derivation._text import _tex_escape
>>> _tex_escape("x_1 < 50%")
'x\\_1 \\textless{} 50\\%'

```
"""

from __future__ import annotations

_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "_": r"\_",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
# characters outside ASCII that the text may hold, as math (pdflatex's default input)
_TEXT_MATH = {
    "×": r"\times",
    "≥": r"\geq",
    "≤": r"\leq",
    "≠": r"\neq",
    "→": r"\to",
    "∞": r"\infty",
    "·": r"\cdot",
    "−": "-",
    "⊛": r"\circledast",
    "α": r"\alpha",
    "δ": r"\delta",
    "λ": r"\lambda",
    "π": r"\pi",
    "ω": r"\omega",
    "σ": r"\sigma",
    "τ": r"\tau",
}


def _mathjax_text(text: str) -> str:
    """`text` for MathJax's `\\text{...}`, which shows its content literally: only the
    characters that would end or escape it are replaced."""
    return text.translate(str.maketrans("{}\\$", "()/S"))


def _tex_escape(text: str) -> str:
    r"""`text` for LaTeX's text mode: every special character escaped (`^` as
    `\textasciicircum{}`, `<` as `\textless{}`, ...), non-ASCII symbols as math, and any other
    non-ASCII character as `?` (pdflatex cannot typeset it without packages)."""
    out = []
    for ch in text:
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ch in _TEXT_MATH:
            out.append(rf"\ensuremath{{{_TEXT_MATH[ch]}}}")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)
