r"""Printer of the shifted-GEMM convolution kernels (issue 7), for NumPy and torch.

At stride 1 the (doubly) block Toeplitz matrix of a convolution, read on the *flattened* padded
input, is a band: with $\tilde x$ held channels-last and flattened, $X[q, c] = \tilde x[c,
\mathrm{unflat}(q)]$, output position $o$ at flat index $q(o) = \sum_i o_i s_i$ ($s_i =
\prod_{j > i} P_j$, the padded grid's strides) reads $X[q(o) + \mathrm{off}(a)]$ for tap $a$,
$\mathrm{off}(a) = \sum_i D_i a_i s_i$. So

$$Y[q, k] = \sum_a \sum_c X[q + \mathrm{off}(a), c]\, w[k, c, a], \qquad
q = 0, \dots, L - 1, \quad L = q(O - 1) + 1,$$

one GEMM per tap on a *shifted view* of $X$ (no im2col copy), summed; $Y$ holds the outputs on
the padded grid, whose rows past $O_i$ are discarded. The last read is $q(O-1) + \mathrm{off}(K-1)
= \prod P - 1$ exactly (stride 1: $O_i + D_i (K_i - 1) = P_i$).

- **dL/dx**: at stride 1 the derived `GradInput` is a stride-1 correlation of delta padded
  $D(K - 1) - p$ on each side with the flipped, channel-swapped kernel: the same kernel;
- **dL/dw**: $\partial L / \partial w[k, c, a] = \sum_{n, q} \Delta[n, q, k]\, X[n, q +
  \mathrm{off}(a), c]$ with delta placed on the padded grid ($\Delta$, zero at the discarded
  positions): one GEMM per tap with the long axis $q$ as its inner dimension.

Any number of spatial axes, dilation, zero padding (a negative one crops) and groups.
`shifted_modules()` returns `{file name: text}`; `symconv generate` writes and `--check`s them.
"""

from __future__ import annotations

from .numpy_backend import NumPyKernelPrinter
from .printer import Kernel, KernelPrinter
from .torch_backend import TorchKernelPrinter
from .winograd import GRADIENT_WEIGHT_OF, PLACEMENT, _conv_out, reused_conv_nodes

__all__ = ["shifted_modules"]

_PRINTERS: dict[str, type[KernelPrinter]] = {
    "numpy": NumPyKernelPrinter,
    "torch": TorchKernelPrinter,
}

