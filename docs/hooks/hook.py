"""mkdocs hook (mkdocs.yml `hooks:`): expands `{{ symconv ... }}` directives at build time.

The rendering lives in the `scdocs` package beside this file; this module only connects it to
mkdocs' events and turns a bad directive into a build error.
"""

from __future__ import annotations

import os

# The certificates' torch checks run tiny tensors: OpenMP's worker threads, spinning while
# they wait, cost more than they save (a small conv + backward on a loaded 2-core machine:
# 0.2 ms on one thread, 150 ms on two). Set before torch (or NumPy's BLAS) is first imported;
# an explicit setting is kept.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from scdocs import DirectiveError, MathError, expand, finish
from scdocs.ahead import Ahead, wanted
from scdocs.directives import DIRECTIVE

_BLOCKS: dict[str, list[Any]] = {}
_RUN: dict[str, Any] = {"command": None, "ahead": None}


def on_startup(command: str, dirty: bool) -> None:
    _RUN["command"] = command


def on_files(files: Any, config: Any) -> Any:
    """`mkdocs build` on two or more CPUs: a second process renders the pages' directives
    from the last one backwards while the build renders them from the first (`scdocs.ahead`);
    `mkdocs serve` (threads, rebuilds) computes everything in its one process."""
    _close()
    if _RUN["command"] == "build" and wanted():
        bodies: dict[str, None] = {}  # each directive's text once, in the order of the build
        for file in files.documentation_pages():
            text = Path(file.abs_src_path).read_text(encoding="utf-8")
            bodies.update(dict.fromkeys(m["body"] for m in DIRECTIVE.finditer(text)))
        _RUN["ahead"] = Ahead(list(bodies))
    return files


def _close() -> None:
    ahead, _RUN["ahead"] = _RUN["ahead"], None
    if ahead is not None:
        ahead.close()


def on_post_build(config: Any) -> None:
    _close()


def on_build_error(error: Exception) -> None:
    _close()


def on_config(config: Any) -> Any:
    """Add docs/testing.md (written separately) to the nav when it exists."""
    docs = Path(config["docs_dir"])
    nav = config.get("nav")
    listed = {next(iter(item.values())) for item in nav or [] if isinstance(item, dict)}
    if nav is not None and (docs / "testing.md").is_file() and "testing.md" not in listed:
        at = next(
            (
                i
                for i, item in enumerate(nav)
                if isinstance(item, dict) and "api.md" in item.values()
            ),
            len(nav),
        )
        nav.insert(at, {"Testing your convolution code": "testing.md"})
    return config


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    try:
        text, blocks = expand(markdown, _RUN["ahead"])
    except (DirectiveError, MathError) as error:
        raise PluginError(f"{page.file.src_uri}: {error}") from error
    _BLOCKS[page.file.src_uri] = blocks
    return text


def on_page_content(html: str, page: Any, **kwargs: Any) -> str:
    try:
        return finish(html, _BLOCKS.pop(page.file.src_uri, []))
    except (DirectiveError, MathError) as error:
        raise PluginError(f"{page.file.src_uri}: {error}") from error
