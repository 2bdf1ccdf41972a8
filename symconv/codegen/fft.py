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

import sympy

from .. import _sizes
from ..fourier import fft_padding_derivation, fft_plan
from ..spec import Conv
from .numpy_backend import NumPyKernelPrinter
from .printer import IndexMap, Kernel, KernelPrinter
from .templates import template_kernels
from .torch_backend import TorchKernelPrinter

__all__ = ["fft_modules", "fft_nodes", "fft_source"]


class NumPyFFTPrinter(NumPyKernelPrinter):
    """NumPy's vocabulary (its FFT primitives `_rfftn`, `_irfftn`, `_conj`, `_as_dtype` are
    part of `templates/prims.py`)."""


class TorchFFTPrinter(TorchKernelPrinter):
    """torch's vocabulary (`torch.fft` on the tensor's device)."""


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
    return maps + template_kernels("fft")


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
