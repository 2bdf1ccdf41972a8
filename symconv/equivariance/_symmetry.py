r"""Rotations by 90 degrees and flips: the condition on the weights, on integer tables.

$T P_g = P_g T$ entry by entry is a linear system in the weight symbols; its solution is the
kernel's own symmetry under $g$ (`_kernel_symmetry`), which the checks confirm on a grid.
The transformation moves no channel, so every channel pair has the same taps: the entries of
$T P - P T$ are one pair's integer forms (`_spatial_forms`, from `gather()`), solved with
`linsolve` for one pair and repeated (`_solved_condition`). Private: used by
`symconv.equivariance`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, overload

import numpy as np
import sympy

from .._results import Outcome
from .._torch_trials import Sampler
from ..indexform import index_form
from ..spec import Conv, Pool
from ._core import (
    Equivariance,
    _full_map,
    _kind,
    _moved,
    _rows,
    _spatial,
    _spatial_map,
)


def _image(transform: str, a: tuple[int, ...], kernel: tuple[int, ...]) -> tuple[int, ...]:
    """Where the kernel symmetry sends tap `a`: w[a] = w[image(a)]."""
    if transform == "rot90":
        return (a[1], kernel[0] - 1 - a[0])
    if transform == "flip_h":
        return (*a[:-1], kernel[-1] - 1 - a[-1])
    return (kernel[0] - 1 - a[0], a[1])


def _kernel_symmetry(spec: Conv, transform: str) -> list[sympy.Eq]:
    w = sympy.IndexedBase("w")
    out = []
    for k, c, *a in np.ndindex(*spec.weight_shape):
        b = _image(transform, tuple(a), spec.kernel_size)
        if tuple(b) != tuple(a):
            out.append(sympy.Eq(w[(k, c, *a)], w[(k, c, *b)]))
    return out


def _weight_symbols(spec: Conv) -> list[sympy.Indexed]:
    return list(_symbols_of(spec.weight_shape))


@functools.lru_cache(maxsize=32)
def _symbols_of(shape: tuple[int, ...]) -> tuple[sympy.Indexed, ...]:
    w = sympy.IndexedBase("w")
    return tuple(w[idx] for idx in np.ndindex(*shape))


def _solve(eqs: Sequence[Any], syms: list[sympy.Indexed]) -> tuple[Any, ...]:
    """The solution of a linear system in the weights, one expression per symbol."""
    eqs = [e.lhs - e.rhs if isinstance(e, sympy.Eq) else e for e in eqs]
    if not eqs:
        return tuple(syms)
    (sol,) = sympy.linsolve(eqs, syms)
    return tuple(sol)


# -- the same condition on integer tables (the verification grid) ------------------------------
# Entry (o, c) of T P - P T is a linear form in the weights with integer coefficients: the
# count of taps of weight w reading x[c] in row o of T P, minus that in row o of P T. The
# condition's solutions are the null space of those forms; the kernel's symmetry is the space
# of kernels constant on the orbits of `_image`. Equal spaces, checked exactly: every orbit's
# indicator solves every form, and the forms' rank is (weights - orbits).
def _unique_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(table, axis=0, return_inverse=True)`, through a hash of each row (exact: the
    rows are compared with their representative's, and numpy's own way is taken on a clash)."""
    if not len(table):
        return table, np.zeros(0, dtype=np.int64)
    mix = np.random.default_rng(0).integers(1, 2**62, size=table.shape[1], dtype=np.int64)
    _, first, inverse = np.unique(table @ mix, return_index=True, return_inverse=True)
    reps, inverse = table[first], inverse.ravel()
    if not np.array_equal(reps[inverse], table):
        rows, inv = np.unique(table, axis=0, return_inverse=True)
        return rows, inv.ravel()
    order = np.lexsort(reps.T[::-1])  # rows in lexicographic order, as np.unique gives them
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return reps[order], rank[inverse]


