r"""p4 group convolutions on `numeric.conv2d`: NumPy arrays or torch tensors, with autograd.

The same layers as `symconv.groupconv` (Cohen & Welling, 2016), run by the generated kernels:

- `lift` ($\mathbb{Z}^2 \to p4$): $y[k, r] = \sum_c x[c] \star R^r w[k, c]$, the four rotated
  copies of the kernel stacked as extra output channels (`lift_filters`);
- `group_conv` ($p4 \to p4$): $y[k, r] = \sum_{c, s} x[c, s] \star R^r w[k, c, (s - r) \bmod 4]$,
  the filter's orientation axis rolled by $r$, then rotated by $r$ (`group_filters`);

then one `numeric.conv2d` each. $R$ is `rot90` (counter-clockwise, numpy's and torch's
convention). On torch tensors that require a gradient `numeric.conv2d` is differentiable (its
backward runs `numeric.conv2d_grad_input` and `numeric.conv2d_grad_weight`, see
`numeric._autograd`); the rotations and stacking are torch operations, so autograd flows to the
input and to the unrotated weight.

```python
>>> import numpy as np
>>> from numeric.p4 import lift
>>> from symconv.groupconv import rotate_p4
>>> rng = np.random.default_rng(0)
>>> x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
>>> y = lift(x, w, padding=1)
>>> y.shape
(1, 3, 4, 6, 6)
>>> np.allclose(lift(np.rot90(x, 1, axes=(-2, -1)), w, padding=1), rotate_p4(y))
True

```
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from symconv._errors import SpecError
from symconv._validate import p4_padding

from . import conv2d

__all__ = ["group_conv", "group_filters", "lift", "lift_filters"]

Array = Any
_OP = "p4"
_MODES = ("zeros", "circular", "reflect", "replicate")


def _torch(a: Any) -> Any:
    """The torch module when `a` is a tensor, else None."""
    torch = sys.modules.get("torch")
    return torch if torch is not None and isinstance(a, torch.Tensor) else None


def _rot90(a: Array, r: int) -> Array:
    """$R^r$ on the last two axes (counter-clockwise), NumPy or torch."""
    torch = _torch(a)
    return torch.rot90(a, r, dims=(-2, -1)) if torch else np.rot90(a, r, axes=(-2, -1))


def _roll(a: Array, r: int, axis: int) -> Array:
    torch = _torch(a)
    return torch.roll(a, r, dims=axis) if torch else np.roll(a, r, axis=axis)


def _stack(parts: list[Array], axis: int) -> Array:
    torch = _torch(parts[0])
    return torch.stack(parts, dim=axis) if torch else np.stack(parts, axis=axis)


def _array(name: str, a: Any) -> None:
    """`a` must be a NumPy array or a torch tensor (the kernels check dtypes and devices)."""
    if not (isinstance(a, np.ndarray) or _torch(a)):
        raise SpecError(
            f"{_OP}: {name} must be a numpy.ndarray or a torch.Tensor, got {type(a).__name__}"
        )


def _square(w: Array) -> None:
    if w.shape[-1] != w.shape[-2]:
        raise SpecError(
            f"{_OP}: the kernel must be square for rotations, got {tuple(w.shape[-2:])}"
        )


def lift_filters(weight: Array) -> Array:
    r"""The lifting layer's filter bank: `weight` $(C_\mathrm{out}, C_\mathrm{in}, k, k)$
    $\to (4 C_\mathrm{out}, C_\mathrm{in}, k, k)$, row $4 k + r$ = $R^r w[k]$.

    ```python
    >>> import numpy as np
    >>> w = np.arange(4.0).reshape(1, 1, 2, 2)
    >>> lift_filters(w)[1, 0]            # rotated once, counter-clockwise
    array([[1., 3.],
           [0., 2.]])

    ```
    """
    _array("weight", weight)
    if weight.ndim != 4:
        raise SpecError(
            f"{_OP}: lift expects w (C_out, C_in, k, k), got shape {tuple(weight.shape)}"
        )
    _square(weight)
    # four copies of the kernel, rotated by r = 0..3 (counter-clockwise), as extra channels
    ws = _stack([_rot90(weight, r) for r in range(4)], axis=1)
    c_out, _, c_in, k, _ = ws.shape
    return ws.reshape(c_out * 4, c_in, k, k)


def group_filters(weight: Array) -> Array:
    r"""The group convolution's filter bank: `weight` $(C_\mathrm{out}, C_\mathrm{in}, 4, k, k)$
    $\to (4 C_\mathrm{out}, 4 C_\mathrm{in}, k, k)$, row $(k, r)$, column $(c, s)$ =
    $R^r w[k, c, (s - r) \bmod 4]$.

    ```python
    >>> import numpy as np
    >>> w = np.zeros((1, 1, 4, 1, 1)); w[0, 0, 0] = 1.0
    >>> group_filters(w)[:, :, 0, 0]      # output orientation r reads input orientation r
    array([[1., 0., 0., 0.],
           [0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 0., 0., 1.]])

    ```
    """
    _array("weight", weight)
    if weight.ndim != 5 or weight.shape[2] != 4:
        raise SpecError(
            f"{_OP}: group_conv expects w (C_out, C_in, 4, k, k), got shape {tuple(weight.shape)}"
        )
    _square(weight)
    # output orientation r: shift the filter's orientation axis by r, then rotate it by r
    ws = _stack([_rot90(_roll(weight, r, 2), r) for r in range(4)], axis=1)
    c_out, _, c_in, _, k, _ = ws.shape
    return ws.reshape(c_out * 4, c_in * 4, k, k)


def _conf(weight: Array, padding: Any, padding_mode: str) -> int:
    if padding_mode not in _MODES:
        raise SpecError(f"{_OP}: padding_mode must be one of {_MODES}, got {padding_mode!r}")
    return p4_padding(_OP, padding, int(weight.shape[-1]))


def _correlate(x: Array, w: Array, padding: int, mode: str) -> Array:
    """`numeric.conv2d` (stride 1): torch autograd flows through it (`numeric._autograd`)."""
    try:
        return conv2d(x, w, padding=padding, padding_mode=mode)
    except SpecError as err:
        raise SpecError(f"{_OP}: {err}") from None


def lift(input: Array, weight: Array, padding: int | str = 0, padding_mode: str = "zeros") -> Array:
    r"""Lifting convolution $\mathbb{Z}^2 \to p4$: `input` $(N, C_\mathrm{in}, H, W)$, `weight`
    $(C_\mathrm{out}, C_\mathrm{in}, k, k)$ $\to (N, C_\mathrm{out}, 4, H', W')$.

    As `symconv.groupconv.lift`; `padding` an int >= 0, `"valid"` or `"same"` (the same on
    every side, so that rotations map windows to windows), `padding_mode` zeros, circular,
    reflect or replicate (all symmetric under rotation; `symconv.groupconv` has the first two).

    ```python
    >>> import numpy as np
    >>> lift(np.ones((2, 1, 5, 5)), np.ones((3, 1, 3, 3)), padding="same").shape
    (2, 3, 4, 5, 5)

    ```
    """
    _array("input", input)
    _array("weight", weight)
    p = _conf(weight, padding, padding_mode)
    if input.ndim != 4:
        raise SpecError(f"{_OP}: lift expects x (N, C_in, H, W), got shape {tuple(input.shape)}")
    y = _correlate(input, lift_filters(weight), p, padding_mode)
    return y.reshape(y.shape[0], weight.shape[0], 4, *y.shape[-2:])


def group_conv(
    input: Array, weight: Array, padding: int | str = 0, padding_mode: str = "zeros"
) -> Array:
    r"""Group convolution $p4 \to p4$: `input` $(N, C_\mathrm{in}, 4, H, W)$, `weight`
    $(C_\mathrm{out}, C_\mathrm{in}, 4, k, k)$ $\to (N, C_\mathrm{out}, 4, H', W')$.

    As `symconv.groupconv.group_conv`; `padding` and `padding_mode` as `lift`.

    ```python
    >>> import numpy as np
    >>> group_conv(np.ones((1, 2, 4, 5, 5)), np.ones((3, 2, 4, 3, 3))).shape
    (1, 3, 4, 3, 3)

    ```
    """
    _array("input", input)
    _array("weight", weight)
    p = _conf(weight, padding, padding_mode)
    if input.ndim != 5 or input.shape[2] != 4:
        raise SpecError(
            f"{_OP}: group_conv expects x (N, C_in, 4, H, W), got shape {tuple(input.shape)}"
        )
    filters = group_filters(weight)
    n, c_in = input.shape[:2]
    y = _correlate(input.reshape(n, c_in * 4, *input.shape[-2:]), filters, p, padding_mode)
    return y.reshape(y.shape[0], weight.shape[0], 4, *y.shape[-2:])
