"""The generated FFT and separable kernels (`numpy_fft`, `torch_fft`) against torch.

Forward against `torch.nn.functional.conv{1,2,3}d` (asymmetric zero padding as `F.pad`, then a
valid convolution), gradients against autograd through that reference and against
`torch.nn.grad.conv{d}d_input` / `conv{d}d_weight`; 1-3 spatial axes, stride, dilation, groups,
pads larger than the kernel's reach, bias, batch 0 and 1. References run in float64 on the same
(rounded) values; float64 must agree to 1e-10 relative, float32 within `helpers.tolerance` of the
direct sum's reduction length.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import tolerance
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv as sc
from numeric._generated import numpy_fft, torch_fft
from symconv.codegen.fft import fft_modules
from symconv.fourier import fft_size
from symconv.testing import conv_specs

MODULES = {"numpy": numpy_fft, "torch": torch_fft}
DTYPES = (np.float64, np.float32)


def _mine(a: np.ndarray | None, backend: str) -> Any:
    if a is None:
        return None
    return torch.from_numpy(a.copy()) if backend == "torch" else a.copy()


def _as_numpy(a: Any) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def _check(ours: Any, ref: Any, dtype: Any, length: int, what: str) -> None:
    """`ours` has `dtype` and `ref`'s shape; |ours - ref| <= tolerance x (1 + max |ref|)."""
    ours, ref = _as_numpy(ours), _as_numpy(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != {ref.shape}"
    assert ours.dtype == np.dtype(dtype), f"{what}: dtype {ours.dtype} != {np.dtype(dtype)}"
    if ref.size == 0:
        return
    scale = 1.0 + float(np.max(np.abs(ref)))
    err = float(np.max(np.abs(ours.astype(np.float64) - ref.astype(np.float64))))
    tol = tolerance(dtype, length)
    assert err <= tol * scale, f"{what}: error {err:.3g}, tolerance {tol * scale:.3g}"


def _reference(x, w, b, stride, pads, dilation, groups, delta=None):
    """float64 torch: y = conv(F.pad(x), w) + b; with `delta`, also (dL/dx, dL/dw) by autograd."""
    dims = x.ndim - 2
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = None if b is None else torch.tensor(b, dtype=torch.float64)
    flat = [p for lo_hi in reversed(pads) for p in lo_hi]
    conv = getattr(F, f"conv{dims}d")
    y = conv(F.pad(xt, flat), wt, bt, stride, 0, dilation, groups)
    if delta is None:
        return y.detach().numpy()
    y.backward(torch.tensor(delta, dtype=torch.float64))
    return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()


def _arrays(spec: sc.Conv, size: tuple[int, ...], batch: int, dtype: Any, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, spec.in_channels, *size)).astype(dtype)
    w = rng.standard_normal(spec.weight_shape).astype(dtype)
    b = rng.standard_normal(spec.out_channels).astype(dtype) if spec.bias else None
    delta = rng.standard_normal((batch, spec.out_channels, *spec.output_size(size))).astype(dtype)
    return x, w, b, delta


