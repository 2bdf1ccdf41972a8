"""The backends `symconv generate` prints the kernel modules for: name -> printer class.

A new backend is a `KernelPrinter` subclass (`numpy_backend.py` and `torch_backend.py` are the
two) added here; every family's `*_modules()` prints one module per entry.
"""

from __future__ import annotations

from .numpy_backend import NumPyKernelPrinter
from .printer import KernelPrinter
from .torch_backend import TorchKernelPrinter

__all__ = ["BACKENDS"]

BACKENDS: dict[str, type[KernelPrinter]] = {
    "numpy": NumPyKernelPrinter,
    "torch": TorchKernelPrinter,
}
