"""The cost model's formulas, printed: `numeric/_generated/costs.py` evaluates exactly the
table's SymPy expressions (`symconv.codegen.api_table.costs`), rebuilds them exactly, and is
what `numeric.algorithms.costs` prices with."""

from __future__ import annotations

import math

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv as sc
from numeric._generated import costs as printed
from numeric.algorithms import cost_formulas
from numeric.algorithms.cost_model import _formula, _values, costs
from numeric.algorithms.rules import WINOGRAD_M
from symconv.codegen import generate as gen
from symconv.codegen.api_table import costs as table
from symconv.codegen.costs import COSTS_FILE, costs_module


def test_rebuilt_formulas_are_the_tables() -> None:
    assert printed.formulas() == table.cost_formulas() == cost_formulas()
    assert list(printed.COSTS) == list(table.cost_formulas())
    assert printed.SYMBOLS == table.SYMBOLS


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 4096), min_size=15, max_size=15))
def test_printed_functions_evaluate_the_formulas(values: list[int]) -> None:
    """At positive integers, each printed function equals its formula evaluated exactly."""
    symbols = table.symbols()
    at = dict(zip(symbols, values, strict=True))
    named = dict(zip(table.SYMBOLS, values, strict=True))
    for algorithm, parts in table.cost_formulas().items():
        got = printed.COSTS[algorithm](**named)
        assert list(got) == list(parts)
        for part, expr in parts.items():
            want = float(expr.xreplace(at).evalf(30))
            assert math.isclose(got[part], want, rel_tol=1e-12), (algorithm, part)


def test_costs_price_with_the_printed_functions() -> None:
    """`costs()` reports each algorithm's formula evaluated at the layer's values."""
    spec = sc.Conv(dims=2, in_channels=32, out_channels=64, kernel_size=3, padding=1)
    c = costs(spec, (28, 28), batch=4, threads=1)
    at = {
        sympy.Symbol(k, integer=True, positive=True): v
        for k, v in _values(spec, (28, 28), 4, WINOGRAD_M, 1).items()
    }
    priced = [a for a, work in c.items() if work is not None]
    assert {"direct", "winograd", "fft"} <= set(priced)
    for algorithm in priced:
        formula = cost_formulas()[_formula(spec, algorithm, "forward")]
        for part, expr in formula.items():
            want = float(expr.xreplace(at).evalf(30))
            assert math.isclose(c[algorithm][part], want, rel_tol=1e-12), (algorithm, part)
    assert c["direct"]["gemm"] == 2 * 4 * spec.macs((28, 28))


def test_printing_does_not_depend_on_how_the_symbols_were_made() -> None:
    """SymPy shares symbols between creations; the printed text must not depend on the order
    of assumptions some earlier creation used (srepr prints them in that order)."""
    before = costs_module()
    sympy.symbols(" ".join(table.SYMBOLS), integer=True, positive=True)
    sympy.symbols(" ".join(table.SYMBOLS), positive=True, integer=True)
    assert costs_module() == before == (gen.DEFAULT_DIR / COSTS_FILE).read_text()


def test_a_changed_formula_stales_the_printed_module(monkeypatch) -> None:
    """`generate --check` sees a formula edited in the table and not reprinted."""
    real = table.cost_formulas()

    def edited() -> dict[str, dict[str, sympy.Expr]]:
        out = {a: dict(p) for a, p in real.items()}
        out["direct"]["calls"] = sympy.Integer(6)
        return out

    monkeypatch.setattr("symconv.codegen.costs.cost_formulas", edited)
    text = costs_module()
    assert '"calls": 6,' in text and "Integer(6)" in text
    monkeypatch.setattr(gen, "generate_all", lambda: {COSTS_FILE: text})
    assert gen.stale() == [COSTS_FILE]


@pytest.mark.parametrize("algorithm", list(table.cost_formulas()))
def test_every_algorithm_has_every_part(algorithm: str) -> None:
    assert set(table.cost_formulas()[algorithm]) == {"gemm", "fft", "memory", "calls"}
