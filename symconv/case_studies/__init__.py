r"""What the lectures' case studies teach, derived and certified.

- `residual_derivation`: the gradient through a residual block $y = x + F(x)$ is
  $\partial L/\partial x = \partial L/\partial y\,(I + \partial F/\partial x)$, and
  `gradient_norm_study` makes the lecture's point concrete: the gradient through a deep plain
  stack is a product of Jacobians that shrinks geometrically, through residual blocks a product
  of $(I + J_\ell)$ that does not.
- `bottleneck_derivation`: a 1x1 convolution is a per-pixel linear map of the channels; the
  bottleneck (1x1 reduce, 3x3, 1x1 restore) costs $2Cb + 9b^2$ weights against $9C^2$.
- `depthwise_separable_derivation`: a depthwise $k \times k$ conv then a pointwise 1x1 conv
  costs $1/C_\mathrm{out} + 1/k^2$ of a full conv (MobileNet).
- `grouped_conv_derivation`: $g$ groups divide a conv's weights by $g$ (AlexNet's two
  towers, ResNeXt's cardinality): its weight matrix is block diagonal.

Every count is checked against the layer specs (`Conv.num_parameters`, `Conv.macs`) and the
shipped architecture tables; the numeric checks run torch (float64) when it is installed.

```python
>>> from symconv.case_studies import depthwise_separable_derivation
>>> d = depthwise_separable_derivation()
>>> d["ratio"]   # 1/C_out + 1/k^2
k**(-2) + 1/C_out
>>> d.verify().passed
True

```
"""

from .._results import ChainRule as ChainRule
from .bottleneck import bottleneck_derivation
from .depthwise_separable import depthwise_separable_derivation
from .grouped_conv import grouped_conv_derivation
from .residual import (
    gradient_norm_study,
    residual_derivation,
)
from .residual import (
    residual_chain_rule as residual_chain_rule,
)
from .residual import (
    stack_chain_rule as stack_chain_rule,
)

__all__ = [
    "bottleneck_derivation",
    "depthwise_separable_derivation",
    "gradient_norm_study",
    "grouped_conv_derivation",
    "residual_derivation",
]
