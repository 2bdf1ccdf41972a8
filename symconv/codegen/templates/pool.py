r"""The pooling kernels: the template of `numeric/_generated/{numpy,torch}_pool.py`.

Max pooling with torch's index and NaN rules, average pooling with its divisors, power-average
pooling, and their gradients (`symconv.poolgrad`'s rules), over any number of spatial axes.
Windows and divisors go through printed index maps (`maps.py`: window starts, the input
coordinate a tap reads, the inside tests, ceil mode's extra padding), every array operation
through a primitive (`prims.py`). The printer (`symconv.codegen.kernels.pool_nodes`) takes the
sections below (`# -- kernel NAME`) as the module's kernels.

Runs on NumPy as it is:

    >>> import numpy
    >>> x = numpy.array([[[1.0, 3.0, 2.0, 5.0]]])
    >>> y, idx = max_pool(x, [2], [2], [0], [1], [2])
    >>> y.tolist(), idx.tolist()
    ([[[3.0, 5.0]]], [[[1, 3]]])
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from .maps import (
    Index,
    _ceil_extra,
    _in_input,
    _in_padded,
    _pool_source,
    _pool_start,
)
from .prims import (
    Array,
    Pads,
    Sizes,
    Window,
    _arange,
    _as_float,
    _copy,
    _full,
    _quiet,
    _scatter_flat,
    _where,
    _zeros,
    _zeros_index,
)

__all__ = [
    "avg_pool",
    "avg_pool_backward",
    "lp_pool",
    "lp_pool_backward",
    "max_pool",
    "max_pool_backward",
]


# -- kernel _pool_common --------------------------------------------------------------------------
def _pad_fill(x: Array, pads: Pads, fill: float) -> Array:
    """x~: x in the interior, `fill` in the padding and past it (ceil mode): (N, C, *P)."""
    size = x.shape[2:]
    xp = _full((*x.shape[:2], *(n + lo + hi for n, (lo, hi) in zip(size, pads))), fill, x)
    xp[(slice(None), slice(None), *(slice(lo, lo + n) for n, (lo, _) in zip(size, pads)))] = x
    return xp


def _windows(
    kernel: Sizes, stride: Sizes, dilation: Sizes, out: Sizes
) -> tuple[list[tuple[int, ...]], list[Window]]:
    """Taps a and their windows x~[S o + D a], o = 0..O-1 (strided slices)."""
    taps = list(itertools.product(*(range(k) for k in kernel)))
    wins = [
        (
            slice(None),
            slice(None),
            *(
                slice(_pool_start(t, d), _pool_start(t, d) + s * (o - 1) + 1, s)
                for t, s, d, o in zip(a, stride, dilation, out)
            ),
        )
        for a in taps
    ]
    return taps, wins


def _pads(
    size: Sizes, kernel: Sizes, stride: Sizes, dilation: Sizes, padding: Sizes, out: Sizes
) -> list[tuple[int, int]]:
    return [
        (p, p + _ceil_extra(i, k, s, d, p, o))
        for i, k, s, d, p, o in zip(size, kernel, stride, dilation, padding, out)
    ]


def _interior(gp: Array, size: Sizes, pads: Pads) -> Array:
    inner = (slice(lo, lo + n) for n, (lo, _) in zip(size, pads))
    return _copy(gp[(slice(None), slice(None), *inner)])


def _axis_counts(
    size: Sizes,
    kernel: Sizes,
    stride: Sizes,
    padding: Sizes,
    out: Sizes,
    inside: Callable[[Index, int, int], Index],
    like: Array,
) -> Array:
    """Divisor of every output: the product over axes of the taps for which inside(j) holds."""
    total = None
    for axis, (i, k, s, p, o) in enumerate(zip(size, kernel, stride, padding, out)):
        j = s * _arange(o, like)
        count = sum(_as_float(inside(j + t, i, p), like) for t in range(k))
        count = count.reshape((o,) + (1,) * (len(size) - axis - 1))
        total = count if total is None else total * count
    return total


# -- kernel max_pool ------------------------------------------------------------------------------
def max_pool(
    x: Array, kernel: Sizes, stride: Sizes, padding: Sizes, dilation: Sizes, out: Sizes
) -> tuple[Array, Array]:
    """y[n, c, o] = max_a x~[n, c, S o + D a] (x~ = -inf outside x), and the flat input index of
    the first maximum in the window's scan order (torch's tie rule: a later tap must be
    strictly greater); a NaN is the maximum, the window's last one (torch's NaN rule).
    x (N, C, *I); out: the output size. Returns (y, indices)."""
    size = x.shape[2:]
    xp = _pad_fill(x, _pads(size, kernel, stride, dilation, padding, out), -float("inf"))
    taps, wins = _windows(kernel, stride, dilation, out)
    rows = [_product(size[i + 1 :]) for i in range(len(size))]
    y = idx = None
    for a, win in zip(taps, wins):
        v = xp[win]
        pos = 0
        for axis, (o, t, s, d, p, r) in enumerate(zip(out, a, stride, dilation, padding, rows)):
            src = _pool_source(_arange(o, x), t, s, d, p) * r
            pos = pos + src.reshape((o,) + (1,) * (len(out) - axis - 1))
        if y is None:
            y = _copy(v)
            idx = _zeros_index(v.shape, x) + pos
        else:
            better = (v > y) | (v != v)  # a NaN wins, the last one (torch's rule)
            y = _where(better, v, y)
            idx = _where(better, pos, idx)
    return y, idx


def _product(sizes: Iterable[int]) -> int:
    out = 1
    for s in sizes:
        out *= s
    return out


# -- kernel max_pool_backward ---------------------------------------------------------------------
def max_pool_backward(delta: Array, indices: Array, size: Sizes) -> Array:
    """dL/dx of max_pool: each delta goes to its window's argmax (`indices`, flat over the
    input's spatial axes); overlapping windows add. A window entirely in the padding (index -1,
    its maximum is the padding's -inf) sends nothing. Returns (N, C, *size)."""
    n, c = delta.shape[:2]
    per = _product(size)
    base = (_arange(n * c, delta) * per).reshape((n, c) + (1,) * (delta.ndim - 2))
    inside = indices >= 0
    flat = _where(inside, indices + base, 0 * base).reshape(-1)
    values = _where(inside, delta, 0 * delta).reshape(-1)
    return _scatter_flat(n * c * per, flat, values, delta).reshape(n, c, *size)


