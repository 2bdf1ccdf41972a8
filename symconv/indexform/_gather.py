"""An index form's taps in bulk: the flattened `Gather` of every tap (and of the padding), its
`Factors`, and the counts read from the per-axis tap tables (taps, nonzeros, average-pooling
divisors). `IndexForm`'s methods of the same names call these."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import numpy as np

from .._cache import pure
from .._errors import SpecError
from ._values import Factors, Gather

if TYPE_CHECKING:
    from . import IndexForm


def divisors(form: IndexForm) -> np.ndarray:
    """`IndexForm.divisors`: average pooling's divisor per output position."""
    form._sized("divisors")
    spec = form.spec
    if form.kind != "pool" or spec.kind != "avg":
        raise SpecError(f"{form._op}: divisors() applies to average pooling only")
    if spec.divisor_override is not None:
        return np.full(form.output_size, spec.divisor_override)  # type: ignore[arg-type]  # sized
    per_axis = []
    for a, ax in enumerate(form.axes):
        if spec.count_include_pad:
            out, size = cast(int, ax.out), cast(int, ax.size)  # sized (checked above)
            start = ax.stride * np.arange(out) - ax.lo
            per_axis.append(np.minimum(start + ax.kernel, size + ax.hi) - start)
        else:
            per_axis.append((form.tap_table(a) >= 0).sum(axis=1))
    return np.prod(np.meshgrid(*per_axis, indexing="ij"), axis=0)


def tap_count(form: IndexForm, padded: bool = False) -> int:
    """`IndexForm.tap_count`: the number of taps `gather()` returns."""
    per_axis = [int((form.tap_table(a, padded) >= 0).sum()) for a in range(form.dims)]
    return len(form._channel_table()[0]) * math.prod(per_axis)


def nonzeros(form: IndexForm, padded: bool = False) -> int:
    """`IndexForm.nonzeros`: distinct `(row, col)` pairs, per axis."""
    per_axis = []
    for a in range(form.dims):
        t = form.tap_table(a, padded)
        r, _ = np.nonzero(t >= 0)
        cols = t[t >= 0]
        width = int(cols.max()) + 1 if cols.size else 1  # a key per (row, col): no two collide
        per_axis.append(len(np.unique(r * width + cols)))
    return len(form._channel_table()[0]) * math.prod(per_axis)


