"""Networks for small budgets: MobileNet v1 and v2, EfficientNet-B0, SqueezeNet, DenseNet-121.

Private: `symconv.arch` ships them by name. Where torchvision has the network, layer names
are its module names (`features.1.conv.0.0`).
"""

from __future__ import annotations

from ._graph import Graph, printed_totals
from ._network import Network

__all__ = ["densenet121", "efficientnet_b0", "mobilenet_v1", "mobilenet_v2", "squeezenet"]


def _conv_bn(
    g: Graph,
    prefix: str,
    out: int,
    k: int,
    stride: int = 1,
    groups: int = 1,
    act: str | None = "relu",
) -> str:
    """torchvision's `Conv2dNormActivation`: conv (no bias), batch norm, activation."""
    g.conv(f"{prefix}.0", out, k, stride, groups=groups)
    last = g.bn(f"{prefix}.1")
    return g.act(f"{prefix}.2", act) if act else last


def mobilenet_v1() -> Network:
    """MobileNet (Howard et al. 2017), Table 1, width multiplier 1, 224x224x3: a 3x3/2 conv,
    then 13 depthwise-separable layers (3x3 depthwise conv, BN, ReLU; 1x1 pointwise conv, BN,
    ReLU), global average pool, a 1000-way fc.

    ```python
    >>> mobilenet_v1().table().total_parameters
    4231976

    ```
    """
    g = Graph(3)
    g.block = "conv1"
    _conv_bn(g, "conv1", 32, 3, 2)
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5]
    for i, (out, stride) in enumerate([*plan, (1024, 2), (1024, 1)], 1):
        g.block = f"layer{i}"
        _conv_bn(g, "dw", g.channels[g.last], 3, stride, groups=g.channels[g.last])
        _conv_bn(g, "pw", out, 1)
    g.block = ""
    g.gap("avgpool")
    g.flatten()
    g.linear("fc", 1000)
    notes = (
        "Each layer is a depthwise-separable convolution: a 3x3 depthwise conv (groups = "
        "channels) then a 1x1 pointwise conv, each with batch norm and ReLU; its cost relative "
        "to a full 3x3 conv is 1/C_out + 1/9 (symconv derive depthwise-separable).",
        printed_totals(g, "569 million", "4.2 million"),
        "torchvision has no MobileNet v1; this follows the paper's Table 1.",
    )
    return Network(
        "mobilenet_v1", (3, 224, 224), g.nodes, notes, "MobileNet v1 (Howard et al. 2017)"
    )


def mobilenet_v2() -> Network:
    """MobileNetV2 (Sandler et al. 2018), Table 2, as torchvision defines it: inverted residual
    blocks (1x1 expansion by t, 3x3 depthwise, linear 1x1 projection; a residual add where
    the stride is 1 and the channels match), ReLU6.

    ```python
    >>> mobilenet_v2().table().total_parameters
    3504872

    ```
    """
    g = Graph(3)
    g.block = "features.0"
    _conv_bn(g, "features.0", 32, 3, 2, act="relu6")
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1)]
    settings += [(6, 160, 3, 2), (6, 320, 1, 1)]
    index = 1
    for t, c, n, s in settings:
        for i in range(n):
            g.block = f"features.{index}"
            x, c_in, stride = g.last, g.channels[g.last], s if i == 0 else 1
            parts = []
            if t != 1:
                _conv_bn(g, f"features.{index}.conv.0", c_in * t, 1, act="relu6")
                parts.append(0)
            j = len(parts)
            hidden = g.channels[g.last]
            _conv_bn(g, f"features.{index}.conv.{j}", hidden, 3, stride, hidden, act="relu6")
            g.conv(f"conv.{j + 1}", c, 1)
            out = g.bn(f"conv.{j + 2}")
            if stride == 1 and c_in == c:
                g.sum("add", x, out)
            index += 1
    g.block = "features.18"
    _conv_bn(g, "features.18", 1280, 1, act="relu6")
    g.block = ""
    g.gap("avgpool")
    g.flatten()
    g.dropout("classifier.0", 0.2)
    g.linear("classifier.1", 1000)
    notes = (
        "The paper's Table 2 (t, c, n, s); torchvision's definition agrees layer by layer and "
        "its module names are the layer names. Each block's expansion, depthwise conv and "
        "linear projection is an inverted residual; the depthwise part costs 1/C_out + 1/9 "
        "of a full conv (symconv derive depthwise-separable).",
        printed_totals(g, "300M", "3.4M") + " (3.4M: the count without batch norm, truncated)",
    )
    return Network(
        "mobilenet_v2", (3, 224, 224), g.nodes, notes, "MobileNetV2 (Sandler et al. 2018)"
    )


