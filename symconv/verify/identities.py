"""The identities `symconv verify` checks: `REGISTRY` (name -> `Identity`), `register` and
the derivation factories of the identities that check more than `derive(name)` (a harder
layer, several layers, a grid). The order and statements come from `symconv.registry`; a
factory raises `Skip` when its subject is unavailable.

```python
>>> from symconv.verify.identities import REGISTRY
>>> from symconv.registry import identity
>>> REGISTRY["output-size"].statement == identity("output-size").statement
True

```
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from numeric.checks.kernels import NEEDS as _NUMERIC_NEEDS
from numeric.checks.kernels import numeric_kernels_derivation as _numeric_kernels

from .._errors import SpecError
from .._tables import same, table
from .._torchref import conv_reference
from ..backprop import backprop, exact_grid, verify_exact
from ..derivation import Derivation, Outcome, grid_check
from ..derive import derive
from ..indexform import index_form
from ..poolgrad import pool_backprop
from ..registry import identities, injected
from ..registry import identity as _entry
from ..spec import Conv, Pool
from ..toeplitz import toeplitz_numeric
from ..transpose import ConvTranspose, verify_adjoint


class Skip(Exception):
    """Raised by a derivation factory whose subject is unavailable; the message says why."""


@dataclass(frozen=True)
class Identity:
    """A registered identity: `name` (CLI id), `statement`, and its derivation factory."""

    name: str
    statement: str
    derivation: Callable[[], Derivation]


REGISTRY: dict[str, Identity] = {}


def register(name: str, statement: str | None = None) -> Callable[[Callable[[], Derivation]], Any]:
    """Decorator: add a derivation factory to `REGISTRY` under `name`; without a `statement`,
    the registry's (`symconv.registry`: `name` must be one of its identities)."""
    said = _entry(name).statement if statement is None else statement

    def add(factory: Callable[[], Derivation]) -> Callable[[], Derivation]:
        REGISTRY[name] = Identity(name, said, factory)
        return factory

    return add


def _merged(title: str, parts: Iterable[Derivation]) -> Derivation:
    """One derivation with the steps and checks of several (check names get the part's title)."""
    d = Derivation(title)
    for part in parts:
        d.extend(part, prefix=f"{part.title}: ")
    return d


def _torch() -> Any:
    try:
        import torch
    except ImportError as err:  # pragma: no cover - torch is a test dependency
        raise Skip("torch is not installed (pip install 'symconv[torch]')") from err
    return torch


def _sample_grid(every: int = 3) -> list[tuple[Conv, tuple[int, ...]]]:
    return exact_grid(quick=True)[::every]


# -- identities built elsewhere ---------------------------------------------------------------
@register("backprop")
def _backprop() -> Derivation:
    spec = Conv(
        dims=2,
        in_channels=2,
        out_channels=4,
        groups=2,
        kernel_size=3,
        stride=2,
        padding=1,
        padding_mode="reflect",
    )
    return backprop(spec)


POOL_SPECS = (
    Pool(kind="max", kernel_size=3, stride=2, padding=1, ceil_mode=True),
    Pool(kind="max", kernel_size=2, stride=1, dilation=2),
    Pool(kind="avg", kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True),
    Pool(kind="avg", kernel_size=2, divisor_override=3),
    Pool(kind="lp", kernel_size=2, norm_type=3, ceil_mode=True),
    Pool(dims=1, kind="lp", kernel_size=3, stride=2, norm_type=1.5),
)


@register("pool-gradients")
def _pool_gradients() -> Derivation:
    _torch()
    return _merged("Pooling gradients", (pool_backprop(s, 7) for s in POOL_SPECS))


@register("equivariance")
def _equivariance() -> Derivation:
    try:
        from ..equivariance import equivariance
    except ImportError as err:  # pragma: no cover - being written alongside
        raise Skip(f"symconv.equivariance is not importable: {err}") from err
    return _merged(
        "Equivariance",
        (
            equivariance(Conv(dims=1, kernel_size=3, padding=1), 7),
            equivariance(Conv(dims=2, kernel_size=3, padding=1, padding_mode="circular"), 5),
            equivariance(Conv(dims=1, kernel_size=3, stride=2), 7, shift=2),
            equivariance(Conv(dims=2, kernel_size=3, padding=1, bias=False), 5, transform="rot90"),
            equivariance(Pool(kind="max", kernel_size=2), 6),
        ),
    )


# -- identities checked here ------------------------------------------------------------------
def _factorization_error(case: tuple[Conv, tuple[int, ...]]) -> float:
    """0 when T's taps and V Pad's are the same multiset of (row, col, weight) key tuples: the
    integer coefficient of every (row, col, weight) is equal (`_tables.same`), exactly."""
    spec, size = case
    form = index_form(spec, size)
    g, v, pad = form.gather(), form.gather(padded=True), form.pad_gather()
    lookup = np.full(math.prod(pad.out_shape), -1, dtype=np.int64)
    lookup[pad.rows] = pad.cols
    cols = lookup[v.cols]
    ok = cols >= 0
    t = table(g.rows, g.cols, g.weights)
    return 0.0 if same(t, table(v.rows[ok], cols[ok], v.weights[ok])) else 1.0


def _theorem(op: str) -> Callable[[], Derivation]:
    """An identity verified as `default`: the derivation `derive(op)` builds."""

    def factory() -> Derivation:
        return derive(op)

    return factory


