r"""The FFT and separable convolution kernels: the template of `numeric/_generated/*_fft.py`.

Cross-correlation by the correlation theorem at the alias-free length of
`symconv.fourier.fft_padding_derivation` (the printed map `fft_size`, rounded up to a fast
length), cropped by the printed map `_crop_index` (from `symconv.fourier.fft_plan`); the input
and weight gradients as the adjoints in the frequency domain; and the separable (rank-1 kernel)
convolution of `symconv.separable`. Every array operation goes through a primitive
(`prims.py`, the FFTs included). The printer (`symconv.codegen.fft.fft_nodes`) takes the
sections below.

Runs on NumPy as it is:

    >>> import numpy
    >>> x = numpy.arange(2 * 1 * 5, dtype=float).reshape(2, 1, 5)
    >>> w = numpy.ones((1, 1, 3))
    >>> conv_fft(x, w, None, [1], [(0, 0)], [1], 1).round(9).tolist()
    [[[3.0, 6.0, 9.0]], [[18.0, 21.0, 24.0]]]
"""

from __future__ import annotations

from collections.abc import Iterable

from .maps import _conv_out, _crop_index, fft_size
from .prims import (
    Array,
    Pads,
    Sizes,
    _arange,
    _as_dtype,
    _conj,
    _contiguous,
    _empty,
    _irfftn,
    _matmul,
    _multiply,
    _permute,
    _rfftn,
    _sum,
    _take,
    _zeros,
)

__all__ = [
    "conv_fft",
    "conv_fft_grad_input",
    "conv_fft_grad_weight",
    "conv_separable",
    "fft_lengths",
    "next_fast_len",
]


