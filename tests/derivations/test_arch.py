"""Architecture tables against torch, layer by layer, and the tables' own behaviour.

Each shipped network is written again here with plain `torch.nn` modules (no torchvision, not
generated from `symconv.arch`): a zero batch of one runs through it on the meta device, and every
layer's output shape and parameter count must equal the table's row.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable

import pytest

from symconv import Conv, Pool, SpecError, arch

torch = pytest.importorskip("torch")
nn = torch.nn

TorchLayers = list[tuple[str, "nn.Module"]]


# -- the networks in torch ------------------------------------------------------------------------
def conv(
    c_in: int,
    c_out: int,
    k: int,
    stride: int = 1,
    padding: int = 0,
    groups: int = 1,
    bias: bool = True,
) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride, padding, groups=groups, bias=bias), nn.ReLU()
    )


def fc(n_in: int, n_out: int, bias: bool = True) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(n_in, n_out, bias=bias))


def torch_lenet5() -> TorchLayers:
    return [
        ("C1", conv(1, 6, 5)),
        ("S2", nn.AvgPool2d(2, 2)),
        ("C3", conv(6, 16, 5)),
        ("S4", nn.AvgPool2d(2, 2)),
        ("C5", conv(16, 120, 5)),
        ("F6", fc(120, 84)),
        ("output", fc(84, 10)),
    ]


def torch_alexnet(groups: int = 1) -> TorchLayers:
    return [
        ("conv1", conv(3, 96, 11, 4)),
        ("pool1", nn.MaxPool2d(3, 2)),
        ("norm1", nn.LocalResponseNorm(5)),
        ("conv2", conv(96, 256, 5, 1, 2, groups)),
        ("pool2", nn.MaxPool2d(3, 2)),
        ("norm2", nn.LocalResponseNorm(5)),
        ("conv3", conv(256, 384, 3, 1, 1)),
        ("conv4", conv(384, 384, 3, 1, 1, groups)),
        ("conv5", conv(384, 256, 3, 1, 1, groups)),
        ("pool3", nn.MaxPool2d(3, 2)),
        ("fc6", fc(6 * 6 * 256, 4096)),
        ("fc7", fc(4096, 4096)),
        ("fc8", fc(4096, 1000)),
    ]


def torch_alexnet_torchvision() -> TorchLayers:
    """torchvision's AlexNet, from its documented layer list."""
    return [
        ("features.0", conv(3, 64, 11, 4, 2)),
        ("features.2", nn.MaxPool2d(3, 2)),
        ("features.3", conv(64, 192, 5, 1, 2)),
        ("features.5", nn.MaxPool2d(3, 2)),
        ("features.6", conv(192, 384, 3, 1, 1)),
        ("features.8", conv(384, 256, 3, 1, 1)),
        ("features.10", conv(256, 256, 3, 1, 1)),
        ("features.12", nn.MaxPool2d(3, 2)),
        ("avgpool", nn.AdaptiveAvgPool2d(6)),
        ("classifier.0", nn.Dropout()),
        ("classifier.1", fc(6 * 6 * 256, 4096)),
        ("classifier.3", nn.Dropout()),
        ("classifier.4", fc(4096, 4096)),
        ("classifier.6", fc(4096, 1000)),
    ]


def torch_zfnet() -> TorchLayers:
    return [
        ("conv1", conv(3, 96, 7, 2, 1)),
        ("pool1", nn.MaxPool2d(3, 2, ceil_mode=True)),
        ("norm1", nn.LocalResponseNorm(5)),
        ("conv2", conv(96, 256, 5, 2, 0)),
        ("pool2", nn.MaxPool2d(3, 2, ceil_mode=True)),
        ("norm2", nn.LocalResponseNorm(5)),
        ("conv3", conv(256, 512, 3, 1, 1)),
        ("conv4", conv(512, 1024, 3, 1, 1)),
        ("conv5", conv(1024, 512, 3, 1, 1)),
        ("pool3", nn.MaxPool2d(3, 2, ceil_mode=True)),
        ("fc6", fc(6 * 6 * 512, 4096)),
        ("fc7", fc(4096, 4096)),
        ("fc8", fc(4096, 1000)),
    ]


# torchvision-style configurations, written out again: ints are 3x3 convs, (1, n) a 1x1 conv.
VGG = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        (1, 256),
        "M",
        512,
        512,
        (1, 512),
        "M",
        512,
        512,
        (1, 512),
        "M",
    ],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", *[256] * 4, "M", *[512] * 4, "M", *[512] * 4, "M"],
}


