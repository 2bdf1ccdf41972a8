"""The layers hold without dodges: no module-level import cycle, no import of the project's own
modules inside a function except the few listed here, each with its reason (an optional dependency, or lazy loading that
keeps `import symconv`, `import numeric`, the pytest plugin and `symconv --help` light), and
`importlib.import_module` only in the documented lazy-loading mechanisms.

A new in-function import fails `test_no_new_import_inside_a_function`: remove the cycle it
dodges (move the function to the module where it belongs, split the module; the layers are in
`.importlinter` and docs/architecture.md), or, when deferring the import is the point, add it
below with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PROJECT = ("symconv", "numeric")

# (file, function, module as written) -> why the import sits inside that function
ALLOWED: dict[tuple[str, str, str], str] = {
    # lazy loading, SymPy: building or validating a spec imports no SymPy; a formula does
    ("symconv/spec/_conv.py", "output_size_formula", "._formulas"): "SymPy, for a formula only",
    ("symconv/spec/_pool.py", "output_size_formula", "._formulas"): "SymPy, for a formula only",
    # a spec-layer method computed a layer up (the one exception in .importlinter)
    ("symconv/transpose.py", "_verify_adjoint", ".indexform"): (
        "ConvTranspose.verify_adjoint compares index forms (SymPy), a layer above the spec"
    ),
    # looked up on the package at each call, so that a monkeypatched
    # numeric.algorithms.rank_one_factors reaches "auto" (the package imports this module)
    ("numeric/algorithms/choice.py", "_rank_one_factors", "."): "the package's current name",
    # lazy loading, SymPy: the tour forks its torch worker before loading its SymPy sections
    ("symconv/tour/__init__.py", "tour", "."): "SymPy, after the torch worker's fork",
    # lazy loading, SymPy: choosing an algorithm ("auto") prices with the printed cost functions;
    # the cost model's derivation (SymPy) loads when it is asked for
    ("numeric/algorithms/__init__.py", "__getattr__", ".derivation"): "SymPy, for the derivation",
    # optional dependency: family imports scipy.sparse; derive and the CLI run without SciPy
    ("symconv/registry.py", "_unfold_fold", ".family"): "optional dependency, SciPy",
    ("symconv/registry.py", "_adaptive_pool", ".family"): "optional dependency, SciPy",
    # verify's identities: a package that may fail to import becomes a Skip, not an error
    ("symconv/verify/identities.py", "_equivariance", "..equivariance"): "a Skip if it fails",
}
MOST = 20  # issue 16: "about 20 at most"

# files that call importlib.import_module -> the mechanism it is (docs/architecture.md, "Lazy
# loading"); anywhere else it would be an in-function import that this test cannot see
IMPORT_MODULE: dict[str, str] = {
    "symconv/__init__.py": "the package's re-exports, a module __getattr__",
    "symconv/testing/__init__.py": "the package's re-exports, a module __getattr__",
    "symconv/cli/parser.py": "the CLI's subcommands, named 'module:function' (_lazy)",
    "numeric/__init__.py": "the package's re-exports, a module __getattr__",
    "numeric/_ops/_common.py": "numeric._ops' one deferral, lazy('algorithms')",
    "numeric/_backend.py": "the generated module of the backend the arrays pick",
    "numeric/local.py": "the generated module of the backend the arrays pick",
    "symconv/arch/torch_import.py": "the user's model factory, package.module:factory",
}


def _sources() -> list[Path]:
    files = [p for root in PROJECT for p in sorted((ROOT / root).rglob("*.py"))]
    return [p for p in files if "_generated" not in p.relative_to(ROOT).parts]


def _own(node: ast.Import | ast.ImportFrom) -> str | None:
    """The module `node` imports as written, when it is one of the project's, else None."""
    if isinstance(node, ast.ImportFrom):
        own = node.level > 0 or (node.module or "").split(".")[0] in PROJECT
        return "." * node.level + (node.module or "") if own else None
    names = [a.name for a in node.names if a.name.split(".")[0] in PROJECT]
    return ", ".join(names) or None


