r"""Separable kernels: rank-1 detection, factors, low-rank approximation, and the cost saving.

A $d$-dimensional kernel is *separable* when it is an outer product of $d$ vectors,
$K = u \otimes v$ ($K = u v^\top$ in 2D). Convolving with it is then $d$ one-dimensional
convolutions, one per axis: in matrix form the 2D Toeplitz matrix is a Kronecker product,

$$T_{u v^\top} = T_u \otimes T_v = (T_u \otimes I)(I \otimes T_v),$$

so the cost per output drops from $w^d$ to $d\,w$ multiply-adds (and the parameters likewise).

- `separable(kernel)`: exact for integers, rationals and polynomial or rational functions of
  symbols; simplification-based for other symbolic entries (trigonometric, radicals, ...);
  the SVD with a tolerance that follows the float type for floats. The factors or `None`.
- `low_rank(kernel, r)`: the best rank-$r$ approximation of a 2-D kernel (SVD, Eckart-Young).

```python
>>> from symconv.separable import separable
>>> sobel = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
>>> [list(f) for f in separable(sobel).factors]
[[1, 2, 1], [1, 0, -1]]
>>> [list(f) for f in separable([[1, 2, 1], [2, 4, 2], [1, 2, 1]]).factors]
[[1, 2, 1], [1, 2, 1]]
>>> separable([[1, 0], [0, 1]]) is None
True

```
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
from sympy.polys.polyerrors import BasePolynomialError

from ._errors import SpecError
from ._subs import at as _at
from ._tolerances import RANK_TOL
from .derivation import Derivation, grid_check
from .spec import Conv
from .toeplitz import sparse_product, toeplitz

__all__ = [
    "RANK_TOL",
    "LowRank",
    "Separable",
    "low_rank",
    "separable",
    "separable_derivation",
]

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


def separable(kernel: Any, *, tol: float | None = None) -> Separable | None:
    r"""Whether `kernel` is separable (rank 1), and its factors; `None` when it is not.

    Args:
        kernel: a sympy Matrix or Array, nested lists (ints, Fractions, Rationals, sympy
            expressions, floats) or a numpy array (integer, float, or object holding those),
            with 2 or more axes. Strings, bools (numpy bool arrays too) and complex floats
            are refused.
        tol: floats only: the largest relative singular value $\sigma_2 / \sigma_1$ (of every
            unfolding) still counted as zero. Default: by the kernel's float type, as
            `numeric.algorithms.rank_one_factors` decides (its `RANK_TOL`, here `RANK_TOL`):
            $10^{-6}$ for float32, $10^{-10}$ for float64 (and any other float type). A numpy
            array has its dtype; for nested lists it is the least precise float among the
            entries (Python floats and sympy Floats are float64, numpy scalars their type).

    **Exact kernels** (no floats) use a pivot $P = K_p \ne 0$ and the fibres $f_a$ through
    it: $K$ is rank 1 iff $K_i P^{d-1} = \prod_a f_a[i_a]$ for every index $i$. How that is
    decided depends on the entries:

    - integers, rationals, and polynomials or rational functions (rational coefficients) of
      symbols or `Indexed` elements: *exactly* (expansion, or the numerator over a common
      denominator, is canonical), without calling the simplifier;
    - anything else (trigonometric or other functions, radicals, $\pi$, `sympy.I`): by
      expansion, then `expand_trig`, `trigsimp` and `simplify`. Zero testing such
      expressions is undecidable in general, so a *returned* result is always right (each
      identity was proved) and the factors are simplified, but `None` may also mean an
      identity SymPy could not prove. Such kernels cost simplifier calls (each can take
      around 0.1 s), linear in the number of entries.

    A zero kernel is separable with zero factors.

    **Float kernels** use the SVD of each unfolding (in float64); the first factor is
    scaled to have its first significant entry equal to 1. Floats are not mixed with
    symbols: such a kernel (`[[a, 2.0], [1, 2]]`, or an entry `0.5*a`) raises `SpecError`
    (convert the floats exactly with `sympy.Rational` or `sympy.nsimplify`, or substitute
    numbers for the symbols). Exact numbers among floats (`sympy.sqrt(2)`) are evaluated.

    ```python
    >>> import sympy
    >>> a, b, c, d = sympy.symbols("a b c d")
    >>> s = separable([[a * c, a * d], [b * c, b * d]])
    >>> [list(f) for f in s.factors]
    [[a, b], [c, d]]
    >>> t = sympy.Symbol("t")
    >>> [list(f) for f in separable([[sympy.sin(t), sympy.cos(t)],
    ...                              [sympy.sin(2 * t), 2 * sympy.cos(t) ** 2]]).factors]
    [[1, 2*cos(t)], [sin(t), cos(t)]]
    >>> import numpy as np
    >>> f = separable(np.outer([1.0, 2.0, 1.0], [0.25, 0.5, 0.25]))
    >>> [np.round(v, 6).tolist() for v in f.factors]
    [[1.0, 2.0, 1.0], [0.25, 0.5, 0.25]]
    >>> g = np.exp(-np.arange(-3, 4) ** 2 / 4.0)
    >>> separable(np.outer(g, g).astype(np.float32)) is not None  # float32: tol 1e-6
    True

    ```
    """
    k = _as_kernel(kernel)
    _check_tol(_OP, tol)
    if k.exact:
        return _separable_exact(k.arr)
    a = k.arr
    shape = a.shape
    dims = len(shape)
    default = RANK_TOL.get(str(k.dtype), RANK_TOL["float64"])
    tol = default if tol is None else float(tol)
    cut = min(tol, default)  # factor entries this small (relative) are rounding: zeroed
    top = float(np.max(np.abs(a)))
    if top == 0.0:
        zeros = tuple(np.zeros(n) for n in shape)
        return Separable(zeros, 0.0, zeros, False)
    vecs = []
    for axis in range(dims):
        M = np.moveaxis(a, axis, 0).reshape(shape[axis], -1)
        U, s, _ = np.linalg.svd(M, full_matrices=False)
        if len(s) > 1 and s[1] > tol * s[0]:
            return None
        vecs.append(U[:, 0])
    core = a
    for v in vecs:
        core = np.tensordot(v, core, axes=(0, 0))  # contracts axis 0 each time
    scale = float(core)
    firsts = []
    for v in vecs:
        lead = v[np.flatnonzero(np.abs(v) > cut * np.max(np.abs(v)))[0]]
        firsts.append(lead)
    prims = [v / lead for v, lead in zip(vecs, firsts, strict=True)]
    prims = [np.where(np.abs(v) > cut * np.max(np.abs(v)), v, 0.0) + 0.0 for v in prims]
    scale *= math.prod(firsts)
    factors = (*prims[:-1], prims[-1] * scale)
    return Separable(tuple(factors), scale, tuple(prims), False)


@dataclass(frozen=True)
class LowRank:
    r"""The best rank-$r$ approximation $K_r = \sum_{i < r} \sigma_i u_i v_i^\top$.

    `us[:, i] * sqrt(sigma_i)` and `vs[:, i] * sqrt(sigma_i)` are the separable pairs;
    `error` is $\|K - K_r\|_F = \sqrt{\sum_{i \ge r} \sigma_i^2}$, `spectral_error`
    $\sigma_r$ (Eckart-Young: no rank-$r$ matrix does better in either norm).
    """

    us: np.ndarray
    vs: np.ndarray
    singular_values: np.ndarray
    rank: int
    error: float
    spectral_error: float

    def matrix(self) -> np.ndarray:
        s = self.singular_values[: self.rank]
        return (self.us * s) @ self.vs.T

    def pairs(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """`(u_i, v_i)` with $K_r = \\sum_i u_i v_i^\\top$ (weights split evenly)."""
        root = np.sqrt(self.singular_values[: self.rank])
        return [(self.us[:, i] * root[i], self.vs[:, i] * root[i]) for i in range(self.rank)]


def low_rank(kernel: Any, r: int) -> LowRank:
    r"""Best rank-`r` approximation of a **2-D** kernel (a matrix) by the SVD, with the
    Eckart-Young error.

    Only matrices: "rank $r$" and the Eckart-Young optimum are defined for them, and an
    N-D kernel has several unfoldings to choose from; reshape one first (for example
    `K.reshape(K.shape[0], -1)`, a sum of $r$ products of a vector along axis 0 and an
    $(N-1)$-D kernel) and reshape the result back. Entries must be real numbers (ints,
    rationals, floats, or sympy numbers; no symbols). `r` larger than the smaller side is
    clamped to it (`rank` says which was used); the SVD runs in float64.

    ```python
    >>> lr = low_rank([[1, 0], [0, 1]], 1)
    >>> round(lr.error, 6), round(lr.spectral_error, 6)
    (1.0, 1.0)

    ```
    """
    k = _as_kernel(kernel, "low_rank", axes="2")
    if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 1:
        raise SpecError(f"low_rank: rank r must be an integer >= 1, got {r!r}")
    if k.exact:
        flat = _flat(k.arr)
        if any(v.free_symbols for v in flat):
            raise SpecError(f"low_rank: kernel must be numeric (no symbols), got {kernel!r}")
        try:
            a = np.array([float(v) for v in flat], dtype=np.float64).reshape(k.arr.shape)
        except TypeError as err:
            raise SpecError(f"low_rank: kernel entries must be real, got {kernel!r}") from err
        if not np.isfinite(a).all():
            raise SpecError(f"low_rank: kernel entries must be finite as float64, got {kernel!r}")
    else:
        a = k.arr
    U, s, Vt = np.linalg.svd(a, full_matrices=False)
    r = min(int(r), len(s))
    rest = s[r:]
    return LowRank(
        U[:, :r],
        Vt[:r].T,
        s,
        r,
        float(np.sqrt(np.sum(rest**2))),
        float(rest[0]) if len(rest) else 0.0,
    )


# -- derivation ------------------------------------------------------------------------------
def _toeplitz_1d(k: int, n: int, pads: tuple[int, int], name: str) -> dict[tuple[int, int], Any]:
    spec = Conv(dims=1, kernel_size=k, padding=(pads,), bias=False)
    base, v = sympy.IndexedBase("w"), sympy.IndexedBase(name)
    return {
        key: _at(val, {base[0, 0, a]: v[a] for a in range(k)})
        for key, val in toeplitz(spec, n).todok().items()
    }


def _kron_check(ks: tuple[int, int], ns: tuple[int, int], padding: str) -> float:
    """0 when T(u v^T) == T_u (x) T_v and == the product of the two 1D passes, exactly."""
    spec = Conv(dims=2, kernel_size=ks, padding=padding, bias=False)
    u, v, w = sympy.IndexedBase("u"), sympy.IndexedBase("v"), sympy.IndexedBase("w")
    sub = {w[0, 0, a, b]: u[a] * v[b] for a in range(ks[0]) for b in range(ks[1])}
    T2 = {key: sympy.expand(_at(val, sub)) for key, val in toeplitz(spec, ns).todok().items()}
    o = spec.output_size(ns)
    Tu = _toeplitz_1d(ks[0], ns[0], spec.pads[0], "u")
    Tv = _toeplitz_1d(ks[1], ns[1], spec.pads[1], "v")
    kron = {
        (r1 * o[1] + r2, c1 * ns[1] + c2): sympy.expand(a * b)
        for (r1, c1), a in Tu.items()
        for (r2, c2), b in Tv.items()
    }
    # two passes: rows with v (I_{n1} (x) T_v), then columns with u (T_u (x) I_{o2})
    rows = {(i * o[1] + r, i * ns[1] + c): val for (r, c), val in Tv.items() for i in range(ns[0])}
    cols = {(r * o[1] + j, c * o[1] + j): val for (r, c), val in Tu.items() for j in range(o[1])}
    two = {key: sympy.expand(val) for key, val in sparse_product(cols, rows).items()}
    return float(T2 != kron or T2 != two)


def _layer_steps(dd: Derivation, spec: Any, input_size: Any) -> None:
    """The counts at one layer's kernel (w on every axis, stride 1, no padding, dilation 1):
    parameters per channel pair and, with an input size, the multiply-adds of the d passes
    (each pass narrows one axis) against the full kernel's, both from `Conv`."""
    from .spec import Conv

    if not isinstance(spec, Conv) or type(spec) is not Conv:
        raise SpecError(f"derive separable: expected a convolution, got {type(spec).__name__}")
    w, dims = spec.kernel_size[0], spec.dims
    why = "the separable passes are stride-1, undilated valid convolutions"
    for name, value, plain in (
        ("kernel", spec.kernel_size, (w,) * dims),
        ("stride", spec.stride, (1,) * dims),
        ("dilation", spec.dilation, (1,) * dims),
        ("padding", spec.pads, ((0, 0),) * dims),
    ):
        if tuple(value) != plain:
            raise SpecError(
                f"derive separable: --{name} {value} does not apply: {why}, with one kernel "
                f"length w on every axis"
            )
    size = None if input_size is None else spec._check_input(input_size)

    def passes(n: tuple[int, ...]) -> tuple[int, int]:
        """Multiply-adds of the full kernel and of the d one-axis passes (1 x 1 channels)."""
        full = Conv(dims=dims, kernel_size=w, bias=False).macs(n)
        total, cur = 0, list(n)
        for a in reversed(range(dims)):  # the last axis first: n_1 x o_2 between, in 2-d
            axis = tuple(w if b == a else 1 for b in range(dims))
            total += Conv(dims=dims, kernel_size=axis, bias=False).macs(tuple(cur))
            cur[a] = cur[a] - w + 1
        return full, total

    ratio = sympy.Rational(w**dims, dims * w)
    dd.add_step(
        f"This layer: w = {w}, d = {dims}",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("P_full"), w**dims), sympy.Eq(sympy.Symbol("P_sep"), dims * w)
        ),
        f"weights per (input, output) channel pair; {ratio} times fewer",
        by="this layer's counts",
    )
    if size is not None:
        full, sep = passes(size)
        dd.add_step(
            f"This layer on {'x'.join(map(str, size))}",
            sympy.Tuple(
                sympy.Eq(sympy.Symbol("M_full"), full), sympy.Eq(sympy.Symbol("M_sep"), sep)
            ),
            "multiply-adds per channel pair: the full kernel, and the d passes one after another",
            by="this layer's counts",
        )

    def counts() -> tuple[int, float, bool, str]:
        full = Conv(dims=dims, kernel_size=w, bias=False).num_parameters()
        one_d = dims * Conv(dims=1, kernel_size=w, bias=False).num_parameters()
        ok = full == w**dims and one_d == dims * w
        if size is not None and dims == 2:  # the symbolic 2-d count of the steps above
            o1, o2 = size[0] - w + 1, size[1] - w + 1
            ok = ok and passes(size)[1] == w * (size[0] * o2 + o1 * o2)
        return 1, 0.0 if ok else 1.0, ok, "Conv.num_parameters and Conv.macs"

    dd.check("this layer's counts against Conv.num_parameters and Conv.macs", "exact", counts)


