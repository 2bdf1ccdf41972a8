r"""Printer of the locally connected and tiled kernels: `numeric/_generated/*_local.py`.

A locally connected layer reads the same windows as a convolution,
$\tilde x[n, c', S o + D a']$, but its weight carries the output position,
$w[k, o, c, a]$; a tiled layer's weight carries $o \bmod t$. So the kernels reuse the
convolution module's nodes that compute *where* to read (the padding maps $\varphi$, `_pad`
and its transpose `_fold`, the window starts `_start_corr` / `_start_flip`, `_conv_out`; all
from `conv_nodes()`, checked here to match the local index forms), and add:

- `_tile_of(o, t)`: the tiled weight's position index $o \bmod t$, read off
  `index_form(Tiled(...)).expression()`;
- im2col with the *positions* as a batch axis: per output position one small GEMM,
  $y[:, k, o] = W_o\, X_o$ (a batched matmul over $o$), instead of one GEMM shared by all
  positions;
- the gradients of `symconv.local_params.local_backprop`: $\partial L/\partial w = \delta X^\top$
  per position (no sum over $o$; tiled: the sum over $o \equiv$ its tile),
  $\partial L/\partial x = T^\top \delta$ (the batched GEMM transposed, then col2im and
  $\mathrm{Pad}^\top$).

`local_modules()` returns `{file name: text}` for NumPy and torch, printed from one template by
the backends' `KernelPrinter`s; `symconv generate` writes and `--check`s them.
"""

from __future__ import annotations

import sympy

from .._errors import SpecError
from ..indexform import index_form
from ..local import LocallyConnected, Tiled
from ..spec import Conv
from .kernels import conv_nodes
from .printer import IndexMap, Kernel

__all__ = ["local_forms", "local_modules", "local_nodes"]

# the convolution module's nodes the local kernels reuse: where to read, how to pad and fold
_REUSED = (
    "_phi_zeros",
    "_phi_reflect",
    "_phi_replicate",
    "_phi_circular",
    "_start_corr",
    "_start_flip",
    "_conv_out",
    "PHI",
    "_layout",
    "_taps",
    "_pad",
    "_fold",
)


def _specs(flip: bool) -> tuple[Conv, LocallyConnected, Tiled]:
    return (
        Conv(dims=1, kernel_size=1, flip=flip),
        LocallyConnected(dims=1, kernel_size=1, input_size=1, flip=flip),
        Tiled(dims=1, kernel_size=1, tiles=2, flip=flip),
    )


def _read(spec: Conv, base: str) -> sympy.Indexed:
    eq = index_form(spec).expression()
    return next(i for i in eq.rhs.atoms(sympy.Indexed) if str(i.base) == base)


def _check_windows() -> None:
    """The local forms read x~ where the convolution does: its window maps apply unchanged."""
    for flip in (False, True):
        conv, *local = _specs(flip)
        xt = r"\tilde{x}"
        ref = _read(conv, xt).indices
        for spec in local:
            got = _read(spec, xt).indices
            if got != ref:
                raise SpecError(
                    f"codegen: {type(spec).__name__} reads x~ at {got}, not where Conv does "
                    f"({ref}); the convolution's windows do not apply"
                )


def _tile_map() -> IndexMap:
    """$o \\bmod t$: the tiled weight's position index, from the Tiled index form."""
    idx = _read(_specs(False)[2], "w").indices[1]  # w[k, Mod(o, t), c, a]
    names = {s.name: sympy.Symbol(s.name, integer=True) for s in idx.free_symbols}
    if set(names) != {"o", "t"}:
        raise SpecError(f"codegen: the tiled weight index {idx} is not a function of o and t")
    return IndexMap(
        "_tile_of",
        ("o", "t"),
        idx.xreplace({s: names[s.name] for s in idx.free_symbols}),
        "tile of output position o: the tiled weight index o mod t (Tiled index form).",
        derivation="symconv.indexform.IndexForm.expression",
    )


def local_forms() -> list[str]:
    """The index forms the modules are printed from, one line each (for the header)."""
    _, lc, tiled = _specs(False)
    out = []
    for name, spec in (("local", lc), ("tiled", tiled)):
        eq = index_form(spec).expression()
        out.append(f"{name}: {eq.lhs} = {eq.rhs}")
    out.append(f"pad:   {index_form(lc).padding_expression()}")
    out.append(
        "grad:  symconv.local_params.local_backprop: dL/dw = delta X^T per position, "
        "dL/dx = T^T delta"
    )
    return out


