"""Deliberately broken convolutions are each caught by `check_identities`, with a readable
message naming the identity; correct ones (torch's, and a small NumPy one) pass."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import patch_kind_table
from numpy.lib.stride_tricks import sliding_window_view

from symconv.testing import check_identities

torch.set_num_threads(1)
EXAMPLES = 150


def _t(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


def torch_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    with warnings.catch_warnings():  # 'same' with an even kernel: torch warns about a copy
        warnings.simplefilter("ignore")
        return F.conv2d(_t(x), _t(w), _t(b), stride, padding, dilation, groups).numpy()


def torch_conv_transpose2d(
    y, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    return F.conv_transpose2d(
        _t(y), _t(w), _t(b), stride, padding, output_padding, groups, dilation
    ).numpy()


def torch_grad_input(input_size, w, delta, stride=1, padding=0, dilation=1, groups=1):
    return torch.nn.grad.conv2d_input(
        input_size, _t(w), _t(delta), stride, padding, dilation, groups
    ).numpy()


def torch_grad_weight(x, weight_size, delta, stride=1, padding=0, dilation=1, groups=1):
    return torch.nn.grad.conv2d_weight(
        _t(x), weight_size, _t(delta), stride, padding, dilation, groups
    ).numpy()


def numpy_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """A from-scratch NumPy conv2d (integer padding only): what a user might write."""
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    win = sliding_window_view(x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, OH, OW, kh, kw)
    cin_g, cout_g = x.shape[1] // groups, w.shape[0] // groups
    out = [
        np.einsum(
            "nchwij,kcij->nkhw",
            win[:, g * cin_g : (g + 1) * cin_g],
            w[g * cout_g : (g + 1) * cout_g],
        )
        for g in range(groups)
    ]
    y = np.concatenate(out, axis=1)
    return y if b is None else y + b[None, :, None, None]


# -- the broken ones ---------------------------------------------------------------------------
def off_by_one_padding(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    if not isinstance(padding, str):
        padding = padding + 1 if isinstance(padding, int) else tuple(p + 1 for p in padding)
    return torch_conv2d(x, w, b, stride, padding, dilation, groups)


def flipped_kernel(x, w, b=None, **kw):
    return torch_conv2d(x, w[..., ::-1, ::-1].copy(), b, **kw)


def dropped_bias(x, w, b=None, **kw):
    return torch_conv2d(x, w, None, **kw)


def ignored_dilation(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return torch_conv2d(x, w, b, stride, padding, 1, groups)


def stride_on_one_axis(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    s = stride if isinstance(stride, int) else stride[0]
    return torch_conv2d(x, w, b, (s, 1), padding, dilation, groups)


def position_dependent(x, w, b=None, **kw):
    """Linear in x and w, bias additive, but not translation equivariant (a vignette)."""
    y = torch_conv2d(x, w, None, **kw)
    y = y * (1.0 + 0.5 * (np.arange(y.shape[-1]) == 0))
    return y if b is None else y + b[None, :, None, None]


def wrong_grad_weight(x, weight_size, delta, **kw):
    return torch_grad_weight(x, weight_size, delta, **kw)[..., ::-1, ::-1].copy()


def wrong_transpose(y, w, b=None, **kw):
    return torch_conv_transpose2d(y, w[..., ::-1, ::-1].copy(), b, **kw)


def wrong_grad_input(input_size, w, delta, stride=1, padding=0, dilation=1, groups=1):
    return torch_grad_input(input_size, w, delta, stride, padding, dilation, groups) * 1.01


def test_torch_conv2d_passes_everything() -> None:
    check_identities(
        torch_conv2d,
        dims=2,
        max_examples=EXAMPLES,
        transpose=torch_conv_transpose2d,
        grad_input=torch_grad_input,
        grad_weight=torch_grad_weight,
    )


def test_numpy_conv2d_passes_with_integer_padding() -> None:
    check_identities(numpy_conv2d, max_examples=EXAMPLES, padding_styles=("int", "tuple"))


def test_float32_conv_passes_with_float32_tolerances() -> None:
    check_identities(torch_conv2d, max_examples=40, dtype=np.float32)


@pytest.mark.parametrize(
    ("conv", "kwargs", "identity"),
    [
        (off_by_one_padding, {}, "output shape"),
        (flipped_kernel, {}, "agreement with the Toeplitz matrix"),
        (dropped_bias, {}, "bias is an additive term"),
        (ignored_dilation, {}, "output shape"),
        (stride_on_one_axis, {}, "output shape"),
        (position_dependent, {}, "agreement with the Toeplitz matrix"),  # shrinks to 1 output
        (torch_conv2d, {"grad_weight": wrong_grad_weight}, "grad_weight = X^T delta"),
        (torch_conv2d, {"grad_input": wrong_grad_input}, "grad_input = T^T delta"),
        (torch_conv2d, {"transpose": wrong_transpose}, "adjointness <T x, y> = <x, T^T y>"),
    ],
    ids=lambda v: getattr(v, "__name__", None) if callable(v) else None,
)
def test_broken_conv_is_caught(conv, kwargs, identity) -> None:
    with pytest.raises(AssertionError) as info:
        check_identities(conv, max_examples=EXAMPLES, **kwargs)
    err = info.value
    assert type(err) is AssertionError  # not a Hypothesis type, nor our internal subclass
    assert err.__cause__ is None and err.__suppress_context__  # raised once, nothing chained
    text = str(err)
    assert f"breaks '{identity}'" in text, text
    for part in ("minimal spec: symconv.Conv(dims=2", "input size:", "shapes:", "reproduce:"):
        assert part in text, text
    assert "discrepancy:" in text or "worst entry:" in text, text
    assert len(text.splitlines()) <= 30  # short: small arrays at most, no Hypothesis source


def test_minimal_spec_is_small_and_rebuildable() -> None:
    import symconv  # noqa: F401 - the message's expression refers to it

    with pytest.raises(AssertionError) as info:
        check_identities(flipped_kernel, max_examples=EXAMPLES)
    line = next(s for s in str(info.value).splitlines() if "minimal spec" in s)
    spec = eval(line.split(": ", 1)[1])  # the message is a valid expression
    assert spec.in_channels == spec.out_channels == 1 and spec.groups == 1
    assert (
        max(spec.kernel_size) == 2 and min(spec.kernel_size) == 1
    )  # the smallest asymmetric kernel


def test_ignored_dilation_suggests_narrowing() -> None:
    with pytest.raises(AssertionError) as info:
        check_identities(ignored_dilation, max_examples=EXAMPLES)
    spec_line, *_ = (s for s in str(info.value).splitlines() if "minimal spec" in s)
    assert "dilation=" in spec_line and "check_identities(conv, ..., dilation=1" in str(info.value)
    check_identities(ignored_dilation, max_examples=EXAMPLES, dilation=1)  # narrowed: passes


def test_translation_equivariance_is_checked_where_exact() -> None:
    """On a spec with several outputs, the vignette breaks equivariance before the Toeplitz check."""
    import symconv as sc
    from symconv.testing.identities import IdentityFailure, _Checker, _Example

    spec = sc.Conv(dims=2, kernel_size=3, padding=1, bias=False)
    rng = np.random.default_rng(0)
    x, x2 = rng.standard_normal((2, 1, 1, 6, 6))
    w, w2 = rng.standard_normal((2, 1, 1, 3, 3))
    delta = rng.standard_normal((1, 1, 6, 6))
    ex = _Example(spec, (6, 6), x, w, None, delta, x2, w2, shift=(1, 1))
    fns = {"conv": position_dependent}
    with pytest.raises(IdentityFailure, match="translation equivariance"):
        _Checker(ex, fns, 2, np.float64).run()
    _Checker(ex, {"conv": torch_conv2d}, 2, np.float64).run()  # torch's: no failure


# -- the fast exact checks of real layers catch the same mutations ------------------------------
# The derivations check a concrete layer on integer coefficient tables, one factor (channel
# pairs, each axis) at a time. Each test: the true operator passes on a layer far beyond what
# SymPy matrices could hold, and each mutation of the index map, the padding, the flip, the
# stride or the gradient operator fails it.
import dataclasses  # noqa: E402
import sys  # noqa: E402

import symconv as sc  # noqa: E402
from symconv.indexform import IndexForm, clear_caches, index_form  # noqa: E402

BIG = sc.Conv(
    dims=2, in_channels=16, out_channels=16, kernel_size=3, stride=2, padding=1,
    padding_mode="reflect",
)  # fmt: skip


@pytest.fixture
def fresh_caches():
    """Patched index arithmetic must not meet forms or check results cached before (or
    after) the patch."""
    clear_caches()
    yield
    clear_caches()


def _patch_table(monkeypatch, padded: bool, change) -> None:
    """Replace IndexForm._table's result (unpadded or padded coordinates) by change(table)."""
    real = IndexForm._table

    def mutated(self, axis, o, a, padded_=False):
        t = real(self, axis, o, a, padded_)
        return change(self, axis, t) if padded_ == padded and self.kind == "conv" else t

    monkeypatch.setattr(IndexForm, "_table", mutated)


