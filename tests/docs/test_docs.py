"""The documentation site: a strict build, engine-computed content, offline math, a real browser.

The build test never skips (the docs extra is part of the test set-up). The browser test needs
Debian's `chromium`; it skips with a reason where it is missing (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
import sympy
from helpers import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

from scdocs import DirectiveError, expand, finish
from scdocs.directives import parse
from scdocs.mathml import MathError, to_mathml

import symconv as sc
from symconv import arch, errata

DERIVATION_PAGES = [
    "convolution",
    "padding",
    "arithmetic",
    "matrix",
    "channels",
    "pooling",
    "backprop",
    "equivariance",
    "transpose",
    "local",
]
MATH_PAGES = [*DERIVATION_PAGES, "api"]
TEX_LEFT = re.compile(r"\$\$|\\\(|\\\[|\\(?:frac|left|right|sum|mathrm|begin|text|partial)\b")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


class _Text(HTMLParser):
    """Visible text of a page: no script, style, code or math source (MathML stays text)."""

    SKIP: ClassVar[set[str]] = {"script", "style", "code", "pre", "svg", "head"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def _parse(html: str) -> _Text:
    p = _Text()
    p.feed(html)
    return p


# -- the build ---------------------------------------------------------------------------------
def test_every_page_is_built(site: Path) -> None:
    for name in [*MATH_PAGES, "errata", "architectures"]:
        assert (site / name / "index.html").is_file(), name
    assert (site / "index.html").is_file()
    assert not (site / "hooks").exists(), "the hook package must not be published"


def test_derivation_pages_show_math_and_certificates(site: Path) -> None:
    for name in DERIVATION_PAGES:
        html = _page(site, name)
        assert "<math" in html, name
        assert "<merror" not in html, name
        assert 'class="sc-certificate sc-pass"' in html, name
        assert "FAILED" not in html, name
        text = "".join(_parse(html).parts)
        assert not TEX_LEFT.search(text), (name, TEX_LEFT.search(text))
        assert "SCDOCSBLOCK" not in html, name


def test_certificate_shows_level_checks_cases_and_discrepancy(site: Path) -> None:
    html = _page(site, "arithmetic")
    cert = html[html.index('class="sc-certificate') :]
    for word in ("level", "cases", "max discrepancy", "general", "exact"):
        assert word in cert


def test_docstring_math_is_mathml(site: Path) -> None:
    html = _page(site, "api")
    assert 'class="arithmatex"' not in html
    assert html.count("<math") > 20
    assert "_repr_latex_" in html


def test_nothing_loaded_from_another_host(site: Path) -> None:
    for path in site.rglob("*.html"):
        for tag, attrs in _parse(path.read_text(encoding="utf-8")).tags:
            for attr in ("src", "href"):
                url = attrs.get(attr) or ""
                if tag in {"script", "link", "img", "iframe", "source", "audio", "video"}:
                    assert not re.match(r"(https?:)?//", url), (path, tag, url)
    for path in site.rglob("*.css"):
        assert not re.search(r"@import\s+url\(\s*['\"]?(https?:)?//", path.read_text()), path


def test_tables_are_computed(site: Path) -> None:
    html = _page(site, "architectures")
    for name in ("lenet5", "alexnet", "vgg16", "googlenet", "zfnet", "resnet50", "densenet121"):
        assert f"{arch.get(name).table().total_parameters:,}" in html, name
    assert html.count("<details>") > 100  # the graph networks' blocks, collapsible
    html = _page(site, "errata")
    for e in errata.ERRATA:
        assert e.printed.replace("&", "&amp;") in html or e.printed in html, e.printed
    assert html.count("<tr>") >= len(errata.ERRATA) + 1


def test_audit_page_lists_every_claim_with_its_verdict(site: Path) -> None:
    import html as html_lib

    from symconv import audit

    page = html_lib.unescape(_page(site, "errata"))
    rows = audit.table()
    for r in rows:
        assert (
            f'{r["printed"]}</td><td class="sc-num">{r["computed"]}</td><td>{r["verdict"]}' in page
        ), r
    for key in audit.LECTURES:
        assert audit.LECTURES[key] in page


def test_local_page_shows_the_four_parameter_counts(site: Path) -> None:
    from symconv.local_params import local_params

    html = _page(site, "local")
    spec = sc.Conv(dims=2, in_channels=3, out_channels=8, kernel_size=3)
    table = local_params(spec, (5, 5)).results["table"]
    assert set(table) == {"convolution", "tiled", "locally connected", "dense"}
    for name, count in table.items():
        assert f"<mn>{count}</mn>" in html, (name, count)
    assert "Backpropagation through LocallyConnected1d" in html


def test_figures_are_inline_svg(site: Path) -> None:
    for name in ("matrix", "arithmetic", "equivariance", "backprop", "padding", "transpose"):
        assert '<figure class="sc-figure"><svg' in _page(site, name), name


# -- the directives ----------------------------------------------------------------------------
def test_directive_expands_to_engine_output() -> None:
    text, blocks = expand("x {{ symconv params in_channels=3 out_channels=10 kernel_size=5 }} y")
    assert "760 parameters" in finish(f"<p>{text}</p>", blocks)


def test_directive_formula_is_the_engines() -> None:
    text, blocks = expand("{{ symconv formula name=conv-output }}")
    html = finish(f"<p>{text}</p>", blocks)
    formula = sympy.Eq(sympy.Symbol("o"), sc.arith.conv_output_formula())
    assert html == '<div class="sc-math">' + to_mathml(sympy.latex(formula)) + "</div>"


@pytest.mark.parametrize(
    "body",
    [
        "{{ symconv nosuch }}",
        "{{ symconv params kernel_size=__import__('os') }}",
        "{{ symconv params kernel_size=3 nosuchfield=1 }}",
        "{{ symconv figure name=nosuch }}",
        "{{ symconv params kernel_size=0 }}",
        "{{ symconv derivation op=nosuch }}",
    ],
)
def test_bad_directives_are_refused(body: str) -> None:
    with pytest.raises(DirectiveError):
        expand(body)


def test_values_are_literals_only() -> None:
    assert parse("shape input=7x7 kernel_size=3 flip=true mode=circular p=2.5") == (
        "shape",
        {"input": (7, 7), "kernel_size": 3, "flip": True, "mode": "circular", "p": 2.5},
    )


def test_unconverted_tex_fails() -> None:
    assert "<math" in to_mathml(r"\frac{a}{b}")
    with pytest.raises(MathError):
        to_mathml(r"\nosuchcommand{x}")


def test_directives_computed_ahead_are_the_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second process (`scdocs.ahead`) gives what rendering here gives; a directive it
    fails on, or that logs a warning, it leaves to the build (None)."""
    import logging

    from scdocs import ahead, registry
    from scdocs.registry import render

    def warns() -> registry.Output:
        logging.getLogger("mkdocs.test").warning("a warning the strict build must count")
        return registry.Html("x")

    monkeypatch.setitem(registry.RENDERERS, "warns", warns)  # before the fork: the worker has it
    bodies = [
        "params in_channels=3 out_channels=10 kernel_size=5",
        "formula name=conv-output",
        "derivation op=output-size",
        "params kernel_size=0",
        "warns",
    ]
    worker = ahead.Ahead(bodies)
    try:
        deadline = time.monotonic() + 120
        while worker._claims[0] == 0 and time.monotonic() < deadline:  # it reached the first
            time.sleep(0.05)
        got = [worker.take(b) for b in bodies]
    finally:
        worker.close()
    for body, out in zip(bodies[:3], got[:3], strict=True):
        assert out is not None and out == render(*parse(body)), body
    assert got[3] is None and got[4] is None


