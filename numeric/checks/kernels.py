r"""numeric's generated convolution kernels against the Toeplitz matrix: `symconv verify
numeric-kernels`.

`numeric.conv{1,2,3}d(x, w, b, ...)` $= T x + b$ in float64 on a sample of the exact-level
verification grid. $T$ (`symconv.toeplitz_numeric`) and the grid (`symconv.backprop.exact_grid`)
belong to the derivation layer, which numeric may not import: the application layer passes
them in (`symconv.registry.INJECTED`), and a test passes a wrong $T$ to see the check fail.

```python
>>> from numeric.checks.kernels import CHECK, NEEDS
>>> CHECK.name, CHECK.verify, NEEDS
('numeric-kernels', 'own', ('toeplitz_numeric', 'exact_grid'))

```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import numeric
from symconv.derivation import Derivation, Outcome
from symconv.spec import Conv

from .hook import NumericCheck, register

__all__ = ["CHECK", "NEEDS", "numeric_kernels_derivation"]

NEEDS = ("toeplitz_numeric", "exact_grid")
"""The derivation-layer functions `numeric_kernels_derivation` takes."""


def numeric_kernels_derivation(
    *,
    toeplitz_numeric: Callable[[Conv, tuple[int, ...], Any], Any],
    exact_grid: Callable[..., list[tuple[Conv, tuple[int, ...]]]],
) -> Derivation:
    """The generated kernels of the `numeric` package against the Toeplitz matrix.

    `toeplitz_numeric(spec, size, w)` gives $T$ (a matrix with `@` and `.T`), and
    `exact_grid(quick=True)` the layers, every fourth of which is checked (symmetric padding
    and cross-correlation only: the torch-style signature).
    """
    d = Derivation("Generated numeric kernels against the Toeplitz matrix")
    d.add_step(
        "Statement",
        "numeric.convNd(x, w, b, ...) = T x + b",
        "NumPy arrays, float64",
        by="numeric.convNd = T x + b",
    )

    def numeric_check() -> Outcome:
        rng = np.random.default_rng(1)
        worst, where, n = 0.0, "", 0
        for spec, size in exact_grid(quick=True)[::4]:
            if any(lo != hi for lo, hi in spec.pads) or spec.flip:
                continue  # torch-style signature: symmetric padding, cross-correlation
            x = rng.standard_normal((2, spec.in_channels, *size))
            w = rng.standard_normal(spec.weight_shape)
            b = rng.standard_normal(spec.out_channels)
            fn = getattr(numeric, f"conv{spec.dims}d")
            y = np.asarray(
                fn(
                    x,
                    w,
                    b,
                    stride=spec.stride,
                    padding=tuple(lo for lo, _ in spec.pads),
                    dilation=spec.dilation,
                    groups=spec.groups,
                    padding_mode=spec.padding_mode,
                )
            )
            T = toeplitz_numeric(spec, size, w)
            ref = (T @ x.reshape(2, -1).T).T.reshape(y.shape) + b.reshape(
                (1, -1) + (1,) * spec.dims
            )
            err = float(np.max(np.abs(y - ref), initial=0.0))
            n += 1
            if err > worst:
                worst, where = err, f"worst {spec} on {size}"
        return Outcome(n, worst, worst < 1e-9, where)

    d.check("numeric.convNd = T x + b, float64", "numeric", numeric_check)
    return d


CHECK = register(
    NumericCheck(
        "numeric-kernels",
        "numeric.conv{1,2,3}d (generated kernels) = T x + b",
        own=numeric_kernels_derivation,
        needs=NEEDS,
        verify="own",
        after="backprop-grid",
    )
)
