r"""Convolution as a matrix: the Toeplitz form $\mathrm{vec}(y) = T\,\mathrm{vec}(x)$ and kin.

Every matrix here is assembled from the operator's `IndexForm.gather()` (one entry per tap,
flattened in C order: rows $(C_\mathrm{out}, o_1, \dots)$, columns $(C_\mathrm{in}, i_1, \dots)$)
into a dict of nonzeros, so the cost grows with the number of nonzeros, not with rows times
columns. Symbolic entries are `w[k, c, a_1, ...]` (`sympy.Indexed` of `IndexedBase("w")`, the
weight tensor's 0-based index); where padding folds two taps onto one input the entry is their sum.

- `toeplitz`: $T$ (bias excluded, batch 1), symbolic; `toeplitz_numeric`: the same as SciPy CSR.
- `padding_matrix` and `valid_matrix`: $T = V \cdot \mathrm{Pad}$, $V$ the valid convolution of
  the padded input; reflect and replicate padding show up as rows of $\mathrm{Pad}$ with a 1 off
  the diagonal (boundary corrections).
- `patch_matrix`: the im2col form $\mathrm{vec}(y) = X\, \mathrm{vec}(w)$, in which
  $\partial L / \partial w = X^\top \delta$ is read.
- `structure`: names the structure (Toeplitz, doubly block Toeplitz, circulant, ...), decided
  by checking the matrix.

```python
>>> import symconv as sc
>>> for row in sc.toeplitz(sc.Conv(dims=1, kernel_size=3, bias=False), 5).tolist():
...     print(row)
[w[0, 0, 0], w[0, 0, 1], w[0, 0, 2], 0, 0]
[0, w[0, 0, 0], w[0, 0, 1], w[0, 0, 2], 0]
[0, 0, w[0, 0, 0], w[0, 0, 1], w[0, 0, 2]]

```
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
import sympy

from ._errors import SpecError
from ._results import DiagonalCheck, ProductCheck
from ._validate import as_int
from .indexform import Gather, IndexForm, check_spec, index_form
from .limits import check_symbolic, get_limits
from .spec import Pool

__all__ = [
    "DEFAULT_MAX_NONZEROS",
    "Structure",
    "padding_matrix",
    "patch_matrix",
    "sparse_product",
    "structure",
    "toeplitz",
    "toeplitz_numeric",
    "valid_matrix",
]

DEFAULT_MAX_NONZEROS = 2**26
"""Default `max_nonzeros` of the symbolic matrices: the `nonzeros` limit of `symconv.limits` in
force (2^26 unless changed; a 64 x 64 layer with 16 -> 16 channels and a 7 x 7 kernel, 51 M
nonzeros, is admitted). No separate cap: pass a number to refuse smaller matrices."""
NUMERIC_MAX_NONZEROS = 100_000_000

SparseMatrix = sympy.SparseMatrix  # module attribute, so tests can observe what is built


@lru_cache(maxsize=32)
def _symbols(name: str, shape: tuple[int, ...]) -> tuple[sympy.Indexed, ...]:
    """`IndexedBase(name)[idx]` for every index of `shape`, in C order (built once per shape)."""
    base = sympy.IndexedBase(name)
    return tuple(base[idx] for idx in np.ndindex(*shape))


def _form(spec: Any, input_size: Any, what: str) -> IndexForm:
    check_spec(what, spec, pool=False)
    # the cost first, integer arithmetic only (the nonzeros: `_guard`, with `max_nonzeros`)
    check_symbolic(what, spec, input_size, nonzeros=False)
    if isinstance(spec, Pool):
        raise SpecError(
            f"{what}: pooling is not a linear map with weights; give a Conv, "
            f"LocallyConnected, Tiled or ConvTranspose spec, got {spec!r}"
        )
    return index_form(spec, input_size)


def _guard(form: IndexForm, what: str, nnz: int, shape: tuple[int, int], limit: int) -> None:
    limit = as_int(what, "max_nonzeros", limit, 0)
    if limit == DEFAULT_MAX_NONZEROS:  # the default follows symconv.limits' `nonzeros`
        limit = get_limits()["nonzeros"]
    if nnz > limit:
        d = form.dims
        raise SpecError(
            f"{what}: {form.spec} on input {form.input_size} would be a {shape[0]}x{shape[1]} "
            f"symbolic matrix with {nnz} nonzeros > max_nonzeros {limit}; for numbers use "
            f"symconv.toeplitz_numeric(spec, input_size, weight) (scipy.sparse) or "
            f"numeric.conv{d}d, or pass a larger max_nonzeros (by default the nonzeros limit: "
            f"symconv.limits.set_limits(nonzeros=...) or SYMCONV_MAX_NONZEROS)"
        )


def _assemble(
    shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, values: Sequence[Any]
) -> sympy.SparseMatrix:
    """A `SparseMatrix` from parallel arrays; repeated `(row, col)` pairs are summed."""
    if len(rows) == 0:  # no tap reaches the input (e.g. cropped away): the zero matrix
        return SparseMatrix(shape[0], shape[1], {})
    lin = rows.astype(np.int64) * shape[1] + cols
    order = np.argsort(lin, kind="stable")
    lin_sorted = lin[order]
    starts = np.flatnonzero(np.r_[True, lin_sorted[1:] != lin_sorted[:-1]])
    if len(starts) == len(lin):  # no repeated pair: one value per entry
        entries = dict(zip(zip(rows.tolist(), cols.tolist(), strict=True), values, strict=True))
    else:
        entries = {}
        ends = np.r_[starts[1:], len(lin)]
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            r, c = divmod(int(lin_sorted[s]), shape[1])
            terms = [values[t] for t in order[s:e].tolist()]
            entries[(r, c)] = terms[0] if len(terms) == 1 else sympy.Add(*terms)
    return SparseMatrix(shape[0], shape[1], entries)


def _weighted(g: Gather, name: str = "w") -> sympy.SparseMatrix:
    syms = _symbols(name, g.weight_shape)
    return _assemble(g.shape, g.rows, g.cols, [syms[t] for t in g.weights.tolist()])


def toeplitz(
    spec: Any, input_size: int | Sequence[int], *, max_nonzeros: int = DEFAULT_MAX_NONZEROS
) -> sympy.SparseMatrix:
    r"""The exact matrix $T$ with $\mathrm{vec}(y) = T\, \mathrm{vec}(x)$ (bias excluded, batch 1).

    For `Conv` (any dims, channels, groups, stride, dilation, flip, padding mode),
    `LocallyConnected`, `Tiled` and `ConvTranspose`. Rows index the flattened
    $(C_\mathrm{out}, o_1, \dots)$, columns $(C_\mathrm{in}, i_1, \dots)$, C order; entries are
    `w[k, c, a_1, ...]` in the weight tensor's layout. Refused with a `SpecError` (naming the
    shape and the count) when the matrix would have more than `max_nonzeros` nonzeros (by
    default the `nonzeros` limit of `symconv.limits`).

    ```python
    >>> import symconv as sc
    >>> sc.toeplitz(sc.Conv(dims=1, kernel_size=2, flip=True), 3).tolist()
    [[w[0, 0, 1], w[0, 0, 0], 0], [0, w[0, 0, 1], w[0, 0, 0]]]

    ```
    """
    form = _form(spec, input_size, "toeplitz")
    shape = (math.prod(form.out_shape()), math.prod(form.in_shape()))
    _guard(form, "toeplitz", form.nonzeros(), shape, max_nonzeros)
    return _weighted(form.gather())


def toeplitz_numeric(
    spec: Any,
    input_size: int | Sequence[int],
    weight: Any,
    *,
    max_nonzeros: int = NUMERIC_MAX_NONZEROS,
) -> Any:
    """`toeplitz` with the numbers of `weight` (shape `weight_shape`): a `scipy.sparse.csr_matrix`.

    Same index map, same entries (repeated taps summed); use it for numeric checks, SymPy's
    sparse products are slow.
    """
    import scipy.sparse

    form = _form(spec, input_size, "toeplitz_numeric")
    w = np.asarray(weight)
    if w.shape != form.weight_shape:
        raise SpecError(
            f"toeplitz_numeric: weight shape {w.shape} does not match the spec's "
            f"weight_shape {form.weight_shape}"
        )
    shape = (math.prod(form.out_shape()), math.prod(form.in_shape()))
    _guard(form, "toeplitz_numeric", form.tap_count(), shape, max_nonzeros)
    g = form.gather()
    m = scipy.sparse.coo_matrix((w.ravel()[g.weights], (g.rows, g.cols)), shape=g.shape)
    return m.tocsr()  # sums repeated (row, col) pairs


def padding_matrix(spec: Any, input_size: int | Sequence[int]) -> sympy.SparseMatrix:
    r"""The 0/1 matrix $\mathrm{Pad}$ with $\mathrm{vec}(\tilde x) = \mathrm{Pad}\,\mathrm{vec}(x)$.

    Rows index the padded input $(C_\mathrm{in}, \tilde i_1, \dots)$; zero padding leaves rows
    empty, the other modes copy an input value into the border (a 1 off the shifted identity).
    """
    form = _form(spec, input_size, "padding_matrix")
    g = form.pad_gather()
    return _assemble(g.shape, g.rows, g.cols, [sympy.Integer(1)] * len(g))


def valid_matrix(
    spec: Any, input_size: int | Sequence[int], *, max_nonzeros: int = DEFAULT_MAX_NONZEROS
) -> sympy.SparseMatrix:
    r"""$V$: the convolution of the padded input $\tilde x$, unpadded; $T = V\,\mathrm{Pad}$."""
    form = _form(spec, input_size, "valid_matrix")
    shape = (math.prod(form.out_shape()), math.prod(form.in_shape(padded=True)))
    _guard(form, "valid_matrix", form.nonzeros(padded=True), shape, max_nonzeros)
    return _weighted(form.gather(padded=True))


def sparse_product(
    a: dict[tuple[int, int], Any], b: dict[tuple[int, int], Any]
) -> dict[tuple[int, int], Any]:
    """The product of two matrices given as dicts of nonzeros: O(nnz(a) * row density of b)."""
    by_row: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for (j, c), v in b.items():
        by_row[j].append((c, v))
    terms: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for (r, j), v in a.items():
        for c, u in by_row.get(j, ()):
            terms[(r, c)].append(v if u == 1 else v * u)
    out = {key: t[0] if len(t) == 1 else sympy.Add(*t) for key, t in terms.items()}
    return {key: v for key, v in out.items() if v != 0}


def patch_matrix(
    spec: Any,
    input_size: int | Sequence[int],
    x: str | sympy.IndexedBase | None = None,
    *,
    max_nonzeros: int = DEFAULT_MAX_NONZEROS,
) -> sympy.SparseMatrix:
    r"""The im2col matrix $X$ with $\mathrm{vec}(y) = X\, \mathrm{vec}(w)$ (bias excluded, batch 1).

    Rows index the output as in `toeplitz`, columns the flattened weight tensor; entries are
    `x[c_in, i_1, ...]` (`IndexedBase("x")`, or the name / base given). Row $r$ holds the patch
    output $r$ reads, so $\partial L/\partial \mathrm{vec}(w) = X^\top \delta$.

    ```python
    >>> import symconv as sc
    >>> sc.patch_matrix(sc.Conv(dims=1, kernel_size=2), 3).tolist()
    [[x[0, 0], x[0, 1]], [x[0, 1], x[0, 2]]]

    ```
    """
    form = _form(spec, input_size, "patch_matrix")
    if not (x is None or isinstance(x, str | sympy.IndexedBase)) or x == "":
        raise SpecError(
            f"patch_matrix: x must be a symbol name (a non-empty str) or a sympy.IndexedBase, "
            f"got {x!r}"
        )
    name = "x" if x is None else str(x.label if isinstance(x, sympy.IndexedBase) else x)
    shape = (math.prod(form.out_shape()), math.prod(form.weight_shape))
    _guard(form, "patch_matrix", form.tap_count(), shape, max_nonzeros)
    g = form.gather()
    syms = _symbols(name, form.in_shape())
    return _assemble(shape, g.rows, g.weights, [syms[c] for c in g.cols.tolist()])


# -- structure ------------------------------------------------------------------------------
_LEVELS = {1: "", 2: "doubly block ", 3: "triply block "}


@dataclass(frozen=True)
class Structure:
    """What `structure` found: a name and the evidence it was decided on."""

    name: str
    toeplitz: bool
    circulant: bool
    corrections: int
    evidence: str

    def __str__(self) -> str:
        return f"{self.name} ({self.evidence})"


def _diagonal_check(
    t: dict[tuple[int, int], Any],
    out_shape: tuple[int, ...],
    in_shape: tuple[int, ...],
    stride: tuple[int, ...],
    cyclic: bool,
) -> DiagonalCheck:
    """Whether every (strided, per-level) diagonal of every channel block is constant (zeros too).

    Diagonal of entry (k, o; c, i): $(k, c, i - S o)$ per axis (mod the size when `cyclic`).
    Returns a `DiagonalCheck`: whether it `holds`, and the number of `diagonals` checked.
    """
    if not t:
        return DiagonalCheck(True, 0)
    keys = np.array(list(t.keys()))
    o = np.unravel_index(keys[:, 0], out_shape)
    i = np.unravel_index(keys[:, 1], in_shape)
    diag = [i[ax + 1] - s * o[ax + 1] for ax, s in enumerate(stride)]
    if cyclic:
        diag = [np.mod(d, n) for d, n in zip(diag, in_shape[1:], strict=True)]
    label = np.stack([o[0], i[0], *diag], axis=1)
    groups: dict[tuple[int, ...], list[Any]] = defaultdict(list)
    for lab, v in zip(map(tuple, label.tolist()), t.values(), strict=True):
        groups[lab].append(v)
    for lab, vals in groups.items():
        if any(v != vals[0] for v in vals):
            return DiagonalCheck(False, len(groups))
        cells = 1
        for ax, s in enumerate(stride):  # cells of this diagonal inside the matrix
            n_out, n_in, delta = out_shape[ax + 1], in_shape[ax + 1], lab[2 + ax]
            oo = np.arange(n_out)
            col = delta + s * oo
            cells *= n_out if cyclic else int(((col >= 0) & (col < n_in)).sum())
        if len(vals) != cells:
            return DiagonalCheck(False, len(groups))
    return DiagonalCheck(True, len(groups))


def structure(spec: Any, input_size: int | Sequence[int]) -> Structure:
    """Name the structure of `toeplitz(spec, input_size)` by checking the matrix itself.

    Toeplitz (1D), doubly block Toeplitz (2D), triply block Toeplitz (3D), each "strided" when
    the stride exceeds 1 (the rows $S o$ of a Toeplitz matrix); circulant variants when every
    cyclic diagonal is constant (circular padding, stride 1, full-size output); "Toeplitz with
    boundary corrections" when $T$ is not Toeplitz but $V$ is and $\\mathrm{Pad}$ has rows off
    the diagonal (reflect, replicate, circular otherwise). Channels form
    $C_\\mathrm{out} \\times C_\\mathrm{in}$ blocks of that structure (zero blocks across groups).

    ```python
    >>> import symconv as sc
    >>> sc.structure(sc.Conv(dims=2, kernel_size=3, padding=1, padding_mode="circular"), 4).name
    'doubly block circulant'

    ```
    """
    form = _form(spec, input_size, "structure")
    if form.kind == "conv":
        return _factored_structure(form)
    return _matrix_structure(spec, input_size, form)


def _matrix_structure(spec: Any, input_size: Any, form: IndexForm) -> Structure:
    """`structure` on the assembled matrices (position-dependent weights, transposed layers)."""
    t = dict(toeplitz(spec, input_size).todok())
    out_shape, in_shape = form.out_shape(), form.in_shape()
    strides = tuple(ax.stride for ax in form.axes)
    level = _LEVELS[form.dims]
    strided = "strided " if any(s > 1 for s in strides) else ""
    blocks = f"{form.out_channels}x{form.in_channels} channel blocks" + (
        f", block diagonal over {form.groups} groups" if form.groups > 1 else ""
    )
    if all(s == 1 for s in strides) and out_shape[1:] == in_shape[1:]:
        ok, n = _diagonal_check(t, out_shape, in_shape, strides, cyclic=True)
        if ok:
            return Structure(
                f"{level}circulant", True, True, 0, f"all {n} cyclic diagonals constant; {blocks}"
            )
    # T = V Pad; split Pad into its shifted identity and the border copies (the corrections)
    pad = dict(padding_matrix(spec, input_size).todok())
    p_in = form.in_shape(padded=True)
    keys = np.array(list(pad)) if pad else np.zeros((0, 2), dtype=int)
    j, i = np.unravel_index(keys[:, 0], p_in), np.unravel_index(keys[:, 1], in_shape)
    moved = np.zeros(len(keys), dtype=bool)
    for a, ax in enumerate(form.axes):
        moved |= j[a + 1] - ax.lo != i[a + 1]
    border = {key: 1 for key, m in zip(pad, moved.tolist(), strict=True) if m}
    v = dict(valid_matrix(spec, input_size).todok())
    corrections = sparse_product(v, border)
    v_ok, nv = _diagonal_check(v, out_shape, p_in, strides, cyclic=False)
    ok, n = _diagonal_check(t, out_shape, in_shape, strides, cyclic=False)
    if v_ok and corrections:
        return Structure(
            f"{strided}{level}Toeplitz with boundary corrections",
            ok,
            False,
            len(corrections),
            f"T = V Pad, V has all {nv} diagonals constant; Pad has {len(border)} border rows "
            f"({form.axes[0].mode} padding) adding {len(corrections)} entries to the zero-padded "
            f"Toeplitz matrix; {blocks}",
        )
    if ok:
        return Structure(
            f"{strided}{level}Toeplitz",
            True,
            False,
            0,
            f"all {n} diagonals constant (zeros included); {blocks}",
        )
    return Structure(
        "unstructured (weights vary with position)" if not v_ok else "not Toeplitz",
        False,
        False,
        len(corrections),
        f"V is {'' if v_ok else 'not '}Toeplitz; {blocks}",
    )


# -- structure from the factors: one axis at a time -------------------------------------------
def _axis_cells(taps: np.ndarray) -> dict[tuple[int, int], tuple[int, ...]]:
    """One axis's entries: cell (o, i) -> the sorted taps a that land on it (a multiset)."""
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for o, a, i in taps.tolist():
        cells[(o, i)].append(a)
    return {key: tuple(sorted(v)) for key, v in cells.items()}