def gather(form: IndexForm, padded: bool = False) -> Gather:
    """`IndexForm.gather`: every tap as flattened `(rows, cols, weights)` arrays."""
    if padded and form.kind in ("transpose",):
        raise SpecError(f"{form._op}: a transposed convolution has no padded input")
    out_shape, in_shape = form.out_shape(), form.in_shape(padded)
    per_axis = []
    for a in range(form.dims):
        t = form.tap_table(a, padded)
        r, k = np.nonzero(t >= 0)
        per_axis.append((r, k, t[r, k]))
    grid = np.indices([len(p[0]) for p in per_axis]).reshape(form.dims, -1)
    o = [p[0][g] for p, g in zip(per_axis, grid, strict=True)]
    tap = [p[1][g] for p, g in zip(per_axis, grid, strict=True)]
    src = [p[2][g] for p, g in zip(per_axis, grid, strict=True)]
    out_sp = np.ravel_multi_index(o, out_shape[1:])
    in_sp = np.ravel_multi_index(src, in_shape[1:])
    ks, cins, _ = form._channel_table()
    rows = (ks[:, None] * math.prod(out_shape[1:]) + out_sp[None, :]).ravel()
    cols = (cins[:, None] * math.prod(in_shape[1:]) + in_sp[None, :]).ravel()
    n_ch, n_sp = len(ks), len(out_sp)
    if form.kind == "pool":
        widx = np.ravel_multi_index(tap, form.weight_shape)
        weights = np.broadcast_to(widx[None, :], (n_ch, n_sp)).ravel()
    else:  # channel pair t is (k, c) with t = k * C_in/G + c
        c_idx = np.arange(n_ch) % (form.in_channels // form.groups)
        parts, _ = form._weight_parts(
            ks[:, None], c_idx[:, None], [v[None, :] for v in o], [v[None, :] for v in tap]
        )
        weights = _ravel_broadcast(parts, form.weight_shape, (n_ch, n_sp))
    return Gather(rows, cols, np.ascontiguousarray(weights), out_shape, in_shape, form.weight_shape)


def _ravel_broadcast(
    parts: list[np.ndarray], shape: tuple[int, ...], full: tuple[int, int]
) -> np.ndarray:
    """`np.ravel_multi_index(parts, shape)` of parts that broadcast to `full`, flattened: the
    C-order index built by Horner's rule on the broadcast parts (one array of the full size,
    not one copy per part); an entry outside `shape` raises `ValueError` as numpy's does."""
    flat: np.ndarray | None = None
    for p, n in zip(parts, shape, strict=True):
        p = np.asarray(p, dtype=np.int64)
        if p.size and (int(p.min()) < 0 or int(p.max()) >= n):
            raise ValueError("invalid entry in coordinates array")
        if flat is None:
            flat = p.copy()  # ours: updated in place below
        elif flat.shape == np.broadcast_shapes(flat.shape, p.shape):
            flat *= n
            flat += p
        else:
            flat = flat * n + p
    assert flat is not None
    return np.ascontiguousarray(np.broadcast_to(flat, full)).ravel()


def factor_tables(form: IndexForm, padded: bool) -> Factors:
    """`IndexForm.factors`, uncached: the channel table and one tap table per axis."""
    if form.kind not in ("conv", "transpose"):
        raise SpecError(
            f"{form._op}: factors() needs weights shared over positions (Conv or "
            f"ConvTranspose), not kind {form.kind!r}"
        )
    if padded and form.kind == "transpose":
        raise SpecError(f"{form._op}: a transposed convolution has no padded input")
    ks, cins, _ = form._channel_table()
    cin_g = form.in_channels // form.groups
    c_idx = np.arange(len(ks)) % cin_g
    zero = [np.zeros(1, dtype=np.int64) for _ in range(form.dims)]
    lead, _ = form._weight_parts(ks, c_idx, zero, zero)
    lead_shape = form.weight_shape[: len(form.weight_shape) - form.dims]
    lead_flat = np.ravel_multi_index(lead[: len(lead_shape)], lead_shape)
    axes = []
    for a in range(form.dims):
        t = form.tap_table(a, padded)
        o, k = np.nonzero(t >= 0)
        axes.append(np.stack([o, k, t[o, k]], axis=1).astype(np.int64))
    return Factors(
        np.stack([ks, cins, lead_flat], axis=1).astype(np.int64),
        tuple(axes),
        form.out_shape(),
        form.in_shape(padded),
        form.weight_shape,
    )


def pad_gather(form: IndexForm) -> Gather:
    """`IndexForm.pad_gather`: the padding as a gather."""
    in_shape, padded_shape = form.in_shape(), form.in_shape(padded=True)
    tables = [form.pad_table(a) for a in range(form.dims)]
    grids = np.meshgrid(*[np.arange(len(t)) for t in tables], indexing="ij")
    src = [t[g.ravel()] for t, g in zip(tables, grids, strict=True)]
    ok = np.all([s >= 0 for s in src], axis=0)
    j_sp = np.ravel_multi_index([g.ravel()[ok] for g in grids], padded_shape[1:])
    i_sp = np.ravel_multi_index([s[ok] for s in src], in_shape[1:])
    c = np.arange(form.in_channels)[:, None]
    rows = (c * math.prod(padded_shape[1:]) + j_sp[None, :]).ravel()
    cols = (c * math.prod(in_shape[1:]) + i_sp[None, :]).ravel()
    return Gather(rows, cols, np.zeros_like(rows), padded_shape, in_shape, (1,))


@pure(maxsize=256)
def cached_factors(form: IndexForm, padded: bool) -> Factors:
    """`factor_tables`, kept in the in-process cache of pure values (read-only arrays)."""
    f = factor_tables(form, padded)
    for arr in (f.channels, *f.axes):
        arr.flags.writeable = False  # shared through the cache
    return f
