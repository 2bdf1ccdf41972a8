"""Every arithmetic example of the lectures, with the engine's value.

Sources (shared/seeds): Khan, CS-568 (000); Xu, CS 4644 lecture 8, after CS231n (001); Kondor,
STAT 37710 Topic 12 (002); Larson, Machine Learning in Python (003); Fischer, ConvNets, after
Goodfellow et al. (004). Where a lecture prints a wrong number, the test asserts the computed
value and `symconv.errata` records the difference.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy

from symconv import Conv, Pool, arch, errata, receptive_field
from symconv.arith import SYMBOLS, conv_output_formula, lecture_formula_derivation
from symconv.backprop import grad_weight_op, sympy_gradients


def conv(
    k: int, stride: int = 1, padding: int = 0, c_in: int = 1, c_out: int = 1, bias: bool = True
) -> Conv:
    return Conv(
        in_channels=c_in,
        out_channels=c_out,
        kernel_size=k,
        stride=stride,
        padding=padding,
        bias=bias,
    )


def lecture_formula(n: int, f: int, s: int, p: int = 0) -> Fraction:
    """The lectures' $(N - F + 2P)/S + 1$, exactly (it is not always an integer)."""
    return Fraction(n - f + 2 * p, s) + 1


# -- output sizes (001: CS 4644 lecture 8) ----------------------------------------------------------
@pytest.mark.parametrize(
    ("stride", "padding", "size"), [(1, 0, 5), (2, 0, 3), (1, 1, 7), (3, 1, 3)]
)
def test_7x7_input_3x3_filter(stride: int, padding: int, size: int) -> None:
    spec = conv(3, stride, padding)
    assert spec.output_size(7) == (size, size)
    assert spec.fits(7).exact
    assert lecture_formula(7, 3, stride, padding) == size


def test_7x7_input_3x3_filter_stride_3_does_not_fit() -> None:
    spec = conv(3, 3)
    assert spec.fits(7).unused == (1, 1)
    assert not spec.fits(7)
    assert lecture_formula(7, 3, 3) == Fraction(7, 3)
    assert f"{float(lecture_formula(7, 3, 3)):.2f}" == "2.33"
    assert spec.output_size(7) == (2, 2)  # what torch computes: the floor


def test_lecture_formula_is_the_general_one() -> None:
    S = SYMBOLS
    values = {S["i"]: 7, S["k"]: 3, S["s"]: 2, S["p"]: 0, S["d"]: 1}
    assert conv_output_formula().subs(values) == 3
    assert lecture_formula_derivation().verify().passed


def test_32x32x3_stretched_or_kept_and_six_5x5_filters() -> None:
    """001: a 32x32x3 image stretches to 3072 x 1 for a fully connected layer; six 5x5 filters
    give six 28x28 activation maps, 'a new image of size 28x28x6'."""
    flat = arch.Network("fc", (3, 32, 32), [arch.Flatten("flatten")]).table()
    assert flat.output_shape == (3072,)
    spec = conv(5, c_in=3, c_out=6)
    assert (spec.out_channels, *spec.output_size(32)) == (6, 28, 28)
    assert spec.num_parameters() == 6 * (5 * 5 * 3 + 1) == 456


def test_32x32x3_with_ten_5x5_filters_stride_1_pad_2() -> None:
    spec = conv(5, 1, 2, c_in=3, c_out=10)
    assert spec.output_size((32, 32)) == (32, 32)
    assert (spec.out_channels, *spec.output_size(32)) == (10, 32, 32)
    assert conv(5, c_in=3).num_parameters() == 5 * 5 * 3 + 1 == 76
    assert spec.num_parameters() == 760
    assert lecture_formula(32, 5, 1, 2) == 32


def test_repeated_5x5_convolutions_shrink_32_28_24() -> None:
    sizes = [32]
    for _ in range(2):
        sizes.append(conv(5).output_size(sizes[-1])[0])
    assert sizes == [32, 28, 24]