def test_factored_t_equals_v_pad_holds_and_catches_mutations(monkeypatch, fresh_caches) -> None:
    from symconv.toeplitz import factored_product_check

    spec = sc.Conv(dims=2, in_channels=3, out_channels=10, kernel_size=5, padding=2)
    for mode in ("zeros", "reflect", "replicate", "circular"):
        assert factored_product_check(index_form(spec.replace(padding_mode=mode), 64))[0]
    reflect = spec.replace(padding_mode="reflect")

    def off_by_one(self, axis, t):  # the unpadded index map reads one input further on axis 1
        n = self.axes[axis].size
        return np.where((t >= 0) & (axis == 1), np.minimum(t + 1, n - 1), t)

    _patch_table(monkeypatch, False, off_by_one)
    clear_caches()
    assert not factored_product_check(index_form(reflect, 32))[0]
    monkeypatch.undo()
    clear_caches()

    real_pad = IndexForm.pad_table
    monkeypatch.setattr(  # replicate's clamp where reflect's mirror belongs
        IndexForm, "pad_table", lambda self, axis: np.clip(real_pad(self, axis) * 0 + (
            np.arange(self.axes[axis].padded) - self.axes[axis].lo), 0, self.axes[axis].size - 1)
    )  # fmt: skip
    assert not factored_product_check(index_form(reflect, 32))[0]


