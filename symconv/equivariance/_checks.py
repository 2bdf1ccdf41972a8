r"""The checks attached to an equivariance derivation: exact grids and torch.

Exact level: on a grid of small specs, the broken set from the rows equals the index-form
criterion, interior outputs are never broken, strides behave as derived, circular padding
commutes with every cyclic shift, and the solved rotation/flip condition is the kernel's
symmetry. Numeric level: torch's layer (`symconv._torchref`) on random inputs changes exactly
the outputs the derivation calls broken. Private: used by `symconv.equivariance`.
"""

from __future__ import annotations

import itertools
import math
from functools import partial
from typing import Any

import numpy as np

from .._cache import pure
from .._errors import SpecError
from .._torch_trials import symmetry_trials, torch_changed, translate_trials
from .._torchref import torch_or_none as _torch
from ..derivation import Outcome
from ..spec import PADDING_MODES, Conv, Pool
from ._core import Equivariance
from ._pooling import max_pool_changes
from ._symmetry import (
    _condition_is_symmetry,
    _condition_matches_symmetry,
    _symmetric_setup,
    _weight_symbols,
)
from ._translate import _interior, _tapwise_broken, _translate_core


@pure(maxsize=1)
def _grid_translate() -> tuple[tuple[Conv, tuple[int, ...], tuple[int, ...]], ...]:
    """The exact-level grid: 1D and 2D, sizes up to 7, kernels up to 3, strides up to 3."""
    cases: list[tuple[dict[str, Any], tuple[int, ...], tuple[int, ...]]] = []
    for n, k, s, p, mode, t in itertools.product(
        (3, 5, 7), (1, 2, 3), (1, 2, 3), (0, 1, 2), PADDING_MODES, (1, -2, 3)
    ):
        cases.append(
            (dict(dims=1, kernel_size=k, stride=s, padding=p, padding_mode=mode), (n,), (t,))
        )
    for n2, k, s, p, mode, t2 in itertools.product(
        ((4, 4), (5, 3)), (1, 3), (1, 2), (0, 1), PADDING_MODES, ((1, 0), (2, -2), (1, 3))
    ):
        cases.append((dict(dims=2, kernel_size=k, stride=s, padding=p, padding_mode=mode), n2, t2))
    for n, k in itertools.product((5, 7), (2, 3)):  # dilation and true convolution
        cases.append((dict(dims=1, kernel_size=k, dilation=2, padding=2, flip=True), (n,), (1,)))
    out = []
    for kw, size, shift in cases:
        try:
            spec = Conv(bias=False, **kw)
            spec.output_size(size)
        except SpecError:
            continue
        out.append((spec, tuple(size), tuple(shift)))
    return tuple(out)


def _witness(form: Any, shift: tuple[int, ...]) -> bool:
    r"""Whether some output's window stays inside the input after the shift, along every axis,
    with at least two taps along each axis where the stride does not divide the shift.

    Then no output shift reproduces a non-multiple shift: the shifted window reads $K \ge 2$
    distinct, evenly spaced inputs, which padding (clamped or mirrored) never reproduces.
    """
    for a, ax in enumerate(form.axes):
        j = form.tap_table(a, padded=True) - ax.lo  # unpadded coordinate of every tap
        ok = np.all(
            (j >= 0) & (j < ax.size) & (j - shift[a] >= 0) & (j - shift[a] < ax.size), axis=1
        )
        if not ok.any() or (shift[a] % ax.stride and ax.kernel < 2):
            return False
    return True


@pure(maxsize=4096)
def _translate_claims(spec: Conv, sizes: tuple[int, ...], shift: tuple[int, ...]) -> str:
    """The statements of the translation derivation on one case; '' when all hold."""
    core = _translate_core(spec, sizes, shift)
    form, u, broken = core["form"], core["output_shift"], set(core["broken"])
    if core["divisible"]:
        tapwise = _tapwise_broken(form, shift, u, core["cyclic"])
        if tapwise != broken:
            return f"index-form criterion {sorted(tapwise)} != rows {sorted(broken)}"
        if not core["cyclic"] and not broken <= set(np.ndindex(*form.output_size)) - _interior(
            form, u
        ):
            return "an interior output broke"
        full = form.output_size == form.input_size and all(ax.stride == 1 for ax in form.axes)
        if core["cyclic"] and full and broken:
            return "circular padding broke"
    elif core["reproducing"] and not core["cyclic"] and _witness(form, shift):
        return f"output shift {core['reproducing'][0]} reproduces a non-multiple shift"
    return ""


@pure(maxsize=64)
def _circulant_claim(spec: Conv, sizes: tuple[int, ...]) -> str:
    """Every cyclic shift commutes with T (circular padding, stride 1, full-size output)."""
    for t in itertools.product(*[range(n) for n in sizes]):
        core = _translate_core(spec, sizes, t)
        if core["broken"]:
            return f"shift {t} broke {core['broken']}"
    return ""


