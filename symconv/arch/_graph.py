"""`Graph`: builds a network's nodes, tracking each layer's channel count so that every conv
gets its `in_channels`. Private (the network modules use it).

Names follow torchvision's module names (`layer1.0.conv1`), so a table's rows line up with
the parameters of the torch model (`torch.nn.Module.named_parameters`).
"""

from __future__ import annotations

from ..spec import Conv, Pool, PoolKind
from ._layers import (
    Activation,
    AdaptiveAvgPool,
    Add,
    BatchNorm,
    Concat,
    ConvLayer,
    Dropout,
    Flatten,
    Inception,
    Layer,
    Linear,
    PoolLayer,
    Scale,
)
from ._network import INPUT, Network, Node
from ._table import Table

__all__ = ["Graph", "printed_totals"]


class Graph:
    """Nodes in topological order; `last` is the most recent node, `block` the current block.

    Every method appends one node reading `src` (default: `last`) and returns its name.
    """

    def __init__(self, channels: int) -> None:
        self.nodes: list[Node] = []
        self.channels: dict[str, int] = {INPUT: channels}
        self.last = INPUT
        self.block = ""

    def name(self, leaf: str) -> str:
        """`leaf` under the current block, unless it already names its full path."""
        if not self.block or leaf == self.block or leaf.startswith(self.block + "."):
            return leaf
        return f"{self.block}.{leaf}"

    def add(self, layer: Layer, *src: str, channels: int | None = None) -> str:
        inputs = src or (self.last,)
        self.nodes.append(Node(layer, tuple(inputs), self.block))
        if channels is None:
            channels = self.channels[inputs[0]]
            if isinstance(layer, Concat):
                channels = sum(self.channels[i] for i in inputs)
        self.channels[layer.name] = channels
        self.last = layer.name
        return layer.name

    def conv(
        self,
        leaf: str,
        out: int,
        k: int,
        stride: int = 1,
        padding: int | None = None,
        groups: int = 1,
        bias: bool = False,
        src: str | None = None,
    ) -> str:
        src = src or self.last
        spec = Conv(
            in_channels=self.channels[src],
            out_channels=out,
            kernel_size=k,
            stride=stride,
            padding=(k - 1) // 2 if padding is None else padding,
            groups=groups,
            bias=bias,
        )
        return self.add(ConvLayer(self.name(leaf), spec), src, channels=out)

    def bn(self, leaf: str, src: str | None = None) -> str:
        return self.add(BatchNorm(self.name(leaf)), *([src] if src else []))

    def act(self, leaf: str, fn: str = "relu", inplace: bool = True) -> str:
        return self.add(Activation(self.name(leaf), fn, inplace))

    def pool(
        self,
        leaf: str,
        k: int,
        stride: int,
        padding: int = 0,
        kind: PoolKind = "max",
        ceil_mode: bool = False,
        src: str | None = None,
    ) -> str:
        spec = Pool(
            kind=kind,
            kernel_size=k,
            stride=stride,
            padding=padding,
            ceil_mode=ceil_mode,
        )
        return self.add(PoolLayer(self.name(leaf), spec), *([src] if src else []))

    def gap(self, leaf: str, size: int = 1, src: str | None = None) -> str:
        return self.add(AdaptiveAvgPool(self.name(leaf), size), *([src] if src else []))

    def sum(self, leaf: str, *src: str) -> str:
        return self.add(Add(self.name(leaf)), *src)

    def cat(self, leaf: str, *src: str) -> str:
        return self.add(Concat(self.name(leaf)), *src)

    def scale(self, leaf: str, x: str, gate: str) -> str:
        return self.add(Scale(self.name(leaf)), x, gate)

    def flatten(self, leaf: str = "flatten") -> str:
        return self.add(Flatten(self.name(leaf)), channels=0)

    def dropout(self, leaf: str, p: float) -> str:
        return self.add(Dropout(self.name(leaf), p))

    def linear(self, leaf: str, out: int, bias: bool = True) -> str:
        return self.add(Linear(self.name(leaf), out, bias), channels=out)

    def inception(self, layer: Inception) -> str:
        return self.add(layer, channels=layer.out_channels)


def printed_totals(
    g: Graph,
    macs: str,
    params: str | None = None,
    where: str = "The paper",
    shape: tuple[int, ...] = (3, 224, 224),
) -> str:
    """A note comparing a paper's printed totals (`macs`, `params`, as printed) with the
    computed ones, batch norm's parameters shown apart (papers often leave them out)."""
    t: Table = Network("totals", shape, g.nodes).table()
    bn = sum(r.parameters for r in t.rows if r.kind == "batchnorm")
    printed = f"{params} parameters and {macs}" if params else macs
    text = f"{where} prints {printed} multiply-adds; computed {t.total_parameters:,} parameters"
    text += f" ({t.total_parameters - bn:,} without batch norm's {bn:,})" if bn else ""
    return text + f" and {t.total_macs:,} MACs."
