"""Lazy loading and the public import surface.

`import symconv`, `import numeric`, the pytest plugin and `symconv --help` load neither SymPy,
SciPy nor torch (each is checked in a fresh interpreter); every public name of `symconv`,
`numeric` and every name README.md and docs/ use still resolves.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest
from helpers import ROOT

import numeric
import symconv

HEAVY = ("sympy", "scipy", "torch")


def _fresh(code: str) -> dict[str, Any]:
    """Run `code` in a fresh interpreter with this checkout first on the path; report which of
    the heavy libraries it loaded, and which of the project's modules."""
    probe = (
        f"{code}\nimport json, sys\n"
        "print(json.dumps({'heavy': sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{HEAVY!r}), 'own': sorted(m for m in sys.modules if m.split('.')[0] in "
        "('symconv', 'numeric'))}))"
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import symconv",
        "import numeric",
        "import symconv.testing.plugin",
        "import numeric.p4, numeric.local, numeric.grad",  # all but algorithms (the cost model)
        "import symconv, numeric, symconv.testing; symconv.Conv(kernel_size=3).output_size(7)",
        "import symconv; symconv.SpecError, symconv.Pool, symconv.LocallyConnected, "
        "symconv.ConvTranspose, symconv.__version__",
        # the CLI: its help, its version, `params` (`shape` prints a SymPy formula)
        "from symconv.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass",
        "from symconv.cli import main\ntry: main(['--version'])\nexcept SystemExit: pass",
        "from symconv.cli import main\ntry: main(['shape', '--help'])\nexcept SystemExit: pass",
        "from symconv.cli import main; main(['params', '--in-channels', '3', '--kernel', '5'])",
        # numeric's kernels choosing by the cost model ("auto"): printed cost functions
        "import numpy as np, numeric as nm, symconv as sc\n"
        "from numeric.algorithms import costs, explain\n"
        "nm.conv2d(np.ones((2, 16, 12, 12)), np.ones((16, 16, 3, 3)), padding=1)\n"
        "layer = sc.Conv(dims=2, in_channels=64, out_channels=64, kernel_size=3, padding=1)\n"
        "explain(layer, (28, 28), batch=8), costs(layer, (28, 28))",
    ],
)
def test_light_imports_load_no_heavy_library(code: str) -> None:
    assert _fresh(code)["heavy"] == []


def test_the_light_surface_loads_few_modules() -> None:
    """`import symconv` loads the package alone; `import numeric` only the spec layer below."""
    assert _fresh("import symconv")["own"] == ["symconv"]
    own = _fresh("import numeric")["own"]
    assert not [m for m in own if m.startswith("numeric.") and m.count(".") == 1 and m not in (
        "numeric._autograd", "numeric._backend", "numeric._half", "numeric._ops", "numeric._parallel"
    )], own  # fmt: skip
    assert "numeric.algorithms" not in own and "symconv.codegen" not in own


def test_numeric_family_names_are_listed_once() -> None:
    import numeric
    import numeric.family

    assert sorted(numeric._FAMILY) == sorted(numeric.family.__all__)
    assert all(getattr(numeric, n) is getattr(numeric.family, n) for n in numeric._FAMILY)


def test_heavy_libraries_load_when_a_function_needs_them() -> None:
    """The lazy names are real: looking one up imports its module (and SymPy with it)."""
    loaded = _fresh("import symconv; symconv.toeplitz")
    assert "sympy" in loaded["heavy"] and "symconv.toeplitz" in loaded["own"]
    assert (
        "sympy"
        in _fresh(
            "import symconv.cli as c\ntry: c.main(['derive', '--help'])\nexcept SystemExit: pass"
        )["heavy"]
    )


def test_a_function_named_like_its_module_stays_the_function() -> None:
    """`symconv.toeplitz` is the function even when the submodule is imported first."""
    code = (
        "import symconv.toeplitz, symconv.winograd, symconv.separable, symconv.backprop\n"
        "import symconv.equivariance, symconv.local_params\n"
        "import symconv as sc, types\n"
        "bad = [n for n in ('toeplitz', 'winograd', 'separable', 'backprop', 'equivariance', "
        "'local_params') if isinstance(getattr(sc, n), types.ModuleType)]\n"
        "assert not bad, bad\n"
        "from symconv import toeplitz\n"
        "assert callable(toeplitz) and not isinstance(toeplitz, types.ModuleType)"
    )
    _fresh(code)


