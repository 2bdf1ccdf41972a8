"""Convolution algorithms (numeric.algorithms): Winograd, FFT, separable and "auto" against torch.

Every algorithm runs through the public conv functions (`algorithm=`), forward and both
gradients, on NumPy arrays and torch tensors, and is compared with torch (check_op)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from helpers import assert_close, check_op, conv_cases
from hypothesis import given, settings
from hypothesis import strategies as st

import numeric as nm
import symconv as sc
from numeric import algorithms as alg
from numeric._backend import _backend
from numeric._generated import numpy_shifted, numpy_winograd, torch_shifted, torch_winograd
from symconv.winograd import winograd

WINOGRAD_LAYERS = dict(kernel_size=3, stride=1, dilation=(1, 3), padding=(0, 4))


@given(
    conv_cases(2, 9, **WINOGRAD_LAYERS), st.sampled_from(["numpy", "torch"]), st.integers(0, 2**16)
)
def test_winograd_float64_against_torch(case, backend, seed):
    # every padding mode and style, flip, groups (depthwise too), dilation phases, batch 0
    _, args, kwargs = case
    check_op("conv2d", args, {**kwargs, "algorithm": "winograd"}, backend=backend, seed=seed)


@settings(max_examples=30)
@given(conv_cases(2, 9, **WINOGRAD_LAYERS, channels=(4, 8)), st.sampled_from(["numpy", "torch"]))
def test_winograd_float32_against_torch(case, backend):
    _, args, kwargs = case
    check_op("conv2d", args, {**kwargs, "algorithm": "winograd"}, backend=backend, dtype=np.float32)


@settings(max_examples=30)
@given(
    conv_cases(2, 9, **WINOGRAD_LAYERS),
    st.sampled_from([2, 4]),
    st.sampled_from(["numpy", "torch"]),
)
def test_winograd_tile_sizes(case, m, backend):
    """F(2x2, 3x3) and F(4x4, 3x3) through numeric.algorithms.conv2d(winograd_m=m)."""
    _, args, kwargs = case
    rng = np.random.default_rng(m)
    x, w = rng.standard_normal(args["input"]), rng.standard_normal(args["weight"])
    ref = nm.conv2d(x, w, **kwargs, algorithm="direct")
    if backend == "torch":
        x, w = torch.from_numpy(x), torch.from_numpy(w)
    got = alg.conv2d(x, w, **kwargs, algorithm="winograd", winograd_m=m)
    assert_close(got, ref, np.float64, 9, f"winograd F({m}x{m}, 3x3)")


@given(conv_cases(), st.sampled_from(["numpy", "torch"]))
def test_fft_against_torch(case, backend):
    dims, args, kwargs = case
    check_op(f"conv{dims}d", args, {**kwargs, "algorithm": "fft"}, backend=backend)


@given(conv_cases(), st.sampled_from(["numpy", "torch"]))
def test_shifted_against_torch(case, backend):
    """Shifted GEMMs (stride 1: every other option, 1-3 d) forward, dL/dx and dL/dw."""
    dims, args, kwargs = case
    check_op(f"conv{dims}d", args, {**kwargs, "stride": 1, "algorithm": "shifted"}, backend=backend)


@settings(max_examples=40)
@given(
    conv_cases(channels=(1, 8)),
    st.sampled_from(["numpy", "torch"]),
    st.sampled_from(["gemms", "shift-adds"]),
)
def test_shifted_gemms_and_shift_adds_against_torch(case, backend, path):
    """Both of the shifted kernels' paths on every layer: GEMMs per tap (channels last) and
    shift-adds per tap and channel pair (channels first), chosen by `_SHIFT_ADD`."""
    dims, args, kwargs = case
    limit = -1 if path == "gemms" else 10**9
    modules = (numpy_shifted, torch_shifted)
    old = [m._SHIFT_ADD for m in modules]
    try:
        for m in modules:
            m._SHIFT_ADD = limit
        assert numpy_shifted.shift_add_layer(8, 8) == (path == "shift-adds")
        check_op(
            f"conv{dims}d", args, {**kwargs, "stride": 1, "algorithm": "shifted"}, backend=backend
        )
    finally:
        for m, v in zip(modules, old, strict=True):
            m._SHIFT_ADD = v


def test_shifted_depthwise_runs_shift_adds():
    """A depthwise layer (and its dL/dx) takes the shift-add path by default; a 16-channel
    dense layer the GEMMs. Both agree with torch in float32, blocks of rows included."""
    assert numpy_shifted.shift_add_layer(1, 1) and numpy_shifted.shift_add_layer(1, 2)
    assert not numpy_shifted.shift_add_layer(16, 16)
    # the cost model prices what runs: no GEMM work for the shift-adds
    depthwise = _spec(in_channels=16, out_channels=16, groups=16)
    for op in alg.OPS:
        assert alg.costs(depthwise, (40, 37), batch=3, op=op)["shifted"]["gemm"] == 0
        assert alg.costs(_spec(), (40, 37), batch=3, op=op)["shifted"]["gemm"] > 0
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 16, 40, 37)).astype(np.float32)  # several row blocks
    w = rng.standard_normal((16, 1, 3, 3)).astype(np.float32)
    old = numpy_shifted._BAND_BLOCK
    try:
        numpy_shifted._BAND_BLOCK = 9000  # 5 rows of 1,558 a block: 9 blocks and a rest
        got = nm.conv2d(x, w, padding=1, groups=16, algorithm="shifted")
    finally:
        numpy_shifted._BAND_BLOCK = old
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1, groups=16)
    assert_close(got, ref, np.float32, 9, "depthwise shift-adds")


@settings(max_examples=30)
@given(
    conv_cases(2, 9, channels=(1, 3)), st.sampled_from(["numpy", "torch"]), st.integers(0, 2**16)
)
def test_separable_against_torch(case, backend, seed):
    """Rank-1 kernels w[k, c] = u v^T: the two-pass forward equals torch's conv2d."""
    _, args, kwargs = case
    rng = np.random.default_rng(seed)
    k, cg, kh, kw = args["weight"]
    w = np.einsum(
        "kca,kcb->kcab", rng.standard_normal((k, cg, kh)), rng.standard_normal((k, cg, kw))
    )
    x = rng.standard_normal(args["input"])
    ref = nm.conv2d(x, w, **kwargs, algorithm="direct")
    if backend == "torch":
        x, w = torch.from_numpy(x), torch.from_numpy(w)
    assert_close(nm.conv2d(x, w, **kwargs, algorithm="separable"), ref, np.float64, 9, "separable")


