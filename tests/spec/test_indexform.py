"""The index form: the index map, its taps, its symbolic expression, pooling, unshared weights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symconv as sc
from symconv._torchref import pool_reference

torch.set_num_threads(1)


# -- the index map ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mode, expected",
    [
        ("zeros", [None, None, 0, 1, 2, 3, None, None]),
        ("circular", [2, 3, 0, 1, 2, 3, 0, 1]),
        ("reflect", [2, 1, 0, 1, 2, 3, 2, 1]),
        ("replicate", [0, 0, 0, 1, 2, 3, 3, 3]),
    ],
)
def test_pad_map_per_mode(mode, expected):
    form = sc.index_form(sc.Conv(dims=1, kernel_size=3, padding=2, padding_mode=mode), 4)
    assert [form.pad_map(0, j) for j in range(8)] == expected
    assert form.pad_map(0, 8) is None and form.pad_map(0, -1) is None


def test_source_applies_stride_dilation_padding_and_flip():
    spec = sc.Conv(dims=1, kernel_size=3, stride=2, dilation=2, padding=(1,))
    form = sc.index_form(spec, 9)
    assert form.output_size == (4,)
    # S o + D a - P
    assert [[form.source(0, o, a) for a in range(3)] for o in range(4)] == [
        [None, 1, 3],
        [1, 3, 5],
        [3, 5, 7],
        [5, 7, None],
    ]
    flipped = sc.index_form(spec.replace(flip=True), 9)
    assert [flipped.source(0, 1, a) for a in range(3)] == [5, 3, 1]


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 6),
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(0, 2),
    st.sampled_from(sc.spec.PADDING_MODES),
    st.booleans(),
)
def test_tap_table_is_source_everywhere(dims, size, k, s, d, p, mode, flip):
    try:
        spec = sc.Conv(
            dims=dims, kernel_size=k, stride=s, dilation=d, padding=p, padding_mode=mode, flip=flip
        )
        form = sc.index_form(spec, size)
    except sc.SpecError:
        assume(False)
    table = form.tap_table(0)
    for o in range(form.output_size[0]):
        for a in range(k):
            src = form.source(0, o, a)
            assert table[o, a] == (-1 if src is None else src)
            j = s * o + d * (k - 1 - a if flip else a)
            assert src == form.pad_map(0, j)


def test_taps_agree_with_gather():
    spec = sc.Conv(
        dims=2,
        in_channels=4,
        out_channels=6,
        groups=2,
        kernel_size=(2, 3),
        stride=(1, 2),
        padding=1,
        padding_mode="reflect",
        flip=True,
    )
    form = sc.index_form(spec, (3, 5))
    g = form.gather()
    from_gather = {
        (int(r), int(c), int(w)) for r, c, w in zip(g.rows, g.cols, g.weights, strict=True)
    }
    from_taps = set()
    for out in np.ndindex(*form.out_shape()):
        r = np.ravel_multi_index(out, form.out_shape())
        for widx, inp in form.taps(out):
            assert inp[0] // 2 == out[0] // 3  # groups: input channels of this group only
            from_taps.add(
                (
                    int(r),
                    int(np.ravel_multi_index(inp, form.in_shape())),
                    int(np.ravel_multi_index(widx, form.weight_shape)),
                )
            )
    assert from_taps == from_gather
    assert len(g) == form.tap_count()


def test_symbolic_form_needs_sizes_for_the_map():
    form = sc.index_form(sc.Conv(dims=2, kernel_size=3))
    assert form.input_size is None
    assert "sum" in form.latex()
    with pytest.raises(sc.SpecError, match="input_size"):
        form.source(0, 0, 0)


# -- the symbolic expression ------------------------------------------------------------------
def test_expression_has_symbolic_sizes():
    form = sc.index_form(sc.Conv(dims=2, in_channels=4, out_channels=6, groups=2, kernel_size=3))
    eq = form.expression()
    names = {str(s) for s in eq.free_symbols}
    assert {r"C_{\mathrm{in}}", r"C_{\mathrm{out}}", "G", "K_1", "K_2", "S_1", "D_2"} <= names
    tex = form.latex()
    assert tex.startswith("{y}_{n,k,o_{1},o_{2}} =") and r"\tilde{x}" in tex
    assert r"\left\lfloor" in tex  # the group's channel offset


@pytest.mark.parametrize(
    "spec, size",
    [
        (sc.Conv(dims=1, kernel_size=3, stride=2, dilation=2), 9),
        (
            sc.Conv(dims=2, in_channels=4, out_channels=2, groups=2, kernel_size=2, flip=True),
            (3, 3),
        ),
        (sc.Conv(dims=1, in_channels=2, out_channels=2, kernel_size=2), 4),
    ],
)
def test_expression_evaluates_to_the_toeplitz_rows(spec, size):
    """expression(symbolic=False), summed out at each output, is row r of T applied to x."""
    form = sc.index_form(spec, size)
    s = form.symbols()
    x, xt = sympy.IndexedBase("x"), sympy.IndexedBase(r"\tilde{x}")
    t = sc.toeplitz(spec, size)
    xs = sympy.Matrix([x[idx] for idx in np.ndindex(*form.in_shape())])
    ty = t * xs
    rhs = form.expression(symbolic=False).rhs
    for r, (k, *o) in enumerate(np.ndindex(*form.out_shape())):
        val = rhs.xreplace({s["n"]: 0, s["k"]: k, **dict(zip(s["o"], o, strict=True))}).doit()
        val = val.replace(
            lambda e: isinstance(e, sympy.Indexed) and e.base == xt, lambda e: x[e.indices[1:]]
        )
        val = val - sympy.IndexedBase("b")[k]
        assert sympy.expand(val - ty[r]) == 0, (k, o)


@pytest.mark.parametrize("mode", sc.spec.PADDING_MODES)
def test_padding_expression_matches_pad_map(mode):
    form = sc.index_form(sc.Conv(dims=1, kernel_size=3, padding=2, padding_mode=mode), 4)
    eq = form.padding_expression()
    s = form.symbols()
    x = sympy.IndexedBase("x")
    for j in range(8):
        val = eq.rhs.xreplace(
            {sympy.Symbol("j", integer=True): j, s["P"][0]: 2, s["I"][0]: 4, s["n"]: 0, s["c"]: 0}
        )
        src = form.pad_map(0, j)
        assert val == (0 if src is None else x[0, 0, src])


def test_pooling_expressions_render():
    assert r"\max_" in sc.index_form(sc.Pool(dims=2, kind="max", kernel_size=2)).latex()
    avg = sc.index_form(sc.Pool(dims=1, kind="avg", kernel_size=3, count_include_pad=False))
    assert "N_{o}" in avg.latex()
    lp = sc.index_form(sc.Pool(dims=1, kind="lp", kernel_size=2, norm_type=3))
    assert lp.expression(symbolic=False).rhs.has(sympy.Rational(1, 3))


def test_transpose_expression_is_a_delta_sum():
    spec = sc.ConvTranspose(dims=1, kernel_size=3, stride=2)
    assert sc.index_form(spec).expression().rhs.has(sympy.KroneckerDelta)


# -- pooling through the gather ---------------------------------------------------------------
@st.composite
def pool_cases(draw):
    dims = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["max", "avg", "lp"]))
    kernel = draw(st.integers(1, 3))
    kw = {"stride": draw(st.integers(1, 3)), "ceil_mode": draw(st.booleans())}
    if kind != "lp":
        kw["padding"] = draw(st.integers(0, kernel // 2))
    if kind == "max":
        kw["dilation"] = draw(st.integers(1, 2))
    if kind == "avg":
        kw["count_include_pad"] = draw(st.booleans())
        kw["divisor_override"] = draw(st.sampled_from([None, 2]))
    if kind == "lp":
        kw["norm_type"] = draw(st.sampled_from([1, 2, 3]))
    size = draw(st.integers(1, 7))
    try:
        spec = sc.Pool(dims=dims, kind=kind, kernel_size=kernel, **kw)
        spec.output_size(size)
    except sc.SpecError:
        assume(False)
    return spec, size


def torch_pool(spec, x):
    return pool_reference(spec, torch.from_numpy(x)[None])[0].numpy()


@settings(max_examples=60, deadline=None)
@given(pool_cases(), st.integers(0, 2**32 - 1))
def test_pool_gather_matches_torch(case, seed):
    spec, size = case
    assume(not (spec.kind == "avg" and spec.dims == 1 and spec.divisor_override))
    # torch's lp pooling is avg_pool * kernel size: a clipped ceil-mode window is rescaled
    assume(not (spec.kind == "lp" and spec.ceil_mode))
    form = sc.index_form(spec, size, channels=2)
    x = np.random.default_rng(seed).uniform(0.1, 2.0, form.in_shape())
    g, n_out = form.gather(), int(np.prod(form.out_shape()))
    flat = x.ravel()[g.cols]
    if spec.kind == "max":
        y = np.full(n_out, -np.inf)
        np.maximum.at(y, g.rows, flat)
    else:
        y = np.zeros(n_out)
        np.add.at(y, g.rows, flat if spec.kind == "avg" else flat**spec.norm_type)
        if spec.kind == "avg":
            y = y / np.tile(form.divisors().ravel(), 2)
        else:
            y = y ** (1 / spec.norm_type)
    np.testing.assert_allclose(y, torch_pool(spec, x).ravel(), rtol=1e-10, atol=1e-12)


# -- locally connected and tiled ----------------------------------------------------------------
def torch_local(spec: sc.LocallyConnected, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Unshared 2D convolution via F.unfold: y[k, o] = sum_{c,a} w[k, o, c, a] patch[c, a, o]."""
    xt = torch.from_numpy(x)[None]
    pads = [p for lo, hi in reversed(spec.pads) for p in (lo, hi)]
    xt = F.pad(xt, pads, mode="constant" if spec.padding_mode == "zeros" else spec.padding_mode)
    cols = F.unfold(xt, spec.kernel_size, dilation=spec.dilation, stride=spec.stride)[0]
    out = spec.output_size()
    cols = cols.reshape(spec.in_channels, *spec.kernel_size, *out).numpy()
    return np.einsum("kpqcij,cijpq->kpq", w, cols)


