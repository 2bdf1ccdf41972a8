"""The torch reference every numeric check compares with: a spec run by `torch.nn.functional`.

torch's convolutions pad with zeros, the same amount on both sides; a symconv `Conv` pads each
side on its own, in four modes, and `flip=True` is true convolution. `conv_reference` runs a
spec the way symconv defines it: `F.pad` in the spec's padding mode, the kernel reversed along
its spatial axes for `flip=True`, then `F.conv{d}d` with no padding of its own.
`pool_reference` runs a `Pool` spec through `F.{max,avg,lp}_pool{d}d`.

The derivations' numeric checks (`derive`, `verify`, the tour, `equivariance`) and the tests
all use these two, so "agrees with torch" means one thing everywhere. torch is an optional
dependency: it is imported when a reference is computed, and `torch_or_none` says whether it
is installed.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .spec import Conv, Pool

__all__ = ["conv_reference", "pool_reference", "preload", "torch_or_none"]


def torch_or_none() -> Any:
    """The `torch` module, or `None` when torch is not installed."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is an optional dependency
        return None
    return torch


def preload() -> bool:
    """Import torch now (a worker's first job: its checks come later); whether it is here."""
    return torch_or_none() is not None


def _tensor(a: Any) -> Any:
    """A torch tensor as it is (autograd intact); a NumPy array as a tensor sharing its memory."""
    import torch

    return a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))


def conv_reference(spec: Conv, x: Any, w: Any, b: Any = None) -> Any:
    """`spec` applied by torch to `x` of shape `(N, C_in, *size)`, weight `w`, optional bias `b`.

    Arrays may be torch tensors (gradients flow through) or NumPy arrays; the result is a
    tensor of shape `(N, C_out, *spec.output_size(size))`.

    ```python
    >>> import numpy as np, symconv as sc
    >>> spec = sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular", flip=True)
    >>> x, w = np.arange(5.0)[None, None], np.array([[[1.0, 0, 0]]])
    >>> conv_reference(spec, x, w).tolist()  # reversed, [1, 0, 0] reads the next input (cyclic)
    [[[1.0, 2.0, 3.0, 4.0, 0.0]]]

    ```
    """
    import torch.nn.functional as F

    x, w = _tensor(x), _tensor(w)
    b = None if b is None else _tensor(b)
    pads = [p for lo, hi in reversed(spec.pads) for p in (lo, hi)]  # F.pad: last axis first
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    xp = F.pad(x, pads, mode=mode) if any(pads) else x
    if spec.flip:  # true convolution = cross-correlation with the reversed kernel
        w = w.flip(dims=tuple(range(2, 2 + spec.dims)))
    conv = getattr(F, f"conv{spec.dims}d")
    return conv(xp, w, b, spec.stride, 0, spec.dilation, spec.groups)


def pool_reference(spec: Pool, x: Any) -> Any:
    """`spec` applied by torch to `x` of shape `(N, C, *size)` (a tensor or a NumPy array).

    1-D average pooling runs as a `1 x k` 2-D pooling, since `avg_pool1d` has no
    `divisor_override`.
    """
    import torch.nn.functional as F

    x, dims = _tensor(x), spec.dims
    k, s, p = spec.kernel_size, spec.stride, spec.padding
    if spec.kind == "max":
        return getattr(F, f"max_pool{dims}d")(x, k, s, p, spec.dilation, spec.ceil_mode)
    if spec.kind == "lp":
        if dims == 1:  # lp_pool1d wants plain ints
            return F.lp_pool1d(x, cast(float, spec.norm_type), k[0], s[0], spec.ceil_mode)
        return getattr(F, f"lp_pool{dims}d")(x, spec.norm_type, k, s, spec.ceil_mode)
    if dims == 1:  # avg_pool1d has no divisor_override: run it as a 1 x k 2-D pooling
        y = F.avg_pool2d(
            x.unsqueeze(-2),
            (1, k[0]),
            (1, s[0]),
            (0, p[0]),
            spec.ceil_mode,
            cast(bool, spec.count_include_pad),  # set for avg pooling
            spec.divisor_override,
        )
        return y.squeeze(-2)
    return getattr(F, f"avg_pool{dims}d")(
        x, k, s, p, spec.ceil_mode, spec.count_include_pad, spec.divisor_override
    )
