r"""Architecture tables: a network as a graph of layers, computed layer by layer.

For each layer the table gives the output volume $(C, H, W)$, the parameters, the
multiply-adds (MACs) per sample of conv and linear layers, the activations (values, and bytes
in float32), the receptive field and the block it belongs to. Every size comes from the layer
specs' own methods (`Conv.output_size`, `Conv.num_parameters`, `Conv.macs`,
`Pool.output_size`, `symconv.receptive_field`): this package does no size arithmetic of its own.

A network is a directed acyclic graph (`Network`, `Node`): residual additions (`Add`),
channel concatenations (`Concat`) and squeeze-and-excitation gates (`Scale`) read several
layers. The networks of the lectures' case studies ship by name (`NAMES`, `get`, `SOURCES`);
`from_torch` tabulates a torch module built from the supported layers. Wherever a lecture or
paper prints a number that differs from the computed one, the network carries a note saying so.

```python
>>> from symconv import arch
>>> table = arch.get("alexnet").table()
>>> table.rows[0].volume, table.rows[0].parameters
('55x55x96', 34944)
>>> f"{table.total_parameters:,}"
'62,378,344'
>>> f"{arch.get('resnet50').table().total_parameters:,}"
'25,557,032'

```
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from .._errors import SpecError
from ._classic import (
    VGG_CONFIGS,
    VGG_PRINTED_MILLIONS,
    alexnet,
    alexnet_torchvision,
    lenet5,
    vgg,
    zfnet,
)
from ._googlenet import (
    GOOGLENET_PRINTED,
    Comparison,
    compare_googlenet,
    googlenet,
    googlenet_torchvision,
)
from ._layers import (
    ACTIVATIONS,
    LRN,
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
    LayerResult,
    Linear,
    PoolLayer,
    Scale,
)
from ._mobile import densenet121, efficientnet_b0, mobilenet_v1, mobilenet_v2, squeezenet
from ._network import INPUT, Network, Node
from ._resnet import resnet, se_resnet50
from ._table import BlockSummary, Row, Table, volume
from .torch_import import from_torch, load_factory

__all__ = [
    "ACTIVATIONS",
    "GOOGLENET_PRINTED",
    "INPUT",
    "LRN",
    "NAMES",
    "SOURCES",
    "VGG_CONFIGS",
    "VGG_PRINTED_MILLIONS",
    "Activation",
    "AdaptiveAvgPool",
    "Add",
    "BatchNorm",
    "BlockSummary",
    "Comparison",
    "Concat",
    "ConvLayer",
    "Dropout",
    "Flatten",
    "Inception",
    "Layer",
    "LayerResult",
    "Linear",
    "Network",
    "Node",
    "PoolLayer",
    "Row",
    "Scale",
    "Table",
    "alexnet",
    "alexnet_torchvision",
    "compare_googlenet",
    "densenet121",
    "efficientnet_b0",
    "from_torch",
    "get",
    "googlenet",
    "googlenet_torchvision",
    "lenet5",
    "load_factory",
    "mobilenet_v1",
    "mobilenet_v2",
    "resnet",
    "se_resnet50",
    "squeezenet",
    "vgg",
    "volume",
    "zfnet",
]

_PAPER, _TV, _LECTURE = "paper", "torchvision", "lecture"
# name -> (builder, source): "paper" follows the paper (torchvision, where it has the network,
# agrees on every layer; its module names are used), "torchvision" is torchvision's definition
# where it differs from the paper or the paper leaves details open, "lecture" the lectures'
# reading of the paper.
_BUILDERS: dict[str, tuple[Callable[[], Network], str]] = {
    "lenet5": (lenet5, _PAPER),
    "alexnet": (alexnet, _LECTURE),
    "alexnet_grouped": (lambda: alexnet(grouped=True), _PAPER),
    "alexnet_torchvision": (alexnet_torchvision, _TV),
    "zfnet": (zfnet, _LECTURE),
    "vgg11": (lambda: vgg("A", "vgg11"), _PAPER),
    "vgg13": (lambda: vgg("B", "vgg13"), _PAPER),
    "vgg16": (lambda: vgg("D", "vgg16"), _PAPER),
    "vgg19": (lambda: vgg("E", "vgg19"), _PAPER),
    "vgg11_bn": (lambda: vgg("A", "vgg11_bn", batch_norm=True), _TV),
    "vgg13_bn": (lambda: vgg("B", "vgg13_bn", batch_norm=True), _TV),
    "vgg16_bn": (lambda: vgg("D", "vgg16_bn", batch_norm=True), _TV),
    "vgg19_bn": (lambda: vgg("E", "vgg19_bn", batch_norm=True), _TV),
    "vgg_a": (lambda: vgg("A"), _PAPER),
    "vgg_a_lrn": (lambda: vgg("A-LRN"), _PAPER),
    "vgg_b": (lambda: vgg("B"), _PAPER),
    "vgg_c": (lambda: vgg("C"), _PAPER),
    "vgg_d": (lambda: vgg("D"), _PAPER),
    "vgg_e": (lambda: vgg("E"), _PAPER),
    "googlenet": (googlenet, _PAPER),
    "googlenet_bias": (lambda: googlenet(bias=True), _PAPER),
    "googlenet_torchvision": (googlenet_torchvision, _TV),
    "resnet18": (lambda: resnet(18), _PAPER),
    "resnet34": (lambda: resnet(34), _PAPER),
    "resnet50": (lambda: resnet(50), _PAPER),
    "resnet101": (lambda: resnet(101), _PAPER),
    "resnet152": (lambda: resnet(152), _PAPER),
    "resnet50_torchvision": (lambda: resnet(50, "torchvision"), _TV),
    "resnet101_torchvision": (lambda: resnet(101, "torchvision"), _TV),
    "resnet152_torchvision": (lambda: resnet(152, "torchvision"), _TV),
    "wide_resnet50_2": (lambda: resnet(50, "wide"), _TV),
    "resnext50_32x4d": (lambda: resnet(50, "resnext"), _TV),
    "senet": (se_resnet50, _PAPER),
    "densenet121": (densenet121, _PAPER),
    "mobilenet_v1": (mobilenet_v1, _PAPER),
    "mobilenet_v2": (mobilenet_v2, _PAPER),
    "efficientnet_b0": (efficientnet_b0, _TV),
    "squeezenet1_0": (lambda: squeezenet("1_0"), _PAPER),
    "squeezenet1_1": (lambda: squeezenet("1_1"), _TV),
}
NAMES: tuple[str, ...] = tuple(_BUILDERS)
SOURCES: dict[str, str] = {name: source for name, (_, source) in _BUILDERS.items()}


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
    return _BUILDERS[name][0]()
