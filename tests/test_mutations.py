"""Deliberately broken convolutions are each caught by `check_identities`, with a readable
message naming the identity; correct ones (torch's, and a small NumPy one) pass."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
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