@pytest.mark.parametrize(
    "spec",
    [
        sc.LocallyConnected(
            dims=2,
            in_channels=2,
            out_channels=3,
            kernel_size=(2, 3),
            stride=(1, 2),
            padding=1,
            input_size=(4, 5),
        ),
        sc.LocallyConnected(
            dims=2,
            kernel_size=3,
            padding=1,
            padding_mode="reflect",
            dilation=(1, 2),
            input_size=(4, 6),
        ),
    ],
)
def test_locally_connected_matches_unfold(spec):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((spec.in_channels, *spec.input_size))
    w = rng.standard_normal(spec.weight_shape)
    t = sc.toeplitz_numeric(spec, spec.input_size, w)
    np.testing.assert_allclose(t @ x.ravel(), torch_local(spec, x, w).ravel(), atol=1e-10)


def test_locally_connected_with_equal_kernels_is_the_convolution():
    conv = sc.Conv(
        dims=1,
        in_channels=2,
        out_channels=4,
        groups=2,
        kernel_size=3,
        padding=1,
        padding_mode="circular",
    )
    local = sc.LocallyConnected(
        dims=1,
        in_channels=2,
        out_channels=4,
        groups=2,
        kernel_size=3,
        padding=1,
        padding_mode="circular",
        input_size=6,
    )
    w = np.random.default_rng(4).standard_normal(conv.weight_shape)
    wl = np.repeat(w[:, None], 6, axis=1)
    assert wl.shape == local.weight_shape
    np.testing.assert_allclose(
        sc.toeplitz_numeric(local, 6, wl).toarray(), sc.toeplitz_numeric(conv, 6, w).toarray()
    )


