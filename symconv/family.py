r"""Derivations behind numeric's `unfold` / `fold` and adaptive pooling.

**unfold and fold.** For a window geometry (kernel $K$, stride $S$, dilation $D$, zero padding
$P$) `unfold` reads the patches
$U[n, (c, a), o] = \tilde x[n, c, S o + D a]$: per sample it is the patch (im2col) matrix $X$
of `symconv.patch_matrix` for a one-output-channel layer, transposed
($\mathrm{unfold}(x) = X^\top$; a convolution is $W\,\mathrm{unfold}(x)$). As a linear map
$\mathrm{vec}\,\mathrm{unfold}(x) = \mathcal U\, \mathrm{vec}\, x$ with a 0/1 matrix
$\mathcal U = G \cdot \mathrm{Pad}$ (gather after zero padding); `fold` is the scatter-add
$\tilde y[c, S o + D a] \mathrel{+}= Y[(c, a), o]$ followed by the crop of the padding,
$\mathcal F = \mathrm{Crop} \cdot G^\top$, and since $\mathrm{Crop} = \mathrm{Pad}^\top$,
$\mathcal F = \mathcal U^\top$: fold is the adjoint of unfold
(`unfold_fold_derivation` certifies it exactly, on integer tables, for any layer within
`symconv.limits`, and against torch).

**Adaptive pooling.** Pooling an axis of length $I$ to $O$ outputs, window $o$ is

$$[\lfloor o I / O \rfloor,\ \lceil (o + 1) I / O \rceil)$$

(`adaptive_window_derivation`): the windows start at 0, end at $I$, overlap at most one
position each, and when $O$ divides $I$ they are ordinary pooling with kernel = stride $= I/O$.

```python
>>> from symconv.family import adaptive_window_derivation
>>> adaptive_window_derivation().verify().passed
True

```
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import sympy

from . import _sizes
from ._errors import SpecError
from ._indexmap import adaptive_table, window_table
from ._torchref import torch_or_none
from .derivation import Derivation, Outcome, SkipCheck, discrepancy, grid_check
from .indexform import index_form
from .spec import Conv
from .toeplitz import patch_matrix

__all__ = [
    "adaptive_window_derivation",
    "fold_matrix",
    "unfold_fold_derivation",
    "unfold_matrix",
]

_SYMBOLIC_MAX = 4096  # results hold the SymPy U and X up to this many ones


def _geometry(op: str, spec: Any, input_size: Any) -> tuple[Conv, tuple[int, ...], tuple]:
    if not isinstance(spec, Conv):
        raise SpecError(f"{op}: spec must be a symconv.Conv (the window geometry), got {spec!r}")
    if spec.padding_mode != "zeros" or spec.flip or spec.groups != 1:
        raise SpecError(
            f"{op}: unfold and fold pad with zeros, do not flip and have no groups; got "
            f"padding_mode {spec.padding_mode!r}, flip {spec.flip}, groups {spec.groups}"
        )
    if any(lo != hi for lo, hi in spec.pads):
        raise SpecError(f"{op}: unfold and fold pad both sides alike, got pads {spec.pads}")
    size = (input_size,) * spec.dims if isinstance(input_size, int) else tuple(input_size)
    out = spec.output_size(size)
    return spec, size, out


def _unfold_axis(spec: Conv, axis: int, size: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """Axis `axis` of unfold's gather: a `(K_a, O_a)` table of the unpadded coordinate tap `a`
    of output `o` reads, -1 for a zero of the padding."""
    t = window_table(out[axis], spec.kernel_size[axis], spec.stride[axis], spec.dilation[axis])
    u = t.T - spec.pads[axis][0]  # (K_a, O_a): unpadded coordinate
    return np.where((u >= 0) & (u < size[axis]), u, -1)


def _unfold_rows(spec: Conv, size: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """For every entry (c, a_1.., o_1..) of unfold(x) (C order), the flat input index it reads,
    -1 for a zero of the padding (the gather G after Pad)."""
    d = spec.dims
    flat: Any = np.zeros((1,) * (2 * d), dtype=np.int64)
    valid: Any = np.ones((1,) * (2 * d), dtype=bool)
    for a in range(d):  # (a_a, o_a) sits at axes a and d + a of the (K.., O..) grid
        t = _unfold_axis(spec, a, size, out)
        shape = [1] * (2 * d)
        shape[a], shape[d + a] = t.shape
        t = t.reshape(shape)
        flat = flat * size[a] + np.maximum(t, 0)  # C order, one axis at a time (Horner)
        valid = valid & (t >= 0)
    flat = np.broadcast_to(np.where(valid, flat, -1), (*spec.kernel_size, *out)).ravel()
    per = math.prod(size)
    c = np.arange(spec.in_channels, dtype=np.int64)[:, None]
    return np.where(flat[None, :] >= 0, c * per + flat[None, :], -1).ravel()


def _one_per_row(rows: np.ndarray, cols: np.ndarray, n_rows: int) -> tuple[np.ndarray, int]:
    """The 0/1 matrix with a 1 at every `(rows[t], cols[t])` (repeats add) read as one column
    per row, as $\\mathcal U$ is held: each row's column (-1 for an empty row), and how many
    rows break that shape (two entries or more, or an entry 2). Equal arrays and no broken
    row: the same integer matrix, entry by entry."""
    count = np.bincount(rows, minlength=n_rows)
    got = np.full(n_rows, -1, dtype=np.int64)
    got[rows] = cols
    return got, int((count > 1).sum())


def unfold_matrix(spec: Conv, input_size: int | Sequence[int]) -> sympy.SparseMatrix:
    r"""The 0/1 matrix $\mathcal U$ with $\mathrm{vec}\,\mathrm{unfold}(x) = \mathcal U\,
    \mathrm{vec}\,x$ (one sample, `spec.in_channels` channels; rows in unfold's C order
    $(c, a_1, \dots, o_1, \dots)$)."""
    spec, size, out = _geometry("unfold_matrix", spec, input_size)
    rows = _unfold_rows(spec, size, out)
    ok = np.flatnonzero(rows >= 0)
    cols = spec.in_channels * math.prod(size)
    entries = {(int(r), int(rows[r])): sympy.Integer(1) for r in ok}
    return sympy.SparseMatrix(len(rows), cols, entries)


def _fold_entries(
    spec: Conv, size: tuple[int, ...], out: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """fold's matrix from its own definition, as `(rows, cols, shape)` of its ones: column
    $(c, a, o)$ (C order) scatter-adds to padded position $S o + D a$, then the padding is
    cropped (an entry landing in the padding is dropped)."""
    d = spec.dims
    per_axis = []
    for ax in range(d):
        lo = spec.pads[ax][0]
        padded = _sizes.padded_length(size[ax], lo, spec.pads[ax][1])
        j = (  # (K_a, O_a): the padded position block (c, a), column o adds to
            spec.stride[ax] * np.arange(out[ax])[None, :]
            + spec.dilation[ax] * np.arange(spec.kernel_size[ax])[:, None]
        )
        assert (j < padded).all()  # the window fits the padded input
        i = j - lo  # crop the padding
        shape = [1] * (2 * d)
        shape[ax], shape[d + ax] = i.shape
        per_axis.append((i.reshape(shape), size[ax]))
    grid = (*spec.kernel_size, *out)
    inside = np.ones(grid, dtype=bool)
    flat = np.zeros(grid, dtype=np.int64)
    for i, n in per_axis:  # C order: flat = ((i_1) n_2 + i_2) n_3 + ...
        inside &= (i >= 0) & (i < n)
        flat = flat * n + i
    per = math.prod(size)
    c = np.arange(spec.in_channels)[:, None]
    rows = (c * per + flat.ravel()[None, :]).ravel()
    keep = np.broadcast_to(inside.ravel()[None, :], (spec.in_channels, inside.size)).ravel()
    cols = np.arange(rows.size)
    return rows[keep], cols[keep], (spec.in_channels * per, rows.size)


def fold_matrix(spec: Conv, input_size: int | Sequence[int]) -> sympy.SparseMatrix:
    r"""The matrix $\mathcal F$ of `fold` to `input_size` from its own definition: scatter-add
    block entry $(c, a, o)$ to padded position $S o + D a$, then crop the padding."""
    spec, size, out = _geometry("fold_matrix", spec, input_size)
    rows, cols, shape = _fold_entries(spec, size, out)
    entries: dict[tuple[int, int], Any] = {}
    for r, col in zip(rows.tolist(), cols.tolist(), strict=True):
        entries[(r, col)] = entries.get((r, col), 0) + 1
    return sympy.SparseMatrix(*shape, entries)


def unfold_fold_derivation(
    spec: Conv | None = None, input_size: int | Sequence[int] | None = None
) -> Derivation:
    r"""unfold is the patch matrix, fold its adjoint: $\mathcal F = \mathcal U^\top$.

    Steps: unfold's index form (a definition: a Piecewise keeping the in-range conditions of
    the zero padding), $\mathcal U = G\,\mathrm{Pad}$, its relation to `patch_matrix`
    ($\mathrm{unfold}(x) = X^\top$), fold's scatter-add (a definition), fold as
    $\mathrm{Crop}\,G^\top = \mathcal U^\top$. Checks, on integer tables (any size within
    `symconv.limits` is admitted): exact, every row of $\mathcal U$ equals the displayed
    Piecewise with this layer's numbers (evaluated one axis at a time: its conditions and its
    coordinate each read one axis), $\mathcal U$ equals $X^\top$'s index table (the
    `IndexForm` gather `patch_matrix` is assembled from) entry by entry, and fold's matrix
    $= \mathcal U^\top$ on this layer (column by column against $\mathcal U$'s row table,
    one column per row) and a grid of small layers (`fold_matrix`, `unfold_matrix`);
    numeric, against torch's `F.unfold` / `F.fold` (1-d and 2-d; when torch is installed).
    `results` holds the SymPy matrices `unfold` ($\mathcal U$) and `patch` ($X$) when they
    are small.

    ```python
    >>> import symconv as sc
    >>> d = unfold_fold_derivation(sc.Conv(dims=2, in_channels=16, kernel_size=3, padding=1), 64)
    >>> d.verify().passed
    True

    ```
    """
    spec = Conv(dims=2, in_channels=2, kernel_size=2, stride=1, padding=1) if spec is None else spec
    size = (3,) * spec.dims if input_size is None else input_size
    spec, size, out = _geometry("unfold_fold_derivation", spec, size)
    dims = spec.dims
    n, c = (sympy.Symbol(s, integer=True, nonnegative=True) for s in "nc")
    o = [sympy.Symbol(f"o_{i + 1}", integer=True, nonnegative=True) for i in range(dims)]
    t = [sympy.Symbol(f"a_{i + 1}", integer=True, nonnegative=True) for i in range(dims)]
    j = [sympy.Symbol(f"i_{i + 1}", integer=True, nonnegative=True) for i in range(dims)]
    S, D, K, O, In = (
        [sympy.Symbol(f"{name}_{i + 1}", positive=True, integer=True) for i in range(dims)]
        for name in "SDKOI"
    )
    P = [sympy.Symbol(f"P_{i + 1}", nonnegative=True, integer=True) for i in range(dims)]
    u, xs, Y = (sympy.IndexedBase(name) for name in (r"\mathrm{unfold}", "x", "Y"))
    fold = sympy.IndexedBase(r"\mathrm{fold}")
    read = [S[i] * o[i] + D[i] * t[i] - P[i] for i in range(dims)]  # unpadded coordinate
    inside = sympy.And(*(r for i in range(dims) for r in (read[i] >= 0, read[i] < In[i])))
    unfold_rhs = sympy.Piecewise((xs[(n, c, *read)], inside), (0, True))
    inside = unfold_rhs.args[0].cond  # SymPy's canonical form, as displayed
    d = Derivation(f"unfold and fold for {spec} on input {size}")
    d.add_step(
        "unfold: the patches",
        sympy.Eq(u[(n, sympy.Tuple(c, *t), sympy.Tuple(*o))], unfold_rhs),
        "torch's F.unfold: row (c, a), column o, 0 <= a < K, 0 <= o < O; zero padding P "
        "on both sides reads 0 outside the input",
        definition=True,
        keeps=inside.args if isinstance(inside, sympy.And) else [inside],
    )
    # U as its integer row table (one column per row, -1: a row of zeros); SymPy only when small
    u_rows = _unfold_rows(spec, size, out)
    u_shape = (len(u_rows), spec.in_channels * math.prod(size))
    ones = int((u_rows >= 0).sum())
    small = ones <= _SYMBOLIC_MAX
    one_out = Conv(dims=dims, in_channels=spec.in_channels, out_channels=1,
                   kernel_size=spec.kernel_size, stride=spec.stride, padding=spec.padding,
                   dilation=spec.dilation, bias=False)  # fmt: skip
    index_check = "U's rows are the index form on this layer"
    torch_check = "against torch's F.unfold and F.fold"
    d.add_step(
        "As a matrix",
        sympy.Eq(sympy.Symbol(r"\mathrm{vec}\,\mathrm{unfold}(x)"),
                 sympy.Symbol(r"\mathcal{U}\,\mathrm{vec}\,x")),
        f"U = G Pad: {u_shape[0]}x{u_shape[1]}, {ones} ones (a gather after zero padding)",
        by=[index_check, torch_check],
    )  # fmt: skip
    d.add_step(
        "unfold is the patch matrix",
        sympy.Eq(sympy.Symbol(r"\mathrm{unfold}(x)"), sympy.Symbol("X^{T}")),
        "X of symconv.patch_matrix for one output channel: rows o, columns (c, a)",
        by=[index_check, "unfold(x) = X^T, the patch matrix"],
    )
    taps = [(t[i], 0, K[i] - 1) for i in range(dims)] + [(o[i], 0, O[i] - 1) for i in range(dims)]
    hit = sympy.Mul(*(sympy.KroneckerDelta(read[i], j[i]) for i in range(dims)))
    d.add_step(
        "fold: the scatter-add",
        sympy.Eq(fold[(n, c, *j)],
                 sympy.Sum(Y[(n, sympy.Tuple(c, *t), sympy.Tuple(*o))] * hit, *taps)),
        "block (c, a), column o adds to padded position S o + D a; the padding is cropped "
        "(0 <= i < I)",
        definition=True,
    )  # fmt: skip
    d.add_step(
        "fold is the adjoint",
        sympy.Eq(sympy.Symbol(r"\mathcal{F}"), sympy.Symbol(r"\mathcal{U}^{T}")),
        "fold scatter-adds (G^T) and crops the padding (Crop = Pad^T): F = Crop G^T = U^T",
        by=["fold's matrix = U^T", torch_check],
    )
    if small:
        d.results.update(unfold=unfold_matrix(spec, size), patch=patch_matrix(one_out, size))

    def index_form_check() -> Outcome:
        """Every row of U against the displayed Piecewise with this layer's numbers, evaluated
        per axis (each condition and each coordinate must read one axis only)."""
        values = {
            **dict(zip(S, spec.stride, strict=True)),
            **dict(zip(D, spec.dilation, strict=True)),
            **dict(zip(P, (lo for lo, _ in spec.pads), strict=True)),
            **dict(zip(In, size, strict=True)),
        }
        want = _piecewise_reads(unfold_rhs, values, xs, (n, c), t, o, spec, size, out)
        if want is None:  # not of the per-axis shape: never passes silently
            return Outcome(0, 1.0, False, "the Piecewise does not factor per axis")
        bad = int((u_rows != want).sum())
        detail = "U's rows (one 1 each, or none) vs the Piecewise, per axis in int64"
        return Outcome(len(u_rows), float(bad), bad == 0, detail)

    def patch() -> Outcome:
        g = index_form(one_out, size).gather()  # the taps patch_matrix assembles X from
        n_o = math.prod(out)
        # X^T: rows (c, a, o), columns the x index; each row one 1 at U's column, or none
        got, bad = _one_per_row(g.weights * n_o + g.rows, g.cols, u_shape[0])
        bad += int((got != u_rows).sum())
        detail = "U vs X^T's (row, x index) table, row by row in int64; X = patch_matrix's gather"
        return Outcome(ones, float(bad), bad == 0, detail)

    def grid() -> Outcome:
        rows, cols, shape = _fold_entries(spec, size, out)
        # F = U^T: column j of F holds one 1, in row u_rows[j], or none (u_rows[j] = -1)
        got, here_bad = _one_per_row(cols, rows, u_shape[0])
        here_bad += int((got != u_rows).sum()) + int(shape != u_shape[::-1])
        here = float(here_bad)
        cases: list[tuple[Conv, tuple[int, ...]]] = []
        for k, s, dd, p, i in itertools.product((1, 2, 3), (1, 2), (1, 2), (0, 1), (3, 4, 5)):
            layer = Conv(dims=1, in_channels=2, kernel_size=k, stride=s, dilation=dd, padding=p)
            if _sizes.padded_length(i, p, p) >= _sizes.dilated_extent(k, dd):
                cases.append((layer, (i,)))
        cases.append((Conv(dims=2, kernel_size=(2, 3), stride=(2, 1), padding=(1, 0)), (4, 5)))

        def err(case: tuple[Conv, tuple[int, ...]]) -> float:
            layer, sz = case
            diff = fold_matrix(layer, sz) - unfold_matrix(layer, sz).T
            return float(max((abs(v) for v in diff.values()), default=0))

        small_grid = grid_check(cases, err)
        worst = max(here, small_grid.max_error)
        detail = f"this layer column by column in int64 (error {here:g}); small layers: "
        return Outcome(
            small_grid.cases + 1, worst, worst == 0.0, detail + (small_grid.detail or "exact")
        )

    d.check("unfold(x) = X^T, the patch matrix", "exact", patch)
    d.check(index_check, "exact", index_form_check)
    d.check("fold's matrix = U^T on this layer and small 1-d/2-d layers", "exact", grid)

    # a module-level function of plain values: `symconv derive` may run it in a worker process
    # holding torch (the registry entry `travels`); it rebuilds U's row table there
    d.check(torch_check, "numeric", partial(_unfold_fold_torch, spec, tuple(size)))
    return d


def _unfold_fold_torch(spec: Conv, size: tuple[int, ...]) -> Outcome:
    """U x against torch's `F.unfold`, U^T y against `F.fold` (float64), U from its row table
    (`_unfold_rows`, as the derivation reads it)."""
    torch = torch_or_none()
    if torch is None:  # the check is registered and reported as skipped, never absent
        raise SkipCheck("torch not installed (pip install torch): not checked")
    dims = spec.dims
    if dims not in (1, 2):
        raise SkipCheck("torch's unfold and fold take 1-d (as 2-d) and 2-d layers only")
    out = spec.output_size(size)
    u_rows = _unfold_rows(spec, size, out)
    u_shape = (len(u_rows), spec.in_channels * math.prod(size))
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    lift = (lambda v: (1, *v)) if dims == 1 else (lambda v: tuple(v))
    pads = lift([lo for lo, _ in spec.pads]) if dims == 2 else (0, spec.pads[0][0])
    kw = {
        "kernel_size": lift(spec.kernel_size),
        "dilation": lift(spec.dilation),
        "padding": pads,
        "stride": lift(spec.stride),
    }
    x = rng.standard_normal((spec.in_channels, math.prod(size)))
    y = rng.standard_normal(u_shape[0])
    read = u_rows >= 0  # U x gathers, U^T y scatter-adds: U's row table, no matrix
    ux = np.where(read, x.ravel()[np.maximum(u_rows, 0)], 0.0)
    uty = np.bincount(u_rows[read], weights=y[read], minlength=u_shape[1])
    xt_ = torch.from_numpy(x.reshape(1, spec.in_channels, *lift(size)))
    ref_u = F.unfold(xt_, **kw).numpy().ravel()
    blocks = y.reshape(1, -1, math.prod(out))
    ref_f = F.fold(torch.from_numpy(blocks), lift(size), **kw).numpy().ravel()
    e1 = discrepancy(ux, ref_u)
    e2 = discrepancy(uty, ref_f)
    worst = max(e1, e2)
    return Outcome(2, worst, worst < 1e-12, "U x vs F.unfold, U^T y vs F.fold (float64)")


def _piecewise_reads(
    rhs: Any,
    values: dict[Any, int],
    base: Any,
    lead: tuple[Any, Any],
    taps: list[Any],
    outs: list[Any],
    spec: Conv,
    size: tuple[int, ...],
    out: tuple[int, ...],
) -> np.ndarray | None:
    """The flat input index the Piecewise `rhs` reads at every row (c, a.., o..) of unfold,
    -1 where it is 0; evaluated one axis at a time on `(K_a, O_a)` grids (a read inside the
    conditions but outside the input counts as wrong: -2). `None` when `rhs` is not
    `Piecewise((x[n, c, r_1, ..], cond), (0, True))` with `r_a` and each condition reading
    only axis a's tap and output."""
    if len(rhs.args) != 2 or tuple(rhs.args[1]) != (0, sympy.true):
        return None
    expr, cond = rhs.args[0]
    dims = spec.dims
    if not isinstance(expr, sympy.Indexed) or expr.base != base or len(expr.indices) != 2 + dims:
        return None
    if tuple(expr.indices[:2]) != lead:
        return None
    conds = [q.xreplace(values) for q in (cond.args if isinstance(cond, sympy.And) else [cond])]
    tables = []
    used = 0
    for ax in range(dims):
        mine = {taps[ax], outs[ax]}
        here = [q for q in conds if q.free_symbols & mine]
        coord = expr.indices[2 + ax].xreplace(values)
        if not coord.free_symbols <= mine or any(not q.free_symbols <= mine for q in here):
            return None
        used += len(here)
        a, o = np.meshgrid(
            np.arange(spec.kernel_size[ax]), np.arange(out[ax]), indexing="ij", sparse=False
        )
        f = sympy.lambdify((taps[ax], outs[ax]), [coord, *here], "numpy")
        r, *flags = f(a, o)
        r = np.broadcast_to(np.asarray(r, dtype=np.int64), a.shape)
        hold = np.ones(a.shape, dtype=bool)
        for flag in flags:
            hold &= np.broadcast_to(np.asarray(flag, dtype=bool), a.shape)
        outside = hold & ((r < 0) | (r >= size[ax]))
        tables.append(np.where(hold, np.where(outside, -2, r), -1))
    if used != len(conds):  # a condition reading no tap or output (a constant)
        rest = [q for q in conds if not q.free_symbols & set(taps + outs)]
        if any(q not in (sympy.true, sympy.false) for q in rest):
            return None
        if sympy.false in rest:
            tables = [np.full_like(tb, -1) for tb in tables]
    grid = (*spec.kernel_size, *out)
    flat = np.zeros(grid, dtype=np.int64)
    zero, off = np.zeros(grid, dtype=bool), np.zeros(grid, dtype=bool)
    for ax, tb in enumerate(tables):
        shape = [1] * (2 * dims)
        shape[ax], shape[dims + ax] = tb.shape
        tb = tb.reshape(shape)
        zero |= tb == -1  # a condition fails: the Piecewise is 0
        off |= tb == -2
        flat = flat * size[ax] + np.maximum(tb, 0)
    per = math.prod(size)
    ch = np.arange(spec.in_channels, dtype=np.int64)[:, None]
    state = np.where(zero, -1, np.where(off, -2, 0)).ravel()[None, :]
    return np.where(state == 0, ch * per + flat.ravel()[None, :], state).ravel()