def torch_vgg(config: str, bn: bool = False) -> TorchLayers:
    layers: TorchLayers = []
    c, block, i = 3, 1, 1
    for item in VGG[config]:
        if item == "M":
            layers.append((f"pool{block}", nn.MaxPool2d(2, 2)))
            block, i = block + 1, 1
        elif item == "LRN":
            layers.append((f"norm{block}", nn.LocalResponseNorm(5)))
        else:
            k, width = item if isinstance(item, tuple) else (3, item)
            if bn:  # conv, then batch norm and ReLU (torchvision's vgg*_bn)
                layers.append((f"conv{block}_{i}", nn.Conv2d(c, width, k, 1, k // 2)))
                layers.append((f"bn{block}_{i}", nn.Sequential(nn.BatchNorm2d(width), nn.ReLU())))
            else:
                layers.append((f"conv{block}_{i}", conv(c, width, k, 1, k // 2)))
            c, i = width, i + 1
    return [
        *layers,
        ("fc6", fc(7 * 7 * 512, 4096)),
        ("fc7", fc(4096, 4096)),
        ("fc8", fc(4096, 1000)),
    ]


class TorchInception(nn.Module):
    def __init__(
        self, c_in: int, n1: int, r3: int, n3: int, r5: int, n5: int, pp: int, bias: bool
    ) -> None:
        super().__init__()
        self.b1 = conv(c_in, n1, 1, bias=bias)
        self.b2 = nn.Sequential(conv(c_in, r3, 1, bias=bias), conv(r3, n3, 3, 1, 1, bias=bias))
        self.b3 = nn.Sequential(conv(c_in, r5, 1, bias=bias), conv(r5, n5, 5, 1, 2, bias=bias))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), conv(c_in, pp, 1, bias=bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)


def torch_googlenet(bias: bool = False) -> TorchLayers:
    def pool() -> nn.Module:
        return nn.MaxPool2d(3, 2, ceil_mode=True)

    def inc(c_in: int, *widths: int) -> nn.Module:
        return TorchInception(c_in, *widths, bias=bias)

    return [
        ("conv1", conv(3, 64, 7, 2, 3, bias=bias)),
        ("pool1", pool()),
        ("conv2_reduce", conv(64, 64, 1, bias=bias)),
        ("conv2", conv(64, 192, 3, 1, 1, bias=bias)),
        ("pool2", pool()),
        ("inception_3a", inc(192, 64, 96, 128, 16, 32, 32)),
        ("inception_3b", inc(256, 128, 128, 192, 32, 96, 64)),
        ("pool3", pool()),
        ("inception_4a", inc(480, 192, 96, 208, 16, 48, 64)),
        ("inception_4b", inc(512, 160, 112, 224, 24, 64, 64)),
        ("inception_4c", inc(512, 128, 128, 256, 24, 64, 64)),
        ("inception_4d", inc(512, 112, 144, 288, 32, 64, 64)),
        ("inception_4e", inc(528, 256, 160, 320, 32, 128, 128)),
        ("pool4", pool()),
        ("inception_5a", inc(832, 256, 160, 320, 32, 128, 128)),
        ("inception_5b", inc(832, 384, 192, 384, 48, 128, 128)),
        ("avgpool", nn.AvgPool2d(7, 1)),
        ("dropout", nn.Dropout(0.4)),
        ("fc", fc(1024, 1000, bias=bias)),
    ]


TORCH: dict[str, Callable[[], TorchLayers]] = {
    "lenet5": torch_lenet5,
    "alexnet": torch_alexnet,
    "alexnet_grouped": lambda: torch_alexnet(groups=2),
    "alexnet_torchvision": torch_alexnet_torchvision,
    "zfnet": torch_zfnet,
    "vgg11": lambda: torch_vgg("A"),
    "vgg13": lambda: torch_vgg("B"),
    "vgg16": lambda: torch_vgg("D"),
    "vgg19": lambda: torch_vgg("E"),
    "vgg11_bn": lambda: torch_vgg("A", bn=True),
    "vgg13_bn": lambda: torch_vgg("B", bn=True),
    "vgg16_bn": lambda: torch_vgg("D", bn=True),
    "vgg19_bn": lambda: torch_vgg("E", bn=True),
    "vgg_a": lambda: torch_vgg("A"),
    "vgg_a_lrn": lambda: torch_vgg("A-LRN"),
    "vgg_b": lambda: torch_vgg("B"),
    "vgg_c": lambda: torch_vgg("C"),
    "vgg_d": lambda: torch_vgg("D"),
    "vgg_e": lambda: torch_vgg("E"),
    "googlenet": torch_googlenet,
    "googlenet_bias": lambda: torch_googlenet(bias=True),
}


def run_torch(
    layers: Callable[[], TorchLayers], input_shape: tuple[int, ...], device: str = "meta"
) -> list[tuple[str, tuple[int, ...], int]]:
    """(name, output shape without the batch axis, parameters) per layer."""
    with torch.device(device):
        built = layers()
    x = torch.zeros(1, *input_shape, device=device)
    out = []
    with torch.no_grad():
        for name, module in built:
            module.eval()
            x = module(x)
            out.append((name, tuple(x.shape[1:]), sum(p.numel() for p in module.parameters())))
    return out


# -- against torch --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TORCH)
def test_layers_match_torch(name: str) -> None:
    net = arch.get(name)
    table = net.table()
    expected = [(r.name, r.shape, r.parameters) for r in table.rows]
    assert run_torch(TORCH[name], net.input_shape) == expected
    assert table.total_parameters == sum(p for _, _, p in expected)


def test_lenet5_on_real_tensors() -> None:
    """The meta device is not hiding anything: the same numbers with real CPU tensors."""
    table = arch.get("lenet5").table()
    got = run_torch(TORCH["lenet5"], (1, 32, 32), device="cpu")
    assert got == [(r.name, r.shape, r.parameters) for r in table.rows]


def test_conv_macs_match_torch_flop_counter() -> None:
    """Conv and linear MACs agree with torch's FlopCounterMode (which counts 2 per MAC)."""
    from torch.utils.flop_counter import FlopCounterMode

    table = arch.get("alexnet").table()
    with torch.device("meta"):
        built = torch_alexnet()
    x = torch.zeros(1, 3, 227, 227, device="meta")
    for (name, module), row in zip(built, table.rows, strict=True):
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            x = module(x)
        if row.kind in ("conv", "linear"):
            assert counter.get_total_flops() == 2 * row.macs, name


# -- totals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "total"),
    [
        ("lenet5", 61_706),
        ("alexnet", 62_378_344),
        ("alexnet_grouped", 60_965_224),
        ("vgg_a", 132_863_336),
        ("vgg_a_lrn", 132_863_336),
        ("vgg_b", 133_047_848),
        ("vgg_c", 133_638_952),
        ("vgg_d", 138_357_544),
        ("vgg_e", 143_667_240),
        ("vgg11", 132_863_336),
        ("vgg13", 133_047_848),
        ("vgg16", 138_357_544),
        ("vgg19", 143_667_240),
        ("googlenet", 6_990_272),
    ],
)
def test_total_parameters(name: str, total: int) -> None:
    assert arch.get(name).table().total_parameters == total


def test_lenet5_layer_parameters() -> None:
    rows = arch.get("lenet5").table().rows
    assert [r.parameters for r in rows if r.parameters] == [156, 2416, 48120, 10164, 850]
    assert [r.volume for r in rows] == [
        "28x28x6",
        "14x14x6",
        "10x10x16",
        "5x5x16",
        "1x1x120",
        "84",
        "10",
    ]


def test_alexnet_volumes_as_the_lecture_lists_them() -> None:
    table = arch.get("alexnet").table()
    assert [r.volume for r in table.rows] == [
        "55x55x96",
        "27x27x96",
        "27x27x96",
        "27x27x256",
        "13x13x256",
        "13x13x256",
        "13x13x384",
        "13x13x384",
        "13x13x256",
        "6x6x256",
        "4096",
        "4096",
        "1000",
    ]
    assert table.row("conv1").parameters == 34_944
    grouped = arch.get("alexnet_grouped").table()
    assert [r.shape for r in grouped.rows] == [r.shape for r in table.rows]


def test_zfnet_maps_follow_the_paper() -> None:
    table = arch.get("zfnet").table()
    spatial = [r.shape[1] for r in table.rows if r.kind in ("conv", "pool")]
    assert spatial == [110, 55, 26, 13, 13, 13, 13, 6]
    assert table.row("pool3").volume == "6x6x512"
    assert [table.row(f"conv{i}").shape[0] for i in (3, 4, 5)] == [512, 1024, 512]
    assert any("384, 384, 256" in n for n in table.notes)


@pytest.mark.parametrize("config", list(arch.VGG_PRINTED_MILLIONS))
def test_vgg_paper_table_agrees_when_rounded(config: str) -> None:
    total = arch.vgg(config).table().total_parameters
    assert round(total / 1e6) == arch.VGG_PRINTED_MILLIONS[config]
    assert not any("Table 2 prints" in n for n in arch.vgg(config).notes)


def test_vgg_c_uses_1x1_convs_without_padding() -> None:
    net = arch.get("vgg_c")
    one_by_one = [
        layer
        for layer in net.layers
        if isinstance(layer, arch.ConvLayer) and layer.spec.kernel_size == (1, 1)
    ]
    assert [layer.name for layer in one_by_one] == ["conv3_3", "conv4_3", "conv5_3"]
    assert all(layer.spec.pads == ((0, 0), (0, 0)) for layer in one_by_one)


def test_vgg16_forward_memory() -> None:
    table = arch.get("vgg16").table()
    assert table.input_activations == 224 * 224 * 3
    assert table.total_activations == 15_237_608
    assert table.total_memory == 15_237_608 * 4
    assert any("24 Million" in n for n in table.notes)
    assert table.total_macs == 15_470_264_320


def test_views_store_nothing() -> None:
    table = arch.get("googlenet").table()
    dropout = table.row("dropout")
    assert dropout.activations == 1024 and dropout.memory == 0
    stored = sum(r.activations for r in table.rows if r.kind != "dropout")
    assert table.total_activations == table.input_activations + stored


# -- GoogLeNet against the paper's Table 1 ---------------------------------------------------------
def test_googlenet_every_printed_output_size_agrees() -> None:
    outputs = [c for c in arch.compare_googlenet() if c.quantity == "output"]
    assert len(outputs) == len(arch.GOOGLENET_PRINTED)
    assert all(c.agrees for c in outputs), [str(c) for c in outputs if not c.agrees]


def test_googlenet_printed_counts_that_do_not_match() -> None:
    wrong = {(c.row, c.quantity) for c in arch.compare_googlenet() if not c.agrees}
    assert wrong == {
        ("convolution 7x7/2", "params"),
        ("convolution 7x7/2", "ops"),
        *{(f"inception ({b})", "params") for b in ("3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")},
        ("inception (5a)", "ops"),
    }
    notes = arch.get("googlenet").notes
    assert sum(n.startswith("Table 1 ") for n in notes) == len(wrong)


def test_googlenet_conv1_row() -> None:
    table = arch.get("googlenet").table()
    assert table.row("conv1").parameters == 9_408
    assert table.row("conv1").macs == 118_013_952
    conv1 = [c for c in arch.compare_googlenet() if c.row == "convolution 7x7/2"]
    assert [str(c) for c in conv1[1:]] == [
        "convolution 7x7/2 depth: printed 1, computed 1",
        "convolution 7x7/2 params: printed 2.7K, computed 9,408 = 9.19K",
        "convolution 7x7/2 ops: printed 34M, computed 118,013,952 = 118.01M",
    ]


def test_googlenet_rounding_rule() -> None:
    # 3a: 163,328 = 159.5K printed 159K (truncated) agrees; 3b: 388,096 = 379.0K vs 380K does not.
    by_row = {(c.row, c.quantity): c for c in arch.compare_googlenet()}
    assert by_row["inception (3a)", "params"].agrees
    assert by_row["convolution 3x3/1", "params"].computed == 112 * 1024
    assert by_row["linear", "params"].computed == 1000 * 1024
    assert by_row["linear", "ops"].agrees  # 1.024M printed as 1M


def test_googlenet_with_biases() -> None:
    plain, biased = arch.get("googlenet").table(), arch.googlenet(bias=True).table()
    convs = sum(
        spec.out_channels for layer in arch.get("googlenet").layers for spec in _conv_specs(layer)
    )
    assert biased.total_parameters - plain.total_parameters == convs + 1000
    assert biased.notes[0].startswith("With biases")


def _conv_specs(layer: arch.Layer) -> list[Conv]:
    if isinstance(layer, arch.ConvLayer):
        return [layer.spec]
    if isinstance(layer, arch.Inception):
        return [s for branch in layer.branches(1) for s in branch if isinstance(s, Conv)]
    return []


def test_googlenet_five_million_claim_noted() -> None:
    notes = " ".join(arch.get("googlenet").notes)
    assert "5 Million" in notes and "6,990,272" in notes and "8.7x" in notes


# -- rendering ------------------------------------------------------------------------------------
def test_text_table() -> None:
    table = arch.get("lenet5").table()
    text = table.text()
    lines = text.splitlines()
    assert lines[0].startswith("lenet5: input 32x32x1")
    header = lines[1]
    for column in ("layer", "type", "output", "params", "MACs", "activations", "memory"):
        assert column in header
    for row in table.rows:
        assert any(line.split()[1:2] == [row.name] for line in lines[3:])
    total = next(line for line in lines if line.split()[:1] == ["total"])
    assert "61,706" in total and "416,520" in total
    # right-aligned numbers: the params column ends at the same place on every row
    end = header.index("params") + len("params")
    for line in lines[3 : 3 + len(table.rows) + 1]:
        assert line[end - 1].isdigit(), line
    assert text.count("note: ") == len(table.notes)
    assert str(table) == text


def test_markdown_table() -> None:
    table = arch.get("alexnet").table()
    md = table.markdown().splitlines()
    assert md[0] == "**alexnet** (input 227x227x3)"
    body = [line for line in md if line.startswith("|")]
    assert len(body) == 2 + 1 + len(table.rows) + 1  # header, rule, input, layers, total
    assert all(line.count("|") == 10 for line in body)
    assert "**62,378,344**" in body[-1]
    assert sum(line.startswith("- ") for line in md) == len(table.notes)


def test_as_dict_is_json_ready() -> None:
    table = arch.get("googlenet").table()
    data = json.loads(json.dumps(table.as_dict()))
    assert data["network"] == "googlenet"
    assert data["input_shape"] == [3, 224, 224]
    assert data["totals"]["parameters"] == 6_990_272
    assert data["totals"]["activations"] == table.total_activations
    assert data["rows"][0] == {
        "index": 1,
        "name": "conv1",
        "kind": "conv",
        "layer": "conv 7x7/2 pad 3, 64",
        "shape": [64, 112, 112],
        "volume": "112x112x64",
        "parameters": 9408,
        "macs": 118_013_952,
        "activations": 802_816,
        "memory": 802_816 * 4,
        "depth": 1,
        "inputs": ["input"],
        "block": "",
        "receptive_field": [7, 7],
    }
    # 7x7/2 conv: 7; 3x3/2 pool: 7 + 2*2 = 11; 3x3 conv: 11 + 2*4 = 19; 3x3/2 pool: 27;
    # inception 3a's widest branch, a 5x5 conv at jump 8: 27 + 4*8 = 59
    assert data["rows"][5]["receptive_field"] == [59, 59]
    assert data["totals"]["depth"] == 22
    assert data["notes"] == list(table.notes)


def test_bytes_per_element() -> None:
    table = arch.get("vgg16").table(bytes_per_element=2)
    assert table.total_memory == 2 * 15_237_608


# -- building networks, and errors -----------------------------------------------------------------
def c(c_in: int, c_out: int, k: int, **kw: object) -> Conv:
    return Conv(in_channels=c_in, out_channels=c_out, kernel_size=k, **kw)  # type: ignore[arg-type]


def test_custom_network() -> None:
    net = arch.Network(
        "mine",
        (3, 32, 32),
        [
            arch.ConvLayer("conv", c(3, 10, 5, padding=2)),
            arch.PoolLayer("pool", Pool(kind="max", kernel_size=2)),
            arch.Flatten("flatten"),
            arch.Linear("fc", 10, bias=False),
        ],
    )
    table = net.table()
    assert [r.shape for r in table.rows] == [(10, 32, 32), (10, 16, 16), (2560,), (10,)]
    assert table.total_parameters == 760 + 2560 * 10
    assert table.row("flatten").memory == 0
    assert table.output_shape == (10,)


def test_in_channels_mismatch_names_the_layer() -> None:
    net = arch.Network(
        "bad",
        (3, 32, 32),
        [arch.ConvLayer("conv1", c(3, 8, 3)), arch.ConvLayer("conv2", c(16, 8, 3))],
    )
    with pytest.raises(
        SpecError,
        match=r"bad: layer 2 'conv2' \(conv\) on input 30x30x8: "
        r"in_channels 16 differs from the incoming 8 channels",
    ):
        net.table()


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            [arch.Flatten("flat"), arch.ConvLayer("conv", c(192, 8, 3))],
            r"layer 2 'conv' \(conv\).*already flattened",
        ),
        (
            [arch.Linear("fc", 10), arch.PoolLayer("pool", Pool(kind="max", kernel_size=2))],
            r"layer 2 'pool' \(pool\).*expects a \(C, 2 spatial axes\) volume",
        ),
        ([arch.ConvLayer("big", c(3, 8, 11))], r"layer 1 'big'.*kernel_size 11 > padded input 8"),
        (
            [arch.PoolLayer("pool", Pool(kind="avg", kernel_size=9))],
            r"layer 1 'pool'.*kernel_size 9",
        ),
        (
            [arch.Flatten("flat"), arch.Inception("3a", 1, 1, 1, 1, 1, 1)],
            r"layer 2 '3a' \(inception\)",
        ),
        ([arch.Flatten("flat"), arch.LRN("norm")], r"layer 2 'norm' \(lrn\)"),
        (
            [arch.ConvLayer("conv3d", Conv(dims=3, in_channels=3, kernel_size=1))],
            r"expects a \(C, 3 spatial axes\) volume, got shape \(3, 8, 8\)",
        ),
    ],
)
def test_layer_errors(layers: list[arch.Layer], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        arch.Network("net", (3, 8, 8), layers).table()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_shape": (3, 0, 8)}, "input_shape must be a tuple of integers >= 1"),
        ({"input_shape": 32}, "input_shape must be a tuple"),
        ({"layers": []}, "layers must not be empty"),
        ({"layers": [arch.Flatten("x"), arch.Flatten("x")]}, "layer 2 repeats the name 'x'"),
        ({"layers": [c(3, 8, 3)]}, "layer 1 is a Conv, expected one of ConvLayer"),
        (
            {"layers": [arch.Node(arch.Flatten("f"), ("later",))]},
            "layer 1 'f' reads 'later', which is not an earlier layer",
        ),
        (
            {"layers": [arch.Flatten("f"), arch.Node(arch.Add("a"))]},
            r"layer 2 'a' \(add\) has 1 input\(s\); a merge layer needs two or more",
        ),
        (
            {"layers": [arch.Flatten("f"), arch.Node(arch.Flatten("g"), ("input", "f"))]},
            r"layer 2 'g' \(flatten\) has 2 input\(s\); it takes one",
        ),
    ],
)
def test_network_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "name": "net",
        "input_shape": (3, 8, 8),
        "layers": [arch.Flatten("flat")],
    } | kwargs
    with pytest.raises(SpecError, match=message):
        arch.Network(**args)  # type: ignore[arg-type]


