r"""Equivariance of convolution and pooling: translation, rotation by 90 degrees, flips.

A layer $f$ is *equivariant* to a transformation $g$ when $f(g\,x) = g'(f(x))$: transforming the
input transforms the output the same way ($g'$ is $g$ on the output grid; for a stride $s$ a
shift by $t$ on the input is a shift by $t/s$ on the output). With $T$ the layer's Toeplitz
matrix and $P_g$ the transformation as a 0/1 matrix, this is

$$T\,P_g^\mathrm{in} = P_{g'}^\mathrm{out}\,T,$$

one equation per output row. `equivariance` builds $T$ (`toeplitz`, symbolic weights
`w[k, c, a_1, ...]`) and compares the two sides **row by row**, without a SymPy product: both
sides are index maps composed with $T$'s rows,

$$(T P_g x)[o] = \sum_j T[o, j]\, x[\pi_g(j)], \qquad (P_{g'} T x)[o] = (T x)[\pi_{g'}(o)],$$

where $(g x)[j] = x[\pi_g(j)]$ (zero where $\pi_g(j)$ falls off the input). An output $o$ is
*broken* when its two rows differ; the layer is *exact* when none is. Pooling rows are compared
the same way (max pooling: the set of inputs a window reads).

The shift is zero-filled ($(S_t x)[i] = x[i - t]$, zero where $i - t$ is off the input) for
zeros, reflect and replicate padding and cyclic ($x[(i - t) \bmod n]$) for circular padding.

```python
>>> import symconv as sc
>>> d = sc.equivariance(sc.Conv(dims=1, kernel_size=3, padding=1), 7, shift=1)
>>> d.exact, d.broken            # zero padding: the border breaks, the interior does not
(False, ((0,), (6,)))
>>> sc.equivariance(sc.Conv(dims=1, kernel_size=3, padding=1, padding_mode="circular"), 7).exact
True

```
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from ._errors import SpecError
from .derivation import Derivation
from .indexform import index_form
from .spec import Conv, Pool
from .toeplitz import toeplitz

__all__ = ["TRANSFORMS", "Equivariance", "equivariance", "max_pool_changes", "pooling_example"]

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
    - `condition`: for rotations and flips, the equations on the weights that make it exact.
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
    pos = {tuple(int(v) for v in np.unravel_index(f, out_shape)[1:]) for f in flat}
    return tuple(sorted(pos))


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


# -- the public entry point -----------------------------------------------------------------
def equivariance(
    spec: Conv | Pool,
    input_size: int | Sequence[int] | None = None,
    shift: int | Sequence[int] | None = None,
    transform: str = "translate",
    *,
    weight: Any = None,
) -> Equivariance:
    r"""Whether `spec` commutes with a translation, a rotation or a flip, and where it does not.

    Args:
        spec: a `Conv` or a `Pool`.
        input_size: spatial input size (int or tuple); default a small size that fits (7 in 1D).
        shift: for `transform="translate"`: the shift $t$ per axis (an int repeats), default 1.
        transform: `"translate"`, `"rot90"` (numpy's `rot90`, 2D, square), `"flip_h"` (mirror
            the last axis) or `"flip_v"` (mirror the first of two axes).
        weight: optional numbers for the weights (`weight_shape`, or `kernel_size` for a
            1-in 1-out layer); by default the weights are symbols, so `exact` means "for every
            weight".

    Returns:
        An `Equivariance` derivation: `exact`, `broken` (sorted spatial output positions where
        $f(g x) \ne g'(f(x))$), `condition` (rotations, flips: `sympy.Eq` on the weights),
        and `results` with the details (`count`, `outputs`, `output_shift`, ...).

    **Translation.** Tap $a$ of output $o$ reads $x[\varphi(S o + D a - P)]$ (the index form).
    After a shift by $t$ it reads $x[\varphi(\cdot) - t]$; that is tap $a$ of output $o - u$
    exactly when $S u = t$, so a strided layer is equivariant only to multiples of the stride,
    and then the output shifts by $t / S$. Circular padding with stride 1 and a full-size output
    makes $T$ circulant and every cyclic shift commutes with it. Zeros, reflect and replicate
    break a band at the border; output $o$ is equivariant if every tap of $o$ and of $o - u$
    reads inside the unpadded input (for reflect and replicate: if and only if).

    **Rotation and flips.** $T P_g = P_g T$ entry by entry is a linear system in the weights;
    its solution is the kernel's symmetry: $w[a, b] = w[b, K - 1 - a]$ for `rot90`,
    $w[a, b] = w[a, K - 1 - b]$ for `flip_h`, $w[a, b] = w[K - 1 - a, b]$ for `flip_v`.

    ```python
    >>> import symconv as sc
    >>> spec = sc.Conv(dims=2, kernel_size=3, padding=1, bias=False)
    >>> sc.equivariance(spec, 5, transform="rot90").exact
    False
    >>> lap = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    >>> sc.equivariance(spec, 5, transform="rot90", weight=lap).exact
    True
    >>> strided = sc.Conv(dims=1, kernel_size=3, stride=2)
    >>> sc.equivariance(strided, 7, shift=2).results["output_shift"]
    (1,)

    ```
    """
    if not isinstance(spec, Conv | Pool):
        raise SpecError(f"{_OP}: expected a Conv or Pool spec, got {type(spec).__name__}")
    sizes = _sizes_of(spec, input_size)
    _check_transform(spec, transform, sizes, shift)
    subs = _weights(spec, weight)
    if transform == "translate":
        return _translate(spec, sizes, _shift_of(spec, shift), subs)
    return _symmetry(spec, sizes, transform, subs)


# -- translation ----------------------------------------------------------------------------
def _inside_taps(form: Any) -> list[np.ndarray]:
    """Per axis, per output: whether every tap reads inside the unpadded input."""
    out = []
    for a, ax in enumerate(form.axes):
        j = form.tap_table(a, padded=True)  # coordinate in the padded input, -1 beyond it
        out.append(np.all((j >= ax.lo) & (j < ax.lo + ax.size), axis=1))
    return out


def _interior(form: Any, u: tuple[int, ...]) -> set[tuple[int, ...]]:
    r"""Outputs $o$ with $o - u$ an output and every tap of $o$ and of $o - u$ inside the input."""
    inside = _inside_taps(form)
    ok = set()
    for o in np.ndindex(*form.output_size):
        prev = [v - s for v, s in zip(o, u, strict=True)]
        if all(
            0 <= p < m and inside[a][v] and inside[a][p]
            for a, (v, p, m) in enumerate(zip(o, prev, form.output_size, strict=True))
        ):
            ok.add(tuple(int(v) for v in o))
    return ok


def _tapwise_broken(
    form: Any, t: tuple[int, ...], u: tuple[int, ...], cyclic: bool
) -> set[tuple[int, ...]]:
    r"""The index-form criterion: output $o$ is equivariant iff for every tap $a$
    $\sigma_t(\mathrm{src}(o, a)) = \mathrm{src}(o - u, a)$ (`None` for a zero on either side)."""
    tables = [form.tap_table(a) for a in range(form.dims)]
    sizes, outs = form.input_size, form.output_size

    def shifted(src: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if src is None:
            return None
        v = [s - d for s, d in zip(src, t, strict=True)]
        if cyclic:
            return tuple(x % n for x, n in zip(v, sizes, strict=True))
        return tuple(v) if all(0 <= x < n for x, n in zip(v, sizes, strict=True)) else None

    def source(o: Sequence[int], a: tuple[int, ...]) -> tuple[int, ...] | None:
        pos = tuple(int(tables[ax][o[ax], a[ax]]) for ax in range(form.dims))
        return None if min(pos) < 0 else pos

    bad = set()
    kernel = [ax.kernel for ax in form.axes]
    for o in np.ndindex(*outs):
        prev = [v - s for v, s in zip(o, u, strict=True)]
        if cyclic:
            prev = [p % m for p, m in zip(prev, outs, strict=True)]
        valid = all(0 <= p < m for p, m in zip(prev, outs, strict=True))
        for a in np.ndindex(*kernel):
            if shifted(source(o, a)) != (source(prev, a) if valid else None):
                bad.add(tuple(int(v) for v in o))
                break
    return bad


def _translate_core(
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    shift: tuple[int, ...],
    subs: dict | None = None,
    all_candidates: bool = True,
) -> dict[str, Any]:
    """The numbers of a translation: output shift, broken positions, reproducing shifts."""
    form = index_form(spec, sizes)
    is_max = _kind(spec) == "max"
    cyclic = isinstance(spec, Conv) and spec.padding_mode == "circular"
    rows, in_shape, out_shape = _rows(spec, sizes, subs)
    strides = tuple(ax.stride for ax in form.axes)
    if cyclic:  # a cyclic shift by t is a shift by t mod n
        shift = tuple(t % n for t, n in zip(shift, sizes, strict=True))
    pi_in = _full_map(_spatial_map("translate", sizes, shift, cyclic), in_shape[0])

    def broken_for(u: tuple[int, ...], stop: bool = False) -> list[int]:
        pi_out = _full_map(_spatial_map("translate", out_shape[1:], u, cyclic), out_shape[0])
        return _compare(rows, pi_in, pi_out, out_shape, is_max, stop)

    divisible = all(t % s == 0 for t, s in zip(shift, strides, strict=True))
    if divisible:
        u = tuple(t // s for t, s in zip(shift, strides, strict=True))
        bad = broken_for(u)
        reproducing = [u] if not bad else []
    else:
        near = itertools.product(
            *[sorted({t // s, -(-t // s)}) for t, s in zip(shift, strides, strict=True)]
        )
        u, bad = min(((v, broken_for(v)) for v in near), key=lambda p: (len(p[1]), p[0]))
        reproducing = []
        if all_candidates:
            ranges = [range(m) if cyclic else range(-(m - 1), m) for m in out_shape[1:]]
            reproducing = [v for v in itertools.product(*ranges) if not broken_for(v, True)]
        if reproducing:
            u, bad = reproducing[0], []
    return {
        "form": form,
        "rows": rows,
        "in_shape": in_shape,
        "out_shape": out_shape,
        "cyclic": cyclic,
        "divisible": divisible,
        "output_shift": u,
        "broken_flat": bad,
        "broken": _spatial(bad, out_shape),
        "reproducing": reproducing,
        "strides": strides,
        "is_max": is_max,
    }


def _translate(
    spec: Conv | Pool, sizes: tuple[int, ...], shift: tuple[int, ...], subs: dict | None
) -> Equivariance:
    core = _translate_core(spec, sizes, shift, subs)
    form, u, broken = core["form"], core["output_shift"], core["broken"]
    out_shape, in_shape, cyclic = core["out_shape"], core["in_shape"], core["cyclic"]
    n_out = math.prod(out_shape[1:])
    exact = not broken
    mode = spec.padding_mode if isinstance(spec, Conv) else "pool"
    d = Equivariance(f"Translation equivariance of {spec} on input {sizes}, shift {shift}")
    d.results.update(
        exact=exact,
        broken=broken,
        count=len(broken),
        outputs=n_out,
        shift=shift,
        output_shift=u,
        divisible=core["divisible"],
        reproducing_shifts=tuple(core["reproducing"]),
        shift_kind="cyclic" if cyclic else "zero-filled",
        input_size=sizes,
    )
    s = form.symbols()
    o, a, t_sym = s["o"][0], s["a"][0], sympy.Symbol("t", integer=True)
    S, D, P, K = s["S"][0], s["D"][0], s["P"][0], s["K"][0]
    n_sym, u_sym = sympy.Symbol("n", integer=True, positive=True), sympy.Symbol("u", integer=True)
    x, w, y = sympy.IndexedBase("x"), sympy.IndexedBase("w"), sympy.IndexedBase("y")
    d.step(
        "The layer (index form)",
        form.expression(),
        "tap a of output o reads the padded input at S o + D a",
    )
    d.step(
        "The shift",
        sympy.Eq(
            sympy.Indexed(sympy.IndexedBase(r"\left(S_{t} x\right)"), s["i"][0]),
            x[sympy.Mod(s["i"][0] - t_sym, n_sym)] if cyclic else x[s["i"][0] - t_sym],
            evaluate=False,
        ),
        "cyclic for circular padding" if cyclic else "zero-filled: what enters at the border is 0",
    )
    # general form: which output shift u reproduces a shift t of the input
    lhs = S * o + D * a - P - t_sym
    rhs = S * (o - u_sym) + D * a - P
    sol = sympy.solve(sympy.Eq(lhs, rhs), u_sym)
    d.step(
        "Output shift (general)",
        sympy.Eq(u_sym, sol[0]),
        "after the shift tap a of output o reads S o + D a - P - t; that is tap a of output "
        "o - u iff S u = t: an integer output shift exists only for multiples of the stride",
    )
    d.check(
        "S u = t solved for u (symbolic sizes)",
        "general",
        lambda: (1, 0.0, len(sol) == 1 and sympy.simplify(sol[0] - t_sym / S) == 0, f"u = {sol}"),
    )
    if cyclic:
        y_o = sympy.Sum(x[sympy.Mod(o + a - P, n_sym)] * w[a], (a, 0, K - 1))
        y_t = sympy.Sum(x[sympy.Mod(o + a - P - t_sym, n_sym)] * w[a], (a, 0, K - 1))
        inner = sympy.Mod(sympy.Mod(o - t_sym, n_sym) + a - P, n_sym)
        d.step(
            "Circular padding, stride 1 (general)",
            sympy.Eq(y_t, y_o.xreplace({o: sympy.Mod(o - t_sym, n_sym)}), evaluate=False),
            "substituting x -> x[(. - t) mod n] gives y[(o - t) mod n]: T is (block) "
            "circulant and commutes with every cyclic shift",
        )
        d.check(
            "(o - t) mod n + a - P = o + a - P - t (mod n)",
            "general",
            lambda: (1, 0.0, sympy.simplify(inner - sympy.Mod(o + a - P - t_sym, n_sym)) == 0, ""),
        )
    elif isinstance(spec, Conv):
        crit = sympy.And(
            *[
                sympy.And(P <= S * v, S * v + D * (K - 1) - P <= s["I"][0] - 1)
                for v in (o, o - u_sym)
            ]
        )
        d.step(
            "Interior (sufficient)",
            sympy.Implies(crit, sympy.Eq(sympy.Indexed(sympy.IndexedBase("y'"), o), y[o - u_sym])),
            "if every tap of o and of o - u reads inside the unpadded input, row o of T S_t is "
            "row o - u of T; near the border the padding differs from the shifted input",
        )
        d.step(
            "Exact criterion (index form)",
            sympy.Symbol(r"\forall a:\ \sigma_t(\mathrm{src}(o, a)) = \mathrm{src}(o - u, a)"),
            "two rows agree iff every tap reads the same input (weights are distinct symbols); "
            "sigma_t shifts and drops what leaves the input, src is IndexForm.source",
        )
    rows = core["rows"]
    if broken:
        first = core["broken_flat"][0]
        pi_out = _full_map(_spatial_map("translate", out_shape[1:], u, cyclic), out_shape[0])
        pi_in = _full_map(_spatial_map("translate", sizes, shift, cyclic), in_shape[0])
        left = _expr(_moved(rows.get(first, {}), pi_in, core["is_max"]), in_shape, _kind(spec))
        src = int(pi_out[first])
        zero = {_ZERO: 1} if core["is_max"] else {}
        right = _expr(rows.get(src, {}) if src >= 0 else zero, in_shape, _kind(spec))
        pos = _spatial([first], out_shape)[0]
        d.step(
            "Smallest counterexample",
            sympy.Ne(left, right, evaluate=False),
            f"output {pos}: y'[o] on the left, y[o - u] with u = {u} on the right",
        )
        d.results["counterexample"] = (pos, left, right)
    if not core["divisible"]:
        d.step(
            "Not a multiple of the stride",
            sympy.Symbol(f"{len(core['reproducing'])} output shifts reproduce it"),
            f"shift {shift} with stride {core['strides']}: the best output shift ({u}) breaks "
            f"{len(broken)} of {n_out}; none reproduces it whenever some window stays inside "
            f"the input after the shift and the kernel has >= 2 taps along the axis (tiny "
            f"layers whose windows read only padding or entering zeros are exceptions)",
        )
    d.step(
        "Broken outputs",
        sympy.FiniteSet(*[sympy.Tuple(*p) for p in broken]),
        f"{len(broken)} of {n_out} outputs; {'exact' if exact else 'not exact'} "
        f"({mode} padding, {d.results['shift_kind']} shift, output shift {u})",
    )
    if isinstance(spec, Conv) and core["divisible"] and not cyclic:
        interior = _interior(form, u)
        band = sorted(set(np.ndindex(*out_shape[1:])) - interior)
        d.results["interior"] = tuple(sorted(interior))
        d.results["band"] = tuple(tuple(int(v) for v in p) for p in band)
        if mode == "zeros":
            why = (
                "with zero padding a pad zero and a zero entering with the shift coincide, so "
                "some band outputs stay equivariant: zero padding keeps the size, not "
                "equivariance at the border"
            )
        else:
            why = f"{mode} padding copies inputs into the border, which the shift does not move"
        d.step("Border band", sympy.Symbol(f"{len(band)} outputs outside the interior"), why)
    if isinstance(spec, Pool):
        _pool_invariance(d, spec, sizes, shift, core)
    _translate_checks(d, spec, sizes, shift, core, subs)
    return d


# -- pooling: approximate invariance --------------------------------------------------------
def _windows(
    spec: Pool, sizes: tuple[int, ...], shift: tuple[int, ...]
) -> tuple[list[set[int]], list[set[int]], tuple[int, ...]]:
    """Per output: the inputs its window reads before (`A`) and after (`A'`) the shift."""
    rows, in_shape, out_shape = _rows(spec, sizes, None)
    pi_in = _full_map(_spatial_map("translate", sizes, shift, False), in_shape[0])
    before = [set(rows.get(o, {})) for o in range(math.prod(out_shape))]
    after = [set(_moved(rows.get(o, {}), pi_in, True)) for o in range(math.prod(out_shape))]
    return before, after, out_shape


def max_pool_changes(spec: Pool, x: Any, shift: int | Sequence[int] = 1) -> set[tuple[int, ...]]:
    r"""The outputs of max pooling that can change when the input `x` is shifted (same position).

    Window $A_o$ reads the inputs $A_o$; after a zero-filled shift by $t$ it reads $A'_o$ (a
    zero entering counts as an input of value 0). With $U = A_o \cup A'_o$ and
    $I = A_o \cap A'_o$, output $o$ is **unchanged whenever the maximum over $U$ is attained in
    $I$** (both windows then hold it). So the outputs that change are a subset of
    $\{o : \max_U x > \max_I x\}$, the set returned (equal to it when values do not tie).

    `x` is one channel: an array of the spatial input size.
    """
    if not isinstance(spec, Pool) or spec.kind != "max":
        raise SpecError(f"max_pool_changes: expected a max Pool spec, got {spec}")
    arr = np.asarray(x, dtype=float)
    sizes = tuple(arr.shape)
    if len(sizes) != spec.dims:
        raise SpecError(f"max_pool_changes: x has {len(sizes)} axes, the spec {spec.dims}")
    before, after, out_shape = _windows(spec, sizes, _shift_of(spec, shift))
    flat = arr.ravel()

    def value(c: int) -> float:
        return 0.0 if c == _ZERO else float(flat[c])

    out = set()
    for o, (a, b) in enumerate(zip(before, after, strict=True)):
        union, inter = a | b, a & b
        top = max(value(c) for c in union)
        if not inter or max(value(c) for c in inter) < top:
            out.add(_spatial([o], out_shape)[0])
    return out


def _pool_invariance(
    d: Equivariance,
    spec: Pool,
    sizes: tuple[int, ...],
    shift: tuple[int, ...],
    core: dict[str, Any],
) -> None:
    before, after, out_shape = _windows(spec, sizes, shift)
    can = [o for o, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    fractions = [
        len((a | b) - (a & b)) / len(a | b)
        for a, b in zip(before, after, strict=True)
        if _ZERO not in b and a | b
    ]
    expected = sum(fractions) / len(fractions) if fractions else 0.0
    d.results.update(
        can_change=_spatial(can, out_shape),
        guaranteed_unchanged=_spatial(
            [o for o in range(len(before)) if o not in set(can)], out_shape
        ),
        expected_changed_fraction=expected,
    )
    k, t = sympy.symbols("k t", positive=True, integer=True)
    if spec.kind == "max":
        d.step(
            "Invariance of one output (max)",
            sympy.Symbol(
                r"y'[o] = y[o] \Leftarrow \max_{U_o} x = \max_{I_o} x,\ "
                r"U_o = A_o \cup A'_o,\ I_o = A_o \cap A'_o"
            ),
            "an output is guaranteed unchanged only if the largest input of the two windows "
            "(before and after the shift) lies in their overlap; max_pool_changes applies it",
        )
        d.step(
            "Probability of a change (1D, i.i.d. inputs, |t| < k)",
            sympy.Eq(sympy.Symbol("P_change"), 2 * t / (k + t)),
            "the argmax of the k + |t| inputs of U is uniform; the output changes iff it "
            "falls in one of the 2|t| inputs outside the overlap; k = 3, t = 1 gives 1/2: "
            "'only half of the output pixels have changed'",
        )
    else:
        d.step(
            f"Change of one output ({spec.kind})",
            sympy.Symbol(
                r"y'[o] - y[o] = \frac{1}{N_o}\Big(\sum_{A'_o \setminus A_o} x"
                r" - \sum_{A_o \setminus A'_o} x\Big)"
                if spec.kind == "avg"
                else r"y'[o]^p - y[o]^p = \sum_{A'_o \setminus A_o} x^p"
                r" - \sum_{A_o \setminus A'_o} x^p"
            ),
            "nonzero for generic inputs whenever the windows differ; small when the |t| "
            "inputs entering and leaving are alike",
        )
    d.step(
        "Outputs that can change (same position)",
        sympy.Integer(len(can)),
        f"of {len(before)}: those whose window reads other inputs after the shift (for "
        f"some input each of them changes); expected fraction for i.i.d. inputs, away "
        f"from the border: {expected:.3g}",
    )


def pooling_example() -> Derivation:
    r"""Goodfellow et al., *Deep Learning*, fig. 9.8: max pooling (width 3, stride 1) over a
    detector row shifted right by one. Every detector value in view changes, half the pooled ones.

    ```python
    >>> from symconv.equivariance import pooling_example
    >>> d = pooling_example()
    >>> d["inputs_changed"], d["outputs_changed"], d["view"]
    (4, 2, 4)

    ```
    """
    spec = Pool(dims=1, kind="max", kernel_size=3, stride=1, padding=1)
    r = sympy.Rational
    row = [r(0), r(3, 10), r(1, 10), r(1), r(1, 5), r(1, 10), r(0)]
    n = len(row)
    pi = _spatial_map("translate", (n,), (1,), False)
    shifted = [row[j] if j >= 0 else sympy.Integer(0) for j in pi.tolist()]
    rows, _, out_shape = _rows(spec, (n,), None)

    def pool(v: list[Any]) -> list[Any]:
        return [max(v[c] for c in rows[o]) for o in range(out_shape[1])]

    view = slice(2, 6)  # the figure shows the middle four positions
    y, y_s = pool(row), pool(shifted)
    changed_in = sum(a != b for a, b in zip(row[view], shifted[view], strict=True))
    changed_out = sum(a != b for a, b in zip(y[view], y_s[view], strict=True))
    predicted = max_pool_changes(spec, np.array(row, dtype=float), 1)
    d = Derivation("Max pooling is approximately invariant (Goodfellow fig. 9.8)")
    d.results.update(
        detector=row[view],
        shifted=shifted[view],
        pooled=y[view],
        pooled_shifted=y_s[view],
        inputs_changed=changed_in,
        outputs_changed=changed_out,
        view=4,
        predicted=predicted,
        spec=spec,
    )
    mat = sympy.Matrix
    d.step(
        "Detector stage",
        mat([row[view], shifted[view]]),
        "top: the detector row; bottom: shifted right by one (every value changes)",
    )
    d.step(
        "Pooling stage",
        mat([y[view], y_s[view]]),
        "max over width 3, stride 1: only half of the pooled values change",
    )
    d.step(
        "Changed",
        sympy.Tuple(sympy.Rational(changed_in, 4), sympy.Rational(changed_out, 4)),
        "inputs changed, outputs changed (fractions of the view); 2/(k + 1) = 1/2 for k = 3",
    )

    def run() -> tuple[int, float, bool, str]:
        full = {(o,) for o in range(n) if y[o] != y_s[o]}
        return (
            1,
            0.0,
            changed_in == 4 and changed_out == 2 and full <= predicted,
            f"changed {sorted(full)}, predicted {sorted(predicted)}",
        )

    d.check("figure reproduced; changed outputs within the prediction", "exact", run)
    return d


# -- rotations and flips --------------------------------------------------------------------
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
    w = sympy.IndexedBase("w")
    return [w[idx] for idx in np.ndindex(*spec.weight_shape)]


def _solve(eqs: Sequence[Any], syms: list[sympy.Indexed]) -> tuple[Any, ...]:
    """The solution of a linear system in the weights, one expression per symbol."""
    eqs = [e.lhs - e.rhs if isinstance(e, sympy.Eq) else e for e in eqs]
    if not eqs:
        return tuple(syms)
    (sol,) = sympy.linsolve(eqs, syms)
    return tuple(sol)


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


def _symmetry_core(
    spec: Conv | Pool, sizes: tuple[int, ...], transform: str, subs: dict | None
) -> dict[str, Any]:
    rows, in_shape, out_shape = _rows(spec, sizes, None)
    is_max = _kind(spec) == "max"
    pi_in = _full_map(_spatial_map(transform, sizes, (), False), in_shape[0])
    pi_out = _full_map(_spatial_map(transform, out_shape[1:], (), False), out_shape[0])
    eqs: set[Any] = set()
    bad = []
    for o in range(math.prod(out_shape)):
        lhs = _moved(rows.get(o, {}), pi_in, is_max)
        rhs = rows.get(int(pi_out[o]), {})
        if isinstance(spec, Pool):
            if lhs != rhs:
                bad.append(o)
            continue
        diffs = [sympy.expand(lhs.get(c, 0) - rhs.get(c, 0)) for c in set(lhs) | set(rhs)]
        nonzero = [e for e in diffs if e != 0]
        eqs.update(nonzero)
        if subs:
            nonzero = [e for e in nonzero if e.xreplace(subs) != 0]
        if nonzero:
            bad.append(o)
    condition: list[sympy.Eq] = []
    if isinstance(spec, Conv):
        syms = _weight_symbols(spec)
        sol = _solve(sorted(eqs, key=sympy.default_sort_key), syms)
        condition = [sympy.Eq(s, v) for s, v in zip(syms, sol, strict=True) if v != s]
    return {
        "rows": rows,
        "out_shape": out_shape,
        "broken_flat": bad,
        "broken": _spatial(bad, out_shape),
        "equations": eqs,
        "condition": condition,
    }


def _symmetry(
    spec: Conv | Pool, sizes: tuple[int, ...], transform: str, subs: dict | None
) -> Equivariance:
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
        equations=len(core["equations"]),
    )
    i, j, n = sympy.symbols("i j n", integer=True)
    a, b, K = sympy.symbols("a b K", integer=True)
    x, w, g = sympy.IndexedBase("x"), sympy.IndexedBase("w"), sympy.IndexedBase("(g x)")
    src = {"rot90": (j, n - 1 - i), "flip_h": (i, n - 1 - j), "flip_v": (n - 1 - i, j)}
    if spec.dims == 1:
        d.step(
            "The transformation",
            sympy.Eq(g[i], x[n - 1 - i], evaluate=False),
            "flip_h of a row reverses it",
        )
    else:
        d.step(
            "The transformation",
            sympy.Eq(g[i, j], x[src[transform]], evaluate=False),
            "numpy's rot90 (counter-clockwise)" if transform == "rot90" else "a mirror",
        )
    d.step(
        "Equivariance, row by row",
        sympy.Symbol(r"T P_g^{\mathrm{in}} = P_g^{\mathrm{out}} T"),
        "row o of T P reads x[pi(j)] with T[o, j]; row o of P T is row pi(o) of T",
    )
    o1, o2, P, Dl, m, c_, e_ = sympy.symbols("o_1 o_2 P D m c d", integer=True)
    general: dict[str, Any] = {}
    if spec.dims == 2 and transform == "rot90":
        # second index: after rotation tap (a, b) reads n-1-o1-Da+P; output (o2, m-1-o1)'s tap
        # (c, d) reads m-1-o1+Dd-P with m = n + 2P - D(K-1)
        lhs_ = (n + 2 * P - Dl * (K - 1)) - 1 - o1 + Dl * e_ - P
        general["sol"] = sympy.solve(sympy.Eq(lhs_, n - 1 - o1 - Dl * a + P), e_)
        general["want"] = K - 1 - a
        d.step(
            "Matching taps (general)",
            sympy.Eq(w[a, b], w[b, K - 1 - a]),
            "tap (a, b) of the rotated input meets tap (b, K - 1 - a) of the rotated output: "
            "the kernel must be invariant under rot90",
        )
    else:
        lhs_ = (n + 2 * P - Dl * (K - 1)) - 1 - o2 + Dl * e_ - P
        general["sol"] = sympy.solve(sympy.Eq(lhs_, n - 1 - o2 - Dl * b + P), e_)
        general["want"] = K - 1 - b
        pair = {"flip_h": (w[a, b], w[a, K - 1 - b]), "flip_v": (w[a, b], w[K - 1 - a, b])}
        stmt = sympy.Eq(w[b], w[K - 1 - b]) if spec.dims == 1 else sympy.Eq(*pair[transform])
        d.step(
            "Matching taps (general)",
            stmt,
            "the mirrored input meets the mirrored tap: the kernel must be mirror-symmetric",
        )
    del o1, o2, m, c_
    if isinstance(spec, Conv):
        d.step(
            "Condition on the weights (solved)",
            sympy.Tuple(*condition),
            f"linsolve of the {len(core['equations'])} distinct entry equations "
            f"T P = P T; empty means every kernel works",
        )
        if subs:
            kernel = [e.xreplace(subs) for e in condition]
            d.step(
                "With the given weights",
                sympy.Tuple(*kernel),
                "the condition holds"
                if all(k == sympy.true for k in kernel)
                else "the condition fails",
            )
    d.step(
        "Broken outputs",
        sympy.FiniteSet(*[sympy.Tuple(*p) for p in broken]),
        f"{len(broken)} of {n_out} outputs; {'exact' if exact else 'not exact'}",
    )
    d.check(
        "matched tap solved symbolically",
        "general",
        lambda: (
            1,
            0.0,
            len(general["sol"]) == 1 and sympy.simplify(general["sol"][0] - general["want"]) == 0,
            f"d = {general['sol']}",
        ),
    )
    _symmetry_checks(d, spec, sizes, transform, subs, core)
    return d


# -- checks ---------------------------------------------------------------------------------
MODES = ("zeros", "reflect", "replicate", "circular")


def _grid_translate() -> list[tuple[Conv, tuple[int, ...], tuple[int, ...]]]:
    """The exact-level grid: 1D and 2D, sizes up to 7, kernels up to 3, strides up to 3."""
    cases = []
    for n, k, s, p, mode, t in itertools.product(
        (3, 5, 7), (1, 2, 3), (1, 2, 3), (0, 1, 2), MODES, (1, -2, 3)
    ):
        cases.append(
            (dict(dims=1, kernel_size=k, stride=s, padding=p, padding_mode=mode), (n,), (t,))
        )
    for n, k, s, p, mode, t in itertools.product(
        ((4, 4), (5, 3)), (1, 3), (1, 2), (0, 1), MODES, ((1, 0), (2, -2), (1, 3))
    ):
        cases.append((dict(dims=2, kernel_size=k, stride=s, padding=p, padding_mode=mode), n, t))
    for n, k in itertools.product((5, 7), (2, 3)):  # dilation and true convolution
        cases.append((dict(dims=1, kernel_size=k, dilation=2, padding=2, flip=True), (n,), (1,)))
    out = []
    for kw, n, t in cases:
        try:
            spec = Conv(bias=False, **kw)
            spec.output_size(n)
        except SpecError:
            continue
        out.append((spec, tuple(n), tuple(t)))
    return out


def _witness(form: Any, shift: tuple[int, ...]) -> bool:
    r"""Whether some output's window stays inside the input after the shift, along every axis,
    with at least two taps along each axis where the stride does not divide the shift.

    Then no output shift reproduces a non-multiple shift: the shifted window reads $K \ge 2$
    distinct, evenly spaced inputs, which padding (clamped or mirrored) never reproduces.
    """
    for a, ax in enumerate(form.axes):
        j = form.tap_table(a, padded=True) - ax.lo  # unpadded coordinate of every tap
        ok = np.all(
            (j >= 0) & (j < ax.size) & (j - shift[a] >= 0) & (j - shift[a] < ax.size), axis=1
        )
        if not ok.any() or (shift[a] % ax.stride and ax.kernel < 2):
            return False
    return True


def _translate_claims(spec: Conv, sizes: tuple[int, ...], shift: tuple[int, ...]) -> str:
    """The statements of the translation derivation on one case; '' when all hold."""
    core = _translate_core(spec, sizes, shift)
    form, u, broken = core["form"], core["output_shift"], set(core["broken"])
    if core["divisible"]:
        tapwise = _tapwise_broken(form, shift, u, core["cyclic"])
        if tapwise != broken:
            return f"index-form criterion {sorted(tapwise)} != rows {sorted(broken)}"
        if not core["cyclic"] and not broken <= set(np.ndindex(*form.output_size)) - _interior(
            form, u
        ):
            return "an interior output broke"
        full = form.output_size == form.input_size and all(ax.stride == 1 for ax in form.axes)
        if core["cyclic"] and full and broken:
            return "circular padding broke"
    elif core["reproducing"] and not core["cyclic"] and _witness(form, shift):
        return f"output shift {core['reproducing'][0]} reproduces a non-multiple shift"
    return ""


def _circulant_claim(spec: Conv, sizes: tuple[int, ...]) -> str:
    """Every cyclic shift commutes with T (circular padding, stride 1, full-size output)."""
    for t in itertools.product(*[range(n) for n in sizes]):
        core = _translate_core(spec, sizes, t)
        if core["broken"]:
            return f"shift {t} broke {core['broken']}"
    return ""


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is an optional dependency
        return None
    return torch


def _torch_layer(spec: Conv | Pool, x: Any, weight: Any) -> Any:
    """The layer in torch: F.pad with the padding mode, then the convolution (or the pooling)."""
    import torch.nn.functional as F

    dims = spec.dims
    if isinstance(spec, Conv):
        pads = [v for lo, hi in reversed(spec.pads) for v in (lo, hi)]
        mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
        xp = F.pad(x, pads, mode=mode) if any(pads) else x
        w = weight.flip(dims=tuple(range(2, 2 + dims))) if spec.flip else weight
        conv = getattr(F, f"conv{dims}d")
        return conv(xp, w, None, spec.stride, 0, spec.dilation, spec.groups)
    k, s, p = spec.kernel_size, spec.stride, spec.padding
    if spec.kind == "max":
        return getattr(F, f"max_pool{dims}d")(x, k, s, p, spec.dilation, spec.ceil_mode)
    if spec.kind == "lp":
        if dims == 1:  # lp_pool1d wants plain ints
            return F.lp_pool1d(x, spec.norm_type, k[0], s[0], spec.ceil_mode)
        return getattr(F, f"lp_pool{dims}d")(x, spec.norm_type, k, s, spec.ceil_mode)
    if dims == 1:  # avg_pool1d has no divisor_override: run it as a 1 x k 2-D pooling
        y = F.avg_pool2d(
            x.unsqueeze(-2),
            (1, k[0]),
            (1, s[0]),
            (0, p[0]),
            spec.ceil_mode,
            spec.count_include_pad,
            spec.divisor_override,
        )
        return y.squeeze(-2)
    return getattr(F, f"avg_pool{dims}d")(
        x, k, s, p, spec.ceil_mode, spec.count_include_pad, spec.divisor_override
    )


def _torch_transform(x: Any, transform: str, shift: Sequence[int], cyclic: bool) -> Any:
    """The transformation in torch (roll then zero the wrapped part; rot90; flip)."""
    torch = _torch()
    dims = x.dim() - 2
    if transform == "rot90":
        return torch.rot90(x, 1, dims=(-2, -1))
    if transform == "flip_h":
        return torch.flip(x, dims=(-1,))
    if transform == "flip_v":
        return torch.flip(x, dims=(-2,))
    y = torch.roll(x, shifts=tuple(shift), dims=tuple(range(2, 2 + dims)))
    if not cyclic:
        for a, t in enumerate(shift):
            idx = [slice(None)] * x.dim()
            idx[2 + a] = slice(0, t) if t >= 0 else slice(x.shape[2 + a] + t, None)
            y[tuple(idx)] = 0
    return y


def _torch_changed(
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    transform: str,
    shift: Sequence[int],
    u: Sequence[int],
    cyclic: bool,
    weight: Any,
    x: Any,
    invariance: bool = False,
) -> set[tuple[int, ...]]:
    """Positions where layer(g x) differs from g'(layer(x)) (or from layer(x): invariance)."""
    torch = _torch()
    y = _torch_layer(spec, x, weight)
    lhs = _torch_layer(spec, _torch_transform(x, transform, shift, cyclic), weight)
    rhs = y if invariance else _torch_transform(y, transform, u, cyclic)
    diff = (lhs - rhs).abs().amax(dim=(0, 1))
    tol = 1e-9 * (1.0 + float(y.abs().max()))
    return {tuple(int(v) for v in p) for p in torch.nonzero(diff > tol).tolist()}