def test_tiled_rotates_kernels_through_space():
    tiled = sc.Tiled(dims=2, in_channels=1, out_channels=2, kernel_size=2, tiles=(2, 3))
    local = sc.LocallyConnected(dims=2, out_channels=2, kernel_size=2, input_size=(5, 7))
    w = np.random.default_rng(5).standard_normal(tiled.weight_shape)
    wl = w[:, np.arange(4) % 2][:, :, np.arange(6) % 3]  # w[k, o mod t, ...]
    np.testing.assert_allclose(
        sc.toeplitz_numeric(tiled, (5, 7), w).toarray(),
        sc.toeplitz_numeric(local, (5, 7), wl).toarray(),
    )
    t = sc.toeplitz(tiled, (5, 7))
    w_ = sympy.IndexedBase("w")
    assert t[0, 0] == w_[0, 0, 0, 0, 0, 0] and t[1, 1] == w_[0, 0, 1, 0, 0, 0]
    assert t[3, 3] == w_[0, 0, 0, 0, 0, 0]  # output (0, 3): tile (0, 3 mod 3) = (0, 0)
    one = sc.Tiled(dims=1, kernel_size=3, tiles=1)
    assert sc.toeplitz(one, 6) == sc.toeplitz(sc.Conv(dims=1, kernel_size=3), 6).applyfunc(
        lambda e: e.xreplace({w_[0, 0, a]: w_[0, 0, 0, a] for a in range(3)})
    )