@pytest.mark.parametrize("f", [3, 5, 7])
@pytest.mark.parametrize("n", [7, 32, 224])
def test_padding_f_minus_1_over_2_preserves_size(n: int, f: int) -> None:
    assert conv(f, padding=(f - 1) // 2).output_size(n) == (n, n)
    assert Conv(kernel_size=f, padding="same").pads == (((f - 1) // 2,) * 2,) * 2


def test_conv_layer_summary_parameters() -> None:
    """'Number of parameters: F^2 C K and K biases', for F = 3, C = 64, K = 128."""
    spec = conv(3, c_in=64, c_out=128)
    assert spec.num_parameters() == 3**2 * 64 * 128 + 128


# -- output sizes (002: Kondor) --------------------------------------------------------------------
@pytest.mark.parametrize(("n", "out"), [(6, 4), (8, 6)])
def test_kondor_n_k3_s1(n: int, out: int) -> None:
    assert conv(3).output_size(n) == (out, out)


def test_kondor_zero_padding_needed_to_preserve_28() -> None:
    spec = Conv(in_channels=3, out_channels=100, kernel_size=3, padding="same")
    assert spec.pads == ((1, 1), (1, 1))
    assert spec.output_size(28) == (28, 28)
    # "Number of parameters in this layer?": 28 per filter, 2,800 in all (errata)
    assert Conv(in_channels=3, out_channels=1, kernel_size=3).num_parameters() == 28
    assert spec.num_parameters() == 2_800
    assert spec.replace(bias=False).num_parameters() == 2_700


# -- pooling: W2 = (W1 - F)/S + 1 ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("w1", "f", "s", "w2"),
    [(55, 3, 2, 27), (224, 2, 2, 112), (28, 2, 2, 14), (27, 3, 2, 13), (13, 3, 2, 6), (4, 2, 2, 2)],
)
def test_pool_output_size(w1: int, f: int, s: int, w2: int) -> None:
    pool = Pool(kind="max", kernel_size=f, stride=s)
    assert pool.output_size(w1) == (w2, w2)
    assert pool.num_parameters() == 0
    assert math.floor(lecture_formula(w1, f, s)) == w2


@pytest.mark.parametrize("n", [4, 10, 28, 56])
def test_khan_downsampling_by_2_gives_n_over_2(n: int) -> None:
    pool = Pool(kind="max", kernel_size=2, stride=2)
    assert pool.output_size(n) == (n // 2, n // 2)
    # "The options in the last slide discard 75% of the data": 2x2 windows at stride 2
    assert Fraction(pool.activations(n), n * n) == Fraction(1, 4)


# -- computing gradients (000: Khan) ---------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_khan_valid_convolution_of_equal_and_one_larger_arrays(n: int) -> None:
    """'A valid convolution of an n x n array with another n x n array' gives 1 x 1; an
    (n + 1) x (n + 1) array with an n x n one gives 2 x 2."""
    spec = conv(n)
    assert spec.output_size(n) == (1, 1)
    assert spec.output_size(n + 1) == (2, 2)


def test_khan_1d_weight_gradient_is_a_valid_convolution_with_the_deltas() -> None:
    """A 3x1 filter, 5 outputs: the zero-padded input [0 x1 .. x5 0] validly convolved with the
    5 deltas gives the 3 weight derivatives, and dL/db = sum of the deltas."""
    spec = Conv(dims=1, kernel_size=3, padding=1)
    op = grad_weight_op(spec, 5)
    assert (op.padded_size, op.conv.kernel_size, op.kernel_size) == ((7,), (5,), (3,))
    g = sympy_gradients(spec, 5)
    x, w, b, delta = g["x"], g["w"], g["b"], g["delta"]
    padded = [0, *(x[i] for i in range(5)), 0]
    for a in range(3):
        by_valid = sum(delta[o] * padded[o + a] for o in range(5))
        assert sympy.expand(sympy.diff(g["loss"], w[a]) - by_valid) == 0
    assert sympy.diff(g["loss"], b[0]) == sum(delta[o] for o in range(5))


def test_larson_gradients_of_a_2x2_filter_on_a_3x3_input() -> None:
    """Larson: dL/dF_ij = sum_o dL/dO_o X_(o + ij) (dL/dF12 = d11 X12 + d12 X13 + d21 X22 +
    d22 X23), and dL/dX = full convolution of dL/dO with the filter rotated by 180 degrees
    (dL/dX22 = d11 F22 + d12 F21 + d21 F12 + d22 F11, dL/dX21 = d11 F21 + d21 F11)."""
    g = sympy_gradients(Conv(kernel_size=2, bias=False), 3)
    loss, x, w, delta = g["loss"], g["x"], g["w"], g["delta"]
    X = lambda i, j: x[3 * (i - 1) + (j - 1)]  # noqa: E731 (row-major, 1-based as printed)
    F = lambda i, j: w[2 * (i - 1) + (j - 1)]  # noqa: E731
    d = lambda i, j: delta[2 * (i - 1) + (j - 1)]  # noqa: E731
    df12 = d(1, 1) * X(1, 2) + d(1, 2) * X(1, 3) + d(2, 1) * X(2, 2) + d(2, 2) * X(2, 3)
    dx22 = d(1, 1) * F(2, 2) + d(1, 2) * F(2, 1) + d(2, 1) * F(1, 2) + d(2, 2) * F(1, 1)
    assert sympy.diff(loss, F(1, 2)) == df12
    assert sympy.diff(loss, X(2, 2)) == dx22
    assert sympy.diff(loss, X(2, 1)) == d(1, 1) * F(2, 1) + d(2, 1) * F(1, 1)
    for i in (1, 2):
        for j in (1, 2):
            printed = sum(d(a, b) * X(a + i - 1, b + j - 1) for a in (1, 2) for b in (1, 2))
            assert sympy.expand(sympy.diff(loss, F(i, j)) - printed) == 0
    for i in (1, 2, 3):  # the full convolution with the rotated filter, every input
        for j in (1, 2, 3):
            full = sum(
                d(a, b) * F(i - a + 1, j - b + 1)
                for a in (1, 2)
                for b in (1, 2)
                if 1 <= i - a + 1 <= 2 and 1 <= j - b + 1 <= 2
            )
            assert sympy.expand(sympy.diff(loss, X(i, j)) - full) == 0


# -- shared weights (000: Khan) --------------------------------------------------------------------
def test_10x10_feature_map_from_5x5_patches_shares_26_weights() -> None:
    spec = conv(5)
    assert spec.output_size(14) == (10, 10)  # a 14x14 previous layer gives 100 neurons
    assert spec.activations(14) == 100
    assert spec.num_parameters() == 26 == 5 * 5 + 1


# -- AlexNet (001, 002) ---------------------------------------------------------------------------
def test_alexnet_conv1_and_pool1() -> None:
    conv1 = Conv(in_channels=3, out_channels=96, kernel_size=11, stride=4)
    assert conv1.output_size(227) == (55, 55)
    assert lecture_formula(227, 11, 4) == 55
    assert conv1.num_parameters() == (11 * 11 * 3 + 1) * 96 == 34_944
    assert round(conv1.num_parameters(), -3) == 35_000  # "35K"
    assert math.prod(conv1.weight_shape) == 34_848  # Kondor's 11 x 11 x 3 x 96, no biases
    pool1 = Pool(kind="max", kernel_size=3, stride=2)
    assert pool1.output_size(55) == (27, 27)
    assert lecture_formula(55, 3, 2) == 27
    table = arch.get("alexnet").table()
    assert table.row("pool1").volume == "27x27x96" and table.row("pool1").parameters == 0


def test_zfnet_changes() -> None:
    table = arch.get("zfnet").table()
    assert table.row("conv1").layer == "conv 7x7/2 pad 1, 96"
    assert [table.row(f"conv{i}").shape[0] for i in (3, 4, 5)] == [512, 1024, 512]


def test_lenet5_how_many_parameters() -> None:
    """Kondor: 'Filters are of size 5x5, stride 1; pooling is 2x2, with stride 2'."""
    table = arch.get("lenet5").table()
    assert table.total_parameters == 61_706
    assert any("60,000" in n for n in table.notes)


# -- fully connected vs convolution (003: Larson, 004: Fischer) -------------------------------------
def test_larson_9x9_image_fully_connected() -> None:
    net = arch.Network(
        "larson",
        (1, 9, 9),
        [arch.Linear("hidden", 20, bias=False), arch.Linear("output", 10, bias=False)],
    )
    assert net.table().total_parameters == 9**2 * 20 + 20 * 10 == 1_820
    k = sympy.Symbol("K", integer=True, positive=True)
    hidden, output = arch.Linear("hidden", 20, bias=False), arch.Linear("output", 10, bias=False)
    total = hidden.num_parameters(k**2) + output.num_parameters(20)
    assert sympy.expand(total - (200 + 20 * k**2)) == 0


def test_512x512_dense_layer() -> None:
    pixels = 512 * 512
    assert pixels == 262_144
    entries = arch.Linear("dense", pixels, bias=False).num_parameters(pixels)
    assert entries == 262_144**2 == 68_719_476_736
    assert f"{entries / 1e9:.1f}" == "68.7"  # printed "68 x 10^9"


def test_edge_detection_convolution_flops() -> None:
    spec = Conv(kernel_size=(1, 2), bias=False)  # the kernel [-1 1] along the width
    assert spec.output_size((280, 320)) == (280, 319)
    assert spec.flops((280, 320), exact=True) == 319 * 280 * 3 == 267_960


def test_edge_detection_dense_layer() -> None:
    dense = arch.Linear("dense", 319 * 280, bias=False)
    assert dense.num_parameters(320 * 280) == 8_003_072_000
    assert dense.flops(320 * 280, exact=True) == 16_006_054_680
    assert dense.flops(320 * 280, exact=True) > 16e9  # Goodfellow et al.: "over sixteen billion"


def test_larson_blur_example() -> None:
    out = errata.larson_blur()
    assert out.shape == (7, 7)
    assert out[0, :3].tolist() == [20, 28, 36]  # printed "20 21 36"
    # the same with an independent direct evaluation
    padded = np.pad(errata.LARSON_IMAGE, 1)
    direct = [
        [int((padded[i : i + 3, j : j + 3] * errata.LARSON_KERNEL).sum()) for j in range(7)]
        for i in range(7)
    ]
    assert out.tolist() == direct


def test_receptive_fields() -> None:
    """Three stacked 3x3 convs see 7x7; LeNet's C5 units see the whole 32x32 input."""
    assert receptive_field([conv(3)] * 3).size == (7, 7)
    lenet = arch.get("lenet5")
    specs = [
        layer.spec for layer in lenet.layers if isinstance(layer, arch.ConvLayer | arch.PoolLayer)
    ]
    assert receptive_field(specs).size == (32, 32)
    assert receptive_field(specs).jump == (4, 4)


# -- VGG and GoogLeNet tables (002) -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "total", "printed"),
    [
        ("A", 132_863_336, 133),
        ("A-LRN", 132_863_336, 133),
        ("B", 133_047_848, 133),
        ("C", 133_638_952, 134),
        ("D", 138_357_544, 138),
        ("E", 143_667_240, 144),
    ],
)
def test_vgg_table_2(config: str, total: int, printed: int) -> None:
    computed = arch.vgg(config).table().total_parameters
    assert computed == total
    assert round(computed / 1e6) == printed == arch.VGG_PRINTED_MILLIONS[config]


@pytest.mark.parametrize(
    ("config", "layers"), [("A", 11), ("A-LRN", 11), ("B", 13), ("C", 16), ("D", 16), ("E", 19)]
)
def test_vgg_weight_layers(config: str, layers: int) -> None:
    """VGG's Table 1 heads: '11 weight layers' ... '19 weight layers'."""
    assert arch.vgg(config).table().depth == layers


def test_googlenet_depth_column() -> None:
    """GoogLeNet's Table 1 'depth' column (1, 0, 2, 0, 2, 2, ...): 22 layers in all."""
    depth = [c for c in arch.compare_googlenet() if c.quantity == "depth"]
    assert len(depth) == len(arch.GOOGLENET_PRINTED)
    assert all(c.agrees for c in depth)
    assert sum(int(c.printed) for c in depth) == arch.get("googlenet").table().depth == 22


def test_vgg16_observations_memory_early_parameters_in_fc() -> None:
    """'Early convolutional layers take most memory; most parameters are in the fully connected
    layers.'"""
    table = arch.get("vgg16").table()
    convs = [r for r in table.rows if r.kind == "conv"]
    assert max(table.rows, key=lambda r: r.memory).name == "conv1_1"
    early = sum(r.memory for r in convs[:4])  # the first two blocks
    assert early > (table.total_memory - early)
    fc = sum(r.parameters for r in table.rows if r.kind == "linear")
    assert fc / table.total_parameters > 0.89  # 123,642,856 of 138,357,544


def test_tiled_parameters_grow_by_the_number_of_kernels() -> None:
    """004: a tiled layer's parameters grow 'only by a factor of the size of this set of
    kernels' (t per axis: t^2 kernels in 2D)."""
    from symconv.local import Tiled

    plain = conv(3, c_in=3, c_out=4, bias=False)
    for tiles in (1, 2, 3, (2, 3)):
        layer = Tiled(dims=2, in_channels=3, out_channels=4, kernel_size=3, tiles=tiles, bias=False)
        count = math.prod(tiles) if isinstance(tiles, tuple) else tiles**2
        assert layer.num_parameters() == count * plain.num_parameters()


def test_vgg16_138_million() -> None:
    assert round(arch.get("vgg16").table().total_parameters / 1e6) == 138


GOOGLENET_ROWS = [  # (layer, output, computed params, computed MACs)
    ("conv1", "112x112x64", 9_408, 118_013_952),
    ("pool1", "56x56x64", 0, 0),
    ("conv2", "56x56x192", 110_592, 346_816_512),
    ("pool2", "28x28x192", 0, 0),
    ("inception_3a", "28x28x256", 163_328, 128_049_152),
    ("inception_3b", "28x28x480", 388_096, 304_267_264),
    ("pool3", "14x14x480", 0, 0),
    ("inception_4a", "14x14x512", 375_552, 73_608_192),
    ("inception_4b", "14x14x512", 448_512, 87_908_352),
    ("inception_4c", "14x14x512", 509_440, 99_850_240),
    ("inception_4d", "14x14x528", 604_672, 118_515_712),
    ("inception_4e", "14x14x832", 867_328, 169_996_288),
    ("pool4", "7x7x832", 0, 0),
    ("inception_5a", "7x7x832", 1_042_432, 51_079_168),
    ("inception_5b", "7x7x1024", 1_442_816, 70_697_984),
    ("avgpool", "1x1x1024", 0, 0),
    ("dropout", "1x1x1024", 0, 0),
    ("fc", "1000", 1_024_000, 1_024_000),
]


@pytest.mark.parametrize(("name", "volume", "params", "macs"), GOOGLENET_ROWS)
def test_googlenet_rows(name: str, volume: str, params: int, macs: int) -> None:
    row = arch.get("googlenet").table().row(name)
    assert (row.volume, row.parameters, row.macs) == (volume, params, macs)


def test_googlenet_conv2_row_with_its_reduce() -> None:
    table = arch.get("googlenet").table()
    pair = [table.row("conv2_reduce"), table.row("conv2")]
    assert sum(r.parameters for r in pair) == 112 * 1024  # printed 112K
    assert round(sum(r.macs for r in pair) / 1e6) == 360  # printed 360M


# -- the errata ------------------------------------------------------------------------------------
EXPECTED_ERRATA = [  # (printed, computed)
    ("3 × 3 × 3 + 1 = 27", 28),
    ("100 × 27 = 270", 2_800),
    ("320 x 280 x 319 x 280 = 8.028 x 10^9", 8_003_072_000),
    ("15.056 x 10^9 FLOPs", 16_006_054_680),
    ("20 21 36", (20, 28, 36)),
    ("24 Million X 4 bytes \u2248 93 MB per image", 15_237_608),
    ("2.7K", 9_408),
    ("34M", 118_013_952),
    ("380K", 388_096),
    ("364K", 375_552),
    ("437K", 448_512),
    ("463K", 509_440),
    ("580K", 604_672),
    ("840K", 867_328),
    ("1072K", 1_042_432),
    ("54M", 51_079_168),
    ("1388K", 1_442_816),
    ("5 Million", 6_990_272),
    ("12X fewer", pytest.approx(60_965_224 / 6_990_272)),
    ("everywhere (0 broken outputs)", 2),
    ("commutative (0 differing entries)", 2),
    ("f^(k) = sum_x f(x) e^(-2 pi i (k . x))", -2),
    ("Depths will be equal (D2 = D1 = 3)", 100),
    ("11 X 11 X 3 X 96 = 34848", 34_944),
]


def test_errata_computed_values() -> None:
    assert [(e.printed, e.check().computed) for e in errata.ERRATA] == EXPECTED_ERRATA


@pytest.mark.parametrize("erratum", errata.ERRATA, ids=lambda e: e.printed)
def test_each_erratum_differs_from_the_printed_value(erratum: errata.Erratum) -> None:
    verdict = erratum.check()
    assert not verdict.agrees
    assert verdict.computed != verdict.printed_value
    assert erratum.computed == verdict.computed
    assert "{" not in erratum.explain()


def test_kondor_dft_as_printed_gives_sum_f_everywhere() -> None:
    """The printed 2D DFT has no 1/N in its exponent: evaluated literally, every coefficient is
    sum f, the erratum's printed value; the engine's DFT is numpy's."""
    erratum = next(e for e in errata.ERRATA if "DFT" in e.place)
    f = np.array([[1, 2], [3, 4]])
    literal = errata._dft_2x2(literal=True)
    assert f.sum() == erratum.printed_value
    assert np.all(np.array(literal) == f.sum())
    assert np.allclose(np.array(errata._dft_2x2(), dtype=float), np.fft.fft2(f))
    assert erratum.computed == np.fft.fft2(f)[0, 1].real


def test_errata_kinds() -> None:
    kinds = {e.printed: e.kind for e in errata.ERRATA}
    assert kinds["11 X 11 X 3 X 96 = 34848"] == "omission"
    assert sum(k == "omission" for k in kinds.values()) == 1


def test_errata_table_is_json_ready() -> None:
    rows = json.loads(json.dumps(errata.table()))
    assert len(rows) == len(errata.ERRATA)
    assert rows[4]["computed"] == [20, 28, 36]
    assert set(rows[0]) == {
        "source",
        "place",
        "quantity",
        "kind",
        "printed",
        "computed",
        "agrees",
        "explanation",
    }
    assert not any(r["agrees"] for r in rows)


def test_printed_values_that_are_right() -> None:
    """Rounded lecture numbers that agree: nothing to record."""
    check = errata.Erratum(
        "lecture", "AlexNet conv1", "parameters", "35K", 35_000, lambda: 34_944, ulp=1_000
    )
    assert check.check().agrees
    dense = errata.Erratum(
        "lecture", "512x512", "entries", "68 x 10^9", 68 * 10**9, lambda: 262_144**2, ulp=10**9
    )
    assert dense.check().agrees
