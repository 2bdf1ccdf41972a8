"""The package's metadata: one version, the CLI reports it, a LICENSE matching pyproject."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from helpers import ROOT

import symconv
from symconv.cli import main

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_version_lives_in_one_place() -> None:
    """pyproject.toml reads the version from `symconv.__version__` (no copy of its own)."""
    assert "version" not in PYPROJECT["project"]
    assert "version" in PYPROJECT["project"]["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, name = attr.rpartition(".")
    assert (module, name) == ("symconv", "__version__")
    assert symconv.__version__.count(".") == 2 and symconv.__version__[0].isdigit()


def test_symconv_version_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"symconv {symconv.__version__}"


def test_the_license_file_is_the_license_pyproject_names() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")


def test_the_dev_tools_are_pinned_in_the_test_extra() -> None:
    test = PYPROJECT["project"]["optional-dependencies"]["test"]
    pinned = {r.split("==")[0] for r in test if "==" in r}
    assert {"ruff", "import-linter", "mypy"} <= pinned


def test_mypy_checks_both_packages_and_silences_only_untyped_third_party_modules() -> None:
    """[tool.mypy]: symconv and numeric, run by CI; missing imports ignored per module only."""
    mypy = PYPROJECT["tool"]["mypy"]
    assert mypy["files"] == ["symconv", "numeric"]
    assert "ignore_missing_imports" not in mypy
    silenced = {
        m for o in mypy["overrides"] if o.get("ignore_missing_imports") for m in o["module"]
    }
    ours = {m for m in silenced if m.split(".")[0] in {"symconv", "numeric", "tests"}}
    assert silenced and not ours
    assert ".venv/bin/mypy" in (ROOT / ".ci" / "run").read_text()
    assert "entry: .venv/bin/mypy" in (ROOT / ".pre-commit-config.yaml").read_text()


def test_the_packages_ship_their_py_typed_marker() -> None:
    """PEP 561: `py.typed` in both packages, and setuptools told to install it."""
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    for package in ("symconv", "numeric"):
        assert "py.typed" in data[package]
        assert (ROOT / package / "py.typed").is_file()


def test_the_cost_model_ships_its_rates() -> None:
    """`numeric/algorithms/rates.json`, the data file the cost model reads, is package data."""
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    assert "rates.json" in data["numeric.algorithms"]
    assert (ROOT / "numeric" / "algorithms" / "rates.json").is_file()


def _repository_files() -> list[Path]:
    """Source, docs and config files, not descending into hidden or build folders (.venv)."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in {"site", "build"}]
        found += [Path(folder, f) for f in files if Path(f).suffix in {".py", ".md", ".toml"}]
    return found


def test_nothing_refers_to_a_design_file_outside_the_repository() -> None:
    """The code once cited a design document that is not in the repository."""
    missing = "DESIGN" + ".md"
    files = _repository_files()
    assert len(files) > 50
    assert not [str(p.relative_to(ROOT)) for p in files if missing in p.read_text()]
