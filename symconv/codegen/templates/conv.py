r"""The convolution kernels: the template of `numeric/_generated/{numpy,torch}_conv.py`.

Forward, the input and weight gradients, the bias gradient and the transposed convolution of
`numeric.conv` / `numeric.conv_transpose`, over any number of spatial axes: im2col and one GEMM
per group and tile, shift-add for depthwise layers. Every index computation goes through a
printed index map (`maps.py`: the padding maps $\varphi$, the window starts, the output and
gradient-padding sizes), every array operation through a primitive (`prims.py`). The printer
(`symconv.codegen.kernels.conv_nodes`) takes the sections below (`# -- kernel NAME`) as the
module's kernels; the other modules reuse some of them by name (`_pad`, `_fold`, `_thin`, ...).

Runs on NumPy as it is:

    >>> import numpy
    >>> x = numpy.arange(2 * 1 * 5, dtype=float).reshape(2, 1, 5)
    >>> w = numpy.ones((1, 1, 3))
    >>> conv_forward(x, w, None, [1], [(0, 0)], [1], 1, "zeros", False, 8).tolist()
    [[[3.0, 6.0, 9.0]], [[18.0, 21.0, 24.0]]]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

from .maps import (
    _conv_out,
    _gw_start,
    _phi_circular,
    _phi_reflect,
    _phi_replicate,
    _phi_zeros,
    _reach,
    _start_corr,
    _start_flip,
    _transpose_lo,
    _unused,
)
from .prims import (
    Array,
    Pads,
    Sizes,
    Start,
    Taps,
    Window,
    _arange,
    _contiguous,
    _copy,
    _empty,
    _flip,
    _index,
    _index_add,
    _matmul,
    _multiply,
    _permute,
    _small_gemm,
    _steps,
    _strided,
    _sum,
    _take,
    _window_dot,
    _zeros,
)

__all__ = [
    "conv_forward",
    "conv_grad_bias",
    "conv_grad_input",
    "conv_grad_weight",
    "conv_transpose_forward",
]


# -- kernel PHI -----------------------------------------------------------------------------------
PHI = {
    "zeros": _phi_zeros,
    "reflect": _phi_reflect,
    "replicate": _phi_replicate,
    "circular": _phi_circular,
}


# -- kernel _layout -------------------------------------------------------------------------------
def _swap01(x: Array) -> Array:
    """Exchange the first two axes, a view: (C, N, *O) <-> (N, C, *O)."""
    return _permute(x, (1, 0, *range(2, x.ndim)))


def _product(sizes: Iterable[int]) -> int:
    out = 1
    for s in sizes:
        out *= s
    return out


# Cost model. An im2col tile holds about _TILE elements (16 MB in float32, half the last-level
# cache: wide enough for an efficient GEMM, small enough to be read back from the cache); a
# depthwise block about _DEPTHWISE (its accumulator and scratch stay in the per-core cache).
_TILE = 4 * 2**20
_DEPTHWISE = 2**18


def _tile(per_sample: int, n: int) -> int:
    """Samples per im2col tile (at least one)."""
    return max(1, min(n, _TILE // max(1, per_sample)))


def _windows(
    kernel: Sizes, stride: Sizes, dilation: Sizes, out: Sizes, start: Start
) -> list[Window]:
    """Tap a's window x~[S o + D a'] for o = 0..O-1, one strided slice per axis; `start` is
    the printed window start (_start_corr, _start_flip or _gw_start)."""
    taps = itertools.product(*(range(k) for k in kernel))
    return [
        tuple(
            slice(start(t, k, d), start(t, k, d) + s * (o - 1) + 1, s)
            for t, k, d, s, o in zip(a, kernel, dilation, stride, out)
        )
        for a in taps
    ]


# -- kernel _thin ---------------------------------------------------------------------------------
# A GEMM whose small dimensions multiply to little (a 6 x 6 Winograd transform, LeNet's 6 x 25
# weight) is memory-bound; OpenBLAS runs one of at most 10^6 multiply-adds by its small-matrix
# kernel, which does not pack the long operand: 2-5x faster here in blocks of _small_gemm()
# multiply-adds (BENCHMARKS.md). Blocks narrower than _THIN_LEAST: one call.
_THIN_LEAST = 2048


def _thin_block(small: int) -> int:
    """Entries of the long axis per GEMM call when the other dimensions multiply to `small`;
    0: one call (no limit on this backend, or blocks that would be too narrow)."""
    budget = _small_gemm()
    step = budget // max(1, small)
    return step if budget > 0 and step >= _THIN_LEAST else 0


def _thin_matmul(a: Array, b: Array, out: Array, rows: bool = False) -> Array:
    """out = a b, the long axis (out's columns, or its rows when `rows`) in _thin_block
    blocks."""
    small = b.shape[-2] * b.shape[-1] if rows else a.shape[-2] * a.shape[-1]
    axis = len(out.shape) - (2 if rows else 1)
    n, step = out.shape[axis], _thin_block(small)
    if step <= 0 or n <= step:
        return _matmul(a, b, out)
    for s in range(0, n, step):
        part = slice(s, min(n, s + step))
        if rows:
            _matmul(a[..., part, :], b, out[..., part, :])
        else:
            _matmul(a, b[..., part], out[..., part])
    return out


def _thin_matmul_add(out: Array, a: Array, b: Array) -> Array:
    """out += a b, the long inner dimension in _thin_block blocks (out small)."""
    n, step = a.shape[-1], _thin_block(a.shape[-2] * b.shape[-1])
    if step <= 0 or n <= step:
        out += _matmul(a, b, None)
        return out
    for s in range(0, n, step):
        out += _matmul(a[..., s : s + step], b[..., s : s + step, :], None)
    return out


# -- kernel _taps ---------------------------------------------------------------------------------
def _taps(kernel: Sizes, dilation: Sizes, start: Start) -> list[tuple[int, int, int]]:
    """Per axis (K, first, step): tap a's window starts at first + step a, read off the printed
    window start (linear in a; the step is negative for a flipped kernel)."""
    return [
        (k, start(0, k, d), start(1, k, d) - start(0, k, d) if k > 1 else 0)
        for k, d in zip(kernel, dilation)
    ]


def _window_view(xp: Array, taps: Taps, stride: Sizes, out: Sizes) -> Array:
    """Every tap's window at once, (n, C, *K, *O): x~[n, c, first + step a + S o] for the taps
    of `_taps`, one strided view of xp (n, C, *P), no copy (a copy per tap costs prod(K) calls,
    which hold the interpreter while the other threads wait).

    The index is linear in (a, o) on each axis. The view steps through the taps upwards from
    the lowest window; axes whose printed step is negative (a flipped kernel) are flipped back.
    """
    low = [f + min(0, s * (k - 1)) for k, f, s in taps]
    src = xp[(slice(None), slice(None), *(slice(lo, None) for lo in low))]
    sn, sc, *sp = _steps(src)
    shape = (*src.shape[:2], *(k for k, _, _ in taps), *out)
    steps = (sn, sc, *(abs(s) * e for (_, _, s), e in zip(taps, sp)))
    view = _strided(src, shape, (*steps, *(t * e for t, e in zip(stride, sp))))
    back = tuple(2 + i for i, (_, _, s) in enumerate(taps) if s < 0)
    return _flip(view, back) if back else view


# -- kernel _pad ----------------------------------------------------------------------------------
def _pad(x: Array, pads: Pads, mode: str) -> Array:
    """x~[n, c, j] = x[n, c, phi(j - lo)] on every spatial axis: (N, C, *P).

    zeros: phi is the identity on [0, n) and -1 (a zero) elsewhere, so x is copied into the
    interior of a zero buffer; the other modes gather along each axis with the printed phi.
    """
    size = x.shape[2:]
    if mode == "zeros":
        xp = _zeros((*x.shape[:2], *(n + lo + hi for n, (lo, hi) in zip(size, pads))), x)
        xp[(slice(None), slice(None), *(slice(lo, lo + n) for n, (lo, _) in zip(size, pads)))] = x
        return xp
    for axis, (n, (lo, hi)) in enumerate(zip(size, pads)):
        x = _take(x, PHI[mode](_arange(n + lo + hi, x) - lo, n), axis + 2)
    return _contiguous(x)


# -- kernel _fold ---------------------------------------------------------------------------------
def _fold(g: Array, size: Sizes, pads: Pads, mode: str) -> Array:
    """Pad^T: dL/dx from dL/dx~ (N, C, *P). Keep the interior; for reflect, replicate and
    circular add every padded position j back onto its source phi(j - lo)."""
    for axis, (n, (lo, hi)) in enumerate(zip(size, pads)):
        ax = axis + 2
        inner = _copy(g[(slice(None),) * ax + (slice(lo, lo + n),)])
        if mode != "zeros" and lo + hi:
            border = _index([*range(lo), *range(lo + n, lo + n + hi)], g)
            _index_add(inner, ax, PHI[mode](border - lo, n), _take(g, border, ax))
        g = inner
    return g


# -- kernel _swap_channels ------------------------------------------------------------------------
def _swap_channels(w: Array, groups: int) -> Array:
    """Exchange the two channel axes within each group, (A, B, *K) -> (G B, A / G, *K): the
    weight of the gradient convolution (symconv.backprop.transpose_weight) and of ConvTranspose's
    direct convolution (TransposeEquivalent.weight)."""
    a, b, *k = w.shape
    w = _permute(w.reshape(groups, a // groups, b, *k), (0, 2, 1, *range(3, 3 + len(k))))
    return _contiguous(w).reshape(groups * b, a // groups, *k)


# -- kernel _conv_padded --------------------------------------------------------------------------
def _depthwise_layer(c_in: int, c_g: int, groups: int) -> bool:
    """groups == C_in > 1 with one input channel per group: no channel sum, no GEMM."""
    return groups == c_in and c_g == 1 and groups > 1


def _conv_padded(
    xp: Array,
    w: Array,
    out: Sizes,
    stride: Sizes,
    dilation: Sizes,
    groups: int,
    flip: bool,
    y: Array,
) -> None:
    """y[k, n, o] = sum_{c, a} x~[n, c_in(k, c), S o + D a'] w[k, c, a], channels first.

    xp: the padded input (n, C_in, *P); y: (C_out, n prod(O)), a column block of the output.
    Per tap a the index form reads the window x~[S o + D a'], o = 0..O-1: a strided slice
    starting at the printed _start_corr or _start_flip. Depthwise layers shift-add; the others
    im2col and GEMM.
    """
    _c_out, c_g, *kernel = w.shape
    start = _start_flip if flip else _start_corr
    if _depthwise_layer(xp.shape[1], c_g, groups):
        _depthwise(xp, w, _windows(kernel, stride, dilation, out, start), out, y)
    else:
        _im2col(xp, w, _taps(kernel, dilation, start), stride, out, groups, y)


# -- kernel _im2col -------------------------------------------------------------------------------
def _im2col(
    xp: Array, w: Array, taps: Taps, stride: Sizes, out: Sizes, groups: int, y: Array
) -> None:
    """im2col, channels first: one copy moves every tap's window of every channel of the group
    into cols[c, t] (C/G, T, n, *O); then y (C_out, n prod(O)) = W (C_out, C/G T) @ cols, one
    GEMM per group and tile (a tile of samples keeps cols near _TILE elements)."""
    n = xp.shape[0]
    c_out, c_g = w.shape[:2]
    k_g, t_n, per = c_out // groups, _product([k for k, _, _ in taps]), _product(out)
    w2 = w.reshape(c_out, c_g * t_n)
    tile = _tile(per * t_n * c_g, n)
    for n0 in range(0, n, tile):
        m = min(tile, n - n0)
        cols = _empty((c_g, t_n, m, *out), xp)
        for g in range(groups):
            cs, ks = slice(g * c_g, (g + 1) * c_g), slice(g * k_g, (g + 1) * k_g)
            _gather(cols, xp, taps, stride, slice(n0, n0 + m), cs)
            _thin_matmul(w2[ks], cols.reshape(c_g * t_n, -1), y[ks, n0 * per : (n0 + m) * per])


def _gather(cols: Array, xp: Array, taps: Taps, stride: Sizes, rows: slice, cs: slice) -> None:
    """im2col's copy: cols[c, a, n, o] = x~[rows, cs, first + step a + S o] (C/G, *K, n, *O),
    one copy of _window_view."""
    d = len(taps)
    view = _window_view(xp[(rows, cs)], taps, stride, cols.shape[3:])
    order = (1, *range(2, 2 + d), 0, *range(2 + d, 2 + 2 * d))  # (n, c, a, o) -> (c, a, n, o)
    cols.reshape(cols.shape[0], *(k for k, _, _ in taps), *cols.shape[2:])[...] = _permute(
        view, order
    )


# -- kernel _col2im -------------------------------------------------------------------------------
def _col2im(delta: Array, w: Array, windows: Sequence[Window], groups: int, gp: Array) -> None:
    """dL/dx~ = T^T delta, T = (im2col, then the GEMM with W) read the other way: first the GEMM
    with W^T (columns = W^T delta), then im2col transposed (col2im): every tap's column block
    is added back onto the window it was copied from (the forward's windows; overlapping
    windows add). gp (n, C_in, *P) holds zeros on entry; delta (n, C_out, *O)."""
    n, c_out, *out = delta.shape
    c_g = w.shape[1]
    k_g, t_n = c_out // groups, len(windows)
    w2 = w.reshape(c_out, c_g * t_n)
    tile = _tile(_product(out) * t_n * c_g, n)
    for n0 in range(0, n, tile):
        m = min(tile, n - n0)
        for g in range(groups):
            cs, ks = slice(g * c_g, (g + 1) * c_g), slice(g * k_g, (g + 1) * k_g)
            d = _contiguous(_swap01(delta[n0 : n0 + m, ks])).reshape(k_g, -1)
            cols = _matmul(_permute(w2[ks], (1, 0)), d, None).reshape(c_g, t_n, m, *out)
            for t, win in enumerate(windows):
                view = gp[(slice(n0, n0 + m), cs, *win)]
                view += _swap01(cols[:, t])


# -- kernel _depthwise ----------------------------------------------------------------------------
def _depthwise(xp: Array, w: Array, windows: Sequence[Window], out: Sizes, y: Array) -> None:
    """Shift-add: y[c m + j] = sum_a w[c m + j, 0, a] x~[c, window a], multiplier m = C_out / C_in.
    One multiply into a scratch buffer and one add per tap (no temporaries), a block of
    channels at a time so that the accumulator and the scratch stay in cache."""
    n, c_in = xp.shape[:2]
    c_out = w.shape[0]
    mult, per = c_out // c_in, _product(out)
    w3 = w.reshape(c_in, mult, len(windows))
    acc_all = y.reshape(c_in, mult, n, *out)
    block = max(1, min(c_in, _DEPTHWISE // max(1, mult * n * per)))
    tmp = _empty((block, mult, n, *out), xp)
    for c0 in range(0, c_in, block):
        cb = min(block, c_in - c0)
        acc, scratch = acc_all[c0 : c0 + cb], tmp[:cb]
        for t, win in enumerate(windows):
            src = _swap01(xp[(slice(None), slice(c0, c0 + cb), *win)])[:, None]
            wt = w3[c0 : c0 + cb, :, t].reshape(cb, mult, *(1 for _ in range(1 + len(out))))
            if t == 0:
                _multiply(src, wt, acc)
            else:
                _multiply(src, wt, scratch)
                acc += scratch


# -- kernel conv_forward --------------------------------------------------------------------------
def _run_conv(
    x_hat: Array,
    w: Array,
    out: Sizes,
    stride: Sizes,
    dilation: Sizes,
    groups: int,
    flip: bool,
    chunk: int,
    pad: Callable[[Array], Array],
) -> Array:
    """y (N, C_out, *O), a view of a (C_out, N, *O) buffer: `pad` maps a chunk of samples to
    its padded input (n, C_in, *P), then _conv_padded writes the chunk's column block."""
    n, c_out, per = x_hat.shape[0], w.shape[0], _product(out)
    y = _empty((c_out, n * per), w)
    for n0 in range(0, n, chunk):
        xp = pad(x_hat[n0 : n0 + chunk])
        block = y[:, n0 * per : (n0 + xp.shape[0]) * per]
        _conv_padded(xp, w, out, stride, dilation, groups, flip, block)
    return _swap01(y.reshape(c_out, n, *out))


def conv_forward(
    x: Array,
    w: Array,
    b: Array | None,
    stride: Sizes,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    mode: str,
    flip: bool,
    chunk: int,
) -> Array:
    """Convolution, any number of spatial axes: the index form

        y[n, k, o] = b[k] + sum_{c, a} x~[n, g(k) C_in/G + c, S o + D a'] w[k, c, a],

    x~ the padded input (phi of `mode`), a' = K - 1 - a when `flip`. x (N, C_in, *I),
    w (C_out, C_in/G, *K), b (C_out,) or None; stride, dilation: one int per axis; pads: one
    (lo, hi) pair per axis. Runs over the batch `chunk` samples at a time (bounded workspace).
    Returns (N, C_out, *O), a view of a (C_out, N, *O) buffer.
    """
    _n, _c_in, *size = x.shape
    c_out, _c_g, *kernel = w.shape
    out = [
        _conv_out(i, k, s, d, lo, hi)
        for i, k, s, d, (lo, hi) in zip(size, kernel, stride, dilation, pads)
    ]
    y = _run_conv(x, w, out, stride, dilation, groups, flip, chunk, lambda c: _pad(c, pads, mode))
    if b is not None:
        y += b.reshape(c_out, *(1 for _ in out))
    return y


# -- kernel conv_grad_input -----------------------------------------------------------------------
def conv_grad_input(
    delta: Array,
    w: Array,
    size: Sizes,
    stride: Sizes,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    mode: str,
    flip: bool,
    chunk: int,
) -> Array:
    """dL/dx of conv_forward (symconv.backprop.GradInput), then Pad^T (_fold).

    Two readings of the same T^T. Layers with a channel sum: T = (im2col, then the GEMM with W),
    so T^T = (im2col)^T W^T, the forward's structure read the other way (_col2im): the zeros a
    stride puts between the entries of delta are never multiplied. Depthwise layers: the
    derived operator literally (shift-add): dilate delta by the stride, pad it d(k - 1) on each
    side plus the unread tail, convolve (stride 1, dilation D, the kernel flip toggled) with the
    channel-swapped weight.

    delta (N, C_out, *O), w (C_out, C_in/G, *K), size: the input's spatial size.
    Returns (N, C_in, *size).
    """
    n, _c_out, *out = delta.shape
    _, c_g, *kernel = w.shape
    c_in = c_g * groups
    padded = [i + lo + hi for i, (lo, hi) in zip(size, pads)]
    if not _depthwise_layer(c_in, c_g, groups):
        windows = _windows(kernel, stride, dilation, out, _start_flip if flip else _start_corr)
        dx = _empty((n, c_in, *size), delta)
        for n0 in range(0, n, chunk):
            d = delta[n0 : n0 + chunk]
            gp = _zeros((d.shape[0], c_in, *padded), delta)
            _col2im(d, w, windows, groups, gp)
            dx[n0 : n0 + chunk] = _fold(gp, size, pads, mode)
        return dx
    gpads = [
        (_reach(k, d), _reach(k, d) + _unused(i, k, s, d, lo, hi))
        for i, k, s, d, (lo, hi) in zip(size, kernel, stride, dilation, pads)
    ]
    shape = [s * (o - 1) + 1 + lo + hi for s, o, (lo, hi) in zip(stride, out, gpads)]
    every = [slice(lo, lo + s * (o - 1) + 1, s) for s, o, (lo, _) in zip(stride, out, gpads)]

    def pad(d: Array) -> Array:
        # delta-hat: s - 1 zeros between the entries of delta, in the gradient padding
        dp = _zeros((*d.shape[:2], *shape), delta)
        dp[(slice(None), slice(None), *every)] = d
        return dp

    w_t = _swap_channels(w, groups)
    ones = tuple(1 for _ in size)
    g = _run_conv(delta, w_t, padded, ones, dilation, groups, not flip, chunk, pad)
    return _fold(g, size, pads, mode)


# -- kernel conv_grad_weight ----------------------------------------------------------------------
def conv_grad_weight(
    x: Array,
    delta: Array,
    kernel: Sizes,
    stride: Sizes,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    mode: str,
    flip: bool,
    chunk: int,
) -> Array:
    """dL/dw of conv_forward (symconv.backprop.GradWeight): x~ correlated with delta as the
    kernel (stride D, dilation S); output a is weight tap a (reversed when `flip`):

        dw[k, c, a] = sum_{n, o} delta[n, k, o] x~[n, c_in(k, c), D a + S o].

    The windows x~[D a + S o] are im2col's columns, so dw = delta @ im2col^T, a tile of samples
    at a time; depthwise: one per-channel dot product per tap. Returns (C_out, C_in/G, *kernel).
    """
    n, c_in, *_size = x.shape
    _, c_out, *out = delta.shape
    c_g, k_g = c_in // groups, c_out // groups

    def start(a: int, k: int, d: int) -> int:  # the printed GradWeight window start
        return _gw_start(a, d)

    t_n, per = _product(kernel), _product(out)
    dw = _zeros((c_out, c_g * t_n), x)
    depthwise = _depthwise_layer(c_in, c_g, groups)
    tile = max(1, chunk) if depthwise else _tile(per * t_n * c_g, max(1, chunk))
    for n0 in range(0, n, tile):
        xp = _pad(x[n0 : n0 + tile], pads, mode)
        m = xp.shape[0]
        if depthwise:  # per tap, a dot product per channel of the window with delta
            d = delta[n0 : n0 + tile].reshape(m, c_in, c_out // c_in, *out)
            for t, win in enumerate(_windows(kernel, stride, dilation, out, start)):
                src = xp[(slice(None), slice(None), *win)]
                dw[:, t] += _window_dot(src, d).reshape(c_out)
            continue
        cols = _empty((c_g, t_n, m, *out), x)
        for g in range(groups):
            cs, ks = slice(g * c_g, (g + 1) * c_g), slice(g * k_g, (g + 1) * k_g)
            _gather(cols, xp, _taps(kernel, dilation, start), stride, slice(None), cs)
            d = _contiguous(_swap01(delta[n0 : n0 + tile, ks])).reshape(k_g, -1)
            _thin_matmul_add(dw[ks], d, _permute(cols.reshape(c_g * t_n, -1), (1, 0)))
    dw = dw.reshape(c_out, c_g, *kernel)
    if flip:
        dw = _contiguous(_flip(dw, tuple(range(2, dw.ndim))))
    return dw


# -- kernel conv_grad_bias ------------------------------------------------------------------------
def conv_grad_bias(delta: Array) -> Array:
    """dL/db = the sum of delta over the batch and every spatial axis: (C_out,)."""
    return _sum(delta, (0, *range(2, delta.ndim)))


# -- kernel conv_transpose_forward ----------------------------------------------------------------
def conv_transpose_forward(
    x: Array,
    w: Array,
    b: Array | None,
    stride: Sizes,
    padding: Sizes,
    output_padding: Sizes,
    dilation: Sizes,
    groups: int,
    chunk: int,
) -> Array:
    """Transposed convolution as a direct one (symconv.transpose.conv_transpose_equivalent):
    s - 1 zeros between the inputs, pad p' = d(k - 1) - p low and p' + output_padding high (a
    negative p' crops), then a valid stride-1 convolution with the flipped kernel and the
    channel-swapped weight. x (N, C_in, *I), w (C_in, C_out/G, *K). Returns (N, C_out, *O).
    """
    _n, _c_in, *size = x.shape
    _, k_g, *kernel = w.shape
    c_out = k_g * groups
    lo = [_transpose_lo(k, d, p) for k, d, p in zip(kernel, dilation, padding)]
    hi = [p + q for p, q in zip(lo, output_padding)]
    full = [s * (i - 1) + 1 + max(a, 0) + max(c, 0) for s, i, a, c in zip(stride, size, lo, hi)]
    keep = (slice(max(-a, 0), f - max(-c, 0)) for f, a, c in zip(full, lo, hi))
    crop = (slice(None), slice(None), *keep)
    out = [
        f - max(-a, 0) - max(-c, 0) - d * (k - 1)
        for f, a, c, d, k in zip(full, lo, hi, dilation, kernel)
    ]
    every = (
        slice(None),
        slice(None),
        *(slice(max(a, 0), max(a, 0) + s * (i - 1) + 1, s) for s, i, a in zip(stride, size, lo)),
    )
    w_d = _swap_channels(w, groups)
    ones = tuple(1 for _ in size)

    def pad(xc: Array) -> Array:
        # s - 1 zeros between the inputs, padded by p' (cropped where p' < 0)
        xs = _zeros((*xc.shape[:2], *full), x)
        xs[every] = xc
        return _contiguous(xs[crop])

    y = _run_conv(x, w_d, out, ones, dilation, groups, True, chunk, pad)
    if b is not None:
        y += b.reshape(c_out, *(1 for _ in out))
    return y
