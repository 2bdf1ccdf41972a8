"""torch autograd through numeric's convolutions: the backward pass runs the derived gradients.

When a torch tensor argument of `numeric.conv1d/2d/3d`, `conv_transpose1d/2d/3d`, of a
pooling function or of a `numeric.local` layer requires a gradient (and grad mode is on), the
call goes through a `torch.autograd.Function` whose backward calls numeric's own derived gradients
(`conv*_grad_input`, `conv*_grad_weight` and `conv_grad_bias` with the same layer and
algorithm; `*_pool*d_backward`): numeric's kernels can train a torch model, and
`torch.autograd.gradcheck` checks the derived gradients against finite differences of the
forward.

Each family's `torch.autograd.Function` sits at the end of the module whose functions it runs
(`numeric._ops.conv`, `numeric._ops.pool`, `numeric._ops.transpose`, `numeric.local`: an
`_autograd_function()` built on first use, when torch is there); this module holds what they
share: `needs_grad`, the test that sends a call through autograd, and `with_batch_axis`.

```python
>>> import torch, numeric as nm
>>> x = torch.randn(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
>>> w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
>>> torch.autograd.gradcheck(lambda x, w: nm.conv2d(x, w, padding=1), (x, w))
True

```
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["needs_grad", "with_batch_axis"]


def needs_grad(*arrays: Any) -> bool:
    """Whether any argument is a torch tensor that requires a gradient, with grad mode on."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.is_grad_enabled():
        return False
    return any(isinstance(a, torch.Tensor) and a.requires_grad for a in arrays)


def with_batch_axis(dims: int, x: Any, delta: Any) -> tuple[bool, Any, Any]:
    """(unbatched, x, delta) with the batch axis the gradient functions need (torch accepts an
    unbatched input: one sample without its axis)."""
    unbatched = x.ndim == dims + 1
    if unbatched:
        x, delta = x.unsqueeze(0), delta.unsqueeze(0)
    return unbatched, x, delta.contiguous()
