"""The case studies' derivations: residual gradients, bottleneck, depthwise-separable and
grouped convolution, each certified, and their numbers against independent counts."""

from __future__ import annotations

import json

import pytest
import sympy

from symconv import Conv, case_studies
from symconv.cli import main
from symconv.derive import DERIVATIONS, derive
from symconv.verify import REGISTRY

OPS = {
    "residual": "general",
    "bottleneck": "general",
    "depthwise-separable": "general",
    "grouped-conv": "general",
}


@pytest.mark.parametrize(("op", "level"), OPS.items())
def test_certificates_pass(op: str, level: str) -> None:
    cert = derive(op).verify()
    assert cert.passed and cert.level == level, cert.text()
    assert all(s.status in ("definition", "established") for s in cert.steps), cert.text()
    assert {"general", "exact", "numeric"} >= {r.level for r in cert.results}
    assert op in DERIVATIONS and op in REGISTRY


def test_the_chain_rule_needs_the_identity() -> None:
    assert case_studies.residual_chain_rule(3)[0]
    assert not case_studies.residual_chain_rule(2, identity=False)[0]  # the plain layer's rule


def test_gradient_norms_vanish_in_the_plain_stack_only() -> None:
    study = case_studies.gradient_norm_study(depth=50)
    plain, residual = study["plain"], study["residual"]
    assert plain[-1] == residual[-1] == 1.0
    assert plain[0] < 1e-3  # a product of 50 Jacobians of norm < 1
    assert all(n >= 1.0 for n in residual)  # the identity path is never multiplied away
    assert all(a > b for a, b in zip(plain[1:], plain[:-1], strict=True))


def test_bottleneck_numbers() -> None:
    d = derive("bottleneck")
    # 256 -> 64 (1x1), 64 -> 64 (3x3), 64 -> 256 (1x1), no biases
    assert d["resnet50"]["bottleneck"] == 256 * 64 + 9 * 64 * 64 + 64 * 256 == 69_632
    assert d["resnet50"]["basic"] == 2 * 9 * 256 * 256
    assert d["ratio"] == sympy.Rational(17, 288)


def test_depthwise_separable_ratio_at_a_mobilenet_layer() -> None:
    ratio = derive("depthwise-separable")["ratio"]
    dw = Conv(in_channels=512, out_channels=512, kernel_size=3, padding=1, groups=512)
    pw = Conv(in_channels=512, out_channels=1024, kernel_size=1)
    full = Conv(in_channels=512, out_channels=1024, kernel_size=3, padding=1)
    macs = (dw.macs(7) + pw.macs(7)) / full.macs(7)
    value = float(ratio.subs({sympy.Symbol("C_out", integer=True, positive=True): 1024,
                              sympy.Symbol("k", integer=True, positive=True): 3}))  # fmt: skip
    assert value == pytest.approx(macs) == pytest.approx(1 / 1024 + 1 / 9)


def test_grouped_parameters() -> None:
    p = derive("grouped-conv")["parameters"]
    values = {"C_in": 128, "C_out": 128, "g": 32, "k": 3}  # ResNeXt-50's first 3x3, + bias
    assert {str(s) for s in p.free_symbols} == set(values)
    subs = {s: values[str(s)] for s in p.free_symbols}
    assert p.subs(subs) == 9 * 128 * 4 + 128 == 4736


def test_cli(capsys) -> None:
    assert main(["derive", "grouped-conv", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["certificate"]["passed"] and data["certificate"]["level"] == "general"
    assert main(["derive", "residual", "--groups", "2"]) == 2
    assert "does not apply" in capsys.readouterr().err


def test_the_upgraded_steps_state_what_they_claim() -> None:
    res = derive("residual")
    for title in ("Its Jacobian (n = 2)", "Chain rule"):  # matrix equations, not False
        assert isinstance(res.steps[title].statement, sympy.Eq), title
    stack = res.steps["Through L = 3 blocks, residual (g) and plain (h)"].statement
    assert all(isinstance(e, sympy.Eq) for e in stack)
    assert case_studies.stack_chain_rule(2, 2) and case_studies.stack_chain_rule(1, 3, False)
    # the basic pair at C = 256 costs 288/17 = 16.9 times the bottleneck's weights
    six = derive("bottleneck").steps["ResNet-50's first stage (C = 256, b = 64)"]
    assert "16.9 times" in six.justification
    cert = derive("grouped-conv").verify()
    assert {s.title: s.level for s in cert.steps}["As a dense conv: a block-diagonal kernel"] == (
        "exact"
    )


def test_the_dense_kernel_of_a_grouped_conv_is_block_diagonal() -> None:
    block = derive("grouped-conv")["dense_kernel"]
    names = {str(s): s for s in block.free_symbols}
    g, c_in, c_out, n, m = (names[k] for k in ("g", "C_in", "C_out", "n", "m"))
    at = {g: 2, c_in: 4, c_out: 6, names["i"]: 0, names["j"]: 0}
    nonzero = [[block.subs({**at, n: a, m: b}) != 0 for b in range(4)] for a in range(6)]
    assert nonzero == [[(a < 3) == (b < 2) for b in range(4)] for a in range(6)]
