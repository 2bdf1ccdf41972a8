"""numeric.family against torch.nn.functional: pad, unfold/fold, adaptive pooling, max_unpool,
the transposed convolution's gradients; float16/bfloat16 through the conv and pool ops; the
family's derivations (symconv.family) and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import numeric as nm
import symconv as sc
from symconv.family import adaptive_window_derivation, unfold_fold_derivation

TOL = 1e-10
BACKENDS = st.sampled_from(["numpy", "torch"])


def _as(backend: str, a: np.ndarray) -> object:
    return torch.from_numpy(a.copy()) if backend == "torch" else a


def _np(a: object) -> np.ndarray:
    return a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def _close(ours: object, ref: torch.Tensor, tol: float = TOL) -> None:
    o, r = _np(ours), ref.detach().numpy()
    assert o.shape == r.shape, (o.shape, r.shape)
    assert o.dtype == r.dtype, (o.dtype, r.dtype)
    if r.size:
        assert np.max(np.abs(o - r)) <= tol * (1 + np.max(np.abs(r))), np.max(np.abs(o - r))


# -- pad --------------------------------------------------------------------------------------
@st.composite
def pad_cases(draw: st.DrawFn) -> tuple:
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    m = draw(st.integers(1, 3))
    batched = draw(st.booleans())
    lead = (2, 3) if batched else (3,)
    sizes = [draw(st.integers(1, 5)) for _ in range(m)]
    pads: list[int] = []
    for n in reversed(sizes):  # torch's order: the last axis first
        if mode == "reflect":
            lo, hi = draw(st.integers(-(n - 1), n - 1)), draw(st.integers(-(n - 1), n - 1))
        elif mode == "circular":
            lo, hi = draw(st.integers(-(n // 2), n // 2)), draw(st.integers(0, n // 2))
        else:
            lo, hi = draw(st.integers(-2, 3)), draw(st.integers(-2, 3))
        assume(n + lo + hi >= 1)
        assume(n + min(lo, 0) + min(hi, 0) >= 1)  # torch crops first; an empty crop it refuses
        pads += [lo, hi]
    value = draw(st.one_of(st.none(), st.floats(-3, 3))) if mode == "constant" else None
    return (*lead, *sizes), tuple(pads), mode, value


@given(pad_cases(), BACKENDS, st.integers(0, 99))
def test_pad_matches_torch(case: tuple, backend: str, seed: int) -> None:
    shape, pads, mode, value = case
    x = np.random.default_rng(seed).standard_normal(shape)
    kw = {} if value is None else {"value": value}
    ref = F.pad(torch.from_numpy(x), pads, mode=mode, **kw)
    _close(nm.pad(_as(backend, x), pads, mode, value), ref)


def test_pad_autograd_and_any_dtype() -> None:
    x = torch.randn(2, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert torch.autograd.gradcheck(lambda x, m=mode: nm.pad(x, (1, 2, 2, 1), m), (x,))
    i = torch.arange(12).reshape(1, 3, 4)
    assert torch.equal(nm.pad(i, (1, 1), "reflect"), F.pad(i, (1, 1), mode="reflect"))
    h = torch.randn(1, 2, 5, dtype=torch.bfloat16)
    assert torch.equal(nm.pad(h, (2, 1), "replicate"), F.pad(h, (2, 1), mode="replicate"))


# -- unfold / fold ----------------------------------------------------------------------------
@st.composite
def window_cases(draw: st.DrawFn) -> tuple:
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = tuple(draw(st.integers(max(1, d[a] * (k[a] - 1) + 1 - 2 * p[a]), 7)) for a in range(2))
    return size, k, d, p, s


@given(window_cases(), BACKENDS, st.integers(1, 3), st.integers(0, 99))
def test_unfold_fold_match_torch(case: tuple, backend: str, c: int, seed: int) -> None:
    size, k, d, p, s = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, c, *size))
    kw = {"dilation": d, "padding": p, "stride": s}
    ref = F.unfold(torch.from_numpy(x), k, **kw)
    _close(nm.unfold(_as(backend, x), k, **kw), ref)
    y = rng.standard_normal(tuple(ref.shape))
    ref_f = F.fold(torch.from_numpy(y), size, k, **kw)
    _close(nm.fold(_as(backend, y), size, k, **kw), ref_f)
    # unbatched, and the adjoint identity <unfold x, y> = <x, fold y>
    _close(nm.unfold(_as(backend, x[0]), k, **kw), ref[0])
    lhs = float(np.sum(_np(nm.unfold(x, k, **kw)) * y))
    rhs = float(np.sum(x * _np(nm.fold(y, size, k, **kw))))
    assert abs(lhs - rhs) <= 1e-10 * (1 + abs(lhs))


def test_unfold_fold_autograd() -> None:
    x = torch.randn(1, 2, 5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: nm.unfold(x, 2, 2, 1, (2, 1)), (x,))
    y = torch.randn(1, 8, 12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda y: nm.fold(y, (4, 5), 2, 1, 0, 1), (y,))


# -- adaptive pooling ------------------------------------------------------------------------
@st.composite
def adaptive_cases(draw: st.DrawFn) -> tuple:
    dims = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(1, 9 if dims < 3 else 5)) for _ in range(dims))
    out = tuple(draw(st.one_of(st.integers(1, 10), st.none())) for _ in range(dims))
    batched = draw(st.booleans())
    return dims, size, out if dims > 1 else out[0] or 3, batched


@given(adaptive_cases(), BACKENDS, st.integers(0, 99))
def test_adaptive_pools_match_torch(case: tuple, backend: str, seed: int) -> None:
    dims, size, out, batched = case
    shape = ((2, 3) if batched else (3,)) + size
    x = np.random.default_rng(seed).standard_normal(shape)
    xt = torch.from_numpy(x)
    avg = getattr(F, f"adaptive_avg_pool{dims}d")(xt, out)
    _close(getattr(nm, f"adaptive_avg_pool{dims}d")(_as(backend, x), out), avg)
    mx, idx = getattr(F, f"adaptive_max_pool{dims}d")(xt, out, return_indices=True)
    y, i = getattr(nm, f"adaptive_max_pool{dims}d")(_as(backend, x), out, True)
    _close(y, mx)
    assert np.array_equal(_np(i), idx.numpy()) and _np(i).dtype == np.int64


def test_adaptive_ties_and_output_larger_than_input() -> None:
    x = torch.zeros(1, 1, 3, 4, dtype=torch.float64)  # every window a tie: first maximum
    i = nm.adaptive_max_pool2d(x, (2, 7), return_indices=True)[1]
    assert torch.equal(i, F.adaptive_max_pool2d(x, (2, 7), return_indices=True)[1])


def test_adaptive_autograd() -> None:
    x = torch.randn(2, 2, 5, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: nm.adaptive_avg_pool2d(x, (3, 4)), (x,))
    assert torch.autograd.gradcheck(lambda x: nm.adaptive_max_pool2d(x, (3, 4)), (x,))
    x3 = torch.randn(1, 2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    g = torch.randn(1, 2, 2, 3, 2, dtype=torch.float64)
    ours = torch.autograd.grad(nm.adaptive_max_pool3d(x3, (2, 3, 2)), x3, g)[0]
    ref = torch.autograd.grad(F.adaptive_max_pool3d(x3, (2, 3, 2)), x3, g)[0]
    assert torch.allclose(ours, ref, atol=1e-12)


# -- max_unpool ------------------------------------------------------------------------------
@st.composite
def unpool_cases(draw: st.DrawFn) -> tuple:
    dims = draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    s = draw(st.integers(k, 3))  # windows that do not overlap: one maximum per input position
    p = draw(st.integers(0, k // 2))
    size = tuple(draw(st.integers(k, 7 if dims < 3 else 5)) for _ in range(dims))
    return dims, k, s, p, size, draw(st.booleans())


@given(unpool_cases(), BACKENDS, st.integers(0, 99))
def test_max_unpool_matches_torch(case: tuple, backend: str, seed: int) -> None:
    dims, k, s, p, size, give_size = case
    x = torch.from_numpy(np.random.default_rng(seed).standard_normal((2, 2, *size)))
    y, idx = getattr(F, f"max_pool{dims}d")(x, k, s, p, return_indices=True)
    out = size if give_size else None
    default = [(i - 1) * s - 2 * p + k for i in y.shape[2:]]
    if give_size:  # torch accepts it only within one stride of the default size
        assume(all(d - s < o < d + s for d, o in zip(default, size, strict=True)))
    else:  # every index must fall in the default output
        assume(int(idx.max()) < math.prod(default))
    ref = getattr(F, f"max_unpool{dims}d")(y, idx, k, s, p, out)
    yy, ii = (y, idx) if backend == "torch" else (y.numpy(), idx.numpy())
    _close(getattr(nm, f"max_unpool{dims}d")(yy, ii, k, s, p, out), ref)


def test_max_unpool_autograd() -> None:
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    y = y.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda y: nm.max_unpool2d(y, idx, 2), (y,))


# -- the transposed convolution's gradients --------------------------------------------------
@st.composite
def transpose_cases(draw: st.DrawFn) -> tuple:
    dims = draw(st.integers(1, 3))
    g = draw(st.integers(1, 2))
    cin, cout = g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    s = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    d = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    p = tuple(draw(st.integers(0, 2)) for _ in range(dims))
    op = tuple(draw(st.integers(0, max(s[a], d[a]) - 1)) for a in range(dims))
    size = tuple(draw(st.integers(1, 5 if dims < 3 else 3)) for _ in range(dims))
    out = [(size[a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1 for a in range(dims)]
    assume(min(out) >= 1)
    return dims, g, cin, cout, k, s, d, p, op, size


@settings(max_examples=40)
@given(transpose_cases(), BACKENDS, st.integers(0, 99))
def test_conv_transpose_grads_match_torch_autograd(case: tuple, backend: str, seed: int) -> None:
    dims, g, cin, cout, k, s, d, p, op, size = case
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((2, cin, *size))).requires_grad_(True)
    w = torch.from_numpy(rng.standard_normal((cin, cout // g, *k))).requires_grad_(True)
    conf = {"stride": s, "padding": p, "output_padding": op, "groups": g, "dilation": d}
    y = getattr(F, f"conv_transpose{dims}d")(x, w, **conf)
    delta = torch.from_numpy(rng.standard_normal(tuple(y.shape)))
    gx, gw = torch.autograd.grad(y, (x, w), delta)
    dd, ww, xx = (delta, w.detach(), x.detach())
    if backend == "numpy":
        dd, ww, xx = dd.numpy(), ww.numpy(), xx.numpy()
    fi = getattr(nm, f"conv_transpose{dims}d_grad_input")
    fw = getattr(nm, f"conv_transpose{dims}d_grad_weight")
    _close(fi(tuple(x.shape), ww, dd, s, p, op, g, d), gx)
    _close(fw(xx, tuple(w.shape), dd, s, p, op, g, d), gw)


def test_conv_transpose_autograd_runs_the_new_gradients() -> None:
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    fn = lambda x, w: nm.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w))


# -- float16 / bfloat16 ----------------------------------------------------------------------
HALF = [("torch", torch.float16), ("torch", torch.bfloat16), ("numpy", np.float16)]
HALF_TOL = {torch.float16: 2e-3, torch.bfloat16: 2e-2, np.float16: 2e-3}


def _half(backend: str, dtype: object, a: np.ndarray) -> object:
    return torch.from_numpy(a).to(dtype) if backend == "torch" else a.astype(dtype)


def _ref32(a: object) -> torch.Tensor:
    """The half input exactly, in float32 (torch's reference then runs in float32)."""
    return a.float() if isinstance(a, torch.Tensor) else torch.from_numpy(a.astype(np.float32))


def _close_half(ours: object, ref: torch.Tensor, dtype: object) -> None:
    o = ours.float().numpy() if isinstance(ours, torch.Tensor) else ours.astype(np.float32)
    want = ours.dtype if isinstance(ours, torch.Tensor) else np.dtype(np.float16)
    assert ours.dtype == (dtype if isinstance(ours, torch.Tensor) else want)
    r = ref.float().numpy()
    assert o.shape == r.shape
    assert np.max(np.abs(o - r)) <= HALF_TOL[dtype] * (1 + np.max(np.abs(r)))


@pytest.mark.parametrize(("backend", "dtype"), HALF)
def test_half_precision_conv_and_pool(backend: str, dtype: object) -> None:
    rng = np.random.default_rng(0)
    x = _half(backend, dtype, rng.standard_normal((2, 4, 7, 6)))
    w = _half(backend, dtype, rng.standard_normal((6, 2, 3, 3)))
    b = _half(backend, dtype, rng.standard_normal(6))
    X, W, B = _ref32(x), _ref32(w), _ref32(b)
    _close_half(
        nm.conv2d(x, w, b, padding=1, groups=2), F.conv2d(X, W, B, padding=1, groups=2), dtype
    )
    _close_half(nm.max_pool2d(x, 2), F.max_pool2d(X, 2), dtype)
    idx = nm.max_pool2d(x, 3, 2, 1, return_indices=True)[1]
    assert np.array_equal(_np(idx), F.max_pool2d(X, 3, 2, 1, return_indices=True)[1].numpy())
    _close_half(nm.avg_pool2d(x, 3, 2, 1), F.avg_pool2d(X, 3, 2, 1), dtype)
    _close_half(nm.lp_pool2d(x.__abs__(), 2, 2), F.lp_pool2d(X.abs(), 2, 2), dtype)
    wt = _half(backend, dtype, rng.standard_normal((4, 3, 2, 2)))
    _close_half(
        nm.conv_transpose2d(x, wt, stride=2), F.conv_transpose2d(X, _ref32(wt), stride=2), dtype
    )
    delta = _half(backend, dtype, rng.standard_normal((2, 6, 7, 6)))
    D = _ref32(delta)
    gi = torch.nn.grad.conv2d_input(X.shape, W, D, padding=1, groups=2)
    _close_half(nm.conv2d_grad_input(tuple(X.shape), w, delta, padding=1, groups=2), gi, dtype)
    gw = torch.nn.grad.conv2d_weight(X, W.shape, D, padding=1, groups=2)
    _close_half(nm.conv2d_grad_weight(x, tuple(W.shape), delta, padding=1, groups=2), gw, dtype)
    _close_half(nm.adaptive_avg_pool2d(x, 3), F.adaptive_avg_pool2d(X, 3), dtype)
    _close_half(nm.adaptive_max_pool2d(x, 3), F.adaptive_max_pool2d(X, 3), dtype)
    _close_half(nm.pad(x, (1, 2, 2, 1), "reflect"), F.pad(X, (1, 2, 2, 1), mode="reflect"), dtype)
    y, idx = nm.max_pool2d(x, 2, return_indices=True)
    _close_half(
        nm.max_unpool2d(y, idx, 2),
        F.max_unpool2d(*F.max_pool2d(X, 2, return_indices=True), 2),
        dtype,
    )
    up = _half(backend, dtype, rng.standard_normal((2, 3, 14, 12)))  # conv_transpose2d's dL/dy
    Wt, U = _ref32(wt), _ref32(up)
    Xg = X.clone().requires_grad_(True)
    Wg = Wt.clone().requires_grad_(True)
    gx, gwt = torch.autograd.grad(F.conv_transpose2d(Xg, Wg, stride=2), (Xg, Wg), U)
    _close_half(nm.conv_transpose2d_grad_input(tuple(X.shape), wt, up, 2), gx, dtype)
    _close_half(nm.conv_transpose2d_grad_weight(x, tuple(Wt.shape), up, 2), gwt, dtype)
    _close_half(nm.fold(nm.unfold(x, 2), (7, 6), 2), F.fold(F.unfold(X, 2), (7, 6), 2), dtype)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_against_torch_own_half_kernels(dtype: torch.dtype) -> None:
    """torch's CPU kernels on the half tensors themselves (not a float32 reference)."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 8, 8, generator=g).to(dtype)
    w = torch.randn(4, 3, 3, 3, generator=g).to(dtype)
    _close_half(nm.conv2d(x, w, padding=1), F.conv2d(x, w, padding=1), dtype)
    _close_half(nm.avg_pool2d(x, 2), F.avg_pool2d(x, 2), dtype)


def test_half_precision_autograd_and_mixed_dtypes() -> None:
    x = torch.randn(1, 2, 5, 5, dtype=torch.float16, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float16, requires_grad=True)
    y = nm.conv2d(x, w)
    assert y.dtype == torch.float16
    y.sum().backward()
    assert x.grad is not None and x.grad.dtype == torch.float16
    ref = torch.nn.grad.conv2d_input(x.shape, w.float(), torch.ones(1, 3, 3, 3))
    assert torch.allclose(x.grad.float(), ref, atol=2e-2)
    with pytest.raises(sc.SpecError, match="share one dtype"):
        nm.conv2d(x.detach(), w.detach().float())
    with pytest.raises(sc.SpecError, match="share one dtype"):
        nm.conv2d(np.zeros((1, 1, 3, 3), np.float16), np.zeros((1, 1, 2, 2), np.float32))


# -- derivations -----------------------------------------------------------------------------
def test_family_derivations_verify() -> None:
    cert = adaptive_window_derivation().verify()
    assert cert.passed and cert.level == "general"
    assert {r.level for r in cert.results} == {"general", "exact", "numeric"}
    cert = unfold_fold_derivation(sc.Conv(dims=1, in_channels=2, kernel_size=3, stride=2,
                                          dilation=2, padding=2), 7).verify()  # fmt: skip
    assert cert.passed and {r.level for r in cert.results} == {"exact", "numeric"}
    assert {r.status for r in cert.steps} == {"definition", "established"}


def test_family_steps_keep_their_conditions() -> None:
    """unfold's Piecewise keeps the padding's range conditions (dropping them is caught), and
    'O divides I' shows the windows at I = O m, not at a general I."""
    import dataclasses

    patches = unfold_fold_derivation().steps["unfold: the patches"]
    assert patches.is_definition and len(patches.keeps) == 4 and not patches.problems()
    stmt = patches.statement
    dropped = dataclasses.replace(patches, statement=stmt.func(stmt.lhs, stmt.rhs.args[0].expr))
    assert sum("was lost" in p for p in dropped.problems()) == 4
    d = adaptive_window_derivation()
    step = d.steps["O divides I"]
    assert step.by and not step.problems()
    o, m = (next(a for a in step.statement.free_symbols if a.name == n) for n in "om")
    lhs, rhs = step.statement.lhs.doit(), step.statement.rhs
    assert [sympy.simplify(g - w) for g, w in zip(lhs, rhs, strict=True)] == [0, 0]
    assert rhs == sympy.Tuple(o * m, (o + 1) * m)


def test_fold_and_unfold_matrices() -> None:
    """fold's matrix (scatter, then crop) is unfold's (pad, then gather) transposed; the
    padding's taps read nothing and the overlapping windows sum."""
    from symconv.family import fold_matrix, unfold_matrix

    spec = sc.Conv(dims=1, kernel_size=2, stride=2, padding=1)
    u = unfold_matrix(spec, 5)
    assert fold_matrix(spec, 5) == u.T
    assert u.shape == (2 * 3, 5) and sum(u.values()) == 5  # 6 taps, one on each side padded
    overlap = sc.Conv(dims=1, kernel_size=3)
    f = fold_matrix(overlap, 4)  # two windows overlap on x[1], x[2]
    assert f == unfold_matrix(overlap, 4).T
    assert [sum(f.row(i)) for i in range(4)] == [1, 2, 2, 1]


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: nm.pad(np.zeros((1, 3)), (1, 1), "wrap"), "mode must be one of"),
        (lambda: nm.pad(np.zeros((1, 3)), (1,)), "even number"),
        (lambda: nm.pad(np.zeros((1, 3)), (3, 0), "reflect"), "smaller than the axis' length 3"),
        (lambda: nm.pad(np.zeros((1, 3)), (4, 0), "circular"), "at most the axis' length"),
        (lambda: nm.pad(np.zeros((1, 3)), (1, 1), "reflect", 2.0), "does not take a value"),
        (lambda: nm.pad(np.zeros(3), (1, 1), "reflect"), "needs 2 or 3 dimensions"),
        (lambda: nm.pad(np.zeros(3), (1.5, 1)), r"pad\[0\] must be an integer"),
        (lambda: nm.pad([1.0], (1, 1)), "numpy.ndarray or a torch.Tensor, got list"),
        (lambda: nm.unfold(np.zeros((1, 1, 3, 3)), 4), "kernel_size"),
        (lambda: nm.unfold(np.zeros((1, 3, 3)), 0), "kernel_size"),
        (lambda: nm.fold(np.zeros((1, 5, 4)), (3, 3), 2), "divisible by prod"),
        (lambda: nm.fold(np.zeros((1, 4, 5)), (3, 3), 2), "5 blocks"),
        (lambda: nm.adaptive_avg_pool2d(np.zeros((1, 1, 3, 3)), -1), "output_size"),
        (lambda: nm.adaptive_avg_pool2d(np.zeros((1, 1, 3, 3)), (1, 2, 3)), "3 entries"),
        (lambda: nm.adaptive_max_pool1d(np.zeros((1, 1, 3), int), 2), "floating dtype"),
        (
            lambda: nm.max_unpool1d(np.zeros((1, 1, 2)), np.array([[[0, 9]]]), 2),
            r"in \[0, 4\)",
        ),
        (
            lambda: nm.max_unpool1d(np.zeros((1, 1, 2)), np.zeros((1, 1, 2)), 2),
            "integer dtype",
        ),
        (
            lambda: nm.max_unpool1d(np.zeros((1, 1, 2)), np.zeros((1, 1, 2), int), 2, None, 0, [7]),
            "strictly between 2 and 6",
        ),
        (
            lambda: nm.conv_transpose2d_grad_input(
                (1, 3, 4, 4), np.zeros((2, 1, 3, 3)), np.zeros((1, 1, 6, 6))
            ),
            "expects 2 input channels",
        ),
        (
            lambda: nm.conv_transpose2d_grad_input(
                (1, 2, 4, 4), np.zeros((2, 1, 3, 3)), np.zeros((1, 1, 5, 5))
            ),
            r"expected \(1, 1, 6, 6\)",
        ),
        (
            lambda: nm.conv_transpose1d_grad_weight(
                np.zeros((1, 2, 4)), (2, 1, 3), np.zeros((1, 1, 6)), output_padding=2
            ),
            "output_padding",
        ),
    ],
)
def test_errors_name_parameter_value_and_rule(call: object, match: str) -> None:
    with pytest.raises(sc.SpecError, match=match):
        call()  # type: ignore[operator]