@settings(max_examples=40)
@given(conv_cases(channels=(1, 8)), st.sampled_from(["numpy", "torch"]))
def test_auto_against_torch(case, backend):
    dims, args, kwargs = case
    check_op(f"conv{dims}d", args, kwargs, backend=backend)  # algorithm="auto" is the default


def test_auto_runs_winograd_and_fft_where_they_win():
    """A 3x3 layer runs Winograd (32 channels on 32x32: 1.6 against 2.0 ms direct here; on
    64 channels of 12x12 direct wins, 1.0 against 1.8), the 15x15 kernel the FFT; both still
    equal torch."""
    rng = np.random.default_rng(0)
    for c, n, k, p, name in ((32, 32, 3, 1, "winograd"), (4, 40, 15, 7, "fft")):
        spec = sc.Conv(dims=2, in_channels=c, out_channels=c, kernel_size=k, padding=p)
        assert alg.explain(spec, (n, n), batch=2)["algorithm"] == name
        x = rng.standard_normal((2, c, n, n)).astype(np.float32)
        w = rng.standard_normal((c, c, k, k)).astype(np.float32)
        ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=p)
        assert_close(nm.conv2d(x, w, padding=p), ref, np.float32, c * k * k, name)


# -- the cost model and the choice ----------------------------------------------------------------
def _spec(**kw):
    return sc.Conv(
        **{**dict(dims=2, in_channels=64, out_channels=64, kernel_size=3, padding=1), **kw}
    )


def test_cost_formulas_count_the_derived_multiplications():
    """direct: 2 x MACs; Winograd F(m x m, 3 x 3): alpha^2 per m x m tile (the derivation's
    tile_multiplications) instead of 9 m^2; checked symbolically and on numbers."""
    f = alg.cost_formulas()
    s = {str(v): v for v in f["direct"]["gemm"].free_symbols | f["winograd"]["gemm"].free_symbols}
    for m in (2, 4):
        w, direct = winograd(m, 3).tile_multiplications(2)
        ratio = (f["winograd"]["gemm"] / f["direct"]["gemm"]).subs(
            {s["t"]: s["O"] / m**2, s["alpha"]: m + 2, s["k"]: 9}
        )
        assert sympy.simplify(ratio - sympy.Rational(w, direct)) == 0
    spec, size = _spec(in_channels=8, out_channels=16, groups=2), (12, 12)
    c = alg.costs(spec, size, batch=3)
    assert c["direct"]["gemm"] == 2 * 3 * spec.macs(size)
    assert c["winograd"]["gemm"] == c["direct"]["gemm"] / 4  # 12 = 3 whole tiles of 4
    assert c["separable"] is not None and alg.costs(_spec(stride=2), size)["winograd"] is None


