"""symconv: a symbolic, verified engine for convolutional networks.

The public surface, re-exported explicitly. See README.md for a tour.
"""

from . import arch, errata
from ._errors import SpecError
from .arith import receptive_field
from .backprop import backprop
from .derivation import Certificate, Derivation, Step
from .equivariance import equivariance
from .indexform import IndexForm, index_form
from .local import LocallyConnected, Tiled
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

__version__ = "0.1.0"

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
    "__version__",
    "arch",
    "backprop",
    "conv_transpose_equivalent",
    "equivariance",
    "errata",
    "index_form",
    "padding_matrix",
    "patch_matrix",
    "receptive_field",
    "structure",
    "toeplitz",
    "toeplitz_numeric",
    "valid_matrix",
]
