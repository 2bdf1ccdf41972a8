"""symconv.testing: the strategies draw only valid, edge-covering, shrinkable specs; the
identity checker's errors and the pytest plugin work as documented."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from helpers import ROOT
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

import symconv
import symconv as sc
from symconv.testing import (
    arrays_for,
    check_identities,
    check_pool_identities,
    conv_specs,
    filled,
    inputs,
    pool_specs,
    spec_source,
    upstream_gradients,
    weights,
)

pytest_plugins = ["pytester"]
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


# -- failures a tester can act on --------------------------------------------------------------
def _torch_conv(dims: int, cast=None):
    fn = getattr(torch.nn.functional, f"conv{dims}d")

    def conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        t = (
            (lambda a: torch.from_numpy(a))
            if cast is None
            else (lambda a: torch.from_numpy(a).to(cast))
        )
        y = fn(t(x), t(w), None if b is None else t(b), stride, padding, dilation, groups)
        return y.double().numpy()

    return conv


def _failure(conv, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check_identities(conv, **kwargs)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    return str(info.value)


def test_a_float32_conv_gets_digits_and_a_hint() -> None:
    text = _failure(_torch_conv(2, torch.float32), max_examples=40, seed=1)
    assert text.count("check_identities: the conv2d under test breaks") == 1
    assert "@settings" not in text and "Failing test case" not in text
    worst = next(line for line in text.splitlines() if "worst entry:" in line)
    expected, got = (float(v.split(",")[0]) for v in worst.split("expected ")[1].split("got "))
    assert expected != got and abs(expected - got) <= 1e-6 * abs(expected)  # digits enough
    assert "absolute" in text and "relative" in text
    assert "seems to compute in float32" in text and 'dtype="float32"' in text
    assert "minimal spec: symconv.Conv(dims=2" in text
    assert "arrays:       x = " in text  # the minimal example is small: its arrays are shown
    # the advice works: float32 arrays and tolerances pass
    check_identities(_torch_conv(2, torch.float32), dtype="float32", max_examples=20)
    check_identities(_torch_conv(2, torch.float32), rtol=1e-5, max_examples=20)


def test_the_reported_call_reproduces_the_failure() -> None:
    conv = _torch_conv(1, torch.float32)
    text = _failure(conv, dims=1, max_examples=30)
    call = text.splitlines()[-1].split("reproduce:")[1].strip()
    assert call.startswith("check_identities(conv, dims=1, max_examples=30, seed=")
    with pytest.raises(AssertionError) as again:
        eval(call, {"check_identities": check_identities, "conv": conv})  # the printed call
    assert str(again.value) == text
    fixed = _failure(conv, dims=1, max_examples=30, derandomize=True)
    assert fixed.splitlines()[-1].endswith("derandomize=True)")
    assert _failure(conv, dims=1, max_examples=30, derandomize=True) == fixed


def _blocked_conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """A conv that computes its output in blocks of 12 columns and reads the second block's
    input one column too far (a blocking bug): wrong only on outputs wider than 12."""
    t = torch.from_numpy
    y = torch.nn.functional.conv1d(
        t(x), t(w), None if b is None else t(b), stride, padding, dilation, groups
    ).numpy()
    if y.shape[-1] > 12:
        xs = torch.nn.functional.pad(t(x), (0, stride))[..., stride:]  # shifted input
        late = torch.nn.functional.conv1d(
            xs, t(w), None if b is None else t(b), stride, padding, dilation, groups
        ).numpy()
        y = np.concatenate([y[..., :12], late[..., 12 : y.shape[-1]]], axis=-1)
    return y


def test_the_defaults_reach_outputs_wider_than_12() -> None:
    check_identities(_blocked_conv1d, dims=1, max_examples=200, max_size=8)  # old default
    text = _failure(_blocked_conv1d, dims=1, max_examples=100, seed=0)
    assert "agreement with the Toeplitz matrix" in text or "translation equivariance" in text


@pytest.mark.parametrize(
    ("result", "words"),
    [
        (lambda y: y.astype(np.complex128) + 1e-3j, "complex values (complex128"),
        (lambda y: y + 0j, "complex values"),  # imaginary part zero: still not a real output
        (lambda y: y.astype(str), "dtype <U"),
        (lambda y: None, "it returned None"),
        (lambda y: y.astype(object), "dtype object"),
        (lambda y: [[1.0], [2.0, 3.0]], "it returned list"),
        (lambda y: y[..., :-1] if y.shape[-1] > 1 else y[..., :0], "output shape"),
    ],
    ids=["complex", "complex-real", "strings", "None", "object", "ragged", "shape"],
)
def test_non_numeric_outputs_fail_with_the_report(result, words) -> None:
    conv = _torch_conv(1)
    text = _failure(lambda *a, **k: result(conv(*a, **k)), dims=1, max_examples=20)
    assert words in text and "minimal spec: symconv.Conv(dims=1" in text and "reproduce:" in text


def test_a_slow_conv_meets_the_deadline() -> None:
    import time

    conv, calls = _torch_conv(1), []

    def slow(*args, **kwargs):
        calls.append(1)
        time.sleep(0.05)
        return conv(*args, **kwargs)

    text = _failure(slow, dims=1, deadline=0.01, max_examples=50)
    assert "breaks 'per-call deadline of conv'" in text and "deadline=None" in text
    assert len(calls) == 1  # stopped at the first slow call, no shrinking
    check_identities(slow, dims=1, max_examples=3, deadline=None)
    with pytest.raises(sc.SpecError, match="deadline"):
        check_identities(conv, deadline=-1)
    with pytest.raises(sc.SpecError, match="rtol"):
        check_identities(conv, rtol=2.0)
    with pytest.raises(sc.SpecError, match="no effect"):
        check_identities(conv, seed=1, derandomize=True)
    with pytest.raises(sc.SpecError, match="seed"):
        check_pool_identities(conv, "max", seed="1")


PROFILE_USER = """
import numpy as np
from hypothesis import given, settings, strategies as st

