"""numeric's checks reach the registry through a hook (`numeric.checks`): they register
themselves, `symconv.registry` places them and passes them the derivation-layer functions they
need (`INJECTED`), and a wrong function passed in fails them.

A check registered through the hook appears in `symconv derive`, `symconv verify` and
`verify --list` without a line of `symconv/registry.py` naming it (checked in a fresh
interpreter: the registry reads the hook once, at its import).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest
import sympy
from helpers import ROOT

import numeric.algorithms
import numeric.checks
import symconv as sc
from numeric.checks import NumericCheck, register, registered
from numeric.checks.kernels import numeric_kernels_derivation
from numeric.checks.winograd_layer import winograd_layer_derivation
from symconv import registry
from symconv.backprop import exact_grid
from symconv.derive import DERIVATIONS, derive
from symconv.registry import ENTRIES, INJECTED, entry, injected
from symconv.toeplitz import toeplitz_numeric
from symconv.verify import REGISTRY, verify
from symconv.verify import numeric_kernels_derivation as public_kernels
from symconv.winograd import winograd, winograd_residual
from symconv.winograd._checks import _coefficient_mismatches_2d
from symconv.winograd_layer import winograd_layer_derivation as public_layer

NUMERIC_CHECKS = {"algorithm-costs", "numeric-kernels", "winograd-layer"}


def test_the_hook_registers_numerics_checks() -> None:
    checks = {c.name: c for c in registered()}
    assert set(checks) == NUMERIC_CHECKS
    names = [e.name for e in ENTRIES]
    for c in checks.values():
        # placed right after the entry the check names, with the check's own fields
        assert names.index(c.name) == names.index(c.after) + 1, c.name
        e = entry(c.name)
        assert (e.statement, e.layer, e.verify, e.why_not, e.pages) == (
            c.statement,
            c.layer,
            c.verify,
            c.why_not,
            c.pages,
        )
        # the factories, given what each needs of the derivation layer
        for ours, theirs in ((e.derive, c.derive), (e.own, c.own)):
            assert (ours is None) == (theirs is None), c.name
            if ours is not None:
                assert ours.func is theirs, c.name
                assert ours.keywords == {n: INJECTED[n] for n in c.needs}, c.name
    assert checks["numeric-kernels"].needs == ("toeplitz_numeric", "exact_grid")
    assert INJECTED["toeplitz_numeric"] is toeplitz_numeric
    assert INJECTED["winograd"] is winograd


def test_derive_and_verify_read_the_hooks_checks() -> None:
    assert DERIVATIONS["winograd-layer"] is entry("winograd-layer").derive
    assert DERIVATIONS["algorithm-costs"] is entry("algorithm-costs").derive
    assert "numeric-kernels" not in DERIVATIONS  # a verify-only identity
    assert REGISTRY["numeric-kernels"].derivation is entry("numeric-kernels").own
    assert REGISTRY["winograd-layer"].statement == entry("winograd-layer").statement
    assert "algorithm-costs" not in REGISTRY  # verify="no", with its reason
    cost = derive("algorithm-costs")
    assert cost.title == numeric.algorithms.cost_derivation().title
    report = verify(only=["numeric-kernels"])
    assert report.passed and [r.level for r in report.rows] == ["numeric"]
    assert report.rows[0].cases > 0


def test_the_public_names_bind_the_injected_functions() -> None:
    assert (
        public_kernels().title
        == numeric_kernels_derivation(**injected(("toeplitz_numeric", "exact_grid"))).title
    )
    assert public_layer(2).title == derive("winograd-layer", None, 4).title
    with pytest.raises(sc.SpecError, match="needs 'nope'"):
        injected(("toeplitz_numeric", "nope"))


def test_registering_after_the_registry_read_the_hook_raises() -> None:
    late = NumericCheck("late", "registered too late", derive=lambda spec, size: derive("fourier"))
    with pytest.raises(RuntimeError, match=r"after symconv\.registry read the hook"):
        register(late)
    assert "late" not in [c.name for c in registered()]


_PROBE = """
import json
from symconv.derivation import Derivation, Outcome
from symconv.spec import Conv
from numeric.checks import NumericCheck, register

def probe(spec, size, toeplitz_numeric):
    d = Derivation("probe: T has one row per output")
    def rows():
        spec_ = Conv(dims=1, kernel_size=3)
        T = toeplitz_numeric(spec_, 7, [[[1.0, 2.0, 3.0]]])
        ok = T.shape == (5, 7)
        return Outcome(1, 0.0 if ok else 1.0, ok, "rows = outputs")
    d.check("T has one row per output", "exact", rows)
    return d

def own(toeplitz_numeric):
    return probe(None, None, toeplitz_numeric)

register(NumericCheck("probe", "T has one row per output", derive=probe, needs=("toeplitz_numeric",),
                      layer="none", after="output-size"))
register(NumericCheck("probe-own", "the same, verify only", own=own, needs=("toeplitz_numeric",),
                      verify="own"))
try:
    register(NumericCheck("probe", "twice", derive=probe))
except RuntimeError as err:
    twice = str(err)