@pytest.mark.parametrize(
    "mutation", ["no_flip_toggle", "padding_off_by_one", "stride_ignored", "padding_mode"]
)
def test_fast_backprop_check_catches_wrong_grad_input(mutation, fresh_caches) -> None:
    from symconv.backprop import grad_input_op, verify_exact

    assert verify_exact(BIG, (64, 64)) == (True, True)
    op = grad_input_op(BIG, (32, 32))
    if mutation == "no_flip_toggle":
        op = dataclasses.replace(op, conv=op.conv.replace(flip=BIG.flip))
    elif mutation == "padding_off_by_one":
        (lo, hi), second = op.conv.pads
        op = dataclasses.replace(op, conv=op.conv.replace(padding=((lo + 1, hi), second)))
    elif mutation == "stride_ignored":
        op = dataclasses.replace(op, stride=(1, 2))
    else:  # the gradient conv pads by copying (circular) where the fold needs zeros
        op = dataclasses.replace(op, conv=op.conv.replace(padding_mode="circular"))
    assert verify_exact(BIG, (32, 32), grad_input=op)[0] is False


def test_fast_backprop_check_catches_wrong_grad_weight(monkeypatch, fresh_caches) -> None:
    from symconv.backprop import grad_weight_op, verify_exact

    op = grad_weight_op(BIG, (32, 32))
    for wrong in (
        dataclasses.replace(op, conv=op.conv.replace(dilation=1)),  # stride not applied
        dataclasses.replace(op, flip=True),  # a cross-correlation read as a true convolution
        dataclasses.replace(op, conv=op.conv.replace(stride=2)),  # dilation taken for stride
    ):
        assert verify_exact(BIG, (32, 32), grad_weight=wrong)[1] is False
    backprop = sys.modules["symconv.backprop"]
    real = backprop.transpose_weight
    # the gradient conv's weight without the channel exchange: w[c, k] read as w[k, c]
    monkeypatch.setattr(backprop, "transpose_weight", lambda spec: real(spec).swapaxes(0, 1).copy())
    assert verify_exact(BIG, (32, 32))[0] is False


def test_fast_backprop_check_catches_index_map_mutation(monkeypatch, fresh_caches) -> None:
    from symconv.backprop import verify_exact

    def mirror(self, axis, t):  # the forward map reads mirrored columns on axis 1
        n = self.axes[axis].size
        return np.where((t >= 0) & (axis == 1), n - 1 - t, t)

    _patch_table(monkeypatch, False, mirror)
    assert verify_exact(BIG, (32, 32)) != (True, True)