_BODY = '''

def output_size(size, kernel, pads, dilation):
    """The stride-1 layer's output size (_conv_out, printed from symconv._sizes)."""
    layer = zip(size, kernel, pads, dilation)
    return [_conv_out(n, k, 1, d, lo, hi) for n, k, (lo, hi), d in layer]


def _grid(padded):
    """Flat strides s_i = prod(P[i + 1:]) of the padded grid (row-major)."""
    return [_product(padded[i + 1 :]) for i in range(len(padded))]


def _offsets(kernel, dilation, padded):
    """off(a) = sum_i start(a_i) s_i for every tap a (row-major over the kernel axes), start the
    index form's window start at o = 0 (_start_corr: D a)."""
    offs = [0]
    for k, d, s in zip(kernel, dilation, _grid(padded)):
        offs = [o + _start_corr(a, k, d) * s for o in offs for a in range(k)]
    return offs


def _flat(x, pads):
    """X (n, prod(P), C): x~ channels last and flattened, x~[j] = x[j - lo] on the padded grid
    (zeros outside; a negative lo crops). Returns X and P."""
    n, c, *size = x.shape
    padded = [i + lo + hi for i, (lo, hi) in zip(size, pads)]
    xp = _zeros((n, *padded, c), x)
    src, dst = _placement(size, pads, padded)
    xp[(slice(None), *dst)] = _permute(x, (0, *range(2, x.ndim), 1))[(slice(None), *src)]
    return xp.reshape(n, _product(padded), c), padded


def conv_shifted(x, w, b, pads, dilation, groups, chunk):
    """Stride-1 cross-correlation as shifted GEMMs: x (N, C_in, *I), w (C_out, C_in/G, *K),
    b (C_out,) or None, zero padding pads ((lo, hi) per axis), any dilation and groups,
    `chunk` samples at a time. Y[q] = sum_a X[q + off(a)] W_a, then the outputs' rows of Y.
    Returns (N, C_out, *O)."""
    n, c_in, *size = x.shape
    c_out, c_g, *kernel = w.shape
    k_g, taps = c_out // groups, _product(kernel)
    out = output_size(size, kernel, pads, dilation)
    # W_a per group: (G, taps, C/G, K/G)
    wt = _contiguous(_permute(w.reshape(groups, k_g, c_g, taps), (0, 3, 2, 1)))
    y = _empty((n, c_out, *out), x)
    step = max(1, min(chunk, n))
    padded = [i + lo + hi for i, (lo, hi) in zip(size, pads)]
    grid = _grid(padded)
    span = sum((o - 1) * s for o, s in zip(out, grid)) + 1  # L
    # one accumulator and one product buffer for all chunks (fresh pages cost as much as adds)
    acc_all, tmp_all = _empty((groups, step, span, k_g), x), _empty((step, span, k_g), x)
    for n0 in range(0, n, step):
        xf, _ = _flat(x[n0 : n0 + step], pads)
        m = xf.shape[0]
        acc, tmp = acc_all[:, :m], tmp_all[:m]
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
        y[n0 : n0 + m].reshape(m, groups, k_g, *out)[...] = _permute(rows, order)
    if b is not None:
        y += b.reshape(c_out, *(1 for _ in out))
    return y


def conv_shifted_grad_input(delta, w, size, pads, dilation, groups, chunk):
    """dL/dx (N, C_in, *size): delta padded D(K - 1) - p on each side, correlated by the same
    kernel with the flipped, channel-swapped weight (the derived GradInput at stride 1)."""
    kernel = w.shape[2:]
    layer = zip(kernel, dilation, pads)
    gpads = [(_reach(k, d) - lo, _reach(k, d) - hi) for k, d, (lo, hi) in layer]
    dx = conv_shifted(delta, gradient_weight_of(w, groups), None, gpads, dilation, groups, chunk)
    assert tuple(dx.shape[2:]) == tuple(size)
    return dx


def conv_shifted_grad_weight(x, delta, kernel, pads, dilation, groups, chunk):
    """dL/dw (C_out, C_in/G, *K): per tap a, sum_n Delta_n^T X_n[off(a) : off(a) + L], delta on
    the padded grid (zero at the discarded rows), one batched GEMM per tap and group."""
    n, c_in, *size = x.shape
    c_out, out = delta.shape[1], delta.shape[2:]
    c_g, k_g = c_in // groups, c_out // groups
    dw = _zeros((groups, _product(kernel), k_g, c_g), x)
    for n0 in range(0, n, max(1, chunk)):
        xf, padded = _flat(x[n0 : n0 + max(1, chunk)], pads)
        m, grid = xf.shape[0], _grid(padded)
        span = sum((o - 1) * s for o, s in zip(out, grid)) + 1
        dg = _zeros((m, *padded, c_out), x)  # Delta: delta on the padded grid, channels last
        dg[(slice(None), *(slice(0, o) for o in out))] = _permute(
            delta[n0 : n0 + m], (0, *range(2, delta.ndim), 1)
        )
        dg = _permute(dg.reshape(m, _product(padded), c_out)[:, :span], (0, 2, 1))  # (m, K, L)
        for g in range(groups):
            cs, ks = slice(g * c_g, (g + 1) * c_g), slice(g * k_g, (g + 1) * k_g)
            for t, off in enumerate(_offsets(kernel, dilation, padded)):
                dw[g, t] += _sum(_matmul(dg[:, ks], xf[:, off : off + span, cs], None), (0,))
    # (G, taps, K/G, C/G) -> (C_out, C_in/G, *K)
    dw = _contiguous(_permute(dw, (0, 2, 3, 1)))
    return dw.reshape(c_out, c_g, *kernel)
'''

_HEADER = '''r"""Shifted-GEMM convolution for {backend}: GENERATED by `symconv generate` (do not
edit).

symconv {version}; printed by symconv.codegen.shifted from the stride-1 index form read on the
flattened padded input (the block Toeplitz matrix as a band):

    forward:  Y[q, k] = sum_a sum_c X[q + off(a), c] w[k, c, a],  off(a) = sum_i D_i a_i s_i
    dL/dx:    the same kernel on delta padded D (K - 1) - p, the kernel flipped and transposed
    dL/dw:    dw[k, c, a] = sum_(n, q) Delta[n, q, k] X[n, q + off(a), c]
"""

# ruff: noqa
'''


def shifted_module(backend: str) -> str:
    """The text of `{backend}_shifted.py` (before formatting)."""
    from .. import __version__

    if backend not in _PRINTERS:
        raise ValueError(f"backend must be one of {sorted(_PRINTERS)}, got {backend!r}")
    header = _HEADER.format(backend=backend, version=__version__)
    nodes = [
        _conv_out(),
        *reused_conv_nodes("_start_corr", "_reach", "_layout", "_swap_channels"),
        GRADIENT_WEIGHT_OF,
        PLACEMENT,
        Kernel("shifted", _BODY, ""),
    ]
    return _PRINTERS[backend]().module(nodes, header)


def shifted_modules() -> dict[str, str]:
    """File name -> formatted text of the generated shifted-GEMM modules."""
    from .generate import _format

    return {f"{b}_shifted.py": _format(shifted_module(b)) for b in _PRINTERS}
