r"""Architecture tables: a network as a list of layers, computed layer by layer.

For each layer the table gives the output volume $(C, H, W)$, the parameters, the
multiply-adds (MACs) per sample and the activations (values, and bytes in float32). Every size
comes from the layer specs' own methods (`Conv.output_size`, `Conv.num_parameters`,
`Conv.macs`, `Pool.output_size`): this module does no size arithmetic of its own.

The networks the lectures discuss ship by name (`NAMES`, `get`). Wherever a lecture or paper
prints a number that differs from the computed one, the network carries a note saying so.

```python
>>> from symconv import arch
>>> table = arch.get("alexnet").table()
>>> table.rows[0].volume, table.rows[0].parameters
('55x55x96', 34944)
>>> f"{table.total_parameters:,}"
'62,378,344'

```
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache
from typing import Any, ClassVar

from ._errors import SpecError
from .spec import Conv, Pool

__all__ = [
    "GOOGLENET_PRINTED",
    "LRN",
    "NAMES",
    "VGG_CONFIGS",
    "VGG_PRINTED_MILLIONS",
    "Comparison",
    "ConvLayer",
    "Dropout",
    "Flatten",
    "Inception",
    "Layer",
    "LayerResult",
    "Linear",
    "Network",
    "PoolLayer",
    "Row",
    "Table",
    "alexnet",
    "compare_googlenet",
    "get",
    "googlenet",
    "lenet5",
    "vgg",
    "volume",
    "zfnet",
]

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerResult:
    """What one layer does to the incoming volume (`evaluate`'s result).

    `view` is true when the output shares the input's memory (flatten, dropout at inference).
    """

    shape: Shape
    parameters: int
    macs: int
    description: str
    view: bool = False


def _spatial(shape: Shape, dims: int) -> tuple[int, tuple[int, ...]]:
    """Split `(C, *spatial)`, checking the number of spatial axes."""
    if len(shape) != dims + 1:
        raise SpecError(
            f"expects a (C, {dims} spatial axes) volume, got shape {shape}"
            + (" (already flattened)" if len(shape) == 1 else "")
        )
    return shape[0], shape[1:]


def _window(kernel: tuple[int, ...], stride: tuple[int, ...]) -> str:
    return "x".join(map(str, kernel)) + "/" + "x".join(map(str, sorted(set(stride))))


# -- layers --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConvLayer:
    """A convolution layer given by a `symconv.Conv` spec (a ReLU after it changes no count).

    Every layer has `evaluate(shape)`: the `LayerResult` for an incoming `(C, *spatial)` shape.

    ```python
    >>> from symconv import Conv
    >>> layer = ConvLayer("conv1", Conv(in_channels=3, out_channels=96, kernel_size=11, stride=4))
    >>> result = layer.evaluate((3, 227, 227))
    >>> result.shape, result.parameters, result.macs
    ((96, 55, 55), 34944, 105415200)

    ```
    """

    name: str
    spec: Conv
    kind: ClassVar[str] = "conv"

    def evaluate(self, shape: Shape) -> LayerResult:
        spec = self.spec
        channels, spatial = _spatial(shape, spec.dims)
        if channels != spec.in_channels:
            raise SpecError(
                f"in_channels {spec.in_channels} differs from the incoming {channels} channels"
            )
        pads = {lo for pair in spec.pads for lo in pair}
        pad = str(pads.pop()) if len(pads) == 1 else str(spec.pads)
        text = f"conv {_window(spec.kernel_size, spec.stride)} pad {pad}, {spec.out_channels}"
        text += f", groups {spec.groups}" if spec.groups > 1 else ""
        return LayerResult(
            (spec.out_channels, *spec.output_size(spatial)),
            spec.num_parameters(),
            spec.macs(spatial),
            text,
        )


@dataclass(frozen=True)
class PoolLayer:
    """A pooling layer given by a `symconv.Pool` spec: no parameters, keeps the depth."""

    name: str
    spec: Pool
    kind: ClassVar[str] = "pool"

    def evaluate(self, shape: Shape) -> LayerResult:
        spec = self.spec
        channels, spatial = _spatial(shape, spec.dims)
        text = f"{spec.kind} pool {_window(spec.kernel_size, spec.stride)}"
        text += f" pad {spec.padding[0]}" if any(spec.padding) else ""
        text += " ceil" if spec.ceil_mode else ""
        return LayerResult((channels, *spec.output_size(spatial)), 0, 0, text)


@dataclass(frozen=True)
class LRN:
    """Local response normalisation (AlexNet's "NORM"): no parameters, same shape.

    Its arithmetic (a sum of squares over `size` neighbouring channels per output) is not a
    multiply-add of weights and inputs, so it counts no MACs.
    """

    name: str
    size: int = 5
    kind: ClassVar[str] = "lrn"

    def evaluate(self, shape: Shape) -> LayerResult:
        if len(shape) < 2:
            raise SpecError(f"expects a (C, *spatial) volume, got shape {shape}")
        return LayerResult(shape, 0, 0, f"LRN size {self.size}")


@dataclass(frozen=True)
class Flatten:
    """Flatten `(C, *spatial)` to one axis: a view, no new memory."""

    name: str
    kind: ClassVar[str] = "flatten"

    def evaluate(self, shape: Shape) -> LayerResult:
        return LayerResult((math.prod(shape),), 0, 0, "flatten", view=True)


@dataclass(frozen=True)
class Dropout:
    """Dropout with rate `p`: no parameters, same shape; the identity at inference (a view)."""

    name: str
    p: float = 0.5
    kind: ClassVar[str] = "dropout"

    def evaluate(self, shape: Shape) -> LayerResult:
        return LayerResult(shape, 0, 0, f"dropout {self.p:.0%}", view=True)


@dataclass(frozen=True)
class Linear:
    """A fully connected layer; `in_features` is the flattened size of the incoming volume.

    ```python
    >>> Linear("fc6", 4096).num_parameters(6 * 6 * 256)
    37752832

    ```
    """

    name: str
    out_features: int
    bias: bool = True
    kind: ClassVar[str] = "linear"

    def __post_init__(self) -> None:
        if (
            isinstance(self.out_features, bool)
            or not isinstance(self.out_features, int)
            or self.out_features < 1
        ):
            raise SpecError(
                f"Linear {self.name!r}: out_features must be an integer >= 1, "
                f"got {self.out_features!r}"
            )

    def num_parameters(self, in_features: int) -> int:
        """Weights plus biases: $n_\\mathrm{in} n_\\mathrm{out} + n_\\mathrm{out}$."""
        return in_features * self.out_features + (self.out_features if self.bias else 0)

    def macs(self, in_features: int) -> int:
        """Multiply-adds per sample: one per weight."""
        return in_features * self.out_features

    def flops(self, in_features: int, exact: bool = False) -> int:
        """`2 * macs`, or with `exact=True` per output $n$ multiplications, $n - 1$ additions
        and one more for the bias (as `Conv.flops`)."""
        if not exact:
            return 2 * self.macs(in_features)
        return self.out_features * (2 * in_features - 1 + (1 if self.bias else 0))

    def evaluate(self, shape: Shape) -> LayerResult:
        n = math.prod(shape)
        return LayerResult(
            (self.out_features,),
            self.num_parameters(n),
            self.macs(n),
            f"linear {n} -> {self.out_features}",
        )


@dataclass(frozen=True)
class Inception:
    """GoogLeNet's inception block, given by its branch widths (the paper's Table 1 columns).

    Four branches on the same input, concatenated along the channels:
    1x1 conv; 1x1 "reduce" then 3x3 (pad 1); 1x1 "reduce" then 5x5 (pad 2); 3x3 max pool
    (stride 1, pad 1) then 1x1 "pool proj". Every conv is followed by a ReLU.

    ```python
    >>> block = Inception("3a", 64, 96, 128, 16, 32, 32, bias=False)
    >>> block.out_channels, block.evaluate((192, 28, 28)).parameters
    (256, 163328)

    ```
    """

    name: str
    n1x1: int
    n3x3_reduce: int
    n3x3: int
    n5x5_reduce: int
    n5x5: int
    pool_proj: int
    bias: bool = True
    kind: ClassVar[str] = "inception"

    @property
    def widths(self) -> tuple[int, int, int, int, int, int]:
        return (self.n1x1, self.n3x3_reduce, self.n3x3, self.n5x5_reduce, self.n5x5, self.pool_proj)

    @property
    def out_channels(self) -> int:
        return self.n1x1 + self.n3x3 + self.n5x5 + self.pool_proj

    def branches(self, in_channels: int) -> tuple[tuple[Conv | Pool, ...], ...]:
        """The four branches as spec sequences, in concatenation order."""

        def conv(c_in: int, c_out: int, k: int) -> Conv:
            return Conv(
                in_channels=c_in,
                out_channels=c_out,
                kernel_size=k,
                padding=(k - 1) // 2,
                bias=self.bias,
            )

        return (
            (conv(in_channels, self.n1x1, 1),),
            (conv(in_channels, self.n3x3_reduce, 1), conv(self.n3x3_reduce, self.n3x3, 3)),
            (conv(in_channels, self.n5x5_reduce, 1), conv(self.n5x5_reduce, self.n5x5, 5)),
            (
                Pool(kind="max", kernel_size=3, stride=1, padding=1),
                conv(in_channels, self.pool_proj, 1),
            ),
        )

    def evaluate(self, shape: Shape) -> LayerResult:
        channels, spatial = _spatial(shape, 2)
        sizes, parameters, macs = set(), 0, 0
        for branch in self.branches(channels):
            size = spatial
            for spec in branch:
                if isinstance(spec, Conv):
                    parameters += spec.num_parameters()
                    macs += spec.macs(size)
                size = spec.output_size(size)
            sizes.add(size)
        if len(sizes) != 1:
            raise SpecError(f"branch outputs {sorted(sizes)} differ, cannot concatenate")
        text = "inception " + " ".join(map(str, self.widths))
        return LayerResult((self.out_channels, *sizes.pop()), parameters, macs, text)


Layer = ConvLayer | PoolLayer | LRN | Flatten | Dropout | Linear | Inception
_LAYER_TYPES = (ConvLayer, PoolLayer, LRN, Flatten, Dropout, Linear, Inception)


# -- the table -----------------------------------------------------------------------------------
def volume(shape: Shape) -> str:
    """A `(C, *spatial)` shape in the lectures' order, spatial first.

    ```python
    >>> volume((96, 55, 55)), volume((4096,))
    ('55x55x96', '4096')

    ```
    """
    return "x".join(map(str, (*shape[1:], shape[0])))


@dataclass(frozen=True)
class Row:
    """One layer of a `Table`.

    `activations` is the number of values in the layer's output; `memory` its bytes, zero for a
    view (flatten, dropout at inference), which stores nothing new.
    """

    index: int
    name: str
    kind: str
    layer: str
    shape: Shape
    parameters: int
    macs: int
    activations: int
    memory: int

    @property
    def volume(self) -> str:
        return volume(self.shape)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "kind": self.kind,
            "layer": self.layer,
            "shape": list(self.shape),
            "volume": self.volume,
            "parameters": self.parameters,
            "macs": self.macs,
            "activations": self.activations,
            "memory": self.memory,
        }


@dataclass(frozen=True)
class Table:
    """Per-layer sizes and totals of a `Network` (see `Network.table`).

    `total_activations` counts the input and every layer output that is stored (views
    excluded): the forward memory of one sample, as CS231n's VGG table counts it.
    """

    network: str
    input_shape: Shape
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    bytes_per_element: int = 4

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].shape if self.rows else self.input_shape

    @property
    def total_parameters(self) -> int:
        return sum(r.parameters for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def input_activations(self) -> int:
        return math.prod(self.input_shape)

    @property
    def total_activations(self) -> int:
        return self.input_activations + sum(r.activations for r in self.rows if r.memory)

    @property
    def total_memory(self) -> int:
        """Bytes of the forward activations of one sample, input included."""
        return self.total_activations * self.bytes_per_element

    def row(self, name: str) -> Row:
        """The row of the layer called `name`."""
        for r in self.rows:
            if r.name == name:
                return r
        raise SpecError(
            f"{self.network}: no layer named {name!r}; layers are "
            + ", ".join(r.name for r in self.rows)
        )

    def _cells(self) -> tuple[list[str], list[list[str]], list[str]]:
        head = ["#", "layer", "type", "output", "params", "MACs", "activations", "memory (MB)"]
        body = [
            [
                str(r.index),
                r.name,
                r.layer,
                r.volume,
                f"{r.parameters:,}",
                f"{r.macs:,}",
                f"{r.activations:,}",
                f"{r.memory / 1e6:.2f}",
            ]
            for r in self.rows
        ]
        body.insert(
            0,
            [
                "0",
                "input",
                "",
                volume(self.input_shape),
                "0",
                "0",
                f"{self.input_activations:,}",
                f"{self.input_activations * self.bytes_per_element / 1e6:.2f}",
            ],
        )
        total = [
            "",
            "total",
            "",
            "",
            f"{self.total_parameters:,}",
            f"{self.total_macs:,}",
            f"{self.total_activations:,}",
            f"{self.total_memory / 1e6:.2f}",
        ]
        return head, body, total

    def text(self) -> str:
        """An aligned plain-text table (numbers right-aligned), totals, then the notes.

        ```python
        >>> from symconv import arch
        >>> print(arch.get("lenet5").table().text().splitlines()[0])  # doctest: +ELLIPSIS
        lenet5: input 32x32x1, ...

        ```
        """
        head, body, total = self._cells()
        lines = [head, *body, total]
        widths = [max(len(line[c]) for line in lines) for c in range(len(head))]
        numeric = {0, 4, 5, 6, 7}

        def fmt(cells: list[str]) -> str:
            return "  ".join(
                c.rjust(w) if i in numeric else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        rule = "  ".join("-" * w for w in widths)
        out = [
            f"{self.network}: input {volume(self.input_shape)}, "
            f"{self.bytes_per_element}-byte activations (memory in MB = 10^6 bytes)",
            fmt(head),
            rule,
            *map(fmt, body),
            rule,
            fmt(total),
        ]
        out += [""] + [f"note: {n}" for n in self.notes] if self.notes else []
        return "\n".join(out)

    def markdown(self) -> str:
        """A Markdown table (GitHub style), the totals in bold, the notes as a list.

        ```python
        >>> from symconv import arch
        >>> arch.get("lenet5").table().markdown().splitlines()[2]
        '| # | layer | type | output | params | MACs | activations | memory (MB) |'

        ```
        """
        head, body, total = self._cells()
        right = {0, 4, 5, 6, 7}
        out = [
            f"**{self.network}** (input {volume(self.input_shape)})",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|",
        ]
        out += ["| " + " | ".join(cells) + " |" for cells in body]
        out.append("| " + " | ".join(f"**{c}**" if c else "" for c in total) + " |")
        if self.notes:
            out += ["", *(f"- {n}" for n in self.notes)]
        return "\n".join(out)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: rows, totals and notes.

        ```python
        >>> from symconv import arch
        >>> arch.get("lenet5").table().as_dict()["totals"]["parameters"]
        61706

        ```
        """
        return {
            "network": self.network,
            "input_shape": list(self.input_shape),
            "bytes_per_element": self.bytes_per_element,
            "rows": [r.as_dict() for r in self.rows],
            "totals": {
                "parameters": self.total_parameters,
                "macs": self.total_macs,
                "input_activations": self.input_activations,
                "activations": self.total_activations,
                "memory": self.total_memory,
            },
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        return self.text()


# -- networks ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Network:
    """A network: a name, the input shape `(C, *spatial)` of one sample, layers, notes.

    `notes` records every place where a lecture or paper prints a number that differs from the
    computed one, and the modelling choices behind the layers.

    ```python
    >>> from symconv import Conv
    >>> net = Network("tiny", (3, 32, 32), [
    ...     ConvLayer("conv", Conv(in_channels=3, out_channels=10, kernel_size=5, padding=2)),
    ...     Linear("fc", 10)])
    >>> [r.volume for r in net.table().rows], net.table().total_parameters
    (['32x32x10', '10'], 103170)

    ```
    """

    name: str
    input_shape: Shape
    layers: tuple[Layer, ...]
    notes: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        shape = self.input_shape
        if (
            isinstance(shape, int)
            or not isinstance(shape, Sequence)
            or not shape
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape)
        ):
            raise SpecError(
                f"Network {self.name!r}: input_shape must be a tuple of integers "
                f">= 1, (C, *spatial), got {shape!r}"
            )
        set_(self, "input_shape", tuple(shape))
        set_(self, "layers", tuple(self.layers))
        set_(self, "notes", tuple(self.notes))
        if not self.layers:
            raise SpecError(f"Network {self.name!r}: layers must not be empty")
        seen: set[str] = set()
        for i, layer in enumerate(self.layers, 1):
            if not isinstance(layer, _LAYER_TYPES):
                raise SpecError(
                    f"Network {self.name!r}: layer {i} is a {type(layer).__name__}, "
                    f"expected one of " + ", ".join(t.__name__ for t in _LAYER_TYPES)
                )
            if layer.name in seen:
                raise SpecError(
                    f"Network {self.name!r}: layer {i} repeats the name "
                    f"{layer.name!r}; layer names must be unique"
                )
            seen.add(layer.name)

    def table(self, bytes_per_element: int = 4) -> Table:
        """Compute every layer: output volume, parameters, MACs, activations and memory.

        Raises:
            SpecError: naming the network, the layer and the problem, e.g. a conv whose
                `in_channels` differs from the incoming channel count.

        ```python
        >>> from symconv import arch
        >>> arch.get("vgg16").table().total_parameters
        138357544

        ```
        """
        rows, shape = [], self.input_shape
        for i, layer in enumerate(self.layers, 1):
            try:
                out = layer.evaluate(shape)
            except SpecError as error:
                raise SpecError(
                    f"{self.name}: layer {i} {layer.name!r} ({layer.kind}) on input "
                    f"{volume(shape)}: {error}"
                ) from None
            n = math.prod(out.shape)
            rows.append(
                Row(
                    i,
                    layer.name,
                    layer.kind,
                    out.description,
                    out.shape,
                    out.parameters,
                    out.macs,
                    n,
                    0 if out.view else n * bytes_per_element,
                )
            )
            shape = out.shape
        return Table(self.name, self.input_shape, tuple(rows), self.notes, bytes_per_element)


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
        self, name: str, k: int, stride: int, kind: str = "max", ceil_mode: bool = False
    ) -> _Stack:
        self.layers.append(
            PoolLayer(
                name,
                Pool(
                    kind=kind,
                    kernel_size=k,
                    stride=stride,  # type: ignore[arg-type]
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
    full = s.layers[2].spec.num_parameters()  # type: ignore[union-attr]
    subsampling = 2 * 6 + 2 * 16  # S2, S4: one trainable coefficient and one bias per map
    output = s.layers[-1].num_parameters(84)  # type: ignore[union-attr]
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
    conv1 = s.layers[0].spec  # type: ignore[union-attr]
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
VGG_CONFIGS: dict[str, tuple[int | str, ...]] = {
    "A": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "A-LRN": (64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "B": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "C": (
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        "1:256",
        "M",
        512,
        512,
        "1:512",
        "M",
        512,
        512,
        "1:512",
        "M",
    ),
    "D": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "E": (
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        512,
        "M",
    ),
}
# Table 2 of Simonyan and Zisserman (2014), "Number of parameters (in millions)".
VGG_PRINTED_MILLIONS: dict[str, int] = {
    "A": 133,
    "A-LRN": 133,
    "B": 133,
    "C": 134,
    "D": 138,
    "E": 144,
}


def vgg(config: str, name: str | None = None) -> Network:
    """A VGG configuration, `"A"`, `"A-LRN"`, `"B"`, `"C"`, `"D"` or `"E"`, on 224x224x3.

    ```python
    >>> vgg("D").table().total_parameters
    138357544

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
            index += 1
    s.add(Linear("fc6", 4096)).add(Linear("fc7", 4096)).add(Linear("fc8", 1000))
    name = name or "vgg_" + config.lower().replace("-", "_")
    net = Network(
        name,
        (3, 224, 224),
        s.layers,
        (),
        f"VGG configuration {config} (Simonyan and Zisserman 2014)",
    )
    table = net.table()
    notes = []
    printed = VGG_PRINTED_MILLIONS[config]
    if round(table.total_parameters / 1e6) != printed:
        notes.append(
            f"Table 2 prints {printed} million parameters; computed {_n(table.total_parameters)}."
        )
    if config == "D":
        notes.append(
            f"Forward activations per image, input included: {_n(table.total_activations)} "
            f"values, {table.total_memory / 1e6:.1f} MB in float32; CS231n (quoted in the Kondor "
            "lecture) prints '24 Million X 4 bytes ~ 93 MB' (24M x 4 bytes would be 96 MB)."
        )
    return replace(net, notes=tuple(notes))


# -- GoogLeNet -----------------------------------------------------------------------------------
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

# Table 1 of Szegedy et al. (2015), as printed: row, our layers, output size, params, ops.
# Params are in K = 1024, ops (multiply-adds) in M = 10^6; the paper's counts exclude biases.
GOOGLENET_PRINTED: tuple[tuple[str, tuple[str, ...], str, str, str], ...] = (
    ("convolution 7x7/2", ("conv1",), "112x112x64", "2.7K", "34M"),
    ("max pool 3x3/2", ("pool1",), "56x56x64", "", ""),
    ("convolution 3x3/1", ("conv2_reduce", "conv2"), "56x56x192", "112K", "360M"),
    ("max pool 3x3/2", ("pool2",), "28x28x192", "", ""),
    ("inception (3a)", ("inception_3a",), "28x28x256", "159K", "128M"),
    ("inception (3b)", ("inception_3b",), "28x28x480", "380K", "304M"),
    ("max pool 3x3/2", ("pool3",), "14x14x480", "", ""),
    ("inception (4a)", ("inception_4a",), "14x14x512", "364K", "73M"),
    ("inception (4b)", ("inception_4b",), "14x14x512", "437K", "88M"),
    ("inception (4c)", ("inception_4c",), "14x14x512", "463K", "100M"),
    ("inception (4d)", ("inception_4d",), "14x14x528", "580K", "119M"),
    ("inception (4e)", ("inception_4e",), "14x14x832", "840K", "170M"),
    ("max pool 3x3/2", ("pool4",), "7x7x832", "", ""),
    ("inception (5a)", ("inception_5a",), "7x7x832", "1072K", "54M"),
    ("inception (5b)", ("inception_5b",), "7x7x1024", "1388K", "71M"),
    ("avg pool 7x7/1", ("avgpool",), "1x1x1024", "", ""),
    ("dropout (40%)", ("dropout",), "1x1x1024", "", ""),
    ("linear", ("fc",), "1x1x1000", "1000K", "1M"),
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
    for label, names, size, params, ops in GOOGLENET_PRINTED:
        rows = [table.row(n) for n in names]
        shape = rows[-1].shape
        computed = volume((shape[0], 1, 1) if len(shape) == 1 else shape)  # "1x1x1000"
        out.append(Comparison(label, "output", size, computed, size == computed))
        for quantity, printed, computed in (
            ("params", params, sum(r.parameters for r in rows)),
            ("ops", ops, sum(r.macs for r in rows)),
        ):
            if printed:
                out.append(
                    Comparison(label, quantity, printed, computed, _agrees(printed, computed))
                )
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


# -- the registry --------------------------------------------------------------------------------
_BUILDERS: dict[str, Callable[[], Network]] = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "alexnet_grouped": lambda: alexnet(grouped=True),
    "zfnet": zfnet,
    "vgg11": lambda: vgg("A", "vgg11"),
    "vgg13": lambda: vgg("B", "vgg13"),
    "vgg16": lambda: vgg("D", "vgg16"),
    "vgg19": lambda: vgg("E", "vgg19"),
    "vgg_a": lambda: vgg("A"),
    "vgg_a_lrn": lambda: vgg("A-LRN"),
    "vgg_b": lambda: vgg("B"),
    "vgg_c": lambda: vgg("C"),
    "vgg_d": lambda: vgg("D"),
    "vgg_e": lambda: vgg("E"),
    "googlenet": googlenet,
    "googlenet_bias": lambda: googlenet(bias=True),
}
NAMES: tuple[str, ...] = tuple(_BUILDERS)


def get(name: str) -> Network:
    """The shipped network called `name` (one of `NAMES`).

    Raises:
        SpecError: for an unknown name, listing the known ones.

    ```python
    >>> get("zfnet").table().row("pool3").volume
    '6x6x512'

    ```
    """
    if not isinstance(name, str) or name not in _BUILDERS:
        raise SpecError(f"arch: unknown network {name!r}; known networks are " + ", ".join(NAMES))
    return _build(name)


@cache
def _build(name: str) -> Network:
    return _BUILDERS[name]()
