"""The primitive vocabulary of the kernel templates, spelled in NumPy.

Every array operation a template performs goes through one of these functions; nothing else in
a template names an array library. Each primitive is one `return` of one expression. The NumPy
backend prints exactly that expression (`NumPyKernelPrinter` reads it from this file), and
every other backend supplies its own spelling of the same name and parameters
(`TorchKernelPrinter._primitives`; a test checks that the two vocabularies agree). So the
templates run as they are on NumPy arrays (their unit tests call them), and the printed modules
define, per backend, the primitives they use.

`Array` is whatever array type the backend has (`numpy.ndarray`, `torch.Tensor`): the
templates only index, slice, reshape and do arithmetic on it besides calling primitives.

Example:

    >>> import numpy
    >>> like = numpy.ones(2, dtype=numpy.float32)
    >>> _zeros((2, 3), like).dtype
    dtype('float32')
    >>> _take(numpy.arange(5), _index([4, 0], like), 0).tolist()
    [4, 0]
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy

__all__ = ["Array", "Pads", "Sizes", "Start", "Taps", "Window"]

Array: TypeAlias = Any
"""An array of the backend (`numpy.ndarray` here; `torch.Tensor` in the torch modules)."""


def _empty(shape: Sequence[int], like: Array) -> Array:
    """An uninitialised array of `shape`, `like`'s dtype (and device)."""
    return numpy.empty(shape, dtype=like.dtype)


def _zeros(shape: Sequence[int], like: Array) -> Array:
    """Zeros of `shape`, `like`'s dtype (and device)."""
    return numpy.zeros(shape, dtype=like.dtype)


def _full(shape: Sequence[int], value: float, like: Array) -> Array:
    """`value` everywhere, `like`'s dtype (and device)."""
    return numpy.full(shape, value, dtype=like.dtype)


def _zeros_index(shape: Sequence[int], like: Array) -> Array:
    """Integer (int64) zeros of `shape` on `like`'s device."""
    return numpy.zeros(shape, dtype=numpy.int64)


def _arange(n: int, like: Array) -> Array:
    """The int64 indices 0..n-1 on `like`'s device."""
    return numpy.arange(n, dtype=numpy.int64)


def _index(values: Sequence[int], like: Array) -> Array:
    """An int64 index array of `values` on `like`'s device."""
    return numpy.asarray(values, dtype=numpy.int64)


def _as_float(a: Array, like: Array) -> Array:
    """`a` (e.g. booleans) converted to `like`'s dtype."""
    return numpy.asarray(a).astype(like.dtype)


def _take(x: Array, index: Array, axis: int) -> Array:
    """x[..., index, ...], `index` applied along `axis` (a gather)."""
    return numpy.take(x, index, axis=axis)


def _index_add(target: Array, axis: int, index: Array, values: Array) -> Any:
    """target[..., index, ...] += values along `axis`, in place; repeated indices add."""
    return numpy.add.at(target, (slice(None),) * axis + (index,), values)  # type: ignore[arg-type]


def _scatter_flat(n: int, index: Array, values: Array, like: Array) -> Array:
    """A flat array of `n` entries: the sum of the `values` sent to each `index`."""
    return numpy.bincount(index, weights=values, minlength=n).astype(like.dtype)


def _permute(x: Array, axes: Sequence[int]) -> Array:
    """x with its axes in the order `axes` (a view)."""
    return numpy.transpose(x, axes)


def _contiguous(x: Array) -> Array:
    """x in row-major (C) order: x itself when it already is."""
    return numpy.ascontiguousarray(x)


