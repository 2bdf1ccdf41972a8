r"""Padding, unfold and fold: the index form's padding map $\varphi$ and window table as arrays.

- `pad`: $\tilde x[j] = x[\varphi(j - P_\mathrm{lo})]$ per padded axis (`symconv._indexmap.phi`;
  constant mode: $\varphi$'s -1 reads a slab holding `value`);
- `unfold`: the patches $X[n, (c, a), o] = \tilde x[n, c, S o + D a]$ (the im2col matrix of
  `symconv.patch_matrix`, laid out as torch's `F.unfold`);
- `fold`: its adjoint, the scatter-add $\tilde y[n, c, S o + D a] \mathrel{+}= X[n, (c, a), o]$
  cropped to the unpadded size (`symconv.family.unfold_fold_derivation` certifies
  $\mathrm{fold} = \mathrm{unfold}^\top$).

Each is a gather or a scatter-add on NumPy arrays or torch tensors (differentiable there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from symconv import Conv, SpecError, _sizes
from symconv._indexmap import phi, window_table
from symconv._validate import as_int

from . import _arrays as A
from ._ops import _spec

Array = Any
_MODES = ("constant", "reflect", "replicate", "circular")


def pad(op: str, input: Array, pad: Sequence[int], mode: str, value: float | None) -> Array:
    A.check_array(op, "input", input)
    if mode not in _MODES:
        raise SpecError(f"{op}: mode must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")
    if isinstance(pad, str | bytes) or not hasattr(pad, "__len__"):
        raise SpecError(f"{op}: pad must be a tuple of integers (lo, hi) per axis, got {pad!r}")
    pads = [as_int(op, f"pad[{n}]", v, None) for n, v in enumerate(pad)]
    m, ndim = len(pads) // 2, input.ndim
    if len(pads) % 2 or not pads:
        raise SpecError(
            f"{op}: pad must hold an even number of integers (lo, hi per axis), got {pad!r}"
        )
    if mode == "constant":
        if m > ndim:
            raise SpecError(
                f"{op}: pad {tuple(pads)} pads {m} axes, but the input has {ndim} dimensions"
            )
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise SpecError(f"{op}: value must be a number, got {value!r}")
    else:
        if value is not None:
            raise SpecError(f'{op}: padding mode "{mode}" does not take a value, got {value!r}')
        if m > 3 or ndim not in (m + 1, m + 2):
            raise SpecError(
                f"{op}: mode {mode!r} pads the last 1-3 axes of a (C, *spatial) or "
                f"(N, C, *spatial) input: pad of length {len(pads)} needs {m + 1} or {m + 2} "
                f"dimensions, got shape {A.shape_of(input)}"
            )
    x = input
    for k in range(m):  # pads[2k], pads[2k + 1]: the last axis first (torch's order)
        axis, lo, hi = ndim - 1 - k, pads[2 * k], pads[2 * k + 1]
        n = int(x.shape[axis])
        if n + lo + hi < 0:
            raise SpecError(
                f"{op}: pad ({lo}, {hi}) on axis {axis} of length {n} leaves {n + lo + hi} < 0"
            )
        if mode == "reflect" and max(lo, hi) >= n:
            raise SpecError(
                f"{op}: reflect padding ({lo}, {hi}) must be smaller than the axis' length {n} "
                f"(axis {axis}): a mirror does not repeat the edge"
            )
        if mode == "circular":  # torch crops first, then wraps the cropped axis
            kept = slice(max(-lo, 0), n - max(-hi, 0))
            x = x[(slice(None),) * axis + (kept,)]
            n, lo, hi = n - max(-lo, 0) - max(-hi, 0), max(lo, 0), max(hi, 0)
            if max(lo, hi) > n:
                raise SpecError(
                    f"{op}: circular padding ({pads[2 * k]}, {pads[2 * k + 1]}) must be at most "
                    f"the axis' length after cropping, {n} (axis {axis}): it wraps around once"
                )
        if mode == "replicate" and n == 0 and lo + hi > 0:
            raise SpecError(f"{op}: replicate padding of the empty axis {axis}: nothing to copy")
        j = np.arange(-lo, n + hi)  # unpadded coordinate of every padded position
        if mode == "constant":
            idx = phi("zeros", j, n)
            if (idx < 0).any():  # the zeros map's -1 reads a slab holding `value`
                slab = list(A.shape_of(x))
                slab[axis] = 1
                x = A.cat([x, A.full(tuple(slab), 0.0 if value is None else value, x)], axis)
                idx = np.where(idx < 0, n, idx)
        else:
            idx = phi(mode, j, n)
        x = A.take(x, axis, idx)
    return x


def _layer(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> Conv:
    """The 2-d window geometry as a `symconv.Conv` (validates every argument); padding is
    one int or a pair (torch's unfold and fold take no "same" or per-side padding)."""
    if isinstance(padding, str) or (
        isinstance(padding, tuple | list) and any(not isinstance(p, int) for p in padding)
    ):
        raise SpecError(f"{op}: padding must be an int or a pair of ints >= 0, got {padding!r}")
    return _spec(
        op, Conv, dims=2, kernel_size=kernel_size, dilation=dilation, padding=padding,
        stride=stride,
    )  # fmt: skip


def _tables(spec: Conv, size: Sequence[int], op: str) -> tuple[tuple[int, ...], list[Any]]:
    try:
        out = spec.output_size(tuple(size))
    except SpecError as err:
        raise SpecError(f"{op}: {err}") from None
    tables = [
        window_table(o, k, s, d)
        for o, k, s, d in zip(out, spec.kernel_size, spec.stride, spec.dilation, strict=True)
    ]
    return out, tables


def unfold(
    op: str, input: Array, kernel_size: Any, dilation: Any, padding: Any, stride: Any
) -> Array:
    A.check_array(op, "input", input)
    if input.ndim not in (3, 4):
        raise SpecError(
            f"{op}: input must be (N, C, H, W) or (C, H, W), got shape {A.shape_of(input)}"
        )
    unbatched = input.ndim == 3
    x = input[None] if unbatched else input
    spec = _layer(op, kernel_size, dilation, padding, stride)
    if 0 in x.shape[2:]:
        raise SpecError(f"{op}: input's spatial size {A.shape_of(x)[2:]} must be non-empty")
    out, tables = _tables(spec, x.shape[2:], op)
    xp = pad(op, x, [p for pair in reversed(spec.pads) for p in pair], "constant", 0.0)
    patches = A.gather_windows(xp, tables)  # (N, C, *O, *K)
    n, c = A.shape_of(x)[:2]
    patches = A.permute(patches, (0, 1, 4, 5, 2, 3))  # (N, C, *K, *O)
    y = patches.reshape(n, c * math.prod(spec.kernel_size), math.prod(out))
    return y[0] if unbatched else y


def fold(
    op: str,
    input: Array,
    output_size: Any,
    kernel_size: Any,
    dilation: Any,
    padding: Any,
    stride: Any,
) -> Array:
    A.check_array(op, "input", input)
    if input.ndim not in (2, 3):
        raise SpecError(
            f"{op}: input must be (N, C * prod(kernel_size), L) or (C * prod(kernel_size), L), "
            f"got shape {A.shape_of(input)}"
        )
    spec = _layer(op, kernel_size, dilation, padding, stride)
    size = _spec(op, Conv, dims=2, kernel_size=output_size).kernel_size  # two integers >= 1
    unbatched = input.ndim == 2
    cols = input[None] if unbatched else input
    n, ck, length = A.shape_of(cols)
    taps = math.prod(spec.kernel_size)
    if ck % taps:
        raise SpecError(
            f"{op}: input's dimension 1 ({ck}) must be divisible by prod(kernel_size) = {taps}"
        )
    out, tables = _tables(spec, size, op)
    if length != math.prod(out):
        raise SpecError(
            f"{op}: input has {length} blocks, but output_size {size}, kernel_size "
            f"{spec.kernel_size}, dilation {spec.dilation}, padding {spec.padding} and stride "
            f"{spec.stride} give {out[0]} x {out[1]} = {math.prod(out)} blocks"
        )
    c = ck // taps
    padded = tuple(
        _sizes.padded_length(i, lo, hi) for i, (lo, hi) in zip(size, spec.pads, strict=True)
    )
    # flat padded position of every (a_1, a_2, o_1, o_2): the layout of unfold's rows, columns
    lin = tables[0].T[:, None, :, None] * padded[1] + tables[1].T[None, :, None, :]
    acc = A.scatter_add(
        A.zeros((n, c, math.prod(padded)), cols), lin.ravel(), cols.reshape(n, c, taps * length)
    )
    acc = acc.reshape(n, c, *padded)
    crop = tuple(slice(lo, lo + i) for (lo, _), i in zip(spec.pads, size, strict=True))
    y = acc[(slice(None), slice(None), *crop)]
    return y[0] if unbatched else y
