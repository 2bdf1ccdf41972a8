r"""The Winograd convolution kernels: the template of `numeric/_generated/*_winograd.py`.

3 x 3, stride-1 layers (any dilation, padding and groups) by Winograd's minimal filtering,
F(m x m, 3 x 3) forward and for dL/dx (the derived GradInput at stride 1 is the same kind of
layer), F(3 x 3, m x m) for dL/dw; the dilation's phases ride along as extra GEMM columns
(`symconv.codegen.winograd` explains the method). The transforms `FORWARD` and `GRAD_WEIGHT`
are printed from `symconv.winograd.winograd` as exact rationals (the module's printed
literals; `maps.winograd_literals()` binds the same printed text here); every array operation
goes through a primitive (`prims.py`), the GEMMs through the convolution template's
`_thin_matmul`. The printer (`symconv.codegen.winograd.winograd_nodes`) takes the sections
below; the shifted-GEMM module reuses `gradient_weight_of` and `_placement`.

Runs on NumPy as it is:

    >>> import numpy
    >>> x = numpy.arange(2 * 1 * 4 * 4, dtype=float).reshape(2, 1, 4, 4)
    >>> w = numpy.ones((1, 1, 3, 3))
    >>> conv2d_winograd(x, w, None, [(0, 0), (0, 0)], [1, 1], 1, 2, 8).round(9).tolist()[0]
    [[[45.0, 54.0], [81.0, 90.0]]]
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from .conv import _swap_channels, _thin_matmul
from .maps import _conv_out, _reach, winograd_literals
from .prims import (
    Array,
    Pads,
    Sizes,
    _const,
    _contiguous,
    _empty,
    _flip,
    _is_contiguous,
    _matmul,
    _permute,
    _steps,
    _strided,
    _zeros,
)

__all__ = [
    "conv2d_winograd",
    "conv2d_winograd_grad_input",
    "conv2d_winograd_grad_weight",
    "gradient_weight_of",
    "release_workspaces",
]

FORWARD, GRAD_WEIGHT = winograd_literals()  # printed into the module as literals


# -- kernel gradient_weight_of --------------------------------------------------------------------
def gradient_weight_of(w: Array, groups: int) -> Array:
    """The kernel of dL/dx as a convolution: w flipped, its channel axes exchanged per group
    (symconv.backprop.transpose_weight): (C_out, C_in/G, *K) -> (C_in, C_out/G, *K)."""
    return _swap_channels(_flip(w, tuple(range(2, w.ndim))), groups)


# -- kernel _placement ----------------------------------------------------------------------------
def _placement(size: Sizes, pads: Pads, padded: Sizes) -> tuple[list[slice], list[slice]]:
    """Per axis the slices (source, destination) that put x into its padded grid,
    x~[j] = x[j - lo] (zeros elsewhere; a negative lo crops x)."""
    src, dst = [], []
    for n, (lo, _), p in zip(size, pads, padded):
        s, t = max(0, -lo), max(0, lo)
        count = max(0, min(n - s, p - t))
        src.append(slice(s, s + count))
        dst.append(slice(t, t + count))
    return src, dst


# -- kernel winograd ------------------------------------------------------------------------------
def tiles(out: Sizes, dilation: Sizes, m: int) -> list[int]:
    """Tiles per axis and phase: ceil(ceil(O / D) / m) (each phase's outputs in tiles of m)."""
    phases = [-(-o // d) for o, d in zip(out, dilation)]  # ceil(O / D)
    return [-(-p // m) for p in phases]


def output_size(size: Sizes, pads: Pads, dilation: Sizes) -> list[int]:
    """The 3x3 stride-1 layer's output size (_conv_out, printed from symconv._sizes)."""
    return [_conv_out(n, 3, 1, d, lo, hi) for n, (lo, hi), d in zip(size, pads, dilation)]


# thread id -> {(slot, dtype, device): flat buffer}, see _workspace
_KEPT: dict[int, dict[Any, Any]] = {}


def release_workspaces() -> None:
    """Drop the buffers `_workspace` keeps between calls (every thread's)."""
    _KEPT.clear()


def _workspace(slot: str | None, shape: Sizes, like: Array, keep: int) -> Array:
    """An uninitialised contiguous buffer of `shape` in `slot`, kept for this thread's later
    calls while the thread keeps at most `keep` bytes: a fresh page costs a page fault, about as
    much as a pass over it, and the C allocator hands large freed blocks back to the system
    between calls. A slot holds one array at a time, so the stages take turns between two
    slots ("a", "b"; "c" in dL/dw): a stage writes where data it no longer needs lay, still in
    the cache (a buffer per stage ran 7-8 % slower). keep = 0: a new buffer each call."""
    n = 1
    for s in shape:
        n *= s
    if keep <= 0:
        return _empty(shape, like)
    mine = _KEPT.setdefault(threading.get_ident(), {})
    key = (slot, like.dtype, getattr(like, "device", None))  # hashable as they are
    buf = mine.get(key)
    if buf is None or buf.shape[0] < n:
        mine.pop(key, None)
        alive = {t.ident for t in threading.enumerate()}
        for ident in [i for i in _KEPT if i not in alive]:  # threads that ended
            _KEPT.pop(ident, None)
        buf = _empty((n,), like)
        if sum(b.shape[0] * b.itemsize for b in mine.values()) + n * buf.itemsize <= keep:
            mine[key] = buf
    return buf[:n].reshape(shape)


def _fill_padded(xp: Array, x: Array, src: Sequence[slice], dst: Sequence[slice]) -> None:
    """xp[:, :, dst] = x[:, :, src] and zeros elsewhere, writing only the border slabs (per
    axis, before and after dst) besides the copy: xp may be a kept workspace."""
    lead = (slice(None), slice(None))
    for k, d in enumerate(dst):
        rest = [slice(None)] * len(dst)
        for part in (slice(0, d.start), slice(d.stop, None)):
            rest[k] = part
            xp[(*lead, *rest)] = 0
    xp[(*lead, *dst)] = x[(*lead, *src)]


def _transform(L: Array, Z: Array) -> Array:
    """L Z L^T over the two leading axes of Z (p, p, *rest) -> (q, q, *rest), in new arrays."""
    return _transform_into(L, Z, None, None, Z, 0).reshape(L.shape[0], L.shape[0], *Z.shape[2:])


def _transform_into(
    L: Array, Z: Array, via: str | None, into: str | None, like: Array, keep: int
) -> Array:
    """L Z L^T over the two leading axes of Z (p, p, *rest) -> (q, q, prod(rest)), two GEMMs
    (two passes through memory; one GEMM by the Kronecker product L (x) L ran 4 % slower, its
    multiplies outweighing the pass it saves): the first into workspace slot `via`, the
    result into `into`."""
    p, q = Z.shape[0], L.shape[0]
    rest = Z.reshape(p, p, -1).shape[2]
    H = _workspace(via, (q, p * rest), like, keep)
    _thin_matmul(L, Z.reshape(p, -1), H)  # along the first tile axis
    out = _workspace(into, (q, q, rest), like, keep)
    return _thin_matmul(L, H.reshape(q, p, rest), out)  # along the second, batched over the first


def _input_tiles(x: Array, pads: Pads, dilation: Sizes, m: int, T: Sizes, keep: int) -> Array:
    """V = B^T D B, (a, a, C n T0 D0 T1 D1) in workspace slot "a": the transformed a x a
    tiles (a = m + 2) of the zero-padded input x~[j] = x[j - lo], for every phase r, where
    D[i, j, c, n, t0, r0, t1, r1] = x~[n, c, D0 (m t0 + i) + r0, D1 (m t1 + j) + r1].

    The index is linear in (i, t, r) on each axis, so the tiles are one strided view of x~ and
    one copy (a copy per (i, j) costs 36 calls, which hold the interpreter while the threads
    wait). x~ has D (m (T + 1)) >= D (m T + 2) rows per axis. A negative lo crops the input."""
    N, C = x.shape[:2]
    a = m + 2
    P = [d * m * (t + 1) for d, t in zip(dilation, T)]
    xp = _workspace("b", (N, C, P[0], P[1]), x, keep)
    _fill_padded(xp, x, *_placement(x.shape[2:], pads, P))
    sn, sc, s0, s1 = _steps(xp)
    d0, d1 = dilation
    shape = (a, a, C, N, T[0], d0, T[1], d1)
    steps = (d0 * s0, d1 * s1, sc, sn, m * d0 * s0, s0, m * d1 * s1, s1)
    D = _workspace("a", shape, x, keep)
    D[...] = _strided(xp, shape, steps)
    return _transform_into(_const(FORWARD[m][2], x), D, "b", "a", x, keep)  # x~ is spent


def _forward(
    x: Array,
    U: Array,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    m: int,
    T: Sizes,
    y: Array,
    keep: int,
) -> None:
    """One chunk: y (n, K, T0, m, D0, T1, m, D1) = A^T [U (.) (B^T D B)] A, the channel sum of
    each tile position one batched GEMM per group. A^T M A is two GEMMs, the second with the
    tile's last axis v innermost, so that the scatter into y moves whole rows (T1 m)."""
    AT = _const(FORWARD[m][0], x)
    a, K = m + 2, U.shape[1] * U.shape[2]
    N, C = x.shape[:2]
    cols = N * T[0] * dilation[0] * T[1] * dilation[1]
    V = _input_tiles(x, pads, dilation, m, T, keep).reshape(a * a, groups, C // groups, cols)
    M = _workspace("b", (a * a, groups, K // groups, cols), x, keep)
    _matmul(U, V, M)  # per (i, j) and group, U_ij V_ij
    Z = _workspace("a", (m, a * K * cols), x, keep)  # V is spent
    _thin_matmul(AT, M.reshape(a, -1), Z)  # (u, j, K cols): along the first tile axis
    Z = _permute(Z.reshape(m, a, K * cols), (0, 2, 1))
    Y = _workspace("b", (m, K * cols, m), x, keep)
    _thin_matmul(Z, _permute(AT, (1, 0)), Y, rows=True)  # (u, K cols, v): along the second
    Y = Y.reshape(m, K, N, T[0], dilation[0], T[1], dilation[1], m)
    y[...] = _permute(Y, (2, 1, 3, 0, 4, 5, 7, 6))


def conv2d_winograd(
    x: Array,
    w: Array,
    b: Array | None,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    m: int,
    chunk: int,
    keep: int = 0,
    out: Array | None = None,
) -> Array:
    """3x3 kernel, stride 1: cross-correlation by F(m x m, 3 x 3), zero padding pads
    ((lo, hi) per axis; negative crops), any dilation and groups, `chunk` samples at a time,
    workspaces kept between calls up to `keep` bytes per thread (_workspace).
    x (N, C_in, H, W), w (C_out, C_in/G, 3, 3), b (C_out,) or None -> (N, C_out, *O), written
    into `out` when given (straight from the output tiles when the tiles cover O exactly and
    `out` is contiguous: no copy of the result)."""
    N = x.shape[0]
    K, Cg = w.shape[:2]
    size = output_size(x.shape[2:], pads, dilation)
    T = tiles(size, dilation, m)
    a = m + 2
    # filter transform U = G g G^T, (a a, G, K/G, C/G)
    Gm = _const(FORWARD[m][1], x)
    U = _transform(Gm, _contiguous(_permute(w, (2, 3, 0, 1))))
    U = U.reshape(a * a, groups, K // groups, Cg)
    full = [t * m * d for t, d in zip(T, dilation)]
    tiled = (N, K, T[0], m, dilation[0], T[1], m, dilation[1])
    into = out is not None and full == list(size) and _is_contiguous(out)
    y = out.reshape(tiled) if into and out is not None else _empty(tiled, x)
    for n0 in range(0, N, max(1, chunk)):
        n1 = min(N, n0 + max(1, chunk))
        _forward(x[n0:n1], U, pads, dilation, groups, m, T, y[n0:n1], keep)
    y = y.reshape(N, K, full[0], full[1])[:, :, : size[0], : size[1]]
    if b is not None:
        y += b.reshape(1, K, 1, 1)
    if out is None or into:
        return y if out is None else out
    out[...] = y
    return out


def conv2d_winograd_grad_input(
    delta: Array,
    w: Array,
    size: Sizes,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    m: int,
    chunk: int,
    keep: int = 0,
    out: Array | None = None,
) -> Array:
    """dL/dx (N, C_in, *size): delta padded 2D - p on each side, correlated by F(m x m, 3 x 3)
    with the flipped, channel-swapped kernel (the derived GradInput at stride 1); into `out`
    when given."""
    gpads = [(_reach(3, d) - lo, _reach(3, d) - hi) for (lo, hi), d in zip(pads, dilation)]
    wt = gradient_weight_of(w, groups)
    dx = conv2d_winograd(delta, wt, None, gpads, dilation, groups, m, chunk, keep, out)
    assert tuple(dx.shape[2:]) == tuple(size)
    return dx


def conv2d_winograd_grad_weight(
    x: Array,
    delta: Array,
    pads: Pads,
    dilation: Sizes,
    groups: int,
    m: int,
    chunk: int,
    keep: int = 0,
) -> Array:
    """dL/dw (C_out, C_in/G, 3, 3) by F(3 x 3, m x m): per tile position (i, j), the sum over
    samples and tiles of (G' delta G'^T)_ij (B^T d B)_ij^T is one batched GEMM per group
    """
    ATw, Gw, _ = (_const(M, x) for M in GRAD_WEIGHT[m])
    N, C = x.shape[:2]
    K, out = delta.shape[1], delta.shape[2:]
    a = m + 2
    T = tiles(out, dilation, m)
    full = [t * m * d for t, d in zip(T, dilation)]
    acc = _zeros((a * a, groups, K // groups, C // groups), x)
    for n0 in range(0, N, max(1, chunk)):
        n1 = min(N, n0 + max(1, chunk))
        n = n1 - n0
        V = _input_tiles(x[n0:n1], pads, dilation, m, T, keep)
        V = V.reshape(a * a, groups, C // groups, -1)
        # delta's m x m blocks, zero beyond the output: E[u, v, k, n, t0, r0, t1, r1]
        dp = _workspace("b", (n, K, full[0], full[1]), x, keep)  # V is in "a"
        at = [slice(0, o) for o in out]
        _fill_padded(dp, delta[n0:n1], at, at)
        dp = dp.reshape(n, K, T[0], m, dilation[0], T[1], m, dilation[1])
        E = _workspace("c", (m, m, K, n, T[0], dilation[0], T[1], dilation[1]), x, keep)
        E[...] = _permute(dp, (3, 6, 1, 0, 2, 4, 5, 7))
        EG = _transform_into(Gw, E, "b", "c", x, keep)  # delta's grid is spent
        EG = EG.reshape(a * a, groups, K // groups, -1)
        acc += _matmul(EG, _permute(V, (0, 1, 3, 2)), None)
    dw = _transform(ATw, acc.reshape(a, a, K, C // groups))  # (3, 3, K, C/G)
    return _contiguous(_permute(dw, (2, 3, 0, 1)))
