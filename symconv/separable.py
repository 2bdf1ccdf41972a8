r"""Separable kernels: rank-1 detection, factors, low-rank approximation, and the cost saving.

A $d$-dimensional kernel is *separable* when it is an outer product of $d$ vectors,
$K = u \otimes v$ ($K = u v^\top$ in 2D). Convolving with it is then $d$ one-dimensional
convolutions, one per axis: in matrix form the 2D Toeplitz matrix is a Kronecker product,

$$T_{u v^\top} = T_u \otimes T_v = (T_u \otimes I)(I \otimes T_v),$$

so the cost per output drops from $w^d$ to $d\,w$ multiply-adds (and the parameters likewise).

- `separable(kernel)`: exact for integers, rationals and symbols (every $2 \times 2$ minor of
  every unfolding vanishes), SVD with a tolerance for floats; the factors or `None`.
- `low_rank(kernel, r)`: the best rank-$r$ approximation (SVD, Eckart-Young).

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
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from ._errors import SpecError
from .derivation import Derivation, grid_check

__all__ = ["LowRank", "Separable", "low_rank", "separable", "separable_derivation"]

_OP = "separable"


@dataclass(frozen=True)
class Separable:
    r"""A separable kernel: `kernel == outer(*factors)` exactly (floats: to the tolerance).

    `factors[0]` has its first nonzero entry positive; for exact kernels every factor but the
    last is a primitive integer vector when the entries are rational, and the last one carries
    the `scale` (so integer kernels give integer factors). `integer_factors` and `scale` give
    the same with the scale apart: `kernel == scale * outer(*integer_factors)`.
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


def _check_entries(op: str, kernel: Any) -> Any:
    """`kernel` as nested lists of real numbers or sympy expressions, checked before SymPy sees
    it: strings (never sympified), bools, complex numbers, NaN and infinities are refused."""

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
                raise bad(f"numpy dtype {x.dtype} is not numeric", kernel)
            x = x.tolist()
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
            if isinstance(x, float | np.floating) and not math.isfinite(x):
                raise bad("entries must be finite", x)
            return x
        if isinstance(x, numbers.Complex):
            raise bad("an entry is complex; use sympy.I for exact complex entries", x)
        raise bad(f"an entry is a {type(x).__name__}", x)

    nested = walk(kernel, 0)
    if not isinstance(nested, list):
        raise SpecError(f"{op}: kernel must be an array with at least 2 axes, got {kernel!r}")
    return nested


def _as_kernel(kernel: Any, op: str = _OP) -> tuple[Any, bool]:
    """(array, exact): a sympy Array for exact input, a float numpy array otherwise."""
    if isinstance(kernel, np.ndarray) and kernel.dtype.kind == "c":
        raise SpecError(f"{op}: kernel must be real, got a numpy array of dtype {kernel.dtype}")
    if isinstance(kernel, np.ndarray) and kernel.dtype.kind == "f":
        arr = np.asarray(kernel, dtype=np.float64)
        if not np.isfinite(arr).all():
            raise SpecError(f"{op}: kernel entries must be finite (no NaN or inf), got {kernel!r}")
        exact = False
    elif isinstance(kernel, np.ndarray) and kernel.dtype.kind in "iub":
        arr = sympy.Array(kernel.astype(np.int64).tolist())
        exact = True
    else:
        kernel = _check_entries(op, kernel)
        try:
            arr = sympy.Array(kernel)
        except (TypeError, ValueError) as err:
            raise SpecError(f"{op}: kernel must be a rectangular array, got {kernel!r}") from err
        exact = True
        for v in _flat(arr):
            if isinstance(v, float | sympy.Float):
                exact = False
            elif not isinstance(v, sympy.Basic | numbers.Number):
                raise SpecError(f"{op}: kernel entries must be numbers or sympy expressions")
        if not exact:
            arr = np.array(arr.tolist(), dtype=np.float64)
    shape = arr.shape
    if len(shape) < 2 or 0 in shape:
        raise SpecError(f"{op}: kernel must have at least 2 non-empty axes, got shape {shape}")
    return arr, exact


def _flat(arr: sympy.Array) -> list[Any]:
    return list(sympy.flatten(arr.tolist()))


def _unfold(arr: sympy.Array, axis: int) -> sympy.Matrix:
    """Mode-`axis` unfolding: rows indexed by that axis, columns by the others (C order)."""
    shape = arr.shape
    rows = []
    for i in range(shape[axis]):
        rest = [range(n) for ax, n in enumerate(shape) if ax != axis]
        row = []
        for idx in itertools.product(*rest):
            full = (*idx[:axis], i, *idx[axis:])
            row.append(arr[full])
        rows.append(row)
    return sympy.Matrix(rows)


