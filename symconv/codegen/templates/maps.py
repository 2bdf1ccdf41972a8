"""The index maps the templates call, bound to the code printed from their derivations.

In a generated module every function here is printed from an expression read off an index form
or a derivation (`symconv.codegen.kernels`: `conv_nodes()`, `pool_nodes()`; `symconv.codegen.local`:
`local_nodes()`; each printed map's
docstring names its source). This module gives the templates the same maps on NumPy: on first
use it prints every map with the NumPy backend's printer and compiles that text, so a template
run here executes the very code the generated NumPy module holds. The signatures below are the
typed face of the printed maps (a test checks that they list the same names and parameters).

An `Index` is an integer or an integer array (the maps are element-wise).

Example:

    >>> import numpy
    >>> _phi_reflect(numpy.arange(-2, 6), 4).tolist()
    [2, 1, 0, 1, 2, 3, 2, 1]
    >>> _conv_out(32, 5, 1, 1, 2, 2)
    32
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeAlias

import numpy

# the printers and the nodes the maps are printed from (the templates themselves are read as
# text by the printer, never imported by it: no cycle)
from ..fft import fft_nodes
from ..kernels import conv_nodes, pool_nodes
from ..local import local_nodes
from ..numpy_backend import NumPyKernelPrinter
from ..printer import IndexMap
from ..winograd import winograd_nodes

__all__ = ["Index", "printed_maps"]

Index: TypeAlias = Any
"""An integer or an integer array (`int64`)."""


@functools.cache
def printed_maps() -> dict[str, Callable[..., Any]]:
    """Name -> the NumPy function printed from the map's expression (the generated text)."""
    printer = NumPyKernelPrinter()
    space: dict[str, Any] = {"numpy": numpy}
    names: list[str] = []
    for node in (*conv_nodes(), *pool_nodes(), *local_nodes(), *fft_nodes()):
        if isinstance(node, IndexMap) and node.name not in space:
            # the printed module text of one map, compiled as the generated module would be
            exec(compile(printer.doprint(node), f"<printed {node.name}>", "exec"), space)
            names.append(node.name)
    return {name: space[name] for name in names}


def _map(name: str) -> Callable[..., Any]:
    return printed_maps()[name]


# -- the convolution module's maps --------------------------------------------------------------
def _phi_zeros(u: Index, n: int) -> Index:
    """Zeros padding: u inside [0, n), -1 (a zero) outside."""
    return _map("_phi_zeros")(u, n)


def _phi_reflect(u: Index, n: int) -> Index:
    """Reflect padding: the input position read at padded offset u."""
    return _map("_phi_reflect")(u, n)


def _phi_replicate(u: Index, n: int) -> Index:
    """Replicate padding: u clamped to [0, n)."""
    return _map("_phi_replicate")(u, n)


def _phi_circular(u: Index, n: int) -> Index:
    """Circular padding: u mod n."""
    return _map("_phi_circular")(u, n)


def _start_corr(a: Index, k: int, d: int) -> Index:
    """Window start of tap a, cross-correlation."""
    return _map("_start_corr")(a, k, d)


def _start_flip(a: Index, k: int, d: int) -> Index:
    """Window start of tap a, true convolution (flipped kernel)."""
    return _map("_start_flip")(a, k, d)


def _conv_out(i: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    """Output length of a convolution."""
    return _map("_conv_out")(i, k, s, d, lo, hi)


def _reach(k: int, d: int) -> int:
    """GradInput's full padding on each side."""
    return _map("_reach")(k, d)


def _unused(i: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    """GradInput's extra high padding (the unread tail)."""
    return _map("_unused")(i, k, s, d, lo, hi)


def _transpose_lo(k: int, d: int, p: int) -> int:
    """ConvTranspose's low padding as a direct convolution."""
    return _map("_transpose_lo")(k, d, p)


def _gw_start(a: Index, d: int) -> Index:
    """GradWeight's window start of weight tap a."""
    return _map("_gw_start")(a, d)


# -- the pooling module's maps ------------------------------------------------------------------
def _pool_start(a: Index, d: int) -> Index:
    """Pooling window start of tap a."""
    return _map("_pool_start")(a, d)


def _pool_source(o: Index, a: Index, s: int, d: int, p: int) -> Index:
    """Input coordinate read by output o at tap a."""
    return _map("_pool_source")(o, a, s, d, p)


def _in_padded(j: Index, i: int, p: int) -> Index:
    """Whether padded position j lies inside the padded input."""
    return _map("_in_padded")(j, i, p)


def _in_input(j: Index, i: int, p: int) -> Index:
    """Whether padded position j reads the input (not the padding)."""
    return _map("_in_input")(j, i, p)


def _ceil_extra(i: int, k: int, s: int, d: int, p: int, out: int) -> int:
    """Ceil mode: how far the last window reaches beyond the padded input."""
    return _map("_ceil_extra")(i, k, s, d, p, out)


# -- the locally connected module's maps --------------------------------------------------------
def _tile_of(o: Index, t: int) -> Index:
    """The tile of output position o: the tiled weight's position index."""
    return _map("_tile_of")(o, t)


# -- the FFT module's maps ----------------------------------------------------------------------
def fft_size(n: int, K: int, p_lo: int, p_hi: int) -> int:
    """The smallest alias-free circular length for input n, kernel extent K, padding."""
    return _map("fft_size")(n, K, p_lo, p_hi)


def _crop_index(o: Index, s: int, p_lo: int, N: int) -> Index:
    """The circular position of output o in the correlation at length N."""
    return _map("_crop_index")(o, s, p_lo, N)


# -- the Winograd module's printed literals -----------------------------------------------------
@functools.cache
def winograd_literals() -> tuple[dict[int, Any], dict[int, Any]]:
    """`(FORWARD, GRAD_WEIGHT)`: the Winograd transforms as the generated module prints them
    (from `symconv.winograd.winograd`, exact rationals), compiled from that printed text."""
    space: dict[str, Any] = {}
    literals = next(n for n in winograd_nodes() if getattr(n, "name", "") == "literals")
    exec(compile(literals.source, "<printed literals>", "exec"), space)
    return space["FORWARD"], space["GRAD_WEIGHT"]
