r"""The locally connected and tiled kernels: the template of `numeric/_generated/*_local.py`.

A locally connected layer reads the same windows as a convolution, x~[n, c', S o + D a'], but
its weight carries the output position, w[k, o, c, a]; a tiled layer's weight carries o mod t
(the printed map `_tile_of`). So these kernels reuse the convolution template's padding,
windows and folding (`conv.py`: `_pad`, `_fold`, `_windows`, `_taps`, `_window_view`; printed
once from there into the generated module) and add im2col with the positions as a batch axis
(one small GEMM per output position) and the gradients of `symconv.local_params.local_backprop`.
The printer (`symconv.codegen.local.local_nodes`) takes the sections below.

Runs on NumPy as it is:

    >>> import numpy
    >>> x = numpy.arange(5.0).reshape(1, 1, 5)
    >>> w = numpy.ones((1, 3, 1, 3))  # (C_out, *O, C_in, *K): one weight per output position
    >>> w[0, 1] = 2.0
    >>> local_forward(x, w, None, [1], [(0, 0)], [1], 1, "zeros", False, 4).tolist()
    [[[3.0, 12.0, 9.0]]]
"""

from __future__ import annotations

from .conv import _fold, _pad, _product, _taps, _window_view, _windows
from .maps import _conv_out, _start_corr, _start_flip, _tile_of
from .prims import (
    Array,
    Pads,
    Sizes,
    Taps,
    Window,
    _arange,
    _contiguous,
    _empty,
    _index_add,
    _matmul,
    _permute,
    _sum,
    _take,
    _zeros,
)

__all__ = [
    "local_forward",
    "local_grad_bias",
    "local_grad_input",
    "local_grad_weight",
    "tiled_forward",
    "tiled_grad_input",
    "tiled_grad_weight",
]


# -- kernel _positions ----------------------------------------------------------------------------
def _columns(xp: Array, taps: Taps, stride: Sizes, out: Sizes, groups: int) -> Array:
    """im2col, positions first: cols[g, o, (c, t), n] = x~[n, g C_in/G + c, window t at o],
    (G, P, C_in/G T, n), one copy of the convolution's _window_view; every output position
    gets its own column block."""
    n, c_in = xp.shape[:2]
    t_n = _product([k for k, _, _ in taps])
    cols = _contiguous(_window_view(xp, taps, stride, out)).reshape(n, c_in, t_n, *out)
    rows = c_in // groups * t_n
    return _permute(cols.reshape(n, groups, rows, _product(out)), (1, 3, 2, 0))


