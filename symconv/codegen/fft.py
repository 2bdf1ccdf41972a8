r"""Printer of the FFT and separable convolution kernels, NumPy and torch, 1 to 3 spatial axes.

One template, two backends: the kernels below are text over the primitive vocabulary of
`symconv.codegen.printer.KernelPrinter` (`_zeros`, `_take`, `_matmul`, ...) plus the FFT
primitives of this module (`_rfftn`, `_irfftn`, `_conj`, ...), each backend a table of
`name -> (signature, body)` on top of the backend's own. `fft_modules()` prints
`numeric/_generated/numpy_fft.py` and `torch_fft.py`; `symconv generate` writes and `--check`s
them.

What is read off the derivations:

- the transform length $N = \max(K, n + \max(p_\mathrm{lo}, p_\mathrm{hi}))$, printed with
  SymPy from the statement of `symconv.fourier.fft_padding_derivation` (function `fft_size`);
- the crop of `symconv.fourier.fft_plan`, $y_o = \mathrm{full}_{S o + K - 1 - p_\mathrm{lo}}$
  with $\mathrm{full} = x \circledast \operatorname{reflect}(w)$. The kernels use the correlation
  theorem instead of reflecting: $c = \mathcal F^{-1}(\hat x\, \overline{\hat w})$ is
  $\mathrm{full}$ shifted by $K - 1$, so $y_o = c_{(S o - p_\mathrm{lo}) \bmod N}$ (the printed
  `_crop_index`; checked against `fft_plan` at print time);
- the output length of `symconv._sizes.conv_out`;
- the separable two-pass form $T_{u v^\top} = (T_u \otimes I)(I \otimes T_v)$ of
  `symconv.separable.separable_derivation`.

**Gradients in the frequency domain.** Per axis the forward is $y = P\, C_w\, E x$: $E$
zero-extends $x$ to length $N$, $C_w$ is the circular correlation
$c_q = \sum_a x_{(q + a) \bmod N}\, w^D_a$ ($\hat c = \hat x\, \overline{\hat w^D}$, $w^D$ the
kernel with $D - 1$ zeros between taps) and $P$ picks $c_{(S o - p_\mathrm{lo}) \bmod N}$.
For every $N \ge$ `fft_size` this map *is* the linear convolution, so its adjoint is the
gradient:

- $\partial L / \partial x = E^\top C_w^\top P^\top \delta$: $e = P^\top \delta$ scatters
  $\delta$ to the positions $(S o - p_\mathrm{lo}) \bmod N$ (the stride's zeros inserted), and
  $C_w^\top$ is the circular *convolution*, $\hat{\bar x} = \hat e\, \hat w^D$ (no conjugate);
  $E^\top$ keeps $[0, n)$. Rows of torch's unread tail get zero: nothing reads them.
- $\partial L / \partial w^D_a = \sum_q e_q\, x_{(q + a) \bmod N}$, the correlation of $x$ by
  $e$: $\hat g = \hat x\, \overline{\hat e}$, read at the taps $a = D t$.

The gradients use the forward's $N$. With $p_\mathrm{lo}$ or $p_\mathrm{hi} > K - 1$ two
outputs $o_1 \ne o_2$ can share a position $q$; both are then identically zero (equal bilinear
forms in $x, w$ whose windows differ by $S(o_1 - o_2)$ share no monomial), so every
$x_{(q + D t) \bmod N}$ lies outside $[0, n)$: $e_q$ reaches neither a kept $\bar x_j$ nor a
$g_{D t}$, and $P^\top$ may be an assignment (whichever duplicate it keeps).

Channels mix per frequency and group in one batched complex matmul:
$\hat y_{n k} = \sum_c \hat x_{n c}\, \overline{\hat w_{k c}}$,
$\hat{\bar x}_{n c} = \sum_k \hat e_{n k}\, \hat w_{k c}$,
$\hat g_{k c} = \sum_n \overline{\hat e_{n k}}\, \hat x_{n c}$.
"""

from __future__ import annotations

from typing import ClassVar

import sympy

from .. import _sizes
from ..fourier import fft_padding_derivation, fft_plan
from ..spec import Conv
from .numpy_backend import NumPyKernelPrinter
from .printer import IndexMap, Kernel, KernelPrinter
from .torch_backend import TorchKernelPrinter

__all__ = ["fft_modules", "fft_nodes", "fft_source"]

_NUMPY_FFT: dict[str, tuple[str, str]] = {
    "_rfftn": ("x, lengths, axes", "numpy.fft.rfftn(x, lengths, axes=axes)"),
    "_irfftn": ("spectrum, lengths, axes", "numpy.fft.irfftn(spectrum, lengths, axes=axes)"),
    "_conj": ("spectrum", "numpy.conj(spectrum)"),
    "_as_dtype": ("a, like", "a.astype(like.dtype, copy=False)"),
}
_TORCH_FFT: dict[str, tuple[str, str]] = {
    "_rfftn": ("x, lengths, axes", "torch.fft.rfftn(x, s=lengths, dim=axes)"),
    "_irfftn": ("spectrum, lengths, axes", "torch.fft.irfftn(spectrum, s=lengths, dim=axes)"),
    "_conj": ("spectrum", "torch.conj_physical(spectrum)"),
    "_as_dtype": ("a, like", "a.to(like.dtype)"),
}