def test_explain_is_deterministic_and_follows_its_rule():
    vgg = alg.explain(_spec(in_channels=256, out_channels=256), (28, 28), batch=8)
    assert vgg == alg.explain(_spec(in_channels=256, out_channels=256), (28, 28), batch=8)
    assert vgg["algorithm"] == "winograd" and "fastest" in vgg["rule"]
    for e in (
        vgg,
        alg.explain(_spec(in_channels=16, out_channels=16, kernel_size=15, padding=7), (128, 128)),
    ):
        ok = {k: v["seconds"] for k, v in e["costs"].items() if v is not None and k != "separable"}
        assert e["algorithm"] == min(ok, key=ok.get)
        for k, v in e["costs"].items():
            if v is not None:
                eff = alg.EFFICIENCY.get(k, {})
                expect = sum(
                    v[p] / (e["rates"][p] * eff.get(p, 1))
                    for p in ("gemm", "fft", "memory", "calls")
                )
                assert math.isclose(v["seconds"], expect), k
    assert alg.explain(_spec(in_channels=3, out_channels=4), (8, 8))["algorithm"] == "direct"


def test_winograd_costs_a_filter_transform_per_batch_part(monkeypatch):
    """Each batch part (thread) transforms the filter, 27 + 6a + a^2 elements moved per channel
    pair; on 512 channels of 7x7 that outweighs the GEMM savings (measured 36-48 ms against
    12-16 direct, bench/auto_regret.py), so "auto" runs direct there and Winograd on VGG."""
    big = _spec(in_channels=512, out_channels=512)
    one, two = (alg.costs(big, (7, 7), batch=8, threads=t)["winograd"] for t in (1, 2))
    a = alg.WINOGRAD_M + 2
    assert two["memory"] - one["memory"] == (27 + 6 * a + a * a) * 512 * 512
    assert alg.costs(big, (7, 7), batch=1, threads=2)["winograd"]["memory"] < one["memory"]
    monkeypatch.setattr(nm._parallel, "_STATE", {**nm._parallel._STATE, "threads": 2})
    assert alg.explain(big, (7, 7), batch=8)["algorithm"] == "direct"
    for c, n in ((64, 56), (256, 28)):
        assert alg.explain(_spec(in_channels=c, out_channels=c), (n, n), batch=8)["algorithm"] == (
            "winograd"
        )


def test_separable_is_chosen_only_for_rank_one_weights():
    spec = _spec(in_channels=1, out_channels=1, kernel_size=9, padding=4)
    rank1 = np.einsum("a,b->ab", np.arange(1.0, 10), np.ones(9))[None, None]
    c = alg.costs(spec, (64, 64))
    if min(c, key=lambda k: c[k]["seconds"] if c[k] else math.inf) == "separable":
        assert alg.explain(spec, (64, 64), weight=rank1)["algorithm"] == "separable"
    full = np.random.default_rng(0).standard_normal((1, 1, 9, 9))
    assert alg.explain(spec, (64, 64), weight=full)["algorithm"] != "separable"
    assert (
        alg.rank_one_factors(full) is None and alg.rank_one_factors(np.eye(3)[None, None]) is None
    )


def test_calibrate_measures_positive_rates_without_changing_them():
    before = dict(alg.RATES)
    rates = alg.calibrate()
    assert set(rates) == {"gemm", "fft", "memory", "calls"}
    assert all(math.isfinite(v) and v > 0 for v in rates.values())
    assert alg.RATES == before


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x, w: nm.conv2d(x, w, stride=2, algorithm="winograd"), "3x3 kernel and stride 1"),
        (lambda x, w: nm.conv2d(x, w[..., :2], algorithm="winograd"), "3x3 kernel"),
        (lambda x, w: nm.conv1d(x[..., 0], w[..., 0], algorithm="winograd"), "2-d convolution"),
        (lambda x, w: nm.conv2d(x, w, algorithm="separable"), "rank-1"),
        (lambda x, w: nm.conv2d(x, w, stride=2, algorithm="shifted"), "needs stride 1"),
        (lambda x, w: nm.conv2d_grad_input(x.shape, w, x[:, :, :7, :7], algorithm="separable"),
         "forward pass only"),
        (lambda x, w: nm.conv2d(x, w, algorithm="magic"), "algorithm must be one of"),
        (lambda x, w: alg.conv2d(x, w, algorithm="winograd", winograd_m=3), "winograd_m"),
        (lambda x, w: alg.explain("conv", (9, 9)), r"symconv\.Conv"),
    ],
)  # fmt: skip
def test_unsupported_raise_spec_error(call, match):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 9, 9)), rng.standard_normal((2, 2, 3, 3))
    with pytest.raises(sc.SpecError, match=match):
        call(x, w)


def test_winograd_chunks_stay_correct_under_a_small_workspace():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((5, 3, 10, 10)), rng.standard_normal((4, 3, 3, 3))
    ref = nm.conv2d(x, w, padding=1, algorithm="direct")
    delta = rng.standard_normal(ref.shape)
    with nm.workspace_limit(1):  # one sample per chunk
        got = nm.conv2d(x, w, padding=1, algorithm="winograd")
        gw = nm.conv2d_grad_weight(x, w.shape, delta, padding=1, algorithm="winograd")
    np.testing.assert_allclose(got, ref, atol=1e-10)
    ref_gw = nm.conv2d_grad_weight(x, w.shape, delta, padding=1, algorithm="direct")
    np.testing.assert_allclose(gw, ref_gw, atol=1e-10)


