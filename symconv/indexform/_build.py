"""Building index forms from layer specs: `index_form` (cached on plain sizes), the spec check
`check_spec` every consumer of index forms shares, and `clear_caches`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from .. import _cache
from .._cache import pure
from .._errors import SpecError
from .._validate import as_int
from ..local import LocallyConnected, Tiled
from ..spec import Conv, Pool
from ..transpose import ConvTranspose
from ._values import Axis, Kind

if TYPE_CHECKING:
    from . import IndexForm


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


def _plain(v: Any) -> bool:
    return type(v) is int


@pure(maxsize=256)
def _cached_form(spec: Any, input_size: tuple[int, ...] | int | None, channels: int) -> IndexForm:
    return _index_form(spec, input_size, channels=channels)


def index_form(
    spec: Any, input_size: int | Sequence[int] | None = None, *, channels: int = 1
) -> IndexForm:
    r"""The `IndexForm` of `spec` (`Conv`, `Pool`, `LocallyConnected`, `Tiled`, `ConvTranspose`).

    `input_size` is the spatial input size (an int repeats over the axes); `None` gives a
    symbolic form (`expression()` works, the index map needs sizes). `channels` is the number of
    channels a `Pool` runs over (pooling does not mix them).

    The form is pure (a frozen value of its arguments): forms of plain-int sizes are kept in an
    in-process cache keyed by `(spec, input_size, channels)`, so every derivation, check and
    docs page on one layer reads one form.

    ```python
    >>> import symconv as sc
    >>> form = sc.index_form(sc.Conv(dims=2, kernel_size=3, stride=2), (7, 7))
    >>> form.output_size, form.source(1, 2, 1)   # axis 1, output 2, tap 1 reads x[..., 5]
    ((3, 3), 5)

    ```
    """
    size_key: Any = input_size
    if isinstance(input_size, list | tuple) and all(_plain(v) for v in input_size):
        size_key = tuple(input_size)
    if (size_key is None or _plain(size_key) or isinstance(size_key, tuple)) and _plain(channels):
        try:
            return _cached_form(spec, size_key, channels)
        except TypeError as err:  # an unhashable spec: build it uncached
            if "unhashable" not in str(err):
                raise
    return _index_form(spec, input_size, channels=channels)


def _index_form(
    spec: Any, input_size: int | Sequence[int] | None = None, *, channels: int = 1
) -> IndexForm:
    from . import IndexForm  # the package defines it, after importing this module

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
        return IndexForm(
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
        return IndexForm(
            spec, "pool", axes, channels, channels, channels, sizes, out, spec.kernel_size
        )
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
    return IndexForm(
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
