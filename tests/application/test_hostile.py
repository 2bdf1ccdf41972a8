"""Hostile input and heavy requests (issue 21): refused early and in one line, never a hang, a
traceback or a result that differs from torch on inf and NaN; process state left as found."""

from __future__ import annotations

import contextlib
import errno
import io
import threading
from typing import Any

import numpy as np
import pytest
from helpers import peak_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numeric as nm
import symconv as sc
from numeric import algorithms
from symconv.cli import main
from symconv.derive import DERIVATIONS, derive
from symconv.fourier import fourier_derivation
from symconv.groupconv import p4_derivation
from symconv.limits import get_limits, limits, set_limits
from symconv.transpose import ConvTranspose

KB = 1024


def run_cli(*argv: str) -> tuple[int, str, str]:
    """`main(argv)` in-process, stdout and stderr captured; argparse's exits become codes."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


# -- cost-first refusals ------------------------------------------------------------------------
HEAVY = {
    "toeplitz 1e9": lambda: sc.toeplitz(sc.Conv(dims=1, kernel_size=3), 10**9),
    "padding_matrix 1e5^2": lambda: sc.padding_matrix(
        sc.Conv(dims=2, kernel_size=3, padding=1), (10**5,) * 2
    ),
    "backprop 10000^2": lambda: sc.backprop(sc.Conv(dims=2, kernel_size=3), 10000),
    "backprop 2000^2": lambda: sc.backprop(sc.Conv(dims=2, kernel_size=3), 2000),
    "pool equivariance 512^2": lambda: sc.equivariance(sc.Pool(kind="max", kernel_size=2), 512),
    "local_backprop 128^2": lambda: sc.local_backprop(sc.Conv(dims=2, kernel_size=3), (128, 128)),
    "derive toeplitz 1e9^2": lambda: derive("toeplitz", sc.Conv(dims=2, kernel_size=3), 10**9),
    "derive transpose": lambda: derive(
        "transpose", sc.Conv(dims=2, kernel_size=3, stride=2), (300, 300)
    ),
    "derive p4 200^2": lambda: derive("p4", sc.Conv(dims=2, kernel_size=3, padding=1), 200),
    "p4_derivation 2000^2": lambda: p4_derivation(sc.Conv(dims=2, kernel_size=1), 2000),
    "p4_derivation 90^2 k63": lambda: p4_derivation(
        sc.Conv(dims=2, kernel_size=63, padding=31), 90
    ),
    "fourier_derivation 100^2": lambda: fourier_derivation(
        sc.Conv(dims=2, kernel_size=3, padding="same", padding_mode="circular"), 100
    ),
}


@pytest.mark.parametrize("name", list(HEAVY))
def test_oversize_symbolic_request_is_refused_before_any_allocation(name: str) -> None:
    peak, raised = peak_bytes(HEAVY[name])
    assert isinstance(raised, sc.SpecError), (name, raised)
    msg = str(raised)
    assert "limit" in msg and "\n" not in msg, msg
    assert peak < 512 * KB, (name, peak)  # integer arithmetic only, no table of the output


@pytest.mark.parametrize(
    "spec",
    [
        sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=7, padding=3),
        sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=7, padding="full", dilation=2),
        sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=3, stride=2, groups=4),
        sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=5, padding_mode="reflect"),
        ConvTranspose(dims=2, in_channels=16, out_channels=16, kernel_size=7, stride=2),
        sc.Pool(kind="max", kernel_size=3, stride=2, padding=1),
    ],
    ids=str,
)
def test_limits_admit_every_64x64_16_channel_layer(spec: Any) -> None:
    from symconv.limits import check_symbolic

    check_symbolic("test", spec, (64, 64))  # no refusal in the range derivations must run


C16 = dict(dims=2, in_channels=16, out_channels=16, kernel_size=3, padding=1)
ADMITTED_64 = {  # derivations that once kept caps of their own (issue 21): now only the limits
    "local-backprop 16->16": ("local-backprop", sc.Conv(**C16), {}),
    "local-backprop reflect s2 g4": (
        "local-backprop",
        sc.Conv(**{**C16, "kernel_size": 5, "stride": 2, "groups": 4, "padding_mode": "reflect"}),
        {},
    ),
    "fourier circular same": (
        "fourier",
        sc.Conv(dims=2, kernel_size=3, padding="same", padding_mode="circular"),
        {},
    ),
    "fourier 7x7 dilated": (
        "fourier",
        sc.Conv(dims=2, kernel_size=7, padding="same", padding_mode="circular", dilation=2),
        {},
    ),
    "p4": ("p4", sc.Conv(dims=2, kernel_size=3, padding=1), {}),
    "p4 7x7 reflect": ("p4", sc.Conv(dims=2, kernel_size=7, padding=3, padding_mode="reflect"), {}),
}


@pytest.mark.parametrize("name", list(ADMITTED_64))
def test_64x64_derivations_are_admitted_and_verified(name: str) -> None:
    op, spec, options = ADMITTED_64[name]
    cert = derive(op, spec, (64, 64), **options).verify()
    assert cert.passed and cert.level == "exact", cert.text()


def test_toeplitz_admits_a_64x64_16_channel_layer() -> None:
    """toeplitz's default max_nonzeros is the nonzeros limit (9.2 M nonzeros pass its guard,
    as `derive equivariance --transform rot90` needs); a lowered limit lowers it too."""
    import math

    from symconv.indexform import index_form
    from symconv.toeplitz import DEFAULT_MAX_NONZEROS, _guard

    form = index_form(sc.Conv(**C16), (64, 64))
    shape = (math.prod(form.out_shape()), math.prod(form.in_shape()))
    assert form.nonzeros() == 9241600
    _guard(form, "toeplitz", form.nonzeros(), shape, DEFAULT_MAX_NONZEROS)  # no refusal
    with limits(nonzeros=9_000_000):
        with pytest.raises(sc.SpecError, match="9241600 nonzeros > max_nonzeros 9000000"):
            _guard(form, "toeplitz", form.nonzeros(), shape, DEFAULT_MAX_NONZEROS)


def test_limits_are_configurable_and_restored() -> None:
    before = get_limits()
    spec = sc.Conv(dims=2, kernel_size=3)
    with limits(positions=10):
        with pytest.raises(sc.SpecError, match=r"positions per channel 16 exceeds the limit 10"):
            derive("toeplitz", spec, (4, 4))
        with pytest.raises(sc.SpecError, match=r"SYMCONV_MAX_POSITIONS"):
            sc.toeplitz(spec, (4, 4))
    assert get_limits() == before
    assert sc.toeplitz(spec, (4, 4)).shape == (4, 16)  # the default limits admit it again
    with pytest.raises(sc.SpecError, match="unknown limit"):
        set_limits(bogus=1)
    with pytest.raises(sc.SpecError, match="integer >= 1"):
        set_limits(positions=0)


def test_numeric_oversize_is_refused_before_allocating_and_never_searches() -> None:
    x = np.ones((1, 1, 4, 4), np.float32)
    w = np.ones((1, 1, 3, 3), np.float32)
    nm.conv2d(x, w, padding=1)  # imports and caches warm: only the refused call is measured
    for kw in (dict(padding=10**10), dict(padding=10**30), dict(padding=10**5, stride=10**6)):
        peak, raised = peak_bytes(lambda kw=kw: nm.conv2d(x, w, **kw))
        assert isinstance(raised, sc.SpecError) and "numeric_bytes" in str(raised), raised
        assert peak < 512 * KB
    peak, raised = peak_bytes(lambda: nm.conv2d_grad_input((10**6, 1, 10**4, 10**4), w, x))
    assert isinstance(raised, sc.SpecError) and "exceeds the limit" in str(raised), raised
    assert peak < 512 * KB


def test_next_fast_len_is_closed_form() -> None:
    from numeric._generated.numpy_fft import next_fast_len

    def slow(n: int) -> int:
        while True:
            r = n
            for p in (2, 3, 5):
                while r % p == 0:
                    r //= p
            if r == 1:
                return n
            n += 1

    assert [next_fast_len(n) for n in range(1, 2000)] == [slow(n) for n in range(1, 2000)]
    assert next_fast_len(2 * 10**10 + 7) == 20132659200  # a search would take minutes
    assert next_fast_len(10**40) == 10**40


# -- API values -------------------------------------------------------------------------------
X4 = np.ones((1, 1, 4, 4), np.float32)
W3 = np.ones((1, 1, 3, 3), np.float32)
BAD_API = {
    "stride 1e30": lambda: nm.conv2d(X4, W3, stride=10**30),
    "pool stride 1e400": lambda: nm.max_pool2d(X4, 2, stride=10**400),
    "norm_type 1e400": lambda: nm.lp_pool2d(X4, 10**400, 2),
    "divisor_override 1e400": lambda: nm.avg_pool2d(X4, 2, divisor_override=10**400),
    "kernel_size bytes": lambda: nm.max_pool2d(X4, b"3"),
    "stride bytes": lambda: nm.conv2d(X4, W3, stride=b"\x01"),
    "Conv padding bytearray": lambda: sc.Conv(dims=1, kernel_size=3, padding=bytearray(b"\x01")),
    "masked weight": lambda: nm.conv2d(X4, np.ma.masked_array(W3, mask=W3 > 0)),
    "masked input": lambda: nm.max_pool2d(np.ma.masked_array(X4), 2),
    "separable NaN weight": lambda: nm.conv2d(X4, np.full_like(W3, np.nan), algorithm="separable"),
}


@pytest.mark.parametrize("name", list(BAD_API))
def test_bad_api_values_are_spec_errors(name: str) -> None:
    with pytest.raises(sc.SpecError) as err:
        BAD_API[name]()
    assert "\n" not in str(err.value)


# -- the command line -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["shape", "-i", "9" * 5000],
        ["shape", "-i", "5", "-p", "1:" + "9" * 5000],
        ["shape", "-i", "5", "--dims", "9" * 5000],
        ["shape", "-i", "9", "--pool", "lp", "-k", "2", "--norm-type", "9" * 400],
        ["shape", "-i", "9", "--pool", "lp", "-k", "2", "--norm-type", "1e400"],
        ["arch", "vgg\n\x1b[31m16"],
        ["derive", "x\ny"],
        ["shape", "-i", "5\n6"],
        ["derive", "toeplitz", "-i", "1000000000"],
        ["derive", "backprop", "-i", "10000"],
        ["derive", "local-backprop", "-i", "128x128"],
    ],
)
def test_cli_refuses_in_one_quoted_line(argv: list[str]) -> None:
    code, out, err = run_cli(*argv)
    assert code == 2 and out == "", (code, out, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "\x1b" not in err and len(err) < 1000, err


def test_cli_stdout_full_or_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    class Full(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    err = io.StringIO()
    monkeypatch.setattr("sys.stdout", Full())
    monkeypatch.setattr("sys.stderr", err)
    assert main(["shape", "-i", "5"]) == 2
    assert err.getvalue().count("\n") == 1 and "No space left" in err.getvalue()
    monkeypatch.setattr("sys.stdout", None)  # started with stdout closed
    assert main(["shape", "-i", "5"]) == 1


def test_winograd_float32_failure_says_only_float32_fails() -> None:
    code, out, _ = run_cli("derive", "winograd", "-i", "10")  # F(8, 3)
    header = [line for line in out.splitlines() if line.startswith("Winograd minimal")][-1]
    assert code == 1
    assert "FAILED: 1 numeric check(s)" in header and "every exact check passed" in header
    assert "max discrepancy" in header
    assert "only float32 accuracy fails" in out and "F(2, 3)" in out and "F(8, 3)," not in out


# -- non-finite data against torch ----------------------------------------------------------------
# layers on which "auto" picks, on finite data, each algorithm it can pick (asserted below)
AUTO_LAYERS = {
    "fft": (2, 16, 16, 15, 7, 32),
    "winograd": (2, 8, 8, 3, 1, 16),
    "shifted": (2, 16, 16, 7, 3, 32),
    "direct": (2, 4, 4, 5, 2, 12),
}


def _nonfinite(shape: tuple[int, ...], seed: int) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal(shape)
    flat = a.reshape(-1)
    flat[len(flat) // 3] = np.nan
    flat[2 * len(flat) // 3] = np.inf
    flat[len(flat) // 2] = -np.inf
    return a


def _same_ieee(ours: np.ndarray, ref: np.ndarray) -> None:
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_array_equal(np.isposinf(ours), np.isposinf(ref))
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(ours[fin], ref[fin], rtol=1e-9, atol=1e-9)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("picked", list(AUTO_LAYERS))
def test_nonfinite_auto_matches_torch(picked: str) -> None:
    """inf and NaN in the data (x for y and dL/dw, delta for dL/dx): "auto" spoils exactly the
    outputs torch's do, on layers where it would pick each of its algorithms for finite data.
    (A non-finite *weight* meets the zero padding: tests/kernels/test_nonfinite.py, numeric._taps.)"""
    torch = pytest.importorskip("torch")
    n, ci, co, k, p, size = AUTO_LAYERS[picked]
    spec = sc.Conv(dims=2, in_channels=ci, out_channels=co, kernel_size=k, padding=p)
    ops = ("forward", "grad_input", "grad_weight")
    assert {algorithms.explain(spec, (size, size), batch=n, op=op)["algorithm"] for op in ops} == {
        picked
    }
    rng = np.random.default_rng(1)
    x = _nonfinite((n, ci, size, size), 2)
    w = rng.standard_normal((co, ci, k, k))
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)
    ref = torch.nn.functional.conv2d(tx, tw, padding=p).numpy()
    _same_ieee(nm.conv2d(x, w, padding=p), ref)
    delta = rng.standard_normal(ref.shape)
    gw = torch.nn.grad.conv2d_weight(tx, tw.shape, torch.from_numpy(delta), padding=p).numpy()
    _same_ieee(nm.conv2d_grad_weight(x, w.shape, delta, padding=p), gw)
    delta = _nonfinite(ref.shape, 4)
    gi = torch.nn.grad.conv2d_input(tx.shape, tw, torch.from_numpy(delta), padding=p).numpy()
    _same_ieee(nm.conv2d_grad_input(x.shape, w, delta, padding=p), gi)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("algorithm", algorithms.NON_SPREADING["forward"])
def test_non_spreading_algorithms_match_torch_on_nonfinite_input(algorithm: str) -> None:
    torch = pytest.importorskip("torch")
    x = _nonfinite((2, 3, 11, 11), 5)
    w = np.random.default_rng(6).standard_normal((4, 3, 3, 3))
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1)
    _same_ieee(nm.conv2d(x, w, padding=1, algorithm=algorithm), ref.numpy())


def test_auto_is_bitwise_reproducible_for_a_thread_count() -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 8, 16, 16)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    first = nm.conv2d(x, w, padding=1)
    dw = nm.conv2d_grad_weight(x, w.shape, first, padding=1)
    for _ in range(3):
        assert np.array_equal(nm.conv2d(x, w, padding=1), first)
        assert np.array_equal(nm.conv2d_grad_weight(x, w.shape, first, padding=1), dw)


# -- process state ------------------------------------------------------------------------------
def test_blas_threads_restored_after_concurrent_calls() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas() -> list[int]:
        info = threadpoolctl.threadpool_info()
        return [i["num_threads"] for i in info if i["user_api"] == "blas"]

    if not blas():
        pytest.skip("no BLAS library visible to threadpoolctl")
    rng = np.random.default_rng(8)
    x = rng.standard_normal((8, 16, 24, 24)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3, 3)).astype(np.float32)
    old = nm.set_num_threads(2)
    try:
        with threadpoolctl.threadpool_limits(3, user_api="blas"):
            before = blas()
            errors: list[BaseException] = []

            def work() -> None:
                try:
                    for _ in range(4):
                        nm.conv2d(x, w, padding=1, algorithm="direct")
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors
            assert blas() == before == [3] * len(before)
    finally:
        nm.set_num_threads(old)


def test_blas_limit_restored_when_blocks_overlap() -> None:
    """A enters, B enters, A leaves, B leaves (the interleaving that left 1 behind when each
    caller restored what it had seen on entry): the count is the original after both."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from numeric._parallel import _one_blas_thread

    def blas() -> list[int]:
        info = threadpoolctl.threadpool_info()
        return [i["num_threads"] for i in info if i["user_api"] == "blas"]

    if not blas():
        pytest.skip("no BLAS library visible to threadpoolctl")
    with threadpoolctl.threadpool_limits(3, user_api="blas"):
        a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
        seen: list[list[int]] = []

        def a() -> None:
            with _one_blas_thread():
                a_in.set()
                b_in.wait(5)
            a_out.set()

        def b() -> None:
            a_in.wait(5)
            with _one_blas_thread():
                b_in.set()
                a_out.wait(5)
                seen.append(blas())

        threads = [threading.Thread(target=a), threading.Thread(target=b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert seen == [[1] * len(seen[0])]  # still held to one while B runs
        assert blas() == [3] * len(blas())


@pytest.mark.parametrize("op", ["forward", "grad_input", "grad_weight"])
@pytest.mark.parametrize("threads", [1, 2])
def test_fft_keeps_to_the_workspace_limit(op: str, threads: int) -> None:
    rng = np.random.default_rng(9)
    x = rng.standard_normal((8, 16, 48, 48)).astype(np.float32)
    w = rng.standard_normal((16, 16, 11, 11)).astype(np.float32)
    y = nm.conv2d(x, w, padding=5, algorithm="direct")
    limit = 32 * 2**20
    calls = {
        "forward": lambda: nm.conv2d(x, w, padding=5, algorithm="fft"),
        "grad_input": lambda: nm.conv2d_grad_input(x.shape, w, y, padding=5, algorithm="fft"),
        "grad_weight": lambda: nm.conv2d_grad_weight(x, w.shape, y, padding=5, algorithm="fft"),
    }
    old = nm.set_num_threads(threads)
    try:
        with nm.workspace_limit(limit):
            result: list[Any] = []
            peak, raised = peak_bytes(lambda: result.append(calls[op]()))
    finally:
        nm.set_num_threads(old)
    assert raised is None, raised
    assert peak - result[0].nbytes <= limit, (peak, limit)
    spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=11, padding=5)
    assert algorithms.explain(spec, (48, 48), batch=8, op=op)["algorithm"] == "fft"
    with nm.workspace_limit(2**20):  # too small for one sample and the kernel's spectrum
        assert algorithms.over_workspace(spec, (48, 48), "fft", 4, op) is not None
        assert algorithms.explain(spec, (48, 48), batch=8, op=op)["algorithm"] != "fft"


# -- fuzzing ----------------------------------------------------------------------------------
_TOKENS = st.sampled_from(
    [
        "-i", "-k", "-s", "-p", "-d", "--dims", "--in-channels", "--out-channels", "--groups",
        "--pool", "--norm-type", "--padding-mode", "--json", "--flip", "--no-bias",
        "--ceil-mode", "--exclude-pad", "-f", "--only", "--list", "--markdown",
        "0", "1", "2", "3", "-1", "5x5", "7,7", "1:2,0:1", "same", "full", "max", "avg", "lp",
        "reflect", "circular", "1e400", "nan", "9" * 60, "x\ny", "\x1b[0m", "", " ", "3x",
        "4x4x4x4", "text", "latex", "vgg16", "lenet5",
    ]
)  # fmt: skip
_CHEAP_DERIVE = [op for op in DERIVATIONS if op not in ("algorithm-costs", "winograd")]


def _argv() -> st.SearchStrategy[list[str]]:
    head = st.one_of(
        st.just(["shape"]),
        st.just(["params"]),
        st.just(["arch"]),
        st.builds(lambda op: ["derive", op], st.sampled_from(_CHEAP_DERIVE)),
        st.just(["verify", "--list"]),
        st.just(["generate", "--check", "--spec"]),
        st.just([]),
    )
    return st.builds(lambda h, t: h + t, head, st.lists(_TOKENS, max_size=6))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(argv=_argv())
def test_fuzz_cli_never_prints_a_traceback(argv: list[str]) -> None:
    with limits(positions=256, nonzeros=20_000):  # keep each example small and fast
        code, out, err = run_cli(*argv)
    assert "Traceback" not in err and "Traceback" not in out
    if code == 2:
        assert err.count("\n") == 1 and "error:" in err, err
    else:
        assert code in (0, 1), (code, err)


_VALUES = st.one_of(
    st.integers(-3, 6),
    st.integers(10**9, 10**40),
    st.sampled_from([b"3", bytearray(b"\x02"), 2.5, float("nan"), float("inf"), "3", None, True]),
    st.lists(st.integers(-1, 5), max_size=4).map(tuple),
    st.sampled_from(["same", "valid", "full", "bogus"]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    fn=st.sampled_from(
        ["conv1d", "conv2d", "max_pool2d", "avg_pool2d", "lp_pool2d", "conv_transpose2d"]
    ),
    kwargs=st.dictionaries(
        st.sampled_from(["stride", "padding", "dilation", "groups", "kernel_size"]),
        _VALUES,
        max_size=3,
    ),
)
def test_fuzz_api_raises_only_spec_errors(fn: str, kwargs: dict[str, Any]) -> None:
    dims = 1 if fn == "conv1d" else 2
    x = np.ones((1, 2, *(6,) * dims))
    w = np.ones((2, 2, *(3,) * dims))
    if fn.startswith("conv"):
        kwargs.pop("kernel_size", None)
        call = lambda: getattr(nm, fn)(x, w, **kwargs)  # noqa: E731
    else:  # unknown keywords stay Python's TypeError (pooling has no groups; avg, lp no dilation)
        kwargs.pop("groups", None)
        if fn != "max_pool2d":
            kwargs.pop("dilation", None)
        if fn == "lp_pool2d":
            kwargs.pop("padding", None)
        kwargs.setdefault("kernel_size", 2)
        extra = {"norm_type": 2.0} if fn == "lp_pool2d" else {}
        call = lambda: getattr(nm, fn)(x, **extra, **kwargs)  # noqa: E731
    try:
        call()
    except sc.SpecError as err:
        assert "\n" not in str(err)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    kind=st.sampled_from(["conv", "max", "avg", "lp", "transpose"]),
    kwargs=st.dictionaries(
        st.sampled_from(
            ["kernel_size", "stride", "padding", "dilation", "groups", "in_channels", "dims"]
        ),
        _VALUES,
        max_size=4,
    ),
    size=_VALUES,
)
def test_fuzz_specs_raise_only_spec_errors(kind: str, kwargs: dict[str, Any], size: Any) -> None:
    """The symbolic API's constructors and size arithmetic: a value is valid or a SpecError."""
    kwargs.setdefault("kernel_size", 3)
    try:
        if kind == "conv":
            spec: Any = sc.Conv(**kwargs)
        elif kind == "transpose":
            spec = ConvTranspose(**kwargs)
        else:
            kwargs.pop("groups", None)
            kwargs.pop("in_channels", None)
            extra = {"norm_type": 2} if kind == "lp" else {}
            spec = sc.Pool(kind=kind, **extra, **kwargs)
        spec.output_size(size)
        with limits(positions=64):
            sc.index_form(spec, size)
    except sc.SpecError as err:
        assert "\n" not in str(err)
