"""Build-time rendering of symconv's docs: directives in, engine-computed HTML out.

`expand(markdown)` replaces each `{{ symconv NAME key=value ... }}` with the output of the
named renderer (`registry.RENDERERS`): Markdown goes into the page as it is, HTML is parked
behind a placeholder that `finish(html, blocks)` puts back after Markdown has run (so Markdown
never touches MathML or SVG). `finish` also turns docstring math (arithmatex) into MathML.
"""

from __future__ import annotations

import re
from typing import Any

from .directives import DIRECTIVE, DirectiveError, parse
from .mathml import MathError, convert_arithmatex
from .registry import RENDERERS, render
from .render import Html, Markdown

__all__ = ["RENDERERS", "DirectiveError", "MathError", "expand", "finish"]

_TOKEN = "SCDOCSBLOCK{}X"
_PARAGRAPH = re.compile(r"<p>\s*SCDOCSBLOCK(\d+)X\s*</p>")
_BARE = re.compile(r"SCDOCSBLOCK(\d+)X")


def expand(markdown: str, ahead: Any = None) -> tuple[str, list[Html]]:
    """The page with every directive replaced, and the parked HTML blocks. `ahead` (an
    `ahead.Ahead`) gives the outputs a second process has computed already."""
    blocks: list[Html] = []

    def one(m: re.Match[str]) -> str:
        name, params = parse(m["body"])
        try:
            out = None if ahead is None else ahead.take(m["body"])
            if out is None:
                out = render(name, params)
        except Exception as error:  # any failure names the directive that caused it
            raise DirectiveError(f"{m[0]}: {type(error).__name__}: {error}") from error
        if isinstance(out, Markdown):
            return out.text
        blocks.append(out)
        return _TOKEN.format(len(blocks) - 1)

    return DIRECTIVE.sub(one, markdown), blocks


def finish(page_html: str, blocks: list[Html]) -> str:
    """Put the parked HTML back (a block replaces its whole paragraph) and render math."""

    def alone(m: re.Match[str]) -> str:
        block = blocks[int(m[1])]
        return block.text if block.block else f"<p>{block.text}</p>"

    def inline(m: re.Match[str]) -> str:
        block = blocks[int(m[1])]
        if block.block:
            raise DirectiveError("a block directive must stand alone in its paragraph")
        return block.text

    out = _BARE.sub(inline, _PARAGRAPH.sub(alone, page_html))
    return convert_arithmatex(out)
