"""symconv: a symbolic, verified engine for convolutional networks.

The public surface, re-exported explicitly. See README.md for a tour.

The names load on first use (module `__getattr__`): `import symconv` loads neither SymPy, SciPy
nor torch, so the CLI, `numeric` and the pytest plugin start fast; `symconv.toeplitz` (say)
imports its module, and SymPy with it, when it is first looked up.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from . import arch, errata, limits
    from . import testing as testing
    from . import verify as verify
    from ._errors import SpecError
    from ._fft_sizes import fft_plan, fft_size
    from .arith import receptive_field
    from .backprop import backprop
    from .derivation import Certificate, Derivation, Step
    from .equivariance import equivariance
    from .fourier import commutativity_derivation, fourier_derivation
    from .groupconv import group_conv, lift, p4_derivation
    from .indexform import IndexForm, index_form
    from .local import LocallyConnected, Tiled
    from .local_params import local_backprop, local_params
    from .separable import low_rank, separable
    from .spec import Conv, Fit, Pool
    from .toeplitz import (
        padding_matrix,
        patch_matrix,
        structure,
        toeplitz,
        toeplitz_numeric,
        valid_matrix,
    )
    from .transpose import ConvTranspose, conv_transpose_equivalent
    from .winograd import Winograd, winograd

__version__ = "0.1.0"  # the one place: pyproject.toml reads it (dynamic version)

# public name -> the submodule that defines it (None: the name is that submodule)
_WHERE: dict[str, str | None] = {
    "arch": None,
    "errata": None,
    "limits": None,
    "testing": None,
    "verify": None,
    "SpecError": "_errors",
    "receptive_field": "arith",
    "backprop": "backprop",
    "Certificate": "derivation",
    "Derivation": "derivation",
    "Step": "derivation",
    "equivariance": "equivariance",
    "commutativity_derivation": "fourier",
    "fft_plan": "_fft_sizes",
    "fft_size": "_fft_sizes",
    "fourier_derivation": "fourier",
    "group_conv": "groupconv",
    "lift": "groupconv",
    "p4_derivation": "groupconv",
    "IndexForm": "indexform",
    "index_form": "indexform",
    "LocallyConnected": "local",
    "Tiled": "local",
    "local_backprop": "local_params",
    "local_params": "local_params",
    "low_rank": "separable",
    "separable": "separable",
    "Conv": "spec",
    "Fit": "spec",
    "Pool": "spec",
    "padding_matrix": "toeplitz",
    "patch_matrix": "toeplitz",
    "structure": "toeplitz",
    "toeplitz": "toeplitz",
    "toeplitz_numeric": "toeplitz",
    "valid_matrix": "toeplitz",
    "ConvTranspose": "transpose",
    "conv_transpose_equivalent": "transpose",
    "Winograd": "winograd",
    "winograd": "winograd",
}

# Functions named like the module that defines them (`symconv.toeplitz` is the function): the
# import system's binding of the submodule on the package must not replace the function.
_SHADOWED = frozenset(n for n, m in _WHERE.items() if m == n)

__all__ = [
    "Certificate",
    "Conv",
    "ConvTranspose",
    "Derivation",
    "Fit",
    "IndexForm",
    "LocallyConnected",
    "Pool",
    "SpecError",
    "Step",
    "Tiled",
    "Winograd",
    "__version__",
    "arch",
    "backprop",
    "commutativity_derivation",
    "conv_transpose_equivalent",
    "equivariance",
    "errata",
    "fft_plan",
    "fft_size",
    "fourier_derivation",
    "group_conv",
    "index_form",
    "lift",
    "limits",
    "local_backprop",
    "local_params",
    "low_rank",
    "p4_derivation",
    "padding_matrix",
    "patch_matrix",
    "receptive_field",
    "separable",
    "structure",
    "toeplitz",
    "toeplitz_numeric",
    "valid_matrix",
    "winograd",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        # any submodule, as when this package imported them all: `symconv.fourier.fft_plan`
        if not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}"):
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module 'symconv' has no attribute {name!r}")
    where = _WHERE[name]
    module = importlib.import_module(f".{where or name}", __name__)
    value = module if where is None else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return  # the submodule stays in sys.modules; `symconv.<name>` is the function
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
