"""Shared test helpers: `check_op` runs a numeric op forward and backward against torch.

Like tinygrad's `helper_test_op`: one call builds random inputs, runs `torch.nn.functional`
(forward, then autograd with a random upstream gradient) and the `numeric` op with its derived
gradient ops, on NumPy arrays or torch CPU tensors, and compares with tolerances scaled by the
reduction length.
"""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

import numeric as nm
import symconv as sc
from symconv.indexform import IndexForm, clear_caches
from symconv.testing import conv_specs

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root directory (tests/ is one level below it)."""

_TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def tolerance(dtype: Any, length: int) -> float:
    """float64: 1e-10; float32: 1e-5 x sqrt(reduction length), relative to the values' scale."""
    return 1e-10 if dtype == np.float64 else 2e-5 * max(1.0, math.sqrt(length))


def assert_close(ours: Any, ref: Any, dtype: Any, length: int, what: str) -> None:
    ours = ours.detach().cpu().numpy() if isinstance(ours, torch.Tensor) else np.asarray(ours)
    ref = ref.detach().cpu().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != torch {ref.shape}"
    assert ours.dtype == ref.dtype, f"{what}: dtype {ours.dtype} != torch {ref.dtype}"
    if ref.size == 0:
        return
    same = ours == ref  # equal infinities (a max-pool window entirely in padding is -inf)
    finite = np.abs(ref[np.isfinite(ref)])
    scale = 1.0 + float(np.max(finite, initial=0.0))
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    err = float(np.max(np.where(same, 0.0, diff)))
    assert err <= tolerance(dtype, length) * scale, f"{what}: error {err:.3g} (scale {scale:.3g})"


def _torch_conv(dims: int, x: Any, w: Any, b: Any, spec: sc.Conv) -> Any:
    """torch reference: pad with F.pad in the spec's mode, then F.conv (flip: flipped weight)."""
    pads = [p for lo_hi in reversed(spec.pads) for p in lo_hi]
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    xp = F.pad(x, pads, mode=mode) if any(pads) else x
    if spec.flip:
        w = torch.flip(w, tuple(range(2, w.ndim)))
    conv = getattr(F, f"conv{dims}d")
    return conv(xp, w, b, spec.stride, 0, spec.dilation, spec.groups)