def _rank_one_exact(arr: sympy.Array) -> bool:
    """Every 2x2 minor of every unfolding is zero (rank <= 1 along each mode)."""
    for axis in range(arr.rank()):
        M = _unfold(arr, axis)
        for (i, k), (j, l) in itertools.product(
            itertools.combinations(range(M.rows), 2), itertools.combinations(range(M.cols), 2)
        ):
            if sympy.expand(M[i, j] * M[k, l] - M[i, l] * M[k, j]) != 0:
                return False
    return True


def _primitive(vec: list[Any]) -> tuple[list[Any], Any]:
    """(primitive part, content): integers with gcd 1 for rationals; sympy gcd for symbols."""
    nonzero = [v for v in vec if v != 0]
    content = sympy.gcd_list(nonzero) if len(nonzero) > 1 else nonzero[0]
    prim = [sympy.cancel(v / content) for v in vec]
    lead = next(v for v in prim if v != 0)
    # is_extended_negative, not `< 0`: a non-real number (sympy.I) has no sign to compare
    if lead.is_extended_negative or (not lead.is_number and lead.could_extract_minus_sign()):
        prim, content = [-v for v in prim], -content
    return prim, content


def separable(kernel: Any, *, tol: float | None = None) -> Separable | None:
    r"""Whether `kernel` is separable (rank 1), and its factors; `None` when it is not.

    Args:
        kernel: a sympy Matrix or Array, nested lists (ints, Rationals, symbols, floats) or a
            numpy array, with 2 or more axes.
        tol: floats only: the largest relative singular value (of every unfolding) still
            counted as zero; default $10^{-10}$ for float64 input.

    Exact kernels are decided exactly (all $2 \times 2$ minors of every unfolding expand to
    zero); a zero kernel is separable with zero factors. Float kernels use the SVD of each
    unfolding; the first factor is scaled to have its first significant entry equal to 1.

    ```python
    >>> import sympy
    >>> a, b, c, d = sympy.symbols("a b c d")
    >>> s = separable([[a * c, a * d], [b * c, b * d]])
    >>> [list(f) for f in s.factors]
    [[a, b], [c, d]]
    >>> import numpy as np
    >>> f = separable(np.outer([1.0, 2.0, 1.0], [0.25, 0.5, 0.25]))
    >>> [np.round(v, 6).tolist() for v in f.factors]
    [[1.0, 2.0, 1.0], [0.25, 0.5, 0.25]]

    ```
    """
    arr, exact = _as_kernel(kernel)
    if tol is not None and (
        isinstance(tol, bool)
        or not isinstance(tol, numbers.Real)
        or not math.isfinite(tol)
        or tol < 0
    ):
        raise SpecError(f"{_OP}: tol must be a finite real number >= 0 (or None), got {tol!r}")
    shape = arr.shape
    dims = len(shape)
    if exact:
        if not _rank_one_exact(arr):
            return None
        flat = _flat(arr)
        pivot_flat = next((i for i, v in enumerate(flat) if sympy.expand(v) != 0), None)
        if pivot_flat is None:
            zeros = tuple(tuple(sympy.Integer(0) for _ in range(n)) for n in shape)
            return Separable(zeros, sympy.Integer(0), zeros, True)
        p = np.unravel_index(pivot_flat, shape)
        prims = []
        for axis in range(dims):
            fibre = [arr[(*p[:axis], i, *p[axis + 1 :])] for i in range(shape[axis])]
            prim, _ = _primitive([sympy.expand(v) for v in fibre])
            prims.append(prim)
        denom = sympy.Mul(*(prims[ax][p[ax]] for ax in range(dims)))
        scale = sympy.factor(sympy.cancel(arr[tuple(p)] / denom))
        last = [sympy.cancel(scale * v) for v in prims[-1]]
        factors = (*(tuple(f) for f in prims[:-1]), tuple(last))
        return Separable(factors, scale, tuple(tuple(f) for f in prims), True)
    a = np.asarray(arr, dtype=np.float64)
    tol = 1e-10 if tol is None else float(tol)
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
        lead = v[np.flatnonzero(np.abs(v) > tol * np.max(np.abs(v)))[0]]
        firsts.append(lead)
    prims = [v / lead for v, lead in zip(vecs, firsts, strict=True)]
    prims = [np.where(np.abs(v) > tol * np.max(np.abs(v)), v, 0.0) + 0.0 for v in prims]
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
    r"""Best rank-`r` approximation of a 2D kernel by the SVD, with the Eckart-Young error.

    ```python
    >>> lr = low_rank([[1, 0], [0, 1]], 1)
    >>> round(lr.error, 6), round(lr.spectral_error, 6)
    (1.0, 1.0)

    ```
    """
    arr, _ = _as_kernel(kernel, "low_rank")
    if len(arr.shape) != 2:
        raise SpecError(f"low_rank: kernel must be 2D, got shape {tuple(arr.shape)}")
    if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 1:
        raise SpecError(f"low_rank: rank r must be an integer >= 1, got {r!r}")
    try:
        a = np.array(arr.tolist() if hasattr(arr, "tolist") else arr, dtype=np.float64)
    except TypeError as err:
        raise SpecError("low_rank: kernel must be numeric (no symbols)") from err
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
    from .spec import Conv
    from .toeplitz import toeplitz

    spec = Conv(dims=1, kernel_size=k, padding=(pads,), bias=False)
    base, v = sympy.IndexedBase("w"), sympy.IndexedBase(name)
    return {
        key: val.subs({base[0, 0, a]: v[a] for a in range(k)})
        for key, val in toeplitz(spec, n).todok().items()
    }


