r"""The shifted-GEMM convolution kernels: the template of `numeric/_generated/*_shifted.py`.

At stride 1 the convolution's (doubly) block Toeplitz matrix, read on the flattened padded
input, is a band: output position q reads X[q + off(a)] for tap a, off(a) the window start
(`_start_corr`, printed from the index form) in flat coordinates. So the layer is one GEMM per
tap on a shifted view of X, summed (shift-adds of whole rows where a group holds few channels);
dL/dx is the same kernel with the derived GradInput's padding and weight, dL/dw one GEMM per tap
(`symconv.codegen.shifted` explains the method). Every array operation goes through a primitive
(`prims.py`); the padding placement and the gradient weight come from the Winograd template,
which the printed module shares. The printer (`symconv.codegen.shifted`) takes the section below.

Runs on NumPy as it is:

    >>> import numpy
    >>> x = numpy.arange(2 * 1 * 5, dtype=float).reshape(2, 1, 5)
    >>> w = numpy.ones((1, 1, 3))
    >>> conv_shifted(x, w, None, [(0, 0)], [1], 1, 8).tolist()
    [[[3.0, 6.0, 9.0]], [[18.0, 21.0, 24.0]]]
"""

from __future__ import annotations

from .conv import _product, _swap01
from .maps import _conv_out, _reach, _start_corr
from .prims import (
    Array,
    Pads,
    Sizes,
    _add,
    _contiguous,
    _empty,
    _matmul,
    _multiply,
    _multiply_add,
    _permute,
    _steps,
    _strided,
    _sum,
    _window_dot,
    _zeros,
)
from .winograd import _placement, gradient_weight_of

__all__ = [
    "conv_shifted",
    "conv_shifted_grad_input",
    "conv_shifted_grad_weight",
    "shift_add_layer",
]


# -- kernel shifted -------------------------------------------------------------------------------
def output_size(size: Sizes, kernel: Sizes, pads: Pads, dilation: Sizes) -> list[int]:
    """The stride-1 layer's output size (_conv_out, printed from symconv._sizes)."""
    layer = zip(size, kernel, pads, dilation)
    return [_conv_out(n, k, 1, d, lo, hi) for n, k, (lo, hi), d in layer]


def _grid(padded: Sizes) -> list[int]:
    """Flat strides s_i = prod(P[i + 1:]) of the padded grid (row-major)."""
    return [_product(padded[i + 1 :]) for i in range(len(padded))]


def _offsets(kernel: Sizes, dilation: Sizes, padded: Sizes) -> list[int]:
    """off(a) = sum_i start(a_i) s_i for every tap a (row-major over the kernel axes), start the
    index form's window start at o = 0 (_start_corr: D a)."""
    offs = [0]
    for k, d, s in zip(kernel, dilation, _grid(padded)):
        offs = [o + _start_corr(a, k, d) * s for o in offs for a in range(k)]
    return offs


def _flat(x: Array, pads: Pads) -> tuple[Array, list[int]]:
    """X (n, prod(P), C): x~ channels last and flattened, x~[j] = x[j - lo] on the padded grid
    (zeros outside; a negative lo crops). Returns X and P."""
    n, c, *size = x.shape
    padded = [i + lo + hi for i, (lo, hi) in zip(size, pads)]
    xp = _zeros((n, *padded, c), x)
    src, dst = _placement(size, pads, padded)
    xp[(slice(None), *dst)] = _permute(x, (0, *range(2, x.ndim), 1))[(slice(None), *src)]
    return xp.reshape(n, _product(padded), c), padded


# Layers whose groups hold few channels (c_g K_g <= _SHIFT_ADD: depthwise, its gradient, one
# input channel) skip the GEMMs: per tap and channel pair a multiply-add of whole rows of the
# channels-first flat input, _BAND_BLOCK elements of accumulator at a time (per-core cache).
_SHIFT_ADD = 8
_BAND_BLOCK = 2**17


def shift_add_layer(c_g: int, k_g: int) -> bool:
    """Whether a group of c_g inputs and k_g outputs runs as shift-adds instead of GEMMs."""
    return c_g * k_g <= _SHIFT_ADD


def _extent(out: Sizes, padded: Sizes, n: int = 1) -> int:
    """J = (n - 1) prod(P) + L, L = q(O - 1) + 1: the flat positions from the first output of
    the first of n samples laid one after the other on the padded grid to the last output of
    the last (n = 1: L)."""
    return (n - 1) * _product(padded) + sum((o - 1) * s for o, s in zip(out, _grid(padded))) + 1


