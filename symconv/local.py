r"""Convolutions whose weights depend on the output position: locally connected and tiled.

A *locally connected* (unshared) layer keeps the sliding window of a convolution but gives
every output position its own kernel, the lectures' 6-D weight tensor $w[k, o_1, o_2, c, a_1, a_2]$:

$$y[n, k, o] = b[k, o] + \sum_{c} \sum_{a} \tilde x[n, c', S o + D a]\, w[k, o, c, a].$$

A *tiled* convolution (Goodfellow et al., *Deep Learning*, 9.5) sits between the two: $t$
kernels per axis rotate through space, $w[k, o \bmod t, c, a]$; $t = 1$ is the ordinary
convolution, $t$ = the output size is the locally connected layer.

Both are `Conv` subclasses, validated the same way (`symconv.SpecError`); their index form
(`symconv.index_form`) differs only in the weight index.

```python
>>> from symconv.local import LocallyConnected, Tiled
>>> LocallyConnected(dims=2, kernel_size=3, input_size=(5, 5)).weight_shape
(1, 3, 3, 1, 3, 3)
>>> Tiled(dims=1, out_channels=2, kernel_size=3, tiles=2).weight_shape
(2, 2, 1, 3)

```
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import SpecError
from ._validate import as_per_axis, as_size
from .spec import Conv, PaddingLike, PaddingMode

__all__ = ["LocallyConnected", "Tiled"]


class _PositionDependent(Conv):
    """Arithmetic shared by layers whose weight carries output-position indices."""

    def _terms(self) -> int:
        return (self.in_channels // self.groups) * math.prod(self.kernel_size)

    def macs(self, input_size: int | Sequence[int]) -> int:
        """Multiply-accumulates per sample: outputs times $(C_\\mathrm{in}/G) \\prod k$."""
        return self.activations(input_size) * self._terms()

    def flops(self, input_size: int | Sequence[int], exact: bool = False) -> int:
        """Floating-point operations per sample, as `Conv.flops`."""
        if not exact:
            return 2 * self.macs(input_size)
        return self.activations(input_size) * (2 * self._terms() - 1 + (1 if self.bias else 0))


@dataclass(frozen=True, kw_only=True)
class LocallyConnected(_PositionDependent):
    r"""A locally connected layer: a convolution with one kernel per output position.

    Takes every `Conv` argument plus `input_size` (the spatial input size the layer is built
    for: the weight has one kernel per output position, so the layer exists for one size
    only). Weight shape $(C_\mathrm{out}, o_1, \dots, o_d, C_\mathrm{in}/G, k_1, \dots, k_d)$;
    the bias is unshared too, shape $(C_\mathrm{out}, o_1, \dots, o_d)$.

    ```python
    >>> spec = LocallyConnected(dims=1, in_channels=2, out_channels=3, kernel_size=3, input_size=6)
    >>> spec.output_size(), spec.num_parameters()   # 3*4*2*3 weights + 3*4 biases
    ((4,), 84)

    ```
    """

    input_size: tuple[int, ...]  # validated; the `__init__` below takes an int too

    _op = "LocallyConnected"

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            dims: int = 2,
            in_channels: int = 1,
            out_channels: int = 1,
            kernel_size: int | Sequence[int],
            stride: int | Sequence[int] = 1,
            padding: PaddingLike = 0,
            dilation: int | Sequence[int] = 1,
            groups: int = 1,
            bias: bool = True,
            padding_mode: PaddingMode = "zeros",
            flip: bool = False,
            input_size: int | Sequence[int],
        ) -> None: ...

    def __post_init__(self) -> None:
        super().__post_init__()
        sizes = as_size(self._op, self.input_size, self.dims)
        object.__setattr__(self, "input_size", sizes)
        Conv.output_size(self, sizes)  # validates the windows against the input

    def output_size(self, input_size: int | Sequence[int] | None = None) -> tuple[int, ...]:
        """Spatial output size; the layer is defined for its own `input_size` only."""
        if input_size is not None:
            sizes = as_size(self._op, input_size, self.dims)
            if sizes != self.input_size:
                raise SpecError(
                    f"{self._op}: input_size {sizes} differs from the size {self.input_size} the "
                    f"layer was built for (its weights are per output position)"
                )
        return Conv.output_size(self, self.input_size)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """`(out_channels, *output_size, in_channels // groups, *kernel_size)`."""
        return (
            self.out_channels,
            *self.output_size(),
            self.in_channels // self.groups,
            *self.kernel_size,
        )

    @property
    def bias_shape(self) -> tuple[int, ...]:
        return (self.out_channels, *self.output_size())

    def num_parameters(self) -> int:
        return math.prod(self.weight_shape) + (math.prod(self.bias_shape) if self.bias else 0)

    def __str__(self) -> str:
        return (
            super()
            .__str__()
            .replace(f"Conv{self.dims}d(", f"LocallyConnected{self.dims}d(", 1)[:-1]
            + f", input_size={self.input_size})"
        )


@dataclass(frozen=True, kw_only=True)
class Tiled(_PositionDependent):
    r"""A tiled convolution: `tiles` kernels per axis, output position $o$ uses kernel $o \bmod t$.

    Takes every `Conv` argument plus `tiles` (an int or one per axis, >= 1). Weight shape
    $(C_\mathrm{out}, t_1, \dots, t_d, C_\mathrm{in}/G, k_1, \dots, k_d)$; bias per channel.

    ```python
    >>> Tiled(dims=2, kernel_size=3, tiles=(2, 1)).num_parameters()
    19

    ```
    """

    tiles: tuple[int, ...] = 1  # type: ignore[assignment]  # a tuple after __post_init__

    _op = "Tiled"

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            dims: int = 2,
            in_channels: int = 1,
            out_channels: int = 1,
            kernel_size: int | Sequence[int],
            stride: int | Sequence[int] = 1,
            padding: PaddingLike = 0,
            dilation: int | Sequence[int] = 1,
            groups: int = 1,
            bias: bool = True,
            padding_mode: PaddingMode = "zeros",
            flip: bool = False,
            tiles: int | Sequence[int] = 1,
        ) -> None: ...

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "tiles", as_per_axis(self._op, "tiles", self.tiles, self.dims, 1))

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """`(out_channels, *tiles, in_channels // groups, *kernel_size)`."""
        return (
            self.out_channels,
            *self.tiles,
            self.in_channels // self.groups,
            *self.kernel_size,
        )

    def __str__(self) -> str:
        return (
            super().__str__().replace(f"Conv{self.dims}d(", f"Tiled{self.dims}d(", 1)[:-1]
            + f", tiles={self.tiles})"
        )