def _axis_diagonals(
    cells: dict[tuple[int, int], tuple[int, ...]], n_out: int, n_in: int, s: int, cyclic: bool
) -> DiagonalCheck:
    """`_diagonal_check` on one axis: every (strided) diagonal constant and full."""
    groups: dict[int, list[tuple[int, ...]]] = defaultdict(list)
    for (o, i), v in cells.items():
        groups[(i - s * o) % n_in if cyclic else i - s * o].append(v)
    for delta, vals in groups.items():
        if any(v != vals[0] for v in vals):
            return DiagonalCheck(False, len(groups))
        col = delta + s * np.arange(n_out)
        if len(vals) != (n_out if cyclic else int(((col >= 0) & (col < n_in)).sum())):
            return DiagonalCheck(False, len(groups))
    return DiagonalCheck(True, len(groups))


def _factored_diagonals(
    axes: Sequence[np.ndarray], n_ch: int, out_shape: Any, in_shape: Any, strides: Any, cyclic: bool
) -> DiagonalCheck:
    r"""`_diagonal_check` of the product: an entry is the channel pair's weight times one tap
    multiset per axis, so a diagonal of the product is constant and full iff each axis's is
    (when no factor is empty); the diagonals multiply."""
    if n_ch == 0 or any(len(t) == 0 for t in axes):
        return DiagonalCheck(True, 0)
    total = n_ch
    for d, taps in enumerate(axes):
        ok, n = _axis_diagonals(
            _axis_cells(taps), out_shape[d + 1], in_shape[d + 1], strides[d], cyclic
        )
        if not ok:
            return DiagonalCheck(False, 0)
        total *= n
    return DiagonalCheck(True, total)