def _equation_matrix(spec: Conv, sizes: tuple[int, ...], transform: str) -> np.ndarray:
    """The distinct nonzero rows of T P - P T as integer forms over the flat weights, from the
    index form's taps (`gather()`): `(equations, weights)` int64."""
    form = index_form(spec, sizes)
    g = form.gather()
    pi_in = _full_map(_spatial_map(transform, sizes, (), False), form.in_shape()[0])
    out_shape = form.out_shape()
    pi_out = _full_map(_spatial_map(transform, out_shape[1:], (), False), out_shape[0])
    n_out, n_in, n_w = math.prod(out_shape), math.prod(form.in_shape()), math.prod(g.weight_shape)
    # row o of P T is row pi_out(o) of T: T's tap in row r lands in row pi_out^{-1}(r)
    inverse = np.full(n_out, -1, dtype=np.int64)
    ok = pi_out >= 0
    inverse[pi_out[ok]] = np.arange(n_out)[ok]
    cols = pi_in[g.cols]  # row o of T P reads x[pi_in(j)] with T[o, j]
    keep = cols >= 0
    rows_pt = inverse[g.rows]
    keep_pt = rows_pt >= 0
    keys = np.concatenate(  # (row, col, weight) of each tap, T P's with +1, P T's with -1
        [
            (g.rows[keep] * n_in + cols[keep]) * n_w + g.weights[keep],
            (rows_pt[keep_pt] * n_in + g.cols[keep_pt]) * n_w + g.weights[keep_pt],
        ]
    )
    sign = np.concatenate([np.ones(keep.sum(), np.int64), -np.ones(keep_pt.sum(), np.int64)])
    uniq, inv = np.unique(keys, return_inverse=True)
    count = np.bincount(inv.ravel(), weights=sign, minlength=len(uniq)).astype(np.int64)
    uniq, count = uniq[count != 0], count[count != 0]
    entry, row = np.unique(uniq // n_w, return_inverse=True)  # the nonzero entries (o, c)
    if not len(entry):
        return np.zeros((0, n_w), dtype=np.int64)
    return _unique_sparse_rows(row.ravel(), uniq % n_w, count, len(entry), n_w)[0]


def _orbits(spec: Conv, transform: str) -> np.ndarray:
    """The kernel symmetry's orbit of every flat weight index (a label per weight)."""
    shape = spec.weight_shape
    label = np.arange(math.prod(shape))
    for _ in range(4):  # union along w[a] = w[image(a)]; orbits have at most 4 elements
        for flat, (k, c, *a) in enumerate(np.ndindex(*shape)):
            b = np.ravel_multi_index((k, c, *_image(transform, tuple(a), spec.kernel_size)), shape)
            low = min(label[flat], label[b])
            label[flat] = label[b] = low
    return label


def _rank(rows: np.ndarray) -> int:
    """The exact rank of an integer matrix (fraction-free elimination on Python ints)."""
    m = [[int(v) for v in r] for r in rows]
    rank, n_cols = 0, (len(m[0]) if m else 0)
    for col in range(n_cols):
        pivot = next((r for r in range(rank, len(m)) if m[r][col]), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        p = m[rank]
        for r in range(rank + 1, len(m)):
            f = m[r][col]
            if f:
                m[r] = [p[col] * x - f * y for x, y in zip(m[r], p, strict=True)]
        rank += 1
    return rank


def _condition_is_symmetry(spec: Conv, sizes: tuple[int, ...], transform: str) -> str:
    """'' when the solutions of T P = P T (integer forms) are exactly the kernels with the
    transform's symmetry; else what differs."""
    eqs = _equation_matrix(spec, sizes, transform)
    label = _orbits(spec, transform)
    orbits = np.unique(label)
    indicator = (label[:, None] == orbits[None, :]).astype(np.int64)  # (weights, orbits)
    unsolved = np.nonzero(np.any(eqs @ indicator != 0, axis=0))[0]
    if len(unsolved):
        return f"a kernel with the {transform} symmetry breaks T P = P T (orbit {unsolved[0]})"
    rank, want = _rank(eqs), len(label) - len(orbits)
    if rank != want:
        return f"{len(label) - rank} free weights, the {transform} symmetry leaves {len(orbits)}"
    return ""


def _terms(expr: Any) -> list[tuple[Any, Any]]:
    """A linear form's `(symbol, coefficient)` pairs (none for 0; a constant keyed by 1)."""
    if isinstance(expr, sympy.Indexed):
        return [(expr, sympy.Integer(1))]
    return [(s, v) for s, v in expr.as_coefficients_dict().items() if v != 0]


def _solved_form(cond: Sequence[sympy.Eq]) -> bool:
    """Whether `cond` is in solved form: every left side a distinct symbol that no right side
    uses (as `linsolve` returns a solution)."""
    pivots = {e.lhs for e in cond}
    return len(pivots) == len(cond) and not any(
        pivots.intersection(dict(_terms(e.rhs))) for e in cond
    )


def _condition_matches_symmetry(cond: Sequence[sympy.Eq], spec: Conv, transform: str) -> str:
    """'' when the solutions of `cond` are exactly the kernels constant on the orbits of the
    transform's kernel symmetry (`_orbits`), checked exactly on integer forms: `cond` in
    solved form has rank `len(cond)`; every orbit's indicator solves it and its rank is
    (weights - orbits). Else what differs.

    A `SolvedCondition` (one pair's equations, repeated) is checked on channel pair (0, 0):
    the symmetry moves taps within a pair (`_image`), so every pair's orbits are pair
    (0, 0)'s, and its equations are pair (0, 0)'s on that pair's weights."""
    if isinstance(cond, SolvedCondition):
        one = spec.replace(in_channels=1, out_channels=1, groups=1)
        return _condition_matches_symmetry(cond.first_pair, one, transform)
    syms = _weight_symbols(spec)
    index = {s: i for i, s in enumerate(syms)}
    if not _solved_form(cond):
        return "the condition is not in solved form"
    label = _orbits(spec, transform)
    orbits, inverse = np.unique(label, return_inverse=True)
    if len(syms) - len(cond) != len(orbits):
        return (
            f"{len(syms) - len(cond)} free weights, the {transform} symmetry leaves {len(orbits)}"
        )
    if any(e.lhs not in index for e in cond):
        return "the condition solves for something other than a weight"
    orbit_of = inverse.ravel().tolist()
    for e in cond:  # lhs - rhs, rational coefficients, on each orbit's indicator
        per_orbit: dict[int, Any] = {orbit_of[index[e.lhs]]: 1}
        for s, v in _terms(e.rhs):
            if s not in index:
                return f"{e} is not linear in the weights"
            o = orbit_of[index[s]]
            per_orbit[o] = per_orbit.get(o, 0) - v
        if any(v != 0 for v in per_orbit.values()):
            return f"a kernel with the {transform} symmetry breaks {e}"
    return ""


def _symmetric_setup(spec: Conv | Pool, sizes: tuple[int, ...], transform: str) -> bool:
    """Whether the transformation maps the padded grid and the windows onto themselves."""
    axes = [0, 1] if transform == "rot90" else ([spec.dims - 1] if transform == "flip_h" else [0])
    fit = spec.fits(sizes).unused
    for a in axes:
        k, _, dil, lo, hi = spec._axis(a)
        if lo != hi or fit[a] or sizes[a] < dil * (k - 1) + 1:
            return False
    if transform == "rot90":
        return spec._axis(0) == spec._axis(1)
    return True


def _spatial_forms(
    spec: Conv, sizes: tuple[int, ...], transform: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""$T P - P T$ of one channel pair, on integer tables: `(pq, forms, which)`.

    A convolution's taps are the same for every channel pair `(k, c)` (the transformation moves
    no channel), so entry `((k, p), (c, q))` of $T P - P T$ is $\sum_a D[p, q, a]\, w[k, c, a]$
    with one integer table $D$, from the 1-in 1-out layer's `gather()`. `pq` holds the flat
    `p * n_in + q` of every nonzero entry, `forms` the distinct nonzero rows $D[p, q, :]$ and
    `which` the form of each entry of `pq`."""
    one = spec.replace(in_channels=1, out_channels=1, groups=1)
    form = index_form(one, sizes)
    g = form.gather()
    out_sp = form.out_shape()[1:]
    n_out, n_in, n_a = math.prod(out_sp), math.prod(sizes), math.prod(g.weight_shape)
    pi_in = _spatial_map(transform, sizes, (), False)
    pi_out = _spatial_map(transform, out_sp, (), False)
    inverse = np.full(n_out, -1, dtype=np.int64)  # row o of P T is row pi_out(o) of T
    ok = pi_out >= 0
    inverse[pi_out[ok]] = np.arange(n_out)[ok]
    cols_tp = pi_in[g.cols]  # row o of T P reads x[pi_in(j)] with T[o, j]
    rows_pt = inverse[g.rows]
    keep_tp, keep_pt = cols_tp >= 0, rows_pt >= 0
    keys = np.concatenate(
        [
            (g.rows[keep_tp] * n_in + cols_tp[keep_tp]) * n_a + g.weights[keep_tp],
            (rows_pt[keep_pt] * n_in + g.cols[keep_pt]) * n_a + g.weights[keep_pt],
        ]
    )
    sign = np.concatenate([np.ones(keep_tp.sum(), np.int64), -np.ones(keep_pt.sum(), np.int64)])
    uniq, inv = np.unique(keys, return_inverse=True)
    count = np.bincount(inv.ravel(), weights=sign, minlength=len(uniq)).astype(np.int64)
    uniq, count = uniq[count != 0], count[count != 0]
    pq, entry = np.unique(uniq // n_a, return_inverse=True)
    if not len(pq):
        return pq, np.zeros((0, n_a), dtype=np.int64), np.zeros(0, dtype=np.int64)
    forms, which = _unique_sparse_rows(entry.ravel(), uniq % n_a, count, len(pq), n_a)
    return pq, forms, which


def _unique_sparse_rows(
    row: np.ndarray,
    col: np.ndarray,
    val: np.ndarray,
    n_rows: int,
    n_cols: int,
    mix: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`_unique_rows` of the matrix with entries `val` at `(row, col)` (sorted by row), without
    building it: a hash of each row from its entries, the distinct rows built from one
    representative each, and every entry compared with its representative's (exact; the
    dense way is taken on a clash). The entries of T P - P T of a 64 x 64 layer with an
    11 x 11 kernel: half a million rows of 121 weights, a few hundred distinct. `mix`: the
    hash's multipliers (the tests force a clash with zeros)."""
    if mix is None:
        mix = np.random.default_rng(0).integers(1, 2**62, size=n_cols, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    with np.errstate(over="ignore"):  # int64 wraps: a hash, checked below
        h = np.add.reduceat(val * mix[col], starts)
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    reps = np.zeros((len(first), n_cols), dtype=np.int64)
    nnz = np.diff(np.r_[starts, len(row)])
    for r, f in enumerate(first):  # the representatives' entries
        span = slice(starts[f], starts[f] + nnz[f])
        reps[r, col[span]] = val[span]
    same = np.array_equal(reps[inverse[row], col], val) and np.array_equal(
        np.count_nonzero(reps, axis=1)[inverse], nnz
    )
    if not same:  # a hash clash: the dense way
        table = np.zeros((n_rows, n_cols), dtype=np.int64)
        table[row, col] = val
        return _unique_rows(table)
    order = np.lexsort(reps.T[::-1])  # rows in lexicographic order, as np.unique gives them
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return reps[order], rank[inverse]


def _scaled(values: list[Any]) -> np.ndarray:
    """Rational weights times their common denominator: int64 where it fits, else Python ints."""
    fr = [Fraction(int(v.p), int(v.q)) for v in (sympy.Rational(e) for e in values)]
    den = math.lcm(*(f.denominator for f in fr)) if fr else 1
    ints = [int(f * den) for f in fr]
    if max((abs(v) for v in ints), default=0) < 2**40:
        return np.array(ints, dtype=np.int64)
    return np.array(ints, dtype=object)


def _symmetry_core(
    spec: Conv | Pool, sizes: tuple[int, ...], transform: str, subs: dict | None
) -> dict[str, Any]:
    if isinstance(spec, Pool):
        return _pool_symmetry_core(spec, sizes, transform)
    pq, forms, which = _spatial_forms(spec, sizes, transform)
    n_k, n_c = spec.weight_shape[:2]
    n_a = math.prod(spec.kernel_size)
    n_in = math.prod(sizes)
    out_sp = spec.output_size(sizes)
    n_out = math.prod(out_sp)
    p_of = pq // n_in
    if subs is None:
        bad = sorted({int(k * n_out + p) for k in range(n_k) for p in np.unique(p_of)})
    else:  # form f breaks channel k when some input channel c has f . w[k, c, :] != 0
        vals = [subs[s] for s in _symbols_of(spec.weight_shape)]
        wk = _scaled(vals).reshape(n_k, n_c, n_a)
        hit = np.any(np.matmul(wk, forms.T.astype(wk.dtype)) != 0, axis=1)  # (k, form)
        bad = sorted({int(k * n_out + p) for k, f in np.argwhere(hit) for p in p_of[which == f]})
    condition = _solved_condition(spec, forms)
    return {
        "out_shape": (n_k, *out_sp),
        "broken_flat": bad,
        "broken": _spatial(bad, (n_k, *out_sp)),
        "equations": len(forms) * n_k * n_c,
        "forms": forms,
        "condition": condition,
    }


def _solved_condition(spec: Conv, forms: np.ndarray) -> SolvedCondition:
    """`linsolve` of the forms for one channel pair, repeated over every pair `(k, c)`: the
    system is block-diagonal in the pairs, so this is the solution of the whole system in the
    weight order `w[k, c, a]` (pivots first, the free weights last)."""
    w = sympy.IndexedBase("w")
    taps = list(np.ndindex(*spec.kernel_size))
    one = [w[(0, 0, *a)] for a in taps]
    eqs = [sum(int(f) * s for f, s in zip(row, one, strict=True) if f) for row in forms.tolist()]
    sol = _solve(eqs, one)
    pairs = [(s, v) for s, v in zip(one, sol, strict=True) if v != s]
    at = {s: j for j, s in enumerate(one)}  # each solved weight's form, as (tap, coefficient)
    pairs_terms = []
    for s, v in pairs:
        terms = _terms(v)
        pairs_terms.append((at[s], sorted((at[t], coef) for t, coef in terms)))
    return SolvedCondition(spec, [sympy.Eq(s, v) for s, v in pairs], pairs_terms)


class SolvedCondition(Sequence[Any]):
    """The solved condition on the weights: channel pair (0, 0)'s equations `w = form`, then
    the same forms for every other pair `(k, c)` in weight order, `Eq(..., evaluate=False)`.

    A sequence of `sympy.Eq` whose equations are built when read: a 64 x 64 layer with
    16 -> 16 channels and an 11 x 11 kernel has 27 k of them over 31 k weight symbols, about
    0.5 s of SymPy objects that the derivation shows one pair of. `sampler()` gives the same
    condition as coefficient tables without building them. Equal to the list of its equations.
    """

    def __init__(
        self, spec: Conv, first: list[Any], terms: list[tuple[int, list[tuple[int, Any]]]]
    ) -> None:
        self._spec, self._first, self._terms = spec, first, terms
        self._taps = list(np.ndindex(*spec.kernel_size))
        self._pairs = math.prod(spec.weight_shape[:2])

    def __len__(self) -> int:
        return self._pairs * len(self._first)

    @property
    def first_pair(self) -> list[Any]:
        """Channel pair (0, 0)'s equations (every other pair's are these on its weights)."""
        return list(self._first)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        if not -n <= index < n:
            raise IndexError(index)
        block, row = divmod(index % n, len(self._first))
        if block == 0:
            return self._first[row]
        k, c = divmod(block, self._spec.weight_shape[1])
        w = sympy.IndexedBase("w")
        i, terms = self._terms[row]
        rhs = [
            coef * w[(k, c, *self._taps[j])] if coef != 1 else w[(k, c, *self._taps[j])]
            for j, coef in terms
        ]
        value = sympy.Add(*rhs) if len(rhs) != 1 else rhs[0]
        return sympy.Eq(w[(k, c, *self._taps[i])], value, evaluate=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # a mutable sequence's equality: unhashable

    def __repr__(self) -> str:
        return repr(list(self))

    def sampler(self) -> Sampler:
        """The condition's solutions as coefficient tables (`Sampler`): every pair's pivots
        from its own free weights by the pair's forms, a free weight from itself."""
        n_a = len(self._taps)
        pivots = {i for i, _ in self._terms}
        rows = [i for i, terms in self._terms for _ in terms]
        rows += [j for j in range(n_a) if j not in pivots]
        cols = [j for _, terms in self._terms for j, _ in terms]
        cols += [j for j in range(n_a) if j not in pivots]
        vals = [float(coef) for _, terms in self._terms for _, coef in terms]
        vals += [1.0] * (n_a - len(pivots))
        offset = (np.arange(self._pairs, dtype=np.int64) * n_a)[:, None]
        r = (offset + np.array(rows, dtype=np.int64)[None, :]).ravel()
        c = (offset + np.array(cols, dtype=np.int64)[None, :]).ravel()
        v = np.tile(np.array(vals), self._pairs)
        return Sampler(r, c, v, self._pairs * n_a)


def _pool_symmetry_core(spec: Pool, sizes: tuple[int, ...], transform: str) -> dict[str, Any]:
    rows, in_shape, out_shape = _rows(spec, sizes, None)
    is_max = _kind(spec) == "max"
    pi_in = _full_map(_spatial_map(transform, sizes, (), False), in_shape[0])
    pi_out = _full_map(_spatial_map(transform, out_shape[1:], (), False), out_shape[0])
    bad = []
    for o in range(math.prod(out_shape)):
        if _moved(rows.get(o, {}), pi_in, is_max) != rows.get(int(pi_out[o]), {}):
            bad.append(o)
    return {
        "out_shape": out_shape,
        "broken_flat": bad,
        "broken": _spatial(bad, out_shape),
        "equations": 0,
        "condition": [],
    }


def _symmetry(
    spec: Conv | Pool, sizes: tuple[int, ...], transform: str, subs: dict | None
) -> tuple[Equivariance, dict[str, Any]]:
    """The rotation or flip derivation and its numbers (`_symmetry_core`), for the checks."""
    core = _symmetry_core(spec, sizes, transform, subs)
    broken, condition = core["broken"], core["condition"]
    n_out = math.prod(core["out_shape"][1:])
    exact = not broken
    d = Equivariance(f"Equivariance of {spec} to {transform} on input {sizes}")
    d.results.update(
        exact=exact,
        broken=broken,
        count=len(broken),
        outputs=n_out,
        condition=condition,
        transform=transform,
        input_size=sizes,
        equations=core["equations"],
    )
    i, j, n = sympy.symbols("i j n", integer=True)
    a, b, K = sympy.symbols("a b K", integer=True)
    x, w, g = sympy.IndexedBase("x"), sympy.IndexedBase("w"), sympy.IndexedBase("(g x)")
    src = {"rot90": (j, n - 1 - i), "flip_h": (i, n - 1 - j), "flip_v": (n - 1 - i, j)}
    if spec.dims == 1:
        d.add_step(
            "The transformation",
            sympy.Eq(g[i], x[n - 1 - i], evaluate=False),
            "flip_h of a row reverses it",
            definition=True,
        )
    else:
        d.add_step(
            "The transformation",
            sympy.Eq(g[i, j], x[src[transform]], evaluate=False),
            "numpy's rot90 (counter-clockwise)" if transform == "rot90" else "a mirror",
            definition=True,
        )
    d.add_step(
        "Equivariance, row by row",
        sympy.Symbol(r"T P_g^{\mathrm{in}} = P_g^{\mathrm{out}} T"),
        "row o of T P reads x[pi(j)] with T[o, j]; row o of P T is row pi(o) of T",
        definition=True,
    )
    numeric = f"torch: conv({transform}(x))"
    checked = (
        (f"condition = the kernel's {transform}", numeric)
        if isinstance(spec, Conv) and not subs
        else (numeric,)
    )
    o1, o2, P, Dl, m, c_, e_ = sympy.symbols("o_1 o_2 P D m c d", integer=True)
    general: dict[str, Any] = {}
    if spec.dims == 2 and transform == "rot90":
        # second index: after rotation tap (a, b) reads n-1-o1-Da+P; output (o2, m-1-o1)'s tap
        # (c, d) reads m-1-o1+Dd-P with m = n + 2P - D(K-1)
        lhs_ = (n + 2 * P - Dl * (K - 1)) - 1 - o1 + Dl * e_ - P
        general["sol"] = sympy.solve(sympy.Eq(lhs_, n - 1 - o1 - Dl * a + P), e_)
        general["want"] = K - 1 - a
        d.add_step(
            "Matching taps (general)",
            sympy.Eq(w[a, b], w[b, K - 1 - a]),
            "tap (a, b) of the rotated input meets tap (b, K - 1 - a) of the rotated output: "
            "the kernel must be invariant under rot90",
            by="matched tap solved symbolically",
        )
    else:
        lhs_ = (n + 2 * P - Dl * (K - 1)) - 1 - o2 + Dl * e_ - P
        general["sol"] = sympy.solve(sympy.Eq(lhs_, n - 1 - o2 - Dl * b + P), e_)
        general["want"] = K - 1 - b
        pair = {"flip_h": (w[a, b], w[a, K - 1 - b]), "flip_v": (w[a, b], w[K - 1 - a, b])}
        stmt = sympy.Eq(w[b], w[K - 1 - b]) if spec.dims == 1 else sympy.Eq(*pair[transform])
        d.add_step(
            "Matching taps (general)",
            stmt,
            "the mirrored input meets the mirrored tap: the kernel must be mirror-symmetric",
            by="matched tap solved symbolically",
        )
    del o1, o2, m, c_
    if isinstance(spec, Conv):
        pairs = math.prod(spec.weight_shape[:2])
        if pairs > 1 and len(condition) > 64:  # too many to show: one generic pair (k, c)
            k, c = sympy.symbols("k c", integer=True)
            block = condition[: len(condition) // pairs]  # pair (0, 0) comes first
            generic = {s: w[(k, c, *s.indices[2:])] for e in block for s in e.atoms(sympy.Indexed)}
            d.add_step(
                "Condition on the weights (solved)",
                sympy.Tuple(*(e.xreplace(generic) for e in block)),
                f"for every output channel k and input channel c: the taps are the same for "
                f"each of the {pairs} channel pairs, so linsolve of one pair's "
                f"{core['equations'] // pairs} distinct entry equations T P = P T, "
                f"repeated; {len(condition)} equations in all (`condition`)",
                by=checked,
            )
        else:
            d.add_step(
                "Condition on the weights (solved)",
                sympy.Tuple(*condition),
                f"linsolve of the {core['equations']} distinct entry equations "
                f"T P = P T; empty means every kernel works",
                by=checked,
            )
        if subs:
            kernel = [e.xreplace(subs) for e in condition]
            holds = all(k == sympy.true for k in kernel)
            d.add_step(
                f"With the given weights the condition {'holds' if holds else 'fails'}",
                sympy.Tuple(*(sympy.Eq(k, v, evaluate=False) for k, v in subs.items())),
                "the weights given, put into the condition above",
                by=checked,
            )
    d.add_step(
        "Broken outputs",
        sympy.FiniteSet(*[sympy.Tuple(*p) for p in broken]),
        f"{len(broken)} of {n_out} outputs; {'exact' if exact else 'not exact'}",
        by=checked,
    )
    d.check(
        "matched tap solved symbolically",
        "general",
        lambda: Outcome(
            1,
            0.0,
            len(general["sol"]) == 1 and sympy.simplify(general["sol"][0] - general["want"]) == 0,
            f"d = {general['sol']}",
        ),
    )
    return d, core