def conv_shifted(
    x: Array, w: Array, b: Array | None, pads: Pads, dilation: Sizes, groups: int, chunk: int
) -> Array:
    """Stride-1 cross-correlation as shifted GEMMs: x (N, C_in, *I), w (C_out, C_in/G, *K),
    b (C_out,) or None, zero padding pads ((lo, hi) per axis), any dilation and groups,
    `chunk` samples at a time. Y[q] = sum_a X[q + off(a)] W_a, then the outputs' rows of Y
    (shift-adds instead of GEMMs where shift_add_layer). Returns (N, C_out, *O)."""
    n, _c_in, *size = x.shape
    c_out, c_g, *kernel = w.shape
    out = output_size(size, kernel, pads, dilation)
    y = _empty((n, c_out, *out), x)
    run = _shift_add if shift_add_layer(c_g, c_out // groups) else _shifted_gemms
    step = max(1, min(chunk, n))
    scratch: dict[str, Array] = {}
    for n0 in range(0, n, step):
        run(x[n0 : n0 + step], w, y[n0 : n0 + step], pads, dilation, groups, scratch)
    if b is not None:
        y += b.reshape(c_out, *(1 for _ in out))
    return y


def _scratch(buffers: dict[str, Array], key: str, shape: Sizes, like: Array) -> Array:
    """A buffer of `shape`, kept in `buffers` from chunk to chunk (fresh pages cost as much as
    the adds): the first chunk's, sliced."""
    buf = buffers.get(key)
    if buf is None or any(b < s for b, s in zip(buf.shape, shape)):
        buf = buffers[key] = _empty(shape, like)
    return buf[tuple(slice(0, s) for s in shape)]


def _shifted_gemms(
    x: Array,
    w: Array,
    y: Array,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    buffers: dict[str, Array],
) -> None:
    """y = the layer on a chunk x, one GEMM per tap and group on the channels-last X."""
    c_out, c_g, *kernel = w.shape
    k_g, taps, out = c_out // groups, _product(kernel), y.shape[2:]
    wt = _contiguous(_permute(w.reshape(groups, k_g, c_g, taps), (0, 3, 2, 1)))  # (G, a, c, k)
    xf, padded = _flat(x, pads)
    m, grid = xf.shape[0], _grid(padded)
    span = _extent(out, padded)
    acc = _scratch(buffers, "acc", (groups, m, span, k_g), x)
    tmp = _scratch(buffers, "tmp", (m, span, k_g), x)
    for g in range(groups):
        cs = slice(g * c_g, (g + 1) * c_g)
        for t, off in enumerate(_offsets(kernel, dilation, padded)):
            if t == 0:
                _matmul(xf[:, off : off + span, cs], wt[g, t], acc[g])
            else:
                _matmul(xf[:, off : off + span, cs], wt[g, t], tmp)
                acc[g] += tmp
    # the outputs: Y at q(o) = sum_i o_i s_i, (G, m, *O, K/G) -> (m, G, K/G, *O)
    steps = (_steps(acc)[0], span * k_g, *(s * k_g for s in grid), 1)
    rows = _strided(acc, (groups, m, *out, k_g), steps)
    order = (1, 0, 2 + len(out), *range(2, 2 + len(out)))
    y.reshape(m, groups, k_g, *out)[...] = _permute(rows, order)


def _flat_first(
    x: Array, pads: Pads, groups: int, buffers: dict[str, Array] | None = None
) -> tuple[Array, list[int]]:
    """X (G, C/G, n prod(P)): x~ channels first, and per channel the chunk's samples one after
    the other on the flattened padded grid (x~[j] = x[j - lo], zeros outside), so that a tap's
    shifted view is one long row per channel: every output of sample i reads inside sample i's
    grid. With `buffers`, the grid is kept from chunk to chunk: its border stays zero, only x
    is copied in. Returns X and P."""
    n, c, *size = x.shape
    padded = [i + lo + hi for i, (lo, hi) in zip(size, pads)]
    if buffers is None:
        xp = _zeros((c, n, *padded), x)
    else:
        if "grid" not in buffers:
            buffers["grid"] = _zeros((c, n, *padded), x)
        xp = buffers["grid"][:, :n]
    src, dst = _placement(size, pads, padded)
    xp[(slice(None), slice(None), *dst)] = _swap01(x)[(slice(None), slice(None), *src)]
    return xp.reshape(groups, c // groups, n * _product(padded)), padded


def _on_grid(d: Array, padded: Sizes, first: int, like: Array) -> Array:
    """delta placed on the padded grid at the outputs' positions o (zeros elsewhere: the
    discarded rows); its spatial axes start at axis `first`."""
    shape = (*d.shape[:first], *padded, *d.shape[first + len(padded) :])
    dg = _zeros(shape, like)
    at = tuple(slice(0, o) for o in d.shape[first : first + len(padded)])
    dg[(*(slice(None) for _ in range(first)), *at)] = d
    return dg


def _shift_add(
    x: Array,
    w: Array,
    y: Array,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    buffers: dict[str, Array],
) -> None:
    """y = the layer on a chunk x by shift-adds: per group g, output k of the group and input
    c, Y[g, k] += w[g, k, c, a] X[g, c, j + off(a)] over the chunk's whole row, j = 0..J - 1,
    J = (n - 1) prod(P) + L, a block of groups at a time; the last product is added straight
    into y at the outputs' positions j = i prod(P) + q(o)."""
    n = x.shape[0]
    c_out, c_g, *kernel = w.shape
    k_g, taps, out = c_out // groups, _product(kernel), y.shape[2:]
    xf, padded = _flat_first(x, pads, groups, buffers)
    grid, whole = _grid(padded), _product(padded)
    span = _extent(out, padded, n)  # J
    wr = w.reshape(groups, k_g, c_g, taps)
    yg = _permute(y.reshape(n, groups, k_g, *out), (1, 2, 0, *range(3, 3 + len(out))))
    block = max(1, min(groups, _BAND_BLOCK // (k_g * span)))
    acc_all = _scratch(buffers, "acc", (block, k_g, span), x)
    tmp_all = _scratch(buffers, "tmp", (block, k_g, span), x)
    offs = _offsets(kernel, dilation, padded)
    pairs = [(c, t, off) for c in range(c_g) for t, off in enumerate(offs)]  # c_g k of them

    def on_outputs(v: Array) -> Array:
        # (g, k, J) -> the outputs' positions: (g, k, n, *O), read-only
        return _strided(v, (*v.shape[:2], n, *out), (*_steps(v)[:2], whole, *grid))

    for g0 in range(0, groups, block):
        g1 = min(groups, g0 + block)
        acc, tmp = acc_all[: g1 - g0], tmp_all[: g1 - g0]
        for i, (c, t, off) in enumerate(pairs):
            src, wt = xf[g0:g1, c : c + 1, off : off + span], wr[g0:g1, :, c, t : t + 1]
            if i == 0:
                _multiply(src, wt, acc)
            elif i < len(pairs) - 1:
                _multiply_add(acc, acc, src, wt, tmp)
            else:  # y = acc + src w, read at the outputs' positions only
                _multiply(src, wt, tmp)
                _add(on_outputs(acc), on_outputs(tmp), yg[g0:g1])
        if len(pairs) == 1:
            yg[g0:g1] = on_outputs(acc)


def conv_shifted_grad_input(
    delta: Array, w: Array, size: Sizes, pads: Pads, dilation: Sizes, groups: int, chunk: int
) -> Array:
    """dL/dx (N, C_in, *size): delta padded D(K - 1) - p on each side, correlated by the same
    kernel with the flipped, channel-swapped weight (the derived GradInput at stride 1)."""
    kernel = w.shape[2:]
    layer = zip(kernel, dilation, pads)
    gpads = [(_reach(k, d) - lo, _reach(k, d) - hi) for k, d, (lo, hi) in layer]
    dx = conv_shifted(delta, gradient_weight_of(w, groups), None, gpads, dilation, groups, chunk)
    assert tuple(dx.shape[2:]) == tuple(size)
    return dx


def conv_shifted_grad_weight(
    x: Array, delta: Array, kernel: Sizes, pads: Pads, dilation: Sizes, groups: int, chunk: int
) -> Array:
    """dL/dw (C_out, C_in/G, *K): per tap a, sum_n Delta_n^T X_n[off(a) : off(a) + L], delta on
    the padded grid (zero at the discarded rows), one batched GEMM per tap and group (where
    shift_add_layer: per tap and input channel a dot product of rows with delta's rows)."""
    n, c_in, *_size = x.shape
    c_out, out = delta.shape[1], delta.shape[2:]
    c_g, k_g = c_in // groups, c_out // groups
    dw = _zeros((groups, _product(kernel), k_g, c_g), x)
    rows = shift_add_layer(c_g, k_g)
    for n0 in range(0, n, max(1, chunk)):
        d = delta[n0 : n0 + max(1, chunk)]
        m = d.shape[0]
        if rows:  # channels first, samples along the rows: X (G, C/G, m prod(P)), Delta
            xf, padded = _flat_first(x[n0 : n0 + m], pads, groups)  # (G, K/G, m prod(P))
            dg = _on_grid(_swap01(d), padded, 2, x).reshape(groups, k_g, -1)
            span = _extent(out, padded, m)
        else:  # channels last: X (m, prod(P), C), Delta (m, K, prod(P))
            xf, padded = _flat(x[n0 : n0 + m], pads)
            dg = _on_grid(_permute(d, (0, *range(2, delta.ndim), 1)), padded, 1, x)
            dg = _permute(dg.reshape(m, -1, c_out), (0, 2, 1))
            span = _extent(out, padded)
        for t, off in enumerate(_offsets(kernel, dilation, padded)):
            if rows:  # sum over j of X[g, c, j + off] Delta[g, k, j], per c
                for c in range(c_g):
                    src = xf[None, :, c, off : off + span]
                    dw[:, t, :, c] += _window_dot(src, dg[None, ..., :span])
                continue
            for g in range(groups):
                cs, ks = slice(g * c_g, (g + 1) * c_g), slice(g * k_g, (g + 1) * k_g)
                xs = xf[:, off : off + span, cs]
                dw[g, t] += _sum(_matmul(dg[:, ks, :span], xs, None), (0,))
    # (G, taps, K/G, C/G) -> (C_out, C_in/G, *K)
    dw = _contiguous(_permute(dw, (0, 2, 3, 1)))
    return dw.reshape(c_out, c_g, *kernel)