def test_winograd_keeps_its_workspaces_between_calls():
    """Each thread keeps its Winograd buffers (slots "a", "b") for the next call, within
    `KEEP_BYTES` and the workspace budget's share; results never alias them; calls of other
    shapes stay right; `release_workspaces` drops them; a tiny budget keeps nothing."""
    import threading

    rng = np.random.default_rng(2)
    me = threading.get_ident()
    w = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
    xs = [rng.standard_normal((2, 4, n, n)).astype(np.float32) for n in (12, 7, 16)]
    old = nm.set_num_threads(1)  # the kernels run on this thread
    try:
        alg.release_workspaces()
        assert numpy_winograd._KEPT == {}
        got = [nm.conv2d(x, w, padding=1, algorithm="winograd") for x in xs]
        kept = numpy_winograd._KEPT[me]
        assert {slot for slot, *_ in kept} == {"a", "b"}
        assert sum(b.nbytes for b in kept.values()) <= alg._keep(_backend("numpy"), w)
        first = dict(kept)
        again = nm.conv2d(xs[0], w, padding=1, algorithm="winograd")  # fits: the same buffers
        assert all(numpy_winograd._KEPT[me][k] is b for k, b in first.items())
        np.testing.assert_array_equal(again, got[0])
        for x, y in zip(xs, got, strict=True):  # later calls did not write into earlier results
            assert_close(y, nm.conv2d(x, w, padding=1, algorithm="direct"), np.float32, 36, "")
        alg.release_workspaces()
        assert numpy_winograd._KEPT == {}
        with nm.workspace_limit(2**10):  # 1 KiB: every buffer is fresh
            nm.conv2d(xs[2], w, padding=1, algorithm="winograd")
        assert numpy_winograd._KEPT.get(me, {}) == {}
        # float64 and float32 buffers side by side: the bytes kept stay within the share
        x64, w64 = xs[2][:1].astype(np.float64), w.astype(np.float64)  # one sample: one chunk
        nm.conv2d(x64, w64, padding=1, algorithm="winograd")
        kept64 = sum(b.nbytes for b in numpy_winograd._KEPT[me].values())
        alg.release_workspaces()
        with nm.workspace_limit(2 * int(1.2 * kept64)):  # this thread's share: 1.2 kept64
            nm.conv2d(x64, w64, padding=1, algorithm="winograd")
            nm.conv2d(xs[2][:1], w, padding=1, algorithm="winograd")  # half as many bytes again
            share = alg._keep(_backend("numpy"), w)
        kept = numpy_winograd._KEPT[me].values()
        assert {b.dtype for b in kept} == {np.dtype(np.float64), np.dtype(np.float32)}
        assert sum(b.nbytes for b in kept) <= share
    finally:
        nm.set_num_threads(old)
        alg.release_workspaces()


@pytest.mark.parametrize("size", [16, 13])  # the tiles cover 16 exactly; 13 is cropped
@pytest.mark.parametrize("module", [numpy_winograd, torch_winograd])
def test_winograd_writes_into_the_callers_output(size, module):
    """`out=`: the result lands in the caller's array (no part copied by map_batch); a
    non-contiguous `out` or tiles larger than the output go through a copy, same values."""
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((3, 4, size, size)), rng.standard_normal((5, 4, 3, 3)), None
    if module is torch_winograd:
        x, w = torch.from_numpy(x), torch.from_numpy(w)
    want = module.conv2d_winograd(x, w, b, [(1, 1), (1, 1)], (1, 1), 1, 4, 2)
    out = want * 0
    got = module.conv2d_winograd(x, w, b, [(1, 1), (1, 1)], (1, 1), 1, 4, 2, keep=2**20, out=out)
    assert got is out
    np.testing.assert_allclose(np.asarray(out), np.asarray(want), atol=1e-12)
    wide = (
        want.new_zeros((3, 5, size, 2 * size))
        if module is torch_winograd
        else np.zeros((3, 5, size, 2 * size))
    )
    strided = wide[..., ::2]  # not contiguous
    module.conv2d_winograd(x, w, b, [(1, 1), (1, 1)], (1, 1), 1, 4, 2, out=strided)
    np.testing.assert_allclose(np.asarray(wide[..., ::2]), np.asarray(want), atol=1e-12)
    alg.release_workspaces()


