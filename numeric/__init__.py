r"""numeric: symconv's generated kernels behind `torch.nn.functional`'s signatures.

The array type picks the backend: `numpy.ndarray` runs the generated NumPy kernels,
`torch.Tensor` the generated torch kernels on the tensor's device. float32 and float64, any
batch size (including 0); float16 arrays and float16 / bfloat16 tensors run in float32 and
come back in their own dtype (torch's CPU rule). torch is optional: `import numeric` needs
only NumPy.

```python
>>> import numpy as np
>>> import numeric as nm
>>> x = np.ones((1, 1, 4, 4))
>>> w = np.ones((2, 1, 3, 3))
>>> nm.conv2d(x, w, padding=1)[0, 0]
array([[4., 6., 6., 4.],
       [6., 9., 9., 6.],
       [6., 9., 9., 6.],
       [4., 6., 6., 4.]])

```

Every invalid argument raises `symconv.SpecError` (a `ValueError`) naming the operation and
what is wrong. Workspaces (padded copies, im2col) are chunked over the batch within
`set_workspace_limit(bytes)` (default 256 MB; `workspace_limit(bytes)` as a context manager).
NumPy kernels split the batch across `set_num_threads(n)` threads (default: the CPUs available).
On torch tensors that require a gradient the conv, transposed conv and pooling functions are
differentiable: their backward runs numeric's derived gradients (`conv*_grad_input`,
`conv*_grad_weight`, `conv_grad_bias`, `*_pool*d_backward`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._backend import get_workspace_limit, set_workspace_limit, workspace_limit
from ._parallel import get_num_threads, set_num_threads

if TYPE_CHECKING:  # pragma: no cover
    from . import algorithms as algorithms
    from . import grad
    from . import local as local
    from . import p4 as p4
    from ._generated.api import *  # noqa: F403 (the names of _API, typed)

# The public convolution and pooling functions (conv*d, conv_transpose*d, their gradients,
# max/avg/lp pooling and theirs) are printed from one table into numeric/_generated/api.py
# (`symconv generate`; symconv/codegen/api_table/) and load from there on first use; the
# table's family rows (_FAMILY below) into api_family.py, which numeric.family re-exports.
_API = (
    "avg_pool1d",
    "avg_pool1d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "avg_pool3d",
    "avg_pool3d_backward",
    "conv1d",
    "conv1d_grad_input",
    "conv1d_grad_weight",
    "conv2d",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "conv3d",
    "conv3d_grad_input",
    "conv3d_grad_weight",
    "conv_grad_bias",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "lp_pool1d",
    "lp_pool1d_backward",
    "lp_pool2d",
    "lp_pool2d_backward",
    "lp_pool3d",
    "lp_pool3d_backward",
    "max_pool1d",
    "max_pool1d_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool3d",
    "max_pool3d_backward",
)
__all__ = [
    *_API,
    "get_num_threads",
    "get_workspace_limit",
    "grad",
    "set_num_threads",
    "set_workspace_limit",
    "workspace_limit",
]


# Submodules load on first use (`numeric.algorithms` needs SymPy for its cost model): `import
# numeric` loads neither SymPy, SciPy nor torch.
_SUBMODULES = {
    "algorithms": "Winograd, FFT, separable; the cost model behind 'auto'",
    "family": "pad, unfold/fold, adaptive pooling, unpooling, conv_transpose gradients",
    "grad": "torch.nn.grad-style aliases of the functions above",
    "local": "locally connected and tiled layers",
    "p4": "p4 lifting and group convolution",
}


def __getattr__(name: str) -> Any:
    if name in _API or name in _FAMILY:
        where = "._generated.api" if name in _API else ".family"
        value = getattr(importlib.import_module(where, __name__), name)
        globals()[name] = value
        return value
    if name not in _SUBMODULES:
        raise AttributeError(f"module 'numeric' has no attribute {name!r}")
    return importlib.import_module(f".{name}", __name__)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})


# the rest of torch.nn.functional's convolution family, loaded on first use from numeric.family
# (whose __all__ is this list)
_FAMILY = (
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "conv_transpose1d_grad_input",
    "conv_transpose1d_grad_weight",
    "conv_transpose2d_grad_input",
    "conv_transpose2d_grad_weight",
    "conv_transpose3d_grad_input",
    "conv_transpose3d_grad_weight",
    "fold",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "pad",
    "unfold",
)
__all__ += _FAMILY
