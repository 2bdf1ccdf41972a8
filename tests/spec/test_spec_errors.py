"""The catalogue of bad inputs: each raises SpecError whose message names parameter, value, rule."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
import sympy

import symconv as sc
from symconv.transpose import verify_adjoint

C = sc.Conv
P = sc.Pool

# (constructor, kwargs, input_size or None, regex the message must match)
CATALOGUE = [
    # sizes: zero, negative, non-integer, bool
    (C, dict(kernel_size=0), None, r"kernel_size must be an integer >= 1, got 0"),
    (C, dict(kernel_size=-3), None, r"kernel_size must be an integer >= 1, got -3"),
    (
        C,
        dict(kernel_size=2.5),
        None,
        r"kernel_size must be an integer >= 1 or a tuple of 2, got 2\.5",
    ),
    (
        C,
        dict(kernel_size=True),
        None,
        r"kernel_size must be an integer >= 1 or a tuple of 2, got True",
    ),
    (
        C,
        dict(kernel_size="3"),
        None,
        r"kernel_size must be an integer >= 1 or a tuple of 2, got '3'",
    ),
    (C, dict(kernel_size=(3, 0)), None, r"kernel_size\[1\] must be an integer >= 1, got 0"),
    (C, dict(kernel_size=3, stride=0), None, r"stride must be an integer >= 1, got 0"),
    (
        C,
        dict(kernel_size=3, stride=(1, 1.5)),
        None,
        r"stride\[1\] must be an integer >= 1, got 1\.5",
    ),
    (C, dict(kernel_size=3, dilation=0), None, r"dilation must be an integer >= 1, got 0"),
    (C, dict(kernel_size=3, padding=-1), None, r"padding must be an integer >= 0, got -1"),
    (C, dict(kernel_size=3, in_channels=0), None, r"in_channels must be an integer >= 1, got 0"),
    (
        C,
        dict(kernel_size=3, out_channels=-2),
        None,
        r"out_channels must be an integer >= 1, got -2",
    ),
    (
        C,
        dict(kernel_size=3, in_channels=2.0),
        None,
        r"in_channels must be an integer >= 1, got 2\.0",
    ),
    (
        C,
        dict(kernel_size=3, out_channels=False),
        None,
        r"out_channels must be an integer >= 1, got False",
    ),
    (C, dict(kernel_size=3, groups=0), None, r"groups must be an integer >= 1, got 0"),
    (C, dict(kernel_size=3, dims=4), None, r"dims must be 1, 2 or 3, got 4"),
    (C, dict(kernel_size=3, dims=True), None, r"dims must be 1, 2 or 3, got True"),
    (C, dict(kernel_size=3, bias=1), None, r"bias must be True or False, got 1"),
    (C, dict(kernel_size=3, flip="yes"), None, r"flip must be True or False, got 'yes'"),
    # groups
    (
        C,
        dict(kernel_size=3, in_channels=4, out_channels=6, groups=4),
        None,
        r"groups 4 must divide out_channels 6",
    ),
    (
        C,
        dict(kernel_size=3, in_channels=3, out_channels=6, groups=2),
        None,
        r"groups 2 must divide in_channels 3",
    ),
    # tuple lengths
    (C, dict(kernel_size=(3, 3, 3)), None, r"kernel_size \(3, 3, 3\) has 3 entries, expected 2"),
    (
        C,
        dict(dims=1, kernel_size=3, stride=(1, 1)),
        None,
        r"stride \(1, 1\) has 2 entries, expected 1",
    ),
    (
        C,
        dict(kernel_size=3, padding=(1, 1, 1)),
        None,
        r"padding \(1, 1, 1\) has 3 entries, expected 2",
    ),
    (
        C,
        dict(kernel_size=3, padding=((1, 1),)),
        None,
        r"padding .* has 1 \(lo, hi\) pairs, expected 2",
    ),
    (
        C,
        dict(kernel_size=3, padding=((1, 1, 1), (0, 0))),
        None,
        r"padding\[0\] \(1, 1, 1\) must be a \(lo, hi\) pair",
    ),
    (
        C,
        dict(kernel_size=3, padding=((1, -1), (0, 0))),
        None,
        r"padding\[0\] must be an integer >= 0, got -1",
    ),
    # mode strings
    (
        C,
        dict(kernel_size=3, padding="half"),
        None,
        r"padding must be one of 'valid', 'same', 'full', got 'half'",
    ),
    (C, dict(kernel_size=3, padding="SAME"), None, r"padding must be one of .*got 'SAME'"),
    (
        C,
        dict(kernel_size=3, padding_mode="mirror"),
        None,
        r"padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got 'mirror'",
    ),
    (
        C,
        dict(kernel_size=3, padding_mode="symmetric"),
        None,
        r"padding_mode must be one of .*'symmetric'",
    ),
    # 'same' with stride > 1
    (
        C,
        dict(kernel_size=3, padding="same", stride=2),
        None,
        r"padding 'same' needs stride 1, got stride \(2, 2\)",
    ),
    (C, dict(kernel_size=3, padding="same", stride=(1, 2)), None, r"padding 'same' needs stride 1"),
    # input-size dependent
    (
        C,
        dict(kernel_size=5, dilation=2),
        7,
        r"kernel_size 5 with dilation 2 spans 9 > padded input 7 along axis 0",
    ),
    (C, dict(kernel_size=5), (4, 9), r"kernel_size 5 > padded input 4 along axis 0"),
    (
        C,
        dict(kernel_size=3, padding=2, padding_mode="reflect"),
        2,
        r"padding \(2, 2\) with padding_mode 'reflect' must be smaller than the input size 2",
    ),
    (
        C,
        dict(kernel_size=3, padding=3, padding_mode="reflect"),
        3,
        r"'reflect' must be smaller than the input size 3",
    ),
    (
        C,
        dict(kernel_size=3, padding=4, padding_mode="circular"),
        3,
        r"padding \(4, 4\) with padding_mode 'circular' must be at most the input size 3",
    ),
    (C, dict(kernel_size=3), 0, r"input_size must be an integer >= 1, got 0"),
    (C, dict(kernel_size=3), (8, 8, 8), r"input_size \(8, 8, 8\) has 3 entries, expected 2"),
    (
        C,
        dict(kernel_size=3),
        "8x8",
        r"input_size must be an integer >= 1 or a tuple of 2, got '8x8'",
    ),
    # pooling
    (
        P,
        dict(kind="median", kernel_size=2),
        None,
        r"kind must be one of 'max', 'avg', 'lp', got 'median'",
    ),
    (P, dict(kernel_size=0), None, r"Pool\(max\): kernel_size must be an integer >= 1, got 0"),
    (P, dict(kernel_size=2, stride=0), None, r"stride must be an integer >= 1, got 0"),
    (
        P,
        dict(kernel_size=3, padding=2),
        None,
        r"padding 2 must be at most half the kernel size 3 along axis 0",
    ),
    (
        P,
        dict(kind="avg", kernel_size=2, padding=2),
        None,
        r"padding 2 must be at most half the kernel size 2",
    ),
    (P, dict(kernel_size=2, padding=-1), None, r"padding must be an integer >= 0, got -1"),
    (P, dict(kernel_size=2, padding="same"), None, r"pooling takes no padding strings"),
    (
        P,
        dict(kind="avg", kernel_size=2, dilation=2),
        None,
        r"dilation \(2, 2\) is only defined for max pooling",
    ),
    (P, dict(kind="lp", kernel_size=2), None, r"norm_type must be a finite number > 0, got None"),
    (
        P,
        dict(kind="lp", kernel_size=2, norm_type=0),
        None,
        r"norm_type must be a finite number > 0, got 0",
    ),
    (
        P,
        dict(kind="lp", kernel_size=2, norm_type=2, padding=1),
        None,
        r"not supported for lp pooling",
    ),
    (
        P,
        dict(kind="max", kernel_size=2, norm_type=2),
        None,
        r"norm_type 2 applies to lp pooling only",
    ),
    (
        P,
        dict(kind="max", kernel_size=2, count_include_pad=False),
        None,
        r"count_include_pad False applies to avg",
    ),
    (
        P,
        dict(kind="avg", kernel_size=2, divisor_override=0),
        None,
        r"divisor_override must be an integer >= 1, got 0",
    ),
    (
        P,
        dict(kind="max", kernel_size=2, divisor_override=3),
        None,
        r"divisor_override 3 applies to avg",
    ),
    (P, dict(kernel_size=2, ceil_mode="no"), None, r"ceil_mode must be True or False, got 'no'"),
    (
        P,
        dict(kernel_size=2, dilation=3, padding=2),
        None,
        r"padding 2 must be at most half the kernel size 2",
    ),
    (P, dict(kernel_size=(2, 2, 2)), None, r"kernel_size \(2, 2, 2\) has 3 entries, expected 2"),
    (P, dict(kernel_size=5), 3, r"kernel_size 5 > padded input 3 along axis 0"),
    (
        P,
        dict(dims=3, kind="avg", kernel_size=2, padding=1),
        (1, 4, 4),
        r"kernel_size 2 > input 1 along axis 0 \(3-d average",
    ),
]


def test_catalogue_is_large_and_distinct() -> None:
    assert len(CATALOGUE) >= 40
    keys = {(c.__name__, repr(sorted(k.items())), repr(i)) for c, k, i, _ in CATALOGUE}
    assert len(keys) == len(CATALOGUE)


@pytest.mark.parametrize(
    ("cls", "kwargs", "size", "pattern"),
    CATALOGUE,
    ids=[f"{c.__name__}-{n}" for n, (c, *_) in enumerate(CATALOGUE)],
)
def test_bad_input_raises_spec_error(cls, kwargs, size, pattern) -> None:
    with pytest.raises(sc.SpecError) as info:
        spec = cls(**kwargs)
        spec.output_size(size)
    if size is not None:  # the construction itself was fine: the error came from the input size
        cls(**kwargs)
    message = str(info.value)
    assert re.search(pattern, message), message
    assert message.startswith(("Conv", "Pool")), message
    assert isinstance(info.value, ValueError)


def test_specs_are_frozen_and_hashable() -> None:
    spec = sc.Conv(kernel_size=3)
    with pytest.raises(AttributeError):
        spec.stride = 2  # type: ignore[misc]
    assert hash(spec) == hash(sc.Conv(kernel_size=(3, 3)))
    assert spec.replace(stride=2).stride == (2, 2)
    with pytest.raises(sc.SpecError):
        spec.replace(stride=0)


# -- arguments outside the constructors ------------------------------------------------------
def _raises(call, pattern: str) -> None:
    with pytest.raises(sc.SpecError) as info:
        call()
    assert re.search(pattern, str(info.value)), str(info.value)


@pytest.mark.parametrize("cls", [sc.Conv, sc.Pool, sc.ConvTranspose])
@pytest.mark.parametrize(
    "dims",
    [2.0, np.array([2, 2]), np.float64(2.0), "2", None, True, 0],
    ids=["float", "array", "np-float", "str", "None", "bool", "zero"],
)
def test_dims_must_be_the_integer_1_2_or_3(cls, dims) -> None:
    _raises(lambda: cls(dims=dims, kernel_size=3), r"dims must be 1, 2 or 3, got ")


@pytest.mark.parametrize("cls", [sc.Conv, sc.Pool, sc.ConvTranspose])
def test_dims_numpy_integers_still_accepted_and_normalised(cls) -> None:
    spec = cls(dims=np.int64(2), kernel_size=3)
    assert spec.dims == 2 and type(spec.dims) is int
    assert spec == cls(dims=2, kernel_size=3)


@pytest.mark.parametrize("groups", [2.0, np.array([2, 2]), "2"])
def test_groups_and_channels_refuse_floats_and_arrays(groups) -> None:
    _raises(
        lambda: sc.Conv(kernel_size=3, in_channels=4, out_channels=4, groups=groups),
        r"groups must be an integer >= 1",
    )
    _raises(
        lambda: sc.Conv(kernel_size=3, in_channels=groups), r"in_channels must be an integer >= 1"
    )


def test_conv_transpose_equivalent_needs_a_conv_transpose() -> None:
    for spec in (sc.Conv(kernel_size=3), None, "x"):
        _raises(
            lambda spec=spec: sc.conv_transpose_equivalent(spec),
            r"conv_transpose_equivalent: spec must be a symconv\.ConvTranspose",
        )
    _raises(
        lambda: verify_adjoint(sc.Conv(kernel_size=3), 4),
        r"verify_adjoint: spec must be a symconv\.ConvTranspose .*, got Conv\(",
    )


@pytest.mark.parametrize(
    "fn",
    [sc.toeplitz, sc.padding_matrix, sc.patch_matrix, sc.valid_matrix, sc.structure, sc.index_form],
)
@pytest.mark.parametrize("spec", [None, "x", 3])
def test_matrix_functions_need_a_spec(fn, spec) -> None:
    _raises(
        lambda: fn(spec, 4),
        rf"{fn.__name__}: spec must be a symconv\.Conv.*, got {re.escape(repr(spec))}$",
    )


def test_toeplitz_numeric_needs_a_spec_and_toeplitz_refuses_pooling() -> None:
    _raises(lambda: sc.toeplitz_numeric(None, 4, np.ones((1, 1, 3, 3))), r"spec must be")
    _raises(lambda: sc.valid_matrix(sc.Pool(kernel_size=2), 4), r"valid_matrix: pooling is not")


@pytest.mark.parametrize("channels", [-1, 0, "a", 2.0, True, None])
def test_index_form_channels_must_be_a_positive_integer(channels) -> None:
    _raises(
        lambda: sc.index_form(sc.Pool(kernel_size=2), 8, channels=channels),
        rf"index_form: channels must be an integer >= 1, got {re.escape(repr(channels))}",
    )
    _raises(lambda: sc.index_form(sc.Conv(kernel_size=3), 8, channels=channels), r"channels")


def test_index_form_channels_accepts_numpy_integers() -> None:
    assert sc.index_form(sc.Pool(kernel_size=2), 4, channels=np.int64(3)).in_channels == 3


@pytest.mark.parametrize(
    ("kernel", "pattern"),
    [
        ("abc", r"strings are not parsed\), got 'abc'"),
        ([["1", "1"], ["1", "1"]], r"strings are not parsed\), got '1'"),
        (np.array([["1", "2"], ["3", "4"]]), r"numpy dtype <U1 is not a real number type"),
        (np.full((3, 3), np.nan), r"kernel entries must be finite"),
        (np.array([[1.0, np.inf], [1.0, 1.0]]), r"kernel entries must be finite"),
        ([[1.0, float("nan")], [1.0, 1.0]], r"entries must be finite\), got nan"),
        ([[sympy.oo, 1], [1, 1]], r"entries must be finite\), got oo"),
        ([[True, True], [True, True]], r"an entry is a bool"),
        ([[1 + 2j, 1], [1, 1]], r"an entry is complex"),
        (np.ones((2, 2), dtype=complex), r"kernel must be real"),
        ([[None, 1], [1, 1]], r"an entry is a NoneType"),
        (5, r"kernel must be an array with at least 2 axes, got 5"),
        ([[1, 2], [3]], r"kernel must be a rectangular array"),
    ],
    ids=[
        "str",
        "str-entries",
        "str-array",
        "nan-array",
        "inf-array",
        "nan-entry",
        "sympy-oo",
        "bools",
        "complex",
        "complex-array",
        "None-entry",
        "scalar",
        "ragged",
    ],
)
def test_separable_and_low_rank_refuse_bad_kernels(kernel, pattern) -> None:
    _raises(lambda: sc.separable(kernel), r"^separable: .*" + pattern)
    _raises(lambda: sc.low_rank(kernel, 1), r"^low_rank: ")


def test_separable_self_containing_list_is_refused() -> None:
    nested: list = []
    nested.append(nested)
    _raises(lambda: sc.separable(nested), r"nested more than 32 deep")


def test_separable_still_takes_exact_symbolic_and_mixed_kernels() -> None:
    a, b = sympy.symbols("a b")
    assert sc.separable([[a, a * b], [1, b]]) is not None
    assert sc.separable([[Fraction(1, 2), 1], [np.int64(1), 2]]).exact
    assert sc.separable(sympy.Matrix([[sympy.I, 1], [1, -sympy.I]])) is not None
    assert sc.separable(np.ones((2, 2), dtype=bool)) is not None


@pytest.mark.parametrize("tol", ["a", -1, float("nan"), float("inf"), True, [1e-3], 1, 2.5])
def test_separable_tol_must_be_a_non_negative_real(tol) -> None:
    _raises(
        lambda: sc.separable(np.ones((3, 3)), tol=tol),
        rf"separable: tol must be a real number with 0 <= tol < 1 \(or None\), got "
        rf"{re.escape(repr(tol))}",
    )


def test_separable_large_tol_keeps_exact_factors() -> None:
    """A tolerance close to 1 decides the rank loosely, but the factors of an exactly rank-1
    kernel still rebuild it (small entries are zeroed at the float type's own rule)."""
    K = np.outer([1.0, 2.0], [3.0, 4.0])
    f = sc.separable(K, tol=0.5)
    np.testing.assert_allclose(np.outer(*f.factors), K)


def test_separable_tol_accepts_zero_and_numpy_floats() -> None:
    assert sc.separable(np.ones((3, 3)), tol=np.float64(1e-6)) is not None
    assert sc.separable(np.eye(3), tol=0) is None


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        ((-8, 3), r"n must be an integer >= 1, got -8"),
        ((8.5, 3), r"n must be an integer >= 1, got 8\.5"),
        ((8, 0), r"k must be an integer >= 1, got 0"),
        ((8, "3"), r"k must be an integer >= 1, got '3'"),
        ((8, 3, 0, 0, 0), r"dilation must be an integer >= 1, got 0"),
        ((8, 3, 1.0, 0), r"lo must be an integer, got 1\.0"),
        ((8, 3, 0, None), r"hi must be an integer, got None"),
    ],
)
def test_fft_size_validates_its_arguments(args, pattern) -> None:
    _raises(lambda: sc.fft_size(*args), r"^fft_size: " + pattern)