def _factored_structure(form: IndexForm) -> Structure:
    """`structure` from `form.factors()`: per-axis diagonals, corrections counted per axis."""
    f, fv = form.factors(), form.factors(padded=True)
    out_shape, in_shape, p_in = form.out_shape(), form.in_shape(), form.in_shape(padded=True)
    strides = tuple(ax.stride for ax in form.axes)
    n_ch = len(f.channels)
    level = _LEVELS[form.dims]
    strided = "strided " if any(s > 1 for s in strides) else ""
    blocks = f"{form.out_channels}x{form.in_channels} channel blocks" + (
        f", block diagonal over {form.groups} groups" if form.groups > 1 else ""
    )
    if all(s == 1 for s in strides) and out_shape[1:] == in_shape[1:]:
        ok, n = _factored_diagonals(f.axes, n_ch, out_shape, in_shape, strides, cyclic=True)
        if ok:
            return Structure(
                f"{level}circulant", True, True, 0, f"all {n} cyclic diagonals constant; {blocks}"
            )
    # T = V Pad: Pad is the shifted identity plus border copies (a padded position j whose
    # source is not j - P). Per axis: a = cells (o, i) reached through V then Pad, b = those
    # reached through a border row; the product's corrections are the cells with every axis in
    # a and some axis in b.
    border_all, border_none, reach, reach_plain = 1, 1, 1, 1
    for d, ax in enumerate(form.axes):
        pad = form.pad_table(d)
        j = np.arange(len(pad))
        moved = (pad >= 0) & (pad != j - ax.lo)
        border_all *= int((pad >= 0).sum())
        border_none *= int(((pad >= 0) & ~moved).sum())
        o, _, jj = fv.axes[d].T
        src = pad[jj]
        ok = src >= 0
        cells = set(zip(o[ok].tolist(), src[ok].tolist(), strict=True))
        via_border = set(zip(o[ok & moved[jj]].tolist(), src[ok & moved[jj]].tolist(), strict=True))
        reach *= len(cells)
        reach_plain *= len(cells - via_border)
    n_border = form.in_channels * (border_all - border_none)
    corrections = n_ch * (reach - reach_plain)
    v_ok, nv = _factored_diagonals(fv.axes, n_ch, out_shape, p_in, strides, cyclic=False)
    ok, n = _factored_diagonals(f.axes, n_ch, out_shape, in_shape, strides, cyclic=False)
    if v_ok and corrections:
        return Structure(
            f"{strided}{level}Toeplitz with boundary corrections",
            ok,
            False,
            corrections,
            f"T = V Pad, V has all {nv} diagonals constant; Pad has {n_border} border rows "
            f"({form.axes[0].mode} padding) adding {corrections} entries to the zero-padded "
            f"Toeplitz matrix; {blocks}",
        )
    if ok:
        return Structure(
            f"{strided}{level}Toeplitz",
            True,
            False,
            0,
            f"all {n} diagonals constant (zeros included); {blocks}",
        )
    return Structure(
        "unstructured (weights vary with position)" if not v_ok else "not Toeplitz",
        False,
        False,
        corrections,
        f"V is {'' if v_ok else 'not '}Toeplitz; {blocks}",
    )