# -- kernel lengths -------------------------------------------------------------------------------
def next_fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (any length >= fft_size works; these are fast): for each
    3^b 5^c below the next power of two, the least power of two that lifts it to n; about
    log(n)^2 steps, never a search over the lengths themselves."""
    best = 1 << max(0, n - 1).bit_length()
    odd = 1
    while odd < best:
        part = odd
        while part < best:
            q = -(-n // part)
            best = min(best, part << max(0, q - 1).bit_length())
            part *= 3
        odd *= 5
    return best


def fft_lengths(input_size: Sizes, kernel_extent: Sizes, pads: Pads) -> tuple[int, ...]:
    """Transform length per axis: next_fast_len(fft_size(...))."""
    return tuple(
        next_fast_len(fft_size(n, K, lo, hi))
        for n, K, (lo, hi) in zip(input_size, kernel_extent, pads)
    )


def _extent(kernel: Sizes, dilation: Sizes) -> tuple[int, ...]:
    """Dilated extent d (k - 1) + 1 per axis."""
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))


def _output_size(
    size: Sizes, kernel: Sizes, stride: Sizes, pads: Pads, dilation: Sizes
) -> tuple[int, ...]:
    return tuple(
        _conv_out(i, k, s, d, lo, hi)
        for i, k, s, (lo, hi), d in zip(size, kernel, stride, pads, dilation)
    )


def _product(sizes: Iterable[int]) -> int:
    out = 1
    for s in sizes:
        out *= s
    return out


def _add_bias(y: Array, b: Array | None) -> Array:
    if b is not None:
        y += b.reshape(1, -1, *(1 for _ in y.shape[2:]))
    return y


# -- kernel spectra -------------------------------------------------------------------------------
def _dilate(w: Array, dilation: Sizes) -> Array:
    """w^D: the kernel with d - 1 zeros between taps, (C_out, C_in/G, *extent)."""
    c_out, c_g, *kernel = w.shape
    h = _zeros((c_out, c_g, *_extent(kernel, dilation)), w)
    h[(slice(None), slice(None), *(slice(None, None, d) for d in dilation))] = w
    return h


def _signal_spectrum(a: Array, lengths: Sizes, groups: int) -> Array:
    """rfftn over the spatial axes of a (N, B, *I), as (P, G, N, B/G): per frequency p and
    group, the matrix of (sample, channel of the group)."""
    n, b = a.shape[:2]
    spec = _rfftn(a, lengths, tuple(range(2, a.ndim)))
    spec = spec.reshape(n, groups, b // groups, _product(spec.shape[2:]))
    return _permute(spec, (3, 1, 0, 2))


def _weight_spectrum(w: Array, lengths: Sizes, dilation: Sizes, groups: int) -> Array:
    """rfftn of w^D, as (P, G, C_out/G, C_in/G)."""
    c_out, c_g = w.shape[:2]
    spec = _rfftn(_dilate(w, dilation), lengths, tuple(range(2, w.ndim)))
    spec = spec.reshape(groups, c_out // groups, c_g, _product(spec.shape[2:]))
    return _permute(spec, (3, 0, 1, 2))


def _inverse(spec: Array, perm: Sizes, lead: Sizes, lengths: Sizes) -> Array:
    """irfftn of a (P, G, A, B) spectrum permuted by `perm` to (., ., ., P), as (*lead, *N)."""
    half = (*lengths[:-1], lengths[-1] // 2 + 1)
    spec = _contiguous(_permute(spec, perm)).reshape(*lead, *half)
    return _irfftn(spec, lengths, tuple(range(len(lead), len(lead) + len(lengths))))


def _crop(c: Array, out: Sizes, stride: Sizes, pads: Pads, lengths: Sizes) -> Array:
    """P: y[o] = c[(S o - p_lo) mod N] on every spatial axis (a gather per axis)."""
    for axis, (o, s, (lo, _), n) in enumerate(zip(out, stride, pads, lengths)):
        c = _take(c, _crop_index(_arange(o, c), s, lo, n), axis + 2)
    return c


def _uncrop(delta: Array, stride: Sizes, pads: Pads, lengths: Sizes) -> Array:
    """P^T: delta placed at (S o - p_lo) mod N, zeros elsewhere (the stride's zeros inserted).
    Outputs sharing a position (pads > K - 1) read padding only; so does every product the
    adjoint forms with that position: which of them the assignment keeps does not matter."""
    e = delta
    for axis, (s, (lo, _), n) in enumerate(zip(stride, pads, lengths)):
        ax = axis + 2
        z = _zeros((*e.shape[:ax], n, *e.shape[ax + 1 :]), e)
        z[(slice(None),) * ax + (_crop_index(_arange(e.shape[ax], e), s, lo, n),)] = e
        e = z
    return e


# -- kernel conv_fft ------------------------------------------------------------------------------
def conv_fft(
    x: Array, w: Array, b: Array | None, stride: Sizes, pads: Pads, dilation: Sizes, groups: int
) -> Array:
    """Cross-correlation by the FFT, zero padding, 1 to 3 spatial axes (torch's conv{1,2,3}d).

    x (N, C_in, *I), w (C_out, C_in/G, *K), b (C_out,) or None; pads ((lo, hi), ...) per axis.
    The correlation theorem c = irfftn(rfftn(x) conj(rfftn(w^D))) at the length N of fft_size,
    channels mixed per frequency and group by one batched matmul, then the crop
    y[o] = c[(S o - p_lo) mod N].
    """
    n, _c_in, *size = x.shape
    c_out, _c_g, *kernel = w.shape
    ext = _extent(kernel, dilation)
    out = _output_size(size, kernel, stride, pads, dilation)
    if n == 0:  # an empty batch (torch's MKL FFT refuses empty transforms)
        return _add_bias(_zeros((0, c_out, *out), x), b)
    lengths = fft_lengths(size, ext, pads)
    xs = _signal_spectrum(x, lengths, groups)  # (P, G, N, C_in/G)
    ws = _weight_spectrum(w, lengths, dilation, groups)  # (P, G, C_out/G, C_in/G)
    # channels: per frequency and group, Y[n, k] = sum_c X[n, c] conj(W[k, c])
    ys = _matmul(xs, _conj(_permute(ws, (0, 1, 3, 2))), None)  # (P, G, N, C_out/G)
    c = _inverse(ys, (2, 1, 3, 0), (n, c_out), lengths)
    return _add_bias(_as_dtype(_crop(c, out, stride, pads, lengths), x), b)


def conv_fft_grad_input(
    delta: Array, w: Array, size: Sizes, stride: Sizes, pads: Pads, dilation: Sizes, groups: int
) -> Array:
    """dL/dx (N, C_in, *size) of conv_fft: the adjoint in the frequency domain.

    e = P^T delta (delta at (S o - p_lo) mod N), then the circular convolution with w^D,
    irfftn(rfftn(e) rfftn(w^D)) (the correlation's adjoint: no conjugate), channels mixed by
    the transposed matmul, and the first I positions kept (E^T). Unread rows get zeros.
    """
    n = delta.shape[0]
    c_g, *kernel = w.shape[1:]
    ext = _extent(kernel, dilation)
    if n == 0:
        return _zeros((0, c_g * groups, *size), delta)
    lengths = fft_lengths(size, ext, pads)
    es = _signal_spectrum(_uncrop(delta, stride, pads, lengths), lengths, groups)
    ws = _weight_spectrum(w, lengths, dilation, groups)  # (P, G, C_out/G, C_in/G)
    # channels: X[n, c] = sum_k E[n, k] W[k, c]
    gs = _matmul(es, ws, None)  # (P, G, N, C_in/G)
    g = _inverse(gs, (2, 1, 3, 0), (n, c_g * groups), lengths)
    keep = (slice(None), slice(None), *(slice(0, i) for i in size))
    return _as_dtype(_contiguous(g[keep]), delta)


def conv_fft_grad_weight(
    x: Array, delta: Array, kernel: Sizes, stride: Sizes, pads: Pads, dilation: Sizes, groups: int
) -> Array:
    """dL/dw (C_out, C_in/G, *kernel) of conv_fft: the adjoint in the frequency domain.

    g = irfftn(rfftn(x) conj(rfftn(e))), e = P^T delta: the correlation of x by e, summed over
    the samples per frequency by one batched matmul, read at the taps a = D t.
    """
    n, c_in, *size = x.shape
    c_out = delta.shape[1]
    ext = _extent(kernel, dilation)
    if n == 0:  # no samples: the sum over them is zero
        return _zeros((c_out, c_in // groups, *kernel), x)
    lengths = fft_lengths(size, ext, pads)
    xs = _signal_spectrum(x, lengths, groups)  # (P, G, N, C_in/G)
    es = _signal_spectrum(_uncrop(delta, stride, pads, lengths), lengths, groups)
    # samples: G[k, c] = sum_n conj(E[n, k]) X[n, c]
    gs = _matmul(_conj(_permute(es, (0, 1, 3, 2))), xs, None)  # (P, G, C_out/G, C_in/G)
    g = _inverse(gs, (1, 2, 3, 0), (c_out, c_in // groups), lengths)
    taps = (slice(None), slice(None), *(slice(0, e, d) for e, d in zip(ext, dilation)))
    return _as_dtype(_contiguous(g[taps]), x)


# -- kernel conv_separable ------------------------------------------------------------------------
# Work-space budget of the separable passes: about _TILE elements per intermediate.
_TILE = 4 * 2**20


def _pad_zeros(x: Array, pads: Pads) -> Array:
    """x inside a zero buffer: (N, C, *(I + lo + hi))."""
    size = x.shape[2:]
    xp = _zeros((*x.shape[:2], *(i + lo + hi for i, (lo, hi) in zip(size, pads))), x)
    xp[(slice(None), slice(None), *(slice(lo, lo + i) for i, (lo, _) in zip(size, pads)))] = x
    return xp


def conv_separable(
    x: Array,
    u: Array,
    v: Array,
    b: Array | None,
    stride: Sizes,
    pads: Pads,
    dilation: Sizes,
    groups: int,
) -> Array:
    """2-d cross-correlation with rank-1 kernels w[k, c] = outer(u[k, c], v[k, c]), zero padding.

    T(u v^T) = (T_u (x) I)(I (x) T_v), for a block of the group's channels at a time:
    pass 1 along W with v, im2col along W (one copy per tap b) and one batched GEMM,
    t[c, k, n, h, q] = sum_b v[k, c, b] x~[n, c, h, S q + D b]; pass 2 along H with u, one
    multiply-add per tap a, then the sum over the block's channels,
    y[n, k, o, q] += sum_{c, a} u[k, c, a] t[c, k, n, S o + D a, q].
    """
    n = x.shape[0]
    c_out, c_g, kh = u.shape
    kw = v.shape[2]
    k_g = c_out // groups
    ext = _extent((kh, kw), dilation)
    out = _output_size(x.shape[2:], (kh, kw), stride, pads, dilation)
    span = tuple((o - 1) * s + 1 for o, s in zip(out, stride))  # one tap's window
    rows = span[0] + ext[0] - 1  # padded rows read
    xp = _pad_zeros(x, pads)[:, :, :rows]
    y = _zeros((n, groups, k_g, out[0], out[1]), x)
    block = max(1, min(c_g, _TILE // max(1, n * rows * out[1] * max(k_g, kw))))
    for g in range(groups):
        ks = slice(g * k_g, (g + 1) * k_g)
        for c0 in range(0, c_g, block):
            m = min(block, c_g - c0)
            cs, xs = slice(c0, c0 + m), slice(g * c_g + c0, g * c_g + c0 + m)  # in group, in x
            # pass 1: cols[c, b] = x~[:, c, :, S q + D b]; (c, k, kw) @ (c, kw, n rows o2)
            cols = _empty((m, kw, n, rows, out[1]), x)
            for t in range(kw):
                window = slice(t * dilation[1], t * dilation[1] + span[1], stride[1])
                cols[:, t] = _permute(xp[:, xs, :, window], (1, 0, 2, 3))
            vt = _permute(v[ks, cs], (1, 0, 2))  # (c, k, kw)
            h = _matmul(vt, cols.reshape(m, kw, -1), None).reshape(m, k_g, n, rows, out[1])
            # pass 2: acc[c, k, n, o, q] += u[k, c, a] h[c, k, n, S o + D a, q], via a scratch
            acc, scratch = _zeros((m, k_g, n, *out), x), _empty((m, k_g, n, *out), x)
            for a in range(kh):
                window = slice(a * dilation[0], a * dilation[0] + span[0], stride[0])
                ua = _permute(u[ks, cs, a], (1, 0)).reshape(m, k_g, 1, 1, 1)
                acc += _multiply(h[:, :, :, window], ua, scratch)
            y[:, g] += _permute(_sum(acc, 0), (1, 0, 2, 3))
    return _add_bias(y.reshape(n, c_out, out[0], out[1]), b)
