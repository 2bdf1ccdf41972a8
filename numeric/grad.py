"""`torch.nn.grad`-style aliases: `numeric.grad.conv2d_input`, `numeric.grad.conv2d_weight`, ...

```python
>>> import numeric as nm
>>> nm.grad.conv2d_input is nm.conv2d_grad_input
True

```
"""

from __future__ import annotations

from . import (
    conv1d_grad_input as conv1d_input,
)
from . import (
    conv1d_grad_weight as conv1d_weight,
)
from . import (
    conv2d_grad_input as conv2d_input,
)
from . import (
    conv2d_grad_weight as conv2d_weight,
)
from . import (
    conv3d_grad_input as conv3d_input,
)
from . import (
    conv3d_grad_weight as conv3d_weight,
)

__all__ = [
    "conv1d_input",
    "conv1d_weight",
    "conv2d_input",
    "conv2d_weight",
    "conv3d_input",
    "conv3d_weight",
]
