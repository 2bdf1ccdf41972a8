"""The classic networks of the lectures: LeNet-5, AlexNet, ZFNet and the VGG configurations.

Private: `symconv.arch` re-exports every public name here and ships the networks by name
(`symconv.arch.get`). Each builder lists its layers with `_Stack` and records, in the
network's notes, where a lecture or paper prints a number that differs from the computed one.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import cast

from .._errors import SpecError
from ..spec import Conv, Pool, PoolKind
from ._layers import (
    LRN,
    AdaptiveAvgPool,
    BatchNorm,
    ConvLayer,
    Dropout,
    Inception,
    Layer,
    Linear,
    PoolLayer,
)
from ._network import Network

__all__ = [
    "VGG_CONFIGS",
    "VGG_PRINTED_MILLIONS",
    "alexnet",
    "alexnet_torchvision",
    "lenet5",
    "vgg",
    "zfnet",
]


class _Stack:
    """Builds a layer list, tracking the channel count so each conv gets its `in_channels`."""

    def __init__(self, channels: int) -> None:
        self.channels = channels
        self.layers: list[Layer] = []

    def conv(
        self,
        name: str,
        out: int,
        k: int,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        bias: bool = True,
    ) -> _Stack:
        spec = Conv(
            in_channels=self.channels,
            out_channels=out,
            kernel_size=k,
            stride=stride,
            padding=padding,
            groups=groups,
            bias=bias,
        )
        self.layers.append(ConvLayer(name, spec))
        self.channels = out
        return self

    def pool(
        self,
        name: str,
        k: int,
        stride: int,
        kind: PoolKind = "max",
        ceil_mode: bool = False,
    ) -> _Stack:
        self.layers.append(
            PoolLayer(
                name,
                Pool(
                    kind=kind,
                    kernel_size=k,
                    stride=stride,
                    ceil_mode=ceil_mode,
                ),
            )
        )
        return self

    def add(self, layer: Layer) -> _Stack:
        self.layers.append(layer)
        if isinstance(layer, Inception):
            self.channels = layer.out_channels
        return self


def _n(value: int) -> str:
    return f"{value:,}"


def lenet5() -> Network:
    """LeNet-5 (LeCun et al. 1998) on 1x32x32, with a full C3 and plain subsampling.

    ```python
    >>> [r.parameters for r in lenet5().table().rows if r.parameters]
    [156, 2416, 48120, 10164, 850]

    ```
    """
    s = _Stack(1).conv("C1", 6, 5).pool("S2", 2, 2, kind="avg").conv("C3", 16, 5)
    s.pool("S4", 2, 2, kind="avg").conv("C5", 120, 5)
    s.add(Linear("F6", 84)).add(Linear("output", 10))
    # The paper's C3: 6 maps see 3 of S2's maps, 9 see 4, 1 sees all 6 (its Table I).
    partial = sum(
        Conv(in_channels=c, out_channels=m, kernel_size=5).num_parameters()
        for c, m in ((3, 6), (4, 9), (6, 1))
    )
    full = cast(ConvLayer, s.layers[2]).spec.num_parameters()  # C3, built above
    subsampling = 2 * 6 + 2 * 16  # S2, S4: one trainable coefficient and one bias per map
    output = cast(Linear, s.layers[-1]).num_parameters(84)  # the output layer, built above
    # The paper's trainable parameters: partial C3, trainable subsampling, and an output layer
    # of Euclidean RBF units whose parameter vectors are fixed by hand.
    paper = (
        Network("lenet5", (1, 32, 32), s.layers).table().total_parameters
        - full
        + partial
        + subsampling
        - output
    )
    notes = (
        f"C3 is fully connected to S2 here ({_n(full)} parameters); the 1998 paper's partial "
        f"connection table (6 maps see 3 inputs, 9 see 4, 1 sees 6) gives {_n(partial)}.",
        "S2 and S4 are plain 2x2/2 average pools here; in the paper each map has a trainable "
        f"coefficient and bias ({subsampling} parameters in all).",
        "The paper's output layer is 10 Euclidean RBF units on F6 whose 84-dimensional "
        f"parameter vectors are fixed by hand; here a trainable linear layer ({_n(output)}).",
        f"With the paper's choices the trainable parameters number {_n(paper)}: the paper's "
        "'60,000 trainable free parameters'.",
    )
    return Network(
        "lenet5", (1, 32, 32), s.layers, notes, "LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998)"
    )


def alexnet(grouped: bool = False) -> Network:
    """AlexNet on 227x227x3: the lectures' single-tower version, or the original two-tower one.

    `grouped=True` gives CONV2, CONV4 and CONV5 `groups=2` (each GPU's maps see only the maps
    on the same GPU).

    ```python
    >>> alexnet().table().total_parameters, alexnet(grouped=True).table().total_parameters
    (62378344, 60965224)

    ```
    """
    g = 2 if grouped else 1
    s = _Stack(3).conv("conv1", 96, 11, stride=4).pool("pool1", 3, 2).add(LRN("norm1"))
    s.conv("conv2", 256, 5, padding=2, groups=g).pool("pool2", 3, 2).add(LRN("norm2"))
    s.conv("conv3", 384, 3, padding=1).conv("conv4", 384, 3, padding=1, groups=g)
    s.conv("conv5", 256, 3, padding=1, groups=g).pool("pool3", 3, 2)
    s.add(Linear("fc6", 4096)).add(Linear("fc7", 4096)).add(Linear("fc8", 1000))
    conv1 = cast(ConvLayer, s.layers[0]).spec  # conv1, built above
    weights = math.prod(conv1.weight_shape)
    unused = conv1.fits(224).unused[0]
    notes = [
        f"conv1 has {_n(weights)} weights and {conv1.out_channels} biases, "
        f"{_n(conv1.num_parameters())} parameters: the Kondor lecture's "
        f"'11 X 11 X 3 X 96 = 34848' omits the biases (lecture 8 rounds to 35K).",
        f"The paper says 224x224 inputs, but with 11x11 stride 4 and no padding a 224 input "
        f"leaves {unused} column unused (floor((224 - 11)/4) + 1 = {conv1.output_size(224)[0]});"
        f" 227 gives 55 exactly, as the lectures use.",
    ]
    if grouped:
        notes.append(
            "Two towers: conv2, conv4 and conv5 have groups=2 (the paper's 'about 60 "
            "million parameters')."
        )
    name = "alexnet_grouped" if grouped else "alexnet"
    return Network(
        name, (3, 227, 227), s.layers, tuple(notes), "AlexNet (Krizhevsky, Sutskever, Hinton 2012)"
    )


def alexnet_torchvision() -> Network:
    """torchvision's AlexNet on 224x224x3: the "one weird trick" variant (Krizhevsky 2014).

    It differs from the 2012 paper: conv1 has 64 filters with padding 2 (224 fits), conv2 192,
    conv4 256; no LRN; an adaptive 6x6 average pool (the identity at 224) before the
    classifier, and dropout before fc6 and fc7.

    ```python
    >>> alexnet_torchvision().table().total_parameters
    61100840

    ```
    """
    s = _Stack(3).conv("features.0", 64, 11, stride=4, padding=2).pool("features.2", 3, 2)
    s.conv("features.3", 192, 5, padding=2).pool("features.5", 3, 2)
    s.conv("features.6", 384, 3, padding=1).conv("features.8", 256, 3, padding=1)
    s.conv("features.10", 256, 3, padding=1).pool("features.12", 3, 2)
    s.add(AdaptiveAvgPool("avgpool", 6)).add(Dropout("classifier.0"))
    s.add(Linear("classifier.1", 4096)).add(Dropout("classifier.3"))
    s.add(Linear("classifier.4", 4096)).add(Linear("classifier.6", 1000))
    notes = (
        "torchvision's definition, not the 2012 paper's (alexnet): conv1 64 filters 11x11/4 "
        "pad 2, conv2 192, conv3 384, conv4 256, conv5 256, no LRN, adaptive 6x6 average pool, "
        "dropout before fc6 and fc7. Layer names are torchvision's module names.",
    )
    return Network(
        "alexnet_torchvision", (3, 224, 224), s.layers, notes, "AlexNet as torchvision defines it"
    )


def zfnet() -> Network:
    """ZFNet as the lectures describe it: AlexNet with CONV1 7x7/2 and CONV3-5 of 512, 1024, 512.

    Sizes follow the paper's Figure 3 (224x224 input, maps 110, 55, 26, 13, 13, 13, 6).

    ```python
    >>> [r.volume for r in zfnet().table().rows][:6]
    ['110x110x96', '55x55x96', '55x55x96', '26x26x256', '13x13x256', '13x13x256']

    ```
    """
    s = _Stack(3).conv("conv1", 96, 7, stride=2, padding=1)
    s.pool("pool1", 3, 2, ceil_mode=True).add(LRN("norm1"))
    s.conv("conv2", 256, 5, stride=2).pool("pool2", 3, 2, ceil_mode=True).add(LRN("norm2"))
    s.conv("conv3", 512, 3, padding=1).conv("conv4", 1024, 3, padding=1)
    s.conv("conv5", 512, 3, padding=1).pool("pool3", 3, 2, ceil_mode=True)
    s.add(Linear("fc6", 4096)).add(Linear("fc7", 4096)).add(Linear("fc8", 1000))
    # The lecture taken literally: AlexNet at 227 with only conv1 and the conv3-5 widths changed.
    literal = _Stack(3).conv("conv1", 96, 7, stride=2).pool("pool1", 3, 2)
    literal.conv("conv2", 256, 5, padding=2).pool("pool2", 3, 2)
    literal.conv("conv3", 512, 3, padding=1).conv("conv4", 1024, 3, padding=1)
    literal.conv("conv5", 512, 3, padding=1).pool("pool3", 3, 2)
    literal.add(Linear("fc6", 4096)).add(Linear("fc7", 4096)).add(Linear("fc8", 1000))
    lit = Network("zfnet_literal", (3, 227, 227), literal.layers).table()
    notes = (
        "Choices: the paper's 224x224 input; conv1 7x7/2 with padding 1 (-> 110); 3x3/2 max "
        "pools in ceil mode (110 -> 55, 26 -> 13, 13 -> 6); conv2 5x5 stride 2, no padding "
        "(55 -> 26); conv3-5 3x3 pad 1; LRN after pool1 and pool2 as in AlexNet.",
        "conv3-5 use 512, 1024, 512 filters as the lectures say; the paper's Figure 3 model has "
        "384, 384, 256 (512, 1024, 512 is a larger variant in its Table 2).",
        f"'AlexNet but CONV1 7x7 stride 2' taken literally (227 input, conv2 stride 1 pad 2) gives "
        f"{lit.row('pool3').volume} before fc6 and {_n(lit.total_parameters)} parameters, "
        "not the paper's 6x6 maps.",
    )
    return Network("zfnet", (3, 224, 224), s.layers, notes, "ZFNet (Zeiler and Fergus 2013)")


# VGG: numbers are 3x3 convs, "1:n" a 1x1 conv, "M" a 2x2/2 max pool, "LRN" a norm layer.
# fmt: off
VGG_CONFIGS: dict[str, tuple[int | str, ...]] = {
    "A": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "A-LRN": (64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "B": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "C": (64, 64, "M", 128, 128, "M", 256, 256, "1:256", "M", 512, 512, "1:512", "M",
          512, 512, "1:512", "M"),
    "D": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "E": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"),
}
# fmt: on
# Table 2 of Simonyan and Zisserman (2014), "Number of parameters (in millions)".
VGG_PRINTED_MILLIONS: dict[str, int] = {
    "A": 133,
    "A-LRN": 133,
    "B": 133,
    "C": 134,
    "D": 138,
    "E": 144,
}


def vgg(config: str, name: str | None = None, batch_norm: bool = False) -> Network:
    """A VGG configuration, `"A"`, `"A-LRN"`, `"B"`, `"C"`, `"D"` or `"E"`, on 224x224x3.

    `batch_norm=True` (torchvision's `vgg16_bn`, ...) puts a batch norm after every conv
    (which keeps its bias): $2C$ more parameters per conv.

    ```python
    >>> vgg("D").table().total_parameters, vgg("D", batch_norm=True).table().total_parameters
    (138357544, 138365992)

    ```
    """
    if config not in VGG_CONFIGS:
        raise SpecError(f"vgg: config must be one of {', '.join(VGG_CONFIGS)}, got {config!r}")
    s, block, index = _Stack(3), 1, 1
    for item in VGG_CONFIGS[config]:
        if item == "M":
            s.pool(f"pool{block}", 2, 2)
            block, index = block + 1, 1
        elif item == "LRN":
            s.add(LRN(f"norm{block}"))
        else:
            k, width = (1, int(item[2:])) if isinstance(item, str) else (3, item)
            s.conv(f"conv{block}_{index}", width, k, padding=(k - 1) // 2)
            if batch_norm:
                s.add(BatchNorm(f"bn{block}_{index}"))
            index += 1
    s.add(Linear("fc6", 4096)).add(Linear("fc7", 4096)).add(Linear("fc8", 1000))
    name = name or "vgg_" + config.lower().replace("-", "_")
    net = Network(
        name,
        (3, 224, 224),
        s.layers,
        (),
        f"VGG configuration {config} (Simonyan and Zisserman 2014)"
        + (", with batch norm" if batch_norm else ""),
    )
    table = net.table()
    notes = []
    printed = VGG_PRINTED_MILLIONS[config]
    if batch_norm:
        notes.append(
            "Batch norm after every conv (torchvision's _bn variants, not in the 2014 paper): "
            "2 parameters per channel (scale and shift; the running statistics are buffers)."
        )
    elif round(table.total_parameters / 1e6) != printed:
        notes.append(
            f"Table 2 prints {printed} million parameters; computed {_n(table.total_parameters)}."
        )
    if config == "D" and not batch_norm:
        notes.append(
            f"Forward activations per image, input included: {_n(table.total_activations)} "
            f"values, {table.total_memory / 1e6:.1f} MB in float32; CS231n (quoted in the Kondor "
            "lecture) prints '24 Million X 4 bytes ~ 93 MB' (24M x 4 bytes would be 96 MB)."
        )
    return replace(net, notes=tuple(notes))