def test_derivation_level_is_shown() -> None:
    _, blocks = expand("{{ symconv derivation op=output-size }}")
    level = sc.arith.lecture_formula_derivation().verify().level
    assert f"level <code>{level}</code>" in blocks[0].text


# -- a real browser ----------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_pages_render_in_chromium(site: Path, tmp_path: Path) -> None:
    for name in MATH_PAGES:
        url = (site / name / "index.html").as_uri()
        dom = _chromium(["--dump-dom", url], tmp_path / f"profile-{name}").stdout
        assert "<math" in dom, name
        assert "<merror" not in dom and "katex-error" not in dom, name
        text = "".join(_parse(dom).parts)
        found = TEX_LEFT.search(text)
        assert found is None, f"{name}: raw TeX in visible text: {found}"
    shot = tmp_path / "matrix.png"
    _chromium(
        ["--window-size=1280,2400", f"--screenshot={shot}", (site / "matrix/index.html").as_uri()],
        tmp_path / "profile-shot",
    )
    assert shot.is_file() and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_explorer_runs_in_the_built_site(site: Path, tmp_path: Path) -> None:
    """The built explorer page, opened as a file with a linked configuration."""
    url = (site / "explorer" / "index.html").as_uri() + "?dims=2&input=7x9&stride=2&dilation=2"
    dom = _chromium(["--dump-dom", url], tmp_path / "profile").stdout
    size = sc.Conv(kernel_size=3, stride=2, padding=1, dilation=2).output_size((7, 9))
    assert f'data-symconv="output-size">{size[0]}x{size[1]}<' in dom


def test_testing_page_joins_the_nav_when_written(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("scdocs_hook", ROOT / "docs/hooks/hook.py")
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    nav = [{"Home": "index.md"}, {"API reference": "api.md"}]
    hook.on_config({"docs_dir": str(tmp_path), "nav": nav})
    assert len(nav) == 2
    (tmp_path / "testing.md").write_text("# Testing\n")
    hook.on_config({"docs_dir": str(tmp_path), "nav": nav})
    assert nav[1] == {"Testing your convolution code": "testing.md"}