def _kron_check(ks: tuple[int, int], ns: tuple[int, int], padding: str) -> float:
    """0 when T(u v^T) == T_u (x) T_v and == the product of the two 1D passes, exactly."""
    from .spec import Conv
    from .toeplitz import sparse_product, toeplitz

    spec = Conv(dims=2, kernel_size=ks, padding=padding, bias=False)
    u, v, w = sympy.IndexedBase("u"), sympy.IndexedBase("v"), sympy.IndexedBase("w")
    sub = {w[0, 0, a, b]: u[a] * v[b] for a in range(ks[0]) for b in range(ks[1])}
    T2 = {key: sympy.expand(val.subs(sub)) for key, val in toeplitz(spec, ns).todok().items()}
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
    dd.step(
        "A separable kernel",
        sympy.Eq(sympy.Indexed("K", a, b), u[a] * v[b]),
        "K = u v^T: rank 1 (every 2x2 minor vanishes)",
    )
    i, j = sympy.symbols("i j", integer=True)
    x = sympy.IndexedBase("x")
    dd.step(
        "The double sum factorises",
        sympy.Eq(
            sympy.Sum(x[i + a, j + b] * u[a] * v[b], (a, 0, w_ - 1), (b, 0, w_ - 1)),
            sympy.Sum(u[a] * sympy.Sum(x[i + a, j + b] * v[b], (b, 0, w_ - 1)), (a, 0, w_ - 1)),
        ),
        "inner sum: a 1D correlation of every row with v; outer: of every column with u",
    )
    dd.step(
        "As matrices",
        sympy.Eq(
            sympy.Symbol(r"T_{u v^{T}}"),
            sympy.Symbol(r"T_u \otimes T_v = (T_u \otimes I_{o_2})(I_{n_1} \otimes T_v)"),
        ),
        "doubly block Toeplitz with Toeplitz blocks that are multiples of one another",
    )
    dd.step(
        "Parameters",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("P_full"), w_**d_), sympy.Eq(sympy.Symbol("P_sep"), d_ * w_)
        ),
        "a w x ... x w kernel against d vectors of length w",
    )
    dd.step(
        "MACs per output",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("M_full"), w_**d_), sympy.Eq(sympy.Symbol("M_sep"), d_ * w_)
        ),
        f"ratio w^(d-1)/d: {sympy.Rational(3**1, 2)}x for 3x3, "
        f"{sympy.Rational(5**2, 3)}x for 5x5x5",
    )
    exact_2d = w_ * (n * o2 + o1 * o2)
    dd.step(
        "Exactly, 2D valid, stride 1 (first pass over the rows, n_1 x o_2 intermediate)",
        sympy.Eq(sympy.Symbol("M_sep"), exact_2d),
        "against w^2 o_1 o_2 for the 2D kernel; o = n - w + 1",
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
        from .spec import Conv

        cases = list(itertools.product(range(1, 6), range(5, 10)))

        def err(c: tuple[int, int]) -> float:
            k, nn = c
            full = Conv(dims=2, kernel_size=k).macs((nn, nn))
            oo = nn - k + 1
            rows = Conv(dims=2, kernel_size=(1, k)).macs((nn, nn))
            colp = Conv(dims=2, kernel_size=(k, 1)).macs((nn, oo))
            want_full = (w_**2 * o1 * o2).subs({w_: k, o1: oo, o2: oo})
            want_sep = exact_2d.subs({w_: k, n: nn, o1: oo, o2: oo})
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
    dd.check("MAC counts against Conv.macs", "exact", macs)
    dd.check("textbook kernels", "exact", textbook)
    return dd