def _axis_matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> Any:
    """An integer matrix with a 1 added at each `(rows[t], cols[t])`: dense int64 while small
    (one axis of a layer usually is), else SciPy sparse int64."""
    if shape[0] * shape[1] <= 4_000_000:
        m = np.zeros(shape, dtype=np.int64)
        np.add.at(m, (rows, cols), 1)
        return m
    import scipy.sparse

    ones = np.ones(len(rows), dtype=np.int64)
    return scipy.sparse.csr_matrix((ones, (rows, cols)), shape=shape)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return (a != b).nnz == 0


def factored_product_check(form: IndexForm) -> ProductCheck:
    r"""$T = V \cdot \mathrm{Pad}$ in exact integer arithmetic, one factor at a time.

    Per axis, $T_d$ and $V_d$ are integer matrices with rows $(o, a)$ (output, tap) and columns
    the input (resp. padded input) position, $\mathrm{Pad}_d$ the 0/1 padding matrix; the
    check is $T_d = V_d \mathrm{Pad}_d$ (int64: dense for an axis up to 4M entries, SciPy
    sparse beyond) on every axis and equal channel tables. A tap of $T$ is a channel pair
    times one tap per axis (`IndexForm.factors`), so this is $T = V\,\mathrm{Pad}$ entry by
    entry with symbolic weights. Returns a `ProductCheck`: whether it `holds`, and the
    `nonzeros` of T.
    """
    f, fv = form.factors(), form.factors(padded=True)
    ok = bool(np.array_equal(f.channels, fv.channels))
    for d, ax in enumerate(form.axes):
        out, size, padded = cast(tuple[int, int, int], (ax.out, ax.size, ax.padded))  # sized
        rows = out * ax.kernel
        t, v = f.axes[d], fv.axes[d]
        pad = form.pad_table(d)
        keep = np.flatnonzero(pad >= 0)
        t_d = _axis_matrix(t[:, 0] * ax.kernel + t[:, 1], t[:, 2], (rows, size))
        v_d = _axis_matrix(v[:, 0] * ax.kernel + v[:, 1], v[:, 2], (rows, padded))
        p_d = _axis_matrix(keep, pad[keep], (padded, size))
        ok = ok and _equal(t_d, v_d @ p_d)
    return ProductCheck(ok, form.nonzeros())