def adaptive_window_derivation(spec: Any = None, input_size: Any = None) -> Derivation:
    r"""Adaptive pooling's windows: $[\lfloor oI/O \rfloor, \lceil (o+1)I/O \rceil)$.

    Steps: the start and the end of window $o$, that the windows tile the axis, and the case
    $O \mid I$. General checks (symbolic): `symconv._sizes`' end is the ceiling; when $O$
    divides $I$ ($I = O m$) the displayed window is $[o m, (o+1) m)$: kernel = stride = $m$.
    Exact checks on every $1 \le I, O \le 24$: each window is non-empty, the first starts at 0
    and the last ends at $I$, neighbours meet or overlap (by at most one position), the longest
    window is at most $\lceil I/O \rceil + 1$, and the bounds equal ATen's integer rule
    ($\mathrm{start} = \lfloor o/O \rfloor I + \lfloor (o \bmod O) I / O \rfloor$,
    $\mathrm{end} = 1 + \lfloor ((o + 1) I - 1)/O \rfloor$). Numeric: torch's
    `adaptive_avg_pool1d` of the identity reads exactly these windows (when torch is installed).
    `spec` and `input_size` are not read (the statement is general).
    """
    o = sympy.Symbol("o", integer=True, nonnegative=True)
    I, O, m = (sympy.Symbol(s, integer=True, positive=True) for s in ("I", "O", "m"))
    start, end = _sizes.adaptive_start(o, I, O), _sizes.adaptive_end(o, I, O)
    ceil_end = sympy.ceiling((o + 1) * I / O)
    end_check, divides_check = "end is the ceiling", "O | I gives kernel = stride = I/O"
    cover_check, aten_check = "windows non-empty, cover [0, I)", "equal ATen's integer rule"
    torch_check = "torch's adaptive_avg_pool1d reads these windows"
    d = Derivation("Adaptive pooling: the window of output o")
    d.add_step(
        "Window start",
        sympy.Eq(sympy.Symbol(r"\mathrm{start}(o)"), start),
        "the first input position output o reads, 0 <= o < O",
        by=[aten_check, torch_check],
    )
    d.add_step(
        "Window end",
        sympy.Eq(sympy.Symbol(r"\mathrm{end}(o)"), ceil_end),
        "one past the last: the next output's start, rounded up",
        by=[end_check, aten_check, torch_check],
    )
    d.add_step(
        "The windows tile the axis",
        "start(0) = 0, end(O - 1) = I, start(o) < end(o), "
        "0 <= end(o) - start(o + 1) <= 1, end(o) - start(o) <= ceil(I/O) + 1",
        "non-empty windows that cover [0, I) and overlap by at most one position",
        by=cover_check,
    )
    at_om = sympy.Eq(
        sympy.Subs(sympy.Tuple(start, ceil_end), I, O * m),
        sympy.Tuple(o * m, (o + 1) * m),
        evaluate=False,
    )
    d.add_step(
        "O divides I",
        at_om,
        "at I = O m: ordinary pooling with kernel = stride = m",
        by=divides_check,
    )
    d.results.update(start=start, end=ceil_end)

    def same_end() -> Outcome:
        ok = sympy.simplify(end.rewrite(sympy.ceiling) - ceil_end) == 0  # -floor(-u)
        return Outcome(1, 0.0 if ok else 1.0, ok, "_sizes' -floor(-(o+1)I/O) = the ceiling")

    def divides() -> Outcome:
        got, want = at_om.lhs.doit(), at_om.rhs  # the displayed statement, substituted
        ok = all(sympy.simplify(g - w) == 0 for g, w in zip(got, want, strict=True))
        return Outcome(2, 0.0 if ok else 1.0, ok, "I = O m gives [o m, (o+1) m), symbols o, O, m")

    cases = [(i, n) for i in range(1, 25) for n in range(1, 25)]

    def cover(case: tuple[int, int]) -> float:
        i, n = case
        oo = np.arange(n)
        s, e = _sizes.adaptive_start(oo, i, n), _sizes.adaptive_end(oo, i, n)
        bad = (
            int((e <= s).sum())  # empty window
            + int(s[0] != 0)
            + int(e[-1] != i)
            + int((s[1:] > e[:-1]).sum())  # a gap
            + int((e[:-1] - s[1:] > 1).sum())  # overlap of more than one
            + int((e - s).max() > -(-i // n) + 1)
        )
        t = adaptive_table(i, n)  # the table numeric gathers with
        bad += int(((t >= 0).sum(axis=1) != e - s).sum()) + int((t[t >= 0] >= i).sum())
        return float(bad)

    def aten(case: tuple[int, int]) -> float:
        i, n = case
        oo = np.arange(n)
        s_ref = (oo // n) * i + ((oo % n) * i) // n
        e_ref = 1 + ((oo + 1) * i - 1) // n
        s, e = _sizes.adaptive_start(oo, i, n), _sizes.adaptive_end(oo, i, n)
        return float(np.abs(s - s_ref).max() + np.abs(e - e_ref).max())

    d.check(end_check, "general", same_end)
    d.check(divides_check, "general", divides)
    d.check(
        f"{cover_check}, overlap <= 1, length <= ceil(I/O) + 1; I, O <= 24",
        "exact",
        lambda: grid_check(cases, cover),
    )
    d.check(f"{aten_check}, I, O <= 24", "exact", lambda: grid_check(cases, aten))

    def against_torch() -> Outcome:
        torch = torch_or_none()
        if torch is None:  # the check is registered and reported as skipped, never absent
            raise SkipCheck("torch not installed (pip install torch): not checked")

        def err(case: tuple[int, int]) -> float:
            i, n = case
            eye = torch.eye(i, dtype=torch.float64)[None]  # (1, I, I): channel = input pos
            got = torch.nn.functional.adaptive_avg_pool1d(eye, n)[0].numpy()  # (I, O)
            oo = np.arange(n)
            s, e = _sizes.adaptive_start(oo, i, n), _sizes.adaptive_end(oo, i, n)
            pos = np.arange(i)[:, None]
            want = ((pos >= s) & (pos < e)) / (e - s)
            return discrepancy(got, want)

        small = [c for c in cases if c[0] <= 12 and c[1] <= 12]
        return grid_check(small, lambda c: 0.0 if err(c) < 1e-12 else err(c))

    d.check(f"{torch_check}, I, O <= 12", "numeric", against_torch)
    return d