def test_every_submodule_is_an_attribute_of_the_package() -> None:
    """As when `symconv/__init__.py` imported them all: `import symconv; symconv.fourier...`."""
    subs = sorted({m.split(".")[1] for m in _project_modules() if m.startswith("symconv.")})
    code = (
        "import symconv, types\n"
        f"for name in {subs!r}:\n"
        "    value = getattr(symconv, name)\n"
        "    assert isinstance(value, types.ModuleType) or callable(value), name\n"
        "assert symconv.fourier.fft_plan is symconv.fft_plan and callable(symconv.toeplitz)\n"
        "assert symconv.spec.Conv is symconv.Conv"
    )
    _fresh(code)


@pytest.mark.parametrize("name", symconv.__all__)
def test_every_public_symconv_name_resolves(name: str) -> None:
    value = getattr(symconv, name)
    assert value is not None
    assert name in dir(symconv)


@pytest.mark.parametrize("name", [*numeric.__all__, "algorithms", "grad", "local", "p4"])
def test_every_public_numeric_name_resolves(name: str) -> None:
    assert getattr(numeric, name) is not None
    assert name in dir(numeric)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        symconv.no_such_name  # noqa: B018
    with pytest.raises(AttributeError, match="no_such_name"):
        numeric.no_such_name  # noqa: B018


def test_star_import_gives_the_public_names() -> None:
    ns: dict[str, Any] = {}
    exec("from symconv import *", ns)
    assert set(symconv.__all__) <= set(ns)
    assert ns["toeplitz"] is symconv.toeplitz and callable(ns["toeplitz"])


def _documented_names() -> list[str]:
    """Every `symconv.X...` / `numeric.X...` path (also as `sc.` / `nm.`) and every
    `from symconv... import a, b` of README.md and docs/*.md."""
    text = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md"))])
    names = set()
    for alias, package in (("symconv", "symconv"), ("sc", "symconv"), ("numeric", "numeric"),
                           ("nm", "numeric")):  # fmt: skip
        for m in re.finditer(rf"(?<![\w.]){alias}((?:\.[A-Za-z_]\w*)+)", text):
            names.add(package + m.group(1))
    imports = r"from ((?:symconv|numeric)[\w.]*) import (?:\(([^)]*)\)|([\w, ]+))"
    for m in re.finditer(imports, text):
        for item in (m.group(2) or m.group(3)).split(","):
            if item.split():  # `name` or `name as alias`
                names.add(f"{m.group(1)}.{item.split()[0]}")
    return sorted(names)


def _resolve(path: str) -> Any:
    """The longest importable module prefix of `path`, then attributes."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def test_the_docs_name_some_of_the_surface() -> None:
    names = _documented_names()
    assert {"symconv.Conv", "numeric.conv2d", "symconv.testing.check_identities"} <= set(names)


@pytest.mark.parametrize("path", _documented_names())
def test_every_name_in_readme_and_docs_resolves(path: str) -> None:
    obj = _resolve(path)
    assert obj is not None
    head = path.split(".")
    if len(head) == 2 and not isinstance(obj, ModuleType):  # a package attribute, as `sc.X`
        assert getattr(importlib.import_module(head[0]), head[1]) is obj


def _project_modules() -> list[str]:
    paths = [*ROOT.glob("symconv/**/*.py"), *ROOT.glob("numeric/*.py")]
    names = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in paths}
    return sorted(n.removesuffix(".__init__") for n in names if not n.endswith("__main__"))


def test_every_module_imports_first() -> None:
    """No import cycle that works only in one order: each of the project's modules imports in an
    interpreter where none of them is loaded yet."""
    code = (
        "import importlib, sys\n"
        f"for name in {_project_modules()!r}:\n"
        "    for m in [m for m in sys.modules if m.split('.')[0] in ('symconv', 'numeric')]:\n"
        "        del sys.modules[m]\n"
        "    importlib.import_module(name)\n"
    )
    _fresh(code)


def test_the_import_contract_names_every_module() -> None:
    """Every module of symconv (one level down) and numeric sits in a layer of `.importlinter`."""
    contract = (ROOT / ".importlinter").read_text()
    layers = contract.split("layers =", 1)[1].split("ignore_imports", 1)[0]
    named = {n.strip() for n in re.split(r"[:|\n]", layers) if n.strip()}
    top = {".".join(m.split(".")[:2]) for m in _project_modules()} - {"symconv"}
    missing = {m for m in top if m not in named and m.split(".")[0] not in named}
    assert not missing, f"modules in no layer of .importlinter: {sorted(missing)}"
