"""An architecture's table: one `Row` per layer, blocks, totals, and their renderings.

Private: `symconv.arch` re-exports `Row`, `Table`, `BlockSummary` and `volume`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from .._errors import SpecError

__all__ = ["BlockSummary", "Row", "Table", "volume"]

Shape = tuple[int, ...]


def volume(shape: Shape) -> str:
    """A `(C, *spatial)` shape in the lectures' order, spatial first.

    ```python
    >>> volume((96, 55, 55)), volume((4096,))
    ('55x55x96', '4096')

    ```
    """
    return "x".join(map(str, (*shape[1:], shape[0])))


def _field(size: tuple[int, ...] | None) -> str:
    return "" if size is None else "x".join(map(str, size))


@dataclass(frozen=True)
class Row:
    """One layer of a `Table`.

    `activations` is the number of values in the layer's output; `memory` its bytes, zero for a
    view (flatten, dropout at inference, an in-place activation), which stores nothing new;
    `depth` the layers with weights on the longest path through the layer itself
    (`LayerResult`). `inputs` names the layers it reads (`"input"` for the network's input),
    `block` the block it belongs to (`""` for none), `receptive_field` the input window one
    output value sees (the largest over all paths; `None` where every output sees the whole
    input: after global pooling, a linear layer or a squeeze-and-excitation gate).
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
    inputs: tuple[str, ...] = ()
    block: str = ""
    receptive_field: tuple[int, ...] | None = None

    @property
    def volume(self) -> str:
        return volume(self.shape)

    def as_dict(self) -> dict[str, Any]:
        field = self.receptive_field
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
            "inputs": list(self.inputs),
            "block": self.block,
            "receptive_field": None if field is None else list(field),
        }


@dataclass(frozen=True)
class BlockSummary:
    """A block's rows and their sums (`Table.blocks`); `depth` is the longest path of layers
    with weights from the block's inputs to its output."""

    name: str
    rows: tuple[Row, ...]
    depth: int

    @property
    def shape(self) -> Shape:
        return self.rows[-1].shape

    @property
    def parameters(self) -> int:
        return sum(r.parameters for r in self.rows)

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def activations(self) -> int:
        return sum(r.activations for r in self.rows if r.memory)

    @property
    def memory(self) -> int:
        return sum(r.memory for r in self.rows)


