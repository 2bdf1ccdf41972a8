r"""Printer of the Winograd convolution kernels (issue 7), for NumPy and torch.

The printed modules `numeric/_generated/{numpy,torch}_winograd.py` run $3 \times 3$, stride-1
layers (any dilation, padding and groups) by Winograd's minimal filtering, reading the transforms
off `symconv.winograd.winograd`, printed entry by entry as exact rationals:

- **forward**, $F(m \times m, 3 \times 3)$: $Y = A^\top[(G g G^\top) \odot (B^\top d B)]A$ on
  $\alpha \times \alpha$ input tiles ($\alpha = m + 2$) at step $m$; the sum over input channels
  sits inside the element-wise product, so the middle stage is one batched GEMM per tile position
  $(i, j)$: $M_{ij} = U_{ij} V_{ij}$, $U_{ij}$ of shape $(C_\mathrm{out}, C_\mathrm{in})$;
- **dilation** $D$: output $o = D q + r$ reads only inputs of the same phase $r$
  ($\tilde x[D(q + a) + r]$), so every phase is an undilated layer on the sub-image
  $\tilde x[r::D]$; the phases ride along as extra columns of the GEMMs;
- **dL/dx**: at stride 1 the derived `GradInput` (`symconv.backprop`) is itself a $3 \times 3$
  stride-1 correlation: delta padded $2D - p$ on each side, the kernel flipped and its two
  channel axes exchanged, so it runs through the same forward kernel;
- **dL/dw**: $\partial L/\partial w[a] = \sum_{n, o} \delta[o]\, \tilde x[o + D a]$ is a valid
  correlation of the input with delta producing three outputs per axis, summed over tiles:
  $F(3 \times 3, m \times m)$ (`winograd(3, m)`, the same points, so the same $B^\top$ and the
  same input tiles as the forward), with delta's $m \times m$ blocks as the filters:
  $\partial L/\partial w = A'^\top\big[\sum_\mathrm{tiles} (G' \delta G'^\top) \odot
  (B^\top d B)\big] A'$, the sum over tiles and samples one batched GEMM per tile position.

Every transform $L\,Z\,L^\top$ over the two tile axes is two GEMMs (dense, as BLAS likes them);
in $A^\top M A$ the second leaves each output tile's last axis innermost, so that the scatter into
y copies whole rows. The batch runs in chunks (bounded workspace); the stages take turns between
two buffers per thread (padded input, tiles, their transform, products, output tiles), kept
between calls up to `keep` bytes: on the project's machine a fresh page costs a fault of about
2 us, as much as a pass over it. `winograd_modules()` returns `{file name: text}`; `symconv
generate` writes and `--check`s them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import sympy

from .. import _sizes
from ..winograd import winograd
from .kernels import conv_nodes
from .numpy_backend import NumPyKernelPrinter
from .printer import IndexMap, Kernel, KernelPrinter
from .torch_backend import TorchKernelPrinter

__all__ = ["TILES", "winograd_modules", "winograd_nodes"]

TILES = (2, 4)  # F(2x2, 3x3) and F(4x4, 3x3); dL/dw: F(3x3, 2x2) and F(3x3, 4x4)


def _rational(v: Any) -> str:
    v = sympy.Rational(v)
    return str(v.p) if v.q == 1 else f"{v.p} / {v.q}"


def _matrix(M: sympy.Matrix) -> str:
    return "[" + ", ".join("[" + ", ".join(_rational(v) for v in r) + "]" for r in M.tolist()) + "]"


def _literals() -> str:
    out = []
    for m in TILES:
        f, b = winograd(m, 3), winograd(3, m)
        assert f.BT == b.BT  # the same points, so dL/dw reads the forward's input tiles
        w, direct = f.tile_multiplications(2)
        pts = ", ".join(map(str, f.points))
        out.append(
            f"# F({m}x{m}, 3x3) = winograd({m}, 3) and F(3x3, {m}x{m}) = winograd(3, {m}), "
            f"points ({pts}, oo):\n# {w} multiplications per tile instead of {direct}"
        )
        out.append(f"F{m} = ({_matrix(f.AT)}, {_matrix(f.G)}, {_matrix(f.BT)})")
        out.append(f"W{m} = ({_matrix(b.AT)}, {_matrix(b.G)})")
    out.append("FORWARD = {" + ", ".join(f"{m}: F{m}" for m in TILES) + "}")
    out.append(
        "GRAD_WEIGHT = {"
        + ", ".join(f"{m}: (*W{m}, F{m}[2])" for m in TILES)
        + "}  # A'^T, G', B^T"
    )
    return "\n".join(out)


class NumPyWinogradPrinter(NumPyKernelPrinter):
    """NumPy's vocabulary plus `_const` (a printed matrix in the input's dtype)."""

    _extra_imports: ClassVar[dict[str, str]] = {
        **NumPyKernelPrinter._extra_imports,
        "threading": "threading",
    }
    _primitives: ClassVar[dict[str, tuple[str, str]]] = {
        **NumPyKernelPrinter._primitives,
        "_const": ("rows, like", "numpy.array(rows, dtype=numpy.float64).astype(like.dtype)"),
        "_is_contiguous": ("x", "x.flags.c_contiguous"),
    }


class TorchWinogradPrinter(TorchKernelPrinter):
    """torch's vocabulary plus `_const` (on the input's device, in its dtype)."""

    _extra_imports: ClassVar[dict[str, str]] = {
        **TorchKernelPrinter._extra_imports,
        "threading": "threading",
    }
    _primitives: ClassVar[dict[str, tuple[str, str]]] = {
        **TorchKernelPrinter._primitives,
        "_const": (
            "rows, like",
            "torch.tensor(rows, dtype=torch.float64, device=like.device).to(like.dtype)",
        ),
        "_is_contiguous": ("x", "x.is_contiguous()"),
    }


_PRINTERS: dict[str, type[KernelPrinter]] = {
    "numpy": NumPyWinogradPrinter,
    "torch": TorchWinogradPrinter,
}

_BODY = '''

def tiles(out, dilation, m):
    """Tiles per axis and phase: ceil(ceil(O / D) / m) (each phase's outputs in tiles of m)."""
    return [-(-(-(-o // d)) // m) for o, d in zip(out, dilation)]


def output_size(size, pads, dilation):
    """The 3x3 stride-1 layer's output size (_conv_out, printed from symconv._sizes)."""
    return [_conv_out(n, 3, 1, d, lo, hi) for n, (lo, hi), d in zip(size, pads, dilation)]


_KEPT = {}  # thread id -> {(slot, dtype, device): flat buffer}, see _workspace


def release_workspaces():
    """Drop the buffers `_workspace` keeps between calls (every thread's)."""
    _KEPT.clear()


def _workspace(slot, shape, like, keep):
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


def _fill_padded(xp, x, src, dst):
    """xp[:, :, dst] = x[:, :, src] and zeros elsewhere, writing only the border slabs (per
    axis, before and after dst) besides the copy: xp may be a kept workspace."""
    lead = (slice(None), slice(None))
    for k, d in enumerate(dst):
        rest = [slice(None)] * len(dst)
        for part in (slice(0, d.start), slice(d.stop, None)):
            rest[k] = part
            xp[(*lead, *rest)] = 0
    xp[(*lead, *dst)] = x[(*lead, *src)]


def _transform(L, Z):
    """L Z L^T over the two leading axes of Z (p, p, *rest) -> (q, q, *rest), in new arrays."""
    return _transform_into(L, Z, None, None, Z, 0).reshape(L.shape[0], L.shape[0], *Z.shape[2:])


def _transform_into(L, Z, via, into, like, keep):
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


def _input_tiles(x, pads, dilation, m, T, keep):
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


def _forward(x, U, pads, dilation, groups, m, T, y, keep):
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


def conv2d_winograd(x, w, b, pads, dilation, groups, m, chunk, keep=0, out=None):
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
    y = out.reshape(tiled) if into else _empty(tiled, x)
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


def conv2d_winograd_grad_input(delta, w, size, pads, dilation, groups, m, chunk, keep=0, out=None):
    """dL/dx (N, C_in, *size): delta padded 2D - p on each side, correlated by F(m x m, 3 x 3)
    with the flipped, channel-swapped kernel (the derived GradInput at stride 1); into `out`
    when given."""
    gpads = [(_reach(3, d) - lo, _reach(3, d) - hi) for (lo, hi), d in zip(pads, dilation)]
    wt = gradient_weight_of(w, groups)
    dx = conv2d_winograd(delta, wt, None, gpads, dilation, groups, m, chunk, keep, out)
    assert tuple(dx.shape[2:]) == tuple(size)
    return dx


def conv2d_winograd_grad_weight(x, delta, pads, dilation, groups, m, chunk, keep=0):
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
'''


GRADIENT_WEIGHT_OF = Kernel(
    "gradient_weight_of",
    '''
def gradient_weight_of(w, groups):
    """The kernel of dL/dx as a convolution: w flipped, its channel axes exchanged per group
    (symconv.backprop.transpose_weight): (C_out, C_in/G, *K) -> (C_in, C_out/G, *K)."""
    return _swap_channels(_flip(w, tuple(range(2, w.ndim))), groups)
''',
    "",
)


PLACEMENT = Kernel(
    "_placement",
    '''
def _placement(size, pads, padded):
    """Per axis the slices (source, destination) that put x into its padded grid,
    x~[j] = x[j - lo] (zeros elsewhere; a negative lo crops x)."""
    src, dst = [], []
    for n, (lo, _), p in zip(size, pads, padded):
        s, t = max(0, -lo), max(0, lo)
        count = max(0, min(n - s, p - t))
        src.append(slice(s, s + count))
        dst.append(slice(t, t + count))
    return src, dst
''',
    "",
)


def reused_conv_nodes(*names: str) -> list:
    """The direct kernels' nodes `names` (printed once there, reused here)."""
    found = {n.name: n for n in conv_nodes() if n.name in names}
    missing = set(names) - set(found)
    if missing:
        raise ValueError(f"codegen: conv_nodes() lacks {sorted(missing)}")
    return [found[n] for n in names]


def _conv_out() -> IndexMap:
    """`_conv_out` from `symconv._sizes.conv_out` (the one output-size formula)."""
    i, k, s, d, lo, hi = (sympy.Symbol(v, integer=True) for v in ("i", "k", "s", "d", "lo", "hi"))
    return IndexMap(
        "_conv_out",
        ("i", "k", "s", "d", "lo", "hi"),
        _sizes.conv_out(i, k, s, d, lo, hi),
        "output length (symconv._sizes.conv_out).",
        derivation="symconv._sizes.conv_out",
    )


_HEADER = '''r"""Winograd convolution for {backend}: GENERATED by `symconv generate` (do not edit).

Printed by symconv.codegen.winograd from symconv.winograd.winograd(m, r):

    forward, dL/dx:  F(m x m, 3 x 3), Y = A^T[(G g G^T) * (B^T d B)]A, m in {tiles}
    dL/dw:           F(3 x 3, m x m), the same points: dW = A'^T[sum (G' delta G'^T) * (B^T d B)]A'
    dilation D:      output D q + r reads x~[D (q + a) + r]: each phase r an undilated layer
"""

# ruff: noqa
'''


def winograd_module(backend: str) -> str:
    """The text of `{backend}_winograd.py` (as printed)."""
    if backend not in _PRINTERS:
        raise ValueError(f"backend must be one of {sorted(_PRINTERS)}, got {backend!r}")
    header = _HEADER.format(backend=backend, tiles=list(TILES))
    return _PRINTERS[backend]().module(winograd_nodes(), header)


def winograd_nodes() -> list:
    """The Winograd module's nodes: the printed literals, index maps and kernels, in order."""
    return [
        Kernel("literals", _literals(), "", printed=True),
        _conv_out(),
        *reused_conv_nodes("_reach", "_swap_channels", "_thin"),
        GRADIENT_WEIGHT_OF,
        PLACEMENT,
        Kernel("winograd", _BODY, ""),
    ]


def winograd_modules() -> dict[str, str]:
    """File name -> text (as printed) of the generated Winograd modules."""
    return {f"{b}_winograd.py": winograd_module(b) for b in _PRINTERS}
