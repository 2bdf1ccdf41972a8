"""The case-study networks as graphs (ResNet, DenseNet, MobileNets, EfficientNet, SqueezeNet,
SE-ResNet, VGG with batch norm) against torch, layer by layer.

Each network is written again here with plain `torch.nn` modules from its paper's description
(no torchvision, not generated from `symconv.arch`), with torchvision's module names. On the
meta device, every module with parameters must match the table's row of the same name: its
parameter count, its output shape (a forward hook) and its multiply-adds (from the hooked
output's size and the module's weight shape).
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable

import pytest

from symconv import SpecError, arch

torch = pytest.importorskip("torch")
nn = torch.nn


# -- building blocks ------------------------------------------------------------------------------
def conv_bn_act(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, act=nn.ReLU):
    """torchvision's Conv2dNormActivation: conv (no bias), batch norm, activation."""
    layers = [
        nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    return nn.Sequential(*layers, *([act(inplace=True)] if act else []))


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, squeeze: int, act=nn.ReLU) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.act = act()
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(self.act(self.fc1(self.avgpool(x)))))


class Basic(nn.Module):
    def __init__(self, c_in: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or c_in != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (self.downsample(x) if self.downsample else x))


class Bottleneck(nn.Module):
    def __init__(
        self, c_in: int, planes: int, stride: int, groups: int, base: int, paper: bool, se: bool
    ) -> None:
        super().__init__()
        width = planes * base // 64 * groups
        s1, s3 = (stride, 1) if paper else (1, stride)
        self.conv1 = nn.Conv2d(c_in, width, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, s3, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, 4 * planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * planes)
        self.se = SqueezeExcite(4 * planes, 4 * planes // 16) if se else None
        self.downsample = None
        if stride != 1 or c_in != 4 * planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, 4 * planes, 1, stride, bias=False), nn.BatchNorm2d(4 * planes)
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn3(self.conv3(torch.relu(self.bn2(self.conv2(out)))))
        out = self.se(out) if self.se else out
        return torch.relu(out + (self.downsample(x) if self.downsample else x))