def efficientnet_b0() -> Network:
    """EfficientNet-B0 (Tan and Le 2019), Table 1, as torchvision defines it: MBConv blocks
    (inverted residuals with squeeze-and-excitation, SiLU), 224x224x3.

    ```python
    >>> efficientnet_b0().table().total_parameters
    5288548

    ```
    """
    g = Graph(3)
    g.block = "features.0"
    _conv_bn(g, "features.0", 32, 3, 2, act="silu")
    stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3)]
    stages += [(6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
    for s, (t, k, stride, c, n) in enumerate(stages, 1):
        for i in range(n):
            p = f"features.{s}.{i}"
            g.block = p
            x, c_in = g.last, g.channels[g.last]
            j = 0
            if t != 1:
                _conv_bn(g, f"{p}.block.0", c_in * t, 1, act="silu")
                j = 1
            hidden = g.channels[g.last]
            dw = _conv_bn(g, f"{p}.block.{j}", hidden, k, stride if i == 0 else 1, hidden, "silu")
            se = f"{p}.block.{j + 1}"
            g.gap(f"{se}.avgpool")
            g.conv(f"{se}.fc1", max(1, c_in // 4), 1, bias=True, src=g.last)
            g.act(f"{se}.activation", "silu")
            g.conv(f"{se}.fc2", hidden, 1, bias=True)
            gate = g.act(f"{se}.scale_activation", "sigmoid", inplace=False)
            g.scale(f"{se}.scale", dw, gate)
            out = _conv_bn(g, f"{p}.block.{j + 2}", c, 1, act=None)
            if (stride if i == 0 else 1) == 1 and c_in == c:
                g.sum("add", x, out)
    g.block = "features.8"
    _conv_bn(g, "features.8", 1280, 1, act="silu")
    g.block = ""
    g.gap("avgpool")
    g.flatten()
    g.dropout("classifier.0", 0.2)
    g.linear("classifier.1", 1000)
    notes = (
        "The paper's Table 1 stages (MBConv1 3x3, MBConv6 3x3/5x5), as torchvision defines "
        "them: squeeze-and-excitation to a quarter of the block's input channels, SiLU; "
        "stochastic depth (training only) adds nothing.",
        printed_totals(g, "0.39B", "5.3M"),
    )
    return Network(
        "efficientnet_b0", (3, 224, 224), g.nodes, notes, "EfficientNet-B0 (Tan and Le 2019)"
    )


def _fire(g: Graph, prefix: str, squeeze: int, e1: int, e3: int) -> None:
    g.conv(f"{prefix}.squeeze", squeeze, 1, bias=True)
    s = g.act(f"{prefix}.squeeze_activation")
    g.conv(f"{prefix}.expand1x1", e1, 1, bias=True, src=s)
    a = g.act(f"{prefix}.expand1x1_activation")
    g.conv(f"{prefix}.expand3x3", e3, 3, bias=True, src=s)
    b = g.act(f"{prefix}.expand3x3_activation")
    g.cat(f"{prefix}.cat", a, b)


def squeezenet(version: str = "1_0") -> Network:
    """SqueezeNet 1.0 (Iandola et al. 2016, Table 1) or 1.1 (its released revision), as
    torchvision defines them, on 224x224x3: fire modules (1x1 squeeze, then 1x1 and 3x3
    expand, concatenated), no fully connected layer.

    ```python
    >>> squeezenet("1_0").table().total_parameters, squeezenet("1_1").table().total_parameters
    (1248424, 1235496)

    ```
    """
    g = Graph(3)
    if version == "1_0":
        g.conv("features.0", 96, 7, 2, 0, bias=True)
        plan: list = ["M", (16, 64), (16, 64), (32, 128), "M", (32, 128), (48, 192), (48, 192)]
        plan += [(64, 256), "M", (64, 256)]
    else:
        g.conv("features.0", 64, 3, 2, 0, bias=True)
        plan = ["M", (16, 64), (16, 64), "M", (32, 128), (32, 128), "M", (48, 192), (48, 192)]
        plan += [(64, 256), (64, 256)]
    g.act("features.1")
    for i, item in enumerate(plan, 2):
        if item == "M":
            g.block = ""
            g.pool(f"features.{i}", 3, 2, ceil_mode=True)
        else:
            g.block = f"features.{i}"
            _fire(g, f"features.{i}", item[0], item[1], item[1])
    g.block = ""
    g.dropout("classifier.0", 0.5)
    g.conv("classifier.1", 1000, 1, bias=True)
    g.act("classifier.2")
    g.gap("classifier.3")
    g.flatten()
    classifier = (
        "The classifier is a 1x1 conv to 1000 channels and a global average pool; there is no "
        "fully connected layer."
    )
    if version == "1_0":
        notes = [
            "The paper's Table 1 (no bypass connections); torchvision's definition agrees layer "
            "by layer and its module names are the layer names. " + classifier,
            "The paper's Table 1 gives conv1 a 111x111 output, which needs a 227x227 input; "
            "at torchvision's 224 it is 109x109 (parameters do not depend on the input).",
        ]
    else:
        notes = [
            "SqueezeNet 1.1 (the authors' revision, not in the paper) as torchvision defines "
            "it: conv1 64 3x3/2 filters and earlier pooling, about 2.4x fewer MACs than 1.0 for "
            "the same accuracy; layer names are torchvision's module names. " + classifier,
        ]
    name = f"squeezenet{version}"
    return Network(
        name, (3, 224, 224), g.nodes, tuple(notes), f"SqueezeNet {version.replace('_', '.')}"
    )


def densenet121() -> Network:
    """DenseNet-121 (Huang et al. 2017), Table 1, as torchvision defines it: growth rate 32,
    bottleneck width 4 x 32, compression 0.5, dense blocks of 6, 12, 24, 16 layers.

    ```python
    >>> densenet121().table().total_parameters
    7978856

    ```
    """
    g = Graph(3)
    g.conv("features.conv0", 64, 7, 2, 3)
    g.bn("features.norm0")
    g.act("features.relu0")
    g.pool("features.pool0", 3, 2, 1)
    for b, n in enumerate((6, 12, 24, 16), 1):
        for i in range(1, n + 1):
            g.block = f"features.denseblock{b}.denselayer{i}"
            x = g.last
            g.bn("norm1")
            g.act("relu1")
            g.conv("conv1", 4 * 32, 1)
            g.bn("norm2")
            g.act("relu2")
            new = g.conv("conv2", 32, 3)
            g.cat("cat", x, new)
        if b < 4:
            g.block = f"features.transition{b}"
            g.bn("norm")
            g.act("relu")
            g.conv("conv", g.channels[g.last] // 2, 1)
            g.pool("pool", 2, 2, kind="avg")
    g.block = ""
    g.bn("features.norm5")
    g.act("relu")
    g.gap("avgpool")
    g.flatten()
    g.linear("classifier", 1000)
    notes = (
        "The paper's Table 1 (DenseNet-BC: bottleneck layers, compression 0.5); torchvision's "
        "definition agrees layer by layer and its module names are the layer names.",
        "Each dense layer reads the concatenation of the block's input and every earlier "
        "layer's 32 new maps (BN-ReLU-1x1 conv to 128, BN-ReLU-3x3 conv to 32); the table "
        "grows the concatenation one layer at a time ('cat' rows), which has the same shapes "
        "as torchvision's concatenation of the list.",
        "Depth 121: conv0, 2 x 58 dense-layer convs, 3 transition convs and the classifier.",
    )
    return Network("densenet121", (3, 224, 224), g.nodes, notes, "DenseNet-121 (Huang et al. 2017)")
