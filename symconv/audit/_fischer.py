"""The claims of lecture 004 (Fischer), in printed order."""

from __future__ import annotations

from .. import arch
from ..spec import Conv
from ._calls import (
    _convolution_theorem,
    _fischer_toeplitz,
    _full_width,
    _goodfellow_example,
    _local_weight_rank,
    _multichannel_formula,
    _tiled_factor,
)
from ._claim import Claim, claim

CLAIMS: list[Claim] = [
    # 004 Fischer
    claim(
        "004",
        "Convolution is a linear operation: x in R^5, w in R^3",
        "y = W x",
        "W ∈ R^((n−m+1)×n) Toeplitz, rows (w1, w2, w3, 0, 0), (0, w1, w2, w3, 0), …",
        True,
        _fischer_toeplitz,
        "toeplitz(Conv(dims=1, kernel_size=3), 5)",
    ),
    claim(
        "004",
        "Convolution is a linear operation",
        "output length for n = 5, m = 3",
        "reduced dimension n − m + 1",
        (3,),
        lambda: Conv(dims=1, kernel_size=3).output_size(5),
        "Conv(dims=1, kernel_size=3).output_size(5)",
    ),
    claim(
        "004",
        "Example (Goodfellow et al. Fig. 9.1): 3x4 input, 2x2 kernel",
        "output size (and output (1,1) = aw + bx + ey + fz)",
        "2 x 3 output, aw + bx + ey + fz",
        (2, 3),
        _goodfellow_example,
        "toeplitz(Conv(kernel_size=2), (3, 4))",
    ),
    claim(
        "004",
        "Multi-channel convolution: 4d kernel K",
        "Y_ijk = Σ X_l,j+m−1,k+n−1 K_i,l,m,n is the layer",
        "Y_ijk = Σ_lmn X K",
        True,
        _multichannel_formula,
        "index_form(Conv(in_channels=2, out_channels=3, kernel_size=(2, 3)), (5, 6))",
    ),
    claim(
        "004",
        "Parameter sharing: 512 x 512 input",
        "pixels",
        "262144",
        262_144,
        lambda: (
            arch.Network("img", (1, 512, 512), [arch.Flatten("flatten")]).table().output_shape[0]
        ),
        "Network('img', (1, 512, 512), [Flatten('flatten')]).table().output_shape",
    ),
    claim(
        "004",
        "Parameter sharing: a dense layer to an output of similar size",
        "parameters",
        "68 x 10^9",
        68 * 10**9,
        lambda: arch.Linear("dense", 512 * 512, bias=False).num_parameters(512 * 512),
        "Linear('dense', 512 * 512, bias=False).num_parameters(512 * 512)",
        ulp=10**9,
        note="68,719,476,736 truncated to 68 x 10^9",
    ),
    claim(
        "004",
        "Edge detection with Y = [-1 1] * X: conv layer",
        "FLOPs (2 mult. + 1 add per output)",
        "319 x 280 x 3 = 267,960 FLOPs",
        267_960,
        lambda: Conv(kernel_size=(1, 2), bias=False).flops((280, 320), exact=True),
        "Conv(kernel_size=(1, 2), bias=False).flops((280, 320), exact=True)",
    ),
    claim(
        "004",
        "Zero padding: full convolution",
        "output width for m = 9, k = 4 (minus m + k − 1)",
        "width m + k − 1",
        0,
        _full_width,
        "Conv(dims=1, kernel_size=k, padding='full').output_size(m)",
    ),
    claim(
        "004",
        "Locally connected layers",
        "rank of the weight tensor (2-d)",
        "6-D tensor W",
        6,
        _local_weight_rank,
        "LocallyConnected(dims=2, ...).weight_shape(8)",
    ),
    claim(
        "004",
        "Tiled convolution",
        "parameters grow by the number of kernels (t = 1, 2, 3 per axis)",
        "only by a factor of the size of this set of kernels",
        True,
        _tiled_factor,
        "Tiled(dims=2, ..., tiles=t).num_parameters()",
    ),
    claim(
        "004",
        "Fast convolution: K * X = F⁻¹(F(K) ⊙ F(X))",
        "the convolution theorem",
        "K * X = F⁻¹(F(K) ⊙ F(X))",
        True,
        _convolution_theorem,
        "fourier_derivation(Conv(dims=1, kernel_size=3)).verify()",
    ),
    claim(
        "004",
        "Pooling: 2 x 2 filter with stride 2 (worked grid)",
        "pooled values",
        "(garbled in the notes)",
        None,
        None,
        note="the example grid is not legible in the text",
    ),
]
