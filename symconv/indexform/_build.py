"""Reading index forms off layer specs: `fields` (the package's `index_form` makes the
`IndexForm` of them, cached on plain sizes), the spec check `check_spec` every consumer of
index forms shares, and `clear_caches`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from .. import _cache
from .._errors import SpecError
from .._validate import as_int
from ..local import LocallyConnected, Tiled
from ..spec import Conv, Pool
from ..transpose import ConvTranspose
from ._values import Axis, Kind

# IndexForm's fields: spec, kind, axes, in_channels, out_channels, groups, input_size,
# output_size, weight_shape (and tiles, for a tiled layer)
Fields = tuple[Any, ...]


def clear_caches() -> None:
    """Empty the in-process caches of index forms, their factors and the checks read from
    them (tests that patch the index arithmetic call it; nothing else needs to)."""
    _cache.clear()


def check_spec(op: str, spec: Any, pool: bool = True) -> None:
    """Refuse anything but a layer spec `index_form` understands, naming what was given."""
    if not isinstance(spec, Conv | Pool | ConvTranspose):
        kinds = "Conv or Pool" if pool else "Conv"
        raise SpecError(
            f"{op}: spec must be a symconv.{kinds} (or ConvTranspose, LocallyConnected, "
            f"Tiled), got {spec!r}"
        )


def _none(v: int) -> int | None:
    return None if v < 0 else v


def fields(
    spec: Any, input_size: int | Sequence[int] | None = None, *, channels: int = 1
) -> Fields:
    """`IndexForm(*fields(spec, input_size, channels=channels))`: the form's fields read off
    `spec` (the package builds the form: `index_form`)."""
    check_spec("index_form", spec)
    channels = as_int("index_form", "channels", channels, 1)
    if isinstance(spec, LocallyConnected) and input_size is None:
        input_size = spec.input_size
    sizes: tuple[int, ...] | None = None
    out: tuple[int, ...] | None = None
    if input_size is not None:
        out = spec.output_size(input_size)  # validates input_size too
        sizes = (
            tuple(input_size)
            if isinstance(input_size, Sequence)
            else (int(input_size),) * spec.dims
        )
    if isinstance(spec, ConvTranspose):
        axes = tuple(
            Axis(
                spec.kernel_size[a],
                spec.stride[a],
                spec.dilation[a],
                spec.padding[a],
                spec.padding[a] - spec.output_padding[a],
                None if sizes is None else sizes[a],
                None if out is None else out[a],
            )
            for a in range(spec.dims)
        )
        return (
            spec,
            "transpose",
            axes,
            spec.in_channels,
            spec.out_channels,
            spec.groups,
            sizes,
            out,
            spec.weight_shape,
        )
    if isinstance(spec, Pool):
        axes = tuple(
            Axis(
                spec.kernel_size[a],
                spec.stride[a],
                spec.dilation[a],
                spec.padding[a],
                spec.padding[a],
                None if sizes is None else sizes[a],
                None if out is None else out[a],
            )
            for a in range(spec.dims)
        )
        return (spec, "pool", axes, channels, channels, channels, sizes, out, spec.kernel_size)
    axes = tuple(
        Axis(
            spec.kernel_size[a],
            spec.stride[a],
            spec.dilation[a],
            *cast(tuple[int, int], spec.pads[a]),  # spec: a Conv here (check_spec)
            None if sizes is None else sizes[a],
            None if out is None else out[a],
            spec.padding_mode,
            spec.flip,
        )
        for a in range(spec.dims)
    )
    kind: Kind = (
        "local"
        if isinstance(spec, LocallyConnected)
        else ("tiled" if isinstance(spec, Tiled) else "conv")
    )
    return (
        spec,
        kind,
        axes,
        spec.in_channels,
        spec.out_channels,
        spec.groups,
        sizes,
        out,
        spec.weight_shape,
        spec.tiles if kind == "tiled" else None,
    )