def test_fft_size_negative_padding_crops() -> None:
    assert sc.fft_size(8, 3, -1, 0) == 8
    assert sc.fft_size(np.int64(8), 3, 1, 1) == 9


def test_count_arguments_of_the_cost_methods() -> None:
    conv, pool = sc.Conv(kernel_size=3), sc.Pool(kernel_size=2)
    _raises(
        lambda: conv.activation_memory(8, "4"),
        r"^Conv: bytes_per_element must be an integer >= 1, got '4'",
    )
    _raises(lambda: conv.activation_memory(8, 0), r"bytes_per_element must be an integer >= 1")
    _raises(lambda: conv.flops(8, exact="yes"), r"^Conv: exact must be True or False, got 'yes'")
    _raises(
        lambda: pool.activations(4, channels="a"),
        r"^Pool\(max\): channels must be an integer >= 1, got 'a'",
    )
    _raises(lambda: pool.flops(4, channels=-1), r"channels must be an integer >= 1, got -1")
    _raises(lambda: pool.activation_memory(4, 2.0), r"bytes_per_element must be an integer >= 1")
    _raises(lambda: pool.activation_memory(4, channels=0), r"channels must be an integer >= 1")
    assert conv.activation_memory(8, np.int64(2)) == 72
    assert pool.flops(4, channels=3) == 48


