"""The table's row and parameter types (`Row`, `Param`, `REQUIRED`) and the parameter lists
the rows share: a convolution's tail, a transposed convolution's, the pooling layers'."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class _Required:
    """The default of a parameter that has none."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Param:
    """One parameter: its name, its annotation (source text, as `from __future__ import
    annotations` keeps it) and its default (a literal; `REQUIRED` when it has none)."""

    name: str
    annotation: str
    default: Any = REQUIRED
    keyword_only: bool = False


@dataclass(frozen=True)
class Row:
    """One public function.

    `call` is the implementation and its arguments (source text); `torch` the function whose
    signature the row repeats (None where torch has none, e.g. the pooling gradients);
    `family` marks the functions `numeric.family` holds (`numeric` re-exports them too).
    """

    name: str
    dims: int | None
    params: tuple[Param, ...]
    returns: str
    doc: str
    call: tuple[str, tuple[str, ...]]
    torch: str | None
    family: bool = False  # numeric.family's (the rest of torch's convolution family)


# -- parameters -------------------------------------------------------------------------------
def _p(name: str, annotation: str, default: Any = REQUIRED) -> Param:
    return Param(name, annotation, default)


def _kw(name: str, annotation: str, default: Any) -> Param:
    return Param(name, annotation, default, keyword_only=True)


_CONV_TAIL = (
    _p("stride", "IntOrTuple", 1),
    _p("padding", "Any", 0),
    _p("dilation", "IntOrTuple", 1),
    _p("groups", "int", 1),
    _kw("padding_mode", "str", "zeros"),
    _kw("flip", "bool", False),
    _kw("algorithm", "str", "auto"),
)
_CONV_ARGS = ("stride", "padding", "dilation", "groups", "padding_mode", "flip", "algorithm")
_TRANSPOSE_TAIL = (
    _p("stride", "IntOrTuple", 1),
    _p("padding", "IntOrTuple", 0),
    _p("output_padding", "IntOrTuple", 0),
    _p("groups", "int", 1),
    _p("dilation", "IntOrTuple", 1),
)
_KERNEL = (_p("kernel_size", "IntOrTuple"), _p("stride", "IntOrTuple | None", None))
_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}


def _max_pool_params(d: int) -> tuple[Param, ...]:
    return (
        *_KERNEL,
        _p("padding", "IntOrTuple", 0),
        _p("dilation", "IntOrTuple", 1),
        _p("ceil_mode", "bool", False),
    )


def _avg_pool_params(d: int) -> tuple[Param, ...]:
    tail = (_p("divisor_override", "int | None", None),) if d > 1 else ()
    return (
        *_KERNEL,
        _p("padding", "IntOrTuple", 0),
        _p("ceil_mode", "bool", False),
        _p("count_include_pad", "bool", True),
        *tail,
    )


def _lp_pool_params() -> tuple[Param, ...]:
    return (_p("norm_type", "float"), *_KERNEL, _p("ceil_mode", "bool", False))


_TYPES = {
    "input": "Array",
    "weight": "Array",
    "grad_output": "Array",
    "indices": "Array",
    "input_size": "Sequence[int]",
    "weight_size": "Sequence[int]",
}


def _req(names: str) -> tuple[Param, ...]:
    """Required array parameters, by name (their annotations from `_TYPES`)."""
    return tuple(_p(n, _TYPES[n]) for n in names.split())


def _call(impl: str, *args: str) -> tuple[str, tuple[str, ...]]:
    """The implementation's call: its name and its arguments (source text)."""
    return impl, args


def _keywords(params: tuple[Param, ...], skip: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(f"{p.name}={p.name}" for p in params if p.name not in skip)
