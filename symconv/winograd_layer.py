r"""A whole convolution layer by Winograd: channels, dilation phases and both gradients.

`winograd_derivation` proves one tile, $F(m, r)$. A layer needs four more facts, each one
used by the generated kernels (`symconv.codegen.winograd`):

1. **Channels.** $A^\top$ is linear, so the sum over input channels moves inside the transform:
   $Y_k = A^\top\big[\sum_c (G g_{kc} G^\top) \odot (B^\top d_c B)\big] A$; entry $(i, j)$ of
   the bracket is the matrix product $M_{ij} = U_{ij} V_{ij}$ of $U_{ij}$ (out x in channels)
   with $V_{ij}$ (in channels x tiles): one GEMM per tile position.
2. **Dilation.** Output $D q + r$ reads $\tilde x[D(q + a) + r]$: only the inputs of its own
   phase $r$. Each phase is an undilated layer on the sub-image $\tilde x[r::D]$.
3. **Input gradient.** At stride 1 the derived `GradInput` (`symconv.backprop`) is a stride-1
   correlation of delta, padded $D(k - 1) - p$, with the flipped, channel-swapped kernel: the
   same kernel runs it.
4. **Weight gradient.** $\partial L / \partial w[a] = \sum_o \delta[o]\, \tilde x[o + D a]$, a
   valid correlation of the input with delta giving $k = 3$ outputs per axis. Split $o$ into
   blocks of $m$: each block is $F(3, m)$ with the block of delta as the filter and the
   forward's $(m + 2)$-tile of the input as the data, $\partial L/\partial w =
   A'^\top\big[\sum_\mathrm{tiles} (G' \delta_t G'^\top) \odot (B^\top d_t B)\big] A'$; with
   the same interpolation points $B^\top$ is the forward's, so the input tiles are shared.

```python
>>> from symconv.winograd_layer import winograd_layer_derivation
>>> winograd_layer_derivation(2).verify().passed
True

```
"""

from __future__ import annotations

from numeric.checks.winograd_layer import NEEDS
from numeric.checks.winograd_layer import winograd_layer_derivation as _layer_derivation

from .derivation import Derivation
from .registry import injected

__all__ = ["winograd_layer_derivation"]


def winograd_layer_derivation(m: int = 4) -> Derivation:
    r"""How numeric runs a 3x3 stride-1 layer by $F(m \times m, 3 \times 3)$, with checks:
    the weight gradient's $F(3 \times 3, m \times m)$ exact (symbolic residual for $m = 2$,
    exact rational tiles otherwise), its $B^\top$ the forward's, and the generated kernels on
    integer data against the Toeplitz matrix (forward, dL/dx) and the direct dL/dw.

    The derivation lives with numeric (`numeric.checks.winograd_layer`, registered there as
    `symconv derive winograd-layer`); here it is given the Toeplitz matrix and Winograd's exact
    transforms (`symconv.registry.injected`), which numeric may not import.
    """
    return _layer_derivation(m, **injected(NEEDS))
