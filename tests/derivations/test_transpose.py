"""Transposed convolution: T^T of the convolution, torch's numbers, the direct-convolution form."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symconv as sc
from symconv.transpose import verify_adjoint

torch.set_num_threads(1)


@st.composite
def transpose_cases(draw):
    dims = draw(st.integers(1, 3))

    def ax(lo, hi):
        return st.lists(
            st.integers(lo, hi),
            min_size=dims,
            max_size=dims,
        ).map(tuple)

    groups = draw(st.sampled_from([1, 1, 2]))
    stride, dilation = draw(ax(1, 3)), draw(ax(1, 2))
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
    )
    try:
        spec = sc.ConvTranspose(
            dims=dims,
            in_channels=groups * draw(st.integers(1, 2)),
            out_channels=groups * draw(st.integers(1, 2)),
            kernel_size=draw(ax(1, 3)),
            stride=stride,
            padding=draw(ax(0, 2)),
            output_padding=output_padding,
            dilation=dilation,
            groups=groups,
            bias=False,
        )
        size = draw(ax(1, 5 if dims < 3 else 3))
        spec.output_size(size)
    except sc.SpecError:
        assume(False)
    return spec, size


def torch_transpose(spec, x, w):
    f = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[spec.dims - 1]
    return f(
        torch.from_numpy(x)[None],
        torch.from_numpy(w),
        stride=spec.stride,
        padding=spec.padding,
        output_padding=spec.output_padding,
        groups=spec.groups,
        dilation=spec.dilation,
    )[0].numpy()


@settings(max_examples=60, deadline=None)
@given(transpose_cases(), st.integers(0, 2**32 - 1))
def test_transpose_toeplitz_matches_torch(case, seed):
    spec, size = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((spec.in_channels, *size))
    w = rng.standard_normal(spec.weight_shape)
    y = sc.toeplitz_numeric(spec, size, w) @ x.ravel()
    np.testing.assert_allclose(y, torch_transpose(spec, x, w).ravel(), atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(transpose_cases(), st.integers(0, 2**32 - 1))
def test_direct_convolution_equivalent_matches_torch(case, seed):
    spec, size = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, spec.in_channels, *size))
    w = rng.standard_normal(spec.weight_shape)
    eq = sc.conv_transpose_equivalent(spec)
    stretched = eq.stretch(x)
    assert stretched.shape[2:] == eq.stretched_size(size)
    assert eq.conv.output_size(stretched.shape[2:]) == spec.output_size(size)
    wc = eq.weight(w)
    assert wc.shape == eq.conv.weight_shape
    # the direct convolution through symconv's own matrix ...
    y = sc.toeplitz_numeric(eq.conv, stretched.shape[2:], wc) @ stretched.ravel()
    np.testing.assert_allclose(y, torch_transpose(spec, x[0], w).ravel(), atol=1e-10)
    # ... and through torch's F.conv (flip = the reversed kernel)
    conv = (F.conv1d, F.conv2d, F.conv3d)[spec.dims - 1]
    yt = conv(
        torch.from_numpy(stretched),
        torch.from_numpy(np.ascontiguousarray(wc)).flip(list(range(2, 2 + spec.dims))),
        dilation=spec.dilation,
        groups=spec.groups,
    )
    np.testing.assert_allclose(yt.numpy()[0], torch_transpose(spec, x[0], w), atol=1e-10)


@pytest.mark.parametrize(
    "dims, k, s, p, op, d, g",
    [
        (dims, k, s, p, op, d, g)
        for dims, k, s, p, d, g in itertools.product(
            (1, 2), (1, 2, 3), (1, 2, 3), (0, 1), (1, 2), (1, 2)
        )
        for op in range(max(s, d))
        if not (dims == 2 and (g == 2 or d == 2))
    ],
)
def test_transpose_is_exactly_the_adjoint(dims, k, s, p, op, d, g):
    """toeplitz(ConvTranspose) == toeplitz(Conv)^T, same weight symbols, exact (sympy)."""
    try:
        spec = sc.ConvTranspose(
            dims=dims,
            in_channels=g,
            out_channels=2 * g,
            kernel_size=k,
            stride=s,
            padding=p,
            output_padding=op,
            dilation=d,
            groups=g,
        )
        spec.output_size(3)
    except sc.SpecError:
        pytest.skip("invalid combination")
    assert verify_adjoint(spec, 3)


def test_lecture_1d_transpose_is_the_transposed_matrix():
    conv = sc.toeplitz(sc.Conv(dims=1, kernel_size=3), 5)
    assert sc.toeplitz(sc.ConvTranspose(dims=1, kernel_size=3), 3) == conv.T


def test_output_padding_disambiguates_the_input_size():
    conv = sc.Conv(dims=1, kernel_size=3, stride=2, padding=1)
    assert conv.output_size(7) == conv.output_size(8) == (4,)
    a = [
        sc.ConvTranspose(dims=1, kernel_size=3, stride=2, padding=1, output_padding=op)
        for op in (0, 1)
    ]
    assert [t.output_size(4) for t in a] == [(7,), (8,)]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"stride": 2, "output_padding": 2}, "output_padding 2 must be smaller than the stride 2"),
        ({"output_padding": 1}, "output_padding 1"),
        ({"in_channels": 3, "groups": 2}, "groups 2 must divide in_channels 3"),
        ({"padding": "same"}, "padding must be an integer"),
        ({"kernel_size": 0}, "kernel_size must be an integer >= 1"),
        ({"dims": 4}, "dims must be 1, 2 or 3"),
    ],
)
def test_spec_errors(kwargs, match):
    with pytest.raises(sc.SpecError, match=match):
        sc.ConvTranspose(**{"dims": 1, "kernel_size": 3, **kwargs})


def test_output_padding_below_dilation_is_allowed_as_in_torch():
    spec = sc.ConvTranspose(dims=1, kernel_size=2, stride=1, dilation=3, output_padding=2)
    assert spec.output_size(4) == (4 - 1 + 3 + 2 + 1,)
    with pytest.raises(sc.SpecError, match="output size"):
        sc.ConvTranspose(dims=1, kernel_size=1, padding=3).output_size(2)


def test_weight_layout_and_parameters():
    spec = sc.ConvTranspose(dims=2, in_channels=4, out_channels=6, groups=2, kernel_size=3)
    assert spec.weight_shape == (4, 3, 3, 3)
    assert spec.num_parameters() == 4 * 3 * 9 + 6
    assert spec.adjoint().weight_shape == spec.weight_shape
    assert "ConvTranspose2d(4, 6" in str(spec)


def test_fully_cropped_transpose_is_the_zero_matrix() -> None:
    spec = sc.ConvTranspose(dims=1, kernel_size=1, stride=2, padding=1)
    t = sc.toeplitz(spec, 2)
    assert t.shape == (1, 2) and t.nnz() == 0
    assert verify_adjoint(spec, 2)


def test_stretch_checks_the_input_shape():
    """`stretch` names an input that does not fit the layer: wrong rank, wrong channel count,
    an empty axis, or a size the padding crops to nothing; a fitting one passes."""
    spec = sc.ConvTranspose(
        dims=2, in_channels=3, out_channels=2, kernel_size=3, stride=2, padding=2
    )
    eq = sc.conv_transpose_equivalent(spec)
    assert eq.stretch(np.ones((1, 3, 4, 4))).shape == (1, 3, *eq.stretched_size((4, 4)))
    for shape, match in [
        ((3, 4, 4), "must be"),
        ((1, 2, 4, 4), "must be"),
        ((1, 3, 0, 4), "input_size"),
        ((1, 3, 1, 4), "output size"),
    ]:
        with pytest.raises(sc.SpecError, match=match):
            eq.stretch(np.ones(shape))
