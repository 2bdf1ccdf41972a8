"""The choice of "auto": the fastest supported algorithm by the cost model within the workspace
limit (`plan`, `choose`, `explain`), only among the algorithms that do not spread inf and NaN
when an operand holds them (`all_finite`, `NON_SPREADING`).

```python
>>> import symconv as sc
>>> from numeric.algorithms.choice import choose
>>> choose("forward", "conv2d", sc.Conv(dims=2, kernel_size=3), (8, 8), 0, "auto")
'direct'

```
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from symconv._errors import SpecError
from symconv.spec import Conv

from .._parallel import get_num_threads
from .cost_model import costs, get_rates, over_workspace
from .rules import (
    _CANDIDATES,
    ALGORITHMS,
    NON_SPREADING,
    OPS,
    WINOGRAD_M,
    WINOGRAD_TILES,
    _check_query,
    _is_tile,
    supported,
)


def _rank_one_factors(weight: Any) -> tuple[Any, Any] | None:
    """`numeric.algorithms.rank_one_factors(weight)`, looked up on the package at each call, so
    that replacing the package's name (as the test that counts the SVDs per call does) reaches
    every caller, as when the package was one module."""
    from . import rank_one_factors

    return rank_one_factors(weight)


def explain(
    spec: Conv,
    input_size: Any,
    *,
    batch: int = 1,
    op: str = "forward",
    weight: Any = None,
) -> dict[str, Any]:
    """The algorithm "auto" runs for `op` of `spec` on `batch` inputs of `input_size`, with the
    costs behind it and the rule. Separable counts only when `weight` is given and every slice
    has rank 1 (checked only when it would win).

    ```python
    >>> import symconv as sc
    >>> from numeric.algorithms import explain
    >>> big = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=15, padding=7)
    >>> explain(big, (128, 128), batch=2)["algorithm"]
    'fft'
    >>> vgg = sc.Conv(dims=2, in_channels=256, out_channels=256, kernel_size=3, padding=1)
    >>> explain(vgg, (28, 28), batch=8)["algorithm"]
    'winograd'

    ```
    """
    _check_query("explain", spec, op, batch)
    c = costs(spec, input_size, batch=batch, op=op)
    return {
        "algorithm": _pick(spec, spec._check_input(input_size), batch, op, weight)[0],
        "costs": c,
        "rates": dict(get_rates()),
        "rule": (
            "fastest supported algorithm by seconds = sum over parts p of work[p] / (rates[p] x "
            "EFFICIENCY[algorithm][p]) (cost_formulas); separable only for rank-1 weights; "
            f"ties to the earlier of {list(_CANDIDATES)}"
        ),
    }


@functools.lru_cache(maxsize=1024)
def _ranked(
    spec: Conv,
    size: tuple[int, ...],
    batch: int,
    op: str,
    rates: tuple[tuple[str, float], ...],
    threads: int,
) -> tuple[str, ...]:
    """Supported algorithms, fastest first by the cost model (cached: "auto" asks per call)."""
    c = costs(spec, size, batch=batch, op=op, rates=dict(rates), threads=threads)
    return tuple(
        sorted(
            (k for k, v in c.items() if v is not None),
            key=lambda k: (c[k]["seconds"], _CANDIDATES.index(k)),  # type: ignore[index]  # v is not None
        )
    )


def _order(spec: Conv, size: tuple[int, ...], batch: int, op: str, itemsize: int) -> list[str]:
    """Supported algorithms, fastest first, less those over the workspace limit."""
    order = _ranked(spec, size, batch, op, tuple(get_rates().items()), get_num_threads())
    return [a for a in order if over_workspace(spec, size, a, itemsize, op) is None]


def _pick(
    spec: Conv, size: tuple[int, ...], batch: int, op: str, weight: Any, itemsize: int = 4
) -> tuple[str, Any]:
    """The fastest by the cost model within the workspace limit, with the rank-1 factors when
    that is separable (which counts only for rank-1 weights: the test runs only when separable
    would win)."""
    order = _order(spec, size, batch, op, itemsize)
    if order[0] == "separable":
        factors = None if weight is None else _rank_one_factors(weight)
        return (order[1], None) if factors is None else ("separable", factors)
    return order[0], None


def _pick_non_spreading(
    spec: Conv, size: tuple[int, ...], batch: int, op: str, itemsize: int = 4
) -> str:
    """The fastest of `NON_SPREADING[op]` by the cost model (direct for an empty batch)."""
    if batch == 0:
        return "direct"
    order = _order(spec, size, batch, op, itemsize)
    return next((a for a in order if a in NON_SPREADING[op]), "direct")


def all_finite(*arrays: Any) -> bool:
    """Whether every array holds only finite numbers, by one sum each (no temporary array):
    inf or NaN anywhere makes the sum inf or NaN. A finite array whose sum overflows reads as
    not finite, which only restricts "auto" to `NON_SPREADING` (exact either way)."""
    for a in arrays:
        if a is None:
            continue
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is the answer, not news
            total = a.sum()
        if not bool(total.isfinite() if hasattr(total, "isfinite") else np.isfinite(total)):
            return False
    return True


def choose(
    op: str,
    name: str,
    spec: Conv,
    size: tuple[int, ...],
    batch: int,
    algorithm: str,
    weight: Any = None,
    m: int | None = None,
) -> str:
    """The algorithm to run (`algorithm`, or the auto choice), checked: SpecError when the
    named algorithm cannot run this layer or a given Winograd tile `m` does not exist (a tile
    given with "auto" asks for Winograd)."""
    return plan(op, name, spec, size, batch, algorithm, weight, m)[0]


def plan(
    op: str,
    name: str,
    spec: Conv,
    size: tuple[int, ...],
    batch: int,
    algorithm: str,
    weight: Any = None,
    m: int | None = None,
    finite: bool = True,
    itemsize: int = 4,
) -> tuple[str, Any]:
    """`choose`, with what the choice found: the rank-1 factors `(u, v)` of `weight` when the
    algorithm is separable (so that a call factors its kernel once), else None. `finite=False`
    (an operand holds inf or NaN) restricts "auto" to the algorithms that do not spread them,
    `NON_SPREADING`, so that the result matches torch's. "auto" skips an algorithm that cannot
    keep within the workspace limit for `itemsize`-byte elements (`over_workspace`); one named
    explicitly runs anyway, one sample at a time on one thread (as every algorithm does under a
    budget smaller than one sample: the budget sizes the chunks, at least one sample each), the
    FFT in blocks of output channels whose kernel spectra fit (`numeric._ops.fft_plan`).

    ```python
    >>> import numpy as np
    >>> import symconv as sc
    >>> from numeric.algorithms import plan
    >>> sobel = np.outer([1.0, 2, 1], [1.0, 0, -1])[None, None]
    >>> spec = sc.Conv(dims=2, in_channels=1, out_channels=1, kernel_size=3)
    >>> name, (u, v) = plan("forward", "conv2d", spec, (32, 32), 1, "separable", sobel)
    >>> name, np.allclose(u[0, 0, :, None] * v[0, 0], sobel[0, 0])
    ('separable', True)
    >>> plan("forward", "conv2d", spec, (32, 32), 1, "direct", sobel)
    ('direct', None)

    ```
    """
    if algorithm not in ALGORITHMS:
        raise SpecError(f"{name}: algorithm must be one of {list(ALGORITHMS)}, got {algorithm!r}")
    if op not in OPS:
        raise SpecError(f"{name}: op must be one of {list(OPS)}, got {op!r}")
    if m is not None:
        if not _is_tile(m):
            raise SpecError(f"{name}: winograd_m must be one of {list(WINOGRAD_TILES)}, got {m!r}")
        algorithm = "winograd" if algorithm == "auto" else algorithm
    if algorithm == "auto" and not finite:
        return _pick_non_spreading(spec, size, batch, op, itemsize), None
    if algorithm == "auto":
        return ("direct", None) if batch == 0 else _pick(spec, size, batch, op, weight, itemsize)
    why = supported(spec, algorithm, op, m=WINOGRAD_M if m is None else m)
    if why is not None:
        raise SpecError(f"{name}: algorithm {algorithm!r} {why}")
    if algorithm != "separable" or weight is None:
        return algorithm, None
    factors = _rank_one_factors(weight)
    if factors is None:
        raise SpecError(
            f"{name}: algorithm 'separable' needs a rank-1 kernel in every (out, in) channel "
            "slice (see numeric.algorithms.rank_one_factors)"
        )
    return algorithm, factors
