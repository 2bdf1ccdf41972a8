"""The convolution explorer (docs/explorer.md): its arithmetic is printed, and it shows what the
Python engine computes.

The printed module (docs/js/symconv_layer.js) is compared with the engine function by function,
on SymPy and on integers; then headless Chromium loads the explorer's script with query
parameters for hypothesis-drawn layers and the output size, the nonzeros of the layer's matrix,
the inputs a selected output reads and the outputs a selected input feeds are compared with
`symconv.indexform`. The page needs no server: it runs from files, as the built site does.
"""

from __future__ import annotations

import html
import itertools
import math
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
import sympy
from helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv as sc
from symconv import _sizes
from symconv._torchref import conv_reference
from symconv.codegen.javascript import explorer_module, printed_functions
from symconv.indexform import index_form
from symconv.testing import conv_specs, pool_specs

torch = pytest.importorskip("torch")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_every_printed_function_names_its_engine_source():
    text = explorer_module()
    for name, (args, _, source) in printed_functions().items():
        assert f"// printed from {source}\n  function {name}({', '.join(args)})" in text


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_symbolic_padding_map_is_the_numeric_one(mode):
    i, n = sympy.symbols("i n", integer=True)
    expr = _sizes.pad_index(mode, i, n)
    for size in (1, 2, 3, 7):
        lo = -(size - 1) if mode == "reflect" else -2 * size
        for j in range(lo, 2 * size if mode != "reflect" else 2 * size - 1):
            assert int(expr.subs({i: j, n: size})) == int(_sizes.pad_index(mode, j, size))


def test_symbolic_sizes_are_the_numeric_ones():
    fns = printed_functions()
    rng = np.random.default_rng(0)
    for _ in range(300):
        i, k, s, d, lo, hi = (int(v) for v in rng.integers(1, 9, 6))
        lo, hi = lo - 1, hi - 1
        if _sizes.padded_length(i, lo, hi) < _sizes.dilated_extent(k, d):
            continue
        args = dict(zip("i k s d lo hi".split(), (i, k, s, d, lo, hi), strict=True))
        for name, numeric in (("convOut", _sizes.conv_out), ("unused", _sizes.unused)):
            names, expr, _ = fns[name]
            subs = {sympy.Symbol(a, integer=True): args[a] for a in names}
            assert int(expr.subs(subs)) == numeric(i, k, s, d, lo, hi), (name, args)
        p = lo
        names, expr, _ = fns["poolOutCeil"]
        if 2 * p <= k:
            subs = {
                sympy.Symbol(a, integer=True): v
                for a, v in zip(names, (i, k, s, d, p), strict=True)
            }
            assert int(expr.subs(subs)) == _sizes.pool_out(i, k, s, d, p, ceil_mode=True)


# -- the page in a browser -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The explorer as the built site serves it: the page's markup and its two scripts."""
    out = tmp_path_factory.mktemp("explorer")
    (out / "js").mkdir()
    for name in ("symconv_layer.js", "explorer.js"):
        shutil.copy(ROOT / "docs" / "js" / name, out / "js" / name)
    body = (ROOT / "docs" / "explorer.md").read_text(encoding="utf-8")
    markup = "\n".join(line for line in body.splitlines() if line.startswith("<"))
    (out / "explorer").mkdir()
    (out / "explorer" / "index.html").write_text(
        f'<!doctype html><html><head><meta charset="utf-8"></head><body>{markup}</body></html>'
    )
    return out / "explorer" / "index.html"


def _shown(page: Path, query: dict[str, str], profile: Path) -> dict[str, str]:
    url = page.as_uri() + "?" + urlencode(query)
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    ).stdout
    found = re.findall(r'data-symconv="([a-z0-9-]+)"[^>]*>([^<]*)<', dom)
    cells = re.findall(r'aria-label="output ([0-9,]+)"[^>]*>([^<]*)<', dom)
    return {k: html.unescape(v) for k, v in found} | {"y " + at: v for at, v in cells}


def _size(v: tuple[int, ...]) -> str:
    return "x".join(map(str, v))


def _padding(spec: sc.Conv) -> str:
    return "x".join(f"{lo}:{hi}" for lo, hi in spec.pads)


def _reads(form, at: tuple[int, ...]) -> str:
    per_axis = [form.tap_table(a)[o] for a, o in enumerate(at)]
    cells = {",".join(map(str, c)) for c in itertools.product(*per_axis) if min(c) >= 0}
    return " ".join(sorted(cells))


def _feeds(form, at: tuple[int, ...]) -> str:
    per_axis = [np.flatnonzero((form.tap_table(a) == i).any(axis=1)) for a, i in enumerate(at)]
    return " ".join(sorted(",".join(map(str, c)) for c in itertools.product(*per_axis)))


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install chromium)"
)


