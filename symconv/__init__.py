"""symconv: a symbolic, verified engine for convolutional networks.

The public surface, re-exported explicitly. See README.md for a tour.
"""

from . import (  # noqa: F401 (testing, verify: submodules)
    arch,
    errata,
    limits,
    testing,
    verify,
)
from ._errors import SpecError
from .arith import receptive_field
from .backprop import backprop
from .derivation import Certificate, Derivation, Step
from .equivariance import equivariance
from .fourier import commutativity_derivation, fft_plan, fft_size, fourier_derivation
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
