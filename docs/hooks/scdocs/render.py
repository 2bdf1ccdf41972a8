"""HTML for the engine's objects: a `Derivation` with its `Certificate`, a formula, a table.

Pure presentation: every value shown comes from the engine object passed in.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from symconv.derivation import Certificate, Derivation
from symconv.derivation import latex as symconv_latex

from .mathml import check_symbols, to_mathml

__all__ = ["Html", "Markdown", "certificate_html", "derivation_html", "math_html", "table_html"]


@dataclass(frozen=True)
class Html:
    """Rendered HTML; `block` is False for inline output (a number, an inline formula)."""

    text: str
    block: bool = True


@dataclass(frozen=True)
class Markdown:
    """Markdown text, put into the page before it is converted (tables, lists)."""

    text: str


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def math_html(expr: Any, display: bool = True) -> str:
    """A SymPy object (or a LaTeX string from the engine) as MathML."""
    tex = expr if isinstance(expr, str) else symconv_latex(expr)
    math = to_mathml(tex, display=display)
    check_symbols(expr, math)  # the symbols of a SymPy object render as they are named
    return f'<div class="sc-math">{math}</div>' if display else math


def certificate_html(cert: Certificate) -> str:
    """The certificate: the level reached and one row per check (level, cases, discrepancy)."""
    n_ok = sum(r.passed for r in cert.results)
    n_skip = len(cert.skipped)
    verdict = "FAILED" if cert.failed else ("verified" if cert.passed else "not checked")
    shown = {"ok": "passed", "skip": "skipped", "FAIL": "FAILED"}
    rows = "".join(
        "<tr>"
        f"<td>{esc(r.name)}</td><td><code>{esc(r.level)}</code></td>"
        f'<td class="sc-num">{r.cases:,}</td><td class="sc-num">{r.max_error:.3g}</td>'
        f"<td>{shown[r.status]}</td>"
        f"<td>{esc(r.skipped or r.detail)}</td>"
        "</tr>"
        for r in cert.results
    )
    return (
        f'<div class="sc-certificate {"sc-fail" if cert.failed else "sc-pass"}">'
        f"<p><strong>Certificate: {verdict}</strong>, level <code>{esc(cert.level)}</code> "
        f"({n_ok} of {len(cert.results)} checks passed"
        f"{f', {n_skip} skipped' if n_skip else ''}; checked when this page was built).</p>"
        "<table><thead><tr><th>check</th><th>level</th><th>cases</th>"
        "<th>max discrepancy</th><th>result</th><th>detail</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{steps_html(cert)}</div>"
    )


def steps_html(cert: Certificate) -> str:
    """Per displayed step: a definition, or what its checks established at which level."""
    if not cert.steps:
        return ""
    rows = "".join(
        "<tr>"
        f'<td class="sc-num">{s.number}</td><td>{esc(s.title)}</td>'
        f"<td>{esc(s.status)}</td><td><code>{esc(s.level or '')}</code></td>"
        f"<td>{esc('; '.join(s.checks) or s.problem)}</td>"
        "</tr>"
        for s in cert.steps
    )
    return (
        '<table class="sc-steps-certificate"><thead><tr><th>step</th><th>title</th>'
        "<th>status</th><th>level</th><th>established by</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def derivation_html(d: Derivation, cert: Certificate) -> str:
    """The numbered steps (title, justification, formula) and the certificate."""
    steps = []
    status = {s.number: s for s in cert.steps}
    for n, step in enumerate(d.steps, 1):
        mark = status.get(n)
        badge = (
            ""
            if mark is None
            else f' <span class="sc-step-status">[{esc(mark.status)}'
            f"{f' ({esc(mark.level)})' if mark.level else ''}]</span>"
        )
        head = f"<strong>{esc(step.title)}.</strong>{badge}"
        statement = step.statement
        if isinstance(statement, sympy.Symbol) and " " in statement.name:
            statement = statement.name if "\\" not in statement.name else statement
        if isinstance(statement, str):  # a sentence, not a formula: say it in words
            body = f"<p>{head} {esc(statement)}</p>"
            if step.justification:
                body += f'<p class="sc-why">{esc(step.justification)}</p>'
        else:
            why = f' <span class="sc-why">{esc(step.justification)}</span>'
            shown = step.latex() if step.latex_override is not None else statement
            body = f"<p>{head}{why if step.justification else ''}</p>" + math_html(shown)
        steps.append(f"<li>{body}</li>")
    return (
        '<div class="sc-derivation">'
        f'<p class="sc-title">{esc(d.title)}</p>'
        f'<ol class="sc-steps">{"".join(steps)}</ol>'
        f"{certificate_html(cert)}</div>"
    )


def table_html(head: Sequence[str], rows: Sequence[Sequence[Any]], numeric: set[int]) -> str:
    """A plain HTML table; cells are escaped (`Html` cells kept as they are, e.g. math),
    columns in `numeric` right-aligned."""
    th = "".join(f"<th>{esc(h)}</th>" for h in head)

    def cell(c: Any) -> str:
        return c.text if isinstance(c, Html) else esc(c)

    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="sc-num">{cell(c)}</td>' if i in numeric else f"<td>{cell(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="sc-table"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'
