r"""The backend-independent printer: index forms in, array-program source out.

Two layers, both visitors in SymPy's sense (`Printer._print` walks `type(obj).__mro__` and calls
`_print_<ClassName>`):

- `IndexExprPrinter` (a `NumPyPrinter`) prints the scalar index arithmetic the index forms and
  `symconv._sizes` define -- the padding maps $\varphi$, the tap positions $S o + D a'$, the
  output and gradient-padding sizes -- as array code. Integer division becomes `//`, `Mod`
  `%`, `Piecewise` a `where`, `Min`/`Max` the backend's element-wise minimum/maximum.
- `KernelPrinter` walks a list of kernel nodes (`IndexMap`, `Kernel`) into one module. Each
  `IndexMap` is an expression read off an index form, printed as a small function; each `Kernel`
  is a vectorised array program over a *primitive vocabulary* (`_zeros`, `_take`, `_matmul`,
  ...). A backend is a thin subclass that supplies the vocabulary (`_primitives`: name ->
  signature and body) and the module name; the emitted module defines and imports exactly the
  primitives its kernels use (recorded while printing).

How the index form becomes code: the input read $\tilde x[S o + D a']$ for one tap $a$ and every
output $o$ is the strided window `slice(start, start + S (O - 1) + 1, S)` whose `start` and step
are read off the index form's position expression (at $o = 0$, and the coefficient of $o$); the
taps are `itertools.product` of the kernel ranges. Copying every tap's window into the rows
$(c, a)$ of one matrix (im2col, channels first) turns the double sum over the group's input
channels $c$ and the taps $a$ into one GEMM; its transpose (the same copies read the other way,
as adds) gives $T^\top$.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import sympy
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.printer import Printer

__all__ = ["IndexExprPrinter", "IndexMap", "Kernel", "KernelPrinter", "Unsupported"]


class Unsupported(NotImplementedError):
    """A construct the backend declares it cannot print."""


class IndexExprPrinter(NumPyPrinter):
    """Index arithmetic as array code; `_module` and `_minimum`/`_maximum` pick the backend."""

    _minimum = "numpy.minimum"
    _maximum = "numpy.maximum"
    _where = "numpy.where"

    def _call(self, qualified: str, *args: Any) -> str:
        return f"{self._module_format(qualified)}({', '.join(self._print(a) for a in args)})"

    def _print_floor(self, expr: Any) -> str:  # floor(a / b) of integers -> a // b
        num, den = sympy.fraction(sympy.together(expr.args[0]))
        if den == 1:
            return self._print(num)
        return f"({self._print(num)}) // ({self._print(den)})"

    def _print_Mod(self, expr: Any) -> str:
        a, b = expr.args
        return f"({self._print(a)}) % ({self._print(b)})"

    def _print_Abs(self, expr: Any) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Min(self, expr: Any) -> str:
        return self._fold(self._minimum, expr.args)

    def _print_Max(self, expr: Any) -> str:
        return self._fold(self._maximum, expr.args)

    def _fold(self, fn: str, args: Any) -> str:
        if not any(_is_index(a) for a in args):  # sizes only: plain integers
            name = "min" if fn == self._minimum else "max"
            return f"{name}({', '.join(self._print(a) for a in args)})"
        # the argument holding an index variable (the array) goes first, the bounds after it
        *rest, last = sorted(
            args, key=lambda e: any(v.name in ("u", "j", "o") for v in e.free_symbols)
        )
        out = self._print(last)
        for a in rest:
            out = f"{self._module_format(fn)}({out}, {self._print(a)})"
        return out

    def _print_Piecewise(self, expr: Any) -> str:
        (value, cond), (other, _) = expr.args
        return self._call(self._where, cond, value, other)

    def _print_And(self, expr: Any) -> str:
        return " & ".join(f"({self._print(a)})" for a in expr.args)

    def _print_Relational(self, expr: Any) -> str:
        return f"{self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)}"

    def _print_Symbol(self, expr: Any) -> str:
        return expr.name


def _is_index(expr: Any) -> bool:
    """Whether `expr` holds an index variable (an array at run time): `u`, `j` or `o`."""
    return any(v.name in ("u", "j", "o") for v in expr.free_symbols)


@dataclass(frozen=True)
class IndexMap:
    """One expression read off an index form, printed as `def name(*args): return expr`.

    `origin` says what it computes and `derivation` names, as a dotted path
    (`symconv.indexform.IndexForm.padding_expression`, `symconv.backprop.grad_input_op`, ...),
    the derivation it is read from; both are printed as the function's docstring, and
    tests/codegen/test_index_maps.py checks every printed map against what that derivation
    produces.
    """

    name: str
    args: tuple[str, ...]
    expr: Any
    origin: str
    derivation: str = ""


@dataclass(frozen=True)
class Kernel:
    """One kernel: a backend-independent array program (`source`, over the primitives).

    `origin` is the index form or derived operator it computes; it leads the docstring.
    `printed` marks source printed from computed values (e.g. Winograd's matrices) rather than
    a hand-written template. `template` names the template module the source was read from
    (`symconv.codegen.templates.conv`, ...); empty for a kernel still kept as a string in the
    printer module that builds it.
    """

    name: str
    source: str
    origin: str
    printed: bool = False
    template: str = ""


class KernelPrinter(Printer):
    """Print kernel nodes into one module's source for a backend (see the module docstring).

    Subclasses set `_module` (the array library), `_expr_printer` (an `IndexExprPrinter`
    subclass) and `_primitives` (`name -> (signature, body expression)`); `_unsupported` lists
    kernels the backend declares it cannot run (printing one raises `Unsupported`).
    """

    printmethod = "_kernelcode"
    _module: ClassVar[str] = ""
    _expr_printer: ClassVar[type[IndexExprPrinter]] = IndexExprPrinter
    _primitives: ClassVar[dict[str, tuple[str, str]]] = {}
    _extra_imports: ClassVar[dict[str, str]] = {}
    _unsupported: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self._exprs = self._expr_printer({"fully_qualified_modules": True})
        self.module_imports: set[str] = {"itertools"}

    # -- nodes ------------------------------------------------------------------------------
    def _print_IndexMap(self, node: IndexMap) -> str:
        expr = sympy.sympify(node.expr)
        body = self._exprs.doprint(expr)
        doc = (
            f"{node.origin}\n\n    From {node.derivation}.\n    "
            if node.derivation
            else node.origin
        )
        return f'def {node.name}({", ".join(node.args)}):\n    """{doc}"""\n    return {body}\n'

    def _print_Kernel(self, node: Kernel) -> str:
        if node.name in self._unsupported:
            raise Unsupported(f"{type(self).__name__}: kernel {node.name!r} is not supported")
        return node.source.strip("\n") + "\n"

    def _print_list(self, nodes: list) -> str:
        return "\n\n".join(self._print(n) for n in nodes)

    # -- the module -------------------------------------------------------------------------
    def module(self, nodes: list, header: str) -> str:
        """The module: `header`, imports, the used primitives, then the nodes in order."""
        body = self._print(nodes)
        prims = self._used_primitives(body)
        prelude = []
        for name in prims:
            sig, impl = self._primitives[name]
            prelude.append(f"def {name}({sig}):\n    return {impl}\n")
        text = "\n\n".join([*prelude, body])
        self.module_imports |= set(self._exprs.module_imports)
        imports = self._imports(text)
        return f"{header}\n{provenance(nodes, prims)}\n\n{imports}\n\n\n{text}"

    def _used_primitives(self, text: str) -> list[str]:
        used: set[str] = set()
        frontier = set(re.findall(r"\b(_[a-z_]+)\(", text)) & set(self._primitives)
        while frontier:  # primitives may use other primitives
            used |= frontier
            found = set()
            for name in frontier:
                found |= set(re.findall(r"\b(_[a-z_]+)\(", self._primitives[name][1]))
            frontier = (found & set(self._primitives)) - used
        return sorted(used)

    def _imports(self, text: str) -> str:
        mods = {m for m in self.module_imports if re.search(rf"\b{re.escape(m)}\.", text)}
        for mod in self._extra_imports:
            if re.search(rf"\b{re.escape(mod)}\.", text):
                mods.add(mod)
        return "\n".join(f"import {m}" for m in sorted(mods))


def _defined(source: str) -> list[str]:
    """Top-level names a template's source defines (functions and assignments)."""
    return re.findall(r"^(?:def |class )?([A-Za-z_]\w*)\s*(?:\(|=[^=])", source, re.MULTILINE)


def provenance(nodes: list, primitives: Sequence[str] = ()) -> str:
    """Comment lines saying which parts of a module are printed from expressions (index maps
    read off the index forms and `symconv._sizes`, values computed by a derivation) and which
    come from templates: the template modules of `symconv.codegen.templates` (each named), or
    source strings still kept in a printer module; then the backend's primitives (the
    vocabulary of `symconv.codegen.templates.prims`, in the backend's spelling).
    """
    printed = [n.name for n in nodes if isinstance(n, IndexMap)]
    by_template: dict[str, list[str]] = {}
    for n in nodes:
        if isinstance(n, Kernel):
            if n.printed:
                printed.extend(_defined(n.source))
            else:
                by_template.setdefault(n.template, []).extend(_defined(n.source))
    parts = [
        (
            "Printed from expressions (index forms, symconv._sizes, derivations; each index map's "
            "docstring names its derivation)",
            printed,
        ),
        *(
            (
                f"From templates ({where}, over the primitive vocabulary)"
                if where
                else "From templates (source strings in symconv.codegen, over the primitive "
                "vocabulary)",
                names,
            )
            for where, names in sorted(by_template.items(), key=lambda kv: kv[0] == "")
        ),
        ("The backend's primitives (symconv.codegen.templates.prims)", list(primitives)),
    ]
    lines = []
    for title, names in parts:
        if names:
            text = f"{title}: {', '.join(dict.fromkeys(names))}."
            lines += textwrap.wrap(text, 98, initial_indent="# ", subsequent_indent="#   ")
    return "\n".join(lines)