def separable_derivation(spec: Any = None, input_size: Any = None) -> Derivation:
    r"""Separable convolution: $T_{u v^\top} = T_u \otimes T_v$, and the cost $w^d$ vs $d\,w$.

    Checks: the Kronecker identity and the two-pass product exactly for symbolic $u$, $v$
    ('valid' and 'same' zero padding, kernels up to 3x3, inputs up to 5x5); the MAC count
    formula against `Conv.macs` on a grid; `separable` on textbook kernels.
    """
    w_, d_ = sympy.symbols("w d", integer=True, positive=True)
    n, o1, o2 = sympy.symbols("n o_1 o_2", integer=True, positive=True)
    dd = Derivation("Separable kernels: d one-dimensional convolutions")
    u, v = sympy.IndexedBase("u"), sympy.IndexedBase("v")
    a, b = sympy.symbols("a b", integer=True)
    dd.add_step(
        "A separable kernel",
        sympy.Eq(sympy.Indexed("K", a, b), u[a] * v[b]),
        "K = u v^T: rank 1 (every 2x2 minor vanishes)",
        definition=True,
    )
    i, j = sympy.symbols("i j", integer=True)
    x = sympy.IndexedBase("x")
    dd.add_step(
        "The double sum factorises",
        sympy.Eq(
            sympy.Sum(x[i + a, j + b] * u[a] * v[b], (a, 0, w_ - 1), (b, 0, w_ - 1)),
            sympy.Sum(u[a] * sympy.Sum(x[i + a, j + b] * v[b], (b, 0, w_ - 1)), (a, 0, w_ - 1)),
        ),
        "inner sum: a 1D correlation of every row with v; outer: of every column with u",
        by="T(u v^T) = T_u (x) T_v",
    )
    dd.add_step(
        "As matrices",
        sympy.Eq(
            sympy.Symbol(r"T_{u v^{T}}"),
            sympy.Symbol(r"T_u \otimes T_v = (T_u \otimes I_{o_2})(I_{n_1} \otimes T_v)"),
        ),
        "doubly block Toeplitz with Toeplitz blocks that are multiples of one another",
        by="T(u v^T) = T_u (x) T_v",
    )
    dd.add_step(
        "Parameters",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("P_full"), w_**d_), sympy.Eq(sympy.Symbol("P_sep"), d_ * w_)
        ),
        "a w x ... x w kernel against d vectors of length w",
        by="parameter counts against Conv.num_parameters",
    )
    dd.add_step(
        "MACs per output",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("M_full"), w_**d_), sympy.Eq(sympy.Symbol("M_sep"), d_ * w_)
        ),
        f"ratio w^(d-1)/d: {sympy.Rational(3**1, 2)}x for 3x3, "
        f"{sympy.Rational(5**2, 3)}x for 5x5x5",
        by="MAC counts against Conv.macs",
    )
    exact_2d = w_ * (n * o2 + o1 * o2)
    dd.add_step(
        "Exactly, 2D valid, stride 1 (first pass over the rows, n_1 x o_2 intermediate)",
        sympy.Eq(sympy.Symbol("M_sep"), exact_2d),
        "against w^2 o_1 o_2 for the 2D kernel; o = n - w + 1",
        by="MAC counts against Conv.macs",
    )
    dd.results.update(params=(w_**d_, d_ * w_), macs_2d=(w_**2 * o1 * o2, exact_2d))

    def kron() -> tuple[int, float, bool, str]:
        cases = [
            (ks, ns, pad)
            for ks in ((1, 2), (2, 2), (2, 3), (3, 3))
            for ns in ((3, 4), (4, 4), (5, 5))
            for pad in ("valid", "same")
        ]
        return grid_check(cases, lambda c: _kron_check(*c))

    def macs() -> tuple[int, float, bool, str]:
        cases = list(itertools.product(range(1, 6), range(5, 10)))

        def err(c: tuple[int, int]) -> float:
            k, nn = c
            full = Conv(dims=2, kernel_size=k).macs((nn, nn))
            oo = nn - k + 1
            rows = Conv(dims=2, kernel_size=(1, k)).macs((nn, nn))
            colp = Conv(dims=2, kernel_size=(k, 1)).macs((nn, oo))
            want_full = _at(w_**2 * o1 * o2, {w_: k, o1: oo, o2: oo})
            want_sep = _at(exact_2d, {w_: k, n: nn, o1: oo, o2: oo})
            return float(full != want_full or rows + colp != want_sep)

        return grid_check(cases, err)

    def textbook() -> tuple[int, float, bool, str]:
        sob = separable([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
        gauss = separable([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
        ok = (
            sob is not None
            and [list(f) for f in sob.factors] == [[1, 2, 1], [1, 0, -1]]
            and gauss is not None
            and [list(f) for f in gauss.factors] == [[1, 2, 1], [1, 2, 1]]
            and separable([[0, 1, 0], [1, -4, 1], [0, 1, 0]]) is None  # the Laplacian: rank 2
        )
        return 3, 0.0 if ok else 1.0, ok, "Sobel, binomial 3x3, Laplacian (not separable)"

    dd.check("T(u v^T) = T_u (x) T_v = two 1D passes (valid, same)", "exact", kron)

    def params() -> tuple[int, float, bool, str]:
        from .spec import Conv

        cases = list(itertools.product(range(1, 4), range(1, 6)))

        def err(c: tuple[int, int]) -> float:
            dims, k = c
            full = Conv(dims=dims, kernel_size=k, bias=False).num_parameters()
            passes = sum(
                Conv(
                    dims=dims,
                    kernel_size=tuple(k if ax == a else 1 for ax in range(dims)),
                    bias=False,
                ).num_parameters()
                for a in range(dims)
            )
            return float(full != k**dims or passes != dims * k)

        return grid_check(cases, err)

    if spec is not None:
        _layer_steps(dd, spec, input_size)
    dd.check("parameter counts against Conv.num_parameters, d < 4, w < 6", "exact", params)
    dd.check("MAC counts against Conv.macs", "exact", macs)
    dd.check("textbook kernels", "exact", textbook)
    return dd