def test_receptive_field_items_must_be_conv_or_pool() -> None:
    c = sc.Conv(kernel_size=3)
    _raises(
        lambda: sc.receptive_field([c, 5]),
        r"^receptive_field: layers\[1\] must be a symconv\.Conv or Pool, got 5",
    )
    _raises(
        lambda: sc.receptive_field([c, sc.ConvTranspose(kernel_size=3)]), r"layers\[1\] must be"
    )
    _raises(lambda: sc.receptive_field(c), r"layers must be a sequence of Conv or Pool specs")
    _raises(lambda: sc.receptive_field("ab"), r"layers must be a sequence")
    _raises(
        lambda: sc.receptive_field([c, sc.Conv(dims=1, kernel_size=3)]),
        r"layers\[1\] has dims 1, layers\[0\] has 2",
    )
    assert sc.receptive_field(iter([c, c])).size == (5, 5)


@pytest.mark.parametrize("axis", ["0", 0.0, True, -1, 2, None])
def test_output_size_formula_axis(axis) -> None:
    if axis is None:
        assert sc.Conv(kernel_size=3).output_size_formula(axis=axis) is not None
        return
    for spec, op in ((sc.Conv(kernel_size=3), "Conv"), (sc.Pool(kernel_size=2), r"Pool\(max\)")):
        _raises(
            lambda spec=spec: spec.output_size_formula(axis=axis),
            rf"^{op}: axis must be an integer in 0\.\.1 \(dims 2\), got {re.escape(repr(axis))}",
        )


