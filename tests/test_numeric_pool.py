"""Generated pooling kernels (max with indices, avg, lp; forward and backward) against torch."""

from __future__ import annotations

import numpy as np
from helpers import check_op
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import numeric as nm
import symconv as sc


@st.composite
def pool_cases(draw, kind):
    dims = draw(st.sampled_from([1, 2, 3]))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel) if kind != "lp" else 0
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims)) if kind == "max" else 1
    ceil_mode = draw(st.booleans())
    size = tuple(draw(st.integers(3, 7 if dims < 3 else 5)) for _ in range(dims))
    kwargs = dict(kernel_size=kernel, stride=stride, ceil_mode=ceil_mode)
    if kind != "lp":
        kwargs["padding"] = padding
    extra = {}
    if kind == "max":
        kwargs["dilation"] = dilation
        kwargs["return_indices"] = draw(st.booleans())
    elif kind == "avg":
        kwargs["count_include_pad"] = draw(st.booleans())
        if dims > 1:
            kwargs["divisor_override"] = draw(st.sampled_from([None, None, 3]))
    else:
        extra["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.0, 1.5]))
        if dims == 1:
            kwargs["kernel_size"], kwargs["stride"] = kernel[0], stride[0]
    try:
        sc.Pool(dims=dims, kind=kind, **{k: v for k, v in kwargs.items() if k != "return_indices"},
                **extra).output_size(size)  # fmt: skip
    except sc.SpecError:
        assume(False)
    batch = draw(st.sampled_from([0, 1, 2]))
    return dims, {"input": (batch, 2, *size), **extra}, kwargs


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
