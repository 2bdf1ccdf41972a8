"""Translation, rotation and flip equivariance (`symconv.equivariance`), checked against torch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import symconv as sc
from symconv._torch_trials import torch_changed as _torch_changed
from symconv.equivariance import equivariance, max_pool_changes, pooling_example

LAPLACIAN = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
BLUR = [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
SOBEL = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]


def torch_broken(spec, size, shift, output_shift, cyclic, seed=0):
    """Output positions where torch's conv(shift(x)) != shift(conv(x)), random x and w."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((1, spec.in_channels, *size), generator=gen, dtype=torch.float64)
    w = torch.randn(spec.weight_shape, generator=gen, dtype=torch.float64)
    return _torch_changed(spec, size, "translate", shift, output_shift, cyclic, w, x)


# -- circular padding -------------------------------------------------------------------------
@pytest.mark.parametrize("dims,k,n", [(1, 1, 4), (1, 3, 5), (1, 3, 7), (2, 3, 4), (1, 2, 5)])
def test_circular_exact_for_every_shift(dims, k, n):
    spec = sc.Conv(dims=dims, kernel_size=k, padding="same", padding_mode="circular", bias=False)
    for t in itertools.product(range(-n + 1, n), repeat=dims):
        d = equivariance(spec, n, shift=t)
        assert d.exact and d.broken == (), t


def test_circular_derivation_verifies():
    spec = sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular", bias=False)
    d = equivariance(spec, 6, shift=2)
    cert = d.verify()
    assert cert.passed, cert.text()
    assert {r.level for r in cert.results} == {"general", "exact", "numeric"}
    assert "circulant" in d.text()


# -- borders: zeros, reflect, replicate -------------------------------------------------------
def test_zero_padding_breaks_only_the_border():
    d = equivariance(sc.Conv(dims=1, kernel_size=3, padding=1), 7, shift=1)
    assert not d.exact and d.broken == ((0,), (6,)) and d["count"] == 2
    assert set(d.broken) <= set(d["band"])  # interior outputs are equivariant
    assert d["interior"] == tuple((o,) for o in range(2, 6))


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_copying_modes_break_the_band(mode):
    d = equivariance(sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode=mode), 7, shift=2)
    # band = 0, 1, 2, 6; output 0 reads only inputs the shift pushes out: 0 = 0, not broken
    assert d["band"] == ((0,), (1,), (2,), (6,))
    assert d.broken == ((1,), (2,), (6,))
    d = equivariance(sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode=mode), 7, shift=1)
    assert d.broken == d["band"] == ((0,), (1,), (6,))


@settings(max_examples=40, deadline=None)
@given(
    dims=st.integers(1, 2),
    n=st.integers(3, 7),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    t=st.integers(-3, 3),
    seed=st.integers(0, 2**16),
)
def test_broken_matches_torch(dims, n, k, s, p, mode, t, seed):
    try:
        spec = sc.Conv(
            dims=dims,
            kernel_size=k,
            stride=s,
            padding=p,
            padding_mode=mode,
            in_channels=2,
            out_channels=2,
            bias=False,
        )
        spec.output_size(n)
    except sc.SpecError:
        return
    shift = (t,) + (-1,) * (dims - 1)
    d = equivariance(spec, n, shift=shift)
    got = torch_broken(
        spec, (n,) * dims, d["shift"], d["output_shift"], d["shift_kind"] == "cyclic", seed
    )
    assert got == set(d.broken)


# -- strides ----------------------------------------------------------------------------------
@pytest.mark.parametrize("s", [2, 3])
def test_stride_multiples_shift_the_output_by_t_over_s(s):
    spec = sc.Conv(dims=1, kernel_size=3, stride=s, padding=1, padding_mode="circular")
    n = 3 * s * 2
    d = equivariance(spec, n, shift=s)
    assert d.exact and d["output_shift"] == (1,)
    d = equivariance(spec.replace(padding_mode="zeros"), n, shift=2 * s)
    assert d["output_shift"] == (2,) and set(d.broken) <= set(d["band"])


def test_stride_non_multiple_is_not_exact():
    spec = sc.Conv(dims=1, kernel_size=3, stride=2)
    d = equivariance(spec, 9, shift=1)
    assert not d.exact and d["reproducing_shifts"] == () and not d["divisible"]
    pos, left, right = d["counterexample"]
    assert pos == (0,) and left != right
    assert d.verify().passed


def test_default_derivation_verifies_at_every_level():
    cert = equivariance(sc.Conv(dims=2, kernel_size=3, padding=1), (5, 4), shift=(1, -1)).verify()
    assert cert.passed, cert.text()


# -- pooling ----------------------------------------------------------------------------------
def test_goodfellow_figure():
    d = pooling_example()
    assert d["inputs_changed"] == 4 and d["outputs_changed"] == 2
    assert d["pooled"] == [1, 1, 1, sympy.Rational(1, 5)]
    assert d.verify().passed


@pytest.mark.parametrize("k,s", [(2, 1), (3, 1), (3, 2), (4, 2)])
def test_max_pool_changes_within_prediction(k, s):
    spec = sc.Pool(dims=1, kind="max", kernel_size=k, stride=s)
    rng = np.random.default_rng(k * 10 + s)
    n = 12
    for _ in range(20):
        x = rng.standard_normal(n)
        xt = torch.tensor(x).reshape(1, 1, n)
        got = _torch_changed(spec, (n,), "translate", (1,), (0,), False, None, xt, invariance=True)
        want = max_pool_changes(spec, x, 1)
        assert got <= want
        assert got == want  # no ties: the window-overlap rule is exact
    d = equivariance(spec, n, shift=1)
    assert d["expected_changed_fraction"] == pytest.approx(2 / (k + 1))
    assert d.verify().passed


