r"""What every equivariance check shares: the result type, the arguments, the rows of $T$.

`equivariance` compares $T P_g^\mathrm{in}$ with $P_{g'}^\mathrm{out} T$ row by row. This
module holds the pieces every transformation uses: `Equivariance` (the derivation returned),
the argument normalisation, the rows of $T$ (or the pooling windows) as `{input: coefficient}`
dicts, the index maps $\pi_g$, and the row comparison. Private: `symconv.equivariance`
re-exports the public names.
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from .._errors import SpecError
from ..derivation import Derivation
from ..indexform import index_form
from ..spec import Conv, Pool
from ..toeplitz import toeplitz

__all__ = ["TRANSFORMS", "Equivariance"]

TRANSFORMS = ("translate", "rot90", "flip_h", "flip_v")
_OP = "equivariance"
_ZERO = -1  # column key of a constant 0 entering a max-pooling window (a zero-filled shift)

Row = dict[int, Any]  # input column -> coefficient (max pooling: 1 per input read)


@dataclass
class Equivariance(Derivation):
    r"""The derivation `equivariance` returns; `results` holds the numbers, these name them.

    - `exact`: whether $f(g\,x) = g'(f(x))$ holds for every input (and, with symbolic weights,
      for every weight);
    - `broken`: the output positions (spatial index tuples, sorted) where it fails;
    - `condition`: for rotations and flips, the equations on the weights that make it exact
      (a list; `results["condition"]` holds them as a sequence built when read, one channel
      pair's equations repeated for every pair).
    """

    @property
    def exact(self) -> bool:
        return bool(self.results["exact"])

    @property
    def broken(self) -> tuple[tuple[int, ...], ...]:
        return tuple(self.results["broken"])

    @property
    def condition(self) -> list[sympy.Eq]:
        return list(self.results.get("condition", []))


# -- argument normalisation -----------------------------------------------------------------
def _default_size(spec: Conv | Pool) -> tuple[int, ...]:
    start = {1: 7, 2: 6, 3: 4}[spec.dims]
    for n in range(start, 65):
        try:
            spec.output_size(n)
        except SpecError:
            continue
        return (n,) * spec.dims
    raise SpecError(f"{_OP}: no input size up to 64 fits {spec}; give input_size")


def _sizes_of(spec: Conv | Pool, input_size: Any) -> tuple[int, ...]:
    if input_size is None:
        return _default_size(spec)
    spec.output_size(input_size)  # validates, raising the spec's own SpecError
    if isinstance(input_size, Sequence):
        return tuple(int(v) for v in input_size)
    return (int(input_size),) * spec.dims


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral | np.integer) and not isinstance(v, bool | np.bool_)


def _shift_of(spec: Conv | Pool, shift: Any) -> tuple[int, ...]:
    if shift is None:
        return (1,) * spec.dims
    if _is_int(shift):
        return (int(shift),) * spec.dims
    if isinstance(shift, str) or not isinstance(shift, Sequence):
        raise SpecError(
            f"{_OP}: shift must be an integer or a tuple of {spec.dims} integers, got {shift!r}"
        )
    if len(shift) != spec.dims:
        raise SpecError(
            f"{_OP}: shift {tuple(shift)!r} has {len(shift)} entries, expected "
            f"{spec.dims} (one per spatial axis)"
        )
    for v in shift:
        if not _is_int(v):
            raise SpecError(f"{_OP}: shift entries must be integers, got {v!r} in {tuple(shift)!r}")
    return tuple(int(v) for v in shift)


def _check_transform(spec: Conv | Pool, transform: Any, sizes: tuple[int, ...], shift: Any) -> None:
    if not isinstance(transform, str) or transform not in TRANSFORMS:
        options = ", ".join(repr(t) for t in TRANSFORMS)
        raise SpecError(f"{_OP}: transform must be one of {options}, got {transform!r}")
    if transform == "translate":
        return
    if shift is not None:
        raise SpecError(
            f"{_OP}: shift {shift!r} applies to transform 'translate' only, not {transform!r}"
        )
    need_2d = transform in ("rot90", "flip_v")
    if need_2d and spec.dims != 2:
        raise SpecError(f"{_OP}: transform {transform!r} needs dims 2, got dims {spec.dims}")
    if transform == "flip_h" and spec.dims not in (1, 2):
        raise SpecError(f"{_OP}: transform 'flip_h' needs dims 1 or 2, got dims {spec.dims}")
    if transform == "rot90":
        if sizes[0] != sizes[1]:
            raise SpecError(f"{_OP}: transform 'rot90' needs a square input, got {sizes}")
        out = spec.output_size(sizes)
        if out[0] != out[1]:
            raise SpecError(
                f"{_OP}: transform 'rot90' needs a square output, got {out} "
                f"(kernel, stride, dilation or padding differ between the axes)"
            )


def _weights(spec: Conv | Pool, weight: Any) -> dict[sympy.Indexed, Any] | None:
    """`weight` (an array of `weight_shape`) as a substitution for the symbols `w[k, c, ...]`."""
    if weight is None:
        return None
    if isinstance(spec, Pool):
        raise SpecError(f"{_OP}: weight applies to a Conv, pooling has no weights")
    w = np.asarray(weight, dtype=object)
    if w.shape != spec.weight_shape:
        if w.shape == tuple(spec.kernel_size) and spec.weight_shape[:2] == (1, 1):
            w = w.reshape(spec.weight_shape)
        else:
            raise SpecError(
                f"{_OP}: weight shape {w.shape} does not match the spec's "
                f"weight_shape {spec.weight_shape}"
            )
    base = sympy.IndexedBase("w")
    return {base[idx]: sympy.nsimplify(w[idx], rational=True) for idx in np.ndindex(*w.shape)}


# -- rows and index maps --------------------------------------------------------------------
def _rows(
    spec: Conv | Pool, sizes: tuple[int, ...], subs: dict[sympy.Indexed, Any] | None
) -> tuple[dict[int, Row], tuple[int, ...], tuple[int, ...]]:
    """Every output row as `{input column: coefficient}`: T's rows (Conv) or the windows (Pool)."""
    form = index_form(spec, sizes)
    rows: dict[int, Row] = defaultdict(dict)
    if isinstance(spec, Conv):
        for (r, c), v in toeplitz(spec, sizes).todok().items():
            v = v.xreplace(subs) if subs else v
            if v != 0:
                rows[r][c] = v
        return rows, form.in_shape(), form.out_shape()
    g = form.gather()
    coef: Callable[[int], Any] = lambda r: sympy.Integer(1)  # noqa: E731
    if spec.kind == "avg":
        div = form.divisors().ravel()
        coef = lambda r: sympy.Rational(1, int(div[r]))  # noqa: E731
    for r, c in zip(g.rows.tolist(), g.cols.tolist(), strict=True):
        rows[r][c] = 1 if spec.kind == "max" else rows[r].get(c, 0) + coef(r)
    return rows, form.in_shape(), form.out_shape()


def _spatial_map(
    transform: str, shape: tuple[int, ...], shift: tuple[int, ...], cyclic: bool
) -> np.ndarray:
    r"""$\pi$ with $(g x)[j] = x[\pi(j)]$ on the flattened spatial grid `shape`; -1 = a zero."""
    idx = [g.ravel() for g in np.indices(shape)]
    if transform == "translate":
        src = [i - t for i, t in zip(idx, shift, strict=True)]
        if cyclic:
            src = [np.mod(s, n) for s, n in zip(src, shape, strict=True)]
    elif transform == "rot90":  # numpy's rot90: rot(x)[i, j] = x[j, n - 1 - i]
        src = [idx[1], shape[0] - 1 - idx[0]]
    elif transform == "flip_h":  # mirror left-right: the last axis reversed
        src = [*idx[:-1], shape[-1] - 1 - idx[-1]]
    else:  # flip_v: mirror top-bottom, the first of two axes reversed
        src = [shape[0] - 1 - idx[0], idx[1]]
    inside = np.all([(s >= 0) & (s < n) for s, n in zip(src, shape, strict=True)], axis=0)
    flat = np.ravel_multi_index([np.where(inside, s, 0) for s in src], shape)
    return np.where(inside, flat, -1)


def _full_map(spatial: np.ndarray, channels: int) -> np.ndarray:
    """The spatial map on `(channel, *spatial)` flat indices (channels are not moved)."""
    n = len(spatial)
    full = np.arange(channels)[:, None] * n + spatial[None, :]
    return np.where(spatial[None, :] >= 0, full, -1).ravel()


def _moved(row: Row, pi_in: np.ndarray, is_max: bool) -> Row:
    r"""Row $o$ of $T P$: the coefficient of $x[\pi(j)]$ is $T[o, j]$ (zeros entering dropped;
    for max pooling a zero entering a window is a value, kept as the key `_ZERO`)."""
    out: Row = {}
    for c, v in row.items():
        src = _ZERO if c == _ZERO else int(pi_in[c])
        if src == _ZERO and not is_max:
            continue
        out[src] = v if is_max else out.get(src, 0) + v
    return {c: v for c, v in out.items() if is_max or v != 0}


def _compare(
    rows: dict[int, Row],
    pi_in: np.ndarray,
    pi_out: np.ndarray,
    out_shape: tuple[int, ...],
    is_max: bool,
    stop: bool = False,
) -> list[int]:
    """Flat output indices whose rows of $T P_\\mathrm{in}$ and $P_\\mathrm{out} T$ differ."""
    zero: Row = {_ZERO: 1} if is_max else {}
    bad = []
    for o in range(math.prod(out_shape)):
        lhs = _moved(rows.get(o, {}), pi_in, is_max)
        src = int(pi_out[o])
        rhs = zero if src < 0 else rows.get(src, {})
        if lhs != rhs:
            bad.append(o)
            if stop:
                break
    return bad


def _spatial(flat: Sequence[int], out_shape: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Distinct spatial positions (channel dropped) of flat output indices, sorted."""
    if len(flat) < 64:  # a few: per index (numpy's per-call cost would dominate)
        pos = {tuple(int(v) for v in np.unravel_index(f, out_shape)[1:]) for f in flat}
        return tuple(sorted(pos))
    idx = np.stack(np.unravel_index(np.asarray(flat, dtype=np.int64), out_shape)[1:], axis=1)
    return tuple(tuple(int(v) for v in p) for p in np.unique(idx, axis=0))


def _expr(row: Row, in_shape: tuple[int, ...], kind: str) -> Any:
    """A row as a SymPy expression in `x[c, i_1, ...]`."""
    x = sympy.IndexedBase("x")
    terms = {
        c: x[tuple(int(v) for v in np.unravel_index(c, in_shape))]
        if c != _ZERO
        else sympy.Integer(0)
        for c in row
    }
    if kind == "max":
        return (
            sympy.Max(*terms.values(), evaluate=False)
            if len(terms) > 1
            else (next(iter(terms.values())) if terms else sympy.Integer(0))
        )
    return sympy.Add(*[row[c] * terms[c] for c in row])


def _kind(spec: Conv | Pool) -> str:
    return spec.kind if isinstance(spec, Pool) else "conv"
