r"""Kernel templates: real Python modules that the printer turns into the generated modules.

Each template (`conv.py`, `pool.py`, `local.py`, `fft.py`, `winograd.py`, `shifted.py`, one
per kernel family) is an importable, linted and type-checked module over two vocabularies and
nothing else (a template may import another's kernels, as `local.py` imports `conv.py`'s
windows; the printer puts those into the module once, as the other family's nodes):

- the *primitives* of `prims.py` (`_zeros`, `_take`, `_matmul`, ...), every array operation,
  spelled in NumPy there; each backend printer maps a primitive to its own spelling;
- the *index maps* of `maps.py` (`_phi_reflect`, `_start_corr`, `_conv_out`, ...), each an
  expression read off an index form or a derivation (`symconv.codegen.kernels`, ...); in the
  generated module every one is printed from that expression, and importing a template binds
  each to the same printed NumPy code (so are Winograd's printed matrices,
  `maps.winograd_literals()`).

So a template runs on NumPy arrays as it is (its unit tests call it,
tests/codegen/test_templates.py), and `template_kernels()` reads its source (never importing
it) into the printer's `Kernel` nodes: the text of each section `# -- kernel NAME` with the
type annotations of every `def` taken out (the generated modules carry none), everything
above the first section (docstring, imports, bindings such as Winograd's `FORWARD`) dropped.
`primitives()` reads `prims.py` the same way: name -> (parameters, the returned expression),
the NumPy backend's vocabulary.

Example:

    >>> [k.name for k in template_kernels("conv")][:3]
    ['PHI', '_layout', '_thin']
    >>> primitives()["_zeros"]
    ('shape, like', 'numpy.zeros(shape, dtype=like.dtype)')
"""

from __future__ import annotations

import ast
import copy
import functools
import io
import re
import tokenize
from pathlib import Path

from ..printer import Kernel

__all__ = ["FAMILIES", "primitives", "template_kernels", "template_path"]

FAMILIES = ("conv", "pool", "local", "fft", "winograd", "shifted")  # one per kernel family
_HERE = Path(__file__).resolve().parent
_SECTION = re.compile(r"^# -- kernel (\w+) -+$", re.MULTILINE)
_WIDTH = 100  # the printed line length (ruff's, pyproject.toml)


def template_path(family: str) -> Path:
    """The file of template `family` (one of `FAMILIES`, or `"prims"`)."""
    if family not in (*FAMILIES, "prims"):
        raise ValueError(f"codegen: no template {family!r}; the templates are {FAMILIES}")
    return _HERE / f"{family}.py"


def _params(node: ast.FunctionDef) -> str:
    """The parameter list of `node` without annotations, as `ast.unparse` spells it."""
    args = copy.deepcopy(node.args)
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None:
            arg.annotation = None
    return ast.unparse(args)


def _header(indent: str, name: str, params: str) -> list[str]:
    """`def name(params):` in ruff's layout: one line, or the parameters on their own line,
    or one parameter a line (with the magic trailing comma)."""
    one = f"{indent}def {name}({params}):"
    if len(one) <= _WIDTH:
        return [one]
    inner = indent + "    "
    if len(inner + params + ",") <= _WIDTH:
        return [f"{indent}def {name}(", inner + params, f"{indent}):"]
    parts = [p.strip() for p in params.split(", ")]  # defaults here are plain literals
    return [f"{indent}def {name}(", *(f"{inner}{p}," for p in parts), f"{indent}):"]


def _header_ends(text: str) -> dict[int, tuple[int, str]]:
    """Line (1-based) of each `def` -> (the line of the colon ending its header, the comment
    after that colon or "")."""
    out: dict[int, tuple[int, str]] = {}
    start, depth, end = 0, 0, 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and tok.string == "def" and not start:
            start, depth = tok.start[0], 0
        elif start and tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif start and tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif start and not end and tok.type == tokenize.OP and tok.string == ":" and depth == 0:
            end = tok.start[0]
            out[start] = (end, "")
        elif end and tok.type == tokenize.COMMENT and tok.start[0] == end:
            out[start] = (end, tok.string)
        elif end and tok.type in (tokenize.NEWLINE, tokenize.NL):
            start = end = 0
    return out


def _strip_annotations(text: str) -> str:
    """`text` (top-level statements) with the annotations taken out: every `def`'s (a comment
    after the header's colon is kept) and every `name: T = value`'s (its value must start on
    the same line); a bare declaration `name: T` is refused."""
    tree = ast.parse(text)
    lines = text.split("\n")
    ends = _header_ends(text)
    edits: list[tuple[int, int, list[str]]] = []  # (first line, end line, new lines)
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign):
            if node.value is None or node.value.lineno != node.lineno:
                raise ValueError(
                    f"codegen: template line {node.lineno}: only `name: T = value` (the value "
                    "on the same line) may be annotated"
                )
            line = lines[node.lineno - 1]
            target = line[: node.col_offset] + ast.unparse(node.target)
            edits.append(
                (node.lineno - 1, node.lineno, [f"{target} = {line[node.value.col_offset :]}"])
            )
        if isinstance(node, ast.AsyncFunctionDef) or (
            isinstance(node, ast.FunctionDef) and node.decorator_list
        ):
            raise ValueError(f"codegen: template line {node.lineno}: plain defs only")
        if isinstance(node, ast.FunctionDef):
            end, comment = ends[node.lineno]
            first = node.lineno - 1
            indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
            new = _header(indent, node.name, _params(node))
            if comment:
                new[-1] += "  " + comment
            edits.append((first, end, new))
    for first, end, new in sorted(edits, reverse=True):
        lines[first:end] = new
    return "\n".join(lines)


@functools.cache
def _sections(family: str) -> tuple[tuple[str, str], ...]:
    text = template_path(family).read_text(encoding="utf-8")
    marks = list(_SECTION.finditer(text))
    if not marks:
        raise ValueError(f"codegen: template {family!r} has no '# -- kernel NAME' section")
    head = ast.parse(text[: marks[0].start()])
    for stmt in head.body[1:]:  # the docstring, then imports and __all__ only
        if not isinstance(stmt, ast.Import | ast.ImportFrom | ast.Assign):
            raise ValueError(
                f"codegen: template {family!r}: line {stmt.lineno} is above the sections"
            )
    out = []
    for mark, after in zip(marks, [*marks[1:], None], strict=True):
        body = text[mark.end() : None if after is None else after.start()].strip("\n")
        out.append((mark.group(1), _strip_annotations(body)))
    return tuple(out)


def template_kernels(family: str) -> list[Kernel]:
    """The `Kernel` nodes of template `family`, one per section, in the file's order; each
    records the template module it comes from."""
    module = f"symconv.codegen.templates.{family}"
    return [Kernel(name, src, "", template=module) for name, src in _sections(family)]


@functools.cache
def primitives() -> dict[str, tuple[str, str]]:
    """`prims.py`'s vocabulary: name -> (parameters, the returned expression's source)."""
    text = template_path("prims").read_text(encoding="utf-8")
    out = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef):
            ret = node.body[-1]
            if not isinstance(ret, ast.Return) or ret.value is None:
                raise ValueError(f"codegen: primitive {node.name} must end in `return expr`")
            source = ast.get_source_segment(text, ret.value)
            assert source is not None
            out[node.name] = (_params(node), source)
    return out
