"""symconv: a symbolic, verified engine for convolutional networks.

The public surface, re-exported explicitly. See README.md for a tour.
"""

from ._errors import SpecError
from .arith import receptive_field
from .derivation import Certificate, Derivation, Step
from .spec import Conv, Fit, Pool

__version__ = "0.1.0"

__all__ = [
    "Certificate",
    "Conv",
    "Derivation",
    "Fit",
    "Pool",
    "SpecError",
    "Step",
    "__version__",
    "receptive_field",
]