def _random_input(spec: Conv | Pool, sizes: tuple[int, ...], gen: Any) -> Any:
    torch = _torch()
    channels = spec.in_channels if isinstance(spec, Conv) else 2
    x = torch.randn((2, channels, *sizes), generator=gen, dtype=torch.float64)
    return x.abs() + 0.1 if _kind(spec) == "lp" else x


def _weight_tensor(spec: Conv, subs: dict | None, gen: Any) -> Any:
    torch = _torch()
    if subs is None:
        return torch.randn(spec.weight_shape, generator=gen, dtype=torch.float64)
    base = sympy.IndexedBase("w")
    vals = [float(subs[base[idx]]) for idx in np.ndindex(*spec.weight_shape)]
    return torch.tensor(vals, dtype=torch.float64).reshape(spec.weight_shape)


def _translate_checks(
    d: Equivariance,
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    shift: tuple[int, ...],
    core: dict[str, Any],
    subs: dict | None,
) -> None:
    if isinstance(spec, Conv) and subs is None:

        def grid() -> tuple[int, float, bool, str]:
            cases = [(spec, sizes, shift), *_grid_translate()]
            for case in cases:
                why = _translate_claims(*case)
                if why:
                    return len(cases), 1.0, False, f"{case[0]} on {case[1]}, shift {case[2]}: {why}"
            return len(cases), 0.0, True, "rows of T S = rows of S T exactly where predicted"

        d.check("broken set = index-form criterion; interior equivariant; strides", "exact", grid)
        if core["cyclic"]:

            def circ() -> tuple[int, float, bool, str]:
                cases = [
                    Conv(
                        dims=dm, kernel_size=k, padding="same", padding_mode="circular", bias=False
                    )
                    for dm in (1, 2)
                    for k in (1, 3)
                ]
                sizes_ = {1: [(n,) for n in range(2, 8)], 2: [(3, 3), (4, 2)]}
                n_cases = 0
                for c in cases:
                    for sz in sizes_[c.dims]:
                        n_cases += 1
                        why = _circulant_claim(c, sz)
                        if why:
                            return n_cases, 1.0, False, f"{c} on {sz}: {why}"
                return n_cases, 0.0, True, "T commutes with every cyclic shift"

            d.check("circulant: every cyclic shift commutes with T", "exact", circ)

    def numeric() -> tuple[int, float, bool, str]:
        torch = _torch()
        if torch is None:  # pragma: no cover
            return 0, 0.0, True, "torch not installed: skipped"
        gen = torch.Generator().manual_seed(0)
        expected = set(core["broken"])
        for _ in range(3):
            x = _random_input(spec, sizes, gen)
            w = _weight_tensor(spec, subs, gen) if isinstance(spec, Conv) else None
            got = _torch_changed(
                spec, sizes, "translate", shift, core["output_shift"], core["cyclic"], w, x
            )
            ok = got <= expected if core["is_max"] else got == expected
            if not ok:
                return 3, 1.0, False, f"torch changed {sorted(got)}, derived {sorted(expected)}"
        return 3, 0.0, True, "changed output positions match .broken"

    d.check("torch: conv(shift(x)) vs shift(conv(x))", "numeric", numeric)
    if isinstance(spec, Pool) and spec.kind == "max":

        def invariance() -> tuple[int, float, bool, str]:
            torch = _torch()
            if torch is None:  # pragma: no cover
                return 0, 0.0, True, "torch not installed: skipped"
            gen = torch.Generator().manual_seed(1)
            for _ in range(5):
                x = torch.randn((1, 1, *sizes), generator=gen, dtype=torch.float64)
                got = _torch_changed(
                    spec,
                    sizes,
                    "translate",
                    shift,
                    (0,) * spec.dims,
                    False,
                    None,
                    x,
                    invariance=True,
                )
                want = max_pool_changes(spec, x[0, 0].numpy(), shift)
                if not got <= want:
                    return 5, 1.0, False, f"changed {sorted(got)} not within {sorted(want)}"
            return 5, 0.0, True, "changed outputs within the predicted set"

        d.check(
            "max pooling: changed outputs within the window-overlap prediction",
            "numeric",
            invariance,
        )