def test_fast_adjoint_check_catches_wrong_adjoint(monkeypatch, fresh_caches) -> None:
    from symconv.transpose import ConvTranspose, verify_adjoint

    spec = ConvTranspose(
        dims=2, in_channels=16, out_channels=16, kernel_size=3, stride=2, padding=1,
        output_padding=1, groups=2,
    )  # fmt: skip
    assert verify_adjoint(spec, (64, 64))
    real = ConvTranspose.adjoint
    for change in ({"flip": True}, {"padding": 2}, {"dilation": 2}, {"stride": 1}):
        monkeypatch.setattr(
            ConvTranspose, "adjoint", lambda self, c=change: real(self).replace(**c)
        )
        assert not verify_adjoint(spec, (16, 16)), change
    monkeypatch.undo()

    def mirror(self, axis, t):  # the transposed layer's scatter lands mirrored on axis 0
        n = self.axes[axis].size
        return np.where((t >= 0) & (axis == 0), n - 1 - t, t)

    real_table = IndexForm._table
    monkeypatch.setattr(
        IndexForm,
        "_table",
        lambda self, axis, o, a, padded=False: (
            mirror(self, axis, real_table(self, axis, o, a, padded))
            if self.kind == "transpose"
            else real_table(self, axis, o, a, padded)
        ),
    )
    clear_caches()
    assert not verify_adjoint(spec, (16, 16))


def test_fast_equivariance_check_catches_padding_mutation(monkeypatch, fresh_caches) -> None:
    """Zero padding's index map replaced by replicate's: the broken set the derivation states
    no longer matches torch's layer, and the certificate fails."""
    spec = sc.Conv(
        dims=2, in_channels=4, out_channels=4, kernel_size=3, padding=1, bias=False
    )  # fmt: skip
    assert sc.equivariance(spec, (16, 16)).verify().passed
    indexform = sys.modules["symconv.indexform"]
    real = indexform._phi
    monkeypatch.setattr(
        indexform, "_phi", lambda mode, i, n: real("replicate" if mode == "zeros" else mode, i, n)
    )
    clear_caches()
    cert = sc.equivariance(spec, (16, 16)).verify()
    assert not cert.passed
    assert [r.level for r in cert.results if not r.passed] == ["numeric"]


# -- local-backprop, fourier and p4 at 64 x 64: the structural checks catch the same mutations ---
def _off_by_one(self, axis, t):  # the unpadded index map reads one input further on axis 1
    n = self.axes[axis].size
    return np.where((t >= 0) & (axis == 1), np.minimum(t + 1, n - 1), t)


LOCAL = sc.LocallyConnected(
    dims=2, in_channels=16, out_channels=16, kernel_size=3, padding=1, padding_mode="reflect",
    input_size=(64, 64), bias=False,
)  # fmt: skip
TILED = sc.Tiled(
    dims=2, in_channels=4, out_channels=4, kernel_size=3, stride=2, padding=1, flip=True,
    tiles=(2, 3), bias=False,
)  # fmt: skip


def test_local_backprop_structural_check_catches_mutations(monkeypatch, fresh_caches) -> None:
    from symconv.local_params import structural_gradients

    assert structural_gradients(LOCAL, (64, 64)) == (True, 16 * 16 * 64 * 64 * 9)
    assert structural_gradients(TILED, (64, 64))[0]
    patch_kind_table(monkeypatch, ("local", "tiled"), _off_by_one)
    assert not structural_gradients(LOCAL, (64, 64))[0]
    assert not structural_gradients(TILED, (64, 64))[0]
    monkeypatch.undo()
    clear_caches()

    real_pad = IndexForm.pad_table  # replicate's clamp where reflect's mirror belongs
    monkeypatch.setattr(IndexForm, "pad_table", lambda self, axis: np.clip(
        np.arange(self.axes[axis].padded) - self.axes[axis].lo, 0, self.axes[axis].size - 1)
        if self.kind == "local" else real_pad(self, axis))  # fmt: skip
    assert not structural_gradients(LOCAL, (64, 64))[0]
    monkeypatch.undo()
    clear_caches()

    indexform = sys.modules["symconv.indexform"]
    real_coord = indexform.window_coord  # the tap read unflipped: flip=True ignored
    monkeypatch.setattr(indexform, "window_coord", lambda o, a, k, s, d, flip=False: real_coord(
        o, a, k, s, d, False))  # fmt: skip
    clear_caches()
    assert not structural_gradients(TILED, (64, 64))[0]
    monkeypatch.undo()
    clear_caches()

    real_parts = IndexForm._weight_parts  # the tiled gradient sums over every o, not o mod t

    def untiled(self, k, c, o, a):
        if self.kind == "tiled":
            return [k, *(np.zeros_like(v) for v in o), c, *a], None
        return real_parts(self, k, c, o, a)

    monkeypatch.setattr(IndexForm, "_weight_parts", untiled)
    clear_caches()
    assert not structural_gradients(TILED, (64, 64))[0]