_MATVEC_BLOCK = 1 << 22  # gathered values per GEMM block of factored_matvec (32 MiB)


def factored_matvec(form: IndexForm, weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    r"""$T x$ from `form.factors()` without assembling $T$: the input read at every axis's
    `src(o, a)` (zero where nothing is read) for all taps at once, times the
    $C_\mathrm{out} \times (C_\mathrm{in} \prod K)$ matrix the channel table places the weights
    in (zeros between groups).

    `weight` has `form.weight_shape`, `x` the shape `form.in_shape()`; returns `vec(y)`.
    $O(\prod K \cdot C_\mathrm{out} C_\mathrm{in} \prod O)$ work in a few large GEMMs (one per
    block of output rows along the first axis, each reading at most `_MATVEC_BLOCK` gathered
    values), no index arrays of the layer's size.

    ```python
    >>> import numpy as np, symconv as sc
    >>> from symconv.indexform import index_form
    >>> spec = sc.Conv(dims=1, kernel_size=2)
    >>> factored_matvec(index_form(spec, 3), np.array([[[1.0, 10.0]]]), np.array([[1.0, 2, 3]]))
    array([21., 32.])

    ```
    """
    f = form.factors()
    dims = form.dims
    kernel = tuple(form.weight_shape[-dims:])
    n_a = math.prod(kernel)
    w = np.asarray(weight).reshape(-1, n_a)
    k, cin, lead = f.channels.T
    tables = [form.tap_table(d) for d in range(dims)]  # (O_d, K_d): source, -1: none
    out = cast(tuple[int, ...], form.output_size)  # a sized form
    c_in, c_out = form.in_channels, form.out_channels
    mat = np.zeros((c_out, c_in, n_a), dtype=w.dtype)
    np.add.at(mat, (k, cin), w[lead])  # every channel pair's taps, summed where pairs repeat
    mat = mat.reshape(c_out, c_in * n_a)
    y = np.zeros((c_out, *out), dtype=np.result_type(w, x))
    rest = math.prod(out[1:])
    step = max(1, _MATVEC_BLOCK // max(1, c_in * n_a * rest))
    for lo in range(0, out[0], step):
        rows = slice(lo, min(out[0], lo + step))
        read = np.asarray(x)  # (C_in, I_1, ..., I_dims)
        for d in range(dims):  # axis d of the input becomes (O_d, K_d), at 1 + 2d
            src = tables[d][rows] if d == 0 else tables[d]
            read = np.take(read, np.maximum(src, 0), axis=1 + 2 * d)
            shape = [1] * read.ndim
            shape[1 + 2 * d], shape[2 + 2 * d] = src.shape
            read = read * (src >= 0).reshape(shape)
        # (C_in, O_1, K_1, ..., O_dims, K_dims) -> (C_in, K_1.., O_1..)
        order = (0, *(2 + 2 * d for d in range(dims)), *(1 + 2 * d for d in range(dims)))
        cols = read.transpose(order).reshape(c_in * n_a, -1)
        y[:, rows] = (mat @ cols).reshape(c_out, -1, *out[1:])
    return y.reshape(-1)