def _check(page: Path, spec, size, query: dict[str, str], profile: Path, data) -> None:
    form = (
        index_form(spec, size)
        if not isinstance(spec, sc.Pool)
        else index_form(spec, size, channels=1)
    )
    out = form.output_size
    sel = tuple(data.draw(st.integers(0, o - 1)) for o in out)
    sel_in = tuple(data.draw(st.integers(0, i - 1)) for i in size)
    query |= {
        "dims": str(spec.dims),
        "input": _size(size),
        "select": ",".join(map(str, sel)),
        "select_input": ",".join(map(str, sel_in)),
        "image": "ramp",
        "kernel_values": "ramp",
    }
    shown = _shown(page, query, profile)
    assert "error" not in shown, (spec, shown["error"])
    assert shown["output-size"] == _size(out), spec
    assert int(shown["nonzeros"]) == form.nonzeros(), spec
    assert shown["reads"] == _reads(form, sel), spec
    assert shown["feeds"] == _feeds(form, sel_in), spec
    if isinstance(spec, sc.Conv):  # the image demo: ramp image, ramp kernel, one channel pair
        one = spec.replace(in_channels=1, out_channels=1, groups=1)
        grid = np.add.outer(*(np.arange(n) for n in size)) if spec.dims == 2 else np.arange(size[0])
        w = np.arange(1, math.prod(spec.kernel_size) + 1).reshape(spec.kernel_size)
        y = conv_reference(
            one,
            torch.tensor(grid[None, None], dtype=torch.float64),
            torch.tensor(w[None, None], dtype=torch.float64),
        )[0, 0].numpy()
        for at in itertools.product(*(range(o) for o in out)):
            assert float(shown["y " + ",".join(map(str, at))]) == y[at], (spec, size, at, y)


@needs_chromium
@settings(max_examples=6, deadline=None)
@given(case=conv_specs(dims=[1, 2], max_size=9, channels=(1, 3), groups=(1, 3)), data=st.data())
def test_explorer_shows_the_engines_conv_layer(page, tmp_path_factory, case, data):
    spec, size = case
    query = {
        "kernel": _size(spec.kernel_size),
        "stride": _size(spec.stride),
        "padding": _padding(spec),
        "padding_mode": spec.padding_mode,
        "dilation": _size(spec.dilation),
        "in_channels": str(spec.in_channels),
        "out_channels": str(spec.out_channels),
        "groups": str(spec.groups),
        "flip": str(int(spec.flip)),
    }
    _check(page, spec, size, query, tmp_path_factory.mktemp("profile"), data)


@needs_chromium
@settings(max_examples=4, deadline=None)
@given(case=pool_specs(dims=[1, 2], kinds=["max", "avg"], max_size=9), data=st.data())
def test_explorer_shows_the_engines_pool_layer(page, tmp_path_factory, case, data):
    spec, size = case
    query = {
        "pool": spec.kind,
        "kernel": _size(spec.kernel_size),
        "stride": _size(spec.stride),
        "padding": _size(spec.padding),
        "dilation": _size(spec.dilation),
        "ceil_mode": str(int(spec.ceil_mode)),
    }
    _check(page, spec, size, query, tmp_path_factory.mktemp("profile"), data)


@needs_chromium
@settings(max_examples=4, deadline=None)
@given(
    dims=st.sampled_from([1, 2]),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    p=st.integers(0, 2),
    i=st.integers(1, 6),
    data=st.data(),
)
def test_explorer_shows_the_engines_transposed_layer(
    page, tmp_path_factory, dims, k, s, d, p, i, data
):
    op = data.draw(st.integers(0, max(s, d) - 1))
    if _sizes.transpose_out(i, k, s, d, p, op) < 1:
        return
    spec = sc.ConvTranspose(
        dims=dims, kernel_size=k, stride=s, dilation=d, padding=p, output_padding=op
    )
    query = {
        "transposed": "1",
        "kernel": str(k),
        "stride": str(s),
        "dilation": str(d),
        "padding": str(p),
        "output_padding": str(op),
    }
    _check(page, spec, (i,) * dims, query, tmp_path_factory.mktemp("profile"), data)


@needs_chromium
def test_explorer_writes_out_the_lectures_blur(page, tmp_path):
    """Larson's blur, output (0, 1): the dot product with its numbers, 28 (the lecture prints 21)."""
    shown = _shown(page, {"select": "0,1"}, tmp_path / "profile")
    assert shown["output-size"] == "7x7"
    assert shown["cell-numbers"].endswith("= 28")
    assert "2·1" in shown["cell-numbers"] and "4·2" in shown["cell-numbers"]
    assert (
        int(shown["nonzeros"]) == index_form(sc.Conv(kernel_size=3, padding=1), (7, 7)).nonzeros()
    )
    bad = _shown(page, {"kernel": "9", "padding": "0"}, tmp_path / "profile2")
    assert "kernel spans more than the padded input" in bad["error"]


def test_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "explorer.md" in nav
