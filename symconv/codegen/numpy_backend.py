"""The NumPy backend: the primitive vocabulary of `KernelPrinter` in NumPy."""

from __future__ import annotations

from typing import ClassVar

from .printer import IndexExprPrinter, KernelPrinter

__all__ = ["NumPyKernelPrinter"]


class NumPyIndexPrinter(IndexExprPrinter):
    _module = "numpy"
    _minimum = "numpy.minimum"
    _maximum = "numpy.maximum"
    _where = "numpy.where"


class NumPyKernelPrinter(KernelPrinter):
    """Kernels on `numpy.ndarray` (float32 / float64)."""

    _module = "numpy"
    _expr_printer = NumPyIndexPrinter
    _extra_imports: ClassVar[dict[str, str]] = {"numpy": "numpy", "contextlib": "contextlib"}
    _primitives: ClassVar[dict[str, tuple[str, str]]] = {
        "_empty": ("shape, like", "numpy.empty(shape, dtype=like.dtype)"),
        "_zeros": ("shape, like", "numpy.zeros(shape, dtype=like.dtype)"),
        "_full": ("shape, value, like", "numpy.full(shape, value, dtype=like.dtype)"),
        "_zeros_index": ("shape, like", "numpy.zeros(shape, dtype=numpy.int64)"),
        "_arange": ("n, like", "numpy.arange(n, dtype=numpy.int64)"),
        "_index": ("values, like", "numpy.asarray(values, dtype=numpy.int64)"),
        "_as_float": ("a, like", "numpy.asarray(a).astype(like.dtype)"),
        "_take": ("x, index, axis", "numpy.take(x, index, axis=axis)"),
        "_index_add": (
            "target, axis, index, values",
            "numpy.add.at(target, (slice(None),) * axis + (index,), values)",
        ),
        "_scatter_flat": (
            "n, index, values, like",
            "numpy.bincount(index, weights=values, minlength=n).astype(like.dtype)",
        ),
        "_permute": ("x, axes", "numpy.transpose(x, axes)"),
        "_contiguous": ("x", "numpy.ascontiguousarray(x)"),
        "_steps": ("x", "tuple(s // x.itemsize for s in x.strides)"),
        "_strided": (
            "x, shape, steps",
            "numpy.lib.stride_tricks.as_strided(\n"
            "        x, shape, tuple(s * x.itemsize for s in steps), writeable=False\n"
            "    )",
        ),
        "_copy": ("x", "numpy.array(x, copy=True)"),
        "_matmul": ("a, b, out", "numpy.matmul(a, b, out=out)"),
        "_multiply": ("a, b, out", "numpy.multiply(a, b, out=out)"),
        "_add": ("a, b, out", "numpy.add(a, b, out=out)"),
        "_multiply_add": (  # out = acc + a b (the product in scratch)
            "out, acc, a, b, scratch",
            "numpy.add(acc, numpy.multiply(a, b, out=scratch), out=out)",
        ),
        "_einsum": ("spec, *operands", "numpy.einsum(spec, *operands)"),
        "_window_dot": (  # sum over n and the spatial axes of src[n, c, o] d[n, c, m, o]
            "src, d",
            "numpy.einsum(\n"
            "        src, [0, 1, *range(3, src.ndim + 1)], d, [0, 1, 2, *range(3, d.ndim)], [1, 2]"
            "\n    )",
        ),
        "_where": ("cond, a, b", "numpy.where(cond, a, b)"),
        # a size-1 axis is not flipped: its flip is a no-op, and numpy calls the negatively
        # strided view contiguous, so ascontiguousarray would keep the negative stride
        "_flip": ("x, axes", "numpy.flip(x, tuple(a for a in axes if x.shape[a] > 1))"),
        "_sum": ("x, axes", "x.sum(axis=axes)"),
        # OpenBLAS's small-matrix kernel takes a GEMM of M N K <= 10^6 (its permit function):
        # blocks 5 % inside that (kernels' _thin_matmul; BENCHMARKS.md)
        "_small_gemm": ("", "950_000"),
        "_quiet": ("", 'numpy.errstate(divide="ignore", invalid="ignore", over="ignore")'),
    }
