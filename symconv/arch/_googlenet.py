"""GoogLeNet (Inception v1) and its printed Table 1, compared value by value.

Private: `symconv.arch` re-exports every public name here (`googlenet`, `compare_googlenet`,
`Comparison`, `GOOGLENET_PRINTED`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ._classic import _n, _Stack, alexnet
from ._graph import Graph
from ._layers import Dropout, Inception, Layer, Linear
from ._network import Network
from ._table import Table, volume

__all__ = [
    "GOOGLENET_PRINTED",
    "Comparison",
    "compare_googlenet",
    "googlenet",
    "googlenet_torchvision",
]

_INCEPTIONS: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}

# Table 1 of Szegedy et al. (2015), as printed: row, our layers, output size, depth (layers with
# weights on the longest path), params, ops.
# Params are in K = 1024, ops (multiply-adds) in M = 10^6; the paper's counts exclude biases.
GOOGLENET_PRINTED: tuple[tuple[str, tuple[str, ...], str, str, str, str], ...] = (
    ("convolution 7x7/2", ("conv1",), "112x112x64", "1", "2.7K", "34M"),
    ("max pool 3x3/2", ("pool1",), "56x56x64", "0", "", ""),
    ("convolution 3x3/1", ("conv2_reduce", "conv2"), "56x56x192", "2", "112K", "360M"),
    ("max pool 3x3/2", ("pool2",), "28x28x192", "0", "", ""),
    ("inception (3a)", ("inception_3a",), "28x28x256", "2", "159K", "128M"),
    ("inception (3b)", ("inception_3b",), "28x28x480", "2", "380K", "304M"),
    ("max pool 3x3/2", ("pool3",), "14x14x480", "0", "", ""),
    ("inception (4a)", ("inception_4a",), "14x14x512", "2", "364K", "73M"),
    ("inception (4b)", ("inception_4b",), "14x14x512", "2", "437K", "88M"),
    ("inception (4c)", ("inception_4c",), "14x14x512", "2", "463K", "100M"),
    ("inception (4d)", ("inception_4d",), "14x14x528", "2", "580K", "119M"),
    ("inception (4e)", ("inception_4e",), "14x14x832", "2", "840K", "170M"),
    ("max pool 3x3/2", ("pool4",), "7x7x832", "0", "", ""),
    ("inception (5a)", ("inception_5a",), "7x7x832", "2", "1072K", "54M"),
    ("inception (5b)", ("inception_5b",), "7x7x1024", "2", "1388K", "71M"),
    ("avg pool 7x7/1", ("avgpool",), "1x1x1024", "0", "", ""),
    ("dropout (40%)", ("dropout",), "1x1x1024", "0", "", ""),
    ("linear", ("fc",), "1x1x1000", "1", "1000K", "1M"),
)
_UNITS = {"K": 1024, "M": 10**6}


@dataclass(frozen=True)
class Comparison:
    """A printed table value against the computed one.

    A count printed in units (`"2.7K"`, `"34M"`) agrees when the computed count, in the same
    unit, is within one unit of the last printed digit (so rounding and truncation both pass):
    `computed` 163,328 = 159.5K agrees with a printed `"159K"`, 388,096 = 379.0K does not
    agree with `"380K"`.
    """

    row: str
    quantity: str
    printed: str
    computed: int | str
    agrees: bool

    @property
    def in_units(self) -> str:
        """The computed value in the printed unit, e.g. `"9.19K"`."""
        if isinstance(self.computed, str):
            return self.computed
        unit = self.printed[-1]
        return f"{self.computed / _UNITS[unit]:.2f}".rstrip("0").rstrip(".") + unit

    def __str__(self) -> str:
        computed = (
            self.computed
            if isinstance(self.computed, str)
            else f"{self.computed:,} = {self.in_units}"
        )
        return f"{self.row} {self.quantity}: printed {self.printed}, computed {computed}"


def _agrees(printed: str, computed: int) -> bool:
    value, unit = Fraction(printed[:-1]), _UNITS[printed[-1]]
    decimals = len(printed[:-1].partition(".")[2])
    return abs(Fraction(computed, unit) - value) < Fraction(1, 10**decimals)


def compare_googlenet(table: Table | None = None) -> list[Comparison]:
    """Every printed value of GoogLeNet's Table 1 against the computed one.

    `table` defaults to the bias-free network (the paper's counts exclude biases).

    ```python
    >>> [str(c) for c in compare_googlenet() if not c.agrees][:2]
    ['convolution 7x7/2 params: printed 2.7K, computed 9,408 = 9.19K', \
'convolution 7x7/2 ops: printed 34M, computed 118,013,952 = 118.01M']

    ```
    """
    table = table or _googlenet_layers_table(bias=False)
    out = []
    for label, names, size, depth, params, ops in GOOGLENET_PRINTED:
        rows = [table.row(n) for n in names]
        shape = rows[-1].shape
        computed = volume((shape[0], 1, 1) if len(shape) == 1 else shape)  # "1x1x1000"
        out.append(Comparison(label, "output", size, computed, size == computed))
        layers = str(sum(r.depth for r in rows))
        out.append(Comparison(label, "depth", depth, layers, depth == layers))
        for quantity, printed, count in (
            ("params", params, sum(r.parameters for r in rows)),
            ("ops", ops, sum(r.macs for r in rows)),
        ):
            if printed:
                out.append(Comparison(label, quantity, printed, count, _agrees(printed, count)))
    return out


def _googlenet_stack(bias: bool) -> list[Layer]:
    s = _Stack(3).conv("conv1", 64, 7, stride=2, padding=3, bias=bias)
    s.pool("pool1", 3, 2, ceil_mode=True)
    s.conv("conv2_reduce", 64, 1, bias=bias).conv("conv2", 192, 3, padding=1, bias=bias)
    s.pool("pool2", 3, 2, ceil_mode=True)
    for stage, pool in (("3", "pool3"), ("4", "pool4"), ("5", None)):
        for block, widths in _INCEPTIONS.items():
            if block.startswith(stage):
                s.add(Inception(f"inception_{block}", *widths, bias=bias))
        if pool:
            s.pool(pool, 3, 2, ceil_mode=True)
    s.pool("avgpool", 7, 1, kind="avg").add(Dropout("dropout", 0.4))
    s.add(Linear("fc", 1000, bias=bias))
    return s.layers


def _googlenet_layers_table(bias: bool) -> Table:
    return Network("googlenet", (3, 224, 224), _googlenet_stack(bias)).table()


def googlenet(bias: bool = False) -> Network:
    """GoogLeNet (Inception v1) main tower on 224x224x3, without auxiliary classifiers.

    `bias=False` (the default) matches the paper's Table 1, whose counts exclude biases.

    ```python
    >>> googlenet().table().total_parameters
    6990272

    ```
    """
    plain = _googlenet_layers_table(bias=False)
    mismatches = [c for c in compare_googlenet(plain) if not c.agrees]
    total = plain.total_parameters
    alex = alexnet(grouped=True).table().total_parameters
    without_fc = total - plain.row("fc").parameters
    notes = [
        "No biases (bias=False): Table 1 of the paper counts weights only; params in "
        "K = 1024, ops = multiply-adds in M = 10^6. Every printed value is compared with the "
        "computed one; a value agrees when it is within one unit of its last printed digit.",
        "The paper's Figure 3 also has local response normalisation after pool1 and conv2; it "
        "has no parameters, keeps the shape and is not in Table 1, so it is left out.",
        f"Depth: {plain.depth} layers with weights on the longest path (the paper's '22 layers "
        "deep'; the depth column's sum).",
        *(f"Table 1 {c}." for c in mismatches),
        f"The lecture says GoogLeNet 'has 5 Million or 12X fewer parameters than AlexNet': "
        f"computed {_n(total)} without biases ({_n(without_fc)} without the final linear "
        f"layer), {alex / total:.1f}x fewer than the two-tower AlexNet's {_n(alex)}.",
    ]
    if bias:
        layers = _googlenet_stack(bias=True)
        with_bias = Network("googlenet_bias", (3, 224, 224), layers).table().total_parameters
        notes.insert(
            0,
            f"With biases: {_n(with_bias)} parameters ({_n(with_bias - total)} "
            "biases); the Table 1 comparisons below use the bias-free counts.",
        )
        return Network(
            "googlenet_bias",
            (3, 224, 224),
            layers,
            tuple(notes),
            "GoogLeNet (Szegedy et al. 2015), with biases",
        )
    return Network(
        "googlenet",
        (3, 224, 224),
        _googlenet_stack(bias=False),
        tuple(notes),
        "GoogLeNet (Szegedy et al. 2015)",
    )


def _basic_conv(
    g: Graph, name: str, out: int, k: int, stride: int = 1, src: str | None = None
) -> str:
    """torchvision's BasicConv2d: conv without bias, batch norm, ReLU."""
    g.conv(f"{name}.conv", out, k, stride, src=src)
    g.bn(f"{name}.bn")
    return g.act(f"{name}.relu")


def googlenet_torchvision() -> Network:
    """GoogLeNet as torchvision defines it (its pretrained model: no auxiliary classifiers).

    It differs from the paper: batch norm after every conv (which has no bias), the "5x5"
    branch of every inception block is a 3x3 conv, the fourth max pool is 2x2/2, the dropout is
    20%.

    ```python
    >>> googlenet_torchvision().table().total_parameters
    6624904

    ```
    """
    g = Graph(3)
    for name, out, k, stride in (("conv1", 64, 7, 2), ("conv2", 64, 1, 1), ("conv3", 192, 3, 1)):
        g.block = name
        _basic_conv(g, name, out, k, stride)
        if name != "conv2":
            g.block = ""
            g.pool(f"maxpool{1 if name == 'conv1' else 2}", 3, 2, ceil_mode=True)
    for block, widths in _INCEPTIONS.items():
        g.block = b = f"inception{block}"
        x = g.last
        n1, r3, n3, r5, n5, pp = widths
        ends = [_basic_conv(g, f"{b}.branch1", n1, 1, src=x)]
        _basic_conv(g, f"{b}.branch2.0", r3, 1, src=x)
        ends.append(_basic_conv(g, f"{b}.branch2.1", n3, 3))
        _basic_conv(g, f"{b}.branch3.0", r5, 1, src=x)
        ends.append(_basic_conv(g, f"{b}.branch3.1", n5, 3))  # torchvision's 3x3, not 5x5
        g.pool(f"{b}.branch4.0", 3, 1, padding=1, ceil_mode=True, src=x)
        ends.append(_basic_conv(g, f"{b}.branch4.1", pp, 1))
        g.cat(f"{b}.cat", *ends)
        g.block = ""
        if block == "3b":
            g.pool("maxpool3", 3, 2, ceil_mode=True)
        elif block == "4e":
            g.pool("maxpool4", 2, 2, ceil_mode=True)
    g.gap("avgpool")
    g.flatten()
    g.dropout("dropout", 0.2)
    g.linear("fc", 1000)
    notes = (
        "torchvision's definition, not the paper's (googlenet): batch norm after every conv "
        "(convs without bias), the third inception branch has a 3x3 conv where the paper has "
        "a 5x5, maxpool4 is 2x2/2 (the paper's 3x3/2 gives the same 7x7), dropout 20% (the "
        "paper's 40%). Without the auxiliary classifiers, as torchvision's pretrained model.",
    )
    return Network(
        "googlenet_torchvision",
        (3, 224, 224),
        g.nodes,
        notes,
        "GoogLeNet as torchvision defines it",
    )
