r"""Convolution arithmetic as formulas: output sizes, the lectures' special case, receptive fields.

The formulas are built by evaluating `symconv._sizes` on SymPy symbols, so they are the same
definition the concrete `output_size` methods use.

```python
>>> from symconv.arith import conv_output_formula
>>> conv_output_formula()
floor((-d*(k - 1) + i + 2*p - 1)/s) + 1

```
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from . import _sizes
from ._errors import SpecError
from ._validate import _is_integral
from .derivation import Derivation, grid_check
from .spec import Conv, Pool

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

_pos = {"integer": True, "positive": True}
_nonneg = {"integer": True, "nonnegative": True}
SYMBOLS: dict[str, sympy.Symbol] = {
    "i": sympy.Symbol("i", **_pos),
    "k": sympy.Symbol("k", **_pos),
    "s": sympy.Symbol("s", **_pos),
    "d": sympy.Symbol("d", **_pos),
    "p": sympy.Symbol("p", **_nonneg),
    "p_lo": sympy.Symbol(r"p_{\mathrm{lo}}", **_nonneg),
    "p_hi": sympy.Symbol(r"p_{\mathrm{hi}}", **_nonneg),
    "a": sympy.Symbol("a", **_nonneg),  # output_padding of a transposed convolution
}


def conv_output_formula(symmetric: bool = True) -> sympy.Expr:
    r"""Output size of a convolution.

    $o = \lfloor (i + 2p - d(k-1) - 1)/s \rfloor + 1$, or $p_\mathrm{lo} + p_\mathrm{hi}$ for $2p$.
    """
    S = SYMBOLS
    lo, hi = (S["p"], S["p"]) if symmetric else (S["p_lo"], S["p_hi"])
    return _sizes.conv_out(S["i"], S["k"], S["s"], S["d"], lo, hi)


def pool_output_formula(ceil_mode: bool = False) -> sympy.Expr:
    r"""Pooling output size; ceil mode drops a window starting in the right padding."""
    S = SYMBOLS
    if not ceil_mode:
        return conv_output_formula()
    i, k, s, d, p = S["i"], S["k"], S["s"], S["d"], S["p"]
    up = sympy.ceiling((_sizes.padded_length(i, p, p) - _sizes.dilated_extent(k, d)) / s) + 1
    return sympy.Piecewise((up - 1, (up - 1) * s >= i + p), (up, True))


def transpose_output_formula() -> sympy.Expr:
    r"""$o = (i-1)s - 2p + d(k-1) + a + 1$, $a$ the output padding."""
    S = SYMBOLS
    return _sizes.transpose_out(S["i"], S["k"], S["s"], S["d"], S["p"], S["a"])


def substitute_axis(formula: sympy.Expr, spec: Any, axis: int) -> sympy.Expr:
    """Put one axis of `spec` (a `Conv` or `Pool`) into `formula`, leaving the input size $i$."""
    op = getattr(spec, "_op_name", type(spec).__name__)
    if (
        isinstance(axis, bool)
        or not _is_integral(axis)
        or not 0 <= operator.index(axis) < spec.dims
    ):
        raise SpecError(
            f"{op}: axis must be an integer in 0..{spec.dims - 1} (dims {spec.dims}), got {axis!r}"
        )
    axis = operator.index(axis)
    k, s, d, lo, hi = spec._axis(axis)
    S = SYMBOLS
    return formula.subs({S["k"]: k, S["s"]: s, S["d"]: d, S["p"]: lo, S["p_lo"]: lo, S["p_hi"]: hi})


def lecture_formula_derivation() -> Derivation:
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
    d.step(
        "General output size",
        sympy.Eq(sympy.Symbol("o"), general),
        "every window start s*o must leave room for the dilated kernel d(k-1)+1",
    )
    d.step("Dilation 1", sympy.Eq(sympy.Symbol("o"), undilated), "substitute d = 1")
    d.step("The stride fits", sympy.Eq(i + 2 * p - k, s * m), "assume an integer m >= 0")
    d.step("The floor is exact", sympy.Eq(sympy.Symbol("o"), reduced), "floor(m) = m for integer m")
    d.step(
        "The lectures' formula",
        sympy.Eq(lecture, lecture_exact),
        "(N - F + 2P)/S + 1 with N = i, F = k, P = p, S = s",
    )
    d.results.update(general=general, lecture=lecture, reduced=reduced)

    def proof() -> tuple[int, float, bool, str]:
        ok = sympy.simplify(reduced - lecture_exact) == 0
        return 1, 0.0 if ok else 1.0, ok, "floor((s m)/s) + 1 - (s m / s + 1) simplifies to 0"

    def grid() -> tuple[int, float, bool, str]:
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

    d.check("floor formula equals (N - F + 2P)/S + 1 when the stride fits", "general", proof)
    d.check("same, on every fitting case i<12, k<6, s<4, p<3", "exact", grid)
    return d


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
    for n, layer in enumerate(windowed):
        if layer.dims != dims:
            raise SpecError(
                f"receptive_field: every layer must have the same dims: layers[{n}] has dims "
                f"{layer.dims}, layers[0] has {dims}"
            )
    size, jump, start = [1] * dims, [1] * dims, [0.0] * dims
    for layer in windowed:
        for a in range(dims):
            k, s, d, lo, _ = layer._axis(a)
            span = _sizes.dilated_extent(k, d)
            start[a] += ((span - 1) / 2 - lo) * jump[a]
            size[a] += (span - 1) * jump[a]
            jump[a] *= s
    return ReceptiveField(tuple(size), tuple(jump), tuple(start))
