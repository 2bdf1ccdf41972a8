"""README.md's code runs as written (so it cannot drift from the code again).

Every ```python block is executed, in order, in one namespace (a block may use what an earlier
one defined); every `symconv ...` line of a ```bash block is run through the CLI in-process and
must exit 0. Lines that name a user's own package (`mypkg`) or set up a machine (`python3 -m
venv`, `mkdocs serve`) are the exceptions, listed below.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from pathlib import Path

import pytest
from helpers import ROOT

from symconv.cli import main

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(python|bash)\n(.*?)```", README, flags=re.S)
# a command line that stands for the user's own code, not something to run here
NOT_HERE = ("mypkg.", "--out build/", "python3 -m venv", "mkdocs serve", "env -u")


def _commands() -> list[str]:
    out = []
    for lang, body in BLOCKS:
        if lang != "bash":
            continue
        for line in body.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("symconv ") and not any(n in line for n in NOT_HERE):
                out.append(line)
    return out


def test_readme_has_code_to_run() -> None:
    assert sum(lang == "python" for lang, _ in BLOCKS) >= 3
    assert len(_commands()) >= 10


def test_python_blocks_run_in_order(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    namespace: dict[str, object] = {"__name__": "readme"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for n, (lang, body) in enumerate(BLOCKS):
            if lang == "python":
                exec(compile(body, f"README.md python block {n}", "exec"), namespace)
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("line", _commands())
def test_cli_lines_exit_zero(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(line.split(" > ")[0])[1:]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    assert code in (0, None), (line, err.getvalue()[-2000:])
    assert "Traceback" not in err.getvalue()
