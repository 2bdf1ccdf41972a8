"""p4 lifting and group convolution: exact equivariance, numeric kernels against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import symconv as sc
import symconv.groupconv as gc
from symconv.derive import derive
from symconv.groupconv import correlate2d, group_conv, lift, p4_derivation, rotate_p4

rot = lambda x: np.rot90(x, 1, axes=(-2, -1))  # noqa: E731


def test_correlate2d_matches_torch() -> None:
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    for padding, mode in ((0, "zeros"), (1, "zeros"), (1, "circular")):
        xt = torch.tensor(x)
        if mode == "circular":
            xt, pad = F.pad(xt, (1, 1, 1, 1), mode="circular"), 0
        else:
            pad = padding
        want = F.conv2d(xt, torch.tensor(w), padding=pad).numpy()
        np.testing.assert_allclose(correlate2d(x, w, padding, mode), want, atol=1e-12)


def test_lift_is_conv_with_rotated_kernels() -> None:
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    y = lift(x, w, "same")
    for r in range(4):
        wr = torch.tensor(np.rot90(w, r, axes=(-2, -1)).copy())
        want = F.conv2d(torch.tensor(x), wr, padding=1).numpy()
        np.testing.assert_allclose(y[:, :, r], want, atol=1e-12)


@given(
    n=st.integers(3, 7),
    k=st.integers(1, 3),
    pad=st.integers(0, 1),
    mode=st.sampled_from(["zeros", "circular"]),
    seed=st.integers(0, 2**16),
)
def test_lift_and_group_conv_equivariance(n: int, k: int, pad: int, mode: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, n, n))
    w1 = rng.standard_normal((2, 2, k, k))
    y = lift(x, w1, pad, mode)
    np.testing.assert_allclose(lift(rot(x), w1, pad, mode), rotate_p4(y), atol=1e-10)
    if y.shape[-1] + 2 * pad < k:
        return
    w2 = rng.standard_normal((2, 2, 4, k, k))
    z = group_conv(y, w2, pad, mode)
    np.testing.assert_allclose(group_conv(rotate_p4(y), w2, pad, mode), rotate_p4(z), atol=1e-10)
    # rotating four times is the identity on p4 feature maps
    np.testing.assert_allclose(rotate_p4(rotate_p4(rotate_p4(rotate_p4(z)))), z)


def test_plain_conv_is_not_rotation_equivariant() -> None:
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 1, 5, 5)), rng.standard_normal((1, 1, 3, 3))
    assert not np.allclose(correlate2d(rot(x), w, 1), rot(correlate2d(x, w, 1)))
    d = sc.equivariance(sc.Conv(dims=2, kernel_size=3, padding=1, bias=False), 5, transform="rot90")
    assert not d.exact


@pytest.mark.parametrize(
    ("spec", "size"),
    [
        (None, None),
        (sc.Conv(dims=2, kernel_size=2), 4),
        (sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode="circular"), 4),
        (sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode="reflect"), 5),
        (sc.Conv(dims=2, kernel_size=3, padding=2, padding_mode="replicate"), 4),
    ],
)
def test_p4_derivation(spec, size) -> None:
    cert = p4_derivation(spec, size).verify()
    assert cert.passed and cert.level == "exact", cert.text()


def test_wrong_direction_is_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = sc.Conv(dims=2, kernel_size=3, padding=1, bias=False)
    real = gc._rot_source
    monkeypatch.setattr(gc, "_rot_source", lambda k, r: real(k, -r))  # clockwise kernels
    assert not gc._equivariant(gc._lift_matrix(spec, 4), 4, 1, 4, 4)


def test_errors() -> None:
    with pytest.raises(sc.SpecError, match="square"):
        p4_derivation(sc.Conv(dims=2, kernel_size=3), (5, 6))
    with pytest.raises(sc.SpecError, match="same padding on every side"):
        p4_derivation(sc.Conv(dims=2, kernel_size=3, stride=2))
    with pytest.raises(sc.SpecError, match="2D"):
        p4_derivation(sc.Conv(dims=1, kernel_size=3))
    with pytest.raises(sc.SpecError, match="odd kernel"):
        lift(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), "same")
    with pytest.raises(sc.SpecError, match="group_conv expects"):
        group_conv(np.zeros((1, 1, 3, 4, 4)), np.zeros((1, 1, 4, 3, 3)))
    with pytest.raises(sc.SpecError, match="padding_mode"):
        correlate2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), 1, "symmetric")
    with pytest.raises(sc.SpecError, match="reflect padding 4 must be smaller"):
        correlate2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 9, 9)), 4, "reflect")
    with pytest.raises(sc.SpecError, match="square"):
        lift(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 3)))


def test_registry() -> None:
    assert derive("p4", sc.Conv(dims=2, kernel_size=3), None).verify().passed


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("abc", "def"), r"lift: x must be a numeric array \(N, C_in, H, W\), got a str"),
        ((np.ones((1, 1, 5, 5)), "def"), r"lift: w must be a numeric array"),
        ((np.ones(5), np.ones((1, 1, 3, 3))), r"lift: x must have shape \(N, C_in, H, W\), got"),
        ((np.ones((1, 1, 5, 5)), np.ones(5)), r"lift: w must have shape \(C_out, C_in, k, k\)"),
        ((np.ones((1, 1, 5, 5)), np.ones((1, 3, 3))), r"w must have shape"),
        (([[1, [2]]], np.ones((1, 1, 3, 3))), "ragged"),
        ((np.ones((1, 2, 5, 5)), np.ones((1, 1, 3, 3))), "matching C_in"),
    ],
)
def test_lift_rejects_bad_arrays(args, match: str) -> None:
    with pytest.raises(sc.SpecError, match=match):
        lift(*args)


def test_group_conv_and_correlate2d_reject_bad_arrays() -> None:
    with pytest.raises(sc.SpecError, match=r"group_conv: x must be a numeric array"):
        group_conv("abc", np.ones((1, 1, 4, 3, 3)))
    with pytest.raises(sc.SpecError, match=r"group_conv: w must have shape"):
        group_conv(np.ones((1, 1, 4, 5, 5)), np.ones(3))
    with pytest.raises(sc.SpecError, match=r"x must have shape \(N, C_in, H, W\)"):
        correlate2d(np.ones(5), np.ones((1, 1, 3, 3)))


def test_p4_derivation_cost_is_the_nonzeros_limit() -> None:
    """No separate cap: the group convolution's 16 o^2 k^2 taps count against symconv.limits'
    nonzeros (MAX_NONZEROS stays importable, the limit's default); 64 x 64 is admitted."""
    from symconv.limits import DEFAULTS, limits

    with limits(nonzeros=100_000, positions=10_000):
        with pytest.raises(
            sc.SpecError,
            match=r"16 \* 98\^2 \* 3\^2 = 1382976 taps, which exceeds the limit 100000 "
            r"\(symconv.limits 'nonzeros'\)",
        ):
            p4_derivation(sc.Conv(dims=2, kernel_size=3), 100)
        with pytest.raises(sc.SpecError, match="SYMCONV_MAX_NONZEROS"):
            p4_derivation(sc.Conv(dims=2, kernel_size=25, padding=12), 5)
    assert gc.MAX_NONZEROS == DEFAULTS["nonzeros"]
    d = p4_derivation(sc.Conv(dims=2, kernel_size=3, padding=1), 64)
    assert d["output_size"] == 64 and d.verify().passed


def test_p4_derivation_one_by_one_kernel() -> None:
    """A 1x1 kernel is rot90-symmetric: plain convolution is equivariant, not a failure."""
    cert = p4_derivation(sc.Conv(dims=2, kernel_size=1), 4).verify()
    assert cert.passed and cert.level == "exact", cert.text()


@pytest.mark.parametrize("mode", ["zeros", "circular", "reflect", "replicate"])
def test_correlate2d_padding_modes_against_torch(mode) -> None:
    """symconv's NumPy correlate2d pads as torch's nn.Conv2d(padding_mode=...) does."""
    import torch

    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    conv = torch.nn.Conv2d(3, 4, 3, padding=2, padding_mode=mode, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        want = conv(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(correlate2d(x, w, 2, mode), want, atol=1e-12)


def test_reflect_edge_cases_are_refused_or_skipped() -> None:
    """Reflect padding at least the lifted map's size: the derivation still verifies (the
    numeric group layer is skipped there, as torch would refuse it); empty inputs with a
    non-zero padding mode are refused by name, not by numpy."""
    spec = sc.Conv(dims=2, kernel_size=6, padding=2, padding_mode="reflect", bias=False)
    assert p4_derivation(spec, (3, 3)).verify().passed
    for mode in ("replicate", "circular", "reflect"):
        with pytest.raises(sc.SpecError, match="non-empty input"):
            correlate2d(np.zeros((1, 1, 0, 3)), np.ones((1, 1, 1, 1)), 1, mode)
    with pytest.raises(sc.SpecError, match="smaller than the input size 2"):
        correlate2d(np.zeros((1, 1, 2, 5)), np.ones((1, 1, 5, 5)), 2, "reflect")