# -- kernel avg_pool ------------------------------------------------------------------------------
def _avg_divisor(
    size: Sizes,
    kernel: Sizes,
    stride: Sizes,
    padding: Sizes,
    out: Sizes,
    count_include_pad: bool,
    divisor: float | None,
    like: Array,
) -> Any:
    """N_o: divisor_override; with count_include_pad the window clipped to the padded input;
    otherwise the number of input positions in the window."""
    if divisor is not None:
        return divisor
    inside = _in_padded if count_include_pad else _in_input
    return _axis_counts(size, kernel, stride, padding, out, inside, like)


def avg_pool(
    x: Array,
    kernel: Sizes,
    stride: Sizes,
    padding: Sizes,
    out: Sizes,
    count_include_pad: bool,
    divisor: float | None,
) -> Array:
    """y[n, c, o] = sum_a x~[n, c, S o + a] / N_o (x~ = 0 outside x). Returns (N, C, *out)."""
    size = x.shape[2:]
    ones = tuple(1 for _ in size)
    xp = _pad_fill(x, _pads(size, kernel, stride, ones, padding, out), 0)
    _, wins = _windows(kernel, stride, ones, out)
    total = _copy(xp[wins[0]])
    for win in wins[1:]:
        total += xp[win]
    return total / _avg_divisor(size, kernel, stride, padding, out, count_include_pad, divisor, x)


def avg_pool_backward(
    delta: Array,
    size: Sizes,
    kernel: Sizes,
    stride: Sizes,
    padding: Sizes,
    count_include_pad: bool,
    divisor: float | None,
) -> Array:
    """dL/dx of avg_pool: every position of window o gets delta[o] / N_o."""
    out = delta.shape[2:]
    ones = tuple(1 for _ in size)
    pads = _pads(size, kernel, stride, ones, padding, out)
    g = delta / _avg_divisor(size, kernel, stride, padding, out, count_include_pad, divisor, delta)
    gp = _zeros((*delta.shape[:2], *(n + lo + hi for n, (lo, hi) in zip(size, pads))), delta)
    for win in _windows(kernel, stride, ones, out)[1]:
        gp[win] += g
    return _interior(gp, size, pads)


# -- kernel lp_pool -------------------------------------------------------------------------------
def lp_pool(x: Array, p: float, kernel: Sizes, stride: Sizes, out: Sizes) -> Array:
    """torch's power-average pooling: y[n, c, o] = (prod(K) / N_o sum_a x[n, c, S o + a]^p)^(1/p),
    N_o the window clipped to the input (ceil mode)."""
    size = x.shape[2:]
    ones = tuple(1 for _ in size)
    zeros = tuple(0 for _ in size)
    pads = _pads(size, kernel, stride, ones, zeros, out)
    with _quiet():
        xp = _pad_fill(x, pads, 0) ** p
        _, wins = _windows(kernel, stride, ones, out)
        total = _copy(xp[wins[0]])
        for win in wins[1:]:
            total += xp[win]
        count = _axis_counts(size, kernel, stride, zeros, out, _in_padded, x)
        return (total / count * _product(kernel)) ** (1.0 / p)


def lp_pool_backward(delta: Array, x: Array, p: float, kernel: Sizes, stride: Sizes) -> Array:
    """dL/dx of lp_pool (symconv.poolgrad): dy_o/dx_j = c_o x_j^(p-1) y_o^(1-p), c_o =
    prod(K) / N_o, and zero where the window's sum of powers is zero; a negative sum (odd p)
    passes through as in torch: p = 1 is sum pooling, other p give NaN there."""
    size, out = x.shape[2:], delta.shape[2:]
    ones = tuple(1 for _ in size)
    zeros = tuple(0 for _ in size)
    pads = _pads(size, kernel, stride, ones, zeros, out)
    y = lp_pool(x, p, kernel, stride, out)
    c = _product(kernel) / _axis_counts(size, kernel, stride, zeros, out, _in_padded, x)
    with _quiet():
        coef = _where(y != 0, delta * c * y ** (1.0 - p), 0.0)
        xp = _pad_fill(x, pads, 0)
        gp = _zeros(xp.shape, x)
        for win in _windows(kernel, stride, ones, out)[1]:
            gp[win] += coef * xp[win] ** (p - 1.0)
    return _interior(gp, size, pads)