def test_output_size_formula_axis_accepts_numpy_integers() -> None:
    spec = sc.Conv(kernel_size=3)
    assert spec.output_size_formula(axis=np.int64(1)) == spec.output_size_formula(axis=1)


@pytest.mark.parametrize("limit", ["a", -1, 1.5, None])
def test_max_nonzeros_must_be_a_non_negative_integer(limit) -> None:
    c = sc.Conv(kernel_size=3)
    for fn in (sc.toeplitz, sc.valid_matrix, sc.patch_matrix):
        _raises(
            lambda fn=fn: fn(c, 8, max_nonzeros=limit),
            rf"^{fn.__name__}: max_nonzeros must be an integer >= 0, got {re.escape(repr(limit))}",
        )
    _raises(
        lambda: sc.toeplitz_numeric(c, 8, np.ones((1, 1, 3, 3)), max_nonzeros=limit),
        r"^toeplitz_numeric: max_nonzeros must be",
    )


def test_patch_matrix_x_must_be_a_name_or_indexed_base() -> None:
    c = sc.Conv(dims=1, kernel_size=2)
    _raises(lambda: sc.patch_matrix(c, 3, x=5), r"^patch_matrix: x must be a symbol name")
    _raises(lambda: sc.patch_matrix(c, 3, x=""), r"x must be a symbol name")
    assert (
        sc.patch_matrix(c, 3, x=sympy.IndexedBase("u")).tolist()[0][0]
        == sympy.IndexedBase("u")[0, 0]
    )


def test_avg_pool_printout_shows_its_divisor_options() -> None:
    """Two different average poolings never print alike: count_include_pad=False and
    divisor_override appear when they differ from torch's defaults."""
    plain = sc.Pool(kind="avg", kernel_size=3, stride=2, padding=1)
    assert str(plain) == "AvgPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    assert str(plain.replace(count_include_pad=False)).endswith(", count_include_pad=False)")
    assert str(plain.replace(divisor_override=4)).endswith(", divisor_override=4)")
