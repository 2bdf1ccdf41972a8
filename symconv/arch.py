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

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from ._errors import SpecError
from ._validate import as_int
from .spec import Conv, Pool

if TYPE_CHECKING:  # pragma: no cover
    from ._googlenet import GOOGLENET_PRINTED, Comparison, compare_googlenet, googlenet
    from ._networks import VGG_CONFIGS, VGG_PRINTED_MILLIONS, alexnet, lenet5, vgg, zfnet

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

    `view` is true when the output shares the input's memory (flatten, dropout at inference);
    `depth` counts the layers with weights on the longest path through it (1 for a conv or
    linear layer, 2 for an inception block: a 1x1 reduce, then its 3x3 or 5x5), as the papers
    count a network's depth (VGG's "16 weight layers", GoogLeNet's "22 layers deep").
    """

    shape: Shape
    parameters: int
    macs: int
    description: str
    view: bool = False
    depth: int = 0


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
            depth=1,
        )


@dataclass(frozen=True)
class PoolLayer:
    """A pooling layer given by a `symconv.Pool` spec: no parameters, keeps the channel count."""

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
            depth=1,
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
        return LayerResult((self.out_channels, *sizes.pop()), parameters, macs, text, depth=2)


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
    view (flatten, dropout at inference), which stores nothing new; `depth` the layers with
    weights on the longest path through it (`LayerResult`).
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
    depth: int = 0

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
            "depth": self.depth,
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
    def depth(self) -> int:
        """Layers with weights on the longest path: the depth the papers give.

        ```python
        >>> from symconv import arch
        >>> arch.get("vgg16").table().depth, arch.get("googlenet").table().depth
        (16, 22)

        ```
        """
        return sum(r.depth for r in self.rows)

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
                "depth": self.depth,
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
        bytes_per_element = as_int(self.name, "bytes_per_element", bytes_per_element, 1)
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
                    out.depth,
                )
            )
            shape = out.shape
        return Table(self.name, self.input_shape, tuple(rows), self.notes, bytes_per_element)


# -- the catalogue -------------------------------------------------------------------------------
# The networks live in private modules that build on the machinery above (they import this
# module), so this module loads them on first use: `arch.vgg`, `arch.get("vgg16")`. No import
# cycle, whichever module is imported first.
_CATALOGUE = {
    **dict.fromkeys(
        ("GOOGLENET_PRINTED", "Comparison", "compare_googlenet", "googlenet"), "_googlenet"
    ),
    **dict.fromkeys(
        ("VGG_CONFIGS", "VGG_PRINTED_MILLIONS", "alexnet", "lenet5", "vgg", "zfnet"), "_networks"
    ),
}


def _catalogue(name: str) -> Any:
    value = getattr(importlib.import_module(f".{_CATALOGUE[name]}", __package__), name)
    globals()[name] = value
    return value


def __getattr__(name: str) -> Any:
    if name not in _CATALOGUE:
        raise AttributeError(f"module 'symconv.arch' has no attribute {name!r}")
    return _catalogue(name)


# -- the registry --------------------------------------------------------------------------------
_BUILDERS: dict[str, Callable[[], Network]] = {
    "lenet5": lambda: _catalogue("lenet5")(),
    "alexnet": lambda: _catalogue("alexnet")(),
    "alexnet_grouped": lambda: _catalogue("alexnet")(grouped=True),
    "zfnet": lambda: _catalogue("zfnet")(),
    "vgg11": lambda: _catalogue("vgg")("A", "vgg11"),
    "vgg13": lambda: _catalogue("vgg")("B", "vgg13"),
    "vgg16": lambda: _catalogue("vgg")("D", "vgg16"),
    "vgg19": lambda: _catalogue("vgg")("E", "vgg19"),
    "vgg_a": lambda: _catalogue("vgg")("A"),
    "vgg_a_lrn": lambda: _catalogue("vgg")("A-LRN"),
    "vgg_b": lambda: _catalogue("vgg")("B"),
    "vgg_c": lambda: _catalogue("vgg")("C"),
    "vgg_d": lambda: _catalogue("vgg")("D"),
    "vgg_e": lambda: _catalogue("vgg")("E"),
    "googlenet": lambda: _catalogue("googlenet")(),
    "googlenet_bias": lambda: _catalogue("googlenet")(bias=True),
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
