"""Generated pooling kernels (max with indices, avg, lp; forward and backward) against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check_op
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import numeric as nm
import symconv as sc
from symconv.poolgrad import pool_backward, pool_forward
from symconv.testing import pool_specs


@st.composite
def pool_cases(draw, kind):
    """A valid (spec, input size) from symconv.testing.pool_specs, as check_op arguments."""
    dims = draw(st.sampled_from([1, 2, 3]))
    spec, size = draw(pool_specs(dims, kinds=kind, max_size=7 if dims < 3 else 5))
    kwargs = dict(kernel_size=spec.kernel_size, stride=spec.stride, ceil_mode=spec.ceil_mode)
    extra = {}
    if kind != "lp":
        kwargs["padding"] = spec.padding
    if kind == "max":
        kwargs["dilation"] = spec.dilation
        kwargs["return_indices"] = draw(st.booleans())
    elif kind == "avg":
        kwargs["count_include_pad"] = spec.count_include_pad
        if dims > 1:  # torch's avg_pool1d has no divisor_override
            kwargs["divisor_override"] = draw(st.sampled_from([None, None, 3]))
    else:
        extra["norm_type"] = spec.norm_type
        if dims == 1:  # torch's lp_pool1d takes plain ints
            kwargs["kernel_size"], kwargs["stride"] = spec.kernel_size[0], spec.stride[0]
    if kind == "max":  # torch mishandles windows entirely in padding: see the test below
        assume(not _windows_in_padding_only(spec, size))
    batch = draw(st.sampled_from([0, 1, 2]))
    return dims, {"input": (batch, 2, *size), **extra}, kwargs


def _windows_in_padding_only(spec: sc.Pool, size: tuple[int, ...]) -> bool:
    """Whether some window reads no input position at all (read off the index form)."""
    form = sc.index_form(spec, size)
    reads = np.bincount(form.gather().rows, minlength=int(np.prod(form.out_shape())))
    return bool((reads == 0).any())


@given(pool_cases("max"), st.sampled_from(["numpy", "torch"]), st.integers(0, 99))
def test_max_pool_against_torch(case, backend, seed):
    dims, args, kwargs = case
    check_op(f"max_pool{dims}d", args, kwargs, backend=backend, seed=seed)


@given(pool_cases("avg"), st.sampled_from(["numpy", "torch"]), st.integers(0, 99))
def test_avg_pool_against_torch(case, backend, seed):
    dims, args, kwargs = case
    check_op(f"avg_pool{dims}d", args, kwargs, backend=backend, seed=seed)


@given(pool_cases("lp"), st.sampled_from(["numpy", "torch"]), st.integers(0, 99))
def test_lp_pool_against_torch(case, backend, seed):
    dims, args, kwargs = case
    check_op(f"lp_pool{dims}d", args, kwargs, backend=backend, seed=seed, positive=True)


@settings(max_examples=20)
@given(pool_cases("max"))
def test_max_pool_float32(case):
    dims, args, kwargs = case
    check_op(f"max_pool{dims}d", args, kwargs, dtype=np.float32)


def test_max_pool_ties_go_to_the_first_maximum():
    x = np.array([[[1.0, 2.0, 2.0, 2.0]]])
    _, idx = nm.max_pool1d(x, 4, return_indices=True)
    assert idx.tolist() == [[[1]]]
    g = nm.max_pool1d_backward(np.ones((1, 1, 1)), x, 4)
    assert g.tolist() == [[[0.0, 1.0, 0.0, 0.0]]]


def test_max_pool_window_entirely_in_padding():
    """Kernel 2, dilation 2, padding 1 on one sample: the window reads the two pads only. Its
    maximum is the padding's -inf, its index -1, and it sends no gradient. (torch 2.13 returns
    the out-of-range index 1 and its backward writes the gradient into the next channel.)"""
    x = np.array([[[3.0], [5.0]]])
    y, idx = nm.max_pool1d(x, 2, 1, 1, 2, return_indices=True)
    assert y.tolist() == [[[-np.inf], [-np.inf]]] and idx.tolist() == [[[-1], [-1]]]
    gx = nm.max_pool1d_backward(np.ones_like(y), x, 2, 1, 1, 2, indices=idx)
    assert gx.tolist() == [[[0.0], [0.0]]]
    assert _windows_in_padding_only(sc.Pool(dims=1, kernel_size=2, padding=1, dilation=2,
                                            stride=1), (1,))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "args", "kw"),
    [
        ("max_pool2d", (), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ("max_pool1d", (), dict(kernel_size=3, stride=2, dilation=2)),
        ("avg_pool2d", (), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
        ("avg_pool3d", (), dict(kernel_size=2, divisor_override=3)),
        ("lp_pool2d", (2.0,), dict(kernel_size=2, stride=1)),
    ],
)
def test_torch_autograd_through_pooling(name, args, kw):
    """On tensors that require a gradient the pooling functions are differentiable: gradcheck
    passes (backward = numeric's *_backward; random inputs have no max ties)."""
    dims = int(name[-2])
    g = torch.Generator().manual_seed(dims)
    x = torch.rand(2, 3, *(7,) * dims if dims < 3 else (4, 5, 4), dtype=torch.float64, generator=g)
    x = (x + 0.5).requires_grad_()  # positive: lp pooling's gradient is smooth there
    fn = getattr(nm, name)
    assert torch.autograd.gradcheck(lambda x: fn(x, *args, **kw), (x,))
    if name.startswith("max"):
        y, idx = fn(x, *args, **kw, return_indices=True)
        assert y.requires_grad and not idx.requires_grad


def _both(x: np.ndarray):
    return [("numpy", x), ("torch", torch.tensor(x))]


@pytest.mark.parametrize("dims", [1, 2])
def test_max_pool_propagates_nan_as_torch(dims):
    """A NaN is its window's maximum and, of several, the last one in scan order takes the
    index and the gradient (torch's CPU rule); the reference (symconv.poolgrad) agrees."""
    g = np.random.default_rng(dims)
    x = g.standard_normal((2, 3, *(6,) * dims))
    x.reshape(-1)[g.choice(x.size, size=x.size // 4, replace=False)] = np.nan
    kw = dict(kernel_size=3, stride=1, padding=1)
    ref = getattr(torch.nn.functional, f"max_pool{dims}d")
    xt = torch.tensor(x, requires_grad=True)
    want, want_idx = ref(xt, **kw, return_indices=True)
    up = torch.tensor(g.standard_normal(want.shape))
    (want_dx,) = torch.autograd.grad(want, xt, up)
    fn = getattr(nm, f"max_pool{dims}d")
    backward = getattr(nm, f"max_pool{dims}d_backward")
    for _, a in _both(x):
        y, idx = fn(a, **kw, return_indices=True)
        np.testing.assert_array_equal(np.asarray(y), want.detach().numpy())  # NaNs in place
        np.testing.assert_array_equal(np.asarray(idx), want_idx.numpy())
        dx = backward(up.numpy() if isinstance(a, np.ndarray) else up, a, **kw)
        np.testing.assert_allclose(np.asarray(dx), want_dx.numpy())
    spec = sc.Pool(dims=dims, kind="max", **kw)
    np.testing.assert_array_equal(pool_forward(spec, x[0]), want[0].detach().numpy())
    np.testing.assert_allclose(pool_backward(spec, x[0], up[0].numpy()), want_dx[0].numpy())


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_lp_pool_signed_inputs_as_torch(p):
    """Signed inputs: with odd p a window's sum of powers can be negative; torch passes it
    through (p = 1 is sum pooling, gradient 1; p = 3 gives NaN there, forward and backward),
    and a window of zeros sends no gradient."""
    x = np.array([[[0.0, 0.0, 1.0, -0.5, 3.0, -5.0, 2.0, 4.0, -1.0, -2.0]]])
    xt = torch.tensor(x, requires_grad=True)
    want = torch.nn.functional.lp_pool1d(xt, p, 2)
    up = torch.arange(1.0, 6.0, dtype=torch.float64).reshape(want.shape)
    (want_dx,) = torch.autograd.grad(want, xt, up)
    for name, a in _both(x):
        y = nm.lp_pool1d(a, p, 2)
        np.testing.assert_allclose(np.asarray(y), want.detach().numpy(), equal_nan=True)
        d = up if name == "torch" else up.numpy()
        dx = nm.lp_pool1d_backward(d, a, p, 2)
        np.testing.assert_allclose(np.asarray(dx), want_dx.numpy(), equal_nan=True)
    (auto,) = torch.autograd.grad(nm.lp_pool1d(xt, p, 2), xt, up)  # numeric's autograd
    np.testing.assert_allclose(auto.numpy(), want_dx.numpy(), equal_nan=True)
    spec = sc.Pool(dims=1, kind="lp", norm_type=p, kernel_size=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_y, ref_dx = pool_forward(spec, x[0]), pool_backward(spec, x[0], up[0].numpy())
    np.testing.assert_allclose(ref_y, want[0].detach().numpy(), equal_nan=True)
    np.testing.assert_allclose(ref_dx, want_dx[0].numpy(), equal_nan=True)
    if p == 1.0:
        assert np.asarray(want_dx)[0, 0, 2:].tolist() == np.repeat(up.numpy()[0, 0, 1:], 2).tolist()