def test_profile():
    assert settings.get_current_profile_name() == "{name}"
    assert settings.default.max_examples in {examples}

@settings(max_examples=5)  # a test of its own may still say how many
@given(st.integers())
def test_property(i):
    pass

def test_pool_fixture(pool_identities):
    def max_pool1d(x, kernel_size, stride, padding, dilation, ceil_mode):
        return x[..., : x.shape[-1] // kernel_size * kernel_size]  # not a pool at all
    try:
        pool_identities(max_pool1d, "max", dims=1, max_examples=50, deadline=None)
    except AssertionError as err:
        assert "breaks 'output shape'" in str(err)
    else:
        raise AssertionError("the broken pool passed")
"""


# Hypothesis' built-in `ci` (100 examples) is kept where it exists
@pytest.mark.parametrize(("name", "examples"), [("thorough", (10_000,)), ("ci", (60, 100))])
def test_the_plugin_registers_the_profiles_in_any_project(pytester, name, examples) -> None:
    """A user's project (a temporary directory: not this repository's conftest) selects
    symconv's profiles by name."""
    pytester.makepyfile(PROFILE_USER.format(name=name, examples=examples))
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--hypothesis-profile={name}")
    run.assert_outcomes(passed=3)


def test_a_projects_own_profile_of_that_name_is_kept(pytester) -> None:
    pytester.makeconftest(
        "from hypothesis import settings\nsettings.register_profile('ci', max_examples=7)\n"
    )
    pytester.makepyfile(PROFILE_USER.format(name="ci", examples=(7,)))
    run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--hypothesis-profile=ci")
    run.assert_outcomes(passed=3)


