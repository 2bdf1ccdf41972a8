"""The claims of lecture 000 (Khan), in printed order."""

from __future__ import annotations

from fractions import Fraction

from ..spec import Pool
from ._calls import (
    _bias_gradient_is_sum,
    _conv,
    _downsampled_fraction,
    _khan_1d_weight_gradient,
    _khan_2d_weight_gradient,
    _khan_delta_convolution,
    _khan_pool_routing,
    _pool_formula_symbolic,
)
from ._claim import Claim, claim

CLAIMS: list[Claim] = [
    # 000 Khan
    claim(
        "000",
        "Convolutional layer: a feature map of 100 neurons in a 10x10 array",
        "weights shared by a feature map with 5x5 receptive fields",
        "26 (= 5 × 5 + 1)",
        26,
        lambda: _conv(5).num_parameters(),
        "Conv(kernel_size=5).num_parameters()",
    ),
    claim(
        "000",
        "Convolutional layer: 100 neurons in a 10x10 array, 5x5 patches",
        "size of the previous layer",
        "(not printed)",
        None,
        None,
        note="the previous layer's size is not given (a 14x14 layer gives 10x10: "
        "Conv(kernel_size=5).output_size(14))",
    ),
    claim(
        "000",
        "Subsampling layer: downsampling n x n by factor 2",
        "pooled size of a 28 x 28 layer",
        "n/2 × n/2",
        (14, 14),
        lambda: Pool(kind="max", kernel_size=2, stride=2).output_size(28),
        "Pool(kind='max', kernel_size=2, stride=2).output_size(28)",
    ),
    claim(
        "000",
        "Subsampling: non-overlapping 2x2 patches",
        "fraction of the data discarded",
        "75%",
        Fraction(3, 4),
        _downsampled_fraction,
        "1 - Pool(kind='max', kernel_size=2, stride=2).activations(28) / 28**2",
    ),
    claim(
        "000",
        "Subsampling: F x F receptive field, stride S",
        "W2 = (W1 - F)/S + 1, H2 likewise, D2 = D1 (every exact case, W1 < 40, F < 8, S < 5)",
        "W2 = (W1 − F)/S + 1",
        True,
        _pool_formula_symbolic,
        "Pool(kind='max', kernel_size=F, stride=S).output_size(W1)",
    ),
    claim(
        "000",
        "Backpropagation from subsampling to convolution layer",
        "max pooling routes delta to the recorded index; mean pooling spreads it uniformly",
        "backpropagate δ only to this pooled neuron",
        True,
        _khan_pool_routing,
        "pool_backward(Pool(kind='max' | 'avg', kernel_size=2, stride=2), x, delta)",
    ),
    claim(
        "000",
        "Backpropagation in a convolutional layer",
        "dL/dx is the delta map convolved with the flipped weights, zero-padded",
        "convolution of the δ-map using flipped weights with zero-padding",
        True,
        _khan_delta_convolution,
        "sympy_gradients(Conv(kernel_size=3, bias=False), 5)",
    ),
    claim(
        "000",
        "Computing gradients: valid convolution of n x n with n x n",
        "size of the result (n = 5)",
        "What will be the size of the result?",
        None,
        lambda: _conv(5).output_size(5),
        "Conv(kernel_size=5).output_size(5)",
    ),
    claim(
        "000",
        "Computing gradients: valid convolution of (n+1) x (n+1) with n x n",
        "size of the result (n = 5)",
        "What will be the size of the result?",
        None,
        lambda: _conv(5).output_size(6),
        "Conv(kernel_size=5).output_size(6)",
    ),
    claim(
        "000",
        "Computing gradients, 1D case: 3x1 filter, deltas δ1..δ5",
        "padded input, deltas and weight derivatives (lengths)",
        "[0 x1 … x5 0] (valid) [δ1 … δ5] → 3 derivatives",
        (7, 5, 3),
        _khan_1d_weight_gradient,
        "grad_weight_op(Conv(dims=1, kernel_size=3, padding=1), 5)",
    ),
    claim(
        "000",
        "Computing gradients, 1D case",
        "dL/db",
        "Verify that ∂L/∂b = Σ δi",
        True,
        _bias_gradient_is_sum,
        "sympy_gradients(Conv(dims=1, kernel_size=3, padding=1), 5)",
    ),
    claim(
        "000",
        "Computing gradients, 2D case (K odd)",
        "pad ⌊K/2⌋ each side, valid convolution with the δ-map gives K x K (K = 1, 3, 5, 7)",
        "K × K array of derivatives",
        True,
        _khan_2d_weight_gradient,
        "grad_weight_op(Conv(kernel_size=K, padding=K // 2), (9, 9))",
    ),
    claim(
        "000",
        "Computing gradients, 2D case",
        "dL/db",
        "sum of the δ-map",
        True,
        lambda: _bias_gradient_is_sum(2),
        "sympy_gradients(Conv(kernel_size=3, padding=1), 4)",
    ),
]
