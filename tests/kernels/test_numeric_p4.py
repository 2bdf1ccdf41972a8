"""numeric.p4: lifting and group convolution on numeric.conv2d, NumPy and torch, with autograd.

Checked against `symconv.groupconv` (the NumPy einsum reference), for equivariance (rotating the
input rotates every map and shifts the orientation axis: `symconv.groupconv.rotate_p4`), and
with `torch.autograd.gradcheck` through the autograd wrapper of `numeric.conv2d`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numeric import p4
from symconv import SpecError, groupconv
from symconv.groupconv import rotate_p4


@st.composite
def cases(draw: Any) -> dict[str, Any]:
    k = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 2))
    size = draw(st.integers(max(1, k - 2 * padding, padding + 1), 6))
    return dict(
        n=draw(st.integers(1, 2)),
        c_in=draw(st.integers(1, 2)),
        c_out=draw(st.integers(1, 2)),
        k=k,
        size=size,
        padding=padding,
        mode=draw(st.sampled_from(("zeros", "circular"))),
        seed=draw(st.integers(0, 2**16)),
    )


def _arrays(c: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["n"], c["c_in"], c["size"], c["size"]))
    w_lift = rng.standard_normal((c["c_out"], c["c_in"], c["k"], c["k"]))
    w_group = rng.standard_normal((c["c_in"], c["c_out"], 4, c["k"], c["k"]))
    return x, w_lift, w_group


@settings(max_examples=30)
@given(cases())
def test_numpy_and_torch_equal_symconv_groupconv(c: dict[str, Any]) -> None:
    x, w1, w2 = _arrays(c)
    p, mode = c["padding"], c["mode"]
    y = groupconv.lift(x, w1, p, mode)
    np.testing.assert_allclose(p4.lift(x, w1, p, mode), y, atol=1e-12)
    yt = p4.lift(torch.from_numpy(x), torch.from_numpy(w1), p, mode)
    assert isinstance(yt, torch.Tensor)
    np.testing.assert_allclose(yt.numpy(), y, atol=1e-12)
    if y.shape[-1] + 2 * p < c["k"]:
        return
    z = groupconv.group_conv(y, w2, p, mode)
    np.testing.assert_allclose(p4.group_conv(y, w2, p, mode), z, atol=1e-12)
    zt = p4.group_conv(torch.from_numpy(y), torch.from_numpy(w2), p, mode)
    np.testing.assert_allclose(zt.numpy(), z, atol=1e-12)


@settings(max_examples=25)
@given(cases(), st.sampled_from(("zeros", "circular", "reflect", "replicate")))
def test_rotating_the_input_rotates_the_output_and_shifts_orientations(
    c: dict[str, Any], mode: str
) -> None:
    x, w1, w2 = _arrays(c)
    p = c["padding"] if mode in ("zeros", "circular") else min(c["padding"], c["size"] - 1)
    rot = np.rot90(x, 1, axes=(-2, -1)).copy()
    y = p4.lift(x, w1, p, mode)
    np.testing.assert_allclose(p4.lift(rot, w1, p, mode), rotate_p4(y), atol=1e-10)
    if y.shape[-1] + 2 * p < c["k"] or (mode == "reflect" and p >= y.shape[-1]):
        return
    z = p4.group_conv(y, w2, p, mode)
    zr = p4.group_conv(rotate_p4(y).copy(), w2, p, mode)
    np.testing.assert_allclose(zr, rotate_p4(z), atol=1e-10)
    # on torch tensors too
    zt = p4.group_conv(torch.from_numpy(rotate_p4(y).copy()), torch.from_numpy(w2), p, mode)
    np.testing.assert_allclose(zt.numpy(), rotate_p4(z), atol=1e-10)


def test_plain_filters_are_not_equivariant_so_the_test_can_fail() -> None:
    """Control: without the rotated filter bank (all four copies unrotated) equivariance breaks."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 1, 5, 5)), rng.standard_normal((1, 1, 3, 3))
    unrotated = np.repeat(w, 4, axis=0)

    def fake_lift(a: np.ndarray) -> np.ndarray:
        return groupconv.correlate2d(a, unrotated, 1).reshape(1, 1, 4, 5, 5)

    rot = np.rot90(x, 1, axes=(-2, -1))
    assert not np.allclose(fake_lift(rot), rotate_p4(fake_lift(x)))
    assert np.allclose(p4.lift(rot.copy(), w, 1), rotate_p4(p4.lift(x, w, 1)))