@pytest.mark.parametrize("block", [0, 1, 7, 64])
@pytest.mark.parametrize("module", [numpy_winograd, torch_winograd])
@pytest.mark.parametrize("m", [2, 4])
def test_winograd_thin_gemms_in_blocks(monkeypatch, block, module, m):
    """The transform GEMMs run their long axis in blocks of `_thin_block` entries (columns,
    or rows for the output transform's second GEMM), any block size giving the direct method's
    values: forward (with dilation and groups), dL/dx and dL/dw."""
    monkeypatch.setattr(module, "_thin_block", lambda small: block)
    rng = np.random.default_rng(block)
    x, w = rng.standard_normal((2, 4, 11, 9)), rng.standard_normal((6, 2, 3, 3))
    delta = rng.standard_normal((2, 6, 11, 9))
    if module is torch_winograd:
        x, w, delta = (torch.from_numpy(a) for a in (x, w, delta))
    pads, dil = [(2, 2), (1, 1)], (2, 1)
    got = module.conv2d_winograd(x, w, None, pads, dil, 2, m, 1, keep=2**20)
    ref = nm.conv2d(x, w, padding=((2, 2), (1, 1)), dilation=dil, groups=2, algorithm="direct")
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), atol=1e-10)
    gx = module.conv2d_winograd_grad_input(delta, w, (11, 9), pads, dil, 2, m, 2, keep=2**20)
    kw = {"padding": ((2, 2), (1, 1)), "dilation": dil, "groups": 2, "algorithm": "direct"}
    want = nm.conv2d_grad_input(tuple(x.shape), w, delta, **kw)
    np.testing.assert_allclose(np.asarray(gx), np.asarray(want), atol=1e-10)
    gw = module.conv2d_winograd_grad_weight(x, delta, pads, dil, 2, m, 1, keep=2**20)
    want = nm.conv2d_grad_weight(x, tuple(w.shape), delta, **kw)
    np.testing.assert_allclose(np.asarray(gw), np.asarray(want), atol=1e-10)
    alg.release_workspaces()


def test_thin_gemm_blocks_follow_the_backend_budget():
    """NumPy: blocks of _small_gemm() multiply-adds over the small dimensions, none narrower
    than _THIN_LEAST; torch: one call."""
    from numeric._generated import numpy_conv, torch_conv

    budget = numpy_conv._small_gemm()
    assert numpy_winograd._small_gemm() == budget > 0
    assert numpy_conv._thin_block(36) == budget // 36  # a 6 x 6 transform
    assert numpy_conv._thin_block(6 * 25) == budget // 150 >= numpy_conv._THIN_LEAST
    assert numpy_conv._thin_block(64 * 576) == 0  # a compute-bound GEMM: one call
    assert torch_conv._thin_block(36) == torch_winograd._thin_block(36) == 0


def test_map_batch_into_needs_the_output():
    from numeric._parallel import map_batch

    with pytest.raises(ValueError, match="into"):
        map_batch("numpy", 4, 1e9, 1, lambda s, o: None, "into")
    out = np.zeros((4, 2))
    got = map_batch("numpy", 4, 1e9, 1, lambda s, o: o.__setitem__(Ellipsis, s.start), "into", out)
    assert got is out and out[:, 0].tolist() == [0, 1, 2, 3]


def test_winograd_keeps_nothing_on_a_gpu():
    """torch's caching allocator keeps device memory already; buffers kept across calls on
    different CUDA streams would race. CPU tensors keep theirs like NumPy arrays."""
    from types import SimpleNamespace

    torch_be = _backend("torch")
    on_gpu = SimpleNamespace(device=SimpleNamespace(type="cuda"))
    assert alg._keep(torch_be, on_gpu) == 0
    assert alg._keep(torch_be, torch.zeros(1)) == min(alg.KEEP_BYTES, nm.get_workspace_limit())


def test_winograd_workspaces_are_per_thread():
    """Threads running the kernel at once each use their own kept buffers: every result
    equals the direct method (shared buffers would mix the threads' tiles)."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(4)
    w = rng.standard_normal((16, 16, 3, 3))
    xs = [rng.standard_normal((1, 16, 48, 48)) for _ in range(8)]  # long enough calls to overlap
    want = [nm.conv2d(x, w, padding=1, algorithm="direct") for x in xs]

    def run(i):
        return numpy_winograd.conv2d_winograd(
            xs[i], w, None, [(1, 1), (1, 1)], (1, 1), 1, 4, 1, keep=2**24
        )

    try:
        with ThreadPoolExecutor(4) as pool:
            for _ in range(3):
                for got, ref in zip(pool.map(run, range(8)), want, strict=True):
                    np.testing.assert_allclose(got, ref, atol=1e-10)
            idents = set(numpy_winograd._KEPT)
        assert len(idents) >= 2
    finally:
        alg.release_workspaces()


# -- the printed modules --------------------------------------------------------------------------
def test_printed_winograd_matrices_are_the_derived_rationals():
    for module in (numpy_winograd, torch_winograd):
        for m in (2, 4):
            f, b = winograd(m, 3), winograd(3, m)
            for printed, exact in zip(module.FORWARD[m], (f.AT, f.G, f.BT), strict=True):
                assert np.array_equal(
                    np.array(printed, dtype=np.float64), np.array(exact.tolist(), dtype=np.float64)
                )
            for printed, exact in zip(module.GRAD_WEIGHT[m], (b.AT, b.G, b.BT), strict=True):
                assert np.array_equal(
                    np.array(printed, dtype=np.float64), np.array(exact.tolist(), dtype=np.float64)
                )


@pytest.mark.parametrize("m", [2, 4])
def test_winograd_layer_derivation_certifies_the_kernels(m):
    """The layer derivation (channels, phases, gradients) passes every check, exact and numeric;
    a weight gradient with other points would not share the forward's tiles."""
    from symconv.derive import derive
    from symconv.winograd_layer import winograd_layer_derivation

    cert = derive("winograd-layer", None, m + 2).verify()
    assert cert.passed and {r.level for r in cert.results} == {"exact", "numeric"}
    assert winograd_layer_derivation(m).results["weight_gradient"].BT == winograd(m, 3).BT
    assert (
        winograd(3, m, points=[sympy.Rational(1, 2), *winograd(3, m).points[1:]]).BT
        != winograd(m, 3).BT
    )
    with pytest.raises(sc.SpecError, match="tile length"):
        derive("winograd-layer", None, 5)