def _imports_in_functions(path: Path, root: Path = ROOT) -> list[tuple[str, str, str, int]]:
    """(file, function, module, line) of every import of a project module inside a function
    (methods and nested functions included; `if TYPE_CHECKING:` blocks are module level)."""
    rel = path.relative_to(root).as_posix()
    found = []

    def walk(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                walk(child, child.name)
            elif isinstance(child, ast.Import | ast.ImportFrom) and function:
                module = _own(child)
                if module:
                    found.append((rel, function, module, child.lineno))
            else:
                walk(child, function)

    walk(ast.parse(path.read_text(), str(path)), None)
    return found


def _all_found() -> list[tuple[str, str, str, int]]:
    return [hit for path in _sources() for hit in _imports_in_functions(path)]


def test_the_scan_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    """The scanner itself: it finds nested and method imports, relative and absolute, and
    ignores the standard library, third parties and module-level imports."""
    src = tmp_path / "probe.py"
    src.write_text(
        "import symconv\nfrom . import _sizes\n"
        "def f():\n    import numpy\n    from .spec import Conv\n"
        "class C:\n    def m(self):\n        def inner():\n            import numeric.p4\n"
    )
    hits = [(fn, mod) for _, fn, mod, _ in _imports_in_functions(src, tmp_path)]
    assert hits == [("f", ".spec"), ("inner", "numeric.p4")]


def test_no_new_import_inside_a_function() -> None:
    new = [
        f"{file}:{line} {function}() imports {module}"
        for file, function, module, line in _all_found()
        if (file, function, module) not in ALLOWED
    ]
    assert not new, (
        "imports of the project's own modules inside functions, not in ALLOWED of "
        "tests/application/test_layers.py (remove the cycle, or list it with its reason):\n"
        + "\n".join(new)
    )


def test_every_allowed_import_still_exists() -> None:
    """An entry whose import went away is removed from ALLOWED, so the list stays the truth."""
    found = {(file, function, module) for file, function, module, _ in _all_found()}
    assert not set(ALLOWED) - found, sorted(set(ALLOWED) - found)


def test_few_imports_inside_functions() -> None:
    assert len(_all_found()) <= MOST
    assert all(reason.strip() for reason in ALLOWED.values())


def test_import_module_only_in_the_lazy_loading_mechanisms() -> None:
    calls = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            func = node.func if isinstance(node, ast.Call) else None
            name = getattr(func, "attr", None) or getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                calls.setdefault(path.relative_to(ROOT).as_posix(), node.lineno)
    unexpected = {f: line for f, line in calls.items() if f not in IMPORT_MODULE}
    assert not unexpected, f"importlib.import_module outside the lazy mechanisms: {unexpected}"
    assert not set(IMPORT_MODULE) - set(calls), sorted(set(IMPORT_MODULE) - set(calls))


def _modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, whether it is a package's `__init__.py`)."""
    out = {}
    for path in _sources():
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


def _module_level_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported: outside every function, and outside
    `if TYPE_CHECKING:` (its `else` branch runs)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(ast.Module(body=child.orelse, type_ignores=[]))
            elif isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            else:
                visit(child)

    visit(tree)
    return found


def _import_graph() -> dict[str, set[str]]:
    """Module -> the project's modules its module-level imports load (`from . import x` is the
    submodule x where there is one, else the package; importing a.b.c loads a and a.b too,
    except the importer's own packages, which are loaded before it anyway)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, (path, package) in modules.items():
        targets = set()
        for node in _module_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                wanted = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    here = name.split(".") if package else name.split(".")[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    base = ".".join([*here, *([node.module] if node.module else [])])
                wanted = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                          for a in node.names]  # fmt: skip
            for target in wanted:
                while target and target not in modules:  # an attribute: its module
                    target = target.rpartition(".")[0]
                if target:
                    parts = target.split(".")
                    targets |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        graph[name] = {t for t in targets if t in modules and not (name + ".").startswith(t + ".")}
    return graph


def _a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (a path that comes back to its start), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _a_cycle(graph) == ["a", "b", "c", "a"]
    assert _a_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_module_level_imports() -> None:
    graph = _import_graph()
    assert {"symconv.spec", "symconv.transpose", "symconv.indexform._values"} <= graph[
        "symconv.indexform._build"
    ]
    assert "symconv.indexform" not in graph["symconv.transpose"]  # inside a function only
    assert "numeric.algorithms" not in graph["numeric._ops.fft_plan"]


def test_no_module_level_import_cycle() -> None:
    cycle = _a_cycle(_import_graph())
    assert cycle is None, "a module-level import cycle: " + " -> ".join(cycle or [])