def local_nodes() -> list:
    """Index maps and kernels of the locally connected / tiled module."""
    _check_windows()
    reused = {n.name: n for n in conv_nodes() if n.name in _REUSED}
    missing = set(_REUSED) - set(reused)
    if missing:
        raise SpecError(f"codegen: conv_nodes() lacks {sorted(missing)} (needed by local)")
    return [
        *(reused[name] for name in _REUSED),
        _tile_map(),
        *(Kernel(name, src, "") for name, src in _LOCAL_KERNELS),
    ]


_LOCAL_KERNELS = [
    (
        "_positions",
        """
def _columns(xp, taps, stride, out, groups):
    \"\"\"im2col, positions first: cols[g, o, (c, t), n] = x~[n, g C_in/G + c, window t at o],
    (G, P, C_in/G T, n), one copy of the convolution's _window_view; every output position
    gets its own column block.\"\"\"
    n, c_in = xp.shape[:2]
    t_n = _product([k for k, _, _ in taps])
    cols = _contiguous(_window_view(xp, taps, stride, out)).reshape(n, c_in, t_n, *out)
    rows = c_in // groups * t_n
    return _permute(cols.reshape(n, groups, rows, _product(out)), (1, 3, 2, 0))


def _weight_by_position(w, groups, dims):
    \"\"\"(C_out, *O, C_in/G, *K) -> (G, P, C_out/G, C_in/G T): one matrix W_o per position.\"\"\"
    c_out = w.shape[0]
    p = _product(w.shape[1 : 1 + dims])
    rows = _product(w.shape[1 + dims :])  # C_in/G prod(K)
    return _permute(w.reshape(groups, c_out // groups, p, rows), (0, 2, 1, 3))


def _delta_by_position(d, groups):
    \"\"\"delta (n, C_out, *O) -> (G, P, C_out/G, n).\"\"\"
    n, c_out, *out = d.shape
    return _permute(d.reshape(n, groups, c_out // groups, _product(out)), (1, 3, 2, 0))


def _local_windows(kernel, stride, dilation, out, flip):
    \"\"\"Tap a's window x~[S o + D a'] (a' = K - 1 - a when flip): the convolution's windows.\"\"\"
    return _windows(kernel, stride, dilation, out, _start_flip if flip else _start_corr)


def _local_taps(kernel, dilation, flip):
    \"\"\"The same windows as (K, first, step) per axis, for _window_view.\"\"\"
    return _taps(kernel, dilation, _start_flip if flip else _start_corr)


def _output_size(size, kernel, stride, dilation, pads):
    return [
        _conv_out(i, k, s, d, lo, hi)
        for i, k, s, d, (lo, hi) in zip(size, kernel, stride, dilation, pads)
    ]
""",
    ),
    (
        "local_forward",
        """
def local_forward(x, w, b, stride, pads, dilation, groups, mode, flip, chunk):
    \"\"\"Locally connected layer, any number of spatial axes: the index form

        y[n, k, o] = b[k, o] + sum_{c, a} x~[n, g(k) C_in/G + c, S o + D a'] w[k, o, c, a],

    x~ the padded input (phi of `mode`), a' = K - 1 - a when `flip`. x (N, C_in, *I),
    w (C_out, *O, C_in/G, *K), b (C_out, *O) or None. Per output position o one GEMM,
    y[:, k, o] = W_o X_o (a batched matmul over o and the groups), `chunk` samples at a time.
    Returns (N, C_out, *O).
    \"\"\"
    n, c_in, *size = x.shape
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
""",
    ),
    (
        "local_grad_input",
        """
def local_grad_input(delta, w, size, stride, pads, dilation, groups, mode, flip, chunk):
    \"\"\"dL/dx = Pad^T T^T delta of local_forward: per position the GEMM transposed,
    X_o-gradient = W_o^T delta_o, then col2im (every tap's block added back onto the window it
    was read from; overlapping windows add) and _fold (Pad^T). delta (N, C_out, *O),
    w (C_out, *O, C_in/G, *K), size: the input's spatial size. Returns (N, C_in, *size).
    \"\"\"
    n, c_out, *out = delta.shape
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
""",
    ),
    (
        "local_grad_weight",
        """
def local_grad_weight(x, delta, kernel, stride, pads, dilation, groups, mode, flip, chunk):
    \"\"\"dL/dw of local_forward (symconv.local_params.local_backprop): one product per weight,
    no sum over positions,

        dw[k, o, c, a] = sum_n delta[n, k, o] x~[n, g(k) C_in/G + c, S o + D a'],

    i.e. dW_o = delta_o X_o^T per position (a batched matmul), summed over the batch in chunks.
    Returns (C_out, *O, C_in/G, *kernel).
    \"\"\"
    n, c_in, *size = x.shape
    _, c_out, *out = delta.shape
    taps = _local_taps(kernel, dilation, flip)
    c_g = c_in // groups
    dw = _zeros((groups, _product(out), c_out // groups, c_g * _product(kernel)), x)
    for n0 in range(0, n, chunk):
        cols = _columns(_pad(x[n0 : n0 + chunk], pads, mode), taps, stride, out, groups)
        d = _delta_by_position(delta[n0 : n0 + chunk], groups)
        dw += _matmul(d, _permute(cols, (0, 1, 3, 2)), None)
    return _contiguous(_permute(dw, (0, 2, 1, 3))).reshape(c_out, *out, c_g, *kernel)
""",
    ),
    (
        "local_grad_bias",
        """
def local_grad_bias(delta):
    \"\"\"dL/db of the unshared bias b[k, o]: delta summed over the batch only, (C_out, *O).\"\"\"
    return _sum(delta, (0,))
""",
    ),
    (
        "tiled",
        """
def _tile_expand(w, out, tiles):
    \"\"\"w[k, o mod t, c, a] for every position o: the tiled weight as a locally connected one,
    (C_out, *t, C_in/G, *K) -> (C_out, *O, C_in/G, *K), one gather per axis.\"\"\"
    for axis, (o, t) in enumerate(zip(out, tiles)):
        w = _take(w, _tile_of(_arange(o, w), t), axis + 1)
    return w


def _tile_sum(dw, tiles):
    \"\"\"The transpose of _tile_expand: sum dL/dw[k, o, c, a] over the positions o with the same
    tile o mod t, axis by axis. (C_out, *O, ...) -> (C_out, *t, ...).\"\"\"
    for axis, t in enumerate(tiles):
        shape = list(dw.shape)
        o, shape[axis + 1] = shape[axis + 1], t
        acc = _zeros(tuple(shape), dw)
        _index_add(acc, axis + 1, _tile_of(_arange(o, dw), t), dw)
        dw = acc
    return dw


def tiled_forward(x, w, b, stride, pads, dilation, groups, mode, flip, chunk):
    \"\"\"Tiled convolution, local_forward with the expanded weight:

        y[n, k, o] = b[k] + sum_{c, a} x~[n, c', S o + D a'] w[k, o mod t, c, a],

    w (C_out, *t, C_in/G, *K), b (C_out,) or None.\"\"\"
    dims = x.ndim - 2
    tiles, kernel = w.shape[1 : 1 + dims], w.shape[2 + dims :]
    out = _output_size(x.shape[2:], kernel, stride, dilation, pads)
    w_local = _tile_expand(w, out, tiles)
    y = local_forward(x, w_local, None, stride, pads, dilation, groups, mode, flip, chunk)
    if b is not None:
        y += b.reshape(w.shape[0], *(1 for _ in out))
    return y


def tiled_grad_input(delta, w, size, stride, pads, dilation, groups, mode, flip, chunk):
    \"\"\"dL/dx of tiled_forward: local_grad_input with the expanded weight.\"\"\"
    dims = delta.ndim - 2
    w_local = _tile_expand(w, delta.shape[2:], w.shape[1 : 1 + dims])
    return local_grad_input(delta, w_local, size, stride, pads, dilation, groups, mode, flip, chunk)


def tiled_grad_weight(x, delta, tiles, kernel, stride, pads, dilation, groups, mode, flip, chunk):
    \"\"\"dL/dw of tiled_forward: the per-position gradient summed over each tile's positions.\"\"\"
    dw = local_grad_weight(x, delta, kernel, stride, pads, dilation, groups, mode, flip, chunk)
    return _tile_sum(dw, tiles)
""",
    ),
]


def _header(backend: str) -> str:
    lines = [
        f'r"""Locally connected and tiled kernels for {backend}: GENERATED by `symconv generate` '
        "(do not edit).",
        "",
        "Printed by symconv.codegen.local from these index forms (symconv.indexform):",
        "",
        *(f"    {line}" for line in local_forms()),
        '"""',
        "# ruff: noqa",
    ]
    return "\n".join(lines)


def local_modules() -> dict[str, str]:
    """File name -> text of `numpy_local.py` and `torch_local.py` (as printed)."""
    from .generate import BACKENDS

    nodes = local_nodes()
    return {
        f"{backend}_local.py": printer().module(nodes, _header(backend))
        for backend, printer in BACKENDS.items()
    }