def test_linear_errors() -> None:
    for bad in (0, -1, 2.5, True):
        with pytest.raises(SpecError, match="Linear 'fc': out_features must be an integer >= 1"):
            arch.Linear("fc", bad)  # type: ignore[arg-type]


def test_unknown_names() -> None:
    with pytest.raises(
        SpecError, match="unknown network 'nasnet'; known networks are lenet5, alexnet, "
    ):
        arch.get("nasnet")
    with pytest.raises(SpecError, match="known networks are"):
        arch.get(["vgg16"])  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="config must be one of A, A-LRN, B, C, D, E, got 'F'"):
        arch.vgg("F")
    with pytest.raises(SpecError, match="no layer named 'fc9'; layers are conv1, "):
        arch.get("alexnet").table().row("fc9")


def test_networks_are_frozen_and_cached() -> None:
    net = arch.get("vgg16")
    assert arch.get("vgg16") is net
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.name = "other"  # type: ignore[misc]
    assert isinstance(net.layers, tuple) and isinstance(net.notes, tuple)


def test_inception_block() -> None:
    block = arch.Inception("3a", 64, 96, 128, 16, 32, 32, bias=False)
    assert block.out_channels == 256
    out = block.evaluate((192, 28, 28))
    assert out.shape == (256, 28, 28)
    assert out.parameters == 163_328 and out.macs == 128_049_152
    assert math.isclose(out.parameters / 1024, 159.5)


@pytest.mark.parametrize("value", ["4", 0, 2.0, True])
def test_bytes_per_element_must_be_a_positive_integer(value):
    with pytest.raises(
        SpecError, match=f"vgg16: bytes_per_element must be an integer >= 1, got {value!r}"
    ):
        arch.get("vgg16").table(bytes_per_element=value)
