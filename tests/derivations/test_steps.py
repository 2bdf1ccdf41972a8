"""Every displayed statement is a checked statement.

The walker builds every entry of the one registry (symconv.registry: each derive op with its
default layer and a few others, each identity `symconv verify` builds with a factory of its
own, and every `derivation` directive of the docs pages) and fails on any step that is a claim naming no check, names a check the
derivation lacks, or whose statement is malformed (a bare boolean, an equation restating its
left side, a lost condition).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
import sympy
from helpers import ROOT

import symconv as sc
from symconv.derivation import Derivation, Outcome
from symconv.derive import derive
from symconv.registry import ENTRIES
from symconv.verify import REGISTRY, Skip

sys.path.insert(0, str(ROOT / "docs" / "hooks"))

from scdocs.directives import DIRECTIVE, parse
from scdocs.registry import derivation_of

# non-default layers for the ops that read one
EXTRA = [
    ("toeplitz", sc.Conv(dims=2, kernel_size=3, stride=2, padding=1), (5, 5)),
    ("toeplitz", sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="reflect"), 5),
    ("backprop", sc.Pool(kind="max", kernel_size=3, stride=2, padding=1), 7),
    ("backprop", sc.Pool(kind="avg", kernel_size=2, count_include_pad=False, padding=1), 5),
    ("backprop", sc.Pool(dims=1, kind="lp", kernel_size=2, norm_type=2.0), 6),
    ("backprop", sc.Conv(dims=1, kernel_size=3, stride=2, dilation=2, padding=1), 9),
    ("transpose", sc.Conv(dims=1, kernel_size=3, stride=2, padding=1), 4),
    ("equivariance", sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular"), 7),
    ("equivariance", sc.Pool(dims=1, kind="avg", kernel_size=2), 6),
    ("fourier", sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular", flip=True), 5),
]


def registered() -> Iterator[tuple[str, Derivation]]:
    for e in ENTRIES:
        if e.derive is not None:
            yield f"derive {e.name}", derive(e.name)
        if e.verify == "own":  # `default`: verify builds derive(name), walked above
            try:
                yield f"verify {e.identity_name}", REGISTRY[e.identity_name].derivation()
            except Skip:
                continue
    for op, spec, size in EXTRA:
        yield f"derive {op} {spec} {size}", derive(op, spec, size)
    for page in sorted((ROOT / "docs").glob("*.md")):
        for match in DIRECTIVE.finditer(page.read_text()):
            name, params = parse(match["body"])
            if name == "derivation":
                yield f"docs {page.name}: {match[0]}", derivation_of(**params)


@pytest.fixture(scope="module")
def derivations() -> list[tuple[str, Derivation]]:
    return list(registered())


def test_every_displayed_step_is_a_definition_or_a_checked_claim(derivations) -> None:
    problems = [f"{where}: {p}" for where, d in derivations for p in d.audit()]
    assert not problems, "\n".join(problems)
    assert len(derivations) > 40


def test_the_walker_catches_each_kind_of_defect() -> None:
    x = sympy.Symbol("x")
    j = sympy.Symbol("j", integer=True)
    integral = sympy.Eq(sympy.Mod(j, 2), 0)
    d = Derivation("defects")
    d.check("a check", "exact", lambda: Outcome(1, 0.0, True, ""))
    d.add_step("bare boolean", sympy.Eq(x, x + 0), by="a check")
    d.add_step("restated", sympy.Eq(x + 1, x + 1, evaluate=False), by="a check")
    d.add_step(
        "lost condition",
        sympy.Piecewise((x, j >= 0), (0, True)),
        by="a check",
        keeps=[integral],
    )
    d.add_step("unchecked", sympy.Eq(x, 2 * x))
    d.add_step("unknown check", sympy.Eq(x, 2 * x), by="no such check")
    d.add_step(
        "fine", sympy.Piecewise((x, integral & (j >= 0)), (0, True)), by="a", keeps=[integral]
    )
    d.add_step("definition", sympy.Eq(sympy.Symbol("y"), x), definition=True)
    found = d.audit()
    assert [p.split(": step ")[1].split(" (")[0] for p in found] == ["1", "2", "3", "4", "5"]
    cert = d.verify()
    assert [s.status for s in cert.steps] == [
        "malformed",
        "malformed",
        "malformed",
        "unchecked",
        "unchecked",
        "established",
        "definition",
    ]
    assert cert.failed and not cert.passed


def test_per_step_certificate_names_levels() -> None:
    cert = derive("output-size").verify()
    assert cert.passed and cert.steps
    levels = {s.title: (s.status, s.level) for s in cert.steps}
    assert levels["The lectures' formula"] == ("established", "general")
    assert all(s.status in ("definition", "established") for s in cert.steps)
    assert "steps:" in cert.text()


def test_a_proof_step_that_is_false_fails() -> None:
    x = sympy.Symbol("x")
    d = Derivation("false proof").add_step("wrong", sympy.Eq(x**2, x), proof=True)
    cert = d.verify()
    assert cert.failed and cert.steps[0].status == "failed"


def test_steps_by_position_and_title() -> None:
    d = derive("output-size")
    assert d.steps[0] is d.steps[d.steps[0].title] is d.step(0)
    with pytest.raises(KeyError):
        d.steps["no such step"]


def test_the_fixed_steps_stay_fixed() -> None:
    # commutativity: the commutator is a matrix equation, not the boolean False
    comm = derive("commutativity").steps["Commutator of two 2-channel layers (kernel size 2)"]
    assert isinstance(comm.statement, sympy.Eq) and comm.statement.rhs.shape == (2, 2)
    # max pooling routes delta over the outputs o = 0..O-1, not up to the window size N_o
    route = derive("backprop", sc.Pool(kind="max", kernel_size=2)).steps["Route delta"]
    (total,) = route.statement.rhs.atoms(sympy.Sum)
    (_, lo, hi), n_o = total.limits[0], sympy.Symbol("N_o", integer=True, positive=True)
    assert (
        lo == 0
        and hi == sympy.Symbol("O", integer=True, positive=True) - 1
        and n_o not in hi.free_symbols
    )
    # backprop: the collapsed sum keeps the tap's integrality
    collapse = derive("backprop").steps["The sum over a collapses"]
    (pw,) = collapse.statement.rhs.atoms(sympy.Piecewise)
    assert pw.args[0][1].atoms(sympy.Mod) and collapse.keeps
    # transpose: ends at o' = i, and the transposed size is written in o, not i
    steps = derive("transpose").steps
    final = steps["output_padding = a returns the input size"].statement
    assert final.rhs.name == "i" and final.lhs.name == "o'"
    assert "i" not in {s.name for s in steps["Transposed output size"].statement.rhs.free_symbols}


def test_the_old_spelling_of_add_step_still_appends() -> None:
    d = Derivation("old callers")
    d.check("c", "exact", lambda: Outcome(1, 0.0, True, ""))
    d.step("a claim", sympy.Symbol("x"), "why", by="c")  # title, statement: appends
    assert d.steps["a claim"].by == ("c",) and d.step("a claim") is d.steps[0]
