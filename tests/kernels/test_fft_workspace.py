"""Issue 21: an explicit algorithm="fft" keeps to the workspace limit even where its kernel's
spectrum alone exceeds it (numeric._ops.fft_plan: blocks of output channels); forward, dL/dx and
dL/dw, NumPy (measured by tracemalloc) and torch."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import numeric as nm
import symconv as sc
from numeric import algorithms
from numeric._ops import fft_plan as _fft_blocks

LIMIT = 4 * 2**20
OPS = ("forward", "grad_input", "grad_weight")


def peak_bytes(fn: Callable[[], Any]) -> tuple[int, Any, BaseException | None]:
    tracemalloc.start()
    try:
        out, raised = fn(), None
    except Exception as exc:
        out, raised = None, exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, out, raised


def layer(groups: int, lib: str = "numpy") -> dict[str, Any]:
    rng = np.random.default_rng(groups)
    x = rng.standard_normal((4, 16, 48, 48)).astype(np.float32)
    w = rng.standard_normal((16, 16 // groups, 11, 11)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    kw = dict(padding=5, groups=groups)
    y = nm.conv2d(x, w, b, **kw, algorithm="direct")
    if lib == "torch":
        torch = pytest.importorskip("torch")
        x, w, b, y = (torch.from_numpy(a) for a in (x, w, b, y))
    spec = sc.Conv(
        dims=2, in_channels=16, out_channels=16, kernel_size=11, padding=5, groups=groups
    )
    calls = {
        "forward": lambda alg: nm.conv2d(x, w, b, **kw, algorithm=alg),
        "grad_input": lambda alg: nm.conv2d_grad_input(x.shape, w, y, **kw, algorithm=alg),
        "grad_weight": lambda alg: nm.conv2d_grad_weight(x, w.shape, y, **kw, algorithm=alg),
    }
    return dict(spec=spec, calls=calls)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("groups", [1, 2, 16])
@pytest.mark.parametrize("threads", [1, 2])
def test_explicit_fft_keeps_to_the_limit(op: str, groups: int, threads: int) -> None:
    """The layer's kernel spectrum alone is over the limit (groups 1, 2: 4 MiB) or the spectrum
    and one sample are (depthwise: 1 MiB): the FFT runs in blocks, within the limit, with
    direct's result."""
    case = layer(groups)
    spec, call = case["spec"], case["calls"][op]
    limit = LIMIT if groups < 16 else 2**20
    with nm.workspace_limit(limit):
        assert algorithms.over_workspace(spec, (48, 48), "fft", 4, op) is not None
        if groups < 16:
            assert algorithms.fixed_workspace_bytes(spec, (48, 48), "fft", 4, op) > limit
        old = nm.set_num_threads(threads)
        try:
            peak, got, raised = peak_bytes(lambda: call("fft"))
        finally:
            nm.set_num_threads(old)
    assert raised is None, raised
    assert peak - got.nbytes <= limit, (peak, limit)
    want = call("direct")
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


@pytest.mark.parametrize("op", OPS)
def test_explicit_fft_under_a_limit_below_its_smallest_part(op: str) -> None:
    """1 MiB is less than one sample and one output channel of the 16 -> 16 layer: the FFT
    runs one sample at a time (as every algorithm does under a budget below one sample) in
    blocks whose spectra stay within their sample's workspace, so it needs at most about twice
    its smallest part, far below the whole kernel's spectrum that it held before."""
    case = layer(1)
    spec, call = case["spec"], case["calls"][op]
    limit = 2**20
    with nm.workspace_limit(limit):
        smallest = _fft_blocks.smallest(spec, (48, 48), 4, op)
        assert smallest > limit
        old = nm.set_num_threads(1)
        try:
            peak, got, raised = peak_bytes(lambda: call("fft"))
        finally:
            nm.set_num_threads(old)
    assert raised is None, raised
    spectrum = algorithms.fixed_workspace_bytes(spec, (48, 48), "fft", 4, op)
    assert peak - got.nbytes <= 2 * smallest < spectrum, (peak, smallest, spectrum)
    want = call("direct")
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


@pytest.mark.parametrize("op", OPS)
def test_explicit_fft_blocks_on_torch_tensors(op: str) -> None:
    case = layer(2, "torch")
    with nm.workspace_limit(LIMIT):
        got = case["calls"][op]("fft")
    want = case["calls"][op]("direct")
    scale = float(want.abs().max())
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5 * scale)
