r"""Convolution arithmetic as formulas: output sizes, the lectures' special case, receptive fields.

The formulas are built by evaluating `symconv._sizes` on SymPy symbols, so they are the same
definition the concrete `output_size` methods use. The output-size formulas themselves live with
the specs that return them (`symconv.spec._formulas`, below this layer) and are re-exported here.

```python
>>> from symconv.arith import conv_output_formula
>>> conv_output_formula()
floor((-d*(k - 1) + i + 2*p - 1)/s) + 1

```
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from . import _sizes
from ._errors import SpecError
from .derivation import Derivation, Outcome, grid_check
from .spec import Conv, Pool
from .spec._formulas import (  # the output-size formulas sit with the specs that return them
    SYMBOLS,
    conv_output_formula,
    pool_output_formula,
    substitute_axis,
    transpose_output_formula,
)

__all__ = [
    "SYMBOLS",
    "ReceptiveField",
    "conv_output_formula",
    "lecture_formula_derivation",
    "pool_output_formula",
    "receptive_field",
    "substitute_axis",
    "transpose_output_formula",
]


def lecture_formula_derivation(spec: Any = None, input_size: Any = None) -> Derivation:
    r"""Proof that the general output size reduces to the lectures' $(N - F + 2P)/S + 1$.

    With dilation 1 and an exact division ($i + 2p - k = s m$ for an integer $m \ge 0$), the
    floor disappears. The `general` check is the symbolic proof; the `exact` check compares the
    two formulas on every fitting case of a grid, and shows they differ where the stride does not
    fit (the lecture's 7x7 input, 3x3 filter, stride 3 gives 2.33).
    """
    S = SYMBOLS
    i, k, s, p = S["i"], S["k"], S["s"], S["p"]
    m = sympy.Symbol("m", integer=True, nonnegative=True)
    general = conv_output_formula()
    undilated = general.subs(S["d"], 1)
    lecture = (i - k + 2 * p) / s + 1
    exact_i = sympy.solve(sympy.Eq(i + 2 * p - k, s * m), i)[0]
    reduced = sympy.simplify(undilated.subs(i, exact_i))
    lecture_exact = sympy.simplify(lecture.subs(i, exact_i))
    d = Derivation("Output size: the general formula and the lectures' special case")
    d.add_step(
        "General output size",
        sympy.Eq(sympy.Symbol("o"), general),
        "every window start s*o must leave room for the dilated kernel d(k-1)+1",
        by="the formula counts the window starts",
    )
    proved = "floor formula equals"
    d.add_step("Dilation 1", sympy.Eq(sympy.Symbol("o"), undilated), "substitute d = 1", by=proved)
    d.add_step(
        "The stride fits",
        sympy.Eq(i + 2 * p - k, s * m),
        "assume an integer m >= 0",
        definition=True,
    )
    d.add_step(
        "The floor is exact",
        sympy.Eq(sympy.Symbol("o"), reduced),
        "floor(m) = m for integer m",
        by=proved,
    )
    d.add_step(
        "The lectures' formula",
        sympy.Eq(lecture, lecture_exact),
        "(N - F + 2P)/S + 1 with N = i, F = k, P = p, S = s",
        by=(proved, "same, on every fitting case"),
    )
    d.results.update(general=general, lecture=lecture, reduced=reduced)

    def proof() -> Outcome:
        ok = sympy.simplify(reduced - lecture_exact) == 0
        return Outcome(
            1, 0.0 if ok else 1.0, ok, "floor((s m)/s) + 1 - (s m / s + 1) simplifies to 0"
        )

    def grid() -> Outcome:
        cases = [
            (ii, kk, ss, pp)
            for ii in range(1, 12)
            for kk in range(1, 6)
            for ss in range(1, 4)
            for pp in range(0, 3)
            if ii + 2 * pp >= kk and (ii + 2 * pp - kk) % ss == 0
        ]
        return grid_check(
            cases,
            lambda c: abs(
                _sizes.conv_out(c[0], c[1], c[2], 1, c[3])
                - sympy.Rational(c[0] - c[1] + 2 * c[3], c[2])
                - 1
            ),
        )

    def starts() -> Outcome:
        o = sympy.lambdify((i, k, s, S["d"], p), general, "math")
        cases = [
            c
            for c in itertools.product(range(1, 12), range(1, 5), range(1, 4), (1, 2), (0, 1, 2))
            if c[0] + 2 * c[4] >= c[3] * (c[1] - 1) + 1
        ]

        def err(c: tuple[int, ...]) -> float:
            ii, kk, ss, dd, pp = c
            count = sum(
                1 for t in range(0, ii + 2 * pp) if t * ss + dd * (kk - 1) <= ii + 2 * pp - 1
            )
            return abs(o(*c) - count)

        return grid_check(cases, err)

    d.check("the formula counts the window starts, i < 12, k < 5, s < 4, d < 3", "exact", starts)
    d.check("floor formula equals (N - F + 2P)/S + 1 when the stride fits", "general", proof)
    d.check("same, on every fitting case i<12, k<6, s<4, p<3", "exact", grid)
    if spec is not None:
        _layer_output_steps(d, spec, input_size)
    return d


def _layer_output_steps(d: Derivation, spec: Any, input_size: Any) -> None:
    """The general formula at one convolution's sizes (and its input, if given), checked
    against `spec.output_size` on every input length the layer takes below 40."""
    if not isinstance(spec, Conv) or type(spec) is not Conv:
        raise SpecError(
            f"derive output-size: the derivation is the convolution's formula, not "
            f"{type(spec).__name__}'s (symconv shape gives any layer's output size)"
        )
    size = None if input_size is None else spec._check_input(input_size)
    i = SYMBOLS["i"]
    axes: dict[tuple[int, ...], list[int]] = {}
    for a in range(spec.dims):
        key = (spec.kernel_size[a], spec.stride[a], spec.dilation[a], *spec.pads[a])
        axes.setdefault(key, []).append(a)
    for (k, s, dl, lo, hi), which in axes.items():
        where = "every axis" if len(which) == spec.dims else f"axes {[a + 1 for a in which]}"
        d.add_step(
            f"This layer ({where}: k = {k}, s = {s}, d = {dl}, padding {lo}, {hi})",
            sympy.Eq(sympy.Symbol("o"), _sizes.conv_out(i, k, s, dl, lo, hi)),
            "substitute the layer's sizes (p_lo + p_hi for 2p)",
            by="this layer: the formula = Conv.output_size",
        )
    if size is not None:
        d.add_step(
            f"At input {'x'.join(map(str, size))}",
            sympy.Tuple(*spec.output_size(size)),
            "the output size on each axis",
            by="this layer: the formula = Conv.output_size",
        )

    def layer() -> Outcome:
        cases = []
        for n in range(1, 40):
            try:
                cases.append(spec._check_input((n,) * spec.dims))
            except SpecError:
                continue
        if size is not None:
            cases.append(size)

        def err(c: tuple[int, ...]) -> float:
            want = spec.output_size(c)
            got = [
                _sizes.conv_out(c[a], spec.kernel_size[a], spec.stride[a], spec.dilation[a],
                                *spec.pads[a])
                for a in range(spec.dims)
            ]  # fmt: skip
            return float(list(want) != got)

        return grid_check(cases, err)

    d.check(f"this layer: the formula = Conv.output_size, {spec}, inputs < 40", "exact", layer)


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of the last layer of a stack, per spatial axis.

    - `size`: input positions one output sees;
    - `jump`: the effective stride, input positions between neighbouring outputs;
    - `start`: centre of the first output's field, in input coordinates (0 = first pixel).
    """

    size: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[float, ...]


def receptive_field(layers: Sequence[Any]) -> ReceptiveField:
    r"""Receptive field and effective stride of a stack of `Conv`/`Pool` layers.

    $r_\ell = r_{\ell-1} + d_\ell(k_\ell - 1) j_{\ell-1}$, $j_\ell = j_{\ell-1} s_\ell$.

    ```python
    >>> from symconv import Conv
    >>> receptive_field([Conv(kernel_size=3)] * 3).size   # three 3x3 see 7x7
    (7, 7)

    ```
    """
    if isinstance(layers, Conv | Pool | str | bytes) or not isinstance(layers, Iterable):
        raise SpecError(
            f"receptive_field: layers must be a sequence of Conv or Pool specs, got {layers!r}"
        )
    windowed = list(layers)
    if not windowed:
        raise SpecError("receptive_field: layers must contain at least one Conv or Pool")
    for n, layer in enumerate(windowed):
        if not isinstance(layer, Conv | Pool):
            raise SpecError(
                f"receptive_field: layers[{n}] must be a symconv.Conv or Pool, got {layer!r}"
            )
    dims = windowed[0].dims
    return _extend_field(ReceptiveField((1,) * dims, (1,) * dims, (0.0,) * dims), windowed)


def _extend_field(field: ReceptiveField, layers: Iterable[Any]) -> ReceptiveField:
    """`field` (of a stack) extended by `layers`: the recurrence of `receptive_field`, so that
    a caller walking a long stack extends the field of its prefix instead of recomputing it."""
    dims = len(field.size)
    size, jump, start = list(field.size), list(field.jump), list(field.start)
    for n, layer in enumerate(layers):
        if not isinstance(layer, Conv | Pool):
            raise SpecError(
                f"receptive_field: layers[{n}] must be a symconv.Conv or Pool, got {layer!r}"
            )
        if layer.dims != dims:
            raise SpecError(
                f"receptive_field: every layer must have the same dims: layers[{n}] has dims "
                f"{layer.dims}, layers[0] has {dims}"
            )
        for a in range(dims):
            k, s, d, lo, _ = layer._axis(a)
            span = _sizes.dilated_extent(k, d)
            start[a] += ((span - 1) / 2 - lo) * jump[a]
            size[a] += (span - 1) * jump[a]
            jump[a] *= s
    return ReceptiveField(tuple(size), tuple(jump), tuple(start))
