"""Backprop: the derived gradient operators equal T^T delta and X^T delta exactly, run like
torch autograd numerically, and a wrong operator is caught."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import symconv as sc
from symconv._torchref import conv_reference
from symconv.backprop import (
    activation_step,
    backprop,
    exact_grid,
    grad_input_op,
    grad_weight_op,
    sympy_gradients,
    transpose_weight,
    verify_exact,
)
from symconv.poolgrad import pool_backward, pool_forward
from symconv.testing import conv_specs


def test_exact_grid_all_pass() -> None:
    cases = exact_grid()
    assert len(cases) > 5000
    modes = {c.padding_mode for c, _ in cases}
    assert modes == {"zeros", "reflect", "replicate", "circular"}
    failures = [(str(c), s) for c, s in cases if not all(verify_exact(c, s))]
    assert failures == []


@pytest.mark.parametrize("mutation", ["no_flip_toggle", "padding_off_by_one", "stride_ignored"])
def test_wrong_grad_input_is_caught(mutation) -> None:
    spec = sc.Conv(dims=1, in_channels=2, out_channels=2, kernel_size=3, stride=2, padding=1)
    op = grad_input_op(spec, 7)
    if mutation == "no_flip_toggle":
        op = dataclasses.replace(op, conv=op.conv.replace(flip=spec.flip))
    elif mutation == "padding_off_by_one":
        op = dataclasses.replace(op, conv=op.conv.replace(padding=((1, 3),)))
    else:  # delta not dilated by the stride
        op = dataclasses.replace(op, stride=(1,))
    assert verify_exact(spec, 7, grad_input=op)[0] is False


def test_wrong_grad_weight_is_caught() -> None:
    spec = sc.Conv(dims=2, kernel_size=3, stride=2, dilation=1, padding=1)
    op = grad_weight_op(spec, 6)
    wrong = dataclasses.replace(op, conv=op.conv.replace(dilation=1))
    assert verify_exact(spec, 6)[1] and not verify_exact(spec, 6, grad_weight=wrong)[1]


def _run_derived(spec: sc.Conv, x: np.ndarray, w: np.ndarray, delta: np.ndarray):
    """Run the derived operators with torch's forward conv (batch 1) and fold the padding."""
    op = grad_input_op(spec, x.shape[1:])
    out = delta.shape[1:]
    dil = torch.zeros(
        1,
        spec.out_channels,
        *[s * (o - 1) + 1 for s, o in zip(spec.stride, out, strict=False)],
        dtype=torch.float64,
    )
    dil[(slice(None), slice(None), *[slice(None, None, s) for s in spec.stride])] = torch.tensor(
        delta
    )
    wt = torch.tensor(w.reshape(-1)[transpose_weight(spec)])
    gx_pad = conv_reference(op.conv, dil, wt)[0]  # stride 1, dilation D, groups G, zero padding
    # Pad^T through the index form's padding map
    form = sc.index_form(spec, x.shape[1:])
    pg = form.pad_gather()
    gx = np.zeros(x.size)
    np.add.at(gx, pg.cols, gx_pad.numpy().reshape(-1)[pg.rows])
    # grad weight: per (k, c) correlation of the padded input with delta (dilation = stride)
    gw_op = grad_weight_op(spec, x.shape[1:])
    xt = np.zeros(int(np.prod(pg.out_shape)))
    xt[pg.rows] = x.reshape(-1)[pg.cols]
    xt = torch.tensor(xt.reshape(pg.out_shape))
    cin_g, cout_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    gw = np.zeros(spec.weight_shape)
    for k in range(spec.out_channels):
        for c in range(cin_g):
            ch = (k // cout_g) * cin_g + c
            r = getattr(F, f"conv{spec.dims}d")(
                xt[ch][None, None],
                torch.tensor(delta[k])[None, None],
                stride=gw_op.conv.stride,
                dilation=gw_op.conv.dilation,
            )
            r = r[(0, 0, *[slice(0, kk) for kk in spec.kernel_size])].numpy()
            gw[k, c] = np.flip(r, axis=tuple(range(spec.dims))) if gw_op.flip else r
    return gx.reshape(x.shape), gw


# every drawn spec is valid (no fallback to a 1x1 kernel): sizes start at the spec's minimum
conv_and_size = conv_specs(
    dims=(1, 2),
    max_size=8,
    channels=(1, 4),
    groups=(1, 2),
    stride=(1, 3),
    dilation=(1, 2),
    padding=(0, 2),
    padding_styles=("int", "tuple", "pairs", "valid", "same", "full"),
)


@given(conv_and_size, st.integers(0, 2**32 - 1))
def test_derived_operators_match_torch_autograd(case, seed) -> None:
    spec, size = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((spec.in_channels, *size))
    w = rng.standard_normal(spec.weight_shape)
    xt = torch.tensor(x[None], requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    y = conv_reference(spec, xt, wt)
    delta = rng.standard_normal(tuple(y.shape[1:]))
    y.backward(torch.tensor(delta[None]))
    gx, gw = _run_derived(spec, x, w, delta)
    np.testing.assert_allclose(gx, xt.grad[0].numpy(), atol=1e-10)
    np.testing.assert_allclose(gw, wt.grad.numpy(), atol=1e-10)


def test_bias_and_input_gradient_by_sympy_differentiation() -> None:
    spec = sc.Conv(
        dims=1,
        in_channels=1,
        out_channels=2,
        kernel_size=2,
        stride=2,
        padding=1,
        padding_mode="replicate",
    )
    sg = sympy_gradients(spec, 4)
    delta, w = sg["delta"], sg["w"]
    # dL/dx[0]: x[0] is read by output 0 twice (replicated pad and itself) and by output 1? no
    grad_x0 = sympy.diff(sg["loss"], sg["x"][0])
    assert sympy.expand(grad_x0 - (delta[0] * (w[0] + w[1]) + delta[3] * (w[2] + w[3]))) == 0
    assert sympy.diff(sg["loss"], sg["b"][1]) == delta[3] + delta[4] + delta[5]


def test_backprop_derivation_verifies_and_renders() -> None:
    d = backprop(
        sc.Conv(
            dims=2,
            in_channels=2,
            out_channels=4,
            groups=2,
            kernel_size=3,
            stride=2,
            padding=1,
            padding_mode="reflect",
        )
    )
    cert = d.verify()
    assert cert.passed and cert.level == "general"
    assert {r.level for r in cert.results} == {"exact", "general"}
    assert "flipped kernel" in d.text()
    assert r"\hat{\delta}" in d.latex()
    assert d["grad_input"].conv.flip is True
    assert d["grad_input"].direct_padding() == ((1, 1), (1, 1))


def test_activation_step() -> None:
    cert = activation_step().verify()
    assert cert.passed and cert.level == "general"


@pytest.mark.parametrize(
    "spec",
    [
        sc.Pool(kind="max", kernel_size=3, stride=2, padding=1, ceil_mode=True),
        sc.Pool(kind="max", kernel_size=2, stride=1, dilation=2),
        sc.Pool(
            kind="avg", kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True
        ),
        sc.Pool(kind="avg", kernel_size=3, stride=2, padding=1),
        sc.Pool(kind="avg", kernel_size=2, divisor_override=3),
        sc.Pool(kind="lp", kernel_size=2, norm_type=3, ceil_mode=True),
        sc.Pool(dims=1, kind="lp", kernel_size=3, stride=2, norm_type=1.5),
    ],
)
def test_pool_backprop_matches_torch(spec) -> None:
    cert = backprop(spec, 7).verify()
    assert cert.passed, cert.text()


def test_max_pool_tie_rule_first_maximum() -> None:
    # TensorFlow gives [0, 1, 0, 0] for [1, 2, 2, 2]: the first maximum wins, as torch
    spec = sc.Pool(dims=1, kind="max", kernel_size=4)
    x = np.array([[1.0, 2.0, 2.0, 2.0]])
    assert pool_forward(spec, x).tolist() == [[2.0]]
    assert pool_backward(spec, x, np.array([[1.0]])).tolist() == [[0.0, 1.0, 0.0, 0.0]]
    # the lectures' max-pool example
    grid = np.array([[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]], dtype=float)
    assert pool_forward(sc.Pool(kind="max", kernel_size=2), grid).tolist() == [[[6, 8], [3, 4]]]


@pytest.mark.parametrize("divisor", [None, 2])
def test_avg_pool1d_backprop_including_divisor_override(divisor) -> None:
    spec = sc.Pool(dims=1, kind="avg", kernel_size=3, stride=2, padding=1, divisor_override=divisor)
    cert = backprop(spec, 7).verify()
    assert cert.passed, cert.text()


def test_bias_check_differentiates_the_loss_it_builds(monkeypatch) -> None:
    """The bias check differentiates L = sum delta (T x + b) in SymPy on this layer (a 7x7
    circular 16 -> 16 one here, reduced to 2 -> 2 channels): a loss whose bias term reads the
    wrong channel fails it, and so does one that lost the bias."""
    import importlib

    bp = importlib.import_module("symconv.backprop")  # `symconv.backprop` is also a function
    from symconv.derive import derive

    spec = sc.Conv(
        dims=2, in_channels=16, out_channels=16, kernel_size=7, padding=3, padding_mode="circular"
    )

    def bias_check(cert):
        (r,) = (r for r in cert.results if r.name.startswith("dL/db"))
        return r

    assert bias_check(derive("backprop", spec, (64, 64)).verify()).passed
    real = bp.sympy_gradients
    for change in (
        lambda sg: {**sg, "loss": sg["loss"].xreplace({sg["b"][0]: sg["b"][1]})},
        lambda sg: {**sg, "loss": sg["loss"].xreplace({sg["b"][1]: 0})},
    ):
        monkeypatch.setattr(bp, "sympy_gradients", lambda s, n, c=change: c(real(s, n)))
        assert not bias_check(derive("backprop", spec, (64, 64)).verify()).passed
