"""Issue 21: inf and NaN in weights, inputs and upstream gradients meet the zero padding as
torch's do, under every algorithm "auto" can pick (numeric._taps: the rule and torch's paths).

float64 is computed by torch's native kernels on the CPU: compared with torch directly, every
layer. float32 follows torch's oneDNN path, which leaves the padding out: compared with an
independent reference that masks the padding's products (and with torch's float32 on the
layers where oneDNN's own kernels do so). dL/dx and conv_transpose never meet the padding in
any torch path: compared with torch in both dtypes."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import numeric as nm
import symconv as sc
from numeric import _taps, algorithms

torch = pytest.importorskip("torch")
F = torch.nn.functional
PAD_MODE = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}

# inf and NaN in NumPy arithmetic are the subject here: its RuntimeWarnings say nothing new
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


def same_ieee(ours: Any, ref: Any, rtol: float) -> None:
    """The same NaN, +inf and -inf positions; finite values close."""
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_array_equal(np.isposinf(ours), np.isposinf(ref))
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(ref))
    fin = np.isfinite(ref)
    scale = max(1.0, float(np.abs(ref[fin]).max(initial=0.0)))
    np.testing.assert_allclose(ours[fin], ref[fin], rtol=rtol, atol=rtol * scale)


def spoil(a: np.ndarray, seed: int, border: bool = True) -> np.ndarray:
    """`a` with NaN, +inf and -inf at a few places (the first and last entries, which border
    outputs read, when `border`)."""
    flat = a.reshape(-1)
    rng = np.random.default_rng(seed)
    picks = [0, len(flat) - 1] if border else []
    picks += [int(i) for i in rng.integers(0, len(flat), 2)]
    for i, v in zip(picks, (np.inf, -np.inf, np.nan, np.inf), strict=False):
        flat[i] = v
    return a


@st.composite
def layers(draw: Any, modes: tuple[str, ...] = tuple(PAD_MODE)) -> dict[str, Any]:
    dims = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2]))
    depthwise = draw(st.booleans())
    c_in = groups * draw(st.integers(1, 2)) if not depthwise else draw(st.integers(1, 3))
    groups = c_in if depthwise else groups
    c_out = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    stride = tuple(draw(st.lists(st.integers(1, 2), min_size=dims, max_size=dims)))
    dilation = tuple(draw(st.lists(st.integers(1, 2), min_size=dims, max_size=dims)))
    padding = tuple(draw(st.lists(st.integers(0, 2), min_size=dims, max_size=dims)))
    size = tuple(
        draw(st.integers(max(3, d * (k - 1) + 1 - 2 * p), 6))
        for k, d, p in zip(kernel, dilation, padding, strict=True)
    )
    mode = draw(st.sampled_from(modes))
    spoiled = draw(st.sampled_from(["weight", "input", "delta"]))
    batch = draw(st.integers(1, 2))
    return dict(
        dims=dims, groups=groups, c_in=c_in, c_out=c_out, kernel=kernel, stride=stride,
        dilation=dilation, padding=padding, size=size, mode=mode, spoiled=spoiled, batch=batch,
        seed=draw(st.integers(0, 2**16)),
    )  # fmt: skip


def arrays(layer: dict[str, Any], dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, w and delta of `layer`, the one named by `spoiled` holding inf and NaN."""
    rng = np.random.default_rng(layer["seed"])
    x = rng.standard_normal((layer["batch"], layer["c_in"], *layer["size"]))
    w = rng.standard_normal((layer["c_out"], layer["c_in"] // layer["groups"], *layer["kernel"]))
    spec = sc.Conv(
        dims=layer["dims"], in_channels=layer["c_in"], out_channels=layer["c_out"],
        kernel_size=layer["kernel"], stride=layer["stride"], padding=layer["padding"],
        dilation=layer["dilation"], groups=layer["groups"], padding_mode=layer["mode"],
    )  # fmt: skip
    delta = rng.standard_normal((layer["batch"], layer["c_out"], *spec.output_size(layer["size"])))
    spoil({"weight": w, "input": x, "delta": delta}[layer["spoiled"]], layer["seed"])
    return x.astype(dtype), w.astype(dtype), delta.astype(dtype)


def torch_ops(layer: dict[str, Any], x: Any, w: Any, delta: Any) -> tuple[Any, Any, Any]:
    """torch's y, dL/dx and dL/dw (torch.autograd; modes other than zeros padded by F.pad)."""
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    pad, xin = layer["padding"], tx
    if layer["mode"] != "zeros":
        xin = F.pad(tx, [q for p in reversed(pad) for q in (p, p)], mode=PAD_MODE[layer["mode"]])
        pad = (0,) * layer["dims"]
    conv = (F.conv1d, F.conv2d, F.conv3d)[layer["dims"] - 1]
    y = conv(xin, tw, None, layer["stride"], pad, layer["dilation"], layer["groups"])
    y.backward(torch.from_numpy(delta))
    return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()


def numeric_ops(layer: dict[str, Any], x: Any, w: Any, delta: Any, **kw: Any) -> tuple:
    d = layer["dims"]
    args = (layer["stride"], layer["padding"], layer["dilation"], layer["groups"])
    kw = dict(padding_mode=layer["mode"], **kw)
    return (
        getattr(nm, f"conv{d}d")(x, w, None, *args, **kw),
        getattr(nm, f"conv{d}d_grad_input")(x.shape, w, delta, *args, **kw),
        getattr(nm, f"conv{d}d_grad_weight")(x, w.shape, delta, *args, **kw),
    )


def masked_reference(layer: dict[str, Any], x: Any, w: Any, delta: Any) -> tuple[Any, Any]:
    """y and dL/dw in float64 with every product that reads the zero padding left out: each
    output and tap summed over the in-bounds inputs by an explicit mask (no tap arithmetic of
    numeric's), the padding modes other than zeros applied by torch's F.pad first."""
    x, w, delta = (np.asarray(a, dtype=np.float64) for a in (x, w, delta))
    pads = layer["padding"]
    if layer["mode"] != "zeros":
        flat = [q for p in reversed(pads) for q in (p, p)]
        x = F.pad(torch.from_numpy(x), flat, mode=PAD_MODE[layer["mode"]]).numpy()
        pads = (0,) * layer["dims"]
    widths = ((0, 0), (0, 0), *((p, p) for p in pads))
    xp = np.pad(x, widths)
    inside = np.pad(np.ones(x.shape[2:], dtype=bool), widths[2:])
    g, out = layer["groups"], delta.shape[2:]
    cg, kg = x.shape[1] // g, w.shape[0] // g
    y = np.zeros((x.shape[0], w.shape[0], *out))
    dw = np.zeros_like(w)
    for tap in itertools.product(*(range(k) for k in w.shape[2:])):
        idx = tuple(
            slice(a * d, a * d + s * (o - 1) + 1, s)
            for a, d, s, o in zip(tap, layer["dilation"], layer["stride"], out, strict=True)
        )
        xs, m = xp[(slice(None), slice(None), *idx)], inside[idx]
        for gi in range(g):
            wk = w[gi * kg : (gi + 1) * kg, :, *tap]  # (kg, cg)
            xg = xs[:, None, gi * cg : (gi + 1) * cg]  # (N, 1, cg, *out)
            dg = delta[:, gi * kg : (gi + 1) * kg, None]  # (N, kg, 1, *out)
            wb = wk.reshape(1, kg, cg, *(1 for _ in out))
            with np.errstate(invalid="ignore"):
                y[:, gi * kg : (gi + 1) * kg] += np.where(m, wb * xg, 0.0).sum(axis=2)
                part = np.where(m, dg * xg, 0.0)  # (N, kg, cg, *out)
                dw[gi * kg : (gi + 1) * kg, :, *tap] = part.sum(axis=(0, *range(3, part.ndim)))
    return y, dw


CI = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@CI
@given(layers())
def test_float64_matches_torch_on_every_layer(layer: dict[str, Any]) -> None:
    """float64 (torch's native kernels): y, dL/dx and dL/dw by "auto" have torch's NaN and inf
    at every position, whichever operand holds them, every padding mode, 1-3 d."""
    x, w, delta = arrays(layer, np.float64)
    for ours, ref in zip(
        numeric_ops(layer, x, w, delta), torch_ops(layer, x, w, delta), strict=True
    ):
        same_ieee(ours, ref, 1e-9)


@CI
@given(layers())
def test_float32_leaves_the_padding_out(layer: dict[str, Any]) -> None:
    """float32 (torch's oneDNN path): no product with a padded zero in y or dL/dw (the masked
    reference); dL/dx as torch's in every path."""
    x, w, delta = arrays(layer, np.float32)
    y, dx, dw = numeric_ops(layer, x, w, delta)
    assert y.dtype == dx.dtype == dw.dtype == np.float32
    ref_y, ref_dw = masked_reference(layer, x, w, delta)
    _, ref_dx, _ = torch_ops(layer, *(a.astype(np.float64) for a in (x, w, delta)))
    for ours, ref in ((y, ref_y), (dx, ref_dx), (dw, ref_dw)):
        same_ieee(ours, ref, 1e-4)


# layers on which "auto" picks, for finite data, each algorithm it can pick (asserted)
AUTO_LAYERS = {
    "fft": (2, 16, 16, 15, 7, 32),
    "winograd": (2, 8, 8, 3, 1, 16),
    "shifted": (2, 16, 16, 7, 3, 32),
    "direct": (2, 4, 4, 5, 2, 12),
}


@pytest.mark.parametrize("picked", list(AUTO_LAYERS))
@pytest.mark.parametrize("spoiled", ["weight", "input", "delta"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_auto_layers_match_torch(picked: str, spoiled: str, dtype: Any) -> None:
    """A non-finite weight (y, dL/dx), input (y, dL/dw) or delta (dL/dx, dL/dw) on layers where
    "auto" picks each of its algorithms for finite data: in float64 torch's NaN and inf at every position; in float32
    dL/dx as torch's, y and dL/dw as the masked reference's (torch's float32 itself takes
    oneDNN's GEMM kernel on the 15x15 layer, which multiplies the zeros: numeric._taps)."""
    n, ci, co, k, p, size = AUTO_LAYERS[picked]
    spec = sc.Conv(dims=2, in_channels=ci, out_channels=co, kernel_size=k, padding=p)
    ops = ("forward", "grad_input", "grad_weight")
    assert {algorithms.explain(spec, (size, size), batch=n, op=op)["algorithm"] for op in ops} == {
        picked
    }
    layer = dict(
        dims=2, groups=1, c_in=ci, c_out=co, kernel=(k, k), stride=(1, 1), dilation=(1, 1),
        padding=(p, p), size=(size, size), mode="zeros", spoiled=spoiled, batch=n, seed=3,
    )  # fmt: skip
    x, w, delta = arrays(layer, dtype)
    ours = numeric_ops(layer, x, w, delta)
    wide = tuple(a.astype(np.float64) for a in (x, w, delta))
    want = list(torch_ops(layer, *wide))  # float64: torch's native kernels
    if dtype == np.float32:  # the padding left out: the masked reference
        want[0], want[2] = masked_reference(layer, *wide)
    for got, ref in zip(ours, want, strict=True):
        same_ieee(got, ref, 1e-9 if dtype == np.float64 else 2e-3)


def test_onednn_border_gives_inf_not_nan() -> None:
    """The issue's case: a 3x3 float32 layer with an inf weight tap that reads the padding at
    the border: torch's float32 (oneDNN) gives +-inf or finite values there, and so does numeric
    under "auto"; the named algorithms that multiply the zeros give NaN."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 4, 3, 3)).astype(np.float32)
    w[0, 0, 0, 0] = np.inf
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    assert np.isfinite(ref[:, 0, 0]).all() and not np.isnan(ref).any()
    same_ieee(nm.conv2d(x, w, padding=1), ref, 1e-4)
    with np.errstate(invalid="ignore"):
        assert np.isnan(nm.conv2d(x, w, padding=1, algorithm="direct")[:, 0, 0]).all()


@CI
@given(layers(modes=("zeros",)), st.sampled_from([np.float64, np.float32]), st.integers(0, 2))
def test_conv_transpose_matches_torch(layer: dict[str, Any], dtype: Any, out_pad: int) -> None:
    """conv_transpose1d/2d/3d with inf and NaN in its weight or input: y as torch's (no path of
    torch's multiplies the zeros between the inputs), and through torch autograd dL/dx, dL/dw
    (convolutions: the rule above, compared in float64)."""
    d, g = layer["dims"], layer["groups"]
    stride, dil = layer["stride"], layer["dilation"]
    op = tuple(min(out_pad, max(s, q) - 1) for s, q in zip(stride, dil, strict=True))
    rng = np.random.default_rng(layer["seed"])
    x = rng.standard_normal((layer["batch"], layer["c_out"], *layer["size"]))
    w = rng.standard_normal((layer["c_out"], layer["c_in"] // g, *layer["kernel"]))
    spoil(w if layer["spoiled"] == "weight" else x, layer["seed"])
    x, w = x.astype(dtype), w.astype(dtype)
    args = (None, stride, layer["padding"], op, g, dil)
    fn, ref = getattr(nm, f"conv_transpose{d}d"), getattr(F, f"conv_transpose{d}d")
    tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    try:
        y = ref(tx, tw, *args)
    except RuntimeError:  # torch refuses the layer
        assume(False)
    assume(y.numel() > 0)  # numeric refuses an output with no positions
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    same_ieee(fn(x, w, *args), y.detach().numpy(), rtol)
    if dtype != np.float64:
        return
    delta = torch.from_numpy(spoil(rng.standard_normal(tuple(y.shape)), layer["seed"] + 1))
    y.backward(delta)
    nx, nw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    fn(nx, nw, *args).backward(delta)
    same_ieee(nx.grad.numpy(), tx.grad.numpy(), 1e-9)
    same_ieee(nw.grad.numpy(), tw.grad.numpy(), 1e-9)


def test_torch_tensors_take_the_same_path() -> None:
    """torch tensors (the torch backend) leave the padding out as NumPy arrays do, flip=True
    included (the kernel flipped, dL/dw flipped back)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 7, 7)).astype(np.float32)
    w = spoil(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), 1)
    delta = spoil(rng.standard_normal((2, 3, 7, 7)).astype(np.float32), 2)
    for flip in (False, True):
        kw = dict(padding=1, flip=flip)
        got = (
            nm.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kw),
            nm.conv2d_grad_input(x.shape, torch.from_numpy(w), torch.from_numpy(delta), **kw),
            nm.conv2d_grad_weight(torch.from_numpy(x), w.shape, torch.from_numpy(delta), **kw),
        )
        want = (
            nm.conv2d(x, w, **kw),
            nm.conv2d_grad_input(x.shape, w, delta, **kw),
            nm.conv2d_grad_weight(x, w.shape, delta, **kw),
        )
        for a, b in zip(got, want, strict=True):
            assert isinstance(a, torch.Tensor)
            same_ieee(a.numpy(), b, 1e-5)
    wf = np.flip(w, (2, 3)).copy()
    same_ieee(nm.conv2d(x, w, padding=1, flip=True), nm.conv2d(x, wf, padding=1), 1e-6)
    same_ieee(
        nm.conv2d_grad_weight(x, w.shape, delta, padding=1, flip=True),
        np.flip(nm.conv2d_grad_weight(x, w.shape, delta, padding=1), (2, 3)),
        1e-6,
    )


def test_finite_data_never_takes_the_tap_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finite operands run the algorithms "auto" picks, never the tap-by-tap sums; an algorithm
    named explicitly keeps its own arithmetic on non-finite data too."""

    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError("tap path taken")

    for name in ("forward", "grad_input", "grad_weight"):
        monkeypatch.setattr(_taps, name, refuse)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y = nm.conv2d(x, w, padding=1)
    nm.conv2d_grad_input(x.shape, w, y, padding=1)
    nm.conv2d_grad_weight(x, w.shape, y, padding=1)
    nm.conv_transpose2d(y, w, padding=1)
    w[0, 0, 0, 0] = np.nan
    with np.errstate(invalid="ignore"):
        nm.conv2d(x, w, padding=1, algorithm="direct")
        nm.conv2d_grad_input(x.shape, w, y, padding=1, algorithm="direct")
