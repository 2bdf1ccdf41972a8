"""Normalisation of user input at the boundary: every spec field becomes a canonical value here.

Each helper takes the operation's name (`op`) and the parameter's name, so every message reads
"<op>: <parameter> <value> <rule>".
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence
from typing import Any

from ._errors import SpecError

__all__ = [
    "as_bool",
    "as_choice",
    "as_dims",
    "as_groups",
    "as_int",
    "as_per_axis",
    "as_size",
    "p4_padding",
]


def as_int(op: str, name: str, value: Any, minimum: int | None) -> int:
    """An integer >= `minimum` (any integer for `None`); bools, floats and strings are refused."""
    if type(value) is int and (minimum is None or value >= minimum):
        return value  # the common case, checked as below (a plain int is integral, not a bool)
    if isinstance(value, bool) or not _is_integral(value):
        rule = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise SpecError(f"{op}: {name} must be {rule}, got {value!r}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        raise SpecError(f"{op}: {name} must be an integer >= {minimum}, got {value}")
    return value


def as_dims(op: str, value: Any) -> int:
    """The number of spatial axes: the integer 1, 2 or 3 (bools, floats, arrays are refused)."""
    if isinstance(value, bool) or not _is_integral(value) or operator.index(value) not in (1, 2, 3):
        raise SpecError(f"{op}: dims must be 1, 2 or 3, got {value!r}")
    return operator.index(value)


def as_groups(op: str, value: Any, in_channels: int, out_channels: int) -> int:
    """`groups`: an integer >= 1 that divides both (validated) channel counts."""
    groups = as_int(op, "groups", value, 1)
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise SpecError(f"{op}: groups {groups} must divide {name} {channels}")
    return groups


def as_bool(op: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{op}: {name} must be True or False, got {value!r}")
    return value


def as_choice(op: str, name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise SpecError(f"{op}: {name} must be one of {options}, got {value!r}")
    return value


def as_per_axis(op: str, name: str, value: Any, dims: int, minimum: int) -> tuple[int, ...]:
    """An int repeated over `dims` axes, or a sequence of exactly `dims` ints (bytes are not a
    sequence of sizes: `b'3'` would read as 51)."""
    if type(value) is int and value >= minimum:
        return (value,) * dims  # the common cases first, with the result the rules below give
    if (
        type(value) is tuple
        and len(value) == dims
        and all(type(v) is int and v >= minimum for v in value)
    ):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        raise SpecError(
            f"{op}: {name} must be an integer >= {minimum} or a tuple of {dims}, got bytes "
            f"{bytes(value)[:40]!r}"
        )
    if isinstance(value, str) or not isinstance(value, Sequence | int) or isinstance(value, bool):
        if _is_integral(value) and not isinstance(value, bool):
            return (as_int(op, name, value, minimum),) * dims
        raise SpecError(
            f"{op}: {name} must be an integer >= {minimum} or a tuple of {dims}, got {value!r}"
        )
    if isinstance(value, int):
        return (as_int(op, name, value, minimum),) * dims
    if len(value) != dims:
        raise SpecError(
            f"{op}: {name} {tuple(value)!r} has {len(value)} entries, expected {dims} "
            f"(one per spatial axis)"
        )
    return tuple(as_int(op, f"{name}[{a}]", v, minimum) for a, v in enumerate(value))


def as_size(op: str, value: Any, dims: int) -> tuple[int, ...]:
    """A spatial input size: `dims` positive integers (an int is repeated)."""
    return as_per_axis(op, "input_size", value, dims, 1)


def _is_integral(value: Any) -> bool:
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def p4_padding(op: str, padding: Any, k: int) -> int:
    """The padding of a p4 layer with a k x k kernel: an integer >= 0, `"valid"` (0) or `"same"`
    ((k - 1) / 2, odd k only): symmetric, so that rotations map windows to windows."""
    if padding == "same":
        if k % 2 == 0:
            raise SpecError(
                f"{op}: padding 'same' needs an odd kernel for rotation symmetry, got {k}"
            )
        return (k - 1) // 2
    if padding == "valid":
        return 0
    if isinstance(padding, bool) or not isinstance(padding, numbers.Integral) or padding < 0:
        raise SpecError(
            f"{op}: padding must be an integer >= 0, 'valid' or 'same' (symmetric, so that "
            f"rotations map windows to windows), got {padding!r}"
        )
    return int(padding)