def _translate_checks(
    d: Equivariance,
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    shift: tuple[int, ...],
    core: dict[str, Any],
    subs: dict | None,
) -> None:
    if isinstance(spec, Conv) and subs is None:

        def grid() -> Outcome:
            cases = [(spec, sizes, shift), *_grid_translate()]
            for case in cases:
                why = _translate_claims(*case)
                if why:
                    return Outcome(
                        len(cases), 1.0, False, f"{case[0]} on {case[1]}, shift {case[2]}: {why}"
                    )
            return Outcome(
                len(cases), 0.0, True, "rows of T S = rows of S T exactly where predicted"
            )

        d.check("broken set = index-form criterion; interior equivariant; strides", "exact", grid)
        if core["cyclic"]:

            def circ() -> Outcome:
                cases = [
                    Conv(
                        dims=dm, kernel_size=k, padding="same", padding_mode="circular", bias=False
                    )
                    for dm in (1, 2)
                    for k in (1, 3)
                ]
                sizes_: dict[int, list[tuple[int, ...]]] = {
                    1: [(n,) for n in range(2, 8)],
                    2: [(3, 3), (4, 2)],
                }
                n_cases = 0
                for c in cases:
                    for sz in sizes_[c.dims]:
                        n_cases += 1
                        why = _circulant_claim(c, sz)
                        if why:
                            return Outcome(n_cases, 1.0, False, f"{c} on {sz}: {why}")
                return Outcome(n_cases, 0.0, True, "T commutes with every cyclic shift")

            d.check("circulant: every cyclic shift commutes with T", "exact", circ)

    numeric = partial(  # plain values: it may run in a process without SymPy
        translate_trials,
        spec,
        sizes,
        shift,
        tuple(core["output_shift"]),
        bool(core["cyclic"]),
        _weight_values(spec, subs),
        frozenset(core["broken"]),
    )
    d.check("torch: conv(shift(x)) vs shift(conv(x))", "numeric", numeric)
    if isinstance(spec, Pool) and spec.kind == "max":

        def invariance() -> Outcome:
            torch = _torch()
            if torch is None:  # pragma: no cover
                return Outcome(0, 0.0, True, "torch not installed: skipped")
            gen = torch.Generator().manual_seed(1)
            for _ in range(5):
                x = torch.randn((1, 1, *sizes), generator=gen, dtype=torch.float64)
                got = torch_changed(
                    spec,
                    sizes,
                    "translate",
                    shift,
                    (0,) * spec.dims,
                    False,
                    None,
                    x,
                    invariance=True,
                )
                want = max_pool_changes(spec, x[0, 0].numpy(), shift)
                if not got <= want:
                    return Outcome(
                        5, 1.0, False, f"changed {sorted(got)} not within {sorted(want)}"
                    )
            return Outcome(5, 0.0, True, "changed outputs within the predicted set")

        d.check(
            "max pooling: changed outputs within the window-overlap prediction",
            "numeric",
            invariance,
        )


@pure(maxsize=1024)
def _symmetry_claim(spec: Conv, sizes: tuple[int, ...], transform: str) -> str:
    """`_condition_is_symmetry` once per case and process."""
    return _condition_is_symmetry(spec, sizes, transform)


def _grid_symmetry(transform: str) -> list[tuple[Conv, tuple[int, ...]]]:
    cases = []
    dims = (1, 2) if transform == "flip_h" else (2,)
    for dm, n, k, p, mode in itertools.product(dims, (3, 4, 5), (1, 2, 3), (0, 1), PADDING_MODES):
        try:
            spec = Conv(dims=dm, kernel_size=k, padding=p, padding_mode=mode, bias=False)
            spec.output_size(n)
        except SpecError:
            continue
        if _symmetric_setup(spec, (n,) * dm, transform):
            cases.append((spec, (n,) * dm))
    return cases


def _symmetry_checks(
    d: Equivariance,
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    transform: str,
    subs: dict | None,
    core: dict[str, Any],
) -> None:
    if isinstance(spec, Conv):

        def grid() -> Outcome:
            # this spec: the condition the derivation solved (SymPy), as before; the grid:
            # the same statement on integer forms (`_condition_is_symmetry`)
            cases = _grid_symmetry(transform)
            if _symmetric_setup(spec, sizes, transform):
                why = _condition_matches_symmetry(core["condition"], spec, transform)
                if why:
                    return Outcome(len(cases) + 1, 1.0, False, f"{spec} on {sizes}: {why}")
                # the integer forms of this layer (channel pairs share the taps: of one pair
                # where every pair's would not fit in memory)
                one = spec.replace(in_channels=1, out_channels=1, groups=1)
                small = math.prod(spec.weight_shape) <= 64
                cases.insert(0, (spec if small else one, sizes))
            for c, sz in cases:
                why = _symmetry_claim(c, sz, transform)
                if why:
                    return Outcome(len(cases), 1.0, False, f"{c} on {sz}: {why}")
            return Outcome(len(cases), 0.0, True, "solved condition = kernel symmetry")

        d.check(f"condition = the kernel's {transform} symmetry", "exact", grid)

    sampler = None  # the solved condition as coefficient tables, for symmetric kernels
    if isinstance(spec, Conv) and subs is None:
        sampler = core["condition"].sampler()
    numeric = partial(  # plain values: it may run in a process without SymPy
        symmetry_trials,
        spec,
        sizes,
        transform,
        _weight_values(spec, subs),
        frozenset(core["broken"]),
        sampler,
    )
    d.check(f"torch: conv({transform}(x)) vs {transform}(conv(x))", "numeric", numeric)


def _weight_values(spec: Conv | Pool, subs: dict | None) -> np.ndarray | None:
    """The numeric weights `subs` gives, as an array (None: random ones, or pooling)."""
    if subs is None or not isinstance(spec, Conv):
        return None
    values = [float(subs[s]) for s in _weight_symbols(spec)]
    return np.array(values).reshape(spec.weight_shape)
