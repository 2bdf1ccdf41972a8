"""Dispatch and validation: the array type picks the backend; one validation path (the spec).

Arrays are checked here (type, dtype, ndim, device, shapes) and the layer is validated by
building its `symconv` spec, so a kernel never sees input it would fail on: every error is a
`symconv.SpecError` naming the operation and what is wrong.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from symconv._errors import SpecError
from symconv._validate import as_int

__all__ = ["Backend", "chunk_for", "get_workspace_limit", "pick", "set_workspace_limit"]

_LIMIT = [256 * 2**20]


def set_workspace_limit(nbytes: int) -> int:
    """Set the workspace budget (bytes) for padded copies and im2col buffers; returns the old one.

    Kernels run over the batch in chunks so that their extra memory stays under this budget
    (a single sample that needs more runs alone). The Winograd kernels keep their buffers per
    thread between calls, at most `numeric.algorithms.KEEP_BYTES` per thread and within the
    budget's share of each thread; `numeric.algorithms.release_workspaces()` frees them.

    ```python
    >>> import numeric as nm
    >>> old = nm.set_workspace_limit(64 * 2**20)
    >>> _ = nm.set_workspace_limit(old)

    ```
    """
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 1:
        raise SpecError(f"set_workspace_limit: bytes must be an integer >= 1, got {nbytes!r}")
    old, _LIMIT[0] = _LIMIT[0], nbytes
    return old


def get_workspace_limit() -> int:
    """The workspace budget in bytes (default 256 MB)."""
    return _LIMIT[0]


@contextlib.contextmanager
def workspace_limit(nbytes: int) -> Iterator[None]:
    """Context manager: run the block with a workspace budget of `nbytes`."""
    old = set_workspace_limit(nbytes)
    try:
        yield
    finally:
        set_workspace_limit(old)


def chunk_for(per_sample_bytes: int) -> int:
    """Samples per chunk so that `chunk * per_sample_bytes` stays within the budget (>= 1)."""
    return max(1, _LIMIT[0] // max(1, int(per_sample_bytes)))


class Backend:
    """One backend: its generated conv and pool modules and its array checks."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.conv = importlib.import_module(f"numeric._generated.{name}_conv")
        self.pool = importlib.import_module(f"numeric._generated.{name}_pool")
        self._modules: dict[str, Any] = {"conv": self.conv, "pool": self.pool}

    def module(self, kind: str) -> Any:
        """The generated module `numeric._generated.{name}_{kind}` (imported on first use)."""
        if kind not in self._modules:
            self._modules[kind] = importlib.import_module(f"numeric._generated.{self.name}_{kind}")
        return self._modules[kind]

    def run(self, fn: Any, *args: Any) -> Any:
        if self.name == "torch":
            import torch

            with torch.no_grad():
                return fn(*args)
        return fn(*args)


_BACKENDS: dict[str, Backend] = {}


def _backend(name: str) -> Backend:
    if name not in _BACKENDS:
        _BACKENDS[name] = Backend(name)
    return _BACKENDS[name]


def _is_tensor(a: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def pick(op: str, **arrays: Any) -> Backend:
    """The backend for `arrays` (name -> array; `bias` may be None): all NumPy or all torch on
    one device, one floating dtype."""
    for k, v in arrays.items():
        if v is None and k != "bias":
            raise SpecError(f"{op}: {k} must be a numpy.ndarray or a torch.Tensor, got None")
    given = {k: v for k, v in arrays.items() if v is not None}
    kinds = {k: "torch" if _is_tensor(v) else "numpy" for k, v in given.items()}
    for k, v in given.items():
        if isinstance(v, np.ma.MaskedArray):
            raise SpecError(
                f"{op}: {k} is a numpy.ma.MaskedArray; numeric does not read masks (a masked "
                f"value would count as its data): pass {k}.filled(value) or {k}.data"
            )
        if kinds[k] == "numpy" and not isinstance(v, np.ndarray):
            raise SpecError(
                f"{op}: {k} must be a numpy.ndarray or a torch.Tensor, got {type(v).__name__}"
            )
    if len(set(kinds.values())) > 1:
        desc = ", ".join(f"{k} is {t}" for k, t in kinds.items())
        raise SpecError(f"{op}: mixed array types ({desc}); use all NumPy or all torch")
    name = next(iter(kinds.values()), "numpy")
    dtypes = {k: v.dtype for k, v in given.items()}
    for k, v in given.items():
        floating = v.dtype.is_floating_point if name == "torch" else v.dtype.kind == "f"
        if not floating or str(v.dtype).endswith("float16") or "bfloat16" in str(v.dtype):
            half = " (float16 and bfloat16 run in numeric's conv and pooling functions)"
            raise SpecError(
                f"{op}: {k} must be float32 or float64, got dtype {v.dtype}"
                + (half if floating else "")
            )
    if len(set(map(str, dtypes.values()))) > 1:
        desc = ", ".join(f"{k} {d}" for k, d in dtypes.items())
        raise SpecError(f"{op}: arrays must share one dtype, got {desc}")
    if name == "torch":
        devices = {k: v.device for k, v in given.items()}
        if len(set(map(str, devices.values()))) > 1:
            desc = ", ".join(f"{k} on {d}" for k, d in devices.items())
            raise SpecError(f"{op}: tensors on different devices ({desc})")
    return _backend(name)


def shape_arg(op: str, name: str, values: Any) -> tuple[int, ...]:
    """`values` (a tuple, list or torch.Size of integers >= 0, e.g. `input_size`) as a tuple of
    ints; 6.9, "6" or True is a SpecError, not silently truncated or converted."""
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise SpecError(f"{op}: {name} must be a sequence of integers, got {values!r}")
    out = []
    for v in values:
        try:
            out.append(as_int(op, name, v, 0))  # symconv's one integer rule
        except SpecError:
            raise SpecError(
                f"{op}: {name} must hold integers >= 0, got {v!r} in {tuple(values)!r}"
            ) from None
    return tuple(out)


def check_ndim(op: str, name: str, a: Any, ndim: int, layout: str) -> None:
    if a.ndim != ndim:
        raise SpecError(
            f"{op}: {name} must have {ndim} dimensions {layout}, got shape {tuple(a.shape)}"
        )


def itemsize(a: Any) -> int:
    return a.element_size() if _is_tensor(a) else a.dtype.itemsize


def prod(xs: Any) -> int:
    return math.prod(int(v) for v in xs)
