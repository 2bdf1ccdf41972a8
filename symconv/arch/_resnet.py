"""ResNet (He et al. 2015) and its descendants: Wide ResNet, ResNeXt, SE-ResNet.

Private: `symconv.arch` ships them by name. Layer names are torchvision's (`layer1.0.conv1`).
"""

from __future__ import annotations

from ._graph import Graph, printed_totals
from ._network import Network

__all__ = ["resnet", "se_resnet50"]

_DEPTHS = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
}


def squeeze_excite(g: Graph, x: str, channels: int, reduction: int = 16) -> str:
    """Squeeze-and-excitation (Hu et al. 2018) on `x`: global average pool, 1x1 conv (the
    paper's FC) to `channels // reduction` with ReLU, 1x1 conv back with a sigmoid, and the
    channel-wise rescaling of `x`; the two FC layers have biases."""
    g.gap("se.avgpool", src=x)
    g.conv("se.fc1", channels // reduction, 1, bias=True)
    g.act("se.relu")
    g.conv("se.fc2", channels, 1, bias=True)
    gate = g.act("se.sigmoid", "sigmoid", inplace=False)
    return g.scale("se.scale", x, gate)


def _basic(g: Graph, planes: int, stride: int) -> None:
    x, c_in = g.last, g.channels[g.last]
    g.conv("conv1", planes, 3, stride)
    g.bn("bn1")
    g.act("relu")
    g.conv("conv2", planes, 3)
    out = g.bn("bn2")
    short = x
    if stride != 1 or c_in != planes:
        g.conv("downsample.0", planes, 1, stride, src=x)
        short = g.bn("downsample.1")
    g.sum("add", out, short)
    g.act("relu_1")


def _bottleneck(
    g: Graph, planes: int, stride: int, groups: int, width_per_group: int, paper: bool, se: bool
) -> None:
    x, c_in = g.last, g.channels[g.last]
    width = int(planes * (width_per_group / 64)) * groups
    s1, s3 = (stride, 1) if paper else (1, stride)
    g.conv("conv1", width, 1, s1)
    g.bn("bn1")
    g.act("relu")
    g.conv("conv2", width, 3, s3, groups=groups)
    g.bn("bn2")
    g.act("relu_1")
    g.conv("conv3", planes * 4, 1)
    out = g.bn("bn3")
    if se:
        out = squeeze_excite(g, out, planes * 4)
    short = x
    if stride != 1 or c_in != planes * 4:
        g.conv("downsample.0", planes * 4, 1, stride, src=x)
        short = g.bn("downsample.1")
    g.sum("add", out, short)
    g.act("relu_2")


def _resnet_graph(
    depth: int, groups: int = 1, width_per_group: int = 64, paper: bool = True, se: bool = False
) -> Graph:
    g = Graph(3)
    g.conv("conv1", 64, 7, 2, 3)
    g.bn("bn1")
    g.act("relu")
    g.pool("maxpool", 3, 2, 1)
    for stage, (n, planes) in enumerate(zip(_DEPTHS[depth], (64, 128, 256, 512), strict=True), 1):
        for i in range(n):
            g.block = f"layer{stage}.{i}"
            stride = 2 if stage > 1 and i == 0 else 1
            if depth < 50:
                _basic(g, planes, stride)
            else:
                _bottleneck(g, planes, stride, groups, width_per_group, paper, se)
    g.block = ""
    g.gap("avgpool")
    g.flatten()
    g.linear("fc", 1000)
    return g


_PAPER = (
    "He, Zhang, Ren, Sun (2015), 'Deep Residual Learning for Image Recognition', Table 1: "
    "conv1 7x7/2, 3x3/2 max pool, four stages, global average pool, 1000-way fc; batch norm "
    "after every conv; projection shortcuts (option B: 1x1 conv and batch norm) where the "
    "shape changes, identity shortcuts elsewhere."
)


def resnet(depth: int, variant: str = "paper") -> Network:
    """ResNet-18, 34, 50, 101 or 152 on 224x224x3.

    `variant="paper"`: the paper's bottleneck downsamples in its first 1x1 conv ("performed
    by conv3_1, conv4_1, and conv5_1 with a stride of 2", as the authors' released models
    do); `"torchvision"` strides the 3x3 conv instead ("ResNet v1.5"): the same parameters,
    more MACs. `"wide"` is Wide ResNet-50-2 (Zagoruyko and Komodakis 2016: the bottleneck's
    inner width doubled), `"resnext"` ResNeXt-50 32x4d (Xie et al. 2017: 3x3 convs in 32
    groups of width 4 per group at the first stage), both as torchvision defines them.

    ```python
    >>> resnet(50).table().total_parameters
    25557032

    ```
    """
    kw = {
        "paper": {},
        "torchvision": {"paper": False},
        "wide": {"paper": False, "width_per_group": 128},
        "resnext": {"paper": False, "groups": 32, "width_per_group": 4},
    }[variant]
    g = _resnet_graph(depth, **kw)  # type: ignore[arg-type]  # kw: mixed int/bool values
    name = {
        "paper": f"resnet{depth}",
        "torchvision": f"resnet{depth}_torchvision",
        "wide": f"wide_resnet{depth}_2",
        "resnext": f"resnext{depth}_32x4d",
    }[variant]
    notes = [_PAPER]
    if variant == "paper":
        printed = {18: "1.8", 34: "3.6", 50: "3.8", 101: "7.6", 152: "11.3"}[depth]
        notes.append(
            printed_totals(g, f"{printed}x10^9 ('FLOPs', agreeing when truncated)", None, "Table 1")
        )
    if depth >= 50 and variant == "paper":
        tv = _resnet_graph(depth, paper=False)
        macs = Network("tv", (3, 224, 224), tv.nodes).table().total_macs
        notes.append(
            "Downsampling bottlenecks stride their first 1x1 conv, as in the paper and its "
            f"released models; torchvision strides the 3x3 conv (resnet{depth}_torchvision, "
            f"'v1.5'): the same parameters, {macs:,} MACs."
        )
    elif variant == "torchvision":
        notes.append("torchvision's 'v1.5': the 3x3 conv of a downsampling bottleneck strides.")
    elif variant == "wide":
        notes.append(
            "Wide ResNet-50-2 as torchvision (and the paper's ImageNet WRN-50-2-bottleneck) "
            "defines it: each bottleneck's 1x1-3x3-1x1 inner width doubled; the 3x3 strides."
        )
    elif variant == "resnext":
        notes.append(
            "ResNeXt-50 (32x4d) as torchvision defines it: bottleneck width 2x the ResNet one, "
            "its 3x3 conv in 32 groups (symconv derive grouped-conv); the 3x3 strides."
        )
    if depth >= 50:
        notes.append(
            "Each bottleneck's 1x1 convs cut the channels before the 3x3 conv and restore them "
            "after (symconv derive bottleneck)."
        )
    title = {
        "paper": f"ResNet-{depth} (He et al. 2015)",
        "torchvision": f"ResNet-{depth} as torchvision defines it (v1.5)",
        "wide": f"Wide ResNet-{depth}-2 (Zagoruyko and Komodakis 2016), torchvision",
        "resnext": f"ResNeXt-{depth} 32x4d (Xie et al. 2017), torchvision",
    }[variant]
    return Network(name, (3, 224, 224), g.nodes, tuple(notes), title)


def se_resnet50() -> Network:
    """SE-ResNet-50 (Hu, Shen, Sun 2018): ResNet-50 with a squeeze-and-excitation module
    (reduction 16) on each bottleneck's residual branch before the addition.

    ```python
    >>> se_resnet50().table().total_parameters
    28088024

    ```
    """
    g = _resnet_graph(50, se=True)
    se = Network("se", (3, 224, 224), g.nodes).table()
    plain = Network("plain", (3, 224, 224), _resnet_graph(50).nodes).table()
    extra = se.total_parameters - plain.total_parameters
    notes = (
        "Hu, Shen, Sun, 'Squeeze-and-Excitation Networks' (2018): SE on the residual branch, "
        "before the sum with the shortcut (their Figure 3), reduction ratio r = 16, the FC "
        "layers as 1x1 convs with biases; the released model strides the first 1x1 conv.",
        "The SE modules add about 10% to ResNet-50's parameters (the paper: '~2.5 million "
        "additional parameters'; computed "
        f"{extra:,}); their MACs are small (all on 1x1 maps).",
        printed_totals(g, "about 3.87x10^9 ('GFLOPs', 0.26% more than ResNet-50's 3.86)")
        + f" The SE modules' conv and linear multiply-adds add "
        f"{se.total_macs / plain.total_macs - 1:.2%} "
        "to ResNet-50's; the paper does not say which operations its 0.26% counts.",
        "Depth counts layers with weights on the longest path: each SE module's two FC layers "
        "lie on it (50 + 2 x 16 = 82); the paper keeps ResNet-50's name.",
    )
    return Network("senet", (3, 224, 224), g.nodes, notes, "SE-ResNet-50 (Hu et al. 2018)")
