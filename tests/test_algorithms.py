"""numeric.algorithms: FFT, Winograd and separable conv2d against torch; auto; errors; codegen."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from helpers import tolerance
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv as sc
from numeric import algorithms as alg
from numeric._generated import numpy_algorithms as gen
from symconv.codegen.algorithms import algorithm_modules
from symconv.codegen.generate import DEFAULT_DIR
from symconv.fourier import fft_plan, fft_size
from symconv.separable import separable
from symconv.winograd import float32_error, winograd


def _reference(x, w, b, stride, padding, dilation, groups):
    t = [None if a is None else torch.from_numpy(a) for a in (x, w, b)]
    return F.conv2d(*t, stride, padding, dilation, groups).numpy()


def _check(ours, ref, dtype, length, factor=1.0):
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    scale = 1.0 + float(np.max(np.abs(ref)))
    err = float(np.max(np.abs(ours.astype(np.float64) - ref.astype(np.float64))))
    tol = 1e-9 if dtype == np.float64 else factor * tolerance(dtype, length)
    assert err <= tol * scale, f"error {err:.3g}, tolerance {tol * scale:.3g}"


@st.composite
def layers(draw, *, winograd_only=False):
    groups = draw(st.sampled_from([1, 2]))
    cg, kg = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if winograd_only:
        k, stride, dilation = (3, 3), (1, 1), (1, 1)
    else:
        k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    ext = [d * (kk - 1) + 1 for d, kk in zip(dilation, k, strict=True)]
    size = [draw(st.integers(max(1, e - 2 * p), 12)) for e, p in zip(ext, padding, strict=True)]
    return dict(
        n=draw(st.integers(1, 2)),
        c=cg * groups,
        k_out=kg * groups,
        kernel=k,
        size=size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=draw(st.booleans()),
        dtype=draw(st.sampled_from([np.float64, np.float32])),
        seed=draw(st.integers(0, 2**16)),
    )


def _arrays(L, rank_one=False):
    rng = np.random.default_rng(L["seed"])
    x = rng.standard_normal((L["n"], L["c"], *L["size"])).astype(L["dtype"])
    shape = (L["k_out"], L["c"] // L["groups"], *L["kernel"])
    if rank_one:
        u = rng.standard_normal((*shape[:2], shape[2]))
        v = rng.standard_normal((*shape[:2], shape[3]))
        w = np.einsum("kca,kcb->kcab", u, v).astype(L["dtype"])
    else:
        w = rng.standard_normal(shape).astype(L["dtype"])
    b = rng.standard_normal(L["k_out"]).astype(L["dtype"]) if L["bias"] else None
    return x, w, b


def _run(L, algorithm, rank_one=False, factor=1.0, **kw):
    x, w, b = _arrays(L, rank_one)
    args = (L["stride"], L["padding"], L["dilation"], L["groups"])
    ours = alg.conv2d(x, w, b, *args, algorithm=algorithm, **kw)
    length = w.shape[1] * w.shape[2] * w.shape[3]
    _check(ours, _reference(x, w, b, *args), L["dtype"], length, factor)


@settings(max_examples=40, deadline=None)
@given(layers())
def test_fft_matches_torch(L):
    _run(L, "fft")


@settings(max_examples=40, deadline=None)
@given(layers(winograd_only=True), st.sampled_from([2, 4]))
def test_winograd_matches_torch(L, m):
    # F(4x4): float32 tile error ~100x F(2x2)'s (symconv.winograd.float32_error)
    _run(L, "winograd", factor=1.0 if m == 2 else 20.0, winograd_m=m)


@settings(max_examples=40, deadline=None)
@given(layers())
def test_separable_matches_torch(L):
    _run(L, "separable", rank_one=True)


@settings(max_examples=20, deadline=None)
@given(layers())
def test_auto_and_direct_match_torch(L):
    _run(L, "auto")
    _run(L, "direct")


def test_winograd_tolerances_follow_float32_error():
    # the tile errors of the derivation justify test_winograd_matches_torch's factors (1 and 20)
    e2, e4 = float32_error(2, trials=300)["winograd"], float32_error(4, trials=300)["winograd"]
    assert e2 <= tolerance(np.float32, 9) < e4 * 20
    assert e4 <= 20 * tolerance(np.float32, 9)


def test_printed_winograd_matrices_are_the_derived_rationals():
    for m in (2, 4):
        f = winograd(m, 3)
        for name, M in zip(("AT", "G", "BT"), gen.WINOGRAD[m], strict=True):
            exact = np.array(getattr(f, name).tolist(), dtype=np.float64)
            assert np.array_equal(M, exact), (m, name)


@settings(max_examples=60, deadline=None)
@given(layers())
def test_printed_fft_size_is_fft_plan(L):
    spec = sc.Conv(
        dims=2,
        kernel_size=L["kernel"],
        stride=L["stride"],
        padding=L["padding"],
        dilation=L["dilation"],
    )
    plan = fft_plan(spec, L["size"])
    got = tuple(
        gen.fft_size(n, K, lo, hi)
        for n, K, (lo, hi) in zip(L["size"], plan.kernel_extent, spec.pads, strict=True)
    )
    assert got == plan.sizes
    assert got == tuple(
        fft_size(n, k, lo, hi, d)
        for n, k, (lo, hi), d in zip(L["size"], L["kernel"], spec.pads, L["dilation"], strict=True)
    )
    lengths = gen.fft_lengths(L["size"], plan.kernel_extent, spec.pads)
    assert all(n >= m for n, m in zip(lengths, plan.sizes, strict=True))
    assert all(sympy.factorint(n).keys() <= {2, 3, 5} for n in lengths)


def test_rank_one_factors_agree_with_symconv_separable():
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)
    w = np.stack([sobel, 2 * sobel])[:, None]  # (2, 1, 3, 3)
    u, v = alg.rank_one_factors(w)
    np.testing.assert_allclose(np.einsum("kca,kcb->kcab", u, v), w, atol=1e-12)
    assert separable(sobel) is not None
    assert alg.rank_one_factors(np.eye(3)[None, None]) is None
    assert separable(np.eye(3)) is None


def _spec(**kw):
    base = dict(dims=2, in_channels=64, out_channels=64, kernel_size=3, padding=1)
    return sc.Conv(**{**base, **kw})


def test_auto_is_deterministic_and_explained():
    vgg = alg.explain(_spec(), (56, 56), batch=8)
    assert vgg == alg.explain(_spec(), (56, 56), batch=8)
    assert set(vgg["costs"]) == {"direct", "fft", "winograd", "separable"}
    assert vgg["costs"]["direct"] == 8 * _spec().macs((56, 56))
    assert vgg["costs"]["separable"] is None  # no weights given: cannot know the rank
    assert "cheapest" in vgg["rule"]
    big = _spec(in_channels=16, out_channels=16, kernel_size=15, padding=7)
    assert alg.explain(big, (128, 128), batch=2)["algorithm"] == "fft"
    small = _spec(in_channels=3, out_channels=4, kernel_size=3, padding=1)
    assert alg.explain(small, (8, 8))["algorithm"] == "direct"
    assert alg.explain(_spec(stride=2), (56, 56))["costs"]["winograd"] is None
    # chosen: cheapest admissible (<= MARGIN x direct), ties to ORDER
    for e in (vgg, alg.explain(big, (128, 128), batch=2)):
        ok = {
            k: v
            for k, v in e["costs"].items()
            if v is not None and (k == "direct" or v <= alg.MARGIN * e["costs"]["direct"])
        }
        assert e["algorithm"] == min(ok, key=lambda k: (ok[k], alg.ORDER.index(k)))


def test_auto_uses_separable_for_rank_one_weights():
    spec = _spec(in_channels=1, out_channels=1, kernel_size=9, padding=4)
    w = np.einsum("a,b->ab", np.arange(1.0, 10), np.ones(9))[None, None]
    e = alg.explain(spec, (16, 16), weight=w)
    assert e["costs"]["separable"] < e["costs"]["direct"]
    assert e["algorithm"] in ("separable", "fft")


@pytest.mark.parametrize(
    ("kw", "algorithm", "match"),
    [
        (dict(stride=2), "winograd", "3x3 kernel, stride 1 and dilation 1"),
        (dict(dilation=2), "winograd", "3x3 kernel, stride 1 and dilation 1"),
        (dict(kernel=(5, 5)), "winograd", "3x3 kernel"),
        ({}, "separable", "rank-1"),
        ({}, "magic", "algorithm must be one of"),
    ],
)
def test_unsupported_raise_spec_error(kw, algorithm, match):
    rng = np.random.default_rng(0)
    k = kw.pop("kernel", (3, 3))
    x, w = rng.standard_normal((1, 2, 9, 9)), rng.standard_normal((2, 2, *k))
    with pytest.raises(sc.SpecError, match=match):
        alg.conv2d(x, w, padding=1, algorithm=algorithm, **kw)


def test_spec_errors_for_bad_inputs():
    x, w = np.zeros((1, 2, 9, 9)), np.zeros((2, 2, 3, 3))
    with pytest.raises(sc.SpecError, match="winograd_m"):
        alg.conv2d(x, w, algorithm="winograd", winograd_m=3)
    with pytest.raises(sc.SpecError, match="NumPy arrays only"):
        alg.conv2d(torch.zeros(1, 2, 9, 9), torch.zeros(2, 2, 3, 3), algorithm="fft")
    with pytest.raises(sc.SpecError, match="input channels"):
        alg.conv2d(np.zeros((1, 3, 9, 9)), w, algorithm="fft")
    with pytest.raises(sc.SpecError):
        alg.conv2d(x.astype(np.float32), w, algorithm="fft")
    with pytest.raises(sc.SpecError, match=r"symconv\.Conv"):
        alg.explain("conv", (9, 9))


def test_generated_module_is_current():
    for name, text in algorithm_modules().items():
        assert (DEFAULT_DIR / name).read_text(encoding="utf-8") == text, name
