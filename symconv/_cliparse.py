"""Parsing of the CLI's size and padding arguments: plain string handling, never `eval`."""

from __future__ import annotations

import re

from ._errors import SpecError

__all__ = ["parse_padding", "parse_sizes"]

_INT = re.compile(r"[+-]?\d+")
MAX_DIGITS = 30  # longer integers are refused before `int()` reads them (no size has 31 digits)


def _int(name: str, text: str, whole: str) -> int:
    digits = len(text.lstrip("+-"))
    if digits > MAX_DIGITS:
        raise SpecError(
            f"--{name}: an integer of {digits} digits is too long (at most {MAX_DIGITS}), got "
            f"{whole[:40]!r}..."
        )
    return int(text)


def parse_sizes(name: str, text: str) -> int | tuple[int, ...]:
    """`"5"` -> 5; `"32x32"` or `"32,32"` -> (32, 32)."""
    parts = [p.strip() for p in re.split(r"[x,]", text.strip().lower())]
    if not parts or not all(_INT.fullmatch(p) for p in parts):
        raise SpecError(
            f"--{name}: expected an integer or integers separated by 'x' or ',', got {text[:60]!r}"
        )
    values = tuple(_int(name, p, text) for p in parts)
    return values[0] if len(values) == 1 else values


def parse_padding(text: str) -> int | str | tuple[int, ...] | tuple[tuple[int, int], ...]:
    """`"2"`, `"1,2"`, `"same"`, or per side `"0:1,1:2"` (lo:hi per axis)."""
    text = text.strip()
    if text.isalpha():
        return text.lower()
    if ":" in text:
        pairs = []
        for part in text.split(","):
            lo_hi = part.split(":")
            if len(lo_hi) != 2 or not all(_INT.fullmatch(v.strip()) for v in lo_hi):
                raise SpecError(
                    f"--padding: per-side padding must look like 'lo:hi,lo:hi', got {text!r}"
                )
            pairs.append((_int("padding", lo_hi[0], text), _int("padding", lo_hi[1], text)))
        return tuple(pairs)
    return parse_sizes("padding", text)
