"""numeric.local: locally connected and tiled layers against the matrix T, torch and each other.

References: the index form's matrix (`symconv.toeplitz` exactly, `toeplitz_numeric` and the
gather for numbers: y = T x, dL/dx = T^T delta, dL/dw = X^T delta), a torch reference built
from `F.unfold` + einsum (2-d, float64, its autograd for the gradients), `numeric.conv*d`
(tiled with t = 1) and the locally connected layer (tiled with t = the output size).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from helpers import assert_close
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import numeric as nm
import symconv as sc
from numeric import local as nl
from symconv import SpecError
from symconv.codegen.local import local_modules
from symconv.local import LocallyConnected, Tiled

MODES = ("zeros", "reflect", "replicate", "circular")


# -- references ---------------------------------------------------------------------------------
def _conf(spec: Any) -> dict[str, Any]:
    """The keyword arguments of numeric.local that describe `spec`."""
    return dict(
        stride=spec.stride,
        padding=spec.pads,
        dilation=spec.dilation,
        groups=spec.groups,
        padding_mode=spec.padding_mode,
        flip=spec.flip,
    )


def _matrix_forward(spec: Any, size: tuple[int, ...], x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """y[n] = T vec(x[n]) with T = symconv.toeplitz_numeric (bias excluded)."""
    T = sc.toeplitz_numeric(spec, size, w)
    out = (spec.out_channels, *spec.output_size(size))
    return np.stack([(T @ xn.ravel()).reshape(out) for xn in x]) if len(x) else np.zeros((0, *out))


def _matrix_grads(
    spec: Any, size: tuple[int, ...], x: np.ndarray, w: np.ndarray, delta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """dL/dx = T^T delta and dL/dw = X^T delta (X: the patch matrix, read off the gather)."""
    T = sc.toeplitz_numeric(spec, size, w)
    dx = np.stack([(T.T @ d.ravel()).reshape(x.shape[1:]) for d in delta])
    g = sc.index_form(spec, size).gather()
    dw = np.zeros(math.prod(w.shape))
    for xn, d in zip(x, delta, strict=True):
        dw += np.bincount(g.weights, d.ravel()[g.rows] * xn.ravel()[g.cols], dw.size)
    return dx, dw.reshape(w.shape)


def _torch_pad(x: torch.Tensor, spec: Any) -> torch.Tensor:
    pads = [p for lo_hi in reversed(spec.pads) for p in lo_hi]
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    return F.pad(x, pads, mode=mode) if any(pads) else x


def _torch_local(x: torch.Tensor, w: torch.Tensor, b: Any, spec: Any) -> torch.Tensor:
    """2-d reference: F.unfold (columns (c, a) per position) and one einsum with w[k, o, c, a]."""
    n = x.shape[0]
    out = spec.output_size(tuple(x.shape[2:]))
    if isinstance(spec, Tiled):  # w[k, o mod t, c, a] for every position o
        w = w[:, torch.arange(out[0]) % spec.tiles[0]][:, :, torch.arange(out[1]) % spec.tiles[1]]
    if spec.flip:
        w = torch.flip(w, (-2, -1))
    cols = F.unfold(_torch_pad(x, spec), spec.kernel_size, spec.dilation, 0, spec.stride)
    g, c_out = spec.groups, spec.out_channels
    cols = cols.reshape(n, g, -1, math.prod(out))
    wl = w.reshape(g, c_out // g, math.prod(out), -1)
    y = torch.einsum("ngjp,gkpj->ngkp", cols, wl).reshape(n, c_out, *out)
    if b is not None:
        y = y + (b if b.ndim == 3 else b.reshape(-1, 1, 1))
    return y


# -- strategies ---------------------------------------------------------------------------------
@st.composite
def layers(draw: Any, dims: Any = None, tiled: bool | None = None) -> tuple[Any, tuple, int]:
    """(LocallyConnected or Tiled spec, input size, batch) with small sizes."""
    d = draw(st.sampled_from((1, 2, 2, 3))) if dims is None else dims
    is_tiled = draw(st.booleans()) if tiled is None else tiled
    top = {1: 7, 2: 5, 3: 4}[d]
    size = tuple(draw(st.lists(st.integers(2, top), min_size=d, max_size=d)))
    groups = draw(st.sampled_from((1, 1, 2)))
    common = dict(
        dims=d,
        in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 2)),
        kernel_size=tuple(draw(st.lists(st.integers(1, 3), min_size=d, max_size=d))),
        stride=tuple(draw(st.lists(st.integers(1, 2), min_size=d, max_size=d))),
        padding=tuple(draw(st.lists(st.integers(0, 1), min_size=d, max_size=d))),
        dilation=tuple(draw(st.lists(st.integers(1, 2), min_size=d, max_size=d))),
        groups=groups,
        bias=draw(st.booleans()),
        padding_mode=draw(st.sampled_from(MODES)),
        flip=draw(st.booleans()),
    )
    try:
        if is_tiled:
            tiles = tuple(draw(st.lists(st.integers(1, 3), min_size=d, max_size=d)))
            spec: Any = Tiled(tiles=tiles, **common)
            spec.output_size(size)
        else:
            spec = LocallyConnected(input_size=size, **common)
    except SpecError:
        assume(False)
    return spec, size, draw(st.integers(0, 2))


def _arrays(spec: Any, size: tuple, n: int, seed: int = 0, integer: bool = False) -> tuple:
    rng = np.random.default_rng(seed)

    def arr(shape: Any) -> np.ndarray:
        if integer:  # small integers: every sum is exact in float64
            return rng.integers(-3, 4, shape).astype(np.float64)
        return rng.standard_normal(shape)

    out = spec.output_size(size)
    b_shape = spec.bias_shape if isinstance(spec, LocallyConnected) else (spec.out_channels,)
    x = arr((n, spec.in_channels, *size))
    w = arr(spec.weight_shape)
    b = arr(b_shape) if spec.bias else None
    delta = arr((n, spec.out_channels, *out))
    return x, w, b, delta


def _ops(spec: Any) -> tuple[Any, Any, Any]:
    if isinstance(spec, Tiled):
        return nl.tiled, nl.tiled_grad_input, nl.tiled_grad_weight
    return nl.locally_connected, nl.locally_connected_grad_input, nl.locally_connected_grad_weight


def _with_bias(spec: Any, y: np.ndarray, b: Any) -> np.ndarray:
    if b is None:
        return y
    return y + (b if isinstance(spec, LocallyConnected) else b.reshape(-1, *[1] * spec.dims))


# -- the matrix: exact and numeric --------------------------------------------------------------
def test_forward_is_the_symbolic_matrix_exactly() -> None:
    """y = T x with T = symconv.toeplitz (symbolic weights), values put in: exact equality."""
    for spec, size in [
        (LocallyConnected(dims=1, kernel_size=2, input_size=5, bias=False), (5,)),
        (Tiled(dims=1, kernel_size=2, tiles=2, stride=2, padding=1, bias=False), (5,)),
        (
            LocallyConnected(
                dims=2,
                in_channels=2,
                kernel_size=2,
                padding=1,
                padding_mode="reflect",
                input_size=(3, 3),
                bias=False,
            ),
            (3, 3),
        ),
    ]:
        T = sc.toeplitz(spec, size)
        rng = np.random.default_rng(1)
        x = rng.integers(-4, 5, (1, spec.in_channels, *size)).astype(np.float64)
        w = rng.integers(-4, 5, spec.weight_shape).astype(np.float64)
        base = sympy.IndexedBase("w")
        subs = {base[idx]: int(w[idx]) for idx in np.ndindex(*w.shape)}
        want = (T.xreplace(subs) * sympy.Matrix(x.ravel().astype(int).tolist())).applyfunc(int)
        op = _ops(spec)[0]
        got = op(x, w, **_conf(spec))
        assert got.ravel().tolist() == [float(v) for v in want], spec


@settings(max_examples=30)
@given(layers())
def test_forward_and_gradients_equal_the_matrix(case: tuple) -> None:
    """Every dims, mode, stride, dilation, groups, flip, tiles: y = T x + b, dL/dx = T^T delta,
    dL/dw = X^T delta; small integers, so float64 is exact."""
    spec, size, n = case
    x, w, b, delta = _arrays(spec, size, n, integer=True)
    fwd, gin, gw = _ops(spec)
    y = fwd(x, w, b, **_conf(spec))
    np.testing.assert_array_equal(y, _with_bias(spec, _matrix_forward(spec, size, x, w), b))
    if n == 0:
        return
    dx, dw = _matrix_grads(spec, size, x, w, delta)
    np.testing.assert_array_equal(gin(x.shape, w, delta, **_conf(spec)), dx)
    np.testing.assert_array_equal(gw(x, w.shape, delta, **_conf(spec)), dw)


# -- torch --------------------------------------------------------------------------------------
@settings(max_examples=30)
@given(layers(dims=2))
def test_2d_equals_torch_unfold_reference_and_its_autograd(case: tuple) -> None:
    spec, size, n = case
    n = max(n, 1)
    x, w, b, _ = _arrays(spec, size, n, seed=2)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    yt = _torch_local(xt, wt, bt, spec)
    fwd, gin, gw = _ops(spec)
    length = math.prod(spec.kernel_size) * spec.in_channels
    assert_close(fwd(x, w, b, **_conf(spec)), yt, np.float64, length, f"{spec} forward")
    delta = np.random.default_rng(3).standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(delta))
    assert_close(gin(x.shape, w, delta, **_conf(spec)), xt.grad, np.float64, length, "dx")
    assert_close(gw(x, w.shape, delta, **_conf(spec)), wt.grad, np.float64, n, "dw")
    if b is not None:
        db = (
            nl.locally_connected_grad_bias(delta)
            if isinstance(spec, LocallyConnected)
            else nm.conv_grad_bias(delta)
        )
        assert_close(db, bt.grad, np.float64, n, "db")


@settings(max_examples=20)
@given(layers())
def test_numpy_and_torch_backends_agree(case: tuple) -> None:
    spec, size, n = case
    x, w, b, delta = _arrays(spec, size, n, seed=4)
    fwd, gin, gw = _ops(spec)
    t = torch.from_numpy
    conf = _conf(spec)
    got = fwd(t(x), t(w), None if b is None else t(b), **conf)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), fwd(x, w, b, **conf), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        gin(x.shape, t(w), t(delta), **conf).numpy(), gin(x.shape, w, delta, **conf), atol=1e-12
    )
    np.testing.assert_allclose(
        gw(t(x), w.shape, t(delta), **conf).numpy(), gw(x, w.shape, delta, **conf), atol=1e-12
    )


def test_float32_torch() -> None:
    spec = LocallyConnected(dims=2, in_channels=3, out_channels=4, kernel_size=3, padding=1,
                            input_size=(6, 5))  # fmt: skip
    x, w, b, _ = _arrays(spec, (6, 5), 2, seed=5)
    x32, w32, b32 = (torch.tensor(a, dtype=torch.float32) for a in (x, w, b))
    y = nl.locally_connected(x32, w32, b32, padding=1)
    assert y.dtype == torch.float32
    assert_close(y, _torch_local(x32, w32, b32, spec), np.float32, 27, "float32")


# -- tiled between convolution and locally connected ---------------------------------------------
@settings(max_examples=25)
@given(layers(tiled=True))
def test_tiled_with_one_tile_is_convolution(case: tuple) -> None:
    spec, size, n = case
    spec = spec.replace(tiles=1)
    x, w, b, delta = _arrays(spec, size, n, seed=6)
    conf = _conf(spec)
    d = spec.dims
    w_conv = w.reshape(w.shape[0], *w.shape[1 + d :])  # drop the unit tile axes
    conv = getattr(nm, f"conv{d}d")
    np.testing.assert_allclose(nl.tiled(x, w, b, **conf), conv(x, w_conv, b, **conf), atol=1e-12)
    dx = getattr(nm, f"conv{d}d_grad_input")(x.shape, w_conv, delta, **conf)
    dw = getattr(nm, f"conv{d}d_grad_weight")(x, w_conv.shape, delta, **conf)
    np.testing.assert_allclose(nl.tiled_grad_input(x.shape, w, delta, **conf), dx, atol=1e-12)
    np.testing.assert_allclose(
        nl.tiled_grad_weight(x, w.shape, delta, **conf), dw.reshape(w.shape), atol=1e-12
    )


@settings(max_examples=25)
@given(layers(tiled=True))
def test_tiled_with_output_size_tiles_is_locally_connected(case: tuple) -> None:
    spec, size, n = case
    spec = spec.replace(tiles=spec.output_size(size), bias=False)
    x, w, _, delta = _arrays(spec, size, n, seed=7)
    conf = _conf(spec)
    np.testing.assert_array_equal(nl.tiled(x, w, **conf), nl.locally_connected(x, w, **conf))
    np.testing.assert_array_equal(
        nl.tiled_grad_input(x.shape, w, delta, **conf),
        nl.locally_connected_grad_input(x.shape, w, delta, **conf),
    )
    np.testing.assert_array_equal(
        nl.tiled_grad_weight(x, w.shape, delta, **conf),
        nl.locally_connected_grad_weight(x, w.shape, delta, **conf),
    )


def test_tiled_grad_weight_sums_each_tile() -> None:
    """Explicit case: dw[tau] = sum over o = tau (mod t) of delta[o] x[o:o+k]."""
    x = np.arange(6.0).reshape(1, 1, 6)
    delta = np.array([[[1.0, 10.0, 100.0, 1000.0, 10000.0]]])
    dw = nl.tiled_grad_weight(x, (1, 2, 1, 2), delta)
    want0 = 1 * x[0, 0, 0:2] + 100 * x[0, 0, 2:4] + 10000 * x[0, 0, 4:6]
    want1 = 10 * x[0, 0, 1:3] + 1000 * x[0, 0, 3:5]
    np.testing.assert_array_equal(dw[0, :, 0], np.stack([want0, want1]))


def test_chunked_batch_equals_whole_batch() -> None:
    spec = LocallyConnected(dims=2, in_channels=2, out_channels=3, kernel_size=2, stride=2,
                            padding=1, padding_mode="circular", input_size=(5, 5))  # fmt: skip
    x, w, b, delta = _arrays(spec, (5, 5), 5, seed=8)
    conf = _conf(spec)
    whole = (
        nl.locally_connected(x, w, b, **conf),
        nl.locally_connected_grad_input(x.shape, w, delta, **conf),
        nl.locally_connected_grad_weight(x, w.shape, delta, **conf),
    )
    with nm.workspace_limit(1):  # one sample per chunk
        chunked = (
            nl.locally_connected(x, w, b, **conf),
            nl.locally_connected_grad_input(x.shape, w, delta, **conf),
            nl.locally_connected_grad_weight(x, w.shape, delta, **conf),
        )
    for a, c in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, c, atol=1e-12)


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (  # weight built for another input size: the expected shape is named
            lambda: nl.locally_connected(np.ones((1, 1, 5, 5)), np.ones((2, 4, 4, 1, 3, 3))),
            r"locally_connected: weight has shape \(2, 4, 4, 1, 3, 3\), expected "
            r"\(2, 3, 3, 1, 3, 3\)",
        ),
        (
            lambda: nl.tiled(np.ones((1, 2, 5)), np.ones((1, 2, 1, 3))),
            r"tiled: weight has shape \(1, 2, 1, 3\), expected \(1, 2, 2, 3\)",
        ),
        (
            lambda: nl.locally_connected(np.ones((1, 1, 5)), np.ones((1, 3, 1))),
            r"weight must have 2 \+ 2d dimensions",
        ),
        (
            lambda: nl.locally_connected(np.ones((1, 1, 5, 5)), np.ones((1, 3, 1, 3))),
            r"has 1 spatial axes, so the input must be \(N, C, W\)",
        ),
        (
            lambda: nl.locally_connected(np.ones((1, 1, 2)), np.ones((1, 1, 1, 3))),
            r"locally_connected: .*kernel",
        ),
        (
            lambda: nl.locally_connected(np.ones((1, 3, 5)), np.ones((2, 3, 1, 3)), groups=2),
            r"locally_connected: .*groups",
        ),
        (
            lambda: nl.locally_connected(
                np.ones((1, 1, 5)), np.ones((1, 3, 1, 3)), bias=np.ones(1)
            ),
            r"bias has shape \(1,\), expected \(1, 3\)",
        ),
        (
            lambda: nl.tiled(np.ones((1, 1, 5)), np.ones((1, 1, 1, 3)), bias=np.ones((1, 3))),
            r"bias has shape \(1, 3\), expected \(1,\)",
        ),
        (
            lambda: nl.locally_connected(np.ones((1, 1, 5)), torch.ones(1, 3, 1, 3)),
            r"mixed array types",
        ),
        (
            lambda: nl.locally_connected(np.ones((1, 1, 5), dtype=int), np.ones((1, 3, 1, 3))),
            r"float32 or float64",
        ),
        (
            lambda: nl.locally_connected(
                np.ones((1, 1, 5)), np.ones((1, 3, 1, 3)), padding_mode="mirror"
            ),
            r"padding_mode",
        ),
        (
            lambda: nl.locally_connected_grad_input(
                (1, 1, 5), np.ones((1, 3, 1, 3)), np.ones((1, 1, 4))
            ),
            r"grad_output has shape \(1, 1, 4\), expected \(1, 1, 3\)",
        ),
        (
            lambda: nl.tiled_grad_weight(np.ones((1, 1, 5)), (1, 2, 1, 3), np.ones((2, 1, 3))),
            r"tiled_grad_weight: grad_output has shape",
        ),
        (
            lambda: nl.locally_connected_grad_bias(np.ones((3, 2))),
            r"grad_output must be \(N, C_out, \*spatial\)",
        ),
    ],
)
def test_bad_input_raises_spec_error(call: Any, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        call()


# -- the generated modules ----------------------------------------------------------------------
def test_generated_modules_name_their_index_forms() -> None:
    """What the local modules say (that they are committed as printed: tests/codegen)."""
    for text in local_modules().values():
        assert "GENERATED by `symconv generate` (do not edit)" in text
        assert "w[k, o, c, a]" in text and "w[k, Mod(o, t), c, a]" in text
        assert sc.__version__ not in text  # a release bump must not stale the files


@pytest.mark.parametrize("tiled_layer", [False, True])
def test_torch_autograd_through_local_layers(tiled_layer):
    """On tensors that require a gradient the layers are differentiable: gradcheck passes for
    input, weight and bias (the backward runs the derived gradients)."""
    g = torch.Generator().manual_seed(int(tiled_layer))
    x = torch.randn(2, 2, 5, 6, dtype=torch.float64, generator=g, requires_grad=True)
    if tiled_layer:
        w = torch.randn(3, 2, 2, 2, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)
        b = torch.randn(3, dtype=torch.float64, generator=g, requires_grad=True)
        fn = lambda x, w, b: nl.tiled(x, w, b, padding=1, padding_mode="reflect")  # noqa: E731
    else:
        w = torch.randn(3, 3, 4, 2, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)
        b = torch.randn(3, 3, 4, dtype=torch.float64, generator=g, requires_grad=True)
        fn = lambda x, w, b: nl.locally_connected(x, w, b, stride=1)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))
    assert fn(x.detach(), w.detach(), b.detach()).grad_fn is None
