r"""The output-size formulas of the specs (`Conv.output_size_formula`, `Pool`'s), in SymPy.

The formulas are built by evaluating `symconv._sizes` on SymPy symbols, so they are the same
definition the concrete `output_size` methods use. This is the spec layer's one SymPy module:
the specs import it when a formula is asked for, never to build or validate a spec.
`symconv.arith` re-exports its names (`symconv.arith.SYMBOLS`, `conv_output_formula`, ...).

```python
>>> from symconv.arith import conv_output_formula
>>> conv_output_formula()
floor((-d*(k - 1) + i + 2*p - 1)/s) + 1

```
"""

from __future__ import annotations

import operator
from typing import Any

import sympy

from .. import _sizes
from .._errors import SpecError
from .._validate import _is_integral

__all__ = [
    "SYMBOLS",
    "conv_output_formula",
    "pool_output_formula",
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
