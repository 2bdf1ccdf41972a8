"""Check functions return named results (`symconv._results`): fields by name, and the tuple
view older callers unpack stays the same values."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import pytest
import sympy

import symconv as sc
from symconv.backprop import GradientCheck, grad_input_op, verify_exact
from symconv.case_studies import ChainRule, residual_chain_rule
from symconv.derivation import (
    OPTIONAL_DEPENDENCIES,
    Derivation,
    Outcome,
    SkipCheck,
    grid_check,
)
from symconv.derive import derive
from symconv.registry import ENTRIES
from symconv.toeplitz import ProductCheck, factored_product_check
from symconv.verify import REGISTRY, Skip


def test_grid_check_names_its_outcome() -> None:
    r = grid_check([0, 1, 2], lambda n: float(n * (n - 1)))  # zero at 0 and 1, 2 at n = 2
    assert isinstance(r, Outcome)
    assert (r.cases, r.max_error, r.passed, r.detail) == (3, 2.0, False, "worst case 2")
    assert tuple(r) == (3, 2.0, False, "worst case 2")
    nan = grid_check([1], lambda n: math.nan)  # a NaN discrepancy counts as infinite
    assert nan.max_error == math.inf and not nan.passed


def test_a_derivation_reads_an_outcome() -> None:
    d = Derivation("check").add_step("claim", sympy.Symbol("x"), by="c")
    d.check("c", "exact", lambda: Outcome(2, 0.5, False, "off"))
    (result,) = d.verify().results
    assert (result.cases, result.max_error, result.passed, result.detail) == (2, 0.5, False, "off")


def test_factored_product_check_names_holds_and_nonzeros() -> None:
    form = sc.index_form(sc.Conv(dims=1, kernel_size=3, padding=1), 5)
    r = factored_product_check(form)
    assert isinstance(r, ProductCheck) and r.holds and r.nonzeros == form.nonzeros() == 13
    holds, nonzeros = r
    assert (holds, nonzeros) == (r.holds, r.nonzeros)


def test_verify_exact_names_each_gradient() -> None:
    spec = sc.Conv(dims=1, kernel_size=3, stride=2, padding=1)
    r = verify_exact(spec, 7)
    assert isinstance(r, GradientCheck) and r.grad_input and r.grad_weight and r == (True, True)
    op = grad_input_op(spec, 7)
    wrong = verify_exact(spec, 7, grad_input=dataclasses.replace(op, stride=(1,)))
    assert (wrong.grad_input, wrong.grad_weight) == (False, True) and not all(wrong)


def test_residual_chain_rule_names_holds_and_jacobian() -> None:
    r = residual_chain_rule(2)
    assert isinstance(r, ChainRule) and r.holds and r.jacobian.shape == (2, 2)
    assert not residual_chain_rule(2, identity=False).holds


def _registered() -> Iterator[tuple[str, Derivation]]:
    """Every entry of symconv.registry at its default layer, and each identity `symconv
    verify` builds with a factory of its own (as tests/derivations/test_steps.py walks them)."""
    for e in ENTRIES:
        if e.derive is not None:
            yield f"derive {e.name}", derive(e.name)
        if e.verify == "own":
            try:
                yield f"verify {e.identity_name}", REGISTRY[e.identity_name].derivation()
            except Skip:
                continue


@pytest.mark.slow
def test_every_registered_check_returns_an_outcome() -> None:
    tuples: dict[str, list[str]] = {}  # module -> the checks in it returning a plain tuple
    ran = 0
    for where, d in _registered():
        for check in d.checks:
            try:
                result = check.run()
            except SkipCheck:  # not run here (no counterpart): its type cannot be read
                continue
            except ImportError as error:  # an optional dependency missing: the same
                if (error.name or "").split(".")[0] not in OPTIONAL_DEPENDENCIES:
                    raise
                continue
            ran += 1
            if not isinstance(result, Outcome):
                module = getattr(check.run, "__module__", "?")
                tuples.setdefault(module, []).append(f"{where}: {check.name}")
    assert ran > 100
    assert not tuples, f"checks returning something other than an Outcome: {tuples}"


def test_a_check_returning_a_plain_tuple_is_refused() -> None:
    """`Check` reads only an `Outcome`: a bare 4-tuple (the old form) is a TypeError that names
    the check, not a silently accepted result."""
    d = Derivation("old form").check("bare", "exact", lambda: (1, 0.0, True, ""))  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="'bare' returned tuple, not an Outcome"):
        d.verify()
