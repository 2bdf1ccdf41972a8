"""Generated convolution kernels against torch (forward, dL/dx, dL/dw, dL/db) and T x, T^T delta."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse  # noqa: F401  (toeplitz_numeric)
import torch
from helpers import check_op, conv_cases
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import numeric as nm
import symconv as sc


@given(conv_cases(), st.sampled_from(["numpy", "torch"]), st.integers(0, 2**16))
def test_conv_float64_against_torch(case, backend, seed):
    dims, args, kwargs = case
    check_op(f"conv{dims}d", args, kwargs, backend=backend, dtype=np.float64, seed=seed)


@settings(max_examples=30)
@given(conv_cases(dims=2), st.sampled_from(["numpy", "torch"]))
def test_conv_float32_against_torch(case, backend):
    _, args, kwargs = case
    check_op("conv2d", args, kwargs, backend=backend, dtype=np.float32)


@settings(max_examples=30)
@given(conv_cases(dims=2), st.integers(0, 100))
def test_conv_matches_toeplitz(case, seed):
    """y = T x + b and dL/dx = T^T delta with T from the index form (symconv.toeplitz_numeric)."""
    _, args, kwargs = case
    _, c_in, *size = args["input"]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, c_in, *size))
    w = rng.standard_normal(args["weight"])
    spec = sc.Conv(dims=2, in_channels=c_in, out_channels=w.shape[0], kernel_size=w.shape[2:],
                   bias=False, **kwargs)  # fmt: skip
    t = sc.toeplitz_numeric(spec, tuple(size), w)
    y = nm.conv2d(x, w, **kwargs)
    np.testing.assert_allclose(y.ravel(), t @ x.ravel(), atol=1e-10)
    delta = rng.standard_normal(y.shape)
    gx = nm.conv2d_grad_input(x.shape, w, delta, **kwargs)
    np.testing.assert_allclose(gx.ravel(), t.T @ delta.ravel(), atol=1e-10)


@settings(max_examples=40)
@given(
    st.sampled_from([1, 2, 3]),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 1),
    st.integers(1, 2),
    st.sampled_from([1, 2]),
    st.sampled_from(["numpy", "torch"]),
)
def test_conv_transpose_against_torch(dims, k, s, p, d, groups, backend):
    op = np.random.default_rng(k + s).integers(0, max(s, d)) if max(s, d) > 1 else 0
    try:
        sc.ConvTranspose(dims=dims, kernel_size=k, stride=s, padding=p, output_padding=int(op),
                         dilation=d).output_size(4)  # fmt: skip
    except sc.SpecError:
        assume(False)
    args = {"input": (2, 2 * groups, *(4,) * dims), "weight": (2 * groups, 3, *(k,) * dims),
            "bias": (3 * groups,)}  # fmt: skip
    kwargs = dict(stride=s, padding=p, output_padding=int(op), groups=groups, dilation=d)
    check_op(f"conv_transpose{dims}d", args, kwargs, backend=backend)


@pytest.mark.parametrize(
    "case",
    [
        (2, {"input": (4, 8, 9, 9), "weight": (8, 1, 3, 3), "bias": (8,)}, {"groups": 8}),
        (2, {"input": (2, 4, 9, 9), "weight": (8, 1, 3, 3), "bias": None}, {"groups": 4}),
        (2, {"input": (2, 3, 12, 12), "weight": (4, 3, 5, 5), "bias": None}, {"stride": 4}),
        (2, {"input": (2, 4, 10, 10), "weight": (4, 4, 3, 3), "bias": (4,)},
         {"padding": 2, "dilation": 2}),
    ],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_benchmark_shapes_small(case, dtype):
    """The code paths of the benchmark layers (depthwise, multiplier, strided im2col, dilated)."""
    _, args, kwargs = case
    check_op("conv2d", args, kwargs, dtype=dtype)
    check_op("conv2d", args, kwargs, dtype=dtype, backend="torch")


def test_grad_aliases_and_bias():
    assert nm.grad.conv2d_input is nm.conv2d_grad_input
    assert nm.grad.conv1d_weight is nm.conv1d_grad_weight
    d = np.ones((2, 3, 4))
    np.testing.assert_array_equal(nm.conv_grad_bias(d), [8.0, 8.0, 8.0])
    assert torch.equal(nm.conv_grad_bias(torch.ones(2, 3, 4)), torch.full((3,), 8.0))


@pytest.mark.parametrize(
    "case",
    [
        ({"input": (5, 4, 9, 9), "weight": (8, 1, 3, 3)}, {"groups": 4, "padding": 1}),
        ({"input": (5, 1, 10, 10), "weight": (3, 1, 5, 5)}, {}),
        ({"input": (5, 3, 13, 13), "weight": (4, 3, 5, 5)}, {"stride": 4}),
        ({"input": (5, 18, 8, 8), "weight": (17, 18, 3, 3)}, {"padding": 2, "dilation": 2}),
        ({"input": (5, 6, 7, 7), "weight": (4, 3, 3, 3)}, {"groups": 2, "stride": 2}),
    ],
)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_chunks_and_tiles_write_column_blocks(case, backend, monkeypatch):
    """Batch chunks (workspace budget), im2col tiles and depthwise channel blocks each write a
    block of one output buffer, and thin GEMMs run in column (dw: inner) blocks: tiny budgets
    give the same forward, dx and dw as one chunk."""
    from numeric._generated import numpy_conv, torch_conv

    args, kwargs = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(args["input"])
    w = rng.standard_normal(args["weight"])
    y_ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), **kwargs).numpy()
    delta = rng.standard_normal(y_ref.shape)
    whole = [nm.conv2d(x, w, **kwargs), nm.conv2d_grad_input(x.shape, w, delta, **kwargs),
             nm.conv2d_grad_weight(x, w.shape, delta, **kwargs)]  # fmt: skip
    np.testing.assert_allclose(whole[0], y_ref, atol=1e-10)
    for mod in (numpy_conv, torch_conv):
        monkeypatch.setattr(mod, "_TILE", 1)
        monkeypatch.setattr(mod, "_DEPTHWISE", 1)
        monkeypatch.setattr(mod, "_thin_block", lambda small: 7)
    arr = (lambda a: torch.tensor(a)) if backend == "torch" else (lambda a: a)
    for limit in (1, nm.get_workspace_limit()):  # one sample per chunk; one-sample tiles
        with nm.workspace_limit(limit):
            parts = [nm.conv2d(arr(x), arr(w), **kwargs),
                     nm.conv2d_grad_input(x.shape, arr(w), arr(delta), **kwargs),
                     nm.conv2d_grad_weight(arr(x), w.shape, arr(delta), **kwargs)]  # fmt: skip
        for got, ref in zip(parts, whole, strict=True):
            np.testing.assert_allclose(np.asarray(got), ref, atol=1e-10)


@pytest.mark.parametrize(
    ("dims", "kw"),
    [
        (2, dict(stride=2, padding=1, output_padding=1, groups=2)),
        (1, dict(stride=3, padding=2, output_padding=2, dilation=2)),
        (3, dict(stride=2)),
        # output_padding >= stride (allowed below the dilation): T delta is longer than x
        (1, dict(stride=1, output_padding=1, dilation=2)),
        (2, dict(stride=(2, 1), output_padding=(2, 1), dilation=(3, 2), groups=2)),
    ],
)
def test_conv_transpose_torch_autograd(dims, kw):
    """conv_transpose on tensors that require a gradient is differentiable: its backward is
    numeric's convolution (dL/dx = T delta) and the convolution's weight gradient."""
    g = torch.Generator().manual_seed(dims)
    size = (4,) * dims if dims < 3 else (3, 2, 3)
    x = torch.randn(2, 4, *size, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(4, 3, *(3,) * dims, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(3 * kw.get("groups", 1), dtype=torch.float64, generator=g, requires_grad=True)
    fn = getattr(nm, f"conv_transpose{dims}d")
    assert torch.autograd.gradcheck(lambda x, w, b: fn(x, w, b, **kw), (x, w, b))
    ref = getattr(torch.nn.functional, f"conv_transpose{dims}d")
    y, r = fn(x, w, b, **kw), ref(x, w, b, **kw)
    up = torch.randn(r.shape, dtype=torch.float64, generator=g)
    for got, want in zip(
        torch.autograd.grad(y, (x, w, b), up), torch.autograd.grad(r, (x, w, b), up), strict=True
    ):
        torch.testing.assert_close(got, want)
    (dx,) = torch.autograd.grad(fn(x[0], w, b, **kw), x, up[0])  # unbatched
    torch.testing.assert_close(dx, torch.autograd.grad(ref(x[0], w, b, **kw), x, up[0])[0])


@pytest.mark.parametrize("kernel", [(1,), (1, 3), (3, 1, 1)])
def test_flipped_results_have_no_negative_strides(kernel):
    """flip=True with size-1 kernel axes: numpy calls a negatively strided size-1 axis
    contiguous, so the flip skips those axes rather than hand back negative strides (which
    torch.from_numpy refuses)."""
    dims = len(kernel)
    g = np.random.default_rng(dims)
    x = g.standard_normal((2, 2, *(5,) * dims))
    w = g.standard_normal((3, 2, *kernel))
    y = getattr(nm, f"conv{dims}d")(x, w, flip=True)
    delta = g.standard_normal(y.shape)
    dw = getattr(nm, f"conv{dims}d_grad_weight")(x, w.shape, delta, flip=True)
    dx = getattr(nm, f"conv{dims}d_grad_input")(x.shape, w, delta, flip=True)
    for a in (y, dw, dx):
        assert all(s > 0 for s in a.strides)
        torch.from_numpy(a)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ref = getattr(torch.nn.functional, f"conv{dims}d")(xt, wt.flip(list(range(2, dims + 2))))
    want_dx, want_dw = torch.autograd.grad(ref, (xt, wt), torch.tensor(delta))
    np.testing.assert_allclose(y, ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dw, want_dw.numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, want_dx.numpy(), atol=1e-12)