def _longest(rows: tuple[Row, ...], names: set[str] | None = None) -> dict[str, int]:
    """Layers with weights on the longest path to each row (within `names` if given)."""
    out: dict[str, int] = {}
    for r in rows:
        if names is not None and r.name not in names:
            continue
        out[r.name] = r.depth + max((out.get(i, 0) for i in r.inputs), default=0)
    return out


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
        """Layers with weights on the longest path to the output: the depth the papers give.

        ```python
        >>> from symconv import arch
        >>> arch.get("vgg16").table().depth, arch.get("googlenet").table().depth
        (16, 22)
        >>> arch.get("resnet50").table().depth
        50

        ```
        """
        return _longest(self.rows)[self.rows[-1].name] if self.rows else 0

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

    def blocks(self) -> list[BlockSummary]:
        """Consecutive rows of one block grouped (a row outside blocks is a block of its own).

        ```python
        >>> from symconv import arch
        >>> b = arch.get("resnet18").table().blocks()[4]
        >>> b.name, b.parameters, b.depth
        ('layer1.0', 73984, 2)

        ```
        """
        groups: list[list[Row]] = []
        for r in self.rows:
            if groups and r.block and groups[-1][0].block == r.block:
                groups[-1].append(r)
            else:
                groups.append([r])
        out = []
        for g in groups:
            depths = _longest(tuple(g), {r.name for r in g})
            out.append(BlockSummary(g[0].block or g[0].name, tuple(g), depths[g[-1].name]))
        return out

    HEAD: ClassVar[tuple[str, ...]] = (
        "#",
        "layer",
        "type",
        "output",
        "params",
        "MACs",
        "activations",
        "memory (MB)",
        "RF",
    )
    NUMERIC: ClassVar[frozenset[int]] = frozenset({0, 4, 5, 6, 7})

    def cells(self, r: Row) -> list[str]:
        """One row's cells, in `HEAD`'s order."""
        return [
            str(r.index),
            r.name,
            r.layer,
            r.volume,
            f"{r.parameters:,}",
            f"{r.macs:,}",
            f"{r.activations:,}",
            f"{r.memory / 1e6:.2f}",
            _field(r.receptive_field),
        ]

    def input_cells(self) -> list[str]:
        """The input's row."""
        n = self.input_activations
        mb = f"{n * self.bytes_per_element / 1e6:.2f}"
        return ["0", "input", "", volume(self.input_shape), "0", "0", f"{n:,}", mb, ""]

    def total_cells(self) -> list[str]:
        """The totals' row (the depth under the type)."""
        return [
            "",
            "total",
            f"depth {self.depth}",
            "",
            f"{self.total_parameters:,}",
            f"{self.total_macs:,}",
            f"{self.total_activations:,}",
            f"{self.total_memory / 1e6:.2f}",
            "",
        ]

    def block_cells(self, index: int, b: BlockSummary) -> list[str]:
        """A block's summary row: its sums, its output and its last receptive field."""
        kind = b.rows[0].layer if len(b.rows) == 1 else f"block ({len(b.rows)} layers)"
        return [
            str(index),
            b.name,
            kind,
            volume(b.shape),
            f"{b.parameters:,}",
            f"{b.macs:,}",
            f"{b.activations:,}",
            f"{b.memory / 1e6:.2f}",
            _field(b.rows[-1].receptive_field),
        ]

    def text(self) -> str:
        """An aligned plain-text table (numbers right-aligned), totals, then the notes.

        ```python
        >>> from symconv import arch
        >>> print(arch.get("lenet5").table().text().splitlines()[0])  # doctest: +ELLIPSIS
        lenet5: input 32x32x1, ...

        ```
        """
        head = list(self.HEAD)
        body = [self.input_cells(), *(self.cells(r) for r in self.rows)]
        total = self.total_cells()
        lines = [head, *body, total]
        widths = [max(len(line[c]) for line in lines) for c in range(len(head))]

        def fmt(cells: list[str]) -> str:
            return "  ".join(
                c.rjust(w) if i in self.NUMERIC else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()

        rule = "  ".join("-" * w for w in widths)
        out = [
            f"{self.network}: input {volume(self.input_shape)}, "
            f"{self.bytes_per_element}-byte activations (memory in MB = 10^6 bytes, "
            "RF = receptive field)",
            fmt(head),
            rule,
            *map(fmt, body),
            rule,
            fmt(total),
        ]
        out += [""] + [f"note: {n}" for n in self.notes] if self.notes else []
        return "\n".join(out)

    def _md_rows(self, rows: list[list[str]]) -> list[str]:
        return ["| " + " | ".join(cells) + " |" for cells in rows]

    def _md_head(self) -> list[str]:
        rule = "|".join("---:" if i in self.NUMERIC else "---" for i in range(len(self.HEAD)))
        return ["| " + " | ".join(self.HEAD) + " |", "|" + rule + "|"]

    def markdown(self, collapsible: bool = False) -> str:
        """A Markdown table (GitHub style), the totals in bold, the notes as a list.

        `collapsible=True` gives one summary row per block, then each block's layers in an
        HTML `<details>` element (for the docs site).

        ```python
        >>> from symconv import arch
        >>> arch.get("lenet5").table().markdown().splitlines()[2]
        '| # | layer | type | output | params | MACs | activations | memory (MB) | RF |'

        ```
        """
        total = [f"**{c}**" if c else "" for c in self.total_cells()]
        out = [f"**{self.network}** (input {volume(self.input_shape)})", ""]
        if not collapsible:
            body = [self.input_cells(), *(self.cells(r) for r in self.rows), total]
            out += self._md_head() + self._md_rows(body)
        else:
            summary = [self.input_cells()]
            summary += [self.block_cells(i, b) for i, b in enumerate(self.blocks(), 1)]
            out += self._md_head() + self._md_rows([*summary, total])
            for b in self.blocks():
                if len(b.rows) > 1:
                    rows = self._md_head() + self._md_rows([self.cells(r) for r in b.rows])
                    out += [
                        "",
                        f"<details><summary>{b.name}: {len(b.rows)} layers, "
                        f"{b.parameters:,} parameters, depth {b.depth}</summary>",
                        "",
                        *rows,
                        "",
                        "</details>",
                    ]
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