@pytest.mark.parametrize("algorithm", ["direct", "winograd", "fft"])
def test_every_algorithm_keeps_the_workspace_budget(algorithm):
    """A large batch with a 4 MB budget: peak extra memory (tracemalloc, NumPy) stays near the
    budget for every algorithm, and is larger without it; results are unchanged."""
    import tracemalloc

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 24, 24)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    out_bytes = x.nbytes  # the output has the input's shape

    def peak(limit):
        with nm.workspace_limit(limit):
            alg.release_workspaces()  # kept ones (earlier tests') would hide allocations
            tracemalloc.start()
            try:
                y = nm.conv2d(x, w, padding=1, algorithm=algorithm)
                _, top = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        return y, top - out_bytes

    limit = 4 * 2**20
    nm.conv2d(x[:1], w, padding=1, algorithm=algorithm)  # imports the kernels' module first
    y_small, small = peak(limit)
    y_big, big = peak(2**30)
    assert small < 1.5 * limit, (small, limit)
    assert big > small
    # Chunks of different sizes run the GEMMs with different blockings, so the two differ in
    # float32 rounding (amplified by Winograd's transforms); both must match the direct method.
    ref = nm.conv2d(x, w, padding=1, algorithm="direct")
    for y in (y_small, y_big):
        assert_close(y, ref, np.float32, 8 * 9, algorithm)


def test_torch_runs_in_chunks_too():
    rng = np.random.default_rng(2)
    x, w = (
        torch.from_numpy(rng.standard_normal((6, 3, 9, 9))),
        torch.from_numpy(rng.standard_normal((4, 3, 3, 3))),
    )
    ref = F.conv2d(x, w, padding=1)
    delta = torch.from_numpy(rng.standard_normal(tuple(ref.shape)))
    for algorithm in ("direct", "winograd", "fft"):
        with nm.workspace_limit(1):  # one sample per part
            y = nm.conv2d(x, w, padding=1, algorithm=algorithm)
            gw = nm.conv2d_grad_weight(x, w.shape, delta, padding=1, algorithm=algorithm)
        assert isinstance(y, torch.Tensor) and torch.allclose(y, ref, atol=1e-10)
        assert torch.allclose(
            gw, torch.nn.grad.conv2d_weight(x, w.shape, delta, padding=1), atol=1e-9
        )


