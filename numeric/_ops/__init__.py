"""The public operations, any number of spatial axes; `numeric._generated.api` names them per dims.

Each operation normalises its arguments once (by building the `symconv` spec: one validation
path), checks the arrays, sizes the batch chunk from the workspace budget and calls the
generated kernel of the backend the arrays pick.
"""

from __future__ import annotations

from ._common import _batched as _batched  # numeric._pad, numeric._adaptive
from ._common import _spec as _spec
from .conv import conv, conv_grad_bias, conv_grad_input, conv_grad_weight, conv_spec
from .pool import (
    avg_pool,
    avg_pool_backward,
    lp_pool,
    lp_pool_backward,
    max_pool,
    max_pool_backward,
    pool_spec,
)
from .transpose import conv_transpose, conv_transpose_grad_input, conv_transpose_grad_weight

__all__ = [
    "avg_pool",
    "avg_pool_backward",
    "conv",
    "conv_grad_bias",
    "conv_grad_input",
    "conv_grad_weight",
    "conv_spec",
    "conv_transpose",
    "conv_transpose_grad_input",
    "conv_transpose_grad_weight",
    "lp_pool",
    "lp_pool_backward",
    "max_pool",
    "max_pool_backward",
    "pool_spec",
]