def test_local_backprop_derivation_fails_on_a_mutated_index_map(monkeypatch, fresh_caches) -> None:
    from symconv.local_params import local_backprop

    cert = local_backprop(LOCAL).verify()
    assert cert.passed and "9437184 taps" in cert.results[0].detail
    patch_kind_table(monkeypatch, ("local",), _off_by_one)
    cert = local_backprop(LOCAL).verify()
    assert not cert.results[0].passed


def test_fourier_structural_check_catches_mutations(monkeypatch, fresh_caches) -> None:
    from symconv import fourier
    from symconv.fourier import circular_spec, fourier_derivation, structural_diagonalisation

    for spec in (circular_spec(3, dims=2), circular_spec((4, 5), dims=2, flip=True, dilation=2)):
        assert structural_diagonalisation(spec, (64, 64))[0]
    spec = circular_spec((3, 5), dims=2)
    real_taps = fourier._taps  # predict the unreflected (true convolution) spectrum
    monkeypatch.setattr(fourier, "_taps", lambda s, ax, n: [
        (s.pads[ax][0] - s.dilation[ax] * (s.kernel_size[ax] - 1 - a)) % n
        for a in range(s.kernel_size[ax])])  # fmt: skip
    assert not structural_diagonalisation(spec, (64, 64))[0]
    cert = fourier_derivation(spec, (64, 64)).verify()
    assert [r.level for r in cert.results if not r.passed] == ["exact"]
    monkeypatch.setattr(fourier, "_taps", real_taps)

    def mirror(self, axis, t):  # the index map reads mirrored inputs on axis 1
        n = self.axes[axis].size
        return np.where((t >= 0) & (axis == 1), n - 1 - t, t)

    patch_kind_table(monkeypatch, ("conv",), mirror)
    assert not structural_diagonalisation(spec, (64, 64))[0]
    monkeypatch.undo()
    clear_caches()
    indexform = sys.modules["symconv.indexform"]
    real_coord = indexform.window_coord  # flip ignored by the index map
    monkeypatch.setattr(indexform, "window_coord", lambda o, a, k, s, d, flip=False: real_coord(
        o, a, k, s, d, False))  # fmt: skip
    clear_caches()
    assert not structural_diagonalisation(circular_spec(3, dims=2, flip=True), (64, 64))[0]
    monkeypatch.undo()
    real_phi = indexform._phi  # circular padding wraps by clamping (replicate's map)
    monkeypatch.setattr(indexform, "_phi", lambda mode, i, n: real_phi(
        "replicate" if mode == "circular" else mode, i, n))  # fmt: skip
    clear_caches()
    assert not structural_diagonalisation(spec, (64, 64))[0]


def test_p4_table_checks_catch_mutations(monkeypatch, fresh_caches) -> None:
    from symconv import groupconv as gc

    spec = sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode="reflect", bias=False)
    names = ["corr(Rx, Rw) = R corr(x, w)", "lift(R x) = roll(R lift(x), 1)",
             "gconv(roll R x) = roll R gconv(x)", "plain convolution is not (unless w = R w)"]  # fmt: skip

    def failing() -> list[str]:
        cert = gc.p4_derivation(spec, 64).verify()
        return [r.name for r in cert.results if not r.passed and r.level == "exact"]

    assert failing() == []
    real_rot = gc._rot_source  # kernels rotated clockwise
    monkeypatch.setattr(gc, "_rot_source", lambda k, r: real_rot(k, -r))
    assert set(failing()) >= set(names[:3])
    monkeypatch.undo()
    real_perm = gc._rot_perm  # the feature maps transposed instead of rotated
    monkeypatch.setattr(gc, "_rot_perm", lambda n, layers: np.ravel_multi_index(
        np.unravel_index(real_perm(n, layers), (layers, n, n))[:1] + tuple(
            np.indices((layers, n, n))[[2, 1]].reshape(2, -1)), (layers, n, n)))  # fmt: skip
    assert set(failing()) >= set(names[:3])
    monkeypatch.undo()
    patch_kind_table(monkeypatch, ("conv",), _off_by_one)  # the layer no longer centred
    assert set(failing()) >= set(names[:3])
    monkeypatch.undo()
    indexform = sys.modules["symconv.indexform"]
    real_phi = indexform._phi  # reflect padding on the low side only (replicate on the high)
    monkeypatch.setattr(indexform, "_phi", lambda mode, i, n: np.where(
        np.asarray(i) >= n, real_phi("replicate", i, n), real_phi(mode, i, n)))  # fmt: skip
    clear_caches()
    assert set(failing()) >= set(names[:3])


