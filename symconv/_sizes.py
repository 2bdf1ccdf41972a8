r"""Size arithmetic of the convolution family: the one place it is written.

Every function takes plain `int`s *or* SymPy expressions and returns the same kind, so the
concrete sizes the specs report and the symbolic formulas the derivations show come from one
definition. Integer division uses `//`, which SymPy turns into `floor(a / b)`.

Notation (Dumoulin & Visin, *A guide to convolution arithmetic*): input length $i$, kernel
length $k$, stride $s$, dilation $d$, padding $p_\mathrm{lo}, p_\mathrm{hi}$, output $o$.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "adaptive_end",
    "adaptive_start",
    "conv_out",
    "dilated_extent",
    "full_padding",
    "pad_index",
    "padded_length",
    "pool_out",
    "read_mask",
    "same_padding",
    "tap_coordinate",
    "transpose_equivalent_padding",
    "transpose_out",
    "transpose_source",
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


def unused(
    i: Any, k: Any, s: Any = 1, d: Any = 1, lo: Any = 0, hi: Any | None = None, o: Any = None
) -> Any:
    r"""Trailing padded positions no window reaches.

    With the floor-mode output length (the default, `o=None`) this is
    $(i + p_\mathrm{lo} + p_\mathrm{hi} - d(k-1) - 1) \bmod s$. Given the output length `o`
    (ceil-mode pooling), it is $\max(0, i + p_\mathrm{lo} + p_\mathrm{hi} - ((o-1)s + d(k-1)
    + 1))$: a last window that runs past the padded input leaves nothing unreached.
    """
    hi = lo if hi is None else hi
    if o is None:
        return (padded_length(i, lo, hi) - dilated_extent(k, d)) % s
    left = padded_length(i, lo, hi) - ((o - 1) * s + dilated_extent(k, d))
    if _is_symbolic(left):
        import sympy

        return sympy.Max(0, left)
    return max(0, left)


def pad_index(mode: str, i: Any, n: Any) -> Any:
    r"""The padding mode's index map $\varphi$ on unpadded coordinates `i` (int, array or SymPy).

    `n` is the unpadded length; the result is the input index that coordinate `i` reads, or
    -1 where the padding is a zero. Zeros: $i$ inside $[0, n)$, else -1; circular: $i \bmod n$;
    replicate: $\mathrm{clip}(i, 0, n - 1)$; reflect (mirror without repeating the edge, as
    torch): $(n - 1) - |(n - 1) - |i||$, valid for overhangs shorter than $n$. SymPy arguments
    give SymPy expressions (`Mod`, `Min`/`Max`, `Abs`, `Piecewise`): the form the code printers
    (the explorer's JavaScript) print.
    """
    if _is_symbolic(i, n):
        import sympy

        if mode == "circular":
            return sympy.Mod(i, n)
        if mode == "replicate":
            return sympy.Min(sympy.Max(i, 0), n - 1)
        if mode == "reflect":
            return (n - 1) - sympy.Abs((n - 1) - sympy.Abs(i))
        return sympy.Piecewise((i, (i >= 0) & (i < n)), (-1, True))
    if mode == "circular":
        return np.mod(i, n)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "reflect":
        return (n - 1) - np.abs((n - 1) - np.abs(i))
    return np.where((i >= 0) & (i < n), i, -1)


def _is_symbolic(*values: Any) -> bool:
    return any(type(v).__module__.startswith("sympy") for v in values)


def tap_coordinate(o: Any, a: Any, k: Any, s: Any = 1, d: Any = 1, flip: bool = False) -> Any:
    r"""Padded coordinate read by output `o` at kernel tap `a`: $s o + d a'$, $a' = k - 1 - a$
    under `flip` (true convolution), else $a$."""
    return s * o + d * ((k - 1 - a) if flip else a)


def transpose_source(q: Any, a: Any, s: Any, d: Any, p: Any) -> tuple[Any, Any]:
    r"""A transposed convolution's output `q` at tap `a` reads input $i = (q + p - d a)/s$ when
    that is an integer: returns `(numerator, s)`; the gather form of the scatter
    $q = s i + d a - p$."""
    return q + p - d * a, s


def transpose_equivalent_padding(
    k: Any, d: Any, p: Any, output_padding: Any = 0
) -> tuple[Any, Any]:
    r"""Padding of the stride-1 convolution equal to a transposed one (after inserting $s - 1$
    zeros between inputs, kernel flipped): $p' = d(k - 1) - p$ low, $p' + \mathrm{output\_padding}$
    high (negative: crop)."""
    lo = dilated_extent(k, d) - 1 - p
    return lo, lo + output_padding


def read_mask(
    i: int, k: int, s: int, d: int, lo: int, hi: int, o: int, mode: str = "zeros"
) -> np.ndarray:
    r"""Which of the `i` input positions along one axis some window reads: a bool array.

    Window $o' < o$ reads the padded coordinates $s o' + d a$ for taps $a < k$ (those inside the
    padded length $i + p_\mathrm{lo} + p_\mathrm{hi}$), i.e. the input positions
    $\varphi(s o' + d a - p_\mathrm{lo})$: through the padding map, so a reflect, replicate
    or circular pad also reads the pixel it copies. Cost $O(o k + i)$.
    """
    j = s * np.arange(o)[:, None] + d * np.arange(k)[None, :]
    j = j[j < padded_length(i, lo, hi)]
    src = pad_index(mode, j - lo, i)
    mask = np.zeros(i, dtype=bool)
    mask[src[src >= 0]] = True
    return mask


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