@pytest.mark.parametrize(
    ("dims", "kw", "algorithm"),
    [
        (2, dict(padding=2, dilation=2, groups=2, padding_mode="reflect", flip=True), "winograd"),
        (2, dict(padding=1, groups=2), "direct"),
        (2, dict(stride=2, padding=(1, 0), padding_mode="circular"), "fft"),
        (3, dict(padding=(1, 1, 2), dilation=(1, 2, 1), groups=2, flip=True), "shifted"),
        (1, dict(stride=2, padding=1, dilation=2), "auto"),
        (3, dict(padding=1, padding_mode="replicate"), "auto"),
    ],
)
def test_torch_autograd_runs_the_derived_gradients(dims, kw, algorithm):
    """numeric's conv is differentiable on torch tensors: gradcheck (finite differences of the
    forward) passes for input, weight and bias; without requires_grad nothing is recorded."""
    g = torch.Generator().manual_seed(dims)
    groups = kw.get("groups", 1)
    size = (7,) * dims if dims < 3 else (4,) * dims
    x = torch.randn(2, 4, *size, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(
        6, 4 // groups, *(3,) * dims, dtype=torch.float64, generator=g, requires_grad=True
    )
    b = torch.randn(6, dtype=torch.float64, generator=g, requires_grad=True)
    conv = getattr(nm, f"conv{dims}d")
    assert torch.autograd.gradcheck(
        lambda x, w, b: conv(x, w, b, **kw, algorithm=algorithm), (x, w, b)
    )
    with torch.no_grad():
        assert conv(x, w, b, **kw).grad_fn is None
    assert conv(x.detach(), w.detach(), None, **kw).grad_fn is None


@pytest.mark.parametrize("algorithm", ["auto", "separable"])
@pytest.mark.parametrize("flip", [False, True])
def test_separable_factors_the_kernel_once_per_call(algorithm, flip, monkeypatch):
    """The rank-1 test (an SVD per kernel slice) runs once per call: where "auto" chooses
    separable and where it is named, however many batch parts and threads run the layer."""
    spec = _spec(in_channels=1, out_channels=1, kernel_size=5, padding=2)
    rng = np.random.default_rng(2)
    w = np.einsum("a,b->ab", rng.standard_normal(5), rng.standard_normal(5))[None, None]
    x = rng.standard_normal((4, 1, 64, 64))
    calls = []
    real = alg.rank_one_factors
    monkeypatch.setattr(alg, "rank_one_factors", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(nm._parallel, "MIN_WORK", 0.0)  # one part per thread
    got = nm.conv2d(x, w, padding=2, flip=flip, algorithm=algorithm)
    factored = len(calls)
    assert_close(got, nm.conv2d(x, w, padding=2, flip=flip, algorithm="direct"), np.float64, 25, "")
    chosen = alg.plan("forward", "conv2d", spec, (64, 64), 4, algorithm, w)[0]
    assert chosen == "separable", "the cost model no longer picks separable here: pick a layer"
    assert factored == 1


def test_winograd_runs_cache_sized_chunks_on_the_cpu(monkeypatch):
    """NumPy and torch-on-CPU Winograd run as many samples at a time as fit `CACHE_BYTES` per
    thread (torch's threads share each call), and still equal the direct method."""
    spec = _spec(in_channels=64, out_channels=64, kernel_size=3, padding=1)
    per = alg.workspace_bytes(spec, (56, 56), "winograd", 4)
    x = np.zeros((8, 64, 56, 56), np.float32)
    numpy_be, torch_be = _backend("numpy"), _backend("torch")
    assert alg._cache_chunk(numpy_be, spec, x, 8) == max(1, min(8, alg.CACHE_BYTES // per))
    threads = torch.get_num_threads()
    want = max(1, min(8, alg.CACHE_BYTES * threads // per))
    assert alg._cache_chunk(torch_be, spec, torch.from_numpy(x), 8) == want < 8
    seen = []
    module = torch_be.module("winograd")
    real = module.conv2d_winograd
    monkeypatch.setattr(
        module, "conv2d_winograd", lambda *a, **k: seen.append(a[-1]) or real(*a, **k)
    )
    rng = np.random.default_rng(3)
    xs, w = rng.standard_normal((4, 64, 56, 56)), rng.standard_normal((64, 64, 3, 3))
    got = nm.conv2d(torch.from_numpy(xs), torch.from_numpy(w), padding=1, algorithm="winograd")
    cached = alg._cache_chunk(torch_be, spec, torch.from_numpy(xs), 10**9)
    assert seen == [cached] and cached < 4  # float64: fewer samples fit
    assert_close(got, nm.conv2d(xs, w, padding=1, algorithm="direct"), np.float64, 576, "")


def test_non_finite_inputs_spread_as_documented():
    """One inf in the input: direct and shifted spoil exactly torch's outputs (the windows that
    read it); Winograd spoils those and at most the output tiles whose input tiles hold it; FFT
    may spoil the whole sample and channel group (numeric.algorithms, 'Inf and NaN')."""
    g = np.random.default_rng(0)
    x, w = g.standard_normal((2, 2, 17, 17)), g.standard_normal((3, 2, 3, 3))
    x[1, 0, 8, 9] = np.inf
    want = ~np.isfinite(F.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy())
    assert want[1].sum() == 3 * 9 and not want[0].any()
    for name in ("direct", "shifted"):
        y = nm.conv2d(x, w, padding=1, algorithm=name)
        np.testing.assert_array_equal(~np.isfinite(y), want)
    m = 4
    with np.errstate(invalid="ignore"):  # inf - inf in the transforms
        y = alg.conv2d(x, w, padding=1, algorithm="winograd", winograd_m=m)
    bad = ~np.isfinite(y)
    assert (bad >= want).all() and not bad[0].any()
    rows, cols = np.nonzero(bad[1].any(axis=0))
    # output tile t reads padded inputs m t .. m t + m + 1, i.e. inputs m t - 1 .. m t + m
    assert all(m * (r // m) - 1 <= 8 <= m * (r // m) + m for r in rows)
    assert all(m * (c // m) - 1 <= 9 <= m * (c // m) + m for c in cols)
    with np.errstate(invalid="ignore"):
        y = nm.conv2d(x, w, padding=1, algorithm="fft")
    assert (~np.isfinite(y) >= want).all() and np.isfinite(y[0]).all()


def test_cost_queries_check_their_arguments():
    """The public queries of numeric.algorithms name the bad argument (SpecError), rather than
    failing inside (IndexError, KeyError) or answering nonsense (negative costs)."""
    c = sc.Conv(dims=2, in_channels=4, out_channels=4, kernel_size=3, padding=1)
    cases = [
        (lambda: alg.explain(c, 8, op="x"), "explain: op must be one of"),
        (lambda: alg.choose("bogus", "conv2d", c, (8, 8), 1, "auto"), "conv2d: op must be"),
        (lambda: alg.costs(c, 8, rates={"direct": 1}), "rates must be a dict with the keys"),
        (lambda: alg.costs(c, 8, rates=dict(alg.RATES, gemm=-1.0)), "positive numbers"),
        (lambda: alg.costs(c, 8, op="bogus"), "costs: op must be"),
        (lambda: alg.costs(c, 8, batch=-1), "batch must be an integer >= 0, got -1"),
        (lambda: alg.costs(c, 8, threads=0), "threads must be an integer >= 1"),
        (lambda: alg.explain(c, 8, batch="2"), "batch must be an integer >= 0, got '2'"),
        (lambda: alg.explain(sc.ConvTranspose(kernel_size=3), 8), "spec must be a symconv.Conv"),
        (lambda: alg.supported("x", "winograd"), "spec must be a symconv.Conv, got str"),
        (lambda: alg.rank_one_factors(np.ones((3, 3))), "weight must be a real 4-d array"),
        (lambda: alg.rank_one_factors(np.ones((1, 1, 3, 3)), tol="a"), "tol must be a real"),
        (lambda: alg.calibrate(dtype=int), "dtype must be float32 or float64"),
        (
            lambda: alg.conv2d(np.ones((1, 4, 8, 8)), np.ones((4, 4, 3, 3)), algorithm="winograd",
                               winograd_m=2.0),
            r"winograd_m must be one of \[2, 4\], got 2.0",
        ),
    ]  # fmt: skip
    for call, message in cases:
        with pytest.raises(sc.SpecError, match=message):
            call()
    assert alg.explain(c, 8, batch=np.int64(2))["algorithm"] in alg.ALGORITHMS
    assert alg.supported(c, "winograd", m=np.int64(4)) is None


@pytest.mark.parametrize(
    "formula", ["direct", "direct-depthwise", "winograd", "shifted", "shifted-rows", "fft"]
)
def test_cost_derivation_counts_the_kernels_gemm_work(formula):
    """`cost_derivation` checks every GEMM formula exactly against the operations the printed
    NumPy kernels issue (each `_matmul` counted); a formula off by a factor fails it, and the
    derivation is `symconv derive algorithm-costs`."""
    from symconv.derive import derive

    cert = derive("algorithm-costs").verify()
    assert cert.passed and cert.level == "exact"
    assert formula in cert.results[0].detail  # the layers reach every formula
    wrong = {name: dict(parts) for name, parts in alg.cost_formulas().items()}
    wrong[formula]["gemm"] = 2 * wrong[formula]["gemm"] + 1
    assert not alg.cost_derivation(wrong).verify().passed


def test_autograd_keeps_the_winograd_tile(monkeypatch):
    """Torch autograd through `numeric.algorithms.conv2d(winograd_m=2)` runs both gradients by
    F(2x2, 3x3) too (they used to fall back to F(4x4, 3x3)), matching torch's gradients; a
    separable forward with a tile named takes its gradients by "auto" (no Winograd forced)."""
    seen = []
    for name, at in (("conv2d_winograd_grad_input", 6), ("conv2d_winograd_grad_weight", 5)):
        original = getattr(torch_winograd, name)

        def spy(*args, _original=original, _at=at, **kwargs):
            seen.append(args[_at])  # m
            return _original(*args, **kwargs)

        monkeypatch.setattr(torch_winograd, name, spy)
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.standard_normal((2, 3, 7, 7)), requires_grad=True)
    w = torch.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y = alg.conv2d(x, w, padding=1, algorithm="winograd", winograd_m=2)
    gx, gw = torch.autograd.grad(y.sum(), (x, w))
    assert seen == [2, 2]
    xr, wr = x.detach().requires_grad_(), w.detach().requires_grad_()
    want = torch.autograd.grad(F.conv2d(xr, wr, padding=1).sum(), (xr, wr))
    assert torch.allclose(gx, want[0], atol=1e-10) and torch.allclose(gw, want[1], atol=1e-10)
    u = torch.tensor([1.0, 2, 3, 2, 1], dtype=torch.float64)
    w5 = (u[:, None] * u[None, :])[None, None].repeat(2, 3, 1, 1).requires_grad_()
    y = alg.conv2d(x, w5, padding=2, algorithm="separable", winograd_m=2)
    gx, gw = torch.autograd.grad(y.sum(), (x, w5))
    xr, wr = x.detach().requires_grad_(), w5.detach().requires_grad_()
    want = torch.autograd.grad(F.conv2d(xr, wr, padding=2).sum(), (xr, wr))
    assert torch.allclose(gx, want[0], atol=1e-9) and torch.allclose(gw, want[1], atol=1e-9)