# -- rotations and flips: the condition on integer forms ---------------------------------------
def _symmetry_verdicts(cases) -> list[tuple[bool, bool]]:
    """(SymPy: solved condition = kernel symmetry, integer forms: the same) per case."""
    from symconv.equivariance._symmetry import (
        _condition_is_symmetry,
        _kernel_symmetry,
        _solve,
        _symmetry_core,
        _weight_symbols,
    )

    out = []
    for spec, size, transform in cases:
        syms = _weight_symbols(spec)
        cond = _symmetry_core(spec, size, transform, None)["condition"]
        by_sympy = _solve(cond, syms) == _solve(_kernel_symmetry(spec, transform), syms)
        out.append((by_sympy, _condition_is_symmetry(spec, size, transform) == ""))
    return out


def test_symmetry_condition_on_integer_forms_agrees_with_sympy(fresh_caches) -> None:
    """The grid's rotation/flip check (null space of the integer forms of T P - P T against
    the kernel's orbits) gives SymPy's verdict, on setups where the condition is the symmetry
    and where it is not (stride 2, one-sided padding, a non-square input)."""
    cases = [
        (sc.Conv(dims=2, kernel_size=k, padding=p, stride=s, padding_mode=m, bias=False), n, t)
        for k, p, s, m, n, t in [
            (3, 1, 1, "zeros", (5, 5), "rot90"),
            (3, 1, 2, "zeros", (6, 6), "rot90"),
            (2, 0, 1, "reflect", (4, 4), "rot90"),
            (3, ((1, 0), (1, 1)), 1, "zeros", (5, 5), "rot90"),
            (3, 1, 1, "circular", (4, 4), "flip_v"),
            (3, ((0, 1), (1, 1)), 1, "replicate", (5, 5), "flip_v"),
            (3, 1, 1, "zeros", (4, 5), "flip_h"),
            (3, ((1, 1), (1, 0)), 1, "zeros", (5, 5), "flip_h"),
        ]
    ] + [(sc.Conv(dims=1, kernel_size=3, padding=(((1, 0),)), bias=False), (5,), "flip_h")]
    verdicts = _symmetry_verdicts(cases)
    assert all(a == b for a, b in verdicts), verdicts
    assert {a for a, _ in verdicts} == {True, False}  # both kinds of setup are covered


def _mutate_symmetry(mutation: str, monkeypatch) -> None:
    """One mutation of the rotation/flip machinery: the index map, the padding, the kernel's
    symmetry or the transformation (flip_h read as flip_v)."""
    _equivariance_core = importlib.import_module("symconv.equivariance._core")
    _equivariance_symmetry = importlib.import_module("symconv.equivariance._symmetry")
    if mutation == "index_map":  # axis 1 reads one input further

        def off_by_one(self, axis, t):
            n = self.axes[axis].size
            return np.where((t >= 0) & (axis == 1), np.minimum(t + 1, n - 1), t)

        _patch_table(monkeypatch, False, off_by_one)
    elif mutation == "padding":  # the high side replicates the edge, the low side is zero
        indexform = sys.modules["symconv.indexform"]
        real = indexform._phi
        monkeypatch.setattr(
            indexform, "_phi", lambda mode, i, n: real(mode, np.where(i == n, n - 1, i), n)
        )
    elif mutation == "kernel_symmetry":  # rot90's image of a tap read as the transpose
        monkeypatch.setattr(_equivariance_symmetry, "_image", lambda tr, a, kernel: (a[1], a[0]))
    else:  # flip_h mirrors the first axis (flip_v's map)
        real_map = _equivariance_core._spatial_map
        monkeypatch.setattr(
            _equivariance_symmetry,
            "_spatial_map",
            lambda tr, shape, shift, cyclic: real_map(
                "flip_v" if tr == "flip_h" else tr, shape, shift, cyclic
            ),
        )
    clear_caches()


