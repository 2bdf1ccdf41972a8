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

The package's modules: `_build` (the form's fields read off a layer spec), `_values` (`Axis`,
`Gather`, `Factors`), `_gather` (the taps in bulk: `gather()`, `factors()`, counts) and
`_symbolic` (`expression()`, `padding_expression()`, `WindowMax`). This module holds
`IndexForm` and its index map (`source`, `pad_map`, the tap tables, channels and weights), and
`index_form`, which makes one (cached).

```python
>>> import symconv as sc
>>> form = sc.index_form(sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="reflect"), 5)
>>> [form.source(0, 0, a) for a in range(3)]     # x̃[-1] reflects onto x[1]
[1, 0, 1]

```
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import sympy

from .. import _sizes
from .._cache import pure
from .._errors import SpecError
from .._indexmap import phi as _phi
from .._indexmap import window_coord
from ..derivation import latex
from . import _gather, _symbolic
from ._build import check_spec as check_spec  # the shared spec check (toeplitz imports it)
from ._build import clear_caches as clear_caches
from ._build import fields
from ._symbolic import WindowMax
from ._values import Axis, Factors, Gather, Kind

__all__ = ["Axis", "Factors", "Gather", "IndexForm", "WindowMax", "index_form"]


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
        return _gather.divisors(self)

    def tap_count(self, padded: bool = False) -> int:
        """Number of taps `gather()` returns (before merging repeated `(row, col)` pairs)."""
        return _gather.tap_count(self, padded)

    def nonzeros(self, padded: bool = False) -> int:
        """Number of distinct `(row, col)` pairs: the nonzeros of the operator's matrix.

        Computed per axis (the map is separable), without building anything.
        """
        return _gather.nonzeros(self, padded)

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
        return _gather.gather(self, padded)

    def factors(self, padded: bool = False) -> Factors:
        r"""`gather()` as its factors: the channel table and one tap table per axis.

        Convolution, transposed convolution: tap `(row, col, weight)` of `gather()` is one
        channel pair `t` times one tap `(o, a, i)` of every axis, with
        `row = (k[t], *o)`, `col = (cin[t], *i)`, `weight = (lead[t], *a)` flattened in C order;
        `gather()` is exactly the product (see `Factors.gather`). Checks compare these tables,
        $O(C_\mathrm{out} C_\mathrm{in}/G + \sum_\text{axes} O_a K_a)$ entries, instead of the
        product's $O(C_\mathrm{out} C_\mathrm{in}/G \prod_a O_a K_a)$.
        """
        return _gather.cached_factors(self, padded)

    def pad_gather(self) -> Gather:
        """The padding as a gather: padded position `rows[t]` copies input `cols[t]` (weights 1)."""
        return _gather.pad_gather(self)

    # -- symbolic form (symconv.indexform._symbolic) ----------------------------------------
    def symbols(self) -> dict[str, Any]:
        """The size and index symbols of `expression()`, by name."""
        return _symbolic.symbols(self)

    def substitutions(self) -> dict[sympy.Symbol, int]:
        """This spec's values for the size symbols of `expression()`."""
        return _symbolic.substitutions(self)

    def expression(self, symbolic: bool = True) -> sympy.Eq:
        r"""The operator as `Eq(y[n, k, *o], rhs)` with `IndexedBase` `x`, `w`, `b`.

        Sizes are symbols ($C_\mathrm{in}$, $G$, $K_1$, $S_1$, $D_1$, ...; see `symbols()`), so
        the formula is the general one; `symbolic=False` puts this spec's values in. The padded
        input is `IndexedBase(r"\tilde{x}")`; `padding_expression()` defines it from `x`.
        """
        return _symbolic.expression(self, symbolic)

    def padding_expression(self) -> sympy.Eq:
        r"""$\tilde x[n, c, j] = x[n, c, \varphi(j - P)]$ for this padding mode, per axis.

        zeros: a `Piecewise` (0 outside); circular: `Mod`; replicate: `Min`/`Max` (clamp);
        reflect: $(I - 1) - |(I - 1) - |j - P||$ (valid for $P < I$).
        """
        return _symbolic.padding_expression(self)

    def latex(self, symbolic: bool = True) -> str:
        """`expression()` as LaTeX: `y_{n,k,o} = ...`."""
        return latex(self.expression(symbolic))

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"


def _none(v: int) -> int | None:
    return None if v < 0 else v


def _plain(v: Any) -> bool:
    return type(v) is int


@pure(maxsize=256)
def _cached_form(spec: Any, input_size: tuple[int, ...] | int | None, channels: int) -> IndexForm:
    return IndexForm(*fields(spec, input_size, channels=channels))


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
    return IndexForm(*fields(spec, input_size, channels=channels))