def _steps(x: Array) -> tuple[int, ...]:
    """x's strides in elements (not bytes)."""
    return tuple(s // x.itemsize for s in x.strides)


def _strided(x: Array, shape: Sequence[int], steps: Sequence[int]) -> Array:
    """A read-only view of x's memory with `shape` and `steps` (strides in elements)."""
    return numpy.lib.stride_tricks.as_strided(
        x, shape, tuple(s * x.itemsize for s in steps), writeable=False
    )


def _copy(x: Array) -> Array:
    """A copy of x that owns its memory."""
    return numpy.array(x, copy=True)


def _matmul(a: Array, b: Array, out: Array | None) -> Array:
    """a @ b, into `out` when it is not None."""
    return numpy.matmul(a, b, out=out)


def _multiply(a: Array, b: Array, out: Array) -> Array:
    """out = a * b (broadcasting)."""
    return numpy.multiply(a, b, out=out)


def _add(a: Array, b: Array, out: Array) -> Array:
    """out = a + b (broadcasting)."""
    return numpy.add(a, b, out=out)


def _multiply_add(out: Array, acc: Array, a: Array, b: Array, scratch: Array) -> Array:
    """out = acc + a * b; `scratch` (a's broadcast shape) may hold the product."""
    return numpy.add(acc, numpy.multiply(a, b, out=scratch), out=out)


def _einsum(spec: str, *operands: Array) -> Array:
    """Einstein summation over `operands`, as `spec` says."""
    return numpy.einsum(spec, *operands)


def _window_dot(src: Array, d: Array) -> Array:
    """Sum over n and the spatial axes of src[n, c, o] d[n, c, m, o]: (C, M)."""
    return numpy.einsum(
        src, [0, 1, *range(3, src.ndim + 1)], d, [0, 1, 2, *range(3, d.ndim)], [1, 2]
    )


def _where(cond: Array, a: Any, b: Any) -> Array:
    """a where `cond` holds, b elsewhere (broadcasting)."""
    return numpy.where(cond, a, b)


def _flip(x: Array, axes: Sequence[int]) -> Array:
    """x reversed along `axes`.

    A size-1 axis is not flipped: its flip is a no-op, and NumPy calls the negatively strided
    view contiguous, so `ascontiguousarray` would keep the negative stride.
    """
    return numpy.flip(x, tuple(a for a in axes if x.shape[a] > 1))


def _sum(x: Array, axes: int | Sequence[int]) -> Array:
    """The sum of x over `axes`."""
    return x.sum(axis=axes)


def _rfftn(x: Array, lengths: Sizes, axes: Sizes) -> Array:
    """The real FFT of x over `axes`, zero-extended (or cut) to `lengths`."""
    return numpy.fft.rfftn(x, lengths, axes=axes)


def _irfftn(spectrum: Array, lengths: Sizes, axes: Sizes) -> Array:
    """The inverse of `_rfftn`: a real array of `lengths` over `axes`."""
    return numpy.fft.irfftn(spectrum, lengths, axes=axes)


def _conj(spectrum: Array) -> Array:
    """The complex conjugate."""
    return numpy.conj(spectrum)


def _as_dtype(a: Array, like: Array) -> Array:
    """a in `like`'s dtype (a itself when it already is)."""
    return a.astype(like.dtype, copy=False)


def _const(rows: Sequence[Sequence[float]], like: Array) -> Array:
    """A printed matrix (nested lists) in `like`'s dtype (and on its device)."""
    return numpy.array(rows, dtype=numpy.float64).astype(like.dtype)


def _is_contiguous(x: Array) -> bool:
    """Whether x is laid out in row-major (C) order without gaps."""
    return x.flags.c_contiguous


def _small_gemm() -> int:
    """Multiply-adds per GEMM call that the small-matrix path takes; 0: no limit (one call).

    OpenBLAS's small-matrix kernel takes a GEMM of M N K <= 10^6 (its permit function): blocks
    5 % inside that (the conv template's `_thin_matmul`; BENCHMARKS.md).
    """
    return 950_000


def _quiet() -> contextlib.AbstractContextManager[Any]:
    """A context in which division by zero, invalid operations and overflow do not warn."""
    return numpy.errstate(divide="ignore", invalid="ignore", over="ignore")


# -- the types of the templates' other arguments -------------------------------------------------
Sizes: TypeAlias = Sequence[int]
"""One integer per spatial axis (kernel, stride, dilation, sizes)."""
Pads: TypeAlias = Sequence[tuple[int, int]]
"""One (low, high) padding pair per spatial axis."""
Start: TypeAlias = Callable[[int, int, int], int]
"""A window start: tap a, kernel length k, dilation d -> the first padded position read."""
Taps: TypeAlias = Sequence[tuple[int, int, int]]
"""Per spatial axis (K, first, step): tap a's window starts at first + step a."""
Window: TypeAlias = tuple[slice, ...]
"""Strided slices, one per spatial axis (or per axis of the array)."""
