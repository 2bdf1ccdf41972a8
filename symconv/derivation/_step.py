"""A step of a derivation (`Step`: a definition or a claim, its statement and how it renders)
and the list of them (`Steps`: by position or by title)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sympy

from ._printing import latex, pretty
from ._text import _tex_escape

StepKind = Literal["definition", "claim"]


@dataclass(frozen=True)
class Step:
    """One step of a derivation: a *definition* (states what a symbol means; nothing to check)
    or a *claim*, established by the derivation's checks named in `by` (a name, or the start
    of one). `keeps` lists conditions (SymPy booleans) the statement must still state, e.g.
    that a tap index is an integer: a Piecewise that dropped one fails the step's check."""

    title: str
    statement: Any
    justification: str = ""
    latex_override: str | None = None
    kind: StepKind = "claim"
    by: tuple[str, ...] = ()
    keeps: tuple[Any, ...] = ()

    @property
    def is_definition(self) -> bool:
        return self.kind == "definition"

    def latex(self) -> str:
        if self.latex_override is not None:
            return self.latex_override
        if isinstance(self.statement, str):
            return r"\text{" + _tex_escape(self.statement) + "}"
        return latex(self.statement)

    def text(self, ascii: bool = False) -> str:
        """The statement for a terminal: SymPy's pretty printer (Unicode, or ASCII)."""
        if isinstance(self.statement, str):
            return self.statement
        return pretty(self.statement, ascii=ascii)

    def problems(self) -> list[str]:
        """What is wrong with the statement itself, whatever the checks say: a bare boolean,
        an equation whose two sides are the same expression, a condition it lost."""
        found: list[str] = []
        stmt = self.statement
        if isinstance(stmt, bool) or isinstance(stmt, sympy.logic.boolalg.BooleanAtom):
            return [f"the statement is the bare boolean {stmt}"]
        if not isinstance(stmt, sympy.Basic):
            return found
        if _bare_boolean(stmt):
            found.append("a part of the statement is a bare boolean (True or False)")
        for rel in stmt.atoms(sympy.Eq):
            if rel.lhs == rel.rhs:
                found.append(f"{sympy.sstr(rel)} restates its left side")
        conditions = [c for pw in stmt.atoms(sympy.Piecewise) for _, c in pw.args]
        for cond in self.keeps:
            if not any(c == cond or c.has(cond) for c in conditions):
                found.append(f"the condition {sympy.sstr(cond)} was lost")
        return found


def _bare_boolean(node: Any) -> bool:
    """Whether a part of `node` is `True` or `False`, except a Piecewise's "otherwise"."""
    if isinstance(node, sympy.logic.boolalg.BooleanAtom):
        return True
    if isinstance(node, sympy.Piecewise):
        return any(
            _bare_boolean(expr) or (cond is not sympy.true and _bare_boolean(cond))
            for expr, cond in node.args
        )
    return isinstance(node, sympy.Basic) and any(_bare_boolean(a) for a in node.args)


class Steps(list[Step]):
    """The steps of a derivation: `steps[i]` by position, `steps["title"]` by title."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for step in self:
                if step.title == key:
                    return step
            raise KeyError(f"no step titled {key!r}; titles: {[s.title for s in self]}")
        return super().__getitem__(key)
