"""Check functions return named results (`symconv._results`): fields by name, and the tuple
view older callers unpack stays the same values."""

from __future__ import annotations

import dataclasses
import math

import sympy

import symconv as sc
from symconv.backprop import GradientCheck, grad_input_op, verify_exact
from symconv.case_studies import ChainRule, residual_chain_rule
from symconv.derivation import Derivation, Outcome, grid_check
from symconv.toeplitz import ProductCheck, factored_product_check


def test_grid_check_names_its_outcome() -> None:
    r = grid_check([0, 1, 2], lambda n: float(n * (n - 1)))  # zero at 0 and 1, 2 at n = 2
    assert isinstance(r, Outcome)
    assert (r.cases, r.max_error, r.passed, r.detail) == (3, 2.0, False, "worst case 2")
    assert tuple(r) == (3, 2.0, False, "worst case 2")
    nan = grid_check([1], lambda n: math.nan)  # a NaN discrepancy counts as infinite
    assert nan.max_error == math.inf and not nan.passed


def test_a_derivation_reads_an_outcome_and_a_plain_tuple_alike() -> None:
    for run in (lambda: Outcome(2, 0.5, False, "off"), lambda: (2, 0.5, False, "off")):
        d = Derivation("check").add_step("claim", sympy.Symbol("x"), by="c")
        d.check("c", "exact", run)
        (result,) = d.verify().results
        assert (result.cases, result.max_error, result.passed, result.detail) == (
            2,
            0.5,
            False,
            "off",
        )


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