def test_local_specs_validate():
    with pytest.raises(sc.SpecError, match="tiles"):
        sc.Tiled(dims=2, kernel_size=3, tiles=0)
    with pytest.raises(sc.SpecError, match="tiles"):
        sc.Tiled(dims=2, kernel_size=3, tiles=(1, 2, 3))
    with pytest.raises(sc.SpecError, match="LocallyConnected: kernel_size 5"):
        sc.LocallyConnected(dims=1, kernel_size=5, input_size=3)
    with pytest.raises(sc.SpecError, match="groups"):
        sc.LocallyConnected(dims=1, in_channels=3, groups=2, kernel_size=1, input_size=3)
    spec = sc.LocallyConnected(dims=2, kernel_size=3, input_size=5)
    with pytest.raises(sc.SpecError, match="built for"):
        spec.output_size(6)
    assert spec.num_parameters() == 9 * 9 + 9
    assert spec.macs(5) == 9 * 9
    assert "LocallyConnected2d(" in str(spec) and "tiles=(2,)" in str(
        sc.Tiled(dims=1, kernel_size=2, tiles=2)
    )


def test_index_form_rejects_other_objects():
    with pytest.raises(sc.SpecError, match="index_form"):
        sc.index_form(object())


def test_factors_multiply_to_the_gather() -> None:
    """`factors()` (channel pairs times one tap table per axis) is exactly `gather()`, padded
    or not, on the verification grid and on transposed layers: the checks that compare
    factors compare the operator."""
    from symconv.backprop import exact_grid
    from symconv.transpose import ConvTranspose

    forms = [sc.index_form(c, s) for c, s in exact_grid(quick=True)]
    forms += [
        sc.index_form(
            ConvTranspose(
                dims=2,
                in_channels=4,
                out_channels=6,
                groups=2,
                kernel_size=3,
                stride=s,
                padding=p,
                output_padding=op,
            ),
            (4, 5),
        )
        for s, p, op in ((1, 0, 0), (2, 1, 1), (3, 2, 0))
    ]
    for form in forms:
        for padded in (False, True) if form.kind == "conv" else (False,):
            g, h = form.gather(padded), form.factors(padded).gather()
            assert np.array_equal(g.rows, h.rows) and np.array_equal(g.cols, h.cols)
            assert np.array_equal(g.weights, h.weights) and len(form.factors(padded)) == len(g)
    with pytest.raises(sc.SpecError, match="factors"):
        sc.index_form(sc.Pool(dims=1, kernel_size=2), 4).factors()


def test_nonzeros_counts_the_matrix_entries() -> None:
    """`nonzeros()` is the number of entries of the layer's matrix (ones for weights: no sum
    cancels), on strided layers whose inputs outnumber outputs x taps too: the (row, col) keys
    of an axis were once packed with the table's size, and (0, 7) met (1, 1) on an 8-long input
    read by 5 outputs of one tap (12 counted, 15 entries)."""
    cases = itertools.product(
        ((8, 1), (9, 4), (5, 7)),  # input sizes
        (1, 2, 3),  # kernel
        ((1, 1), (2, 1), (3, 2)),  # stride
        (0, 1),  # padding
        ("zeros", "reflect", "replicate", "circular"),
    )
    checked = 0
    for size, k, stride, pad, mode in cases:
        if mode == "reflect" and pad >= min(size):
            continue
        spec = sc.Conv(dims=2, kernel_size=k, stride=stride, padding=pad, padding_mode=mode)
        try:
            spec.output_size(size)
        except sc.SpecError:
            continue
        T = sc.toeplitz_numeric(spec, size, np.ones((1, 1, k, k)))
        T.eliminate_zeros()
        assert sc.index_form(spec, size).nonzeros() == T.nnz, (spec, size)
        checked += 1
    assert checked > 100
