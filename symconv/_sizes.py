r"""Size arithmetic of the convolution family: the one place it is written.

Every function takes plain `int`s *or* SymPy expressions and returns the same kind, so the
concrete sizes the specs report and the symbolic formulas the derivations show come from one
definition. Integer division uses `//`, which SymPy turns into `floor(a / b)`.

Notation (Dumoulin & Visin, *A guide to convolution arithmetic*): input length $i$, kernel
length $k$, stride $s$, dilation $d$, padding $p_\mathrm{lo}, p_\mathrm{hi}$, output $o$.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "adaptive_end",
    "adaptive_start",
    "conv_out",
    "dilated_extent",
    "full_padding",
    "padded_length",
    "pool_out",
    "same_padding",
    "transpose_out",
    "unpool_out",
    "unused",
]


def dilated_extent(k: Any, d: Any) -> Any:
    r"""Span of a kernel of length $k$ with dilation $d$: $d(k - 1) + 1$."""
    return d * (k - 1) + 1


def padded_length(i: Any, lo: Any, hi: Any) -> Any:
    """Length of the input after padding `lo` before and `hi` after."""
    return i + lo + hi


def conv_out(i: Any, k: Any, s: Any = 1, d: Any = 1, lo: Any = 0, hi: Any | None = None) -> Any:
    r"""Output length of a convolution (and of floor-mode pooling).

    $$o = \left\lfloor \frac{i + p_\mathrm{lo} + p_\mathrm{hi} - d(k-1) - 1}{s} \right\rfloor + 1$$

    `hi` defaults to `lo` (symmetric padding).
    """
    hi = lo if hi is None else hi
    return (padded_length(i, lo, hi) - dilated_extent(k, d)) // s + 1


def unused(i: Any, k: Any, s: Any = 1, d: Any = 1, lo: Any = 0, hi: Any | None = None) -> Any:
    r"""Trailing padded positions no window reaches.

    $(i + p_\mathrm{lo} + p_\mathrm{hi} - d(k-1) - 1) \bmod s$
    """
    hi = lo if hi is None else hi
    return (padded_length(i, lo, hi) - dilated_extent(k, d)) % s


def pool_out(i: int, k: int, s: int, d: int = 1, p: int = 0, ceil_mode: bool = False) -> int:
    r"""Output length of torch-style pooling.

    Floor mode is `conv_out`. In ceil mode the division rounds up,
    $o = \lceil (i + 2p - d(k-1) - 1)/s \rceil + 1$, and the last window is dropped when it
    would start in the right padding, $(o - 1)s \ge i + p$ (windows may start in the left
    padding, never in the right one; torch's rule).
    """
    if not ceil_mode:
        return conv_out(i, k, s, d, p, p)
    o = -(-(padded_length(i, p, p) - dilated_extent(k, d)) // s) + 1
    if (o - 1) * s >= i + p:
        o -= 1
    return o


def transpose_out(
    i: Any, k: Any, s: Any = 1, d: Any = 1, p: Any = 0, output_padding: Any = 0
) -> Any:
    r"""Output length of a transposed convolution (torch's ConvTranspose).

    $$o = (i - 1)s - 2p + d(k - 1) + \mathrm{output\_padding} + 1$$
    """
    return (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


def same_padding(k: int, d: int = 1) -> tuple[int, int]:
    """Padding that keeps the length at stride 1: total $d(k-1)$, the odd one on the high side.

    This is torch's `padding="same"` (and JAX's 'SAME' at stride 1).
    """
    total = d * (k - 1)
    return total // 2, total - total // 2


def full_padding(k: int, d: int = 1) -> tuple[int, int]:
    """Padding of the *full* convolution: every window overlapping the input; $d(k-1)$ a side."""
    total = d * (k - 1)
    return total, total


def adaptive_start(o: Any, i: Any, out: Any) -> Any:
    r"""First input position of adaptive pooling's window $o$: $\lfloor o I / O \rfloor$."""
    return (o * i) // out


def adaptive_end(o: Any, i: Any, out: Any) -> Any:
    r"""One past the last input position of window $o$: $\lceil (o + 1) I / O \rceil$."""
    return -((-(o + 1) * i) // out)


def unpool_out(i: Any, k: Any, s: Any, p: Any = 0) -> Any:
    r"""Default output length of max unpooling (torch's `MaxUnpool`): $(i - 1)s - 2p + k$,
    the transposed convolution's length at dilation 1 without output padding."""
    return transpose_out(i, k, s, 1, p, 0)
