r"""Convolutions tap by tap over the in-bounds outputs only: no padded zero is ever multiplied.

A zero-padded convolution reads the padding's zeros: an im2col or FFT kernel multiplies them by
the weight, so an inf or NaN weight turns them into NaN ($\infty \cdot 0$) in every border
output that reads the padding, and a non-finite $\delta$ does the same in $\partial L/\partial w$.
torch's CPU kernels differ on it (torch 2.13, measured on an AVX-512 x86 machine):

- **float64** always runs torch's native kernels (im2col and GEMM): the forward pass and
  $\partial L/\partial w$ multiply the padding's zeros (NaN at the border);
- **float32** runs oneDNN for most layers (torch's heuristic: a batch of 2 or more, groups, or
  kernels over $3 \times 3$; small batch-1 layers take the native kernels). oneDNN's direct
  kernels, which run the usual $3 \times 3$ to $9 \times 9$ layers in 1-3 d, leave the padding
  out; its GEMM-based ones multiply the zeros as the native kernels do: on that machine $1 \times
  1$ kernels with padding, grouped layers that are not depthwise, $15 \times 15$ kernels with 16
  channels or more, and some 3-d, dilated and grouped weight gradients. Which one runs depends
  on the layer and on the CPU's instruction set;
- $\partial L/\partial x$ (and `conv_transpose`'s forward pass, the same sum) never meets the
  padding in any torch kernel: each of its products is one of the data.

The functions here sum each tap $a$ only over the box of outputs $o$ whose input index
$s o + d a - p$ lies in bounds: one GEMM (`einsum`) per tap over strided views, the groups
batched; they never multiply a zero that is not in the data. `numeric._ops` runs them under
`algorithm="auto"` only when an operand that meets the padding holds inf or NaN (one sum per
array finds it), by `padding_rule`: $\partial L/\partial x$ and `conv_transpose` in every dtype;
the forward pass and $\partial L/\partial w$ in float32 (and float16 and bfloat16, computed in
float32), as oneDNN's direct kernels do, while float64 keeps the direct kernels, which multiply
the zeros as torch's float64 does. Finite data never comes here. NumPy arrays and torch
tensors alike.

```python
>>> import numpy as np
>>> from numeric import _taps
>>> x, w = np.ones((1, 1, 3)), np.array([[[np.inf, 1.0, 1.0]]])
>>> _taps.forward(x, w, None, (1,), ((1, 1),), (1,), 1)[0, 0].tolist()
[2.0, inf, inf]

```
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = ["boxes", "forward", "grad_input", "grad_weight", "padding_rule"]

Pads = Sequence[tuple[int, int]]


def _axis_box(i: int, o: int, a: int, s: int, d: int, lo: int) -> tuple[slice, slice] | None:
    """The outputs `o0 <= o < o1` of tap `a` whose input `s o + d a - lo` is in [0, i), as
    (output slice, input slice with step s); None when there are none."""
    off = d * a - lo
    o0 = max(0, -(off // s) if off < 0 else 0)  # ceil(-off / s)
    o1 = min(o, (i - 1 - off) // s + 1) if i - 1 - off >= 0 else 0
    if o1 <= o0:
        return None
    first = s * o0 + off
    return slice(o0, o1), slice(first, first + s * (o1 - o0 - 1) + 1, s)


def boxes(
    size: Sequence[int],
    out: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    pads: Pads,
) -> Iterator[tuple[tuple[int, ...], tuple[slice, ...], tuple[slice, ...]]]:
    """Per tap (a multi-index of the kernel), the outputs that read an in-bounds input and those
    inputs, as slices of the spatial axes; taps that read only padding are left out.

    ```python
    >>> from numeric._taps import boxes
    >>> [(a, o, i) for a, o, i in boxes((4,), (4,), (3,), (1,), (1,), ((1, 1),))][0]
    ((0,), (slice(1, 4, None),), (slice(0, 3, 1),))

    ```
    """
    for tap in itertools.product(*(range(k) for k in kernel)):
        per = [
            _axis_box(i, o, a, s, d, lo)
            for i, o, a, s, d, (lo, _) in zip(size, out, tap, stride, dilation, pads, strict=True)
        ]
        if all(b is not None for b in per):
            yield (
                tap,
                tuple(b[0] for b in per if b is not None),
                tuple(b[1] for b in per if b is not None),
            )


def _einsum(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return lambda eq, *ops: np.einsum(eq, *ops, optimize=True)
    import torch

    return torch.einsum


def _zeros(shape: Sequence[int], like: Any) -> Any:
    if isinstance(like, np.ndarray):
        return np.zeros(tuple(shape), dtype=like.dtype)
    import torch

    return torch.zeros(tuple(shape), dtype=like.dtype, device=like.device)


def _grouped(a: Any, groups: int) -> Any:
    """(N, C, *box) -> (N, G, C/G, *box)."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, *a.shape[2:])


