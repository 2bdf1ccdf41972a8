"""Array helpers shared by numeric's index-map operations (pad, unfold, fold, adaptive pooling,
unpooling): one code path for NumPy arrays and torch tensors, differentiable on tensors.

Every operation here is a gather (advanced indexing with an index table from
`symconv._indexmap`) or a scatter-add (its adjoint), so torch autograd runs through them as it
runs through torch's own indexing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symconv import SpecError

from ._backend import _is_tensor

Array = Any


def check_array(op: str, name: str, a: Any) -> bool:
    """`a` is a numpy.ndarray or a torch.Tensor; returns whether it is a tensor."""
    if _is_tensor(a):
        return True
    if not isinstance(a, np.ndarray):
        raise SpecError(
            f"{op}: {name} must be a numpy.ndarray or a torch.Tensor, got {type(a).__name__}"
        )
    return False


def check_float(op: str, name: str, a: Any) -> None:
    """`a` has a floating dtype (float16, bfloat16 on torch, float32, float64)."""
    floating = a.dtype.is_floating_point if _is_tensor(a) else a.dtype.kind == "f"
    if not floating:
        raise SpecError(f"{op}: {name} must have a floating dtype, got dtype {a.dtype}")


def index(idx: np.ndarray, like: Array) -> Any:
    """An int64 index array for `like`'s array type (and device)."""
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    if _is_tensor(like):
        import torch

        return torch.as_tensor(idx, device=like.device)
    return idx


def constant(values: np.ndarray, like: Array) -> Array:
    """NumPy `values` as an array of `like`'s type, dtype and device."""
    if _is_tensor(like):
        import torch

        return torch.as_tensor(np.asarray(values), device=like.device).to(like.dtype)
    return np.asarray(values, dtype=like.dtype)


def take(x: Array, axis: int, idx: np.ndarray) -> Array:
    """`x` indexed along `axis` by the integer array `idx` (any shape: it replaces the axis)."""
    return x[(slice(None),) * axis + (index(idx, x),)]


def gather_windows(x: Array, tables: list[np.ndarray]) -> Array:
    """`x` (N, C, *I) read through one `(O_a, K_a)` table per spatial axis (entries >= 0):
    the windows as (N, C, *O, *K)."""
    d = len(tables)
    parts = []
    for a, t in enumerate(tables):  # axis a's table at positions (a, d + a) of a 2d-grid
        shape = [1] * (2 * d)
        shape[a], shape[d + a] = t.shape
        parts.append(index(t.reshape(shape), x))
    return x[(slice(None), slice(None), *parts)]


def zeros(shape: tuple[int, ...], like: Array) -> Array:
    if _is_tensor(like):
        import torch

        return torch.zeros(shape, dtype=like.dtype, device=like.device)
    return np.zeros(shape, dtype=like.dtype)


def full(shape: tuple[int, ...], value: float, like: Array) -> Array:
    if _is_tensor(like):
        import torch

        return torch.full(shape, value, dtype=like.dtype, device=like.device)
    return np.full(shape, value, dtype=like.dtype)


def cat(parts: list[Array], axis: int) -> Array:
    if _is_tensor(parts[0]):
        import torch

        return torch.cat(parts, dim=axis)
    return np.concatenate(parts, axis=axis)


def where(mask: np.ndarray, a: Array, value: float) -> Array:
    """`a` where the (broadcastable, NumPy bool) `mask` holds, `value` elsewhere."""
    if _is_tensor(a):
        import torch

        m = torch.as_tensor(np.ascontiguousarray(mask), device=a.device)
        return torch.where(m, a, torch.as_tensor(value, dtype=a.dtype, device=a.device))
    return np.where(mask, a, np.asarray(value, dtype=a.dtype))


def scatter_add(out: Array, idx: np.ndarray, values: Array) -> Array:
    """`out` (N, C, P) plus `values` (N, C, T) added at flat positions `idx` (T,) of the last
    axis (repeated positions add up): the adjoint of `take(x, 2, idx)`."""
    if _is_tensor(out):
        return out.index_add(2, index(idx, out), values)
    out = out.copy()
    np.add.at(out, (slice(None), slice(None), idx), values)  # type: ignore[arg-type]  # numpy's stubs: no slices in ufunc.at's index
    return out


def scatter(out: Array, idx: Array, values: Array) -> Array:
    """`out` (N, C, P) with `values` (N, C, T) written at per-row positions `idx` (N, C, T)."""
    if _is_tensor(out):
        return out.scatter(2, idx, values)
    out = out.copy()
    np.put_along_axis(out, idx, values, axis=2)
    return out


def take_along(x: Array, idx: Array) -> Array:
    """`x` (N, C, P) read at per-row positions `idx` (N, C, T)."""
    if _is_tensor(x):
        return x.gather(2, idx)
    return np.take_along_axis(x, idx, axis=2)


def argmax_last(a: Array) -> Array:
    """Index of the first maximum along the last axis; where there are NaNs, of the last NaN
    (torch's pooling rule: a NaN replaces the running maximum, later NaNs included)."""
    pos = np.arange(1, int(a.shape[-1]) + 1)
    if _is_tensor(a):
        import torch

        nan = (torch.isnan(a).long() * index(pos, a)).amax(dim=-1) - 1
        return torch.where(nan >= 0, nan, a.argmax(dim=-1))
    nan = (np.isnan(a) * pos).max(axis=-1, initial=0) - 1
    return np.where(nan >= 0, nan, np.argmax(a, axis=-1))


def permute(a: Array, axes: tuple[int, ...]) -> Array:
    return a.permute(*axes) if _is_tensor(a) else a.transpose(axes)


def shape_of(a: Array) -> tuple[int, ...]:
    return tuple(int(s) for s in a.shape)
