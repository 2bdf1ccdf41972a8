"""symconv.testing: the strategies draw only valid, edge-covering, shrinkable specs; the
identity checker's errors and the pytest plugin work as documented."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import symconv
import symconv as sc
from symconv.testing import (
    arrays_for,
    check_identities,
    conv_specs,
    filled,
    inputs,
    pool_specs,
    spec_source,
    upstream_gradients,
    weights,
)

torch.set_num_threads(1)
# derandomize: which minimal example `find` reaches depends on its random draws (about 1 run
# in 25 stopped at another local minimum); a fixed seed makes the shrink assertions repeatable
FIND = settings(
    database=None, derandomize=True, max_examples=2000, suppress_health_check=list(HealthCheck)
)


def _span(spec, a):
    return spec.dilation[a] * (spec.kernel_size[a] - 1) + 1


@given(conv_specs(dims=(1, 2, 3)))
def test_conv_specs_are_valid_and_torch_agrees(case) -> None:
    spec, size = case
    out = spec.output_size(size)  # never raises: valid by construction
    assert all(1 <= i <= 8 for i in size) and min(out) >= 1
    if spec.flip:
        return
    padding = spec.padding if spec.padding in ("valid", "same") else None
    layer = getattr(torch.nn, f"Conv{spec.dims}d")(
        spec.in_channels,
        spec.out_channels,
        spec.kernel_size,
        stride=spec.stride,
        padding=padding or tuple(lo for lo, _ in spec.pads),
        dilation=spec.dilation,
        groups=spec.groups,
        padding_mode=spec.padding_mode,
    )
    if any(lo != hi for lo, hi in spec.pads) and padding is None:
        return  # (lo, hi) pairs: not a torch layer argument
    with torch.no_grad():
        y = layer(torch.zeros(1, spec.in_channels, *size))
    assert tuple(y.shape[2:]) == out


@given(pool_specs(dims=(1, 2, 3)))
def test_pool_specs_are_valid_and_torch_agrees(case) -> None:
    spec, size = case
    out = spec.output_size(size)
    F, n, x = torch.nn.functional, spec.dims, torch.zeros(1, 1, *size)
    k, s, p = spec.kernel_size, spec.stride, spec.padding
    if spec.kind == "max":
        y = getattr(F, f"max_pool{n}d")(x, k, s, p, spec.dilation, ceil_mode=spec.ceil_mode)
    elif spec.kind == "avg":  # divisor_override does not change the shape (avg_pool1d lacks it)
        y = getattr(F, f"avg_pool{n}d")(x, k, s, p, spec.ceil_mode, spec.count_include_pad)
    else:
        k, s = (k[0], s[0]) if n == 1 else (k, s)
        y = getattr(F, f"lp_pool{n}d")(x, spec.norm_type, k, s, ceil_mode=spec.ceil_mode)
    assert tuple(y.shape[2:]) == out


@pytest.mark.parametrize(
    "edge",
    [
        lambda s, n: any(_span(s, a) == n[a] + sum(s.pads[a]) for a in range(s.dims)),
        lambda s, n: any(st_ > k for st_, k in zip(s.stride, s.kernel_size, strict=True)),
        lambda s, n: s.groups == s.in_channels > 1,
        lambda s, n: 1 in n and max(s.kernel_size) > 1,
        lambda s, n: s.padding_mode == "reflect" and max(max(p) for p in s.pads) == min(n) - 1,
        lambda s, n: s.padding == "same" and s.kernel_size[0] % 2 == 0,
        lambda s, n: s.flip and not s.bias,
    ],
    ids=[
        "kernel=padded input",
        "stride>kernel",
        "depthwise",
        "size-1 axis",
        "reflect limit",
        "same even",
        "flip",
    ],
)
def test_edges_are_reachable(edge) -> None:
    spec, size = find(conv_specs(), lambda c: edge(*c), settings=FIND)
    assert edge(spec, size)


def test_shrinks_to_small_readable_specs() -> None:
    spec, _ = find(conv_specs(), lambda c: c[0].output_size(c[1])[0] >= 3, settings=FIND)
    # either a 3-wide input or a 1-wide one padded by 1: both are one choice from the minimum
    assert spec_source(spec) in (
        "symconv.Conv(dims=2, kernel_size=1)",
        "symconv.Conv(dims=2, kernel_size=1, padding=1)",
    )
    pool, psize = find(pool_specs(), lambda c: c[0].output_size(c[1])[0] >= 2, settings=FIND)
    assert pool.kind == "max" and pool.kernel_size == (1, 1) and psize == (2, 1)


@given(
    conv_specs(
        dims=2,
        groups=1,
        dilation=1,
        kernel_size=(2, 3),
        padding_modes=("circular",),
        padding_styles="int",
        square=True,
        max_size=5,
    )
)
def test_restrictions_are_respected(case) -> None:
    spec, size = case
    assert spec.groups == 1 and spec.dilation == (1, 1) and spec.padding_mode == "circular"
    assert isinstance(spec.padding[0], int) and len(set(spec.kernel_size)) == 1
    assert 2 <= spec.kernel_size[0] <= 3 and max(size) <= 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 9, "max_size": 3, "padding": 0, "padding_styles": "int"},
        {"groups": 5, "channels": (1, 4)},
        {"padding_modes": ("mirror",)},
        {"stride": 2, "padding_styles": ("same",)},
        {"kernel_size": (3, 1)},
    ],
)
def test_impossible_restrictions_raise_spec_error(kwargs) -> None:
    with pytest.raises(sc.SpecError):
        conv_specs(**kwargs)


@given(conv_specs(dims=(1, 2, 3)))
def test_spec_source_rebuilds_the_spec(case) -> None:
    spec, _ = case
    assert eval(spec_source(spec), {"symconv": symconv}) == spec


@given(st.data(), conv_specs(dims=(1, 2)), pool_specs(dims=(1, 2)))
def test_arrays_have_the_layer_shapes(data, conv_case, pool_case) -> None:
    spec, size = conv_case
    arrs = data.draw(arrays_for(spec, size, batch=(0, 3), dtype=np.float32))
    n = arrs.x.shape[0]
    assert arrs.x.shape == (n, spec.in_channels, *size) and arrs.x.dtype == np.float32
    assert arrs.weight.shape == spec.weight_shape
    assert (arrs.bias is None) == (not spec.bias)
    assert arrs.delta.shape == (n, spec.out_channels, *spec.output_size(size))
    pool, psize = pool_case
    parrs = data.draw(arrays_for(pool, psize, channels=3))
    assert parrs.weight is None and parrs.x.shape[1] == parrs.delta.shape[1] == 3
    assert data.draw(inputs(spec, size, batch=2)).shape[0] == 2
    assert data.draw(weights(spec)).shape == spec.weight_shape
    assert data.draw(upstream_gradients(spec, size)).shape[1] == spec.out_channels


@given(st.data())
def test_filled_values(data) -> None:
    ints = data.draw(filled((3, 4), values="integers"))
    assert ints.dtype == np.float64 and np.all(ints == np.round(ints)) and np.abs(ints).max() <= 3
    custom = data.draw(filled((2,), np.float32, st.floats(-1, 1, width=32)))
    assert custom.dtype == np.float32 and np.all(np.abs(custom) <= 1)
    assert data.draw(inputs(sc.Conv(kernel_size=1), (2, 2), batch=0)).shape == (0, 1, 2, 2)


def test_check_identities_rejects_bad_options() -> None:
    with pytest.raises(sc.SpecError, match="unknown restriction"):
        check_identities(lambda *a, **k: None, flip=True)
    with pytest.raises(sc.SpecError, match="pairs"):
        check_identities(lambda *a, **k: None, padding_styles=("pairs",))
    with pytest.raises(sc.SpecError, match="dims"):
        check_identities(lambda *a, **k: None, dims=4)


def test_an_exception_in_the_conv_is_a_readable_failure() -> None:
    def no_groups(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        if groups != 1:
            raise NotImplementedError("groups")
        return torch.nn.functional.conv1d(
            torch.from_numpy(x),
            torch.from_numpy(w),
            None if b is None else torch.from_numpy(b),
            stride,
            padding,
            dilation,
        ).numpy()

    with pytest.raises(AssertionError) as info:
        check_identities(no_groups, dims=1, max_examples=100)
    text = str(info.value)
    assert "breaks 'calling conv'" in text and "NotImplementedError: groups" in text
    assert "groups=2" in text and "check_identities(conv, ..., groups=1" in text
    check_identities(no_groups, dims=1, max_examples=30, groups=1)


def test_check_identities_in_1d_and_3d() -> None:
    F = torch.nn.functional
    for dims in (1, 3):
        fn = getattr(F, f"conv{dims}d")

        def conv(x, w, b=None, fn=fn, **kw):
            t = torch.from_numpy
            return fn(t(x), t(w), None if b is None else t(b), **kw).numpy()

        check_identities(conv, dims=dims, max_examples=25, max_size=5)


TEN_LINES = """
import numpy as np
import torch

def my_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    t = torch.from_numpy
    y = torch.nn.functional.conv2d(t(x), t(w[..., ::-1, ::-1].copy()), None if b is None else t(b), stride, padding, dilation, groups)
    return y.numpy()

def test_my_conv2d(conv_identities):
    conv_identities(my_conv2d, dims=2, max_examples=100)
"""


def test_pytest_plugin_gives_the_fixture(tmp_path) -> None:
    """The documented user file, run by a fresh pytest: the fixture exists, the failure reads."""
    (tmp_path / "test_user.py").write_text(textwrap.dedent(TEN_LINES))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "breaks 'agreement with the Toeplitz matrix'" in run.stdout
    assert "minimal spec: symconv.Conv(dims=2, kernel_size=(1, 2)" in run.stdout
    assert "fixture 'conv_identities' not found" not in run.stdout