def _tap_weight(w: Any, tap: tuple[int, ...], groups: int) -> Any:
    """w[:, :, *tap] as (G, K/G, C/G)."""
    wt = w[(slice(None), slice(None), *tap)]
    return wt.reshape(groups, wt.shape[0] // groups, wt.shape[1])


def _out_size(size: Sequence[int], kernel: Sequence[int], stride: Any, dil: Any, pads: Pads) -> Any:
    return tuple(
        (i + lo + hi - d * (k - 1) - 1) // s + 1
        for i, k, s, d, (lo, hi) in zip(size, kernel, stride, dil, pads, strict=True)
    )


def forward(
    x: Any, w: Any, b: Any, stride: Sequence[int], pads: Pads, dilation: Sequence[int], groups: int
) -> Any:
    """y[n, k, o] = b[k] + the sum over in-bounds taps of w[k, c, a] x[n, c, s o + d a - p]:
    x (N, C_in, *I), w (C_out, C_in/G, *K) (zero padding `pads`; pad other modes first)."""
    n, kernel = x.shape[0], tuple(w.shape[2:])
    out = _out_size(x.shape[2:], kernel, stride, dilation, pads)
    y = _zeros((n, w.shape[0], *out), w)
    if b is not None:
        y += b.reshape(-1, *(1 for _ in out))
    yg, einsum = _grouped(y, groups), _einsum(x)
    for tap, o, i in boxes(x.shape[2:], out, kernel, stride, dilation, pads):
        xs = _grouped(x[(slice(None), slice(None), *i)], groups)
        yg[(slice(None), slice(None), slice(None), *o)] += einsum(
            "gkc,ngc...->ngk...", _tap_weight(w, tap, groups), xs
        )
    return y


def grad_input(
    delta: Any,
    w: Any,
    size: Sequence[int],
    stride: Sequence[int],
    pads: Pads,
    dilation: Sequence[int],
    groups: int,
) -> Any:
    """dL/dx[n, c, i] = the sum of w[k, c, a] delta[n, k, o] over the (o, a) with
    s o + d a - p = i: each product of the data, none with a padded zero. Also
    `conv_transpose`'s forward pass (x as delta, its output size as `size`)."""
    n, kernel = delta.shape[0], tuple(w.shape[2:])
    dx = _zeros((n, w.shape[1] * groups, *size), w)
    out = tuple(delta.shape[2:])
    dg, dd, einsum = _grouped(dx, groups), _grouped(delta, groups), _einsum(w)
    for tap, o, i in boxes(size, out, kernel, stride, dilation, pads):
        ds = dd[(slice(None), slice(None), slice(None), *o)]
        dg[(slice(None), slice(None), slice(None), *i)] += einsum(
            "gkc,ngk...->ngc...", _tap_weight(w, tap, groups), ds
        )
    return dx


def grad_weight(
    x: Any,
    delta: Any,
    kernel: Sequence[int],
    stride: Sequence[int],
    pads: Pads,
    dilation: Sequence[int],
    groups: int,
) -> Any:
    """dL/dw[k, c, a] = the sum over n and the in-bounds outputs o of
    delta[n, k, o] x[n, c, s o + d a - p]; a tap that reads only padding gets 0."""
    c_out, cg = delta.shape[1], x.shape[1] // groups
    dw = _zeros((c_out, cg, *kernel), x)
    out = tuple(delta.shape[2:])
    dd, einsum = _grouped(delta, groups), _einsum(x)
    spatial = "".join("uvz"[: len(kernel)])
    for tap, o, i in boxes(x.shape[2:], out, kernel, stride, dilation, pads):
        xs = _grouped(x[(slice(None), slice(None), *i)], groups)
        ds = dd[(slice(None), slice(None), slice(None), *o)]
        part = einsum(f"ngk{spatial},ngc{spatial}->gkc", ds, xs)
        dw[(slice(None), slice(None), *tap)] = part.reshape(c_out, cg)
    return dw


def padding_rule(op: str, itemsize: int) -> bool:
    """Whether numeric leaves the padding's zeros out of `op` ("forward", "grad_input",
    "grad_weight") when an operand that meets them holds inf or NaN: dL/dx always (no torch
    path multiplies them there); the forward pass and dL/dw for float32 and narrower data (torch's
    oneDNN path), not for float64 (torch's native kernels multiply them: NaN)."""
    return op == "grad_input" or itemsize <= 4
