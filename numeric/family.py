r"""The rest of `torch.nn.functional`'s convolution family, derived from the index forms.

Same signatures, defaults and semantics as torch, on NumPy arrays and torch tensors (torch
autograd runs through them on tensors that require a gradient); all are re-exported by
`numeric` (`numeric.pad`, `numeric.unfold`, ...).

- `pad`: $\tilde x[j] = x[\varphi(j - P_\mathrm{lo})]$ with the padding map $\varphi$ of the
  index form (`symconv._indexmap.phi`): constant, reflect, replicate, circular (torch crops a
  negative circular pad first, then wraps what is left);
- `unfold` / `fold`: the patch (im2col) matrix and its adjoint
  (`symconv.family.unfold_fold_derivation`);
- `adaptive_avg_pool{1,2,3}d`, `adaptive_max_pool{1,2,3}d`: window $o$ is
  $[\lfloor oI/O \rfloor, \lceil (o+1)I/O \rceil)$ (`symconv.family.adaptive_window_derivation`);
- `max_unpool{1,2,3}d`: each value scattered to its index, output $(i-1)s - 2p + k$;
- `conv_transpose{1,2,3}d_grad_input` / `_grad_weight`: the transposed convolution's
  gradients, which are convolutions (`numeric.conv*d` and `conv*d_grad_weight`).

float16 (NumPy and torch) and bfloat16 (torch) inputs of the functions that add numbers
(`fold`, `adaptive_avg_pool*d`, the transposed convolution's gradients, as numeric's
convolutions and pooling) run in float32 and return their own dtype; `pad`, `unfold`,
`adaptive_max_pool*d` and `max_unpool*d` only move values and run in the input's dtype.

```python
>>> import numpy as np, numeric as nm
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> nm.pad(x, (1, 1, 1, 1), mode="reflect")[0, 0, 0]
array([5., 4., 5., 6., 7., 6.])
>>> cols = nm.unfold(x, 2, stride=2)             # (N, C * 2 * 2, 4 blocks)
>>> bool((nm.fold(cols, (4, 4), 2, stride=2) == x).all())
True
>>> nm.adaptive_avg_pool2d(x, 2)[0, 0]
array([[ 2.5,  4.5],
       [10.5, 12.5]])

```
"""

from __future__ import annotations

from . import _FAMILY

# The functions are printed with numeric's others from one table (symconv/codegen/api_table/)
# into numeric/_generated/api_family.py (`symconv generate`).
from ._generated.api_family import *  # noqa: F403

__all__ = list(_FAMILY)  # the names numeric re-exports, listed once (numeric/__init__.py)