@pytest.mark.parametrize("mutation", ["index_map", "padding", "kernel_symmetry", "transform"])
def test_symmetry_condition_check_catches_mutations(mutation, monkeypatch, fresh_caches) -> None:
    """Each mutation of the index map, the padding, the kernel's symmetry or the transformation
    fails the integer-form check on a layer where the true operator passes."""
    from symconv.equivariance._symmetry import _condition_is_symmetry

    spec = sc.Conv(dims=2, in_channels=2, out_channels=3, kernel_size=3, padding=1, bias=False)
    transform = "flip_h" if mutation == "transform" else "rot90"
    assert _condition_is_symmetry(spec, (6, 6), transform) == ""
    _mutate_symmetry(mutation, monkeypatch)
    assert _condition_is_symmetry(spec, (6, 6), transform) != ""


@pytest.mark.parametrize("mutation", ["index_map", "padding", "kernel_symmetry", "transform"])
def test_symmetry_derivation_at_64x64_catches_mutations(
    mutation, monkeypatch, fresh_caches
) -> None:
    """The rotation/flip derivation on integer tables, on a 64x64 layer with more weights than
    the full integer-form claim takes: the true operator passes every check; each mutation of
    the index map, the padding, the kernel's symmetry or the transformation fails the exact
    check "condition = the kernel's symmetry"."""

    spec = sc.Conv(dims=2, in_channels=4, out_channels=4, kernel_size=3, padding=1, bias=False)
    transform = "flip_h" if mutation == "transform" else "rot90"

    def failing() -> list[str]:
        cert = sc.equivariance(spec, (64, 64), transform=transform).verify()
        return [r.name for r in cert.results if not r.passed]

    assert failing() == []
    _mutate_symmetry(mutation, monkeypatch)
    assert f"condition = the kernel's {transform} symmetry" in failing()


@pytest.mark.parametrize("mutation", ["index_map", "padding"])
def test_toeplitz_factorization_identity_catches_mutations(
    mutation, monkeypatch, fresh_caches
) -> None:
    """`symconv verify`'s T = V Pad (coefficient tables compared as integer multisets) passes
    the true operators and fails a mutated index map of T or a mutated padding."""
    from symconv.verify import _factorization_error

    spec = sc.Conv(
        dims=2, in_channels=2, out_channels=3, kernel_size=3, stride=2, padding=1,
        padding_mode="reflect",
    )  # fmt: skip
    assert _factorization_error((spec, (7, 7))) == 0.0
    if mutation == "index_map":  # T (unpadded coordinates) reads one input further on axis 1

        def off_by_one(self, axis, t):
            n = self.axes[axis].size
            return np.where((t >= 0) & (axis == 1), np.minimum(t + 1, n - 1), t)

        _patch_table(monkeypatch, False, off_by_one)
    else:  # Pad clamps (replicate) where reflect mirrors
        real_pad = IndexForm.pad_table
        monkeypatch.setattr(
            IndexForm, "pad_table", lambda self, axis: np.clip(real_pad(self, axis) * 0 + (
                np.arange(self.axes[axis].padded) - self.axes[axis].lo), 0,
                self.axes[axis].size - 1)
        )  # fmt: skip
    clear_caches()
    assert _factorization_error((spec, (7, 7))) == 1.0


def test_coefficient_tables_compare_as_multisets_small_and_large(monkeypatch) -> None:
    """`_tables.same`: the short path (sorted lists, small tables) and the radix path agree on
    equal multisets in another order and on tables differing in one key or one multiplicity."""
    from symconv import _tables

    rng = np.random.default_rng(0)
    for n in (1, 5, 64, 65, 300):
        a = rng.integers(-2, 6, (n, 3))
        b = a[rng.permutation(n)]
        c = b.copy()
        c[0, 1] += 1  # one key changed
        d = a.copy()
        d[-1] = d[0]  # one row's multiplicity moved to another
        want = [True, False, bool((a[-1] == a[0]).all())]
        for small in (0, 10**6):
            monkeypatch.setattr(_tables, "_SMALL", small)
            got = [_tables.same(a, b), _tables.same(a, c), _tables.same(a, d)]
            assert got == want, (n, small, got)
