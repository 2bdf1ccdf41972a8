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

from typing import Any

import sympy

from .. import _sizes
from ..winograd import winograd
from .kernels import conv_nodes
from .numpy_backend import NumPyKernelPrinter
from .printer import IndexMap, Kernel, KernelPrinter
from .templates import template_kernels
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
    """NumPy's vocabulary (`_const`, a printed matrix in the input's dtype, is in
    `templates/prims.py`)."""


class TorchWinogradPrinter(TorchKernelPrinter):
    """torch's vocabulary (`_const` on the input's device, in its dtype)."""


_PRINTERS: dict[str, type[KernelPrinter]] = {
    "numpy": NumPyWinogradPrinter,
    "torch": TorchWinogradPrinter,
}

_TEMPLATE = {k.name: k for k in template_kernels("winograd")}
GRADIENT_WEIGHT_OF = _TEMPLATE["gradient_weight_of"]  # reused by the shifted-GEMM module
PLACEMENT = _TEMPLATE["_placement"]


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
        _TEMPLATE["winograd"],
    ]


def winograd_modules() -> dict[str, str]:
    """File name -> text (as printed) of the generated Winograd modules."""
    return {f"{b}_winograd.py": winograd_module(b) for b in _PRINTERS}
