"""The catalogue of bad inputs: each raises SpecError whose message names parameter, value, rule."""

from __future__ import annotations

import re

import pytest

import symconv as sc

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