def _weight_by_position(w: Array, groups: int, dims: int) -> Array:
    """(C_out, *O, C_in/G, *K) -> (G, P, C_out/G, C_in/G T): one matrix W_o per position."""
    c_out = w.shape[0]
    p = _product(w.shape[1 : 1 + dims])
    rows = _product(w.shape[1 + dims :])  # C_in/G prod(K)
    return _permute(w.reshape(groups, c_out // groups, p, rows), (0, 2, 1, 3))


def _delta_by_position(d: Array, groups: int) -> Array:
    """delta (n, C_out, *O) -> (G, P, C_out/G, n)."""
    n, c_out, *out = d.shape
    return _permute(d.reshape(n, groups, c_out // groups, _product(out)), (1, 3, 2, 0))


def _local_windows(
    kernel: Sizes, stride: Sizes, dilation: Sizes, out: Sizes, flip: bool
) -> list[Window]:
    """Tap a's window x~[S o + D a'] (a' = K - 1 - a when flip): the convolution's windows."""
    return _windows(kernel, stride, dilation, out, _start_flip if flip else _start_corr)


def _local_taps(kernel: Sizes, dilation: Sizes, flip: bool) -> list[tuple[int, int, int]]:
    """The same windows as (K, first, step) per axis, for _window_view."""
    return _taps(kernel, dilation, _start_flip if flip else _start_corr)


def _output_size(
    size: Sizes, kernel: Sizes, stride: Sizes, dilation: Sizes, pads: Pads
) -> list[int]:
    return [
        _conv_out(i, k, s, d, lo, hi)
        for i, k, s, d, (lo, hi) in zip(size, kernel, stride, dilation, pads)
    ]


# -- kernel local_forward -------------------------------------------------------------------------
def local_forward(
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
    """Locally connected layer, any number of spatial axes: the index form

        y[n, k, o] = b[k, o] + sum_{c, a} x~[n, g(k) C_in/G + c, S o + D a'] w[k, o, c, a],

    x~ the padded input (phi of `mode`), a' = K - 1 - a when `flip`. x (N, C_in, *I),
    w (C_out, *O, C_in/G, *K), b (C_out, *O) or None. Per output position o one GEMM,
    y[:, k, o] = W_o X_o (a batched matmul over o and the groups), `chunk` samples at a time.
    Returns (N, C_out, *O).
    """
    n, _c_in, *size = x.shape
    dims = len(size)
    c_out, kernel = w.shape[0], w.shape[2 + dims :]
    out = _output_size(size, kernel, stride, dilation, pads)
    taps = _local_taps(kernel, dilation, flip)
    wp = _weight_by_position(w, groups, dims)  # (G, P, C_out/G, C_in/G T)
    y = _empty((n, c_out, *out), x)
    for n0 in range(0, n, chunk):
        cols = _columns(_pad(x[n0 : n0 + chunk], pads, mode), taps, stride, out, groups)
        m = cols.shape[-1]
        # (G, P, C_out/G, m) -> (m, C_out, *O)
        y[n0 : n0 + m] = _permute(_matmul(wp, cols, None), (3, 0, 2, 1)).reshape(m, c_out, *out)
    if b is not None:
        y += b
    return y


# -- kernel local_grad_input ----------------------------------------------------------------------
def local_grad_input(
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
    """dL/dx = Pad^T T^T delta of local_forward: per position the GEMM transposed,
    X_o-gradient = W_o^T delta_o, then col2im (every tap's block added back onto the window it
    was read from; overlapping windows add) and _fold (Pad^T). delta (N, C_out, *O),
    w (C_out, *O, C_in/G, *K), size: the input's spatial size. Returns (N, C_in, *size).
    """
    n, _c_out, *out = delta.shape
    dims = len(out)
    kernel = w.shape[2 + dims :]
    c_in = w.shape[1 + dims] * groups
    windows = _local_windows(kernel, stride, dilation, out, flip)
    wt = _permute(_weight_by_position(w, groups, dims), (0, 1, 3, 2))  # W_o^T
    padded = [i + lo + hi for i, (lo, hi) in zip(size, pads)]
    dx = _empty((n, c_in, *size), delta)
    for n0 in range(0, n, chunk):
        d = _delta_by_position(delta[n0 : n0 + chunk], groups)
        m = d.shape[-1]
        cols = _matmul(wt, d, None)  # (G, P, C_in/G T, m)
        cols = _permute(cols, (3, 0, 2, 1)).reshape(m, c_in, len(windows), *out)
        gp = _zeros((m, c_in, *padded), delta)
        for t, win in enumerate(windows):
            view = gp[(slice(None), slice(None), *win)]
            view += cols[:, :, t]
        dx[n0 : n0 + m] = _fold(gp, size, pads, mode)
    return dx


# -- kernel local_grad_weight ---------------------------------------------------------------------
def local_grad_weight(
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
    """dL/dw of local_forward (symconv.local_params.local_backprop): one product per weight,
    no sum over positions,

        dw[k, o, c, a] = sum_n delta[n, k, o] x~[n, g(k) C_in/G + c, S o + D a'],

    i.e. dW_o = delta_o X_o^T per position (a batched matmul), summed over the batch in chunks.
    Returns (C_out, *O, C_in/G, *kernel).
    """
    n, c_in, *_size = x.shape
    _, c_out, *out = delta.shape
    taps = _local_taps(kernel, dilation, flip)
    c_g = c_in // groups
    dw = _zeros((groups, _product(out), c_out // groups, c_g * _product(kernel)), x)
    for n0 in range(0, n, chunk):
        cols = _columns(_pad(x[n0 : n0 + chunk], pads, mode), taps, stride, out, groups)
        d = _delta_by_position(delta[n0 : n0 + chunk], groups)
        dw += _matmul(d, _permute(cols, (0, 1, 3, 2)), None)
    return _contiguous(_permute(dw, (0, 2, 1, 3))).reshape(c_out, *out, c_g, *kernel)


# -- kernel local_grad_bias -----------------------------------------------------------------------
def local_grad_bias(delta: Array) -> Array:
    """dL/db of the unshared bias b[k, o]: delta summed over the batch only, (C_out, *O)."""
    return _sum(delta, (0,))


# -- kernel tiled ---------------------------------------------------------------------------------
def _tile_expand(w: Array, out: Sizes, tiles: Sizes) -> Array:
    """w[k, o mod t, c, a] for every position o: the tiled weight as a locally connected one,
    (C_out, *t, C_in/G, *K) -> (C_out, *O, C_in/G, *K), one gather per axis."""
    for axis, (o, t) in enumerate(zip(out, tiles)):
        w = _take(w, _tile_of(_arange(o, w), t), axis + 1)
    return w


def _tile_sum(dw: Array, tiles: Sizes) -> Array:
    """The transpose of _tile_expand: sum dL/dw[k, o, c, a] over the positions o with the same
    tile o mod t, axis by axis. (C_out, *O, ...) -> (C_out, *t, ...)."""
    for axis, t in enumerate(tiles):
        shape = list(dw.shape)
        o, shape[axis + 1] = shape[axis + 1], t
        acc = _zeros(tuple(shape), dw)
        _index_add(acc, axis + 1, _tile_of(_arange(o, dw), t), dw)
        dw = acc
    return dw


def tiled_forward(
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
    """Tiled convolution, local_forward with the expanded weight:

        y[n, k, o] = b[k] + sum_{c, a} x~[n, c', S o + D a'] w[k, o mod t, c, a],

    w (C_out, *t, C_in/G, *K), b (C_out,) or None."""
    dims = x.ndim - 2
    tiles, kernel = w.shape[1 : 1 + dims], w.shape[2 + dims :]
    out = _output_size(x.shape[2:], kernel, stride, dilation, pads)
    w_local = _tile_expand(w, out, tiles)
    y = local_forward(x, w_local, None, stride, pads, dilation, groups, mode, flip, chunk)
    if b is not None:
        y += b.reshape(w.shape[0], *(1 for _ in out))
    return y


def tiled_grad_input(
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
    """dL/dx of tiled_forward: local_grad_input with the expanded weight."""
    dims = delta.ndim - 2
    w_local = _tile_expand(w, delta.shape[2:], w.shape[1 : 1 + dims])
    return local_grad_input(delta, w_local, size, stride, pads, dilation, groups, mode, flip, chunk)


def tiled_grad_weight(
    x: Array,
    delta: Array,
    tiles: Sizes,
    kernel: Sizes,
    stride: Sizes,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    mode: str,
    flip: bool,
    chunk: int,
) -> Array:
    """dL/dw of tiled_forward: the per-position gradient summed over each tile's positions."""
    dw = local_grad_weight(x, delta, kernel, stride, pads, dilation, groups, mode, flip, chunk)
    return _tile_sum(dw, tiles)