def _run_all(backend, dtype, spec, size, x, w, b, delta):
    """Forward, dL/dx and dL/dw of `backend` against the float64 autograd reference."""
    mod = MODULES[backend]
    args = (spec.stride, spec.pads, spec.dilation, spec.groups)
    y_ref, dx_ref, dw_ref = _reference(x, w, b, *args, delta=delta)
    y = mod.conv_fft(_mine(x, backend), _mine(w, backend), _mine(b, backend), *args)
    dx = mod.conv_fft_grad_input(_mine(delta, backend), _mine(w, backend), size, *args)
    dw = mod.conv_fft_grad_weight(_mine(x, backend), _mine(delta, backend), spec.kernel_size, *args)
    taps = math.prod(spec.kernel_size)
    n_out = delta.shape[0] * math.prod(delta.shape[2:])
    _check(y, y_ref, dtype, w.shape[1] * taps, f"{backend} conv_fft {spec}")
    _check(dx, dx_ref, dtype, (w.shape[0] // spec.groups) * taps, f"{backend} grad_input {spec}")
    _check(dw, dw_ref, dtype, max(1, n_out), f"{backend} grad_weight {spec}")


zero_pad_specs = conv_specs(
    dims=(1, 2, 3),
    max_size=7,
    kernel_size=(1, 3),
    stride=(1, 3),
    dilation=(1, 2),
    padding=(0, 4),  # up to 4 on either side: beyond the reach d(k - 1) of small kernels
    channels=(1, 4),
    groups=(1, 3),
    padding_modes=("zeros",),
    padding_styles=("pairs",),
    flip=False,
)


@pytest.mark.parametrize("backend", sorted(MODULES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@settings(max_examples=25)
@given(case=zero_pad_specs, batch=st.integers(0, 2), seed=st.integers(0, 2**32 - 1))
def test_fft_forward_and_gradients_match_torch(backend, dtype, case, batch, seed):
    spec, size = case
    x, w, b, delta = _arrays(spec, size, batch, dtype, seed)
    _run_all(backend, dtype, spec, size, x, w, b, delta)


EXPLICIT = [
    # dims, size, kernel, stride, pads, dilation, groups, channels (in, out)
    (1, (9,), (3,), (2,), ((4, 1),), (2,), 2, (4, 6)),
    (1, (3,), (1,), (3,), ((5, 5),), (1,), 1, (1, 1)),  # pads far beyond the kernel
    (2, (7, 6), (3, 2), (2, 3), ((0, 3), (2, 0)), (1, 2), 3, (3, 3)),  # depthwise
    (2, (5, 5), (5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1, (2, 2)),  # kernel = input
    (3, (5, 4, 6), (2, 3, 1), (1, 2, 2), ((1, 2), (0, 0), (3, 1)), (2, 1, 1), 2, (2, 4)),
]


@pytest.mark.parametrize("backend", sorted(MODULES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("batch", [0, 1])
@pytest.mark.parametrize("layer", EXPLICIT, ids=lambda c: f"{c[0]}d-{c[2]}-{c[4]}")
def test_fft_explicit_layers(backend, dtype, batch, layer):
    dims, size, kernel, stride, pads, dilation, groups, (c_in, c_out) = layer
    spec = sc.Conv(
        dims=dims,
        in_channels=c_in,
        out_channels=c_out,
        kernel_size=kernel,
        stride=stride,
        padding=pads,
        dilation=dilation,
        groups=groups,
    )
    x, w, b, delta = _arrays(spec, size, batch, dtype, seed=batch)
    _run_all(backend, dtype, spec, size, x, w, b, delta)


@pytest.mark.parametrize("backend", sorted(MODULES))
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_fft_gradients_match_torch_nn_grad(backend, dims):
    """Symmetric padding and an unread input tail ((I + 2p - K) % S != 0): torch.nn.grad."""
    rng = np.random.default_rng(dims)
    size, kernel, stride, pad, dil, groups = (9,) * dims, (3,) * dims, (3,) * dims, 1, 1, 2
    x = rng.standard_normal((2, 4, *size))
    w = rng.standard_normal((6, 2, *kernel))
    xt, wt = torch.tensor(x), torch.tensor(w)
    conv = getattr(F, f"conv{dims}d")
    y = conv(xt, wt, None, stride, pad, dil, groups)
    delta = rng.standard_normal(tuple(y.shape))
    dt = torch.tensor(delta)
    grad = torch.nn.grad
    dx_ref = getattr(grad, f"conv{dims}d_input")(x.shape, wt, dt, stride, pad, dil, groups)
    dw_ref = getattr(grad, f"conv{dims}d_weight")(xt, w.shape, dt, stride, pad, dil, groups)
    mod, pads = MODULES[backend], ((pad, pad),) * dims
    args = (stride, pads, (dil,) * dims, groups)
    _check(mod.conv_fft(_mine(x, backend), _mine(w, backend), None, *args), y, np.float64, 1, "y")
    dx = mod.conv_fft_grad_input(_mine(delta, backend), _mine(w, backend), size, *args)
    dw = mod.conv_fft_grad_weight(_mine(x, backend), _mine(delta, backend), kernel, *args)
    _check(dx, dx_ref, np.float64, 1, "grad_input")
    _check(dw, dw_ref, np.float64, 1, "grad_weight")
    unread = (size[0] + 2 * pad - kernel[0]) % stride[0] - pad  # input rows no window reads
    assert unread == 1 and np.all(np.abs(_as_numpy(dx)[:, :, -unread:]) < 1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fft_torch_runs_on_the_tensors_device(dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 9, 7, generator=g, dtype=dtype)
    w = torch.randn(6, 2, 3, 2, generator=g, dtype=dtype)
    args = ((2, 1), ((1, 2), (0, 1)), (1, 2), 2)
    ref = torch_fft.conv_fft(x, w, None, *args)
    delta = torch.randn(ref.shape, generator=g, dtype=dtype)
    y = torch_fft.conv_fft(x.cuda(), w.cuda(), None, *args)
    dx = torch_fft.conv_fft_grad_input(delta.cuda(), w.cuda(), (9, 7), *args)
    dw = torch_fft.conv_fft_grad_weight(x.cuda(), delta.cuda(), (3, 2), *args)
    assert y.device.type == dx.device.type == dw.device.type == "cuda"
    assert y.dtype == dx.dtype == dw.dtype == dtype
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    y_ref, dx_ref, dw_ref = _reference(x.numpy(), w.numpy(), None, *args, delta=delta.numpy())
    _check(y, y_ref, np_dtype, 12, "cuda y")
    _check(dx, dx_ref, np_dtype, 18, "cuda dx")
    _check(dw, dw_ref, np_dtype, 2 * math.prod(ref.shape[2:]), "cuda dw")


# -- separable ------------------------------------------------------------------------------
@st.composite
def separable_layers(draw):
    groups = draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    pads = tuple((draw(st.integers(0, 4)), draw(st.integers(0, 4))) for _ in range(2))
    ext = [d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True)]
    size = tuple(
        draw(st.integers(max(1, e - lo - hi), 9)) for e, (lo, hi) in zip(ext, pads, strict=True)
    )
    return dict(
        batch=draw(st.integers(0, 2)),
        c_in=groups * draw(st.integers(1, 3)),
        c_out=groups * draw(st.integers(1, 3)),
        kernel=kernel,
        size=size,
        stride=stride,
        pads=pads,
        dilation=dilation,
        groups=groups,
        bias=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@pytest.mark.parametrize("backend", sorted(MODULES))
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@settings(max_examples=25)
@given(layer=separable_layers())
def test_separable_matches_torch(backend, dtype, layer):
    rng = np.random.default_rng(layer["seed"])
    (kh, kw), c_g = layer["kernel"], layer["c_in"] // layer["groups"]
    x = rng.standard_normal((layer["batch"], layer["c_in"], *layer["size"])).astype(dtype)
    u = rng.standard_normal((layer["c_out"], c_g, kh)).astype(dtype)
    v = rng.standard_normal((layer["c_out"], c_g, kw)).astype(dtype)
    b = rng.standard_normal(layer["c_out"]).astype(dtype) if layer["bias"] else None
    w = u[..., :, None] * v[..., None, :]
    args = (layer["stride"], layer["pads"], layer["dilation"], layer["groups"])
    ref = _reference(x, w, b, *args)
    y = MODULES[backend].conv_separable(
        _mine(x, backend), _mine(u, backend), _mine(v, backend), _mine(b, backend), *args
    )
    _check(y, ref, dtype, c_g * kh * kw, f"{backend} conv_separable {layer}")


# -- helpers and the generated text ---------------------------------------------------------
@pytest.mark.parametrize("backend", sorted(MODULES))
@settings(max_examples=40)
@given(
    n=st.integers(1, 40),
    k=st.integers(1, 6),
    d=st.integers(1, 3),
    lo=st.integers(0, 8),
    hi=st.integers(0, 8),
)
def test_fft_lengths_follow_the_derivation(backend, n, k, d, lo, hi):
    mod = MODULES[backend]
    ext = d * (k - 1) + 1
    assert mod.fft_size(n, ext, lo, hi) == fft_size(n, k, lo, hi, d)
    (length,) = mod.fft_lengths((n,), (ext,), ((lo, hi),))
    assert length == mod.next_fast_len(fft_size(n, k, lo, hi, d)) >= fft_size(n, k, lo, hi, d)
    r = length
    for p in (2, 3, 5):
        while r % p == 0:
            r //= p
    assert r == 1
    assert all(mod.next_fast_len(m) != m for m in range(fft_size(n, k, lo, hi, d), length))


def test_generated_modules_name_their_derivation():
    """What the FFT modules say (that they are committed as printed: tests/codegen)."""
    files = fft_modules()
    assert sorted(files) == ["numpy_fft.py", "torch_fft.py"]
    for text in files.values():
        assert "GENERATED by `symconv generate` (do not edit)" in text
        assert sc.__version__ not in text  # a release bump must not stale the files
        assert "fft_padding_derivation: Eq(N, Max(K, n + Max(p_hi, p_lo)))" in text
        assert "y[o] = full[S*o + K - 1 - p_lo]" in text
    assert (
        "torch.fft.rfftn" in files["torch_fft.py"] and "import numpy" not in files["torch_fft.py"]
    )
    assert (
        "numpy.fft.rfftn" in files["numpy_fft.py"] and "import torch" not in files["numpy_fft.py"]
    )
