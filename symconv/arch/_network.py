"""A network: layers joined into a directed acyclic graph, evaluated into a `Table`.

Private: `symconv.arch` re-exports `Network` and `Node`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._errors import SpecError
from .._validate import as_int
from ..arith import ReceptiveField, _extend_field
from ._layers import (
    LAYER_TYPES,
    AdaptiveAvgPool,
    ConvLayer,
    Flatten,
    Inception,
    Layer,
    Linear,
    PoolLayer,
    Scale,
)
from ._table import Row, Table, volume

__all__ = ["INPUT", "Network", "Node"]

Shape = tuple[int, ...]
INPUT = "input"  # the name by which a node reads the network's input
# the receptive field of the windows on the widest path (extended layer by layer, not recomputed
# from the whole path: networks are 150+ layers deep); None: the whole input
_Path = ReceptiveField | None


@dataclass(frozen=True)
class Node:
    """A layer with the names of the layers it reads (`inputs`) and the block it belongs to.

    `inputs=()` reads the previous layer (the network's input for the first); a merge layer
    (`Add`, `Concat`, `Scale`) lists two or more. In `Network.layers` a bare layer is a
    `Node` with no inputs and no block.
    """

    layer: Layer
    inputs: tuple[str, ...] = ()
    block: str = ""

    @property
    def name(self) -> str:
        return self.layer.name


def _field(path: _Path) -> tuple[int, ...] | None:
    return None if path is None else path.size


def _widest(paths: list[_Path]) -> _Path:
    """The path whose receptive field is largest (None, the whole input, wins)."""
    if any(p is None for p in paths):
        return None
    return max(paths, key=lambda p: math.prod(_field(p) or ()))


def _path(layer: Layer, inputs: list[_Path], shape: Shape, out: Shape) -> _Path:
    """The receptive field of the windows on the widest path to `layer`'s output."""
    if isinstance(layer, Linear | Flatten | Scale) or len(out) == 1:
        return None
    path = _widest(inputs)
    if path is None:
        return None
    if isinstance(layer, ConvLayer | PoolLayer):
        return _extend_field(path, (layer.spec,))
    if isinstance(layer, Inception):
        return _widest([_extend_field(path, b) for b in layer.branches(shape[0])])
    if isinstance(layer, AdaptiveAvgPool):
        return path if out == shape else None
    return path


@dataclass(frozen=True)
class Network:
    """A network: a name, the input shape `(C, *spatial)` of one sample, layers, notes.

    `layers` are layers or `Node`s in topological order (each reads only layers before it);
    a bare layer reads the previous one, so a plain stack is a list of layers. `notes` record
    every place where a lecture or paper prints a number that differs from the computed one,
    and the modelling choices behind the layers.

    ```python
    >>> from symconv import Conv
    >>> net = Network("tiny", (3, 32, 32), [
    ...     ConvLayer("conv", Conv(in_channels=3, out_channels=10, kernel_size=5, padding=2)),
    ...     Linear("fc", 10)])
    >>> [r.volume for r in net.table().rows], net.table().total_parameters
    (['32x32x10', '10'], 103170)

    ```
    """

    # The fields hold tuples (`__post_init__`); the `__init__` below, seen by type checkers
    # only, takes any sequences.
    name: str
    input_shape: Shape
    layers: tuple[Layer | Node, ...]
    notes: tuple[str, ...] = ()
    description: str = ""

    if TYPE_CHECKING:

        def __init__(
            self,
            name: str,
            input_shape: Sequence[int],
            layers: Sequence[Layer | Node],
            notes: Sequence[str] = (),
            description: str = "",
        ) -> None: ...

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
        for i, item in enumerate(self.layers, 1):
            layer = item.layer if isinstance(item, Node) else item
            if not isinstance(layer, LAYER_TYPES):
                raise SpecError(
                    f"Network {self.name!r}: layer {i} is a {type(layer).__name__}, "
                    f"expected one of " + ", ".join(t.__name__ for t in LAYER_TYPES) + " or Node"
                )
        seen: set[str] = {INPUT}
        for i, node in enumerate(self.nodes(), 1):
            layer = node.layer
            if layer.name in seen:
                raise SpecError(
                    f"Network {self.name!r}: layer {i} repeats the name "
                    f"{layer.name!r}; layer names must be unique"
                )
            for name in node.inputs:
                if name not in seen:
                    raise SpecError(
                        f"Network {self.name!r}: layer {i} {layer.name!r} reads {name!r}, "
                        "which is not an earlier layer (inputs must come first)"
                    )
            merge = getattr(layer, "merge", False)
            if merge != (len(node.inputs) > 1):
                raise SpecError(
                    f"Network {self.name!r}: layer {i} {layer.name!r} ({layer.kind}) has "
                    f"{max(1, len(node.inputs))} input(s); "
                    + ("a merge layer needs two or more" if merge else "it takes one")
                )
            seen.add(layer.name)

    def nodes(self) -> list[Node]:
        """The layers as `Node`s, each with its inputs named."""
        out, previous = [], INPUT
        for item in self.layers:
            node = item if isinstance(item, Node) else Node(item)
            if not node.inputs:
                node = Node(node.layer, (previous,), node.block)
            out.append(node)
            previous = node.name
        return out

    def table(self, bytes_per_element: int = 4) -> Table:
        """Compute every layer: output volume, parameters, MACs, activations, memory, and the
        receptive field on the widest path.

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
        dims = len(self.input_shape) - 1
        shapes: dict[str, Shape] = {INPUT: self.input_shape}
        paths: dict[str, _Path] = {INPUT: ReceptiveField((1,) * dims, (1,) * dims, (0.0,) * dims)}
        rows = []
        for i, node in enumerate(self.nodes(), 1):
            layer, ins = node.layer, [shapes[n] for n in node.inputs]
            try:
                # a merge layer (Add, Concat, Scale) reads 2+ shapes, every other layer one
                out = layer.evaluate(tuple(ins)) if len(ins) > 1 else layer.evaluate(ins[0])  # type: ignore[arg-type]
            except SpecError as error:
                shown = ", ".join(volume(s) for s in ins)
                raise SpecError(
                    f"{self.name}: layer {i} {layer.name!r} ({layer.kind}) on input "
                    f"{shown}: {error}"
                ) from None
            in_paths = [paths[n] for n in node.inputs]
            paths[layer.name] = _path(layer, in_paths, ins[0], out.shape)
            shapes[layer.name] = out.shape
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
                    node.inputs,
                    node.block,
                    _field(paths[layer.name]),
                )
            )
        return Table(self.name, self.input_shape, tuple(rows), self.notes, bytes_per_element)
