"""`from_torch`: a torch module's architecture table, traced with `torch.fx`.

The module is traced symbolically (nothing runs); every graph node becomes a `Node` of a
`Network`, which computes shapes, parameters, MACs and receptive fields with the same layer
specs as the shipped networks. A module or function the tables cannot count is named in a
`SpecError`: nothing is skipped silently.

Layer names are the modules' qualified names (`layer1.0.conv1`; a module called again gets
`_1`, `_2`, ...); a function node takes fx's name under its block. A row's block is the first
module on its path that is not a container (`Sequential`, `ModuleList`, `ModuleDict`), e.g.
the residual block `layer1.0`, or else the container holding it.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import replace
from typing import Any, cast

from .._errors import SpecError
from ..spec import Conv, Pool, PoolKind
from ._layers import (
    LRN,
    Activation,
    AdaptiveAvgPool,
    Add,
    BatchNorm,
    Concat,
    ConvLayer,
    Dropout,
    Flatten,
    Layer,
    Linear,
    PoolLayer,
    Scale,
)
from ._network import INPUT, Network, Node

__all__ = ["from_torch", "load_factory"]

# torch module class name -> activation name (`Activation.fn`)
_ACT_MODULES = {
    "ReLU": "relu",
    "ReLU6": "relu6",
    "LeakyReLU": "leaky_relu",
    "PReLU": "prelu",
    "ELU": "elu",
    "GELU": "gelu",
    "Sigmoid": "sigmoid",
    "Hardsigmoid": "hardsigmoid",
    "SiLU": "silu",
    "Hardswish": "hardswish",
    "Tanh": "tanh",
    "Softmax": "softmax",
}
# function or method name -> activation name
_ACT_FUNCTIONS = {
    "relu": "relu",
    "relu_": "relu",
    "relu6": "relu6",
    "leaky_relu": "leaky_relu",
    "elu": "elu",
    "gelu": "gelu",
    "sigmoid": "sigmoid",
    "hardsigmoid": "hardsigmoid",
    "silu": "silu",
    "hardswish": "hardswish",
    "tanh": "tanh",
    "softmax": "softmax",
}


def _module_layer(name: str, m: Any) -> Layer | None:
    """The layer for module `m` (None for `nn.Identity`), or a SpecError naming it."""
    import torch.nn as nn

    kind = type(m).__name__
    if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        spec = Conv(
            dims=len(m.kernel_size),
            in_channels=m.in_channels,
            out_channels=m.out_channels,
            kernel_size=m.kernel_size,
            stride=m.stride,
            padding=m.padding,
            dilation=m.dilation,
            groups=m.groups,
            bias=m.bias is not None,
            padding_mode=m.padding_mode,
        )
        return ConvLayer(name, spec)
    if isinstance(m, nn.MaxPool1d | nn.MaxPool2d | nn.MaxPool3d):
        if m.return_indices:
            raise SpecError(f"from_torch: {kind} {name!r} with return_indices is not supported")
        return PoolLayer(name, _pool(m, "max", m.kernel_size, m.stride, m.padding, m.dilation))
    if isinstance(m, nn.AvgPool1d | nn.AvgPool2d | nn.AvgPool3d):
        pool = _pool(m, "avg", m.kernel_size, m.stride, m.padding, 1)
        return PoolLayer(name, pool)
    if isinstance(m, nn.AdaptiveAvgPool1d | nn.AdaptiveAvgPool2d | nn.AdaptiveAvgPool3d):
        size = m.output_size
        if size is None or (isinstance(size, tuple) and None in size):
            raise SpecError(f"from_torch: {kind} {name!r}: output_size {size} with None")
        return AdaptiveAvgPool(name, cast(int | tuple[int, ...], size))  # no None (checked)
    if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d):
        return BatchNorm(name, m.affine)
    if isinstance(m, nn.Linear):
        return Linear(name, m.out_features, m.bias is not None, m.in_features)
    if isinstance(m, nn.Dropout | nn.Dropout1d | nn.Dropout2d | nn.Dropout3d):
        return Dropout(name, m.p)
    if isinstance(m, nn.Flatten):
        if m.start_dim != 1 or m.end_dim != -1:
            raise SpecError(
                f"from_torch: Flatten {name!r} must flatten dims 1..-1, got "
                f"start_dim={m.start_dim}, end_dim={m.end_dim}"
            )
        return Flatten(name)
    if isinstance(m, nn.LocalResponseNorm):
        return LRN(name, m.size)
    if isinstance(m, nn.Identity):
        return None
    if kind in _ACT_MODULES:
        inplace = bool(getattr(m, "inplace", False))
        per_channel = kind == "PReLU" and m.num_parameters > 1
        return Activation(name, _ACT_MODULES[kind], inplace, per_channel)
    raise SpecError(f"from_torch: module {name!r} ({kind}) is not supported; " + _SUPPORTED)


_SUPPORTED = (
    "supported are Conv1d-3d, MaxPool/AvgPool/AdaptiveAvgPool 1d-3d, BatchNorm1d-3d, Linear, "
    "Dropout, Flatten, LocalResponseNorm, Identity, the activations "
    + ", ".join(_ACT_MODULES)
    + ", and the functions add, cat (dim 1), mul (a channel gate), flatten (from dim 1), "
    "adaptive_avg_pool, max_pool, avg_pool, dropout and the activations"
)


def _pool(m: Any, kind: PoolKind, k: Any, s: Any, p: Any, d: Any) -> Pool:
    extra: dict[str, Any] = {}
    if kind == "avg":
        extra = {"count_include_pad": m.count_include_pad}
        if m.divisor_override is not None:
            extra["divisor_override"] = m.divisor_override
    dims = int(type(m).__name__[-2])
    return Pool(
        dims=dims,
        kind=kind,
        kernel_size=k,
        stride=s,
        padding=p,
        dilation=d,
        ceil_mode=m.ceil_mode,
        **extra,
    )


def _arg(node: Any, index: int, key: str, default: Any) -> Any:
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(key, default)


def _function_layer(name: str, node: Any) -> tuple[Layer, list[Any]]:
    """The layer for a call_function/call_method node and the graph nodes it reads."""
    import torch
    import torch.fx as fx
    import torch.nn.functional as F

    target = node.target
    fname = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    tensors = [a for a in node.args if isinstance(a, fx.Node)]
    others = [a for a in node.args if not isinstance(a, fx.Node | list | tuple)]
    if fname in ("add", "add_", "iadd", "__add__", "__iadd__") and not others:
        if len(tensors) == 2 and not node.kwargs:
            return Add(name), tensors
    if fname in ("mul", "mul_", "imul", "__mul__") and len(tensors) == 2 and not others:
        return Scale(name), tensors
    if target in (torch.cat, torch.concat) or fname in ("cat", "concat"):
        parts = node.args[0]
        dim = _arg(node, 1, "dim", 0)
        if dim == 1 and all(isinstance(a, fx.Node) for a in parts) and len(parts) > 1:
            return Concat(name), list(parts)
        raise SpecError(f"from_torch: {name!r}: cat must join two or more inputs along dim 1")
    if fname == "flatten":
        if _arg(node, 1, "start_dim", 0) == 1 and _arg(node, 2, "end_dim", -1) == -1:
            return Flatten(name), tensors[:1]
        raise SpecError(f"from_torch: {name!r}: flatten must start at dim 1 (keep the batch)")
    if fname in _ACT_FUNCTIONS and len(tensors) == 1:
        inplace = fname.endswith("_") or bool(node.kwargs.get("inplace", False))
        return Activation(name, _ACT_FUNCTIONS[fname], inplace), tensors
    if target in (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d):
        return AdaptiveAvgPool(name, _arg(node, 1, "output_size", None)), tensors[:1]
    if target in (F.dropout, F.dropout1d, F.dropout2d, F.dropout3d):
        return Dropout(name, _arg(node, 1, "p", 0.5)), tensors[:1]
    if fname in ("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d"):
        defaults: dict[str, int | None] = {
            "dilation": 1,
            "return_indices": False,
            "count_include_pad": True,
        }
        defaults["divisor_override"] = None
        extra = {
            key
            for key, value in node.kwargs.items()
            if key not in ("kernel_size", "stride", "padding", "ceil_mode")
            and (key not in defaults or value != defaults[key])
        }
        if len(node.args) > 4 or extra:
            raise SpecError(
                f"from_torch: {fname} (node {node.name!r}) is supported with kernel_size, "
                f"stride, padding and ceil_mode only, got {sorted(extra) or node.args[4:]}"
            )
        k = _arg(node, 1, "kernel_size", None)
        pool = Pool(
            dims=int(fname[-2]),
            kind="max" if fname.startswith("max") else "avg",
            kernel_size=k,
            stride=_arg(node, 2, "stride", None) or k,
            padding=_arg(node, 3, "padding", 0),
            ceil_mode=bool(node.kwargs.get("ceil_mode", False)),
        )
        return PoolLayer(name, pool), tensors[:1]
    raise SpecError(
        f"from_torch: {node.op} {fname!r} (node {node.name!r}) is not supported; " + _SUPPORTED
    )


def _block(root: Any, target: str) -> str:
    """The first non-container module on `target`'s path, else the leaf's parent."""
    import torch.nn as nn

    parts, module = target.split("."), root
    for i, part in enumerate(parts[:-1]):
        module = getattr(module, part)
        if not isinstance(module, nn.Sequential | nn.ModuleList | nn.ModuleDict):
            return ".".join(parts[: i + 1])
    return ".".join(parts[:-1])


def from_torch(module: Any, input_shape: Any, name: str | None = None) -> Network:
    """The `Network` of a torch module, for an input of shape `(C, *spatial)` (no batch axis).

    Traced with `torch.fx.symbolic_trace`: the module's forward must be traceable (no control
    flow on tensor values). Residual additions, channel concatenations and channel gates
    (`x * gate`) become `Add`, `Concat` and `Scale` nodes, so residual and dense models keep
    their graph.

    Raises:
        SpecError: naming the first module or function the tables cannot count, or the
            tracing error.

    ```python
    >>> import torch.nn as nn
    >>> m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
    ...                   nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
    >>> t = from_torch(m, (3, 32, 32)).table()
    >>> t.total_parameters == sum(p.numel() for p in m.parameters()), t.total_macs
    (True, 221264)

    ```
    """
    try:
        import torch.fx as fx
        import torch.nn as nn
    except ImportError as error:  # pragma: no cover - torch is optional
        raise SpecError("from_torch needs torch installed") from error
    if not isinstance(module, nn.Module):
        raise SpecError(f"from_torch: module must be a torch.nn.Module, got {module!r}")
    name = name or type(module).__name__
    try:
        graph = fx.symbolic_trace(module).graph
    except Exception as error:  # fx raises many kinds (TraceError, TypeError, ...)
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise SpecError(
            f"from_torch: torch.fx cannot trace {name}: {type(error).__name__}: {first}"
        ) from None
    names: dict[Any, str] = {}  # fx node -> row name (aliases map to their input's row)
    blocks: dict[str, str] = {INPUT: ""}
    order: dict[str, int] = {INPUT: 0}
    calls: dict[str, int] = {}
    used: set[str] = {INPUT}
    nodes: list[Node] = []
    for node in graph.nodes:
        if node.op == "placeholder":
            if INPUT in names.values():
                raise SpecError(f"from_torch: {name} takes more than one input ({node.name!r})")
            names[node] = INPUT
            continue
        if node.op == "output":
            out = node.args[0]
            if not isinstance(out, fx.Node):
                raise SpecError(f"from_torch: {name} must return one tensor, got {out!r}")
            if names[out] == INPUT:
                raise SpecError(f"from_torch: {name} has no layers")
            last = names[out]
            if nodes[-1].name != last:
                raise SpecError(f"from_torch: {name}'s output {last!r} is not its last layer")
            continue
        if node.op == "call_module":
            target = str(node.target)
            count = calls.get(target, 0)
            calls[target] = count + 1
            row = target if count == 0 else f"{target}_{count}"
            layer = _module_layer(row, module.get_submodule(target))
            inputs = [a for a in node.args if isinstance(a, fx.Node)]
            if layer is None:  # Identity: an alias of its input
                names[node] = names[inputs[0]]
                continue
            block = _block(module, target)
        elif node.op in ("call_function", "call_method"):
            layer, inputs = _function_layer(node.name, node)
            sources = [names[a] for a in inputs]
            latest = max(sources, key=order.__getitem__)
            block = blocks[latest]
            row = f"{block}.{node.name}" if block else node.name
        else:
            raise SpecError(
                f"from_torch: {node.op} node {node.name!r} ({node.target}) is not supported; "
                + _SUPPORTED
            )
        while row in used:
            row += "_"
        layer = replace(layer, name=row)
        used.add(row)
        names[node] = row
        order[row] = len(order)
        blocks[row] = block
        nodes.append(Node(layer, tuple(names[a] for a in inputs), block))
    return Network(name, tuple(input_shape), nodes, (), f"traced from {type(module).__name__}")


_REF = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*")


def load_factory(ref: str) -> Any:
    """The module `package.module:factory()` builds: imported by its module path and called
    with no arguments (never `eval`). `factory` may be a dotted attribute path.

    ```python
    >>> load_factory("torch.nn:Identity")
    Identity()

    ```
    """
    if not isinstance(ref, str) or not _REF.fullmatch(ref):
        raise SpecError(f"--torch: expected 'package.module:factory', got {ref!r}")
    path, attr = ref.split(":")
    try:
        obj = importlib.import_module(path)
    except ImportError as error:
        raise SpecError(f"--torch: cannot import {path!r}: {error}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SpecError(f"--torch: {path!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise SpecError(f"--torch: {ref!r} is not callable")
    try:
        return obj()
    except Exception as error:  # the user's factory: report, don't trace back
        raise SpecError(f"--torch: {ref}() raised {type(error).__name__}: {error}") from None
