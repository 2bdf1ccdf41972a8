"""`fits()` agrees with torch about which input positions a layer reads.

A position is read iff its gradient can be nonzero: for convolution and average / Lp pooling a
random input with weights bounded away from zero gives a nonzero gradient exactly at the read
positions; for max pooling a position is read iff making it the largest value of the input
routes a gradient to it. Windows are separable, so the read set of a 2-d layer is the product of
the per-axis sets `Fit.unread` describes.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv as sc
from symconv._torchref import conv_reference, pool_reference
from symconv.testing import conv_specs, pool_specs

torch = pytest.importorskip("torch")


def _expected(fit: sc.Fit, size: tuple[int, ...]) -> np.ndarray:
    """The read mask fit.unread implies: the product of the per-axis read sets."""
    masks = []
    for i, unread in zip(size, fit.unread, strict=True):
        m = np.ones(i, dtype=bool)
        m[list(unread)] = False
        masks.append(m)
    out = masks[0]
    for m in masks[1:]:
        out = np.logical_and.outer(out, m)
    return out


def _nonzero_weights(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


@settings(max_examples=60, deadline=None)
@given(
    case=conv_specs(dims=[1, 2], max_size=9, stride=(1, 4), dilation=(1, 3)),
    seed=st.integers(0, 2**16),
)
def test_conv_fits_reads_what_torch_differentiates(case, seed):
    spec, size = case
    rng = np.random.default_rng(seed)
    cin, cout = spec.in_channels, spec.out_channels
    x = torch.tensor(rng.standard_normal((1, cin, *size)), requires_grad=True)
    w = torch.tensor(_nonzero_weights(rng, (cout, cin // spec.groups, *spec.kernel_size)))
    y = conv_reference(spec, x, w)
    y.backward(torch.tensor(_nonzero_weights(rng, tuple(y.shape))))
    read = (x.grad.abs() > 0).any(dim=(0, 1)).numpy()
    np.testing.assert_array_equal(read, _expected(spec.fits(size), size), err_msg=repr(spec))


@settings(max_examples=60, deadline=None)
@given(
    case=pool_specs(dims=[1, 2], kinds=["avg", "lp"], max_size=9, stride=(1, 4)),
    seed=st.integers(0, 2**16),
)
def test_avg_lp_pool_fits_reads_what_torch_differentiates(case, seed):
    spec, size = case
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.uniform(0.5, 1.5, (1, 1, *size)), requires_grad=True)
    y = pool_reference(spec, x)
    y.backward(torch.tensor(_nonzero_weights(rng, tuple(y.shape))))
    read = (x.grad.abs() > 0)[0, 0].numpy()
    np.testing.assert_array_equal(read, _expected(spec.fits(size), size), err_msg=repr(spec))


@settings(max_examples=40, deadline=None)
@given(case=pool_specs(dims=[1, 2], kinds="max", max_size=8, stride=(1, 4), dilation=(1, 3)))
def test_max_pool_fits_reads_what_torch_differentiates(case):
    spec, size = case
    read = np.zeros(size, dtype=bool)
    for pos in itertools.product(*(range(i) for i in size)):
        x = torch.zeros((1, 1, *size), dtype=torch.float64)
        x[(0, 0, *pos)] = 1.0  # the one maximum: a window that holds it routes its gradient here
        x.requires_grad_(True)
        pool_reference(spec, x).sum().backward()
        read[pos] = bool(x.grad[(0, 0, *pos)] != 0)
    np.testing.assert_array_equal(read, _expected(spec.fits(size), size), err_msg=repr(spec))


@pytest.mark.parametrize(
    ("spec", "size", "unused", "unread"),
    [
        (sc.Conv(dims=1, kernel_size=3, stride=3), 7, (1,), ((6,),)),
        (sc.Conv(dims=1, kernel_size=1, stride=2), 5, (0,), ((1, 3),)),
        (sc.Conv(dims=1, kernel_size=2, dilation=3, stride=4), 9, (1,), ((1, 2, 5, 6, 8),)),
        # the left pad reflects position 1: read through the padding, not by a window directly
        (
            sc.Conv(dims=1, kernel_size=1, stride=3, padding=1, padding_mode="reflect"),
            6,
            (1,),
            ((0, 3, 4),),
        ),
        (sc.Conv(dims=1, kernel_size=1, stride=3, padding=1), 6, (1,), ((0, 1, 3, 4),)),
        # ceil mode: the last, partial window reads the tail floor mode leaves out
        (sc.Pool(dims=1, kind="max", kernel_size=2, ceil_mode=True), 5, (0,), ((),)),
        (sc.Pool(dims=1, kind="max", kernel_size=2), 5, (1,), ((4,),)),
    ],
)
def test_fit_examples(spec, size, unused, unread):
    fit = spec.fits(size)
    assert fit.unused == unused
    assert fit.unread == unread
    assert fit.reads_all == (unread == ((),))