from symconv.cli import main
from symconv.registry import derive_ops
from symconv.verify import REGISTRY, verify
from symconv.verify import numeric_kernels_derivation as public_kernels
code = main(["derive", "probe"])
report = verify(only=["probe", "probe-own"])
print(json.dumps({"ops": list(derive_ops()), "verify": list(REGISTRY), "code": code,
                  "passed": report.passed, "twice": twice}))
"""


def test_a_check_registered_through_the_hook_reaches_derive_and_verify() -> None:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "probe: T has one row per output" in out.stdout  # `symconv derive probe` printed it
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0 and seen["passed"]
    assert seen["ops"][:2] == ["output-size", "probe"] and "probe-own" not in seen["ops"]
    assert seen["verify"][:2] == ["output-size", "probe"] and seen["verify"][-1] == "probe-own"
    assert "registered twice" in seen["twice"]


# -- a wrong derivation-layer function passed in fails the check ----------------------------
def _wrong_toeplitz(spec: Any, size: Any, w: Any) -> Any:
    """T with one entry changed."""
    t = toeplitz_numeric(spec, size, w).tolil()
    t[0, t.shape[1] - 1] += 1.0
    return t.tocsr()


def test_numeric_kernels_fail_with_a_wrong_toeplitz_matrix() -> None:
    good = numeric_kernels_derivation(toeplitz_numeric=toeplitz_numeric, exact_grid=exact_grid)
    assert good.verify().passed
    bad = numeric_kernels_derivation(toeplitz_numeric=_wrong_toeplitz, exact_grid=exact_grid)
    assert not bad.verify().passed


_LAYER_NEEDS = {
    "toeplitz_numeric": toeplitz_numeric,
    "winograd": winograd,
    "winograd_residual": winograd_residual,
    "winograd_mismatches_2d": _coefficient_mismatches_2d,
}


def _failed(d: Any) -> set[str]:
    return {r.name for r in d.verify().results if not r.passed}


def _wrong_g(m: int, r: int, points: Any = None) -> Any:
    """Winograd's transforms with one entry of G changed (for the weight gradient's F(3, m))."""
    f = winograd(m, r, points)
    if m != 3:
        return f
    g = f.G.copy()
    g[0, 0] += sympy.Rational(1, 7)
    return replace(f, G=g)


def _other_points(m: int, r: int, points: Any = None) -> Any:
    """F(3, m) from other interpolation points: correct, but its B^T is not the forward's."""
    if m != 3:
        return winograd(m, r, points)
    return winograd(3, r, points=[sympy.Rational(1, 2), *winograd(3, r).points[1:]])


@pytest.mark.parametrize(
    ("m", "mutation", "fails"),
    [
        (2, {"toeplitz_numeric": _wrong_toeplitz}, "generated kernels"),
        (2, {"winograd": _wrong_g}, "F(3x3, mxm)"),
        (4, {"winograd": _wrong_g}, "F(3x3, mxm)"),
        (2, {"winograd": _other_points}, "B^T is the forward's"),
    ],
)
def test_the_winograd_layer_fails_with_a_wrong_function_passed_in(m, mutation, fails) -> None:
    failed = _failed(winograd_layer_derivation(m, **{**_LAYER_NEEDS, **mutation}))
    assert failed and all(fails in name for name in failed), failed


def test_the_winograd_layer_passes_with_the_injected_functions() -> None:
    assert not _failed(winograd_layer_derivation(2, **_LAYER_NEEDS))


# -- where the registry places a check ------------------------------------------------------
def _fake(name: str, after: str) -> NumericCheck:
    return NumericCheck(name, f"{name}, a statement", derive=lambda spec, size: None, after=after)


def test_checks_are_placed_after_their_entry_in_registration_order() -> None:
    checks = [_fake("a", "fourier"), _fake("b", ""), _fake("c", "fourier"), _fake("d", "a")]
    placed = [e.name for e in registry._with_numeric_checks(registry._ENTRIES, checks)]
    at = placed.index("fourier")
    assert placed[at : at + 4] == ["fourier", "a", "d", "c"]
    assert placed[-1] == "b"
    assert [n for n in placed if n not in "abcd"] == [e.name for e in registry._ENTRIES]


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (_fake("a", "nope"), "after no entry"),
        (_fake("fourier", ""), "take registered names"),
        (replace(_fake("a", ""), needs=("nope",)), "needs 'nope'"),
    ],
)
def test_a_misplaced_check_is_refused(check: NumericCheck, message: str) -> None:
    with pytest.raises((RuntimeError, sc.SpecError), match=message):
        registry._with_numeric_checks(registry._ENTRIES, [check])


@pytest.mark.parametrize(
    "fields",
    [
        dict(derive=None),  # neither factory
        dict(verify="own"),  # own without `own`
        dict(own=lambda: None),  # `own` without verify="own"
    ],
)
def test_the_hook_refuses_a_check_without_its_factory(fields: dict[str, Any]) -> None:
    with pytest.raises(RuntimeError, match="an `own` factory exactly"):
        register(replace(_fake("x", ""), **fields))
