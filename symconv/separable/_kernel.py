"""The kernel a user passes: validated, exact or floating, and the Separable result."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from .._errors import SpecError

_OP = "separable"


@dataclass(frozen=True)
class Separable:
    r"""A separable kernel: `kernel == outer(*factors)` exactly (floats: to the tolerance).

    `factors[0]` has its first nonzero entry positive; for exact kernels every factor but the
    last is a primitive integer vector when the entries are rational, and the last one carries
    the `scale` (so integer kernels give integer factors). `integer_factors` and `scale` give
    the same with the scale apart: `kernel == scale * outer(*integer_factors)`. For symbolic
    entries "primitive" means with the polynomial content taken out (denominators cleared);
    for entries that are not rational functions the factors are simplified with
    `sympy.simplify`, and `kernel == outer(*factors)` holds as an identity of expressions.
    """

    factors: tuple[Any, ...]
    scale: Any
    integer_factors: tuple[Any, ...]
    exact: bool

    @property
    def dims(self) -> int:
        return len(self.factors)

    def outer(self) -> Any:
        """The kernel rebuilt from the factors (a sympy Array, or a numpy array for floats)."""
        if self.exact:
            out = sympy.Array(list(self.factors[0]))
            for f in self.factors[1:]:
                out = sympy.tensorproduct(out, sympy.Array(list(f)))
            return out.applyfunc(sympy.cancel)
        out = np.asarray(self.factors[0])
        for f in self.factors[1:]:
            out = np.multiply.outer(out, f)
        return out


_MAX_DEPTH = 32  # nesting deeper than this is no kernel (and a self-containing list never ends)
_NON_FINITE = (sympy.nan, sympy.oo, -sympy.oo, sympy.zoo)


@dataclass(frozen=True)
class _Kernel:
    """A checked kernel: a sympy Array (`exact`) or a float64 numpy array whose values came
    from floats of type `dtype` (the least precise one among the entries)."""

    arr: Any
    exact: bool
    dtype: np.dtype | None


def _check_entries(op: str, kernel: Any, floats: set[np.dtype]) -> Any:
    """`kernel` as nested lists of real numbers or sympy expressions, checked before SymPy sees
    it: strings (never sympified), bools, complex numbers, NaN and infinities are refused. The
    float types met (numpy float arrays and scalars; Python floats count as float64) are added
    to `floats`."""

    def bad(what: str, value: Any) -> SpecError:
        return SpecError(
            f"{op}: kernel must be an array of real numbers or sympy expressions ({what}), "
            f"got {value!r}"
        )

    def walk(x: Any, depth: int) -> Any:
        if isinstance(x, sympy.MatrixBase | sympy.NDimArray):
            x = x.tolist()
        elif isinstance(x, np.ndarray):
            if x.dtype.kind not in "biufO":
                raise bad(f"numpy dtype {x.dtype} is not a real number type", kernel)
            if x.dtype.kind == "f":
                floats.add(x.dtype)
            if x.dtype.kind == "b":  # a 0/1 mask (a bool *entry* in a list is refused)
                x = x.astype(np.int64)
            x = x.tolist()  # Python ints: no overflow of uint64 or int64 values
        if isinstance(x, str | bytes):
            raise bad("strings are not parsed", x)
        if isinstance(x, list | tuple):
            if depth >= _MAX_DEPTH:
                raise bad(f"nested more than {_MAX_DEPTH} deep", kernel)
            return [walk(v, depth + 1) for v in x]
        if isinstance(x, bool | np.bool_):
            raise bad("an entry is a bool", x)
        if isinstance(x, sympy.Expr):
            if x.has(*_NON_FINITE):
                raise bad("entries must be finite", x)
            return x
        if isinstance(x, numbers.Real):
            if isinstance(x, float | np.floating):
                if not math.isfinite(x):
                    raise bad("entries must be finite", x)
                floats.add(x.dtype if isinstance(x, np.floating) else np.dtype(np.float64))
            return x
        if isinstance(x, numbers.Complex):
            raise bad("an entry is complex; use sympy.I for exact complex entries", x)
        raise bad(f"an entry is a {type(x).__name__}", x)

    nested = walk(kernel, 0)
    if not isinstance(nested, list):
        raise SpecError(f"{op}: kernel must be an array with at least 2 axes, got {kernel!r}")
    return nested


def _least_precise(dtypes: set[np.dtype]) -> np.dtype:
    return max(dtypes, key=lambda t: (float(np.finfo(t).eps), t.str))


def _as_kernel(kernel: Any, op: str = _OP, axes: str = "at least 2") -> _Kernel:
    """The checked kernel, with `axes` "at least 2" or "2" (exactly). Floats go the float
    way unless mixed with symbols (refused, see `separable`); a sympy expression holding a
    Float counts as a float."""
    if isinstance(kernel, np.ndarray) and kernel.dtype.kind == "c":
        raise SpecError(f"{op}: kernel must be real, got a numpy array of dtype {kernel.dtype}")
    floats: set[np.dtype] = set()
    if isinstance(kernel, np.ndarray) and kernel.dtype.kind == "f":
        arr = np.asarray(kernel, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise SpecError(f"{op}: kernel entries must be finite (no NaN or inf), got {kernel!r}")
        exact, floats = False, {kernel.dtype}
    else:
        nested = _check_entries(op, kernel, floats)
        try:
            arr = sympy.Array(nested)
        except (TypeError, ValueError) as err:
            raise SpecError(f"{op}: kernel must be a rectangular array, got {kernel!r}") from err
        flat = _flat(arr) if arr.shape and 0 not in arr.shape else []
        inexact = symbolic = None
        for v in flat:
            if not isinstance(v, sympy.Basic):
                raise SpecError(f"{op}: kernel entries must be numbers or sympy expressions")
            if v.has(sympy.Float):
                inexact = v if inexact is None else inexact
            if v.free_symbols:
                symbolic = v if symbolic is None else symbolic
        if inexact is not None and symbolic is not None:
            raise SpecError(
                f"{op}: kernel mixes floats ({inexact}) with symbols ({symbolic}); floats are "
                "tested with a tolerance, symbols exactly: convert the floats exactly first "
                "(sympy.Rational(x), its exact binary value, or sympy.nsimplify(x), a simple "
                "nearby number) or substitute numbers for the symbols"
            )
        exact = inexact is None
        if not exact:
            try:
                arr = np.array([float(v) for v in flat], dtype=np.float64).reshape(arr.shape)
            except TypeError as err:
                raise SpecError(
                    f"{op}: kernel entries must be real numbers, got {kernel!r}"
                ) from err
            if not np.isfinite(arr).all():
                raise SpecError(
                    f"{op}: kernel entries must be finite as float64 numbers, got {kernel!r}"
                )
    shape = tuple(arr.shape)
    if axes == "2" and (len(shape) != 2 or 0 in shape):
        raise SpecError(
            f"{op}: kernel must be 2-D with non-empty axes (a matrix: the rank and the "
            "Eckart-Young optimum are those of a matrix; reshape an N-D kernel to one of its "
            f"unfoldings first, e.g. K.reshape(K.shape[0], -1)), got shape {shape}"
        )
    if len(shape) < 2 or 0 in shape:
        raise SpecError(f"{op}: kernel must have at least 2 non-empty axes, got shape {shape}")
    if exact:
        return _Kernel(arr, True, None)
    return _Kernel(arr, False, _least_precise(floats) if floats else np.dtype(np.float64))


def _flat(arr: sympy.Array) -> list[Any]:
    return list(sympy.flatten(arr.tolist()))
