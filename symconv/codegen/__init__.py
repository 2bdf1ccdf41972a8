"""Code generation: print NumPy and torch kernels from the index forms.

`printer` (the backend-independent walk), `numpy_backend` / `torch_backend` (thin subclasses),
`kernels` (the nodes read off the index forms), `templates` (every kernel family as a Python
module over the primitive vocabulary, read by the printer), `generate` (module assembly,
`--check`, the CLI subcommand), `layer` (one layer's own module, `--spec`), `files` (writing a
set of files all or nothing), `api_table` / `api` (numeric's public functions: their table and
its printer).
"""

from .generate import generate_all, spec_module, stale, write
from .numpy_backend import NumPyKernelPrinter
from .printer import IndexExprPrinter, KernelPrinter
from .torch_backend import TorchKernelPrinter

__all__ = [
    "IndexExprPrinter",
    "KernelPrinter",
    "NumPyKernelPrinter",
    "TorchKernelPrinter",
    "generate_all",
    "spec_module",
    "stale",
    "write",
]
