r"""Adaptive pooling and max unpooling, from the window index form.

Adaptive pooling to $O$ outputs on an axis of length $I$ reads window $o$,
$[\lfloor o I / O \rfloor, \lceil (o + 1) I / O \rceil)$ (`symconv._sizes.adaptive_start` and
`adaptive_end`; derived and certified by `symconv.family.adaptive_window_derivation`), as an
`(O, longest window)` table per axis (`symconv._indexmap.adaptive_table`). The windows are
gathered at once; the mean divides by each window's size, the max keeps the first maximum and
its flat spatial index (torch's `return_indices`).

Max unpooling is the scatter of each value to its index in a zero output of length
$(i - 1)s - 2p + k$ per axis (`symconv._sizes.unpool_out`) or `output_size`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symconv import Pool, SpecError, _sizes
from symconv._indexmap import adaptive_table
from symconv._validate import as_int

from . import _arrays as A
from ._ops import _batched, _spec

Array = Any


def _output_size(op: str, dims: int, output_size: Any, size: tuple[int, ...]) -> tuple[int, ...]:
    """torch's `output_size`: an int, or one entry per axis (`None` keeps that axis' size)."""
    if isinstance(output_size, str | bytes):
        raise SpecError(
            f"{op}: output_size must be an int or a tuple of {dims}, got {output_size!r}"
        )
    if not hasattr(output_size, "__len__"):
        return (as_int(op, "output_size", output_size, 0),) * dims
    if len(output_size) == 1 and dims > 1:
        output_size = tuple(output_size) * dims
    if len(output_size) != dims:
        raise SpecError(
            f"{op}: output_size {tuple(output_size)!r} has {len(output_size)} entries, "
            f"expected {dims} (one per spatial axis)"
        )
    return tuple(
        i if v is None else as_int(op, f"output_size[{a}]", v, 0)
        for a, (v, i) in enumerate(zip(output_size, size, strict=True))
    )


def _windows(op: str, dims: int, input: Array, output_size: Any) -> tuple[Any, ...]:
    """(x batched, unbatched, out, tables, mask (*O, *K), windows (N, C, *O, prod K))."""
    A.check_array(op, "input", input)
    A.check_float(op, "input", input)
    x, unbatched = _batched(op, "input", input, dims)
    size = A.shape_of(x)[2:]
    if 0 in size:
        raise SpecError(f"{op}: input's spatial size {size} must be non-empty")
    out = _output_size(op, dims, output_size, size)
    tables = [adaptive_table(i, o) for i, o in zip(size, out, strict=True)]
    mask = np.ones((), dtype=bool)
    for a, t in enumerate(tables):  # (*O, *K): a tap inside every axis' window
        shape = [1] * (2 * dims)
        shape[a], shape[dims + a] = t.shape
        mask = mask & (t >= 0).reshape(shape)
    windows = A.gather_windows(x, [np.maximum(t, 0) for t in tables])
    n, c = A.shape_of(x)[:2]
    taps = math.prod(t.shape[1] for t in tables)
    return x, unbatched, out, tables, mask, windows.reshape(n, c, *out, taps)


def adaptive_avg_pool(op: str, dims: int, input: Array, output_size: Any) -> Array:
    x, unbatched, out, tables, mask, win = _windows(op, dims, input, output_size)
    if 0 in out:
        y = A.zeros((*A.shape_of(x)[:2], *out), x)
    else:
        count = np.ones((), dtype=np.int64)
        for a, t in enumerate(tables):
            shape = [1] * dims
            shape[a] = len(t)
            count = count * (t >= 0).sum(axis=1).reshape(shape)
        y = A.where(mask.reshape(*out, -1), win, 0.0).sum(-1) / A.constant(count, x)
    return y[0] if unbatched else y


def adaptive_max_pool(
    op: str, dims: int, input: Array, output_size: Any, return_indices: bool
) -> Any:
    x, unbatched, out, tables, mask, win = _windows(op, dims, input, output_size)
    n, c = A.shape_of(x)[:2]
    if 0 in out:
        y, idx = A.zeros((n, c, *out), x), A.index(np.zeros((n, c, *out)), x)
    else:
        which = A.argmax_last(A.where(mask.reshape(*out, -1), win, -math.inf))  # (N, C, *O)
        # flat spatial input index of every (o, tap): the window's positions raveled
        grid: np.ndarray = np.zeros((), dtype=np.int64)  # grows one axis pair per table
        size = A.shape_of(x)[2:]
        for a, t in enumerate(tables):
            shape = [1] * (2 * dims)
            shape[a], shape[dims + a] = t.shape
            grid = grid * size[a] + np.maximum(t, 0).reshape(shape)
        grid = grid.reshape(math.prod(out), -1)  # (prod O, prod K)
        which = which.reshape(n, c, math.prod(out))
        flat = A.index(grid, x)[A.index(np.arange(math.prod(out)), x), which]
        # the values by a gather of the input: differentiable, gradient to the argmax
        y = A.take_along(x.reshape(n, c, math.prod(size)), flat).reshape(n, c, *out)
        idx = flat.reshape(n, c, *out)
    if unbatched:
        y, idx = y[0], idx[0]
    return (y, idx) if return_indices else y


def max_unpool(
    op: str,
    dims: int,
    input: Array,
    indices: Array,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    output_size: Any,
) -> Array:
    tensor = A.check_array(op, "input", input)
    if A.check_array(op, "indices", indices) != tensor:
        raise SpecError(f"{op}: input and indices must both be NumPy arrays or both torch tensors")
    integer = (
        not (indices.dtype.is_floating_point or indices.dtype.is_complex)
        and str(indices.dtype) != "torch.bool"
        if tensor
        else indices.dtype.kind in "iu"
    )
    if not integer:
        raise SpecError(f"{op}: indices must have an integer dtype, got {indices.dtype}")
    if A.shape_of(indices) != A.shape_of(input):
        raise SpecError(
            f"{op}: indices has shape {A.shape_of(indices)}, expected the input's "
            f"{A.shape_of(input)}"
        )
    x, unbatched = _batched(op, "input", input, dims)
    idx = indices[None] if unbatched else indices
    if stride is not None and not isinstance(stride, int) and len(stride) == 0:
        stride = None
    spec = _spec(op, Pool, dims=dims, kernel_size=kernel_size, stride=stride, padding=padding)
    size = A.shape_of(x)[2:]
    default = tuple(
        _sizes.unpool_out(i, k, s, p)
        for i, k, s, p in zip(size, spec.kernel_size, spec.stride, spec.padding, strict=True)
    )
    out = default if output_size is None else _unpool_size(op, dims, output_size, default, spec)
    if min(out, default=1) < 0:
        raise SpecError(f"{op}: the output size {out} must not be negative")
    n, c = A.shape_of(x)[:2]
    total = math.prod(out)
    per = math.prod(size)
    flat_idx = idx.reshape(n, c, per)
    if math.prod(A.shape_of(flat_idx)):
        lo, hi = int(flat_idx.min()), int(flat_idx.max())
        if lo < 0 or hi >= total:
            raise SpecError(
                f"{op}: indices must be flat positions in [0, {total}) of the output's spatial "
                f"axes {out}, got {lo if lo < 0 else hi}"
            )
    flat_idx = flat_idx.long() if tensor else flat_idx.astype(np.int64)
    y = A.scatter(A.zeros((n, c, total), x), flat_idx, x.reshape(n, c, per))
    y = y.reshape(n, c, *out)
    return y[0] if unbatched else y


def _unpool_size(
    op: str, dims: int, output_size: Any, default: tuple[int, ...], spec: Pool
) -> tuple[int, ...]:
    """torch's rule: `output_size` (spatial, or with the leading (N, C)) strictly within one
    stride of the default size on every axis."""
    if isinstance(output_size, str | bytes) or not hasattr(output_size, "__len__"):
        raise SpecError(f"{op}: output_size must be a sequence of integers, got {output_size!r}")
    sizes = list(output_size)
    if len(sizes) == dims + 2:
        sizes = sizes[2:]
    if len(sizes) != dims:
        raise SpecError(
            f"{op}: output_size {tuple(output_size)!r} must have {dims} or {dims + 2} entries"
        )
    sizes = [as_int(op, f"output_size[{a}]", v, 0) for a, v in enumerate(sizes)]
    for a, (o, d, s) in enumerate(zip(sizes, default, spec.stride, strict=True)):
        if not d - s < o < d + s:
            raise SpecError(
                f"{op}: output_size[{a}] = {o} must lie strictly between {d - s} and {d + s} "
                f"(the default size (i - 1)s - 2p + k = {d}, plus or minus the stride {s})"
            )
    return tuple(sizes)