@pytest.mark.parametrize("mode", ["zeros", "circular", "reflect"])
def test_gradcheck_lift_and_group_conv(mode: str) -> None:
    torch.manual_seed(0)
    opts = dict(dtype=torch.float64, requires_grad=True)
    x = torch.randn(1, 1, 3, 3, **opts)
    w1 = torch.randn(2, 1, 3, 3, **opts)
    w2 = torch.randn(1, 1, 4, 3, 3, **opts)
    assert torch.autograd.gradcheck(lambda a, b: p4.lift(a, b, 1, mode), (x, w1))
    y = torch.randn(1, 1, 4, 3, 3, **opts)
    assert torch.autograd.gradcheck(lambda a, b: p4.group_conv(a, b, 1, mode), (y, w2))


def test_autograd_through_a_two_layer_network() -> None:
    """lift -> relu -> group_conv -> sum: gradients equal those of the same net in torch ops."""
    torch.manual_seed(1)
    x = torch.randn(2, 1, 5, 5, dtype=torch.float64)
    w1 = torch.randn(3, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    w2 = torch.randn(2, 3, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    p4.group_conv(torch.relu(p4.lift(x, w1, 1)), w2, 1).square().sum().backward()
    g1, g2 = w1.grad.clone(), w2.grad.clone()
    w1.grad = w2.grad = None
    conv = torch.nn.functional.conv2d
    h = conv(x, p4.lift_filters(w1), padding=1).reshape(2, 3, 4, 5, 5)
    z = conv(torch.relu(h).reshape(2, 12, 5, 5), p4.group_filters(w2), padding=1)
    z.square().sum().backward()
    torch.testing.assert_close(g1, w1.grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(g2, w2.grad, rtol=1e-10, atol=1e-10)


def test_filter_banks_match_groupconv_layout() -> None:
    w = np.arange(2 * 1 * 4 * 2 * 2, dtype=float).reshape(2, 1, 4, 2, 2)
    bank = p4.group_filters(w)
    for k in range(2):
        for r in range(4):
            for s in range(4):
                want = np.rot90(w[k, 0, (s - r) % 4], r)
                np.testing.assert_array_equal(bank[4 * k + r, s], want)
    wt = torch.from_numpy(w[:, :, 0].copy())
    np.testing.assert_array_equal(p4.lift_filters(wt).numpy(), p4.lift_filters(w[:, :, 0]))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: p4.lift(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 2))), "must be square"),
        (lambda: p4.lift(np.ones((1, 1, 5)), np.ones((1, 1, 3, 3))), r"lift expects x"),
        (lambda: p4.lift(np.ones((1, 1, 5, 5)), np.ones((1, 3, 3))), r"lift expects w"),
        (
            lambda: p4.lift(np.ones((1, 1, 5, 5)), np.ones((1, 1, 2, 2)), padding="same"),
            "odd kernel",
        ),
        (lambda: p4.lift(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), padding=-1), "padding"),
        (
            lambda: p4.lift(np.ones((1, 1, 5, 5)), np.ones((1, 1, 3, 3)), padding_mode="mirror"),
            "padding_mode",
        ),
        (
            lambda: p4.lift(np.ones((1, 2, 5, 5)), np.ones((1, 1, 3, 3))),
            r"p4: conv2d: .*input channels",
        ),
        (
            lambda: p4.group_conv(np.ones((1, 1, 3, 5, 5)), np.ones((1, 1, 4, 3, 3))),
            r"group_conv expects x \(N, C_in, 4, H, W\)",
        ),
        (
            lambda: p4.group_conv(np.ones((1, 1, 4, 5, 5)), np.ones((1, 1, 3, 3, 3))),
            r"group_conv expects w",
        ),
        (
            lambda: p4.lift(np.ones((1, 1, 5, 5)), torch.ones(1, 1, 3, 3, requires_grad=True)),
            r"p4: conv2d: mixed array types",
        ),
    ],
)
def test_bad_input_raises_spec_error(call: Any, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        call()
