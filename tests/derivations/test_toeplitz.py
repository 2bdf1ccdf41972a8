"""The Toeplitz form: the lectures' worked examples exactly, torch's numbers, T = V Pad, structure."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import sympy
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symconv as sc
from symconv._torchref import conv_reference
from symconv.toeplitz import sparse_product

torch.set_num_threads(1)
W = sympy.IndexedBase("w")


def torch_conv(spec: sc.Conv, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """torch's answer for `spec` on one sample `x` (C, *size): the library's torch reference."""
    return conv_reference(spec, x[None], w)[0].numpy()


@st.composite
def conv_cases(draw, max_dims: int = 3):
    dims = draw(st.integers(1, max_dims))

    def per_axis(lo, hi):
        return st.lists(
            st.integers(lo, hi),
            min_size=dims,
            max_size=dims,
        ).map(tuple)

    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    padding = draw(
        st.one_of(
            st.integers(0, 2),
            per_axis(0, 2),
            st.lists(
                st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=dims, max_size=dims
            ).map(tuple),
            st.sampled_from(["valid", "same", "full"]),
        )
    )
    stride = (1,) * dims if padding == "same" else draw(per_axis(1, 3))
    try:
        spec = sc.Conv(
            dims=dims,
            in_channels=cin,
            out_channels=cout,
            kernel_size=draw(per_axis(1, 4)),
            stride=stride,
            padding=padding,
            dilation=draw(per_axis(1, 2)),
            groups=groups,
            bias=False,
            padding_mode=draw(st.sampled_from(sc.spec.PADDING_MODES)),
            flip=draw(st.booleans()),
        )
        size = draw(per_axis(1, 7 if dims < 3 else 4))
        spec.output_size(size)
    except sc.SpecError:
        assume(False)
    return spec, size


@settings(max_examples=80, deadline=None)
@given(conv_cases(), st.integers(0, 2**32 - 1))
def test_toeplitz_numeric_matches_torch(case, seed):
    spec, size = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((spec.in_channels, *size))
    w = rng.standard_normal(spec.weight_shape)
    t = sc.toeplitz_numeric(spec, size, w)
    np.testing.assert_allclose(t @ x.ravel(), torch_conv(spec, x, w).ravel(), atol=1e-10)


@pytest.mark.parametrize(
    "spec, size",
    [
        (sc.Conv(dims=1, kernel_size=3, padding=2, padding_mode="reflect", bias=False), 4),
        (sc.Conv(dims=1, kernel_size=4, padding="same", padding_mode="replicate", flip=True), 5),
        (
            sc.Conv(
                dims=2,
                in_channels=2,
                out_channels=4,
                groups=2,
                kernel_size=(2, 3),
                stride=(2, 1),
                dilation=(1, 2),
                padding=((1, 0), (2, 1)),
                padding_mode="circular",
            ),
            (4, 5),
        ),
        (sc.Conv(dims=3, kernel_size=2, padding=1, padding_mode="reflect"), (3, 2, 3)),
    ],
)
def test_symbolic_toeplitz_substituted_matches_torch(spec, size):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(sc.index_form(spec, size).in_shape())
    w = rng.standard_normal(spec.weight_shape)
    t = sc.toeplitz(spec, size)
    values = {W[idx]: w[idx] for idx in np.ndindex(*w.shape)}
    dense = np.zeros(t.shape)
    for (r, c), v in t.todok().items():
        dense[r, c] = float(v.xreplace(values))
    np.testing.assert_allclose(dense @ x.ravel(), torch_conv(spec, x, w).ravel(), atol=1e-10)
    np.testing.assert_allclose(dense, sc.toeplitz_numeric(spec, size, w).toarray(), atol=1e-14)


# -- the lectures' worked examples --------------------------------------------------------------
def test_lecture_1d_valid():
    w1, w2, w3 = W[0, 0, 0], W[0, 0, 1], W[0, 0, 2]
    t = sc.toeplitz(sc.Conv(dims=1, kernel_size=3), 5)
    assert t == sympy.Matrix([[w1, w2, w3, 0, 0], [0, w1, w2, w3, 0], [0, 0, w1, w2, w3]])
    flipped = sc.toeplitz(sc.Conv(dims=1, kernel_size=3, flip=True), 5)
    assert flipped == sympy.Matrix([[w3, w2, w1, 0, 0], [0, w3, w2, w1, 0], [0, 0, w3, w2, w1]])


def _kernel_subs(names: str) -> dict:
    syms = sympy.symbols(names)
    return {W[0, 0, i, j]: syms[2 * i + j] for i in range(2) for j in range(2)}


def test_goodfellow_3x4_input_2x2_kernel():
    a, b, c, d, e, f, g, h, i, j, k, l = sympy.symbols("a b c d e f g h i j k l")
    w, x, y, z = sympy.symbols("w x y z")
    t = sc.toeplitz(sc.Conv(dims=2, kernel_size=2), (3, 4)).xreplace(_kernel_subs("w x y z"))
    out = (t * sympy.Matrix([a, b, c, d, e, f, g, h, i, j, k, l])).reshape(2, 3)
    expected = sympy.Matrix(
        [
            [
                a * w + b * x + e * y + f * z,
                b * w + c * x + f * y + g * z,
                c * w + d * x + g * y + h * z,
            ],
            [
                e * w + f * x + i * y + j * z,
                f * w + g * x + j * y + k * z,
                g * w + h * x + k * y + l * z,
            ],
        ]
    )
    assert (out - expected).expand() == sympy.zeros(2, 3)


def test_larson_3x3_input_2x2_filter():
    X = sympy.Matrix(3, 3, lambda r, c: sympy.Symbol(f"X{r + 1}{c + 1}"))
    Fs = sympy.Matrix(2, 2, lambda r, c: sympy.Symbol(f"F{r + 1}{c + 1}"))
    t = sc.toeplitz(sc.Conv(dims=2, kernel_size=2), 3).xreplace(_kernel_subs("F11 F12 F21 F22"))
    out = (t * X.reshape(9, 1)).reshape(2, 2)
    for r in range(2):
        for c in range(2):
            expected = sum(X[r + u, c + v] * Fs[u, v] for u in range(2) for v in range(2))
            assert sympy.expand(out[r, c] - expected) == 0, (r, c)
    O11 = (
        sympy.Symbol("X11") * Fs[0, 0]
        + sympy.Symbol("X12") * Fs[0, 1]
        + sympy.Symbol("X21") * Fs[1, 0]
        + sympy.Symbol("X22") * Fs[1, 1]
    )
    assert sympy.expand(out[0, 0] - O11) == 0


def test_repeated_taps_are_summed():
    t = sc.toeplitz(sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="reflect"), 5)
    assert t[0, 1] == W[0, 0, 0] + W[0, 0, 2]  # x̃[-1] = x[1] and x̃[1] = x[1]
    assert t[4, 3] == W[0, 0, 0] + W[0, 0, 2]
    c = sc.toeplitz(sc.Conv(dims=1, kernel_size=3, padding=2, padding_mode="circular"), 2)
    assert c[0, 0] == W[0, 0, 0] + W[0, 0, 2]


# -- T = V Pad --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", sc.spec.PADDING_MODES)
@pytest.mark.parametrize(
    "dims, size, kernel, stride, padding",
    [
        (1, 6, 3, 1, 2),
        (1, 5, 4, 2, (1, 2)),
        (2, (4, 5), (3, 2), (1, 2), ((2, 1), (1, 1))),
    ],
)
def test_toeplitz_is_valid_times_pad(mode, dims, size, kernel, stride, padding):
    if isinstance(padding, tuple) and dims == 1:
        padding = (padding,)
    spec = sc.Conv(
        dims=dims,
        in_channels=2,
        out_channels=2,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        padding_mode=mode,
    )
    t, v, pad = (
        sc.toeplitz(spec, size),
        sc.valid_matrix(spec, size),
        sc.padding_matrix(spec, size),
    )
    assert sparse_product(dict(v.todok()), dict(pad.todok())) == dict(t.todok())
    assert set(pad.todok().values()) <= {1}
    off = [(r, c) for (r, c) in pad.todok() if mode != "zeros"]
    assert (len(off) > pad.shape[1]) == (mode != "zeros")  # border rows copy inputs


def test_padding_matrix_reflect_rows():
    pad = sc.padding_matrix(sc.Conv(dims=1, kernel_size=3, padding=2, padding_mode="reflect"), 4)
    assert pad.shape == (8, 4)
    # x̃ = (x2, x1, x0, x1, x2, x3, x2, x1): rows with a 1 away from the shifted diagonal
    assert [pad.row(j).tolist()[0].index(1) for j in range(8)] == [2, 1, 0, 1, 2, 3, 2, 1]


# -- structure ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec, size, name",
    [
        (sc.Conv(dims=1, kernel_size=3), 6, "Toeplitz"),
        (sc.Conv(dims=1, kernel_size=3, padding=1), 6, "Toeplitz"),
        (sc.Conv(dims=2, kernel_size=3, padding=1), 4, "doubly block Toeplitz"),
        (sc.Conv(dims=2, in_channels=2, out_channels=3, kernel_size=2), 4, "doubly block Toeplitz"),
        (sc.Conv(dims=3, kernel_size=2), 3, "triply block Toeplitz"),
        (sc.Conv(dims=1, kernel_size=3, stride=2), 7, "strided Toeplitz"),
        (sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular"), 5, "circulant"),
        (
            sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode="circular"),
            4,
            "doubly block circulant",
        ),
        (
            sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="reflect"),
            5,
            "Toeplitz with boundary corrections",
        ),
        (
            sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode="replicate"),
            4,
            "doubly block Toeplitz with boundary corrections",
        ),
        (
            sc.LocallyConnected(dims=1, kernel_size=2, input_size=4),
            4,
            "unstructured (weights vary with position)",
        ),
    ],
)
def test_structure(spec, size, name):
    found = sc.structure(spec, size)
    assert found.name == name, found
    assert found.evidence


def test_circular_with_stride_is_not_circulant():
    found = sc.structure(
        sc.Conv(dims=1, kernel_size=3, padding=1, stride=2, padding_mode="circular"), 6
    )
    assert not found.circulant and found.corrections > 0


# -- patch matrix -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec, size",
    [
        (
            sc.Conv(
                dims=2,
                in_channels=2,
                out_channels=4,
                groups=2,
                kernel_size=2,
                padding=1,
                padding_mode="reflect",
            ),
            (3, 4),
        ),
        (sc.Conv(dims=1, in_channels=3, out_channels=2, kernel_size=3, stride=2, flip=True), 7),
        (sc.Tiled(dims=1, kernel_size=2, tiles=2, out_channels=2), 5),
    ],
)
def test_patch_matrix_gives_the_same_numbers(spec, size):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(sc.index_form(spec, size).in_shape())
    w = rng.standard_normal(spec.weight_shape)
    xm = sc.patch_matrix(spec, size)
    X = sympy.IndexedBase("x")
    values = {X[idx]: x[idx] for idx in np.ndindex(*x.shape)}
    dense = np.zeros(xm.shape)
    for (r, c), v in xm.todok().items():
        dense[r, c] = float(v.xreplace(values))
    np.testing.assert_allclose(
        dense @ w.ravel(), sc.toeplitz_numeric(spec, size, w) @ x.ravel(), atol=1e-12
    )


# -- size guard and cost ----------------------------------------------------------------------
def test_size_guard_names_shape_count_and_alternative():
    spec = sc.Conv(dims=2, in_channels=64, out_channels=64, kernel_size=3, padding=1)
    with pytest.raises(sc.SpecError) as err:
        sc.toeplitz(spec, (64, 64))
    msg = str(err.value)
    assert "262144x262144" in msg and "nonzeros" in msg and "toeplitz_numeric" in msg
    with pytest.raises(sc.SpecError, match="max_nonzeros 10"):
        sc.toeplitz(sc.Conv(dims=1, kernel_size=3), 8, max_nonzeros=10)


def test_construction_touches_only_the_nonzeros(monkeypatch):
    module = sys.modules["symconv.toeplitz"]
    seen = []
    real = module.SparseMatrix

    def record(rows, cols, entries):
        seen.append((rows, cols, len(entries)))
        return real(rows, cols, entries)

    monkeypatch.setattr(module, "SparseMatrix", record)
    for n in (8, 16, 32):
        spec = sc.Conv(dims=2, kernel_size=3, padding=1)
        form = sc.index_form(spec, n)
        t = sc.toeplitz(spec, n)
        rows, cols, entries = seen[-1]
        assert (rows, cols) == (n * n, n * n)
        assert entries == form.nonzeros() == t.nnz() == len(form.gather()) == 9 * n * n - 12 * n + 4


def test_weight_shape_checked_by_numeric_form():
    with pytest.raises(sc.SpecError, match="weight shape"):
        sc.toeplitz_numeric(sc.Conv(dims=1, kernel_size=3), 5, np.zeros((1, 1, 2)))


def test_pooling_has_no_toeplitz():
    with pytest.raises(sc.SpecError, match="pooling"):
        sc.toeplitz(sc.Pool(dims=1, kernel_size=2), 4)


def test_factored_matvec_is_t_times_x():
    """`factored_matvec` (T x from the factors, T never assembled) equals the assembled
    `toeplitz_numeric(...) @ x` on the verification grid, and torch on a 64x64 16 -> 16 layer."""
    from symconv._torchref import conv_reference
    from symconv.backprop import exact_grid
    from symconv.toeplitz import factored_matvec

    rng = np.random.default_rng(3)
    for spec, size in exact_grid(quick=True):
        form = sc.index_form(spec, size)
        w, x = rng.standard_normal(spec.weight_shape), rng.standard_normal(form.in_shape())
        want = sc.toeplitz_numeric(spec, size, w) @ x.ravel()
        assert np.allclose(factored_matvec(form, w, x), want, atol=1e-12), (spec, size)
    spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=3, stride=2, padding=1,
                   padding_mode="reflect", groups=4)  # fmt: skip
    form = sc.index_form(spec, (64, 64))
    w, x = rng.standard_normal(spec.weight_shape), rng.standard_normal(form.in_shape())
    ref = conv_reference(spec, x[None], w).numpy().ravel()
    assert np.allclose(factored_matvec(form, w, x), ref, atol=1e-10)


def test_factored_product_check_on_a_long_axis():
    """An axis too long for a dense per-axis matrix goes through SciPy sparse, same answer."""
    from symconv.toeplitz import factored_product_check

    for mode in ("zeros", "reflect", "circular"):
        spec = sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode=mode)
        ok, nnz = factored_product_check(sc.index_form(spec, 3000))
        assert ok and nnz == sc.index_form(spec, 3000).nonzeros()
