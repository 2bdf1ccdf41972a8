"""Spec arithmetic against torch: same output shapes, and torch fails exactly where we refuse."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import symconv as sc

torch.set_num_threads(1)


@st.composite
def conv_case(draw):
    dims = draw(st.integers(1, 3))
    ax = st.lists(st.integers(1, 4), min_size=dims, max_size=dims).map(tuple)
    kernel, dilation = (
        draw(ax),
        draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims).map(tuple)),
    )
    groups = draw(st.sampled_from([1, 2]))
    stride = draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims).map(tuple))
    padding = draw(
        st.one_of(
            st.integers(0, 3),
            st.lists(st.integers(0, 3), min_size=dims, max_size=dims).map(tuple),
            st.sampled_from(["valid", "same", "full"]),
        )
    )
    if padding == "same":
        stride = (1,) * dims
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    size = draw(st.lists(st.integers(1, 9), min_size=dims, max_size=dims).map(tuple))
    return dict(
        dims=dims,
        in_channels=2 * groups,
        out_channels=2 * groups,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        padding_mode=mode,
    ), size


def _torch_conv(kw, size):
    dims = kw["dims"]
    module = getattr(torch.nn, f"Conv{dims}d")
    padding = kw["padding"]
    if padding == "full":
        padding = tuple(d * (k - 1) for k, d in zip(kw["kernel_size"], kw["dilation"], strict=True))
    layer = module(
        kw["in_channels"],
        kw["out_channels"],
        kw["kernel_size"],
        stride=kw["stride"],
        padding=padding,
        dilation=kw["dilation"],
        groups=kw["groups"],
        padding_mode=kw["padding_mode"],
        device="cpu",
    )
    x = torch.zeros(1, kw["in_channels"], *size)
    with torch.no_grad():
        return tuple(layer(x).shape[2:])


@given(conv_case())
def test_conv_output_size_matches_torch(case) -> None:
    kw, size = case
    try:
        ours = sc.Conv(**kw).output_size(size)
    except sc.SpecError:
        ours = None
    try:
        theirs = _torch_conv(kw, size)
    except (RuntimeError, ValueError, NotImplementedError):
        theirs = None
    if ours is None:
        # every input we refuse, torch refuses too (circular pads larger than the input are a
        # case torch also rejects; 'full'+reflect etc. follow from the same rules)
        assert theirs is None, (kw, size, theirs)
    else:
        assert theirs == ours, (kw, size)


@pytest.mark.parametrize("k", [2, 3, 4, 5])
@pytest.mark.parametrize("d", [1, 2])
def test_same_padding_even_kernels_like_torch(k, d) -> None:
    spec = sc.Conv(dims=1, kernel_size=k, dilation=d, padding="same")
    total = d * (k - 1)
    assert spec.pads == ((total // 2, total - total // 2),)
    x = torch.arange(10.0).reshape(1, 1, 10)
    w = torch.randn(1, 1, k, dtype=torch.float32)
    ours = torch.nn.functional.conv1d(torch.nn.functional.pad(x, spec.pads[0]), w, dilation=d)
    theirs = torch.nn.functional.conv1d(x, w, padding="same", dilation=d)
    assert torch.allclose(ours, theirs)


@st.composite
def pool_case(draw):
    dims = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "avg", "lp"]))
    kernel = tuple(draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims)))
    stride = tuple(draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims)))
    dilation = (
        tuple(draw(st.lists(st.integers(1, 2), min_size=dims, max_size=dims)))
        if kind == "max"
        else (1,) * dims
    )
    padding = (
        (0,) * dims
        if kind == "lp"
        else tuple(
            draw(st.integers(0, (d * (k - 1) + 1) // 2 + 1))
            for k, d in zip(kernel, dilation, strict=True)
        )
    )
    ceil = draw(st.booleans())
    size = tuple(draw(st.lists(st.integers(1, 9), min_size=dims, max_size=dims)))
    return dict(
        dims=dims,
        kind=kind,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil,
        norm_type=2.0 if kind == "lp" else None,
    ), size


def _torch_pool(kw, size):
    dims, kind = kw["dims"], kw["kind"]
    x = torch.zeros(1, 1, *size)
    F = torch.nn.functional
    if kind == "max":
        return getattr(F, f"max_pool{dims}d")(
            x,
            kw["kernel_size"],
            kw["stride"],
            kw["padding"],
            kw["dilation"],
            ceil_mode=kw["ceil_mode"],
        ).shape[2:]
    if kind == "avg":
        return getattr(F, f"avg_pool{dims}d")(
            x, kw["kernel_size"], kw["stride"], kw["padding"], ceil_mode=kw["ceil_mode"]
        ).shape[2:]
    if dims == 1:  # torch's lp_pool1d takes plain ints
        return F.lp_pool1d(
            x, 2.0, kw["kernel_size"][0], kw["stride"][0], ceil_mode=kw["ceil_mode"]
        ).shape[2:]
    return getattr(F, f"lp_pool{dims}d")(
        x, 2.0, kw["kernel_size"], kw["stride"], ceil_mode=kw["ceil_mode"]
    ).shape[2:]


@given(pool_case())
def test_pool_output_size_matches_torch(case) -> None:
    kw, size = case
    try:
        ours = sc.Pool(**kw).output_size(size)
    except sc.SpecError:
        ours = None
    try:
        theirs = tuple(_torch_pool(kw, size))
        if any(n <= 0 for n in theirs):
            theirs = None
    except (RuntimeError, ValueError):
        theirs = None
    assert ours == theirs, (kw, size)


def test_pool_ceil_mode_drops_window_starting_in_right_padding() -> None:
    # i=5, k=2, s=2, p=1: ceil gives 4 windows but the 4th would start at 6 >= i + p = 6
    spec = sc.Pool(dims=1, kernel_size=2, stride=2, padding=1, ceil_mode=True)
    assert spec.output_size(5) == (3,)
    x = torch.zeros(1, 1, 5)
    assert torch.nn.functional.max_pool1d(x, 2, 2, 1, ceil_mode=True).shape[-1] == 3
    formula = spec.output_size_formula(axis=0)
    i = sc.arith.SYMBOLS["i"]
    for n in range(1, 12):
        assert formula.subs(i, n) == spec.output_size(n)[0]


@given(conv_case())
def test_output_formula_agrees_with_concrete(case) -> None:
    kw, size = case
    try:
        spec = sc.Conv(**kw)
        out = spec.output_size(size)
    except sc.SpecError:
        return
    i = sc.arith.SYMBOLS["i"]
    for axis, n in enumerate(size):
        assert spec.output_size_formula(axis=axis).subs(i, n) == out[axis]


def test_arithmetic_counts() -> None:
    spec = sc.Conv(dims=2, in_channels=3, out_channels=10, kernel_size=5, padding=2)
    assert (
        spec.num_parameters()
        == 760
        == sum(p.numel() for p in torch.nn.Conv2d(3, 10, 5, padding=2).parameters())
    )
    assert spec.macs((32, 32)) == 32 * 32 * 10 * 5 * 5 * 3
    assert spec.flops((32, 32)) == 2 * spec.macs((32, 32))
    assert spec.flops((32, 32), exact=True) == 32 * 32 * 10 * (2 * 75 - 1 + 1)
    assert spec.activations((32, 32)) == 10240
    assert spec.activation_memory((32, 32)) == 40960
    dw = sc.Conv(in_channels=8, out_channels=16, groups=8, kernel_size=3, bias=False)
    assert dw.weight_shape == (16, 1, 3, 3)
    assert dw.num_parameters() == math.prod(dw.weight_shape)


def test_receptive_field_of_stacks() -> None:
    conv3 = sc.Conv(kernel_size=3, padding=1)
    pool = sc.Pool(kernel_size=2)
    rf = sc.receptive_field([conv3, conv3, pool, conv3])
    assert rf.size == (10, 10) and rf.jump == (2, 2)
    assert sc.receptive_field([sc.Conv(kernel_size=3, dilation=2)] * 2).size == (9, 9)
    with pytest.raises(sc.SpecError):
        sc.receptive_field([])
