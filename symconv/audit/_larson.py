"""The claims of lecture 003 (Larson), in printed order."""

from __future__ import annotations

import functools

from ._calls import (
    _larson_df,
    _larson_fc,
    _larson_fc_symbolic,
    _larson_full_convolution,
    _larson_o11,
)
from ._claim import Claim, claim

CLAIMS: list[Claim] = [
    # 003 Larson
    claim(
        "003",
        "Simple Example: From Fully Connected to CNN (9x9 image, 20 hidden, 10 outputs)",
        "parameters without biases",
        "9²x20 + (20x10) = 1,820",
        1_820,
        _larson_fc,
        "Linear('hidden', 20, bias=False).num_parameters(81) + Linear('output', 10, bias=False)"
        ".num_parameters(20)",
    ),
    claim(
        "003",
        "Simple Example: From Fully Connected to CNN",
        "parameters for a K x K image",
        "(K² × 20) + (20x10) = 200 + 20 K²",
        True,
        _larson_fc_symbolic,
        "the same with K a SymPy symbol",
    ),
    claim(
        "003",
        "Gradient of Convolution: 2x2 filter on a 3x3 input",
        "O11",
        "O11 = X11F11 + X12F12 + X21F21 + X22F22",
        True,
        _larson_o11,
        "sympy_gradients(Conv(kernel_size=2, bias=False), 3)",
    ),
    *(
        claim(
            "003",
            "Gradient of Convolution",
            f"∂L/∂F{i}{j}",
            f"∂L/∂F{i}{j} = Σ ∂L/∂Oab · X(a+{i - 1})(b+{j - 1})",
            True,
            functools.partial(_larson_df, i, j),
            "sympy_gradients(Conv(kernel_size=2, bias=False), 3)",
        )
        for i in (1, 2)
        for j in (1, 2)
    ),
    claim(
        "003",
        "Gradient of Convolution",
        "∂L/∂X (every input)",
        "∂L/∂X = Full Convolution of ∂L/∂O with the 180°-rotated filter",
        True,
        _larson_full_convolution,
        "sympy_gradients(Conv(kernel_size=2, bias=False), 3)",
    ),
]