def test_max_pool_ramp_changes_every_output():
    spec = sc.Pool(dims=1, kind="max", kernel_size=3, stride=1)
    x = np.arange(1.0, 11.0)
    assert len(max_pool_changes(spec, x, 1)) == spec.output_size(10)[0]


@pytest.mark.parametrize("kind", ["max", "avg", "lp"])
def test_pool_equivariance_matches_torch(kind):
    extra = {"norm_type": 2} if kind == "lp" else {}
    spec = sc.Pool(dims=2, kind=kind, kernel_size=2, stride=2, **extra)
    d = equivariance(spec, 6, shift=(2, 0))
    assert d["output_shift"] == (1, 0)
    assert d.verify().passed


# -- rotations and flips ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["zeros", "circular"])
@pytest.mark.parametrize("transform", ["rot90", "flip_h", "flip_v"])
def test_generic_kernel_is_not_rotation_equivariant(mode, transform):
    spec = sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode=mode, bias=False)
    d = equivariance(spec, 5, transform=transform)
    assert not d.exact and d.condition
    assert all(isinstance(e, sympy.Eq) for e in d.condition)


def test_rot90_condition_is_kernel_invariance():
    spec = sc.Conv(dims=2, kernel_size=3, padding=1, bias=False)
    d = equivariance(spec, 5, transform="rot90")
    w = sympy.IndexedBase("w")
    # w[a, b] = w[b, K-1-a]: corners equal, edges equal, the centre free
    assert len(d.condition) == 6
    kernel = {(a, b): w[0, 0, a, b] for a in range(3) for b in range(3)}
    sol = {e.lhs: e.rhs for e in d.condition}
    for (a, b), sym in kernel.items():
        assert sol.get(sym, sym) == sol.get(kernel[(b, 2 - a)], kernel[(b, 2 - a)])
    assert d.verify().passed


@pytest.mark.parametrize("kernel", [LAPLACIAN, BLUR])
@pytest.mark.parametrize("transform", ["rot90", "flip_h", "flip_v"])
def test_symmetric_kernels_are_exact(kernel, transform):
    spec = sc.Conv(dims=2, kernel_size=3, padding=1, bias=False)
    d = equivariance(spec, 5, transform=transform, weight=kernel)
    assert d.exact and d.broken == ()


@pytest.mark.parametrize("transform,exact", [("rot90", False), ("flip_h", False), ("flip_v", True)])
def test_sobel(transform, exact):
    spec = sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode="circular", bias=False)
    d = equivariance(spec, 5, transform=transform, weight=SOBEL)
    assert d.exact is exact
    assert d.verify().passed


def test_flip_1d_palindromic_kernel():
    spec = sc.Conv(dims=1, kernel_size=3, padding=1, bias=False)
    assert len(equivariance(spec, 6, transform="flip_h").condition) == 1
    assert equivariance(spec, 6, transform="flip_h", weight=[1, 5, 1]).exact
    assert not equivariance(spec, 6, transform="flip_h", weight=[1, 5, 2]).exact


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"shift": (1, 2)}, "shift"),
        ({"shift": 1.5}, "shift"),
        ({"shift": (True,)}, "shift"),
        ({"shift": "1"}, "shift"),
        ({"transform": "rotate"}, "transform"),
        ({"transform": "rot90"}, "dims 2"),
        ({"transform": "flip_v"}, "dims 2"),
        ({"transform": "flip_h", "shift": 1}, "shift"),
        ({"weight": [1, 2]}, "weight shape"),
        ({"input_size": 1}, "kernel_size"),
    ],
)
def test_errors_1d(kwargs, match):
    with pytest.raises(sc.SpecError, match=match):
        equivariance(sc.Conv(dims=1, kernel_size=3), **kwargs)


def test_errors_2d():
    spec = sc.Conv(dims=2, kernel_size=3, padding=1)
    with pytest.raises(sc.SpecError, match="square input"):
        equivariance(spec, (5, 6), transform="rot90")
    with pytest.raises(sc.SpecError, match="square output"):
        equivariance(sc.Conv(dims=2, kernel_size=(3, 1), padding=(1, 1)), 5, transform="rot90")
    with pytest.raises(sc.SpecError, match="Conv or Pool"):
        equivariance("conv")
    with pytest.raises(sc.SpecError, match="pooling has no weights"):
        equivariance(sc.Pool(dims=1, kernel_size=2), 6, weight=[1, 1])


def test_factored_rows_agree_with_symbolic_rows() -> None:
    """The fast translation check (rows compared one axis at a time, in integers) finds the
    same output shift, broken outputs and reproducing shifts as T's symbolic rows, on the
    exact-level grid plus 2-d layers with groups, dilation and every padding mode."""
    from symconv.equivariance._checks import _grid_translate
    from symconv.equivariance._translate import _translate_core

    cases = list(_grid_translate())
    for mode, k, s, g in itertools.product(
        ("zeros", "reflect", "replicate", "circular"), (2, 3), (1, 2), (1, 2)
    ):
        spec = sc.Conv(
            dims=2, in_channels=2, out_channels=2, groups=g, kernel_size=(k, 2), stride=(s, 1),
            padding=1, dilation=(2, 1), padding_mode=mode, bias=False,
        )  # fmt: skip
        cases += [(spec, (6, 5), t) for t in ((1, 0), (2, -2), (3, 2))]
    keys = ("output_shift", "broken_flat", "broken", "reproducing", "divisible")
    for spec, size, t in cases:
        fast = _translate_core(spec, size, t)
        rows = _translate_core(spec, size, t, subs={})  # not None: the row-dict path
        assert [fast[k] for k in keys] == [rows[k] for k in keys], (spec, size, t)
