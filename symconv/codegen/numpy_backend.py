"""The NumPy backend: the primitive vocabulary of `KernelPrinter` in NumPy, read from the
templates' own primitives (`symconv/codegen/templates/prims.py`)."""

from __future__ import annotations

from typing import ClassVar

from .printer import IndexExprPrinter, KernelPrinter
from .templates import primitives

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
    _extra_imports: ClassVar[dict[str, str]] = {
        "numpy": "numpy",
        "contextlib": "contextlib",
        "threading": "threading",
    }
    # the vocabulary as symconv/codegen/templates/prims.py spells it (read, never imported)
    _primitives: ClassVar[dict[str, tuple[str, str]]] = primitives()