class ResNet(nn.Module):
    """He et al. (2015) Table 1; `paper=False` strides the 3x3 conv (torchvision)."""

    def __init__(
        self,
        blocks: tuple[int, ...],
        bottleneck: bool,
        groups: int = 1,
        base: int = 64,
        paper: bool = True,
        se: bool = False,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c = 64
        for stage, (n, planes) in enumerate(zip(blocks, (64, 128, 256, 512), strict=True), 1):
            layers = []
            for i in range(n):
                stride = 2 if stage > 1 and i == 0 else 1
                if bottleneck:
                    layers.append(Bottleneck(c, planes, stride, groups, base, paper, se))
                    c = 4 * planes
                else:
                    layers.append(Basic(c, planes, stride))
                    c = planes
            setattr(self, f"layer{stage}", nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class DenseLayer(nn.Module):
    def __init__(self, c_in: int, growth: int = 32, bn_size: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(c_in)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(c_in, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)

    def forward(self, x):
        new = self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))
        return torch.cat([x, new], 1)


def densenet121() -> nn.Module:
    """Huang et al. (2017) Table 1: growth 32, blocks 6-12-24-16, compression 0.5."""
    features: OrderedDict[str, nn.Module] = OrderedDict(
        conv0=nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        norm0=nn.BatchNorm2d(64),
        relu0=nn.ReLU(inplace=True),
        pool0=nn.MaxPool2d(3, 2, 1),
    )
    c = 64
    for b, n in enumerate((6, 12, 24, 16), 1):
        block = nn.Sequential(
            OrderedDict((f"denselayer{i + 1}", DenseLayer(c + 32 * i)) for i in range(n))
        )
        features[f"denseblock{b}"] = block
        c += 32 * n
        if b < 4:
            features[f"transition{b}"] = nn.Sequential(
                OrderedDict(
                    norm=nn.BatchNorm2d(c),
                    relu=nn.ReLU(inplace=True),
                    conv=nn.Conv2d(c, c // 2, 1, bias=False),
                    pool=nn.AvgPool2d(2, 2),
                )
            )
            c //= 2
    features["norm5"] = nn.BatchNorm2d(c)
    return nn.Sequential(
        OrderedDict(
            features=nn.Sequential(features),
            relu=nn.ReLU(),
            avgpool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            classifier=nn.Linear(c, 1000),
        )
    )


class InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = c_in * t
        layers = [conv_bn_act(c_in, hidden, 1, act=nn.ReLU6)] if t != 1 else []
        layers += [
            conv_bn_act(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


def mobilenet_v2() -> nn.Module:
    """Sandler et al. (2018) Table 2."""
    features, c = [conv_bn_act(3, 32, 3, 2, act=nn.ReLU6)], 32
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1)]
    for t, c_out, n, s in [*settings, (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            features.append(InvertedResidual(c, c_out, s if i == 0 else 1, t))
            c = c_out
    features.append(conv_bn_act(c, 1280, 1, act=nn.ReLU6))
    return nn.Sequential(
        OrderedDict(
            features=nn.Sequential(*features),
            avgpool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            classifier=nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000)),
        )
    )


class MBConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = c_in * t
        layers = [conv_bn_act(c_in, hidden, 1, act=nn.SiLU)] if t != 1 else []
        layers += [
            conv_bn_act(hidden, hidden, k, stride, groups=hidden, act=nn.SiLU),
            SqueezeExcite(hidden, max(1, c_in // 4), act=nn.SiLU),
            conv_bn_act(hidden, c_out, 1, act=None),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


def efficientnet_b0() -> nn.Module:
    """Tan and Le (2019) Table 1: (expansion, kernel, stride, channels, layers) per stage."""
    features, c = [conv_bn_act(3, 32, 3, 2, act=nn.SiLU)], 32
    stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3)]
    for t, k, s, c_out, n in [*stages, (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]:
        stage = []
        for i in range(n):
            stage.append(MBConv(c, c_out, k, s if i == 0 else 1, t))
            c = c_out
        features.append(nn.Sequential(*stage))
    features.append(conv_bn_act(c, 1280, 1, act=nn.SiLU))
    return nn.Sequential(
        OrderedDict(
            features=nn.Sequential(*features),
            avgpool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            classifier=nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000)),
        )
    )


class DepthwiseSeparable(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.dw = conv_bn_act(c_in, c_in, 3, stride, groups=c_in)
        self.pw = conv_bn_act(c_in, c_out, 1)

    def forward(self, x):
        return self.pw(self.dw(x))


def mobilenet_v1() -> nn.Module:
    """Howard et al. (2017) Table 1, width multiplier 1."""
    layers: OrderedDict[str, nn.Module] = OrderedDict(conv1=conv_bn_act(3, 32, 3, 2))
    c = 32
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5]
    for i, (c_out, s) in enumerate([*plan, (1024, 2), (1024, 1)], 1):
        layers[f"layer{i}"] = DepthwiseSeparable(c, c_out, s)
        c = c_out
    layers.update(avgpool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(c, 1000))
    return nn.Sequential(layers)


class Fire(nn.Module):
    def __init__(self, c_in: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(c_in, squeeze, 1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze, expand, 1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze, expand, 3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        a = self.expand1x1_activation(self.expand1x1(x))
        return torch.cat([a, self.expand3x3_activation(self.expand3x3(x))], 1)


def squeezenet(version: str) -> nn.Module:
    """Iandola et al. (2016) Table 1 (1.0) and the authors' 1.1 revision."""

    def pool() -> nn.Module:
        return nn.MaxPool2d(3, 2, ceil_mode=True)

    if version == "1_0":
        f = [nn.Conv2d(3, 96, 7, 2), nn.ReLU(inplace=True), pool(), Fire(96, 16, 64)]
        f += [Fire(128, 16, 64), Fire(128, 32, 128), pool(), Fire(256, 32, 128)]
        f += [Fire(256, 48, 192), Fire(384, 48, 192), Fire(384, 64, 256), pool()]
        f += [Fire(512, 64, 256)]
    else:
        f = [nn.Conv2d(3, 64, 3, 2), nn.ReLU(inplace=True), pool(), Fire(64, 16, 64)]
        f += [Fire(128, 16, 64), pool(), Fire(128, 32, 128), Fire(256, 32, 128), pool()]
        f += [Fire(256, 48, 192), Fire(384, 48, 192), Fire(384, 64, 256), Fire(512, 64, 256)]
    classifier = [nn.Dropout(0.5), nn.Conv2d(512, 1000, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1)]
    return nn.Sequential(
        OrderedDict(
            features=nn.Sequential(*f),
            classifier=nn.Sequential(*classifier),
            flatten=nn.Flatten(),
        )
    )


def basic_conv(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Module:
    """torchvision's BasicConv2d (its GoogLeNet): conv without bias, batch norm, ReLU."""
    return nn.Sequential(
        OrderedDict(
            conv=nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, bias=False),
            bn=nn.BatchNorm2d(c_out, eps=0.001),
            relu=nn.ReLU(inplace=True),
        )
    )


class TVInception(nn.Module):
    """torchvision's inception block: its "5x5" branch is a 3x3 conv."""

    def __init__(self, c_in: int, n1: int, r3: int, n3: int, r5: int, n5: int, pp: int) -> None:
        super().__init__()
        self.branch1 = basic_conv(c_in, n1, 1)
        self.branch2 = nn.Sequential(basic_conv(c_in, r3, 1), basic_conv(r3, n3, 3))
        self.branch3 = nn.Sequential(basic_conv(c_in, r5, 1), basic_conv(r5, n5, 3))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), basic_conv(c_in, pp, 1))

    def forward(self, x):
        parts = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(parts, 1)


def googlenet_torchvision() -> nn.Module:
    """torchvision's GoogLeNet (its documented layer list), without auxiliary classifiers."""

    def pool(k: int = 3) -> nn.Module:
        return nn.MaxPool2d(k, 2, ceil_mode=True)

    return nn.Sequential(
        OrderedDict(
            conv1=basic_conv(3, 64, 7, 2),
            maxpool1=pool(),
            conv2=basic_conv(64, 64, 1),
            conv3=basic_conv(64, 192, 3),
            maxpool2=pool(),
            inception3a=TVInception(192, 64, 96, 128, 16, 32, 32),
            inception3b=TVInception(256, 128, 128, 192, 32, 96, 64),
            maxpool3=pool(),
            inception4a=TVInception(480, 192, 96, 208, 16, 48, 64),
            inception4b=TVInception(512, 160, 112, 224, 24, 64, 64),
            inception4c=TVInception(512, 128, 128, 256, 24, 64, 64),
            inception4d=TVInception(512, 112, 144, 288, 32, 64, 64),
            inception4e=TVInception(528, 256, 160, 320, 32, 128, 128),
            maxpool4=pool(2),
            inception5a=TVInception(832, 256, 160, 320, 32, 128, 128),
            inception5b=TVInception(832, 384, 192, 384, 48, 128, 128),
            avgpool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            dropout=nn.Dropout(0.2),
            fc=nn.Linear(1024, 1000),
        )
    )


TORCH: dict[str, Callable[[], nn.Module]] = {
    "resnet18": lambda: ResNet((2, 2, 2, 2), False),
    "resnet34": lambda: ResNet((3, 4, 6, 3), False),
    "resnet50": lambda: ResNet((3, 4, 6, 3), True),
    "resnet101": lambda: ResNet((3, 4, 23, 3), True),
    "resnet152": lambda: ResNet((3, 8, 36, 3), True),
    "resnet50_torchvision": lambda: ResNet((3, 4, 6, 3), True, paper=False),
    "resnet101_torchvision": lambda: ResNet((3, 4, 23, 3), True, paper=False),
    "resnet152_torchvision": lambda: ResNet((3, 8, 36, 3), True, paper=False),
    "wide_resnet50_2": lambda: ResNet((3, 4, 6, 3), True, base=128, paper=False),
    "resnext50_32x4d": lambda: ResNet((3, 4, 6, 3), True, groups=32, base=4, paper=False),
    "senet": lambda: ResNet((3, 4, 6, 3), True, se=True),
    "densenet121": densenet121,
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
    "efficientnet_b0": efficientnet_b0,
    "squeezenet1_0": lambda: squeezenet("1_0"),
    "squeezenet1_1": lambda: squeezenet("1_1"),
    "googlenet_torchvision": googlenet_torchvision,
}

# torchvision's published totals (its model docs), for the networks it has.
TORCHVISION_TOTALS = {
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "wide_resnet50_2": 68_883_240,
    "resnext50_32x4d": 25_028_904,
    "densenet121": 7_978_856,
    "mobilenet_v2": 3_504_872,
    "squeezenet1_0": 1_248_424,
    "squeezenet1_1": 1_235_496,
    "efficientnet_b0": 5_288_548,
    "vgg11": 132_863_336,
    "vgg16_bn": 138_365_992,
    "alexnet_torchvision": 61_100_840,
    "googlenet_torchvision": 6_624_904,
}


def torch_layers(model: nn.Module, shape: tuple[int, ...]) -> dict[str, tuple]:
    """(parameters, output shape, MACs) of every module that holds parameters itself."""
    out: dict[str, tuple] = {}
    hooks = []
    for name, module in model.named_modules():
        params = sum(p.numel() for p in module.parameters(recurse=False))
        if not params:
            continue

        def hook(m, args, y, name=name, params=params):
            macs = 0
            if isinstance(m, nn.Conv2d):
                macs = y.numel() * m.weight[0].numel()
            elif isinstance(m, nn.Linear):
                macs = m.weight.numel()
            out[name] = (params, tuple(y.shape[1:]), macs)

        hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model.eval()(torch.zeros(1, *shape, device="meta"))
    for h in hooks:
        h.remove()
    return out


@pytest.mark.parametrize("name", sorted(TORCH))
def test_layers_match_torch(name: str) -> None:
    net = arch.get(name)
    table = net.table()
    with torch.device("meta"):
        model = TORCH[name]()
    expected = torch_layers(model, net.input_shape)
    got = {r.name: (r.parameters, r.shape, r.macs) for r in table.rows if r.parameters}
    assert got == expected
    assert table.total_parameters == sum(p.numel() for p in model.parameters())
    assert table.total_macs == sum(m for _, _, m in expected.values())
    assert table.output_shape == (1000,)


@pytest.mark.parametrize(("name", "total"), sorted(TORCHVISION_TOTALS.items()))
def test_torchvision_totals(name: str, total: int) -> None:
    assert arch.get(name).table().total_parameters == total


def test_every_shipped_network_has_a_torch_twin() -> None:
    from test_arch import TORCH as SEQUENTIAL

    assert set(TORCH) | set(SEQUENTIAL) == set(arch.NAMES)
    assert not set(TORCH) & set(SEQUENTIAL)


# -- torch's own FLOP counter ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["resnet50", "densenet121", "mobilenet_v2", "efficientnet_b0"])
def test_macs_match_torch_flop_counter(name: str) -> None:
    """torch's FlopCounterMode counts conv and matmul FLOPs, 2 per multiply-add."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = TORCH[name]().eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 3, 224, 224, device="meta"))
    assert counter.get_total_flops() == 2 * arch.get(name).table().total_macs


# -- the graph's own behaviour --------------------------------------------------------------------
def test_depths_as_the_papers_count_them() -> None:
    depths = {n: arch.get(n).table().depth for n in ("resnet18", "resnet34", "resnet152")}
    assert depths == {"resnet18": 18, "resnet34": 34, "resnet152": 152}
    assert arch.get("densenet121").table().depth == 121
    assert arch.get("mobilenet_v1").table().depth == 28


def test_receptive_field_through_residual_blocks() -> None:
    rows = {r.name: r.receptive_field for r in arch.get("resnet18").table().rows}
    # 7x7/2 conv: 7 (jump 2); 3x3/2 pool: 7 + 2*2 = 11 (jump 4); each 3x3 conv adds 2*4
    assert rows["conv1"] == (7, 7) and rows["maxpool"] == (11, 11)
    assert rows["layer1.0.conv2"] == (27, 27)
    assert rows["layer1.0.add"] == (27, 27)  # the identity path sees less; the widest counts
    assert rows["layer2.0.downsample.0"] == (43, 43)  # a 1x1 shortcut adds nothing
    assert rows["avgpool"] is None and rows["fc"] is None


def test_squeeze_excite_makes_the_field_global() -> None:
    rows = {r.name: r for r in arch.get("senet").table().rows}
    assert rows["layer1.0.bn3"].receptive_field is not None
    assert rows["layer1.0.se.scale"].receptive_field is None
    assert rows["layer1.0.se.fc1"].parameters == 256 * 16 + 16


def test_paper_and_torchvision_resnet_differ_only_in_macs() -> None:
    paper, tv = arch.get("resnet50").table(), arch.get("resnet50_torchvision").table()
    assert paper.total_parameters == tv.total_parameters
    assert paper.total_macs < tv.total_macs
    assert paper.row("layer2.0.conv1").layer == "conv 1x1/2 pad 0, 128"
    assert tv.row("layer2.0.conv2").layer == "conv 3x3/2 pad 1, 128"


def test_blocks_sum_to_the_totals() -> None:
    table = arch.get("resnet50").table()
    blocks = table.blocks()
    assert [b.name for b in blocks][4:7] == ["layer1.0", "layer1.1", "layer1.2"]
    assert sum(b.parameters for b in blocks) == table.total_parameters
    assert sum(b.macs for b in blocks) == table.total_macs
    assert blocks[4].depth == 3 and blocks[4].shape == (256, 56, 56)
    md = table.markdown(collapsible=True)
    multi = [b for b in blocks if len(b.rows) > 1]
    assert md.count("<details>") == len(multi) == 16
    assert "<summary>layer1.0: 12 layers, 75,008 parameters, depth 3</summary>" in md


def test_new_layers() -> None:
    assert arch.BatchNorm("bn").evaluate((64, 8, 8)).parameters == 128
    assert arch.BatchNorm("bn", affine=False).evaluate((64, 8, 8)).parameters == 0
    assert arch.Activation("a", "prelu").evaluate((64, 8, 8)).parameters == 1
    assert arch.Activation("a", "prelu", per_channel=True).evaluate((64, 8, 8)).parameters == 64
    assert arch.Activation("a", "silu").evaluate((64, 8, 8)).parameters == 0
    assert arch.Concat("c").evaluate(((3, 8, 8), (5, 8, 8))).shape == (8, 8, 8)
    assert arch.Scale("s").evaluate(((4, 1, 1), (4, 8, 8))).shape == (4, 8, 8)
    assert arch.AdaptiveAvgPool("p", 6).evaluate((256, 6, 6)).view
    assert arch.AdaptiveAvgPool("p").evaluate((256, 7, 7)).shape == (256, 1, 1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: arch.Activation("a", "swishy"), "fn must be one of relu, "),
        (lambda: arch.Add("a").evaluate(((3, 8, 8), (3, 4, 4))), r"input shapes .* differ"),
        (
            lambda: arch.Concat("c").evaluate(((3, 8, 8), (3, 4, 4))),
            r"concat \(spatial sizes\): input shapes",
        ),
        (lambda: arch.Scale("s").evaluate(((4, 8, 8), (3, 1, 1))), "gate shape"),
        (lambda: arch.Linear("fc", 10, in_features=7).evaluate((8,)), "in_features 7 differs"),
    ],
)
def test_new_layer_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        call()


# -- from_torch -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["resnet18", "resnet50", "densenet121", "squeezenet1_1"])
def test_from_torch_tabulates_residual_and_dense_models(name: str) -> None:
    model = TORCH[name]()
    table = arch.from_torch(model, (3, 224, 224), name).table()
    shipped = arch.get(name).table()
    assert table.total_parameters == sum(p.numel() for p in model.parameters())
    assert table.total_parameters == shipped.total_parameters
    assert table.total_macs == shipped.total_macs
    assert table.depth == shipped.depth
    assert {r.name: (r.parameters, r.shape, r.macs) for r in table.rows if r.parameters} == {
        r.name: (r.parameters, r.shape, r.macs) for r in shipped.rows if r.parameters
    }
    merges = {r.kind for r in table.rows} & {"add", "concat"}
    assert merges == ({"concat"} if name.startswith(("dense", "squeeze")) else {"add"})


def test_from_torch_keeps_the_graph() -> None:
    table = arch.from_torch(TORCH["resnet18"](), (3, 224, 224)).table()
    add = table.row("layer2.0.add_2")  # fx's name for the third addition, under its block
    assert add.inputs == ("layer2.0.bn2", "layer2.0.downsample.1")
    # layer1 ends at 43 (jump 4); the 3x3/2 conv: 43 + 2*4 = 51 (jump 8); the 3x3: 51 + 16
    assert add.block == "layer2.0" and add.receptive_field == (67, 67)
    assert table.row("layer1.0.add").inputs == ("layer1.0.bn2", "maxpool")


def test_from_torch_prelu_and_functional_layers() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.act = nn.PReLU(8)
            self.gate = nn.Conv2d(8, 8, 1)
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            x = self.act(self.conv(x))
            g = torch.sigmoid(self.gate(F.adaptive_avg_pool2d(x, 1)))
            x = F.max_pool2d(g * x, 2)
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    F = nn.functional
    net = Net()
    table = arch.from_torch(net, (3, 16, 16)).table()
    assert (
        table.total_parameters == sum(p.numel() for p in net.parameters()) == 3 * 72 + 8 + 72 + 36
    )
    assert [r.kind for r in table.rows] == [
        "conv",
        "activation",
        "avgpool",
        "conv",
        "activation",
        "scale",
        "pool",
        "avgpool",
        "flatten",
        "linear",
    ]
    assert table.row("mul").shape == (8, 16, 16) and table.row("max_pool2d").shape == (8, 8, 8)


def test_from_torch_names_what_it_cannot_count() -> None:
    with pytest.raises(SpecError, match=r"module '1' \(LayerNorm\) is not supported"):
        arch.from_torch(nn.Sequential(nn.Conv2d(3, 4, 3), nn.LayerNorm(4)), (3, 8, 8))

    class View(nn.Module):
        def forward(self, x):
            return x.view(x.size(0), -1)

    with pytest.raises(SpecError, match=r"call_method 'size' \(node 'size'\) is not supp"):
        arch.from_torch(View(), (3, 8, 8))

    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(SpecError, match=r"torch\.fx cannot trace Branchy"):
        arch.from_torch(Branchy(), (3, 8, 8))

    class Dilated(nn.Module):
        def forward(self, x):
            return nn.functional.max_pool2d(x, 2, dilation=2)

    with pytest.raises(SpecError, match=r"max_pool2d .* ceil_mode only, got \['dilation'\]"):
        arch.from_torch(Dilated(), (3, 8, 8))
    with pytest.raises(SpecError, match=r"module must be a torch\.nn\.Module"):
        arch.from_torch("resnet18", (3, 8, 8))
    with pytest.raises(SpecError, match=r"'0'.*in_features 10 differs from the incoming 12"):
        arch.from_torch(nn.Sequential(nn.Linear(10, 2)), (12,)).table()


# -- the command line -----------------------------------------------------------------------------
def cli_model() -> nn.Module:
    """A small residual model for `symconv arch --torch test_arch_graphs:cli_model`."""
    return ResNet((1, 1, 1, 1), False)


def test_cli_list_and_json(capsys) -> None:
    from symconv.cli import main

    assert main(["arch", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(arch.NAMES)
    assert any(line.split()[:2] == ["resnet50", "paper"] for line in lines)
    assert any(line.split()[:2] == ["resnet50_torchvision", "torchvision"] for line in lines)
    assert main(["arch", "--list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["name"]: d["source"] for d in data} == arch.SOURCES
    assert main(["arch", "densenet121", "--json"]) == 0
    totals = json.loads(capsys.readouterr().out)["totals"]
    assert totals["parameters"] == 7_978_856 and totals["depth"] == 121


def test_cli_torch(capsys) -> None:
    from symconv.cli import main

    argv = ["arch", "--torch", "test_arch_graphs:cli_model", "--input", "3x64x64", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    model = cli_model()
    assert data["totals"]["parameters"] == sum(p.numel() for p in model.parameters())
    assert data["totals"]["depth"] == 10
    assert "layer4.0.downsample.0" in {r["name"] for r in data["rows"]}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["arch"], "give a network NAME, or --torch"),
        (["arch", "vgg16", "--list"], "--list takes no NAME"),
        (["arch", "vgg16", "--input", "3x8x8"], "--input applies to --torch only"),
        (["arch", "--torch", "test_arch_graphs:cli_model"], "--torch needs --input"),
        (["arch", "--torch", "os:system('ls')", "-i", "3"], "expected 'package.module:factory'"),
        (["arch", "--torch", "no_such_module:f", "-i", "3"], "cannot import 'no_such_module'"),
        (["arch", "--torch", "test_arch_graphs:nothing", "-i", "3"], "has no attribute"),
        (
            ["arch", "--torch", "test_arch_graphs:cli_model", "-i", "3x8"],
            r"layer 1 'conv1' \(conv\) on input 8x3",
        ),
    ],
)
def test_cli_errors_are_one_line(capsys, argv: list[str], message: str) -> None:
    from symconv.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("symconv arch: error: ")
    assert re.search(message, err), err


# -- the docs' renderers --------------------------------------------------------------------------
def test_docs_renderers() -> None:
    import sys

    from helpers import ROOT

    sys.path.insert(0, str(ROOT / "docs" / "hooks"))
    from scdocs.figures import FIGURES
    from scdocs.registry import render

    html = render("arch-table", {"network": "resnet50", "collapsible": True}).text
    table = arch.get("resnet50").table()
    assert html.count("<details>") == 16 and f"{table.total_parameters:,}" in html
    assert "layer1.0: 12 layers, 75,008 parameters" in html
    rf = render("arch-receptive-field", {"network": "resnet50"}).text
    # the widest path: 7, 11 (pool), then +2 x jump per 3x3 conv; layer4 ends at 483
    assert '<td>layer4.2</td><td>7x7x2048</td><td class="sc-num">483x483</td>' in rf
    summary = render("arch-summary", {}).text
    assert all(f"<td>{n}</td>" in summary for n in arch.NAMES)
    for name in ("arch-comparison", "resnet50-receptive-field", "residual-gradients"):
        svg, caption = FIGURES[name]()
        assert svg.startswith("<svg") and caption


# -- from_torch on random models built from the supported layers --------------------------------
class RandomNet(nn.Module):
    """A random stack of conv/BN/activation/pool layers, residual adds and two-branch concats."""

    def __init__(self, plan: list[tuple], c_in: int) -> None:
        super().__init__()
        self.steps = nn.ModuleList()
        self.kinds: list[str] = []
        c = c_in
        for kind, a, b in plan:
            if kind == "conv":  # a: out channels multiplier, b: (k, stride, groups)
                k, stride, groups = b
                groups = groups if c % groups == 0 and (a * groups) % groups == 0 else 1
                out = a * groups
                mod = nn.Conv2d(c, out, k, stride, k // 2, groups=groups, bias=stride == 1)
                c = out
            elif kind == "bn":
                mod = nn.BatchNorm2d(c)
            elif kind == "act":
                mod = nn.PReLU(c) if a else nn.ReLU()
            elif kind == "pool":
                mod = nn.MaxPool2d(2, 2, ceil_mode=bool(a)) if b else nn.AvgPool2d(3, 1, 1)
            elif kind == "res":  # conv-bn branch added to its input
                mod = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
            else:  # "cat": a 1x1 and a 3x3 branch of width a, concatenated
                width = max(a, 1)
                mod = nn.ModuleList([nn.Conv2d(c, width, 1), nn.Conv2d(c, width, 3, 1, 1)])
                c = 2 * width
            self.steps.append(mod)
            self.kinds.append(kind)
        self.head = nn.Linear(c, 3)

    def forward(self, x):
        for kind, mod in zip(self.kinds, self.steps, strict=True):
            if kind == "res":
                x = torch.relu(x + mod(x))
            elif kind == "cat":
                x = torch.cat([mod[0](x), mod[1](x)], 1)
            else:
                x = mod(x)
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def _plans():
    from hypothesis import strategies as st

    conv = st.tuples(
        st.just("conv"),
        st.integers(1, 4),
        st.tuples(st.sampled_from([1, 3, 5]), st.sampled_from([1, 2]), st.sampled_from([1, 2])),
    )
    other = st.tuples(
        st.sampled_from(["bn", "act", "pool", "res", "cat"]), st.integers(0, 3), st.booleans()
    )
    return st.lists(st.one_of(conv, other), min_size=1, max_size=8)


def test_from_torch_on_random_models() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from torch.utils.flop_counter import FlopCounterMode

    @settings(max_examples=25)
    @given(plan=_plans(), c_in=st.integers(1, 4), size=st.integers(8, 20))
    def check(plan: list[tuple], c_in: int, size: int) -> None:
        with torch.device("meta"):
            model = RandomNet(plan, c_in).eval()
        x = torch.zeros(1, c_in, size, size, device="meta")
        try:
            table = arch.from_torch(model, (c_in, size, size)).table()
        except SpecError:  # a map shrunk below a window: torch must refuse it too
            with pytest.raises(RuntimeError):
                model(x)
            return
        assert table.total_parameters == sum(p.numel() for p in model.parameters())
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            out = model(x)
        assert counter.get_total_flops() == 2 * table.total_macs
        assert table.output_shape == tuple(out.shape[1:])
        assert {r.kind for r in table.rows} >= {"linear"}

    check()


def test_printed_totals_are_noted() -> None:
    def note(name: str, word: str) -> str:
        return next(n for n in arch.get(name).notes if word in n)

    r50 = note("resnet50", "Table 1 prints")
    assert "3.8x10^9" in r50 and "3,857,973,248 MACs" in r50  # 3.86e9 truncates to 3.8
    m1 = note("mobilenet_v1", "prints")
    assert "569 million" in m1 and "568,740,352 MACs" in m1 and "4,210,088 without" in m1
    se = note("senet", "additional parameters")
    assert f"{28_088_024 - 25_557_032:,}" in se