def _grid_symmetry(transform: str) -> list[tuple[Conv, tuple[int, ...]]]:
    cases = []
    dims = (1, 2) if transform == "flip_h" else (2,)
    for dm, n, k, p, mode in itertools.product(dims, (3, 4, 5), (1, 2, 3), (0, 1), MODES):
        try:
            spec = Conv(dims=dm, kernel_size=k, padding=p, padding_mode=mode, bias=False)
            spec.output_size(n)
        except SpecError:
            continue
        if _symmetric_setup(spec, (n,) * dm, transform):
            cases.append((spec, (n,) * dm))
    return cases


def _symmetry_checks(
    d: Equivariance,
    spec: Conv | Pool,
    sizes: tuple[int, ...],
    transform: str,
    subs: dict | None,
    core: dict[str, Any],
) -> None:
    if isinstance(spec, Conv):

        def grid() -> tuple[int, float, bool, str]:
            cases = _grid_symmetry(transform)
            if _symmetric_setup(spec, sizes, transform):
                cases.insert(0, (spec, sizes))
            for c, sz in cases:
                cond = _symmetry_core(c, sz, transform, None)["condition"]
                syms = _weight_symbols(c)
                if _solve(cond, syms) != _solve(_kernel_symmetry(c, transform), syms):
                    return len(cases), 1.0, False, f"{c} on {sz}: {cond}"
            return len(cases), 0.0, True, "solved condition = kernel symmetry"

        d.check(f"condition = the kernel's {transform} symmetry", "exact", grid)

    def numeric() -> tuple[int, float, bool, str]:
        torch = _torch()
        if torch is None:  # pragma: no cover
            return 0, 0.0, True, "torch not installed: skipped"
        gen = torch.Generator().manual_seed(0)
        expected = set(core["broken"])
        cyclic = False
        for _ in range(3):
            x = _random_input(spec, sizes, gen)
            w = _weight_tensor(spec, subs, gen) if isinstance(spec, Conv) else None
            got = _torch_changed(spec, sizes, transform, (), (), cyclic, w, x)
            ok = got <= expected if _kind(spec) == "max" else got == expected
            if not ok:
                return 3, 1.0, False, f"torch changed {sorted(got)}, derived {sorted(expected)}"
            if isinstance(spec, Conv) and subs is None:  # a kernel satisfying the condition
                syms = _weight_symbols(spec)
                noise = torch.randn(len(syms), generator=gen, dtype=torch.float64).tolist()
                free = dict(zip(syms, noise, strict=True))
                sol = _solve(d.condition, syms)
                vals = [float(e.xreplace(free)) for e in sol]
                w = torch.tensor(vals, dtype=torch.float64).reshape(spec.weight_shape)
                got = _torch_changed(spec, sizes, transform, (), (), cyclic, w, x)
                if got:
                    return 3, 1.0, False, f"a kernel meeting the condition changed {sorted(got)}"
        return 3, 0.0, True, "changed positions match .broken; symmetric kernels exact"

    d.check(f"torch: conv({transform}(x)) vs {transform}(conv(x))", "numeric", numeric)
