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
(`unfold_fold_derivation` certifies it exactly on small layers and against torch).

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
from typing import Any

import numpy as np
import sympy

from . import _sizes
from ._errors import SpecError
from ._indexmap import adaptive_table, window_table
from ._torchref import torch_or_none
from .derivation import Derivation, Outcome, SkipCheck, discrepancy, grid_check
from .spec import Conv

__all__ = [
    "adaptive_window_derivation",
    "fold_matrix",
    "unfold_fold_derivation",
    "unfold_matrix",
]


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


def _unfold_rows(spec: Conv, size: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """For every entry (c, a_1.., o_1..) of unfold(x) (C order), the flat input index it reads,
    -1 for a zero of the padding (the gather G after Pad)."""
    tables = []
    for a in range(spec.dims):
        t = window_table(out[a], spec.kernel_size[a], spec.stride[a], spec.dilation[a])
        u = t.T - spec.pads[a][0]  # (K_a, O_a): unpadded coordinate
        tables.append(np.where((u >= 0) & (u < size[a]), u, -1))
    d = spec.dims
    grids = []
    for a, t in enumerate(tables):  # position of (a_a, o_a) in the (K.., O..) grid
        shape = [1] * (2 * d)
        shape[a], shape[d + a] = t.shape
        grids.append(np.broadcast_to(t.reshape(shape), (*spec.kernel_size, *out)))
    valid = np.all([g >= 0 for g in grids], axis=0)
    flat = np.ravel_multi_index([np.maximum(g, 0) for g in grids], size)
    flat = np.where(valid, flat, -1).ravel()
    per = math.prod(size)
    c = np.arange(spec.in_channels)[:, None]
    return np.where(flat[None, :] >= 0, c * per + flat[None, :], -1).ravel()


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


def fold_matrix(spec: Conv, input_size: int | Sequence[int]) -> sympy.SparseMatrix:
    r"""The matrix $\mathcal F$ of `fold` to `input_size` from its own definition: scatter-add
    block entry $(c, a, o)$ to padded position $S o + D a$, then crop the padding."""
    spec, size, out = _geometry("fold_matrix", spec, input_size)
    padded = tuple(
        _sizes.padded_length(i, lo, hi) for i, (lo, hi) in zip(size, spec.pads, strict=True)
    )
    entries: dict[tuple[int, int], Any] = {}
    n_col = 0
    for c in range(spec.in_channels):
        for a in itertools.product(*(range(k) for k in spec.kernel_size)):
            for o in itertools.product(*(range(n) for n in out)):
                j = tuple(
                    spec.stride[ax] * o[ax] + spec.dilation[ax] * a[ax] for ax in range(spec.dims)
                )  # scatter into the padded output
                assert all(jj < p for jj, p in zip(j, padded, strict=True))
                i = tuple(jj - lo for jj, (lo, _) in zip(j, spec.pads, strict=True))  # crop
                if all(0 <= ii < n for ii, n in zip(i, size, strict=True)):
                    row = c * math.prod(size) + int(np.ravel_multi_index(i, size))
                    entries[(row, n_col)] = entries.get((row, n_col), 0) + 1
                n_col += 1
    return sympy.SparseMatrix(spec.in_channels * math.prod(size), n_col, entries)


def unfold_fold_derivation(
    spec: Conv | None = None, input_size: int | Sequence[int] | None = None
) -> Derivation:
    r"""unfold is the patch matrix, fold its adjoint: $\mathcal F = \mathcal U^\top$.

    Steps: unfold's index form (a definition: a Piecewise keeping the in-range conditions of
    the zero padding), $\mathcal U = G\,\mathrm{Pad}$, its relation to `patch_matrix`
    ($\mathrm{unfold}(x) = X^\top$), fold's scatter-add (a definition), fold as
    $\mathrm{Crop}\,G^\top = \mathcal U^\top$. Checks: exact, every row of
    $\mathcal U\,\mathrm{vec}(x)$ equals the displayed Piecewise with this layer's numbers, and
    $X^\top$ entry by entry (symbols), and `fold_matrix` $= \mathcal U^\top$ on this layer and a
    grid of small layers; numeric, against torch's `F.unfold` / `F.fold` (1-d and 2-d; when
    torch is installed).
    """
    from .toeplitz import patch_matrix

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
    Um = unfold_matrix(spec, size)
    X = patch_matrix(
        Conv(dims=dims, in_channels=spec.in_channels, out_channels=1,
             kernel_size=spec.kernel_size, stride=spec.stride, padding=spec.padding,
             dilation=spec.dilation, bias=False),
        size,
    )  # fmt: skip
    index_check = "U's rows are the index form on this layer"
    torch_check = "against torch's F.unfold and F.fold"
    d.add_step(
        "As a matrix",
        sympy.Eq(sympy.Symbol(r"\mathrm{vec}\,\mathrm{unfold}(x)"),
                 sympy.Symbol(r"\mathcal{U}\,\mathrm{vec}\,x")),
        f"U = G Pad: {Um.shape[0]}x{Um.shape[1]}, {Um.nnz()} ones (a gather after zero padding)",
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
    d.results.update(unfold=Um, patch=X)

    def index_form() -> tuple[int, float, bool, str]:
        """Every row of U against the displayed Piecewise with this layer's numbers."""
        values = {
            **dict(zip(S, spec.stride, strict=True)),
            **dict(zip(D, spec.dilation, strict=True)),
            **dict(zip(P, (lo for lo, _ in spec.pads), strict=True)),
            **dict(zip(In, size, strict=True)),
        }
        vec = sympy.Matrix([xs[(0, *idx)] for idx in np.ndindex(spec.in_channels, *size)])
        got = Um * vec
        rows = itertools.product(
            range(spec.in_channels), *(range(k) for k in spec.kernel_size), *(range(m) for m in out)
        )
        bad = 0
        for r, (cc, *rest) in enumerate(rows):
            at = {n: 0, c: cc, **dict(zip(t + o, rest, strict=True)), **values}
            bad += int(got[r] != unfold_rhs.xreplace(at))
        return Outcome(
            len(got), float(bad), bad == 0, "U vec(x) row by row vs the Piecewise, symbols x"
        )

    def patch() -> tuple[int, float, bool, str]:
        xs = sympy.IndexedBase("x")
        vec = sympy.Matrix([xs[idx] for idx in np.ndindex(spec.in_channels, *size)])
        got = Um * vec
        want = X.T.reshape(X.shape[1] * X.shape[0], 1)  # rows (c, a), columns o: C order
        ok = sympy.Matrix(got) == sympy.Matrix(want)
        return Outcome(1, 0.0 if ok else 1.0, ok, "U vec(x) == vec(X^T), symbolic entries x[c, i]")

    def grid() -> tuple[int, float, bool, str]:
        cases = [(spec, size)]
        for k, s, dd, p, i in itertools.product((1, 2, 3), (1, 2), (1, 2), (0, 1), (3, 4, 5)):
            layer = Conv(dims=1, in_channels=2, kernel_size=k, stride=s, dilation=dd, padding=p)
            if _sizes.padded_length(i, p, p) >= _sizes.dilated_extent(k, dd):
                cases.append((layer, (i,)))
        cases.append((Conv(dims=2, kernel_size=(2, 3), stride=(2, 1), padding=(1, 0)), (4, 5)))

        def err(case: tuple[Conv, tuple[int, ...]]) -> float:
            layer, sz = case
            diff = fold_matrix(layer, sz) - unfold_matrix(layer, sz).T
            return float(max((abs(v) for v in diff.values()), default=0))

        return grid_check(cases, err)

    d.check("unfold(x) = X^T, the patch matrix", "exact", patch)
    d.check(index_check, "exact", index_form)
    d.check("fold's matrix = U^T on this layer and small 1-d/2-d layers", "exact", grid)

    def against_torch() -> tuple[int, float, bool, str]:
        torch = torch_or_none()
        if torch is None:  # the check is registered and reported as skipped, never absent
            raise SkipCheck("torch not installed (pip install torch): not checked")
        if dims not in (1, 2):
            raise SkipCheck("torch's unfold and fold take 1-d (as 2-d) and 2-d layers only")
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
        y = rng.standard_normal(Um.shape[0])
        u_np = np.array(Um.tolist(), dtype=float)
        xt_ = torch.from_numpy(x.reshape(1, spec.in_channels, *lift(size)))
        ref_u = F.unfold(xt_, **kw).numpy().ravel()
        blocks = y.reshape(1, -1, math.prod(out))
        ref_f = F.fold(torch.from_numpy(blocks), lift(size), **kw).numpy().ravel()
        e1 = discrepancy(u_np @ x.ravel(), ref_u)
        e2 = discrepancy(u_np.T @ y, ref_f)
        worst = max(e1, e2)
        return Outcome(2, worst, worst < 1e-12, "U x vs F.unfold, U^T y vs F.fold (float64)")

    d.check(torch_check, "numeric", against_torch)
    return d


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

    def same_end() -> tuple[int, float, bool, str]:
        ok = sympy.simplify(end.rewrite(sympy.ceiling) - ceil_end) == 0  # -floor(-u)
        return Outcome(1, 0.0 if ok else 1.0, ok, "_sizes' -floor(-(o+1)I/O) = the ceiling")

    def divides() -> tuple[int, float, bool, str]:
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

    def against_torch() -> tuple[int, float, bool, str]:
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
