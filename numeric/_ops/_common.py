"""What every operation shares: the spec built from torch's arguments (one validation path),
batching, the checked output size, batch chunks sized from the workspace budget."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from symconv._errors import SpecError
from symconv.limits import check_numeric
from symconv.spec import Conv

from .._backend import (
    check_ndim,
    get_workspace_limit,
    prod,
)
from .._parallel import get_num_threads

Array = Any
IntOrTuple = int | Sequence[int]


def _layout(dims: int) -> str:
    return "(N, C, " + ", ".join("DHW"[3 - dims :]) + ")"


def _batched(op: str, name: str, x: Array, dims: int) -> tuple[Array, bool]:
    """Accept torch's unbatched input (C, *spatial) by adding a batch axis."""
    if x.ndim == dims + 1:
        return x[None], True
    check_ndim(op, name, x, dims + 2, _layout(dims))
    return x, False


_PER_AXIS = ("kernel_size", "stride", "padding", "dilation", "output_padding")


def _spec(op: str, cls: type, **kw: Any) -> Any:
    """`cls(**kw)`, a one-entry tuple or list of a per-axis argument standing for every axis
    (torch's functional ops accept `stride=(2,)` in 2D), a SpecError prefixed with `op`."""
    for key in _PER_AXIS:
        value = kw.get(key)
        if isinstance(value, tuple | list) and len(value) == 1 and kw.get("dims", 1) > 1:
            kw[key] = tuple(value) * kw["dims"]
    try:
        return cls(**kw)
    except SpecError as err:
        raise SpecError(f"{op}: {err}") from None


def _checked_size(
    op: str, spec: Any, size: Sequence[int], shape: Sequence[int] = (), item: int = 8
) -> tuple[int, ...]:
    """The spatial output size; with the array's full `shape` (N, C, *spatial) and `item`
    bytes per element, the call's cost is checked first against `symconv.limits`
    (`numeric_bytes`): the output's bytes and one sample's padded input, both known before
    anything is allocated."""
    try:
        out = spec.output_size(tuple(int(s) for s in size))
    except SpecError as err:
        raise SpecError(f"{op}: {err}") from None
    if shape:
        n, c = int(shape[0]), int(shape[1])
        c_out = getattr(spec, "out_channels", c)
        check_numeric(
            op, f"an output of shape {(n, c_out, *out)} in bytes", n * c_out * prod(out) * item
        )
        pads = getattr(spec, "pads", None)
        if pads is None:  # Pool (ConvTranspose: its output, checked above, is the large side)
            pads = tuple((p, p) for p in getattr(spec, "padding", ()))
        if pads:
            padded = prod(int(i) + lo + hi for i, (lo, hi) in zip(size, pads, strict=True))
            check_numeric(op, "one sample's padded input in bytes", c * padded * item)
            step = max((*spec.stride, *spec.dilation))
            if c * padded * item * step >= 2**62:  # NumPy's and torch's strides are int64
                raise SpecError(
                    f"{op}: stride or dilation {step} is too large for 64-bit array strides "
                    f"on a padded input of {c * padded} elements (at most "
                    f"{2**62 // (c * padded * item) - 1} here)"
                )
    return out


def _check_shape(op: str, name: str, a: Array, shape: Sequence[int]) -> None:
    if tuple(a.shape) != tuple(shape):
        raise SpecError(f"{op}: {name} has shape {tuple(a.shape)}, expected {tuple(shape)}")


def _chunk(be: Any, per_sample: int, fixed: int = 0, parallel: bool = True) -> tuple[int, int]:
    """Samples per chunk and the most threads to run at once: the workspace budget shared by
    the threads that run at once, each also holding `fixed` bytes (the FFT's kernel spectrum),
    so fewer threads run when the fixed part leaves no room for all of them."""
    threads = get_num_threads() if be.name == "numpy" and parallel else 1
    limit = get_workspace_limit()
    if fixed:
        threads = max(1, min(threads, limit // max(1, fixed + per_sample)))
    room = max(0, limit - threads * fixed)
    return max(1, room // max(1, per_sample * threads)), threads


def _work(spec: Conv, shape: Sequence[int]) -> float:
    """Floating-point operations of the layer on the batch (2 x multiply-adds)."""
    return 2.0 * int(shape[0]) * spec.macs(tuple(int(s) for s in shape[2:]))


def lazy(name: str) -> ModuleType:
    """`numeric.<name>`, loaded on first use: the one place `numeric._ops` defers imports, so
    that `import numeric` stays light (`algorithms` imports SymPy for its cost formulas;
    `_taps` runs only for non-finite data)."""
    return importlib.import_module(f"numeric.{name}")
