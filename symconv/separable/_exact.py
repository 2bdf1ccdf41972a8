"""Exact zero tests and the exact rank-1 split of a kernel of integers, rationals or symbols."""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy
from sympy.polys.polyerrors import BasePolynomialError

from .._errors import SpecError
from ._kernel import Separable, _flat


# -- exact zero tests ------------------------------------------------------------------------
def _kind(e: sympy.Expr) -> str:
    """The class of an exact entry: `polynomial` or `rational` (a polynomial or a rational
    function, with rational coefficients, of symbols and `Indexed` elements, which are
    independent generators), else `other`."""
    kind = "polynomial"
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, sympy.Symbol | sympy.Indexed | sympy.Rational):
            continue
        if isinstance(x, sympy.Add | sympy.Mul):
            stack.extend(x.args)
        elif isinstance(x, sympy.Pow) and x.exp.is_Integer:
            kind = kind if x.exp > 0 else "rational"
            stack.append(x.base)
        else:
            return "other"
    return kind


def _zero_polynomial(e: sympy.Expr) -> bool:
    return sympy.expand(e) == 0  # the expanded form is canonical: exact


def _zero_rational(e: sympy.Expr) -> bool:
    num, _ = sympy.fraction(sympy.together(e))  # e = num / den with den != 0
    return sympy.expand(num) == 0


def _simplifiers() -> tuple[Callable[[sympy.Expr], sympy.Expr], ...]:
    # looked up at call time (so that a test can replace them), cheapest first
    return (
        lambda x: sympy.expand(sympy.expand_trig(x)),
        sympy.trigsimp,
        sympy.simplify,
    )


def _zero_other(e: sympy.Expr) -> bool:
    """True only when an equivalence-preserving rewrite reaches 0 (a proof); False when none
    does, which for such expressions may also mean an identity SymPy cannot see."""
    e = sympy.expand(e)
    if e == 0:
        return True
    for rewrite in _simplifiers():
        try:
            if rewrite(e) == 0:
                return True
        except (BasePolynomialError, NotImplementedError, RecursionError):
            continue
    return False


def _zero_test(kind: str) -> Callable[[sympy.Expr], bool]:
    return {"polynomial": _zero_polynomial, "rational": _zero_rational}.get(kind, _zero_other)


def _rewrite_other(e: sympy.Expr) -> sympy.Expr:
    # trigonometric functions of sums and multiples in terms of sin/cos of the symbols, as
    # rational functions of those: sin(2t)/sin(t) -> 2 cos(t)
    return sympy.cancel(sympy.expand_trig(e))


def _primitive(vec: list[Any], tidy: Callable[[Any], Any]) -> tuple[list[Any], Any]:
    """(primitive part, content) with `vec == content * prim`: integers with gcd 1 for
    rationals; for symbols the denominators cleared and the polynomial gcd taken out."""
    nonzero = [v for v in vec if v != 0]
    content = nonzero[0]
    if len(nonzero) > 1:
        try:
            den = sympy.lcm_list([sympy.fraction(sympy.together(v))[1] for v in nonzero])
            content = sympy.gcd_list([sympy.cancel(v * den) for v in nonzero]) / den
        except (BasePolynomialError, NotImplementedError):
            content = sympy.Integer(1)  # a vector SymPy's gcd cannot take: left as it is
    prim = [tidy(v / content) for v in vec]
    lead = next((v for v in prim if v != 0), sympy.Integer(1))
    # is_extended_negative, not `< 0`: a non-real number (sympy.I) has no sign to compare
    if lead.is_extended_negative or (not lead.is_number and lead.could_extract_minus_sign()):
        prim, content = [-v for v in prim], -content
    return prim, content


def _separable_exact(arr: sympy.Array) -> Separable | None:
    r"""Rank 1 iff, for a pivot $P = K_p \ne 0$ and the fibres $f_a$ of $K$ through $p$,
    $K_i P^{d-1} = \prod_a f_a[i_a]$ for every index $i$ (then $K = P \bigotimes_a f_a / P$)."""
    shape = tuple(arr.shape)
    dims = len(shape)
    flat = _flat(arr)
    kinds = {_kind(v) for v in flat}
    kind = "other" if "other" in kinds else "rational" if "rational" in kinds else "polynomial"
    is_zero = _zero_test(kind)
    pivot_flat = next((i for i, v in enumerate(flat) if not is_zero(v)), None)
    if pivot_flat is None:
        zeros = tuple(tuple(sympy.Integer(0) for _ in range(n)) for n in shape)
        return Separable(zeros, sympy.Integer(0), zeros, True)
    p = tuple(int(i) for i in np.unravel_index(pivot_flat, shape))
    P = arr[p]
    fibres = [
        [arr[(*p[:axis], i, *p[axis + 1 :])] for i in range(shape[axis])] for axis in range(dims)
    ]
    for idx in itertools.product(*(range(n) for n in shape)):
        if sum(i != j for i, j in zip(idx, p, strict=True)) < 2:
            continue  # on a fibre through the pivot: holds by construction
        product = sympy.Mul(*(fibres[ax][idx[ax]] for ax in range(dims)))
        if not is_zero(arr[idx] * P ** (dims - 1) - product):
            return None
    # the factors from the ratios f_a / P (1 at the pivot), primitive, and the scale
    # P * prod(contents); for other entries rewritten, then simplified at the end
    other = kind == "other"
    pre = _rewrite_other if other else sympy.cancel

    def post(e: sympy.Expr) -> sympy.Expr:
        return sympy.simplify(e) if other else e

    prims, scale = [], P
    for fibre in fibres:
        prim, content = _primitive([pre(v / P) for v in fibre], pre)
        prims.append([post(v) for v in prim])
        scale *= content
    scale = sympy.simplify(scale) if other else sympy.factor(sympy.cancel(scale))
    last = [post(pre(scale * v)) for v in prims[-1]]
    factors = (*(tuple(f) for f in prims[:-1]), tuple(last))
    return Separable(factors, scale, tuple(tuple(f) for f in prims), True)


def _check_tol(op: str, tol: Any) -> None:
    if tol is not None and (
        isinstance(tol, bool)
        or not isinstance(tol, numbers.Real)
        or not math.isfinite(tol)
        or not 0 <= tol < 1  # type: ignore[operator]  # numbers.Real's stubs lack __ge__
    ):
        raise SpecError(f"{op}: tol must be a real number with 0 <= tol < 1 (or None), got {tol!r}")