def test_the_plugin_imports_nothing_heavy() -> None:
    """Loading the plugin (every pytest run) adds no heavy module to what `import symconv`
    itself loads."""
    code = (
        "import sys\n"
        "heavy = lambda: {m for m in ('sympy', 'scipy', 'torch', 'hypothesis') if m in sys.modules}\n"
        "import symconv\n"
        "before = heavy()\n"
        "import symconv.testing.plugin\n"
        "print(sorted(heavy() - before))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


# -- check_pool_identities ---------------------------------------------------------------------
F = torch.nn.functional


def _numpy_pool(fn):
    """A torch.nn.functional pool on NumPy arrays."""

    def pool(x, *args, **kwargs):
        return fn(torch.from_numpy(x), *args, **kwargs).numpy()

    return pool


def _autograd_backward(fn):
    """dL/dx of a torch pool by torch's autograd: backward(grad_output, input, **forward's)."""

    def backward(grad_output, x, **kwargs):
        t = torch.from_numpy(x).requires_grad_()
        fn(t, **kwargs).backward(torch.from_numpy(grad_output))
        return np.zeros_like(x) if t.grad is None else t.grad.numpy()

    return backward


@pytest.mark.parametrize("kind", ["max", "avg", "lp"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_torchs_pools_pass(kind, dims) -> None:
    fn = getattr(F, f"{kind}_pool{dims}d")
    check_pool_identities(
        _numpy_pool(fn), kind, dims, max_examples=15 if dims == 3 else 30,
        backward=_autograd_backward(fn),
    )  # fmt: skip


def _zero_padded_max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Pads with zeros, then pools: a window of negative entries reaching into the padding
    returns 0 instead of its maximum."""
    p = (
        (padding, padding) * 2
        if isinstance(padding, int)
        else (padding[1],) * 2 + (padding[0],) * 2
    )
    t = F.pad(torch.from_numpy(x), p)
    return F.max_pool2d(t, kernel_size, stride, 0, dilation, ceil_mode=ceil_mode).numpy()


def _whole_window_avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                             divisor_override):  # fmt: skip
    """Divides every window by the whole kernel (or the override), also the windows ceil_mode
    clips at the input's end."""
    s = F.avg_pool2d(torch.from_numpy(x), kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override=1).numpy()  # fmt: skip
    k = kernel_size if isinstance(kernel_size, int) else math.prod(kernel_size)
    k = k * k if isinstance(kernel_size, int) else k
    return s / (divisor_override or k)


def _mean_power_lp_pool1d(x, norm_type, kernel_size, stride, ceil_mode):
    """(mean of x^p)^(1/p): forgets torch's factor, the window size."""
    t = torch.from_numpy(x) ** norm_type
    return (F.avg_pool1d(t, kernel_size, stride, 0, ceil_mode) ** (1 / norm_type)).numpy()


def _every_maximum_backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Sends each window's gradient to every entry equal to its maximum (ties counted twice)."""
    t = F.pad(torch.from_numpy(x), (padding, padding) * 2, value=-math.inf)
    n, c, h, w = t.shape
    cols = F.unfold(t.reshape(n * c, 1, h, w), kernel_size, dilation, 0, stride)
    mask = (cols == cols.max(dim=1, keepdim=True).values).double()
    g = mask * torch.from_numpy(grad_output).reshape(n * c, 1, -1)
    grad = F.fold(g, (h, w), kernel_size, dilation, 0, stride).reshape(n, c, h, w)
    return grad[..., padding : h - padding, padding : w - padding].numpy()


def _unscaled_avg_backward(grad_output, x, **kwargs):
    """Forgets the divisor: every entry of a window gets the window's whole gradient."""
    kwargs["divisor_override"] = 1
    return _autograd_backward(F.avg_pool2d)(grad_output, x, **kwargs)


@pytest.mark.parametrize(
    ("pool", "kind", "dims", "options", "identity"),
    [
        (_zero_padded_max_pool2d, "max", 2, {"ceil_mode": False}, "padding"),
        (_whole_window_avg_pool2d, "avg", 2, {"padding": 0, "ceil_mode": True}, "ceil_mode"),
        (_numpy_pool(F.avg_pool2d), "avg", 2, {"backward": _unscaled_avg_backward},
         "gradient routing"),
        (_numpy_pool(F.max_pool2d), "max", 2, {"backward": _every_maximum_backward,
         "ceil_mode": False, "dilation": 1, "square": True, "batch": (1, 2)}, "tie rule"),
        (_mean_power_lp_pool1d, "lp", 1, {}, "window contents"),
    ],
    ids=["max-zero-padding", "avg-ceil-divisor", "avg-backward-divisor", "max-all-ties", "lp-mean"],
)  # fmt: skip
def test_broken_pools_fail_with_the_identity_named(pool, kind, dims, options, identity) -> None:
    with pytest.raises(AssertionError) as info:
        check_pool_identities(pool, kind, dims, max_examples=100, **options)
    text = str(info.value)
    assert f"breaks '{identity}'" in text, text
    assert f"minimal spec: symconv.Pool(dims={dims}, kind={kind!r}" in text
    assert f"reproduce:    check_pool_identities({pool.__name__}, {kind!r}, dims={dims}" in text


def test_check_pool_identities_rejects_bad_options() -> None:
    pool = _numpy_pool(F.max_pool2d)
    with pytest.raises(sc.SpecError, match="kind"):
        check_pool_identities(pool, "min")
    with pytest.raises(sc.SpecError, match="unknown restriction"):
        check_pool_identities(pool, "max", groups=2)
    with pytest.raises(sc.SpecError, match="dims"):
        check_pool_identities(pool, "max", dims=0)


# -- docs/testing.md: its examples are rerun, its reports compared -----------------------------
DOCS = ROOT / "docs" / "testing.md"


def _doc_block(name: str) -> str:
    match = re.search(rf"<!-- {re.escape(name)} -->\n```\w*\n(.*?)```", DOCS.read_text(), re.S)
    assert match, f"docs/testing.md has no block named {name!r}"
    return match.group(1)


def _module(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<docs/testing.md>", "exec"), namespace)
    return namespace


def test_the_docs_conv_example_passes_and_its_bug_gives_the_documented_report() -> None:
    good = _doc_block("mylib.py")
    check_identities(_module(good)["conv2d"], dims=2, padding_styles=("int", "tuple"))
    bad = good.replace("win[:, g * cin : g * cin + cin]", "win[:, :cin]")
    assert bad != good
    with pytest.raises(AssertionError) as info:
        check_identities(
            _module(bad)["conv2d"],
            dims=2,
            padding_styles=("int", "tuple"),
            derandomize=True,
            max_examples=100,
        )
    assert str(info.value) == _doc_block("report: conv").rstrip("\n")


def test_the_docs_pool_example_gives_the_documented_report() -> None:
    pool = _module(_doc_block("pool_bug.py"))["max_pool2d"]
    with pytest.raises(AssertionError) as info:
        check_pool_identities(
            pool, "max", dims=2, ceil_mode=False, square=True, derandomize=True, max_examples=100
        )
    assert str(info.value) == _doc_block("report: pool").rstrip("\n")
    check_pool_identities(pool, "max", dims=2, ceil_mode=False, square=True, padding=0)


def test_a_pool_without_a_feature_gets_the_narrowing_hint() -> None:
    def no_ceil(x, kernel_size, stride, padding, dilation, ceil_mode):
        if ceil_mode:
            raise NotImplementedError("ceil_mode")
        return F.max_pool1d(torch.from_numpy(x), kernel_size, stride, padding, dilation).numpy()

    with pytest.raises(AssertionError) as info:
        check_pool_identities(no_ceil, "max", dims=1, max_examples=50)
    text = str(info.value)
    assert "breaks 'calling pool'" in text and "NotImplementedError: ceil_mode" in text
    assert "check_pool_identities(pool, ..., ceil_mode=False" in text
    check_pool_identities(no_ceil, "max", dims=1, max_examples=20, ceil_mode=False)


def test_the_docs_float32_example_gives_the_documented_report() -> None:
    namespace = _module(_doc_block("mylib.py"))
    exec(compile(_doc_block("conv2d_f32"), "<docs/testing.md>", "exec"), namespace)
    conv2d_f32 = namespace["conv2d_f32"]
    with pytest.raises(AssertionError) as info:
        check_identities(
            conv2d_f32,
            dims=2,
            padding_styles=("int", "tuple"),
            derandomize=True,
            max_examples=100,
        )
    assert str(info.value) == _doc_block("report: float32").rstrip("\n")
    check_identities(conv2d_f32, dims=2, padding_styles=("int", "tuple"), dtype="float32")


def test_large_examples_give_shapes_and_the_worst_entry_not_arrays() -> None:
    from symconv.testing.identities import IdentityFailure, _Checker, _Example

    spec = sc.Conv(dims=2, kernel_size=3, padding=1, bias=False)
    rng = np.random.default_rng(0)
    x, x2 = rng.standard_normal((2, 1, 1, 6, 6))
    w, w2 = rng.standard_normal((2, 1, 1, 3, 3))
    ex = _Example(spec, (6, 6), x, w, None, rng.standard_normal((1, 1, 6, 6)), x2, w2, (1, 1))
    conv = _torch_conv(2)

    def corner_bug(*args, **kwargs):  # one wrong output: linear, but not the convolution
        y = conv(*args, **kwargs)
        y[..., 0, 0] += args[0][..., 5, 5]
        return y

    with pytest.raises(IdentityFailure) as info:
        _Checker(ex, {"conv": corner_bug}, 2, np.float64).run()
    text = str(info.value)
    assert "shapes:       x (1, 1, 6, 6), weight (1, 1, 3, 3)" in text
    assert "worst entry:  output[0, 0, 0, 0]" in text and "arrays:" not in text