def check_op(
    name: str,
    args: dict[str, Any],
    kwargs: dict[str, Any],
    *,
    backend: str = "numpy",
    dtype: Any = np.float64,
    seed: int = 0,
    positive: bool = False,
) -> None:
    """Run `numeric.<name>` forward and backward against torch in one call.

    `args` holds the array shapes (`input`, `weight`, `bias` for convolutions; `input` for
    pooling) and, for lp pooling, `norm_type`; `kwargs` the op's keyword arguments.
    """
    rng = np.random.default_rng(seed)

    def arr(shape: Any) -> np.ndarray:
        a = rng.standard_normal(shape)
        return (np.abs(a) + 0.1 if positive else a).astype(dtype)

    def mine(a: np.ndarray) -> Any:
        return torch.from_numpy(a.copy()) if backend == "torch" else a

    def ref(a: np.ndarray) -> Any:
        return torch.tensor(a, requires_grad=True)

    dims = int(name[-2]) if name[-2].isdigit() else 2
    x = arr(args["input"])
    if name.startswith("conv_transpose"):
        w = arr(args["weight"])
        b = arr(args["bias"]) if args.get("bias") else None
        xt, wt = ref(x), ref(w)
        bt = None if b is None else ref(b)
        yt = getattr(F, name)(xt, wt, bt, **kwargs)
        y = getattr(nm, name)(mine(x), mine(w), None if b is None else mine(b), **kwargs)
        length = w.shape[1] * math.prod(w.shape[2:]) * w.shape[0]
        assert_close(y, yt, dtype, length, f"{name} forward")
        return
    if name.startswith("conv"):
        w = arr(args["weight"])
        b = arr(args["bias"]) if args.get("bias") else None
        spec = sc.Conv(
            dims=dims,
            in_channels=x.shape[1],
            out_channels=w.shape[0],
            kernel_size=w.shape[2:],
            bias=b is not None,
            **{k: v for k, v in kwargs.items() if k != "algorithm"},
        )
        xt, wt = ref(x), ref(w)
        bt = None if b is None else ref(b)
        yt = _torch_conv(dims, xt, wt, bt, spec)
        y = getattr(nm, name)(mine(x), mine(w), None if b is None else mine(b), **kwargs)
        length = math.prod(w.shape[1:])
        assert_close(y, yt, dtype, length, f"{name} forward")
        delta = arr(tuple(yt.shape))
        yt.backward(torch.tensor(delta))
        gi = getattr(nm, f"{name}_grad_input")(x.shape, mine(w), mine(delta), **_grad_kw(kwargs))
        gw = getattr(nm, f"{name}_grad_weight")(mine(x), w.shape, mine(delta), **_grad_kw(kwargs))
        n_out = math.prod(delta.shape) // max(1, delta.shape[1])
        assert_close(gi, xt.grad, dtype, w.shape[0] * math.prod(w.shape[2:]), f"{name} dx")
        assert_close(gw, wt.grad, dtype, max(1, n_out), f"{name} dw")
        if b is not None:
            assert_close(nm.conv_grad_bias(mine(delta)), bt.grad, dtype, max(1, n_out), "db")
        return
    xt = ref(x)
    extra = [args["norm_type"]] if "norm_type" in args else []
    out = getattr(F, name)(xt, *extra, **kwargs)
    yt, it = out if isinstance(out, tuple) else (out, None)
    got = getattr(nm, name)(mine(x), *extra, **kwargs)
    y = got[0] if isinstance(got, tuple) else got
    length = math.prod(np.atleast_1d(kwargs.get("kernel_size", 1)))
    assert_close(y, yt, dtype, length, f"{name} forward")
    if it is not None:
        assert np.array_equal(np.asarray(got[1]), it.numpy()), f"{name}: indices differ"
    delta = arr(tuple(yt.shape))
    yt.backward(torch.tensor(delta))
    bkw = {k: v for k, v in kwargs.items() if k != "return_indices"}
    gx = getattr(nm, f"{name}_backward")(mine(delta), mine(x), *extra, **bkw)
    assert_close(gx, xt.grad, dtype, length, f"{name} backward")


def _grad_kw(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k != "bias"}


@st.composite
def conv_cases(draw: Any, dims: int | None = None, max_size: int | None = None, **limits: Any):
    """`(dims, args, kwargs)` for check_op: a valid layer from symconv.testing.conv_specs (any
    of 1-3 dims unless given; inputs up to 8, or 5 in 3-d; `limits` go to conv_specs)."""
    dims = draw(st.sampled_from([1, 2, 3])) if dims is None else dims
    size_cap = (8 if dims < 3 else 5) if max_size is None else max_size
    spec, size = draw(conv_specs(dims, max_size=size_cap, **limits))
    batch = draw(st.sampled_from([0, 1, 2]))
    kwargs = dict(stride=spec.stride, padding=spec.padding, dilation=spec.dilation,
                  groups=spec.groups, padding_mode=spec.padding_mode, flip=spec.flip)  # fmt: skip
    args = {
        "input": (batch, spec.in_channels, *size),
        "weight": spec.weight_shape,
        "bias": (spec.out_channels,) if spec.bias else None,
    }
    return dims, args, kwargs


def peak_bytes(fn: Callable[[], Any]) -> tuple[int, BaseException | None]:
    """Peak traced allocation while `fn` runs, and what it raised."""
    tracemalloc.start()
    try:
        fn()
        raised = None
    except Exception as exc:
        raised = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, raised


def patch_kind_table(monkeypatch, kinds, change) -> None:
    """IndexForm._table's unpadded result replaced by change(form, axis, table) for `kinds`."""
    real = IndexForm._table

    def mutated(self, axis, o, a, padded=False):
        t = real(self, axis, o, a, padded)
        return change(self, axis, t) if not padded and self.kind in kinds else t

    monkeypatch.setattr(IndexForm, "_table", mutated)
    clear_caches()