class NumPyFFTPrinter(NumPyKernelPrinter):
    """NumPy's vocabulary plus `numpy.fft`."""

    _primitives: ClassVar[dict[str, tuple[str, str]]] = {
        **NumPyKernelPrinter._primitives,
        **_NUMPY_FFT,
    }


class TorchFFTPrinter(TorchKernelPrinter):
    """torch's vocabulary plus `torch.fft` (on the tensor's device)."""

    _primitives: ClassVar[dict[str, tuple[str, str]]] = {
        **TorchKernelPrinter._primitives,
        **_TORCH_FFT,
    }


_PRINTERS: dict[str, type[KernelPrinter]] = {"numpy": NumPyFFTPrinter, "torch": TorchFFTPrinter}


def _fft_length_step() -> tuple[sympy.Expr, str]:
    """(right-hand side, printed statement) of the minimal alias-free FFT length."""
    step = next(s for s in fft_padding_derivation() if s.title == "So the smallest length is")
    return step.statement.rhs, str(step.statement)


def _crop_map() -> IndexMap:
    r"""`fft_plan`'s crop $S o + K - 1 - p_\mathrm{lo}$ of
    $x \circledast \operatorname{reflect}(w)$, moved by $-(K - 1)$ onto the correlation
    $\mathcal F^{-1}(\hat x \overline{\hat w})$, mod $N$.

    Checked against `fft_plan` on a few specs (the plan's `start` at $o = 0$).
    """
    o, s, K, lo, N = (sympy.Symbol(v, integer=True) for v in ("o", "s", "K", "p_lo", "N"))
    plan_start = K - 1 - lo  # FFTPlan.start, the reflected kernel's crop at o = 0
    expr = sympy.Mod(s * o + plan_start - (K - 1), N)
    for k, d, pads, n in ((3, 1, (2, 1), 5), (2, 2, (0, 3), 4), (1, 1, (4, 4), 3)):
        spec = Conv(dims=1, kernel_size=k, dilation=d, padding=(pads,))
        plan = fft_plan(spec, n)
        ext, size = plan.kernel_extent[0], plan.sizes[0]
        got = plan_start.subs({K: ext, lo: pads[0]}) % size
        if plan.start != (got,):
            raise AssertionError(f"fft crop {plan_start} disagrees with fft_plan {plan.start}")
    return IndexMap(
        "_crop_index",
        ("o", "s", "p_lo", "N"),
        expr,
        "circular position of output o: fft_plan's crop S*o + K - 1 - p_lo of x (*) reflect(w), "
        "moved by -(K - 1) onto the correlation irfft(rfft(x) conj(rfft(w))), mod N.",
        derivation="symconv.fourier.fft_plan",
    )


def fft_nodes() -> list[IndexMap | Kernel]:
    """Index maps and kernels of the FFT / separable module."""
    rhs, _ = _fft_length_step()
    i, k, s, d, lo, hi = (sympy.Symbol(v, integer=True) for v in ("i", "k", "s", "d", "lo", "hi"))
    maps = [
        IndexMap(
            "fft_size",
            ("n", "K", "p_lo", "p_hi"),
            rhs,
            "Smallest alias-free circular length for input n, kernel extent K, padding "
            "(p_lo, p_hi) (symconv.fourier.fft_padding_derivation).",
            derivation="symconv.fourier.fft_padding_derivation",
        ),
        IndexMap(
            "_conv_out",
            ("i", "k", "s", "d", "lo", "hi"),
            _sizes.conv_out(i, k, s, d, lo, hi),
            "output length (symconv._sizes.conv_out).",
            derivation="symconv._sizes.conv_out",
        ),
        _crop_map(),
    ]
    return maps + [Kernel(name, src, "") for name, src in _KERNELS]