@register("toeplitz-factorization")
def toeplitz_factorization_derivation() -> Derivation:
    """$T = V\\,\\mathrm{Pad}$ as exact integer coefficient tables, on the verification grid."""
    d = Derivation("Toeplitz matrix: T = V Pad")
    d.add_step(
        "Factorization",
        "T = V Pad",
        "Pad copies x into the padded input; V convolves it",
        by="T = V Pad for all weights",
    )

    def grid() -> Outcome:
        cases = exact_grid(quick=True)
        n, err, ok, detail = grid_check(cases, _factorization_error)
        return Outcome(n, err, ok, detail or "coefficient of every (row, col, weight) equal")

    d.check("T = V Pad for all weights (coefficient tables), verification grid", "exact", grid)
    return d


@register("toeplitz-torch")
def toeplitz_torch_derivation() -> Derivation:
    """`toeplitz_numeric` against torch on a sample of the grid (every mode, flip, groups)."""
    _torch()  # skips the derivation without torch
    d = Derivation("Toeplitz matrix against torch")
    d.add_step(
        "Statement",
        "vec(y) = T vec(x)",
        "T from the index form, y from torch.nn.functional",
        by="T x = torch conv(x)",
    )

    def numeric() -> Outcome:
        rng = np.random.default_rng(0)
        cases = [
            *_sample_grid(),
            (
                Conv(
                    dims=3,
                    in_channels=2,
                    out_channels=2,
                    kernel_size=2,
                    padding=1,
                    padding_mode="circular",
                ),
                (3, 3, 3),
            ),
        ]
        worst, where = 0.0, ""
        for spec, size in cases:
            x = rng.standard_normal((1, spec.in_channels, *size))
            w = rng.standard_normal(spec.weight_shape)
            ours = toeplitz_numeric(spec, size, w) @ x.reshape(-1)
            theirs = conv_reference(spec, x, w).numpy().reshape(-1)
            err = float(np.max(np.abs(ours - theirs), initial=0.0))
            if err > worst:
                worst, where = err, f"worst {spec} on {size}"
        return Outcome(len(cases), worst, worst < 1e-10, where)

    d.check("T x = torch conv(x), float64, |error| < 1e-10", "numeric", numeric)
    return d


def _transpose_cases() -> list[tuple[Any, int]]:
    cases = []
    for dims, k, s, p, dil, g, i in itertools.product(
        (1, 2), (1, 2, 3), (1, 2, 3), (0, 1), (1, 2), (1, 2), (2, 3)
    ):
        for op in range(max(s, dil)):
            try:
                spec = ConvTranspose(
                    dims=dims,
                    in_channels=2 * g,
                    out_channels=g,
                    kernel_size=k,
                    stride=s,
                    padding=p,
                    output_padding=op,
                    dilation=dil,
                    groups=g,
                )
                spec.output_size(i)
            except SpecError:
                continue
            cases.append((spec, i))
    return cases


@register("transpose-adjoint")
def transpose_adjoint_derivation() -> Derivation:
    """`transpose.verify_adjoint` (exact, symbolic weights) on a grid of transposed convs."""
    d = Derivation("Transposed convolution = T^T")
    d.add_step(
        "Statement",
        "toeplitz(ConvTranspose) = toeplitz(spec.adjoint())^T",
        "entry by entry",
        by="T^T entry by entry",
    )

    def grid() -> Outcome:
        return grid_check(_transpose_cases(), lambda c: 0.0 if verify_adjoint(*c) else 1.0)

    d.check("T^T entry by entry, symbolic weights, dims 1-2", "exact", grid)
    return d


@register("backprop-grid")
def backprop_grid_derivation() -> Derivation:
    """`backprop.verify_exact` on every spec of `backprop.exact_grid()` (the exact-level grid)."""
    d = Derivation("Backpropagation on the verification grid")
    d.add_step(
        "Statement",
        "T^T delta = dL/dx, X^T delta = dL/dw",
        "for all weights and deltas",
        by="derived gradient operators",
    )

    def grid() -> Outcome:
        return grid_check(exact_grid(), lambda c: 0.0 if all(verify_exact(*c)) else 1.0)

    d.check("derived gradient operators, every spec of the grid", "exact", grid)
    return d


def numeric_kernels_derivation() -> Derivation:
    """The generated kernels of the `numeric` package against the Toeplitz matrix: the check
    of `numeric.checks.kernels`, given `toeplitz_numeric` and `exact_grid` (`injected`)."""
    return _numeric_kernels(**injected(_NUMERIC_NEEDS))


def _in_registry_order() -> None:
    """`REGISTRY` as the registry lists the identities: `own` ones as registered above (or
    as the entry brings them: numeric's checks, `numeric.checks`), `default` ones as
    `derive(name)`; an identity registered here but not there, or the reverse, is an error at
    import."""
    own = dict(REGISTRY)
    REGISTRY.clear()
    for e in identities():
        name = e.identity_name
        if e.verify != "own":
            factory = _theorem(e.name)
        elif name in own:
            factory = own.pop(name).derivation
        elif e.own is not None:  # brought by the entry: numeric's checks
            factory = e.own
        else:
            raise RuntimeError(f"symconv.verify: the registry's identity {name!r} has no factory")
        REGISTRY[name] = Identity(name, e.statement, factory)
    if own:
        raise RuntimeError(f"symconv.verify: {sorted(own)} registered but not in symconv.registry")


_in_registry_order()