def test_unfold_is_the_convolution_im2col() -> None:
    """conv2d = W @ unfold(x): unfold is the patch matrix numeric's convolutions read."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 2, 3))
    cols = nm.unfold(x, (2, 3), padding=1, stride=2)
    y = (w.reshape(4, -1) @ cols).reshape(2, 4, *nm.conv2d(x, w, padding=1, stride=2).shape[2:])
    assert np.allclose(y, nm.conv2d(x, w, padding=1, stride=2), atol=1e-12)
    assert math.prod(cols.shape) == 2 * 3 * 6 * cols.shape[2]


# -- conventions stated -----------------------------------------------------------------------
def test_cli_params_exact_and_the_family_derive_ops(capsys: pytest.CaptureFixture) -> None:
    import json

    from symconv.cli import main

    assert main(["params", "-k", "3", "--no-bias", "-i", "5x5", "--exact", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["flops"], data["flops_exact"]) == (2 * 9 * 9, 9 * (2 * 9 - 1))
    assert main(["params", "-k", "3", "-i", "5x5", "--exact"]) == 0
    assert "exact: 162" in capsys.readouterr().out  # with a bias the two counts agree
    for argv in (["params", "--pool", "max", "-k", "2", "-i", "4", "--exact"],
                 ["params", "-k", "3", "--exact"]):  # fmt: skip
        assert main(argv) == 2
        assert "--exact" in capsys.readouterr().err
    assert main(["derive", "adaptive-pool"]) == 0
    assert "verified (level general)" in capsys.readouterr().out
    assert main(["derive", "unfold-fold", "-k", "2", "-s", "2", "-i", "4"]) == 0
    assert "verified (level exact)" in capsys.readouterr().out


def test_same_padding_convention_against_scipy() -> None:
    """torch's "same" puts the odd pixel high; scipy's "same" low (one position later)."""
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal(9), rng.standard_normal(4)
    ours = nm.conv1d(x[None, None], w[None, None], padding="same")[0, 0]
    ref = F.conv1d(torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None], padding="same")
    assert np.allclose(ours, ref[0, 0].numpy(), atol=1e-12)
    scipy_same = signal.correlate(x, w, "same")
    assert not np.allclose(ours, scipy_same)
    assert np.allclose(nm.conv1d(x[None, None], w[None, None], padding=((2, 1),))[0, 0], scipy_same)
    flipped = nm.conv1d(x[None, None], w[None, None], padding=((2, 1),), flip=True)[0, 0]
    assert np.allclose(flipped, signal.convolve(x, w, "same"))


def test_lp_pool_ceil_mode_scales_a_clipped_window() -> None:
    x = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    y = nm.lp_pool1d(x, 2, 2, ceil_mode=True)[0, 0]
    assert y[-1] == pytest.approx(math.sqrt(2 * 25))  # K/n = 2: not the 2-norm, 5
    ref = F.lp_pool1d(torch.from_numpy(x), 2, 2, ceil_mode=True)[0, 0].numpy()
    assert np.allclose(y, ref, atol=1e-12)


def test_unfold_refuses_string_padding_and_local_refuses_half() -> None:
    with pytest.raises(sc.SpecError, match="padding must be an int or a pair"):
        nm.unfold(np.zeros((1, 1, 4, 4)), 2, padding="same")
    with pytest.raises(sc.SpecError, match="float16 and bfloat16 run in numeric's conv"):
        nm.local.locally_connected(
            np.zeros((1, 1, 3, 3), np.float16), np.zeros((1, 3, 3, 1, 1, 1), np.float16)
        )


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_empty_batch(backend: str) -> None:
    x = _as(backend, np.zeros((0, 2, 5, 4)))
    assert tuple(nm.adaptive_avg_pool2d(x, 3).shape) == (0, 2, 3, 3)
    y, i = nm.adaptive_max_pool2d(x, (2, 3), return_indices=True)
    assert tuple(y.shape) == tuple(i.shape) == (0, 2, 2, 3)
    assert tuple(nm.max_unpool2d(y, i, 2, output_size=(4, 6)).shape) == (0, 2, 4, 6)
    cols = nm.unfold(x, 2)
    assert tuple(cols.shape) == (0, 8, 12)
    assert tuple(nm.fold(cols, (5, 4), 2).shape) == (0, 2, 5, 4)
    assert tuple(nm.pad(x, (1, 1, 2, 0), "reflect").shape) == (0, 2, 7, 6)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_adaptive_max_nan_rule(backend: str) -> None:
    """A NaN wins its window and the index is the last NaN's, as torch."""
    x = np.array([[[1.0, np.nan, 2.0, np.nan, 0.0, 3.0, 1.0]]])
    ref_y, ref_i = F.adaptive_max_pool1d(torch.from_numpy(x), 2, return_indices=True)
    y, i = nm.adaptive_max_pool1d(_as(backend, x), 2, return_indices=True)
    assert np.array_equal(_np(i), ref_i.numpy())
    assert np.array_equal(_np(y), ref_y.numpy(), equal_nan=True)
