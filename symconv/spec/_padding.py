"""Padding: the modes, the strings, and padding normalised to one (lo, hi) pair per axis."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from .. import _sizes
from .._errors import SpecError
from .._validate import as_choice, as_int, as_per_axis

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]
PoolKind = Literal["max", "avg", "lp"]
PADDING_MODES: tuple[PaddingMode, ...] = ("zeros", "reflect", "replicate", "circular")
# each mode as numpy.pad's (torch's reflect does not repeat the edge: numpy's "reflect")
NUMPY_PAD_MODES: dict[str, Literal["constant", "reflect", "edge", "wrap"]] = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}
PADDING_STRINGS = ("valid", "same", "full")
POOL_KINDS: tuple[PoolKind, ...] = ("max", "avg", "lp")

PaddingLike = int | str | Sequence[int] | Sequence[tuple[int, int]]
Pads = tuple[tuple[int, int], ...]
# `Conv.padding` once validated: a padding string, one int per axis, or one (lo, hi) per axis
Padding = str | tuple[int, ...] | Pads


def _normalise_padding(
    op: str, padding: Any, dims: int, kernel: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[Padding, Pads]:
    """Canonical padding (what the user meant) and the resolved `(lo, hi)` pair per axis."""
    if isinstance(padding, str):
        choice = as_choice(op, "padding", padding, PADDING_STRINGS)
        rules: dict[str, Callable[[int, int], tuple[int, int]]] = {
            "valid": lambda k, d: (0, 0),
            "same": _sizes.same_padding,
            "full": _sizes.full_padding,
        }
        rule = rules[choice]
        return choice, tuple(rule(k, d) for k, d in zip(kernel, dilation, strict=True))
    if (
        isinstance(padding, Sequence)
        and padding
        and all(isinstance(p, Sequence) and not isinstance(p, str) for p in padding)
    ):
        if len(padding) != dims:
            raise SpecError(
                f"{op}: padding {tuple(padding)!r} has {len(padding)} (lo, hi) pairs, "
                f"expected {dims} (one per spatial axis)"
            )
        pads = []
        for a, pair in enumerate(padding):
            if len(pair) != 2:
                raise SpecError(
                    f"{op}: padding[{a}] {tuple(pair)!r} must be a (lo, hi) pair of integers >= 0"
                )
            pads.append(tuple(as_int(op, f"padding[{a}]", p, 0) for p in pair))
        pads_t = tuple(pads)
        return pads_t, pads_t  # type: ignore[return-value]  # pairs (len checked above)
    sym = as_per_axis(op, "padding", padding, dims, 0)
    return sym, tuple((p, p) for p in sym)


def _finite_positive(p: int | float) -> bool:
    """Whether `p` is a finite number > 0 as a float (an int beyond float's range is not)."""
    try:
        return p > 0 and math.isfinite(float(p))
    except OverflowError:
        return False
