"""The claims of lecture 002 (Kondor), in printed order."""

from __future__ import annotations

import functools

from .. import arch
from ..spec import Conv, Pool
from ._calls import (
    _conv,
    _convolution_theorem,
    _cross_correlation_is_flipped_convolution,
    _formula_grid,
    _same_preserves,
    _vgg_millions,
)
from ._claim import Claim, claim

CLAIMS: list[Claim] = [
    # 002 Kondor
    claim(
        "002",
        "Convolution and correlation",
        "f ∘ g = f * g⁻ (discrete, k = 2, 3, 4, n = 7)",
        "f ∘ g = f * g⁻ where g⁻(x) = g(−x)",
        True,
        _cross_correlation_is_flipped_convolution,
        "toeplitz(Conv(dims=1, kernel_size=k, flip=True), 7) with the kernel reversed",
    ),
    claim(
        "002",
        "Convolution theorem",
        "the DFT of a circular convolution is the product of the DFTs",
        "(f * g)^(k) = f^(k) g^(k)",
        True,
        _convolution_theorem,
        "fourier_derivation(Conv(dims=1, kernel_size=3)).verify()",
    ),
    claim(
        "002",
        "Discrete convolution in 2D: the 2D DFT",
        "cost",
        "O(N² log N)",
        None,
        None,
        note="a complexity class; the engine counts the FFT's operations for its cost model "
        "(numeric.algorithms), not asymptotics",
    ),
    claim(
        "002",
        "Output Size: (N - K)/S + 1",
        "N = 6, K = 3, S = 1",
        "Output size = 4",
        (4, 4),
        lambda: _conv(3).output_size(6),
        "Conv(kernel_size=3).output_size(6)",
    ),
    claim(
        "002",
        "Output Size: (N - K)/S + 1",
        "N = 8, K = 3, S = 1",
        "output size is 6",
        (6, 6),
        lambda: _conv(3).output_size(8),
        "Conv(kernel_size=3).output_size(8)",
    ),
    claim(
        "002",
        "Zero Padding",
        "padding (K - 1)/2 at stride 1 for K = 3, 5, 7",
        "zero padding with (K − 1)/2 to preserve size",
        (1, 2, 3),
        _same_preserves,
        "Conv(kernel_size=K, padding='same').pads",
    ),
    claim(
        "002",
        "Learn Multiple Filters",
        "feature maps from 100 filters",
        "100 feature maps",
        100,
        lambda: _conv(3, cin=3, cout=100).out_channels,
        "Conv(in_channels=3, out_channels=100, kernel_size=3)",
    ),
    claim(
        "002",
        "In General: Output Size",
        "W2 = (W1 - K)/S + 1 (every exact case)",
        "W2 = (W1 − K)/S + 1",
        True,
        _formula_grid,
        "Conv(kernel_size=K, stride=S).output_size(W1)",
    ),
    claim(
        "002",
        "Convolutional Layer Parameters: 28x28x3, 100 3x3 filters, stride 1",
        "zero padding needed to preserve size",
        "What is the zero padding needed?",
        None,
        lambda: Conv(in_channels=3, out_channels=100, kernel_size=3, padding="same").pads[0],
        "Conv(in_channels=3, out_channels=100, kernel_size=3, padding='same').pads",
    ),
    claim(
        "002",
        "LeNet-5: filters 5x5 stride 1, pooling 2x2 stride 2",
        "parameters",
        "How many parameters?",
        None,
        lambda: arch.get("lenet5").table().total_parameters,
        "arch.get('lenet5').table().total_parameters",
    ),
    claim(
        "002",
        "AlexNet: 227 x 227 x 3, 96 filters K = 11, stride 4",
        "width and height",
        "(227 − 11)/4 + 1 = 55",
        (55, 55),
        lambda: _conv(11, s=4).output_size(227),
        "Conv(kernel_size=11, stride=4).output_size(227)",
    ),
    claim(
        "002",
        "AlexNet: pooling 3 X 3, stride 2",
        "size of output volume",
        "27",
        (27, 27),
        lambda: Pool(kind="max", kernel_size=3, stride=2).output_size(55),
        "Pool(kind='max', kernel_size=3, stride=2).output_size(55)",
    ),
    claim(
        "002",
        "AlexNet: pooling",
        "parameters",
        "Number of parameters?",
        None,
        lambda: Pool(kind="max", kernel_size=3, stride=2).num_parameters(),
        "Pool(kind='max', kernel_size=3, stride=2).num_parameters()",
    ),
    claim(
        "002",
        "ImageNet 2013 (ZF)",
        "CONV1; next three conv layers",
        "7 X 7 stride 2; 512, 1024, 512",
        ("conv 7x7/2 pad 1, 96", 512, 1024, 512),
        lambda: (
            arch.get("zfnet").table().row("conv1").layer,
            *(arch.get("zfnet").table().row(f"conv{i}").shape[0] for i in (3, 4, 5)),
        ),
        "arch.get('zfnet').table()",
    ),
    claim(
        "002",
        "ImageNet 2013, VGG, GoogLeNet: error rates",
        "top-5 error",
        "14.8% (from 15.4%), 7.3%, 6.7%",
        None,
        None,
        note="benchmark results, not arithmetic",
    ),
    *(
        claim(
            "002",
            f"VGGNet Table 2: column {cfg}",
            "parameters (millions)",
            str(m),
            m * 10**6,
            functools.partial(_vgg_millions, cfg),
            f"arch.vgg('{cfg}').table().total_parameters",
            ulp=10**6,
            note="rounded to the nearest million",
        )
        for cfg, m in arch.VGG_PRINTED_MILLIONS.items()
    ),
    *(
        claim(
            "002",
            f"VGGNet Table 1: column {cfg}",
            "weight layers",
            f"{n} weight layers",
            n,
            lambda cfg=cfg: arch.vgg(cfg).table().depth,  # type: ignore[misc]  # mypy infers no lambda with defaults
            f"arch.vgg('{cfg}').table().depth",
        )
        for cfg, n in [("A", 11), ("A-LRN", 11), ("B", 13), ("C", 16), ("D", 16), ("E", 19)]
    ),
    claim(
        "002",
        "VGGNet: total number of parameters",
        "parameters of VGG-16",
        "138 Million",
        138 * 10**6,
        lambda: arch.get("vgg16").table().total_parameters,
        "arch.get('vgg16').table().total_parameters",
        ulp=10**6,
    ),
    claim(
        "002",
        "VGGNet: observations",
        "the first two blocks hold most of the activation memory",
        "Early convolutional layers take most memory",
        True,
        lambda: (
            lambda t: 2 * sum(r.memory for r in t.rows[:6] if r.kind == "conv") > t.total_memory
        )(arch.get("vgg16").table()),
        "arch.get('vgg16').table().rows[...].memory",
    ),
    claim(
        "002",
        "VGGNet: observations",
        "share of the parameters in the fully connected layers",
        "Most parameters are in the fully connected layers",
        True,
        lambda: (
            lambda t: (
                2 * sum(r.parameters for r in t.rows if r.kind == "linear") > t.total_parameters
            )
        )(arch.get("vgg16").table()),
        "arch.get('vgg16').table().rows[...].parameters",
    ),
    claim(
        "002",
        "VGGNet: memory",
        "backward pass",
        "the memory usage is doubled per image",
        None,
        None,
        note="the engine does not model training memory",
    ),
]
