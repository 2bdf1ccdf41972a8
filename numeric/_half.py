"""float16 and bfloat16: run in float32, return the input's dtype (torch's CPU rule).

torch's CPU convolution and pooling kernels accumulate half-precision inputs in float32 and
round the result once; `half_precision(fn)` does the same around one of numeric's operations:
NumPy float16 arrays and torch float16 / bfloat16 tensors (all of one dtype) are cast to
float32, the operation runs, and its floating results are cast back (integer results, such as
max pooling's indices, are returned as they are). On torch tensors the casts are
differentiable, so autograd runs through them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from symconv import SpecError

from ._backend import _is_tensor

__all__ = ["half_precision", "is_half"]


def is_half(a: Any) -> bool:
    """A NumPy float16 array or a torch float16 / bfloat16 tensor."""
    if _is_tensor(a):
        return str(a.dtype) in ("torch.float16", "torch.bfloat16")
    return isinstance(a, np.ndarray) and a.dtype == np.float16


def _floating(a: Any) -> bool:
    if _is_tensor(a):
        return a.dtype.is_floating_point
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _to(a: Any, dtype: Any) -> Any:
    if _is_tensor(a):
        return a.to(dtype)
    return a.astype(dtype)


def _back(result: Any, dtype: Any) -> Any:
    if isinstance(result, tuple):
        return tuple(_back(r, dtype) for r in result)
    return _to(result, dtype) if _floating(result) else result


def half_precision(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` accepting half-precision arrays: computed in float32, returned in their dtype."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        values = [*args, *kwargs.values()]
        if not any(is_half(v) for v in values):
            return fn(*args, **kwargs)
        named = [v for v in values if _floating(v)]
        dtypes = {str(v.dtype) for v in named}
        op = next((v for v in args if isinstance(v, str)), fn.__name__)
        if len(dtypes) > 1:
            raise SpecError(
                f"{op}: arrays must share one dtype, got {', '.join(sorted(dtypes))} "
                f"(float16 and bfloat16 run in float32 and return their own dtype)"
            )
        dtype = named[0].dtype
        f32 = (lambda v: v.float()) if _is_tensor(named[0]) else (lambda v: v.astype(np.float32))

        def up(v: Any) -> Any:
            return f32(v) if _floating(v) else v

        result = fn(*map(up, args), **{k: up(v) for k, v in kwargs.items()})
        return _back(result, dtype)

    return run
