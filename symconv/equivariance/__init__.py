r"""Equivariance of convolution and pooling: translation, rotation by 90 degrees, flips.

A layer $f$ is *equivariant* to a transformation $g$ when $f(g\,x) = g'(f(x))$: transforming the
input transforms the output the same way ($g'$ is $g$ on the output grid; for a stride $s$ a
shift by $t$ on the input is a shift by $t/s$ on the output). With $T$ the layer's Toeplitz
matrix and $P_g$ the transformation as a 0/1 matrix, this is

$$T\,P_g^\mathrm{in} = P_{g'}^\mathrm{out}\,T,$$

one equation per output row. `equivariance` builds $T$ (`toeplitz`, symbolic weights
`w[k, c, a_1, ...]`) and compares the two sides **row by row**, without a SymPy product: both
sides are index maps composed with $T$'s rows,

$$(T P_g x)[o] = \sum_j T[o, j]\, x[\pi_g(j)], \qquad (P_{g'} T x)[o] = (T x)[\pi_{g'}(o)],$$

where $(g x)[j] = x[\pi_g(j)]$ (zero where $\pi_g(j)$ falls off the input). An output $o$ is
*broken* when its two rows differ; the layer is *exact* when none is. Pooling rows are compared
the same way (max pooling: the set of inputs a window reads).

The shift is zero-filled ($(S_t x)[i] = x[i - t]$, zero where $i - t$ is off the input) for
zeros, reflect and replicate padding and cyclic ($x[(i - t) \bmod n]$) for circular padding.

```python
>>> import symconv as sc
>>> d = sc.equivariance(sc.Conv(dims=1, kernel_size=3, padding=1), 7, shift=1)
>>> d.exact, d.broken            # zero padding: the border breaks, the interior does not
(False, ((0,), (6,)))
>>> sc.equivariance(sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular"), 7).exact
True

```

The work is split by transformation, in the package's private modules: `_core` (the result type,
the arguments, rows and index maps), `_translate`, `_pooling`
(approximate invariance of pooling), `_symmetry` (rotations and flips) and
`_checks` (exact grids and torch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .._errors import SpecError
from ..limits import check_symbolic
from ..spec import Conv, Pool
from ._checks import _symmetry_checks, _translate_checks
from ._core import (
    _OP,
    TRANSFORMS,
    Equivariance,
    _check_transform,
    _shift_of,
    _sizes_of,
    _weights,
)
from ._pooling import max_pool_changes, pooling_example
from ._symmetry import _symmetry
from ._translate import _translate

__all__ = [
    "TRANSFORMS",
    "Equivariance",
    "equivariance",
    "max_pool_changes",
    "pooling_example",
    "symbolic_weights_cost",
]


def symbolic_weights_cost(spec: Conv, size: tuple[int, ...]) -> int:
    r"""What the derivation of a `Conv` with symbolic weights builds, from integer arithmetic:
    one channel pair's taps, $\prod o \prod k$ (translations compare the rows factor by
    factor; rotations and flips solve $T P - P T$ of one pair, the same for every pair), plus
    one symbol per weight, $C_\text{out} (C_\text{in}/g) \prod k$ (the condition on the
    weights). Never the layer's matrix: a 64 x 64 layer with 16 -> 16 channels and an
    11 x 11 kernel costs 0.5 M, not 127 M.

    ```python
    >>> import symconv as sc
    >>> spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=11, padding=5)
    >>> symbolic_weights_cost(spec, (64, 64))
    526592

    ```
    """
    taps = math.prod(spec.kernel_size)
    return math.prod(spec.output_size(size)) * taps + math.prod(spec.weight_shape)


def equivariance(
    spec: Conv | Pool,
    input_size: int | Sequence[int] | None = None,
    shift: int | Sequence[int] | None = None,
    transform: str = "translate",
    *,
    weight: Any = None,
) -> Equivariance:
    r"""Whether `spec` commutes with a translation, a rotation or a flip, and where it does not.

    Args:
        spec: a `Conv` or a `Pool`.
        input_size: spatial input size (int or tuple); default a small size that fits (7 in 1D).
        shift: for `transform="translate"`: the shift $t$ per axis (an int repeats), default 1.
        transform: `"translate"`, `"rot90"` (numpy's `rot90`, 2D, square), `"flip_h"` (mirror
            the last axis) or `"flip_v"` (mirror the first of two axes).
        weight: optional numbers for the weights (`weight_shape`, or `kernel_size` for a
            1-in 1-out layer); by default the weights are symbols, so `exact` means "for every
            weight".

    Returns:
        An `Equivariance` derivation: `exact`, `broken` (sorted spatial output positions where
        $f(g x) \ne g'(f(x))$), `condition` (rotations, flips: `sympy.Eq` on the weights),
        and `results` with the details (`count`, `outputs`, `output_shift`, ...).

    **Translation.** Tap $a$ of output $o$ reads $x[\varphi(S o + D a - P)]$ (the index form).
    After a shift by $t$ it reads $x[\varphi(\cdot) - t]$; that is tap $a$ of output $o - u$
    exactly when $S u = t$, so a strided layer is equivariant only to multiples of the stride,
    and then the output shifts by $t / S$. Circular padding with stride 1 and a full-size output
    makes $T$ circulant and every cyclic shift commutes with it. Zeros, reflect and replicate
    break a band at the border; output $o$ is equivariant if every tap of $o$ and of $o - u$
    reads inside the unpadded input (for reflect and replicate: if and only if).

    **Rotation and flips.** $T P_g = P_g T$ entry by entry is a linear system in the weights;
    its solution is the kernel's symmetry: $w[a, b] = w[b, K - 1 - a]$ for `rot90`,
    $w[a, b] = w[a, K - 1 - b]$ for `flip_h`, $w[a, b] = w[K - 1 - a, b]$ for `flip_v`.

    ```python
    >>> import symconv as sc
    >>> spec = sc.Conv(dims=2, kernel_size=3, padding=1, bias=False)
    >>> sc.equivariance(spec, 5, transform="rot90").exact
    False
    >>> lap = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    >>> sc.equivariance(spec, 5, transform="rot90", weight=lap).exact
    True
    >>> strided = sc.Conv(dims=1, kernel_size=3, stride=2)
    >>> sc.equivariance(strided, 7, shift=2).results["output_shift"]
    (1,)

    ```
    """
    if not isinstance(spec, Conv | Pool):
        raise SpecError(f"{_OP}: expected a Conv or Pool spec, got {type(spec).__name__}")
    # the cost first, integer arithmetic only: symbolic weights are checked on structure
    # (`symbolic_weights_cost`); pooling and numeric weights build the layer's rows
    cost = symbolic_weights_cost if isinstance(spec, Conv) and weight is None else None
    check_symbolic(_OP, spec, input_size, cost=cost)
    sizes = _sizes_of(spec, input_size)
    _check_transform(spec, transform, sizes, shift)
    subs = _weights(spec, weight)
    if transform == "translate":
        t = _shift_of(spec, shift)
        d, core = _translate(spec, sizes, t, subs)
        _translate_checks(d, spec, sizes, t, core, subs)
        return d
    d, core = _symmetry(spec, sizes, transform, subs)
    _symmetry_checks(d, spec, sizes, transform, subs, core)
    return d
