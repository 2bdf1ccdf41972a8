r"""Cost limits: every heavy request states its cost first and is refused above these.

A request's cost is computed from the spec's integer arithmetic (`symconv._sizes`, no
allocation): for a symbolic request (a derivation, a Toeplitz or padding matrix) the spatial
positions of its input and output per channel and the nonzeros of its matrix
$C_\text{out} \prod o \cdot (C_\text{in}/g) \prod k$; for a `numeric` call the bytes of its
output and of one sample's padded input. Above a limit the request raises `SpecError` naming
the cost, the limit and the alternative, before any work starts.

| limit | default | what it bounds |
|---|---|---|
| `positions` | 8192 | positions per channel of a symbolic request's input (output: 4x) |
| `nonzeros` | $2^{26}$ (67 M) | nonzeros of a symbolic request's matrix |
| `numeric_bytes` | $2^{32}$ (4 GiB) | bytes of a `numeric` output, or of one padded sample |

A 2-d layer of 64 x 64 (4096 positions) with 16 -> 16 channels and a 7 x 7 kernel (51 M
nonzeros) is within them; 128 x 128 inputs are not. A request that builds less than its
layer's matrix is charged what it builds (`check_symbolic(..., cost=...)`; for `symconv derive`
each op's `symconv.registry.Entry.cost`): `derive toeplitz`, `transpose` and `unfold-fold` of a
plain convolution read $C_\text{in} \prod k$ values per position, `backprop` and
`local-backprop` compare factor tables (`factor_tables_cost`: channel pairs plus a few tables
per axis), `output-size` and `local-params` none, so a 9 x 9 or 11 x 11 kernel on that layer
(85 M, 127 M nonzeros in its matrix) is admitted.

Change them with `set_limits(**values)` (returns the old ones), for one block with the context
manager `limits(**values)`, or before start-up with the environment variables
`SYMCONV_MAX_POSITIONS`, `SYMCONV_MAX_NONZEROS`, `SYMCONV_MAX_NUMERIC_BYTES`.

```python
>>> import symconv as sc
>>> from symconv.limits import limits, check_symbolic
>>> try:
...     check_symbolic("toeplitz", sc.Conv(dims=1, kernel_size=3), (10**9,))
... except sc.SpecError as err:
...     print(str(err)[:70])
toeplitz: the input's positions per channel 1000000000 exceeds the lim
>>> with limits(positions=10**9, nonzeros=10**10):
...     check_symbolic("toeplitz", sc.Conv(dims=1, kernel_size=3), (10**9,))

```
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ._errors import SpecError
from .transpose import ConvTranspose

__all__ = [
    "DEFAULTS",
    "OUTPUT_FACTOR",
    "check_numeric",
    "check_symbolic",
    "factor_tables_cost",
    "get_limits",
    "limits",
    "set_limits",
    "symbolic_cost",
]

DEFAULTS: dict[str, int] = {
    "positions": 8192,
    "nonzeros": 2**26,
    "numeric_bytes": 2**32,
}
OUTPUT_FACTOR = 4  # an output may have this many times `positions` (a stride-2 transpose)
_ENV = {name: f"SYMCONV_MAX_{name.upper()}" for name in DEFAULTS}


def _from_env() -> dict[str, int]:
    values = dict(DEFAULTS)
    for name, var in _ENV.items():
        text = os.environ.get(var)
        if text is None:
            continue
        text = text.strip()
        if not text.isdigit() or len(text) > 30 or int(text) < 1:
            raise SpecError(f"{var}: must be an integer >= 1, got {text[:40]!r}")
        values[name] = int(text)
    return values


_LIMITS: dict[str, int] = _from_env()


def get_limits() -> dict[str, int]:
    """The limits in force (a copy)."""
    return dict(_LIMITS)


def set_limits(**values: int) -> dict[str, int]:
    """Set some limits (names of `DEFAULTS`, integers >= 1); returns all the old ones."""
    for name, value in values.items():
        if name not in DEFAULTS:
            raise SpecError(f"set_limits: unknown limit {name!r}; known: {', '.join(DEFAULTS)}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"set_limits: {name} must be an integer >= 1, got {value!r}")
    old = dict(_LIMITS)
    _LIMITS.update(values)
    return old


@contextmanager
def limits(**values: int) -> Iterator[None]:
    """Context manager: run the block under these limits."""
    old = set_limits(**values)
    try:
        yield
    finally:
        _LIMITS.clear()
        _LIMITS.update(old)


def _refuse(op: str, what: str, cost: int, name: str, alternative: str) -> SpecError:
    """'<op>: <what> <cost> exceeds the limit <limit> (...); <alternative>, or raise it'."""
    return SpecError(
        f"{op}: {what} {cost} exceeds the limit {_LIMITS[name]} (symconv.limits "
        f"{name!r}); {alternative}, or raise the limit with symconv.limits.set_limits("
        f"{name}=...) or {_ENV[name]}"
    )


def symbolic_cost(spec: Any, size: Sequence[int]) -> dict[str, int]:
    r"""A symbolic request's cost from integer arithmetic alone: spatial positions per channel
    of the input and of the output, and the nonzeros of its matrix (every output position reads
    $(C_\text{in}/g) \prod k$ weights, or fewer at the borders)."""
    out = spec.output_size(tuple(size))
    taps = math.prod(getattr(spec, "kernel_size", (1,)))
    c_in = getattr(spec, "in_channels", 1)
    c_out = getattr(spec, "out_channels", 1)
    groups = getattr(spec, "groups", 1)
    if isinstance(spec, ConvTranspose):  # every input position scatters into its window
        nonzeros = c_in * math.prod(size) * (c_out // groups) * taps
    else:  # every output position gathers its window; with zero padding each input
        # position is read by at most `taps` outputs (a 'full' output reads padding at borders)
        reach = math.prod(out)
        if getattr(spec, "padding_mode", "zeros") == "zeros":
            reach = min(reach, math.prod(size))
        nonzeros = c_out * reach * (c_in // groups) * taps
    return {
        "input_positions": math.prod(size),
        "output_positions": math.prod(out),
        "nonzeros": nonzeros,
    }


def factor_tables_cost(spec: Any, size: Sequence[int]) -> int:
    r"""What a check on factor tables builds (`IndexForm.factors`: one table of channel pairs
    times one tap table per axis), from integer arithmetic alone:
    $4\,(C_\text{out} C_\text{in}/g + \sum_d P_d (k_d + o_d))$, $P_d$ the padded length:
    the channel pairs and, per axis, the layer's $o \times k$ taps or a gradient
    convolution's $P \times k$ and $P \times o$ ones, for the two sides of two identities
    ($\partial L/\partial x$, $\partial L/\partial w$). `backprop` and `local_backprop` are
    charged this, not the layer's matrix: it grows with the channel pairs and the axes'
    lengths, never with their product.

    ```python
    >>> import symconv as sc
    >>> spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=9, padding=4)
    >>> factor_tables_cost(spec, (64, 64)), symbolic_cost(spec, (64, 64))["nonzeros"]
    (43072, 84934656)

    ```
    """
    size = tuple(size)
    out = spec.output_size(size)
    pads = getattr(spec, "pads", ((0, 0),) * len(size))
    kernel = getattr(spec, "kernel_size", (1,) * len(size))
    c_in = getattr(spec, "in_channels", 1)
    c_out = getattr(spec, "out_channels", 1)
    groups = getattr(spec, "groups", 1)
    axes = sum(
        (n + lo + hi) * (k + o) for n, (lo, hi), k, o in zip(size, pads, kernel, out, strict=True)
    )
    return int(4 * (c_out * (c_in // groups) + axes))


def _as_size(spec: Any, size: Any) -> tuple[int, ...] | None:
    dims = getattr(spec, "dims", 1)
    if isinstance(size, int) and not isinstance(size, bool):
        return (size,) * dims
    if isinstance(size, tuple | list) and all(
        isinstance(n, int) and not isinstance(n, bool) for n in size
    ):
        return tuple(size)
    return None


def check_symbolic(
    op: str,
    spec: Any,
    size: Any,
    *,
    nonzeros: bool = True,
    cost: Callable[[Any, tuple[int, ...]], int] | None = None,
) -> None:
    r"""Refuse a symbolic request (SpecError) whose cost exceeds the limits, before any work.
    The input's positions are checked first (a product of the given integers), then, for a
    size the spec accepts, the output's positions and the matrix's nonzeros. A size or spec
    that is not valid passes through: the request's own validation names it. `nonzeros=False`
    leaves the nonzeros to the caller, which counts them exactly (`symconv.toeplitz`'s
    `max_nonzeros`, by default this limit's default). `cost(spec, size)`, if given, is what
    the request builds instead of the layer's matrix (integer arithmetic: the nonzeros, or
    entries, it is charged against the `nonzeros` limit; an unfold reads
    $C_\text{in} \prod k \prod o$, not the matrix's $C_\text{out}$ times as many).

    ```python
    >>> import symconv as sc
    >>> spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=9, padding=4)
    >>> try:
    ...     check_symbolic("toeplitz", spec, (64, 64))  # 84.9 M nonzeros
    ... except sc.SpecError as err:
    ...     print(str(err)[:50])
    toeplitz: the matrix's nonzeros 84934656 exceeds t
    >>> check_symbolic("unfold", spec, (64, 64), cost=lambda s, n: 16 * 81 * 64 * 64)

    ```
    """
    size = _as_size(spec, size)
    if size is None:
        return
    positions = math.prod(max(0, n) for n in size)
    if positions > _LIMITS["positions"]:
        raise _refuse(
            op, "the input's positions per channel", positions, "positions", "use a smaller input"
        )
    try:
        sym = symbolic_cost(spec, size)
        charged = sym["nonzeros"] if cost is None else cost(spec, size)
    except (SpecError, AttributeError, TypeError):
        return
    if sym["output_positions"] > OUTPUT_FACTOR * _LIMITS["positions"]:
        raise SpecError(
            f"{op}: the output's positions per channel {sym['output_positions']} exceed "
            f"{OUTPUT_FACTOR} x the limit {_LIMITS['positions']} (symconv.limits 'positions'); "
            f"use a smaller input, padding or stride, or raise the limit with "
            f"symconv.limits.set_limits(positions=...) or {_ENV['positions']}"
        )
    if nonzeros and charged > _LIMITS["nonzeros"]:
        raise _refuse(
            op,
            "the matrix's nonzeros" if cost is None else "the nonzeros it builds",
            charged,
            "nonzeros",
            "use fewer channels, a smaller kernel or input",
        )


def check_numeric(op: str, what: str, nbytes: int) -> None:
    """Refuse a `numeric` call whose array of `nbytes` (known before allocating) exceeds the
    `numeric_bytes` limit."""
    if nbytes > _LIMITS["numeric_bytes"]:
        raise _refuse(op, what, nbytes, "numeric_bytes", "use a smaller batch or layer")