_KERNELS = [
    (
        "lengths",
        '''
def next_fast_len(n):
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


def fft_lengths(input_size, kernel_extent, pads):
    """Transform length per axis: next_fast_len(fft_size(...))."""
    return tuple(
        next_fast_len(fft_size(n, K, lo, hi))
        for n, K, (lo, hi) in zip(input_size, kernel_extent, pads)
    )


def _extent(kernel, dilation):
    """Dilated extent d (k - 1) + 1 per axis."""
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))


def _output_size(size, kernel, stride, pads, dilation):
    return tuple(
        _conv_out(i, k, s, d, lo, hi)
        for i, k, s, (lo, hi), d in zip(size, kernel, stride, pads, dilation)
    )


def _product(sizes):
    out = 1
    for s in sizes:
        out *= s
    return out


def _add_bias(y, b):
    if b is not None:
        y += b.reshape(1, -1, *(1 for _ in y.shape[2:]))
    return y
''',
    ),
    (
        "spectra",
        '''
def _dilate(w, dilation):
    """w^D: the kernel with d - 1 zeros between taps, (C_out, C_in/G, *extent)."""
    c_out, c_g, *kernel = w.shape
    h = _zeros((c_out, c_g, *_extent(kernel, dilation)), w)
    h[(slice(None), slice(None), *(slice(None, None, d) for d in dilation))] = w
    return h


def _signal_spectrum(a, lengths, groups):
    """rfftn over the spatial axes of a (N, B, *I), as (P, G, N, B/G): per frequency p and
    group, the matrix of (sample, channel of the group)."""
    n, b = a.shape[:2]
    spec = _rfftn(a, lengths, tuple(range(2, a.ndim)))
    spec = spec.reshape(n, groups, b // groups, _product(spec.shape[2:]))
    return _permute(spec, (3, 1, 0, 2))


def _weight_spectrum(w, lengths, dilation, groups):
    """rfftn of w^D, as (P, G, C_out/G, C_in/G)."""
    c_out, c_g = w.shape[:2]
    spec = _rfftn(_dilate(w, dilation), lengths, tuple(range(2, w.ndim)))
    spec = spec.reshape(groups, c_out // groups, c_g, _product(spec.shape[2:]))
    return _permute(spec, (3, 0, 1, 2))


def _inverse(spec, perm, lead, lengths):
    """irfftn of a (P, G, A, B) spectrum permuted by `perm` to (., ., ., P), as (*lead, *N)."""
    half = (*lengths[:-1], lengths[-1] // 2 + 1)
    spec = _contiguous(_permute(spec, perm)).reshape(*lead, *half)
    return _irfftn(spec, lengths, tuple(range(len(lead), len(lead) + len(lengths))))


def _crop(c, out, stride, pads, lengths):
    """P: y[o] = c[(S o - p_lo) mod N] on every spatial axis (a gather per axis)."""
    for axis, (o, s, (lo, _), n) in enumerate(zip(out, stride, pads, lengths)):
        c = _take(c, _crop_index(_arange(o, c), s, lo, n), axis + 2)
    return c


def _uncrop(delta, stride, pads, lengths):
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
''',
    ),
    (
        "conv_fft",
        '''
def conv_fft(x, w, b, stride, pads, dilation, groups):
    """Cross-correlation by the FFT, zero padding, 1 to 3 spatial axes (torch's conv{1,2,3}d).

    x (N, C_in, *I), w (C_out, C_in/G, *K), b (C_out,) or None; pads ((lo, hi), ...) per axis.
    The correlation theorem c = irfftn(rfftn(x) conj(rfftn(w^D))) at the length N of fft_size,
    channels mixed per frequency and group by one batched matmul, then the crop
    y[o] = c[(S o - p_lo) mod N].
    """
    n, c_in, *size = x.shape
    c_out, c_g, *kernel = w.shape
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


def conv_fft_grad_input(delta, w, size, stride, pads, dilation, groups):
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


def conv_fft_grad_weight(x, delta, kernel, stride, pads, dilation, groups):
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
''',
    ),
    (
        "conv_separable",
        '''
# Work-space budget of the separable passes: about _TILE elements per intermediate.
_TILE = 4 * 2**20


def _pad_zeros(x, pads):
    """x inside a zero buffer: (N, C, *(I + lo + hi))."""
    size = x.shape[2:]
    xp = _zeros((*x.shape[:2], *(i + lo + hi for i, (lo, hi) in zip(size, pads))), x)
    xp[(slice(None), slice(None), *(slice(lo, lo + i) for i, (lo, _) in zip(size, pads)))] = x
    return xp


def conv_separable(x, u, v, b, stride, pads, dilation, groups):
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
''',
    ),
]


_TITLE = (
    'r"""FFT and separable convolution kernels for {backend}: '
    "GENERATED by `symconv generate` (do not edit)."
)
_HEADER = (
    _TITLE
    + '''

Printed by symconv.codegen.fft from:

    fft:       symconv.fourier.fft_padding_derivation: {statement}
               crop (symconv.fourier.fft_plan): y[o] = full[S*o + K - 1 - p_lo]  (mod N),
               full = x (*) reflect(w); as the correlation c = irfft(rfft(x) conj(rfft(w))):
               y[o] = c[(S*o - p_lo) mod N]
    gradients: the adjoint P^T, C_w^T, E^T of y = P C_w E x: e = delta at (S*o - p_lo) mod N,
               dL/dx = irfft(rfft(e) rfft(w)), dL/dw = irfft(rfft(x) conj(rfft(e)))
    separable: symconv.separable.separable_derivation: T(u v^T) = (T_u (x) I)(I (x) T_v)
"""
# ruff: noqa'''
)


def fft_source(backend: str) -> str:
    """The text of `{backend}_fft.py` (as printed); `backend` is "numpy" or "torch"."""
    _, statement = _fft_length_step()
    header = _HEADER.format(backend=backend, statement=statement)
    return _PRINTERS[backend]().module(fft_nodes(), header)


def fft_modules() -> dict[str, str]:
    """File name -> text of `numpy_fft.py` and `torch_fft.py` (as printed)."""
    return {f"{backend}_fft.py": fft_source(backend) for backend in _PRINTERS}
