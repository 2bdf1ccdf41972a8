r"""The index form: every operator of the convolution family, written once.

Cross-correlation with stride $S$, dilation $D$, padding $P$ and groups $G$, per spatial axis:

$$y[n, k, o] = b[k] + \sum_{c < C_\mathrm{in}/G} \sum_{a < K}
  \tilde x\big[n,\ \lfloor k / (C_\mathrm{out}/G) \rfloor \tfrac{C_\mathrm{in}}{G} + c,\
  S o + D a\big]\, w[k, c, a]$$

where $\tilde x[j] = x[\varphi(j - P_\mathrm{lo})]$ and $\varphi$ is the padding mode's index map
(zeros: outside $\to$ nothing; circular: $i \bmod n$; reflect: mirror without repeating the
edge; replicate: clamp). True convolution (`flip=True`) reverses the tap, $a \to K - 1 - a$.
Pooling replaces $\sum \cdot w$ by max, mean or the $L_p$ norm and does not mix channels;
locally connected and tiled layers give the weight the output position as an extra index;
the transposed convolution is the scatter $y[q] \mathrel{+}= x[i]\,w[a]$ for $q = S i + D a - P$.

This module is the only place that computes input positions. Everything downstream (the
Toeplitz builder, derivations, code printers, docs, tests) reads an `IndexForm`:

- `source(axis, o, a)` and `pad_map(axis, j)`: the index map as pure functions of integers;
- `tap_table(axis)`: the same map for every `(o, a)` at once, a NumPy array;
- `taps(out_index)`: the (weight index, input index) pairs one output reads;
- `gather()`: every tap of the operator as flattened `(row, col, weight)` arrays;
- `expression()` / `latex()`: the symbolic formula with symbolic sizes.

```python
>>> import symconv as sc
>>> form = sc.index_form(sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="reflect"), 5)
>>> [form.source(0, 0, a) for a in range(3)]     # x̃[-1] reflects onto x[1]
[1, 0, 1]

```
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import sympy

from .. import _cache, _sizes
from .._cache import pure
from .._errors import SpecError
from .._indexmap import phi as _phi
from .._indexmap import window_coord
from .._validate import as_int
from ..derivation import latex
from ..local import LocallyConnected, Tiled
from ..spec import Conv, Pool
from ..transpose import ConvTranspose

__all__ = ["Axis", "Factors", "Gather", "IndexForm", "WindowMax", "index_form"]

Kind = Literal["conv", "local", "tiled", "pool", "transpose"]


@dataclass(frozen=True)
class Axis:
    """One spatial axis of an index form: the numbers the index map needs.

    `size` and `out` are the input and output lengths (`None` when the form is symbolic);
    `lo`, `hi` the padding (for a transposed convolution: the cropping $p$ and $p$ minus the
    output padding's extension); `mode` the padding mode; `flip` whether the tap is reversed.
    """

    kernel: int
    stride: int
    dilation: int
    lo: int
    hi: int
    size: int | None
    out: int | None
    mode: str = "zeros"
    flip: bool = False

    @property
    def padded(self) -> int | None:
        """Length of the padded input $\\tilde x$."""
        return None if self.size is None else _sizes.padded_length(self.size, self.lo, self.hi)


@dataclass(frozen=True)
class Gather:
    """Every tap of an operator, flattened (C order), as parallel integer arrays.

    Tap `t` says: output `rows[t]` reads input `cols[t]` times weight `weights[t]` (a flat index
    into `weight_shape`; for pooling, the flat window offset). Rows index `(C_out, *out_shape)`,
    columns `(C_in, *in_shape)`. A pair `(row, col)` can repeat (reflect, replicate and circular
    padding fold two taps onto one input): the matrix entry is then the sum.
    """

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    out_shape: tuple[int, ...]  # (C_out, *spatial)
    in_shape: tuple[int, ...]  # (C_in, *spatial)
    weight_shape: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, int]:
        return math.prod(self.out_shape), math.prod(self.in_shape)

    def __len__(self) -> int:
        return int(self.rows.size)


@dataclass(frozen=True)
class Factors:
    r"""An operator's taps as a product: channel pairs times one tap table per axis.

    `channels` has one row `(k, c_in, lead)` per channel pair (output channel, input channel,
    flat index of the weight's leading, non-spatial part); `axes[d]` one row `(o, a, i)` per tap
    of axis `d` that reads the input (output position, kernel tap, input position). Every tap
    of the operator is one row of each, so two operators with equal factor tables have equal
    coefficient tables (the converse needs no more than nonempty factors).
    """

    channels: np.ndarray
    axes: tuple[np.ndarray, ...]
    out_shape: tuple[int, ...]
    in_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.channels) * math.prod(len(a) for a in self.axes)

    def gather(self) -> Gather:
        """The product, flattened as `IndexForm.gather()` flattens it (for tests and display)."""
        dims = len(self.axes)
        grid = np.indices([len(a) for a in self.axes]).reshape(dims, -1)
        o = [a[g, 0] for a, g in zip(self.axes, grid, strict=True)]
        tap = [a[g, 1] for a, g in zip(self.axes, grid, strict=True)]
        src = [a[g, 2] for a, g in zip(self.axes, grid, strict=True)]
        out_sp = np.ravel_multi_index(o, self.out_shape[1:])
        in_sp = np.ravel_multi_index(src, self.in_shape[1:])
        a_sp = np.ravel_multi_index(tap, self.weight_shape[len(self.weight_shape) - dims :])
        k, cin, lead = self.channels.T
        n_out, n_in, n_a = (
            math.prod(self.out_shape[1:]),
            math.prod(self.in_shape[1:]),
            math.prod(self.weight_shape[len(self.weight_shape) - dims :]),
        )
        rows = (k[:, None] * n_out + out_sp[None, :]).ravel()
        cols = (cin[:, None] * n_in + in_sp[None, :]).ravel()
        weights = (lead[:, None] * n_a + a_sp[None, :]).ravel()
        return Gather(rows, cols, weights, self.out_shape, self.in_shape, self.weight_shape)


class WindowMax(sympy.Function):
    r"""Unevaluated maximum over a window: `WindowMax(expr, (a, 0, K - 1), ...)`.

    Renders as $\max_{0 \le a < K} \mathrm{expr}$; the limits follow `sympy.Sum`'s convention
    (inclusive upper bound).
    """

    @classmethod
    def eval(cls, *args: Any) -> None:
        return None

    def _latex(self, printer: Any) -> str:
        expr, *limits = self.args
        lims = r",\ ".join(
            rf"{printer._print(lo)} \le {printer._print(v)} \le {printer._print(hi)}"
            for v, lo, hi in limits
        )
        return rf"\max_{{{lims}}} {printer._print(expr)}"


@dataclass(frozen=True)
class IndexForm:
    r"""The index form of one operator; build it with `index_form(spec, input_size)`.

    Attributes:
        spec: the layer specification it was built from.
        kind: `"conv"`, `"local"` (unshared weights), `"tiled"`, `"pool"` or `"transpose"`.
        axes: one `Axis` per spatial dimension.
        in_channels, out_channels, groups: channel structure ($C_\mathrm{in}/G$ inputs per output;
            pooling: one, its own channel).
        input_size, output_size: spatial sizes, `None` for a symbolic form.
        weight_shape: the weight tensor's shape; pooling: the window `kernel_size`.

    A code printer walks `gather()` (or `tap_table` per axis for separable loops); a backprop
    derivation reads `expression()` and differentiates through the `Indexed` objects.
    """

    spec: Any
    kind: Kind
    axes: tuple[Axis, ...]
    in_channels: int
    out_channels: int
    groups: int
    input_size: tuple[int, ...] | None
    output_size: tuple[int, ...] | None
    weight_shape: tuple[int, ...]
    tiles: tuple[int, ...] | None = None

    @property
    def dims(self) -> int:
        return len(self.axes)

    @property
    def _op(self) -> str:
        return type(self.spec).__name__

    def _sized(self, what: str) -> tuple[int, ...]:
        if self.input_size is None or self.output_size is None:
            raise SpecError(
                f"{self._op}: {what} needs a concrete input_size (this form is symbolic)"
            )
        return self.input_size

    # -- the index map ----------------------------------------------------------------------
    def pad_map(self, axis: int, j: int) -> int | None:
        r"""Input index of padded coordinate `j`, $\varphi(j - P_\mathrm{lo})$; `None`: a zero."""
        self._sized("pad_map")
        ax = self._axis(axis)
        if self.kind == "transpose":
            raise SpecError(f"{self._op}: a transposed convolution crops, it has no padded input")
        if not 0 <= j < ax.padded:  # type: ignore[operator]  # sized (checked above)
            return None  # beyond the padded input (ceil-mode pooling windows)
        i = int(_phi(ax.mode, j - ax.lo, ax.size))  # type: ignore[arg-type]  # sized
        return None if i < 0 else i

    def source(self, axis: int, o: int, a: int) -> int | None:
        r"""Unpadded input index read by output `o` at kernel tap `a`, `None` for a zero pad.

        Convolution and pooling: $\varphi(S o + D a' - P_\mathrm{lo})$ with $a' = K - 1 - a$
        under `flip`, else $a$. Transposed convolution: the $i$ with $S i + D a - P = o$ (an
        integer in range), else `None`.
        """
        self._sized("source")
        return _none(int(self._table(axis, np.array([o]), np.array([a]))[0, 0]))

    def _axis(self, axis: int) -> Axis:
        if not 0 <= axis < self.dims:
            raise SpecError(f"{self._op}: axis {axis} out of range for dims {self.dims}")
        return self.axes[axis]

    def _table(self, axis: int, o: np.ndarray, a: np.ndarray, padded: bool = False) -> np.ndarray:
        """Vectorised index map on the grid `o[:, None]`, `a[None, :]`; -1 where nothing is read."""
        ax = self._axis(axis)
        size = cast(int, ax.size)  # callers checked `_sized`
        o, a = np.asarray(o)[:, None], np.asarray(a)[None, :]
        if self.kind == "transpose":  # gather form of the scatter q = S i + D a - P
            num, s = _sizes.transpose_source(o, a, ax.stride, ax.dilation, ax.lo)
            i = num // s
            ok = (num % s == 0) & (i >= 0) & (i < size)
            return np.where(ok, i, -1)
        j = window_coord(o, a, ax.kernel, ax.stride, ax.dilation, ax.flip)  # padded coordinate
        if padded:
            return np.where(j < ax.padded, j, -1)
        inside = (j >= 0) & (j < ax.padded)
        return np.where(inside, _phi(ax.mode, j - ax.lo, size), -1)

    def tap_table(self, axis: int, padded: bool = False) -> np.ndarray:
        """`source(axis, o, a)` for all outputs `o`, taps `a`: an `(out, kernel)` array, -1: none.

        With `padded=True`, the padded coordinate $S o + D a'$ instead (the valid convolution of
        $\\tilde x$; used for $T = V \\cdot \\mathrm{Pad}$).
        """
        self._sized("tap_table")
        ax = self._axis(axis)
        return self._table(axis, np.arange(cast(int, ax.out)), np.arange(ax.kernel), padded)

    def pad_table(self, axis: int) -> np.ndarray:
        """`pad_map(axis, j)` for every padded coordinate `j`: an int array, -1 = a zero."""
        self._sized("pad_table")
        ax = self._axis(axis)
        if self.kind == "transpose":
            raise SpecError(f"{self._op}: a transposed convolution crops, it has no padded input")
        padded, size = cast(int, ax.padded), cast(int, ax.size)  # sized (checked above)
        return _phi(ax.mode, np.arange(padded) - ax.lo, size)

    # -- channels and weights ---------------------------------------------------------------
    def _channel_table(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Output channel, input channel and leading weight indices of every channel pair."""
        cin_g, cout_g = self.in_channels // self.groups, self.out_channels // self.groups
        if self.kind == "pool":
            c = np.arange(self.out_channels)
            return c, c, []
        if self.kind == "transpose":  # weight (C_in, C_out/G, *k); output k = g*C_out/G + j
            k, c = np.divmod(np.arange(self.out_channels * cin_g), cin_g)
            g, j = np.divmod(k, cout_g)
            cin = g * cin_g + c
            return k, cin, [cin, j]
        k, c = np.divmod(np.arange(self.out_channels * cin_g), cin_g)
        cin = (k // cout_g) * cin_g + c
        return k, cin, [k, c]

    def weight_index(self, k: int, c: int, o: Sequence[int], a: Sequence[int]) -> tuple[int, ...]:
        """Weight tensor index used by output channel `k`, group-local input channel `c`,
        output position `o` and tap `a` (pooling: the tap alone)."""
        lead, _ = self._weight_parts(
            np.array([k]), np.array([c]), [np.array([v]) for v in o], [np.array([v]) for v in a]
        )
        return tuple(int(v[0]) for v in lead)

    def _weight_parts(
        self, k: np.ndarray, c: np.ndarray, o: list[np.ndarray], a: list[np.ndarray]
    ) -> tuple[list[np.ndarray], None]:
        if self.kind == "pool":
            return list(a), None
        if self.kind == "transpose":
            cin_g, cout_g = self.in_channels // self.groups, self.out_channels // self.groups
            g, j = np.divmod(k, cout_g)
            return [g * cin_g + c, j, *a], None
        if self.kind == "local":
            return [k, *o, c, *a], None
        if self.kind == "tiled":
            return [k, *(oo % t for oo, t in zip(o, self.tiles, strict=True)), c, *a], None  # type: ignore[arg-type]  # tiled: tiles set
        return [k, c, *a], None

    # -- taps -------------------------------------------------------------------------------
    def taps(self, out_index: Sequence[int]) -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
        """The `(weight index, input index)` pairs output `(k, *o)` reads, zero pads skipped.

        Convolution: weight `(k, c, *a)` (local: `(k, *o, c, *a)`; tiled: `(k, *(o mod t), c, *a)`;
        transposed: torch's `(c_in, k mod C_out/G, *a)`), input `(c_in, *positions)`.
        Pooling: weight = the tap `a`, input `(k, *positions)`.
        """
        self._sized("taps")
        k, *o = (int(v) for v in out_index)
        if (
            len(o) != self.dims
            or not 0 <= k < self.out_channels
            or any(
                not 0 <= v < cast(int, ax.out)  # sized (checked above)
                for v, ax in zip(o, self.axes, strict=True)
            )
        ):
            raise SpecError(
                f"{self._op}: output index {tuple(out_index)!r} out of range for "
                f"({self.out_channels}, *{self.output_size})"
            )
        rows = [
            self._table(ax, np.array([v]), np.arange(self.axes[ax].kernel))[0]
            for ax, v in enumerate(o)
        ]
        ks, cins, _ = self._channel_table()
        cin_g = 1 if self.kind == "pool" else self.in_channels // self.groups
        for t in np.flatnonzero(ks == k):
            cin, c = int(cins[t]), int(t % cin_g) if self.kind != "pool" else 0
            for a in np.ndindex(*(ax.kernel for ax in self.axes)):
                pos = tuple(int(rows[ax][v]) for ax, v in enumerate(a))
                if min(pos) < 0:
                    continue
                yield self.weight_index(k, c, o, a), (cin, *pos)

    def divisors(self) -> np.ndarray:
        """Average pooling's divisor for every output position (array of `output_size`).

        `divisor_override` if given; with `count_include_pad` the window clipped to the padded
        input $[-P, I + P)$ (torch's rule in ceil mode); otherwise the number of input taps.
        """
        self._sized("divisors")
        spec = self.spec
        if self.kind != "pool" or spec.kind != "avg":
            raise SpecError(f"{self._op}: divisors() applies to average pooling only")
        if spec.divisor_override is not None:
            return np.full(self.output_size, spec.divisor_override)  # type: ignore[arg-type]  # sized
        per_axis = []
        for a, ax in enumerate(self.axes):
            if spec.count_include_pad:
                out, size = cast(int, ax.out), cast(int, ax.size)  # sized (checked above)
                start = ax.stride * np.arange(out) - ax.lo
                per_axis.append(np.minimum(start + ax.kernel, size + ax.hi) - start)
            else:
                per_axis.append((self.tap_table(a) >= 0).sum(axis=1))
        return np.prod(np.meshgrid(*per_axis, indexing="ij"), axis=0)

    def tap_count(self, padded: bool = False) -> int:
        """Number of taps `gather()` returns (before merging repeated `(row, col)` pairs)."""
        per_axis = [int((self.tap_table(a, padded) >= 0).sum()) for a in range(self.dims)]
        return len(self._channel_table()[0]) * math.prod(per_axis)

    def nonzeros(self, padded: bool = False) -> int:
        """Number of distinct `(row, col)` pairs: the nonzeros of the operator's matrix.

        Computed per axis (the map is separable), without building anything.
        """
        per_axis = []
        for a in range(self.dims):
            t = self.tap_table(a, padded)
            r, _ = np.nonzero(t >= 0)
            per_axis.append(len(np.unique(r * (t.size + 1) + t[t >= 0])))
        return len(self._channel_table()[0]) * math.prod(per_axis)

    def in_shape(self, padded: bool = False) -> tuple[int, ...]:
        sizes = self._sized("in_shape")
        if padded:
            sizes = tuple(ax.padded for ax in self.axes)  # type: ignore[misc]  # sized
        return (self.in_channels, *sizes)

    def out_shape(self) -> tuple[int, ...]:
        self._sized("out_shape")
        return (self.out_channels, *self.output_size)  # type: ignore[misc]  # sized

    def gather(self, padded: bool = False) -> Gather:
        """Every tap as flattened `(rows, cols, weights)` arrays (see `Gather`); O(taps) work.

        With `padded=True`, columns index the padded input $\\tilde x$ (the valid convolution).
        """
        if padded and self.kind in ("transpose",):
            raise SpecError(f"{self._op}: a transposed convolution has no padded input")
        out_shape, in_shape = self.out_shape(), self.in_shape(padded)
        per_axis = []
        for a in range(self.dims):
            t = self.tap_table(a, padded)
            r, k = np.nonzero(t >= 0)
            per_axis.append((r, k, t[r, k]))
        grid = np.indices([len(p[0]) for p in per_axis]).reshape(self.dims, -1)
        o = [p[0][g] for p, g in zip(per_axis, grid, strict=True)]
        tap = [p[1][g] for p, g in zip(per_axis, grid, strict=True)]
        src = [p[2][g] for p, g in zip(per_axis, grid, strict=True)]
        out_sp = np.ravel_multi_index(o, out_shape[1:])
        in_sp = np.ravel_multi_index(src, in_shape[1:])
        ks, cins, _ = self._channel_table()
        rows = (ks[:, None] * math.prod(out_shape[1:]) + out_sp[None, :]).ravel()
        cols = (cins[:, None] * math.prod(in_shape[1:]) + in_sp[None, :]).ravel()
        n_ch, n_sp = len(ks), len(out_sp)
        if self.kind == "pool":
            widx = np.ravel_multi_index(tap, self.weight_shape)
            weights = np.broadcast_to(widx[None, :], (n_ch, n_sp)).ravel()
        else:  # channel pair t is (k, c) with t = k * C_in/G + c
            c_idx = np.arange(n_ch) % (self.in_channels // self.groups)
            parts, _ = self._weight_parts(
                ks[:, None], c_idx[:, None], [v[None, :] for v in o], [v[None, :] for v in tap]
            )
            parts = [np.broadcast_to(p, (n_ch, n_sp)).ravel() for p in parts]
            weights = np.ravel_multi_index(parts, self.weight_shape)
        return Gather(
            rows, cols, np.ascontiguousarray(weights), out_shape, in_shape, self.weight_shape
        )

    def factors(self, padded: bool = False) -> Factors:
        r"""`gather()` as its factors: the channel table and one tap table per axis.

        Convolution, transposed convolution: tap `(row, col, weight)` of `gather()` is one
        channel pair `t` times one tap `(o, a, i)` of every axis, with
        `row = (k[t], *o)`, `col = (cin[t], *i)`, `weight = (lead[t], *a)` flattened in C order;
        `gather()` is exactly the product (see `Factors.gather`). Checks compare these tables,
        $O(C_\mathrm{out} C_\mathrm{in}/G + \sum_\text{axes} O_a K_a)$ entries, instead of the
        product's $O(C_\mathrm{out} C_\mathrm{in}/G \prod_a O_a K_a)$.
        """
        return _factors(self, padded)

    def _factors(self, padded: bool) -> Factors:
        if self.kind not in ("conv", "transpose"):
            raise SpecError(
                f"{self._op}: factors() needs weights shared over positions (Conv or "
                f"ConvTranspose), not kind {self.kind!r}"
            )
        if padded and self.kind == "transpose":
            raise SpecError(f"{self._op}: a transposed convolution has no padded input")
        ks, cins, _ = self._channel_table()
        cin_g = self.in_channels // self.groups
        c_idx = np.arange(len(ks)) % cin_g
        zero = [np.zeros(1, dtype=np.int64) for _ in range(self.dims)]
        lead, _ = self._weight_parts(ks, c_idx, zero, zero)
        lead_shape = self.weight_shape[: len(self.weight_shape) - self.dims]
        lead_flat = np.ravel_multi_index(lead[: len(lead_shape)], lead_shape)
        axes = []
        for a in range(self.dims):
            t = self.tap_table(a, padded)
            o, k = np.nonzero(t >= 0)
            axes.append(np.stack([o, k, t[o, k]], axis=1).astype(np.int64))
        return Factors(
            np.stack([ks, cins, lead_flat], axis=1).astype(np.int64),
            tuple(axes),
            self.out_shape(),
            self.in_shape(padded),
            self.weight_shape,
        )

    def pad_gather(self) -> Gather:
        """The padding as a gather: padded position `rows[t]` copies input `cols[t]` (weights 1)."""
        in_shape, padded_shape = self.in_shape(), self.in_shape(padded=True)
        tables = [self.pad_table(a) for a in range(self.dims)]
        grids = np.meshgrid(*[np.arange(len(t)) for t in tables], indexing="ij")
        src = [t[g.ravel()] for t, g in zip(tables, grids, strict=True)]
        ok = np.all([s >= 0 for s in src], axis=0)
        j_sp = np.ravel_multi_index([g.ravel()[ok] for g in grids], padded_shape[1:])
        i_sp = np.ravel_multi_index([s[ok] for s in src], in_shape[1:])
        c = np.arange(self.in_channels)[:, None]
        rows = (c * math.prod(padded_shape[1:]) + j_sp[None, :]).ravel()
        cols = (c * math.prod(in_shape[1:]) + i_sp[None, :]).ravel()
        return Gather(rows, cols, np.zeros_like(rows), padded_shape, in_shape, (1,))

    # -- symbolic form ----------------------------------------------------------------------
    def symbols(self) -> dict[str, Any]:
        """The size and index symbols of `expression()`, by name."""

        def sub(name: str, a: int) -> sympy.Symbol:
            return sympy.Symbol(
                name if self.dims == 1 else f"{name}_{a + 1}", integer=True, nonnegative=True
            )

        pos = {"integer": True, "positive": True}
        return {
            "C_in": sympy.Symbol(r"C_{\mathrm{in}}", **pos),
            "C_out": sympy.Symbol(r"C_{\mathrm{out}}", **pos),
            "G": sympy.Symbol("G", **pos),
            "K": [sub("K", a) for a in range(self.dims)],
            "S": [sub("S", a) for a in range(self.dims)],
            "D": [sub("D", a) for a in range(self.dims)],
            "P": [sub("P", a) for a in range(self.dims)],
            "T": [sub("t", a) for a in range(self.dims)],
            "o": [sub("o", a) for a in range(self.dims)],
            "a": [sub("a", a) for a in range(self.dims)],
            "i": [sub("i", a) for a in range(self.dims)],
            "I": [sub("I", a) for a in range(self.dims)],
            "n": sympy.Symbol("n", integer=True, nonnegative=True),
            "k": sympy.Symbol("k", integer=True, nonnegative=True),
            "c": sympy.Symbol("c", integer=True, nonnegative=True),
        }

    def substitutions(self) -> dict[sympy.Symbol, int]:
        """This spec's values for the size symbols of `expression()`."""
        s = self.symbols()
        out: dict[sympy.Symbol, int] = {
            s["C_in"]: self.in_channels,
            s["C_out"]: self.out_channels,
            s["G"]: self.groups,
        }
        for a, ax in enumerate(self.axes):
            out.update(
                {
                    s["K"][a]: ax.kernel,
                    s["S"][a]: ax.stride,
                    s["D"][a]: ax.dilation,
                    s["P"][a]: ax.lo,
                }
            )
            if self.tiles is not None:
                out[s["T"][a]] = self.tiles[a]
            if ax.size is not None:
                out[s["I"][a]] = ax.size
        return out

    def expression(self, symbolic: bool = True) -> sympy.Eq:
        r"""The operator as `Eq(y[n, k, *o], rhs)` with `IndexedBase` `x`, `w`, `b`.

        Sizes are symbols ($C_\mathrm{in}$, $G$, $K_1$, $S_1$, $D_1$, ...; see `symbols()`), so
        the formula is the general one; `symbolic=False` puts this spec's values in. The padded
        input is `IndexedBase(r"\tilde{x}")`; `padding_expression()` defines it from `x`.
        """
        s = self.symbols()
        x, xt = sympy.IndexedBase("x"), sympy.IndexedBase(r"\tilde{x}")
        w, b, y = sympy.IndexedBase("w"), sympy.IndexedBase("b"), sympy.IndexedBase("y")
        n, k, c, o, a = s["n"], s["k"], s["c"], s["o"], s["a"]
        K, S, D = s["K"], s["S"], s["D"]
        cin_g, cout_g = s["C_in"] / s["G"], s["C_out"] / s["G"]
        limits = [(a[i], 0, K[i] - 1) for i in range(self.dims)]
        lhs = y[(n, k, *o)]
        if self.kind == "transpose":  # scatter: y[q] = sum over i, a with S i + D a - P = q
            i, P = s["i"], s["P"]
            cin = sympy.floor(k / cout_g) * cin_g + c
            term = x[(n, cin, *i)] * w[(cin, sympy.Mod(k, cout_g), *a)]
            for ax in range(self.dims):
                term *= sympy.KroneckerDelta(o[ax], S[ax] * i[ax] + D[ax] * a[ax] - P[ax])
            rhs = sympy.Sum(
                term,
                (c, 0, cin_g - 1),
                *[(i[ax], 0, s["I"][ax] - 1) for ax in range(self.dims)],
                *limits,
            )
            rhs = b[k] + rhs if self.spec.bias else rhs
            return self._finish(lhs, rhs, symbolic)
        taps = [K[i] - 1 - a[i] if ax.flip else a[i] for i, ax in enumerate(self.axes)]
        pos = [S[i] * o[i] + D[i] * taps[i] for i in range(self.dims)]
        if self.kind == "pool":
            read = xt[(n, k, *pos)]
            spec = self.spec
            if spec.kind == "max":
                rhs = WindowMax(read, *[sympy.Tuple(*lim) for lim in limits])
            elif spec.kind == "avg":
                if spec.divisor_override is not None:
                    div = sympy.Integer(spec.divisor_override)
                elif spec.count_include_pad:
                    div = sympy.Mul(*K)
                else:
                    div = sympy.Symbol(r"N_{o}", integer=True, positive=True)
                rhs = sympy.Sum(read, *limits) / div
            else:
                p = sympy.Symbol("p", positive=True)
                rhs = sympy.Pow(sympy.Sum(read**p, *limits), 1 / p)
            return self._finish(
                lhs, rhs, symbolic, extra={p: spec.norm_type} if spec.kind == "lp" else None
            )
        groups_one = not symbolic and self.groups == 1
        cin = c if groups_one else sympy.floor(k / cout_g) * cin_g + c
        if self.kind == "local":
            widx = (k, *o, c, *a)
        elif self.kind == "tiled":
            widx = (k, *(sympy.Mod(o[i], s["T"][i]) for i in range(self.dims)), c, *a)
        else:
            widx = (k, c, *a)
        rhs = sympy.Sum(xt[(n, cin, *pos)] * w[widx], (c, 0, cin_g - 1), *limits)
        if self.spec.bias:
            rhs = b[(k, *o)] + rhs if self.kind == "local" else b[k] + rhs
        return self._finish(lhs, rhs, symbolic)

    def _finish(self, lhs: Any, rhs: Any, symbolic: bool, extra: dict | None = None) -> sympy.Eq:
        eq = sympy.Eq(lhs, rhs, evaluate=False)
        if not symbolic:
            subs = self.substitutions() | (extra or {})
            eq = sympy.Eq(
                lhs, rhs.xreplace({k: sympy.sympify(v) for k, v in subs.items()}), evaluate=False
            )
        return eq

    def padding_expression(self) -> sympy.Eq:
        r"""$\tilde x[n, c, j] = x[n, c, \varphi(j - P)]$ for this padding mode, per axis.

        zeros: a `Piecewise` (0 outside); circular: `Mod`; replicate: `Min`/`Max` (clamp);
        reflect: $(I - 1) - |(I - 1) - |j - P||$ (valid for $P < I$).
        """
        s = self.symbols()
        x, xt = sympy.IndexedBase("x"), sympy.IndexedBase(r"\tilde{x}")
        n, c = s["n"], s["c"]
        j = [
            sympy.Symbol("j" if self.dims == 1 else f"j_{a + 1}", integer=True)
            for a in range(self.dims)
        ]
        idx, inside = [], []
        for a, ax in enumerate(self.axes):
            u, size = j[a] - s["P"][a], s["I"][a]
            inside.append(sympy.And(u >= 0, u < size))
            idx.append(
                {
                    "circular": sympy.Mod(u, size),
                    "replicate": sympy.Min(sympy.Max(u, 0), size - 1),
                    "reflect": (size - 1) - sympy.Abs((size - 1) - sympy.Abs(u)),
                }.get(ax.mode, u)
            )
        rhs = x[(n, c, *idx)]
        if all(ax.mode == "zeros" for ax in self.axes):
            rhs = sympy.Piecewise((rhs, sympy.And(*inside)), (0, True))
        return sympy.Eq(xt[(n, c, *j)], rhs, evaluate=False)

    def latex(self, symbolic: bool = True) -> str:
        """`expression()` as LaTeX: `y_{n,k,o} = ...`."""
        return latex(self.expression(symbolic))

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"


@pure(maxsize=256)
def _factors(form: IndexForm, padded: bool) -> Factors:
    f = form._factors(padded)
    for arr in (f.channels, *f.axes):
        arr.flags.writeable = False  # shared through the cache
    return f


def clear_caches() -> None:
    """Empty the in-process caches of index forms, their factors and the checks read from
    them (tests that patch the index arithmetic call it; nothing else needs to)."""
    _cache.clear()


def check_spec(op: str, spec: Any, pool: bool = True) -> None:
    """Refuse anything but a layer spec `index_form` understands, naming what was given."""
    if not isinstance(spec, Conv | Pool | ConvTranspose):
        kinds = "Conv or Pool" if pool else "Conv"
        raise SpecError(
            f"{op}: spec must be a symconv.{kinds} (or ConvTranspose, LocallyConnected, "
            f"Tiled), got {spec!r}"
        )


def _none(v: int) -> int | None:
    return None if v < 0 else v


def _plain(v: Any) -> bool:
    return type(v) is int


@pure(maxsize=256)
def _cached_form(spec: Any, input_size: tuple[int, ...] | int | None, channels: int) -> IndexForm:
    return _index_form(spec, input_size, channels=channels)


def index_form(
    spec: Any, input_size: int | Sequence[int] | None = None, *, channels: int = 1
) -> IndexForm:
    r"""The `IndexForm` of `spec` (`Conv`, `Pool`, `LocallyConnected`, `Tiled`, `ConvTranspose`).

    `input_size` is the spatial input size (an int repeats over the axes); `None` gives a
    symbolic form (`expression()` works, the index map needs sizes). `channels` is the number of
    channels a `Pool` runs over (pooling does not mix them).

    The form is pure (a frozen value of its arguments): forms of plain-int sizes are kept in an
    in-process cache keyed by `(spec, input_size, channels)`, so every derivation, check and
    docs page on one layer reads one form.

    ```python
    >>> import symconv as sc
    >>> form = sc.index_form(sc.Conv(dims=2, kernel_size=3, stride=2), (7, 7))
    >>> form.output_size, form.source(1, 2, 1)   # axis 1, output 2, tap 1 reads x[..., 5]
    ((3, 3), 5)

    ```
    """
    size_key: Any = input_size
    if isinstance(input_size, list | tuple) and all(_plain(v) for v in input_size):
        size_key = tuple(input_size)
    if (size_key is None or _plain(size_key) or isinstance(size_key, tuple)) and _plain(channels):
        try:
            return _cached_form(spec, size_key, channels)
        except TypeError as err:  # an unhashable spec: build it uncached
            if "unhashable" not in str(err):
                raise
    return _index_form(spec, input_size, channels=channels)


def _index_form(
    spec: Any, input_size: int | Sequence[int] | None = None, *, channels: int = 1
) -> IndexForm:
    from ..transpose import ConvTranspose

    check_spec("index_form", spec)
    channels = as_int("index_form", "channels", channels, 1)
    if isinstance(spec, LocallyConnected) and input_size is None:
        input_size = spec.input_size
    sizes: tuple[int, ...] | None = None
    out: tuple[int, ...] | None = None
    if input_size is not None:
        out = spec.output_size(input_size)  # validates input_size too
        sizes = (
            tuple(input_size)
            if isinstance(input_size, Sequence)
            else (int(input_size),) * spec.dims
        )
    if isinstance(spec, ConvTranspose):
        axes = tuple(
            Axis(
                spec.kernel_size[a],
                spec.stride[a],
                spec.dilation[a],
                spec.padding[a],
                spec.padding[a] - spec.output_padding[a],
                None if sizes is None else sizes[a],
                None if out is None else out[a],
            )
            for a in range(spec.dims)
        )
        return IndexForm(
            spec,
            "transpose",
            axes,
            spec.in_channels,
            spec.out_channels,
            spec.groups,
            sizes,
            out,
            spec.weight_shape,
        )
    if isinstance(spec, Pool):
        axes = tuple(
            Axis(
                spec.kernel_size[a],
                spec.stride[a],
                spec.dilation[a],
                spec.padding[a],
                spec.padding[a],
                None if sizes is None else sizes[a],
                None if out is None else out[a],
            )
            for a in range(spec.dims)
        )
        return IndexForm(
            spec, "pool", axes, channels, channels, channels, sizes, out, spec.kernel_size
        )
    axes = tuple(
        Axis(
            spec.kernel_size[a],
            spec.stride[a],
            spec.dilation[a],
            *cast(tuple[int, int], spec.pads[a]),  # spec: a Conv here (check_spec)
            None if sizes is None else sizes[a],
            None if out is None else out[a],
            spec.padding_mode,
            spec.flip,
        )
        for a in range(spec.dims)
    )
    kind: Kind = (
        "local"
        if isinstance(spec, LocallyConnected)
        else ("tiled" if isinstance(spec, Tiled) else "conv")
    )
    return IndexForm(
        spec,
        kind,
        axes,
        spec.in_channels,
        spec.out_channels,
        spec.groups,
        sizes,
        out,
        spec.weight_shape,
        spec.tiles if kind == "tiled" else None,
    )
