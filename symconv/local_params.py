r"""Locally connected and tiled layers: parameter counts against convolution and a dense layer,
and backpropagation with unshared weights.

For a 2D layer with input $N \times N \times C_\mathrm{in}$, kernel $K \times K$, output
$O \times O \times C_\mathrm{out}$ and $t$ kernels in all for a tiled layer ($t = t_1 t_2$, the
product of the tiles per axis), the weights number

| layer | weights | biases |
|---|---|---|
| convolution | $K^2 C_\mathrm{in} C_\mathrm{out}$ | $C_\mathrm{out}$ |
| tiled | $t K^2 C_\mathrm{in} C_\mathrm{out}$ | $C_\mathrm{out}$ |
| locally connected | $O^2 K^2 C_\mathrm{in} C_\mathrm{out}$ | $O^2 C_\mathrm{out}$ |
| dense | $(N^2 C_\mathrm{in})(O^2 C_\mathrm{out})$ | $O^2 C_\mathrm{out}$ |

The dense count is the number of entries of the Toeplitz matrix $T$; the locally connected one
the number of its (structurally) nonzero entries under valid padding; convolution shares each
weight along a diagonal, a tiled layer along every $t$-th one.

```python
>>> from symconv.local_params import local_params
>>> d = local_params()
>>> d.verify().passed
True
>>> d["table"]["locally connected"]      # 19*19*9*3*10 weights + 19*19*10 biases
101080

```
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import sympy

from ._errors import SpecError
from ._subs import at as _at
from ._tables import Table, same_factors, table
from .derivation import Derivation, Outcome, grid_check
from .indexform import IndexForm, index_form
from .limits import check_symbolic, factor_tables_cost
from .local import LocallyConnected, Tiled
from .spec import Conv
from .toeplitz import patch_matrix, toeplitz

__all__ = ["local_backprop", "local_params", "param_formulas"]

N, K, C_IN, C_OUT, O, T_TILES = sympy.symbols("N K C_in C_out O t", integer=True, positive=True)


# the exact checks of the local/tiled gradients (this layer and a grid)
_LOCAL_GRADIENTS = ("dL/dw = X^T delta, dL/dx = T^T delta", "same on a grid")


def param_formulas(bias: bool = False) -> dict[str, Any]:
    """The weight (plus, with `bias`, bias) counts of the four layers as SymPy expressions (2D)."""
    weights = {
        "convolution": K**2 * C_IN * C_OUT,
        "tiled": T_TILES * K**2 * C_IN * C_OUT,
        "locally connected": O**2 * K**2 * C_IN * C_OUT,
        "dense": (N**2 * C_IN) * (O**2 * C_OUT),
    }
    if not bias:
        return weights
    biases = {"convolution": C_OUT, "tiled": C_OUT, "locally connected": O**2 * C_OUT}
    biases["dense"] = O**2 * C_OUT
    return {k: v + biases[k] for k, v in weights.items()}


def _grid() -> list[tuple[int, int, int, int, tuple[int, int], int, int, bool]]:
    return [
        c
        for c in itertools.product(
            range(3, 7),
            (1, 2, 3),
            (1, 2),
            (1, 3),
            ((1, 1), (2, 1), (2, 3)),
            (1, 2),
            (0, 1),
            (False, True),
        )
        if c[0] + 2 * c[6] >= c[1]
    ]


def _counts_only(spec: Any, size: tuple[int, ...]) -> int:
    """What `local_params` builds at the layer's size: numbers from formulas (its matrices
    are on a grid of small layers), no nonzeros."""
    return 0


def local_params(spec: Any = None, input_size: Any = None) -> Derivation:
    r"""Parameter counts of convolution, tiled, locally connected and dense layers (2D).

    `spec` (a 2D `Conv`, default 3x3 kernel, 3 -> 10 channels) and `input_size` (default
    $21 \times 21$) fill in the table in `d["table"]` (tiled with $t = 2 \times 2$). Checks:
    the formulas against `num_parameters` of `Conv`, `Tiled`, `LocallyConnected` on a grid (and
    the dense count against the size of the Toeplitz matrix; the locally connected count
    against its number of taps).
    """
    spec = Conv(dims=2, in_channels=3, out_channels=10, kernel_size=3) if spec is None else spec
    # the cost first, integer arithmetic only: counts from formulas, no matrix of this size
    check_symbolic("local_params", spec, input_size, cost=_counts_only)
    if not isinstance(spec, Conv) or spec.dims != 2 or spec.kernel_size[0] != spec.kernel_size[1]:
        raise SpecError(f"local_params: expected a 2D Conv with a square kernel, got {spec}")
    if spec.groups != 1:
        raise SpecError(f"local_params: groups must be 1 for the table, got {spec.groups}")
    size = (21, 21) if input_size is None else spec._check_input(input_size)
    if size[0] != size[1]:
        raise SpecError(f"local_params: input must be square for the table, got {size}")
    out = spec.output_size(size)
    d = Derivation("Parameters: convolution, tiled, locally connected, dense")
    f = param_formulas(bias=spec.bias)
    for name, expr in f.items():
        d.add_step(
            name.capitalize(),
            sympy.Eq(sympy.Symbol(f"P_{{{name.replace(' ', '~')}}}"), expr),
            _WHY[name],
            by="dense = entries of T" if name == "dense" else "formulas = num_parameters",
        )
    subs = {
        N: size[0],
        K: spec.kernel_size[0],
        C_IN: spec.in_channels,
        C_OUT: spec.out_channels,
        O: out[0],
        T_TILES: 4,
    }
    table = {name: int(expr.subs(subs)) for name, expr in f.items()}
    d.add_step(
        f"For {spec} on {size[0]}x{size[1]} (tiled: t = 2x2)",
        sympy.Tuple(*(sympy.Eq(sympy.Symbol(k.replace(" ", "~")), v) for k, v in table.items())),
        f"output {out[0]}x{out[1]}",
        by=("formulas = num_parameters", "dense = entries of T"),
    )
    d.add_step(
        "Ratios",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("P_local/P_conv"), O**2),
            sympy.Eq(
                sympy.Symbol("P_dense/P_local"),
                sympy.cancel(param_formulas()["dense"] / param_formulas()["locally connected"]),
            ),
        ),
        "unsharing costs one kernel per output position; full connectivity N^2/K^2 more",
        by="ratios of the weight counts",
    )

    def ratios() -> Outcome:
        ff = param_formulas()
        ok = sympy.simplify(ff["locally connected"] / ff["convolution"] - O**2) == 0 and (
            sympy.simplify(ff["dense"] / ff["locally connected"] - N**2 / K**2) == 0
        )
        return Outcome(1, 0.0 if ok else 1.0, ok, "symbolic in N, K, O, C_in, C_out (weights only)")

    d.check("ratios of the weight counts, symbolic", "general", ratios)
    d.results.update(formulas=f, table=table)

    def grid() -> Outcome:
        formulas = {b: param_formulas(b) for b in (False, True)}

        def err(c: tuple) -> float:
            n, k, ci, co, tiles, s, p, bias = c
            layer = dict(dims=2, in_channels=ci, out_channels=co, kernel_size=k, stride=s,
                         padding=p, bias=bias)  # fmt: skip
            conv = Conv(**layer)
            o = conv.output_size((n, n))
            if o[0] != o[1]:
                return 1.0
            loc = LocallyConnected(**layer, input_size=(n, n))
            til = Tiled(**layer, tiles=tiles)
            vals = {N: n, K: k, C_IN: ci, C_OUT: co, O: o[0], T_TILES: math.prod(tiles)}
            ff = formulas[bias]
            got = {
                "convolution": conv.num_parameters(),
                "tiled": til.num_parameters(),
                "locally connected": loc.num_parameters(),
            }
            bad = any(int(_at(ff[name], vals)) != v for name, v in got.items())
            return float(bad)

        return grid_check(_grid(), err)

    def matrices() -> Outcome:
        cases = list(itertools.product(range(3, 6), (1, 2, 3), (1, 2), (1, 2)))

        def err(c: tuple[int, int, int, int]) -> float:
            n, k, ci, co = c
            loc = LocallyConnected(
                dims=2,
                in_channels=ci,
                out_channels=co,
                kernel_size=k,
                input_size=(n, n),
                bias=False,
            )
            form = index_form(loc, (n, n))
            rows, cols = math.prod(form.out_shape()), math.prod(form.in_shape())
            vals = {N: n, K: k, C_IN: ci, C_OUT: co, O: loc.output_size()[0]}
            ff = param_formulas()
            return float(
                rows * cols != _at(ff["dense"], vals)
                or form.tap_count() != _at(ff["locally connected"], vals)
            )

        return grid_check(cases, err)

    d.check("formulas = num_parameters of Conv, Tiled, LocallyConnected", "exact", grid)
    d.check("dense = entries of T; locally connected = taps of T (valid)", "exact", matrices)
    return d


_WHY = {
    "convolution": "one K x K x C_in kernel per output channel, shared by every position",
    "tiled": "t kernels rotate through the positions (t = 1: convolution)",
    "locally connected": "one kernel per output position: the 6-D weight w[k, o1, o2, c, a1, a2]",
    "dense": "every output connected to every input: all entries of T",
}


# -- backpropagation with unshared weights --------------------------------------------------
def _gradients(spec: Conv, size: tuple[int, ...]) -> tuple[dict, dict, dict, dict]:
    """(dL/dw from L, X^T delta, dL/dx from L, T^T delta), symbolic, keyed by flat index."""
    form = index_form(spec, size)
    T = dict(toeplitz(spec, size).todok())
    X = dict(patch_matrix(spec, size).todok())
    delta = sympy.IndexedBase("delta")
    x = sympy.IndexedBase("x")
    in_shape = form.in_shape()
    xs = [
        x[tuple(int(v) for v in np.unravel_index(c, in_shape))] for c in range(math.prod(in_shape))
    ]
    ds = [delta[r] for r in range(math.prod(form.out_shape()))]
    w_flat = {
        sympy.IndexedBase("w")[tuple(int(v) for v in np.unravel_index(i, form.weight_shape))]: i
        for i in range(math.prod(form.weight_shape))
    }
    dw: dict[int, Any] = defaultdict(int)
    dx: dict[int, Any] = defaultdict(int)
    for (r, c), v in T.items():  # L = sum_r delta_r (T x)_r, linear in w and in x
        for sym, coef in sympy.expand(v).as_coefficients_dict().items():
            dw[w_flat[sym]] += coef * ds[r] * xs[c]
        dx[c] += ds[r] * v
    xtd: dict[int, Any] = defaultdict(int)
    for (r, i), v in X.items():
        xtd[i] += v * ds[r]
    ttd: dict[int, Any] = defaultdict(int)
    for (r, c), v in T.items():
        ttd[c] += v * ds[r]
    clean = lambda m: {k: sympy.expand(v) for k, v in m.items() if sympy.expand(v) != 0}  # noqa: E731
    return clean(dw), clean(xtd), clean(dx), clean(ttd)


# The layer's own check on structure: the taps of T (what `toeplitz` and `patch_matrix`
# assemble, read through `IndexForm`) against the displayed formula
# dL/dw[k, o, c, a] = delta[k, o] x~[c, S o + D a'], x~ = Pad x, computed here from the axis
# numbers alone. Both are a channel table times one table per axis, so they are compared
# factor by factor in integers: O(C_out C_in/G + sum_d O_d K_d), not the layer's taps.
_SYMBOLIC_TAPS = 1024  # layers up to this many taps are also differentiated in SymPy (~1 s)


def _form_tables(form: IndexForm) -> tuple[Table, list[Table]]:
    """T's factors: channel rows (k, c_in, weight's k, weight's c) and per axis rows
    (o, a, i, weight's position index, weight's tap index), as `gather` combines them."""
    dims = form.dims
    ks, cins, _ = form._channel_table()
    c_idx = np.arange(len(ks)) % (form.in_channels // form.groups)
    zero = [np.zeros(1, dtype=np.int64)] * dims
    lead, _ = form._weight_parts(ks, c_idx, zero, zero)  # [k, *pos, c, *a]
    channels = table(ks, cins, lead[0], lead[1 + dims])
    axes = []
    for d in range(dims):
        t = form.tap_table(d)
        o, a = np.nonzero(t >= 0)
        parts, _ = form._weight_parts(  # this axis's (o, a); the others at 0
            zero[0],
            zero[0],
            [o if j == d else zero[j] for j in range(dims)],
            [a if j == d else zero[j] for j in range(dims)],
        )
        pos, tap = (
            np.broadcast_to(parts[1 + d], o.shape),
            np.broadcast_to(parts[2 + dims + d], o.shape),
        )
        axes.append(table(o, a, t[o, a], pos, tap))
    return channels, axes


def _formula_tables(spec: LocallyConnected | Tiled, form: IndexForm) -> tuple[Table, list[Table]]:
    r"""The formula's factors: output channel $k$ reads input channel
    $\lfloor k / (C_\mathrm{out}/G) \rfloor C_\mathrm{in}/G + c$ through weight $(k, c)$; on each
    axis output $o$ at tap $a$ reads the padded coordinate $j = S o + D a'$ ($a' = K - 1 - a$
    under flip), i.e. input $\mathrm{Pad}(j)$, through the weight's position $o$ (tiled:
    $o \bmod t$) and tap $a$."""
    cin_g, cout_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    k, c = np.divmod(np.arange(spec.out_channels * cin_g), cin_g)
    channels = table(k, (k // cout_g) * cin_g + c, k, c)
    axes = []
    for d, ax in enumerate(form.axes):
        out, padded = cast(int, ax.out), cast(int, ax.padded)
        o, a = (g.ravel() for g in np.indices((out, ax.kernel)))
        j = ax.stride * o + ax.dilation * ((ax.kernel - 1 - a) if ax.flip else a)
        pad = form.pad_table(d)
        src = np.where((j >= 0) & (j < padded), pad[np.clip(j, 0, padded - 1)], -1)
        keep = src >= 0
        o, a = o[keep], a[keep]
        pos = o % spec.tiles[d] if isinstance(spec, Tiled) else o
        axes.append(table(o, a, src[keep], pos, a))
    return channels, axes


def structural_gradients(spec: LocallyConnected | Tiled, size: tuple[int, ...]) -> tuple[bool, int]:
    r"""$\partial L/\partial w = X^\top\delta$ and $\partial L/\partial x = T^\top\delta$ of
    $L = \delta^\top T x$ on integer tables: the taps of $T$ (`index_form(spec, size)`, what
    `toeplitz` and `patch_matrix` assemble) equal, factor by factor, those of the formula
    $\partial L/\partial w_{k,o,c,a} = \delta_{k,o}\, \tilde x_{c,\,S o + D a'}$ (weight position
    $o \bmod t$ for a tiled layer). A tap $(r, c, w)$ is the term $\delta_r x_c$ of
    $\partial L/\partial w$ and $\delta_r w$ of $\partial L/\partial x_c$, so equal tables are
    equal gradients with symbolic $x$, $\delta$, $w$. Returns (holds, taps)."""
    form = index_form(spec, size)
    ch, axes = _form_tables(form)
    fch, faxes = _formula_tables(spec, form)
    ok = same_factors([ch, *axes], [fch, *faxes])
    return ok, form.tap_count()


def _single_products(spec: LocallyConnected | Tiled, size: tuple[int, ...]) -> bool:
    """Whether every weight has one term in dL/dw: no two taps share a weight index."""
    form = index_form(spec, size)
    _, axes = _form_tables(form)
    return all(
        len(np.unique(t[:, 3] * (t[:, 4].max() + 1) + t[:, 4])) == len(t) for t in axes if len(t)
    )


def _flat_index(name: str, shape: tuple[int, ...]) -> dict[Any, int]:
    """`name[i_1, ...]` (a `sympy.Indexed`) -> its flat C-order index, for every index."""
    base = sympy.IndexedBase(name)
    return {
        base[tuple(int(v) for v in np.unravel_index(i, shape))]: i for i in range(math.prod(shape))
    }


def _terms(entry: Any, index: dict[Any, int]) -> list[tuple[int | None, Any]]:
    """A matrix entry, a sum of symbols with integer coefficients, as (the symbol's flat index,
    coefficient) pairs; a symbol not in `index` gets None (so it matches no real index)."""
    if isinstance(entry, sympy.Indexed):
        return [(index.get(entry), 1)]
    return [(index.get(k), c) for k, c in sympy.expand(entry).as_coefficients_dict().items()]


def _gradient_tables(spec: Conv, size: tuple[int, ...]) -> tuple[dict, dict, dict, dict]:
    """`_gradients` as coefficient tables, without building SymPy products: each gradient is a
    bilinear form, dL/dw in (delta, x) and dL/dx in (delta, w), keyed (gradient entry, delta
    index, x or w index) -> coefficient. Its monomials are distinct, so equal tables are equal
    forms: the same exact comparison, in integer arithmetic."""
    form = index_form(spec, size)
    T = dict(toeplitz(spec, size).todok())
    X = dict(patch_matrix(spec, size).todok())
    w_flat = _flat_index("w", form.weight_shape)
    x_flat = _flat_index("x", form.in_shape())
    dw: dict[tuple, Any] = defaultdict(int)
    dx: dict[tuple, Any] = defaultdict(int)
    for (r, c), v in T.items():  # L = sum_r delta_r (T x)_r, linear in w and in x
        for i, coef in _terms(v, w_flat):
            dw[(i, r, c)] += coef
            dx[(c, r, i)] += coef
    xtd: dict[tuple, Any] = defaultdict(int)
    for (r, i), v in X.items():
        for c, coef in _terms(v, x_flat):
            xtd[(i, r, c)] += coef
    ttd: dict[tuple, Any] = defaultdict(int)
    for (r, c), v in T.items():
        for i, coef in _terms(v, w_flat):
            ttd[(c, r, i)] += coef
    clean = lambda m: {k: v for k, v in m.items() if v != 0}  # noqa: E731
    return clean(dw), clean(xtd), clean(dx), clean(ttd)


def _local_grid() -> list[tuple[Conv, tuple[int, ...]]]:
    cases: list[tuple[Conv, tuple[int, ...]]] = []
    for n, k, s, p, ci, co in itertools.product((3, 5), (1, 2, 3), (1, 2), (0, 1), (1, 2), (1, 2)):
        if n + 2 * p < k:
            continue
        cases.append(
            (
                LocallyConnected(
                    dims=1,
                    in_channels=ci,
                    out_channels=co,
                    kernel_size=k,
                    stride=s,
                    padding=p,
                    bias=False,
                    input_size=n,
                ),
                (n,),
            )
        )
        cases.append(
            (
                Tiled(
                    dims=1,
                    in_channels=ci,
                    out_channels=co,
                    kernel_size=k,
                    stride=s,
                    padding=p,
                    bias=False,
                    tiles=2,
                ),
                (n,),
            )
        )
    cases.append((LocallyConnected(dims=2, kernel_size=2, input_size=(4, 3), bias=False), (4, 3)))
    cases.append(
        (
            LocallyConnected(
                dims=2,
                kernel_size=3,
                padding=1,
                padding_mode="reflect",
                input_size=(4, 4),
                bias=False,
            ),
            (4, 4),
        )
    )
    cases.append((Tiled(dims=2, in_channels=2, kernel_size=2, tiles=(2, 1), bias=False), (4, 4)))
    return cases


def local_backprop(spec: Any = None, input_size: Sequence[int] | int | None = None) -> Derivation:
    r"""Backpropagation with unshared weights: $\partial L/\partial w = X^\top\delta$ per position.

    $y[k, o] = \sum_{c, a} \tilde x[c, S o + D a]\, w[k, o, c, a]$, so
    $\partial L / \partial w[k, o, c, a] = \delta[k, o]\, \tilde x[c, S o + D a]$: one product,
    no sum over positions (convolution sums it over $o$; a tiled layer over $o \equiv$ its tile).
    $\partial L / \partial x = T^\top \delta$ as for any linear layer.

    Checked exactly: on this layer, T's taps against the formula on integer tables, factor by
    factor (`structural_gradients`; any size within `symconv.limits`), and, up to 1024 taps,
    both gradients of $L = \delta^\top T x$ (symbolic $x$, $\delta$, $w$) against
    $X^\top \delta$ (`symconv.patch_matrix`) and $T^\top \delta$ (`symconv.toeplitz`) in SymPy,
    as on a grid of locally connected and tiled layers (1D and 2D, strides, padding, reflect
    padding).
    """
    check_symbolic(
        "local_backprop",
        spec,
        getattr(spec, "input_size", None) if input_size is None else input_size,
        cost=factor_tables_cost,  # its checks compare factor tables, never T or the weights
    )  # the cost first: integer arithmetic only
    if spec is None or (isinstance(spec, Conv) and type(spec) is Conv):
        base = Conv(dims=1, kernel_size=3) if spec is None else spec
        sizes = (5,) * base.dims if input_size is None else base._check_input(input_size)
        spec = LocallyConnected(
            dims=base.dims,
            in_channels=base.in_channels,
            out_channels=base.out_channels,
            kernel_size=base.kernel_size,
            stride=base.stride,
            padding=base.pads,
            dilation=base.dilation,
            groups=base.groups,
            bias=base.bias,
            padding_mode=base.padding_mode,
            flip=base.flip,
            input_size=sizes,
        )
    if not isinstance(spec, LocallyConnected | Tiled):
        raise SpecError(
            f"local_backprop: expected LocallyConnected or Tiled, got {type(spec).__name__}"
        )
    size = (
        spec.input_size
        if isinstance(spec, LocallyConnected)
        else ((5,) * spec.dims if input_size is None else spec._check_input(input_size))
    )
    d = Derivation(f"Backpropagation through {spec}")
    k, o, c, a = sympy.symbols("k o c a", integer=True)
    w, x, delta = (sympy.IndexedBase(s) for s in ("w", "x", "delta"))
    S, D = sympy.symbols("S D", integer=True, positive=True)
    tau, t = sympy.Symbol("tau", integer=True), sympy.Symbol("t", integer=True, positive=True)
    shares = sympy.Eq(sympy.Mod(o - tau, t), 0)
    d.add_step(
        "Forward, unshared weights",
        sympy.Eq(
            sympy.Indexed("y", k, o),
            sympy.Sum(x[c, S * o + D * a] * w[k, o, c, a], (c, 0, C_IN - 1), (a, 0, K - 1)),
        ),
        "the weight carries the output position o (tiled: o mod t)",
        definition=True,
        latex=r"y_{k,o} = \sum_{c,a} \tilde x_{c,\,S o + D a}\, w_{k,o,c,a}",
    )
    d.add_step(
        "Gradient of the weights",
        sympy.Eq(
            sympy.Symbol(r"\partial L/\partial w_{k,o,c,a}"), delta[k, o] * x[c, S * o + D * a]
        ),
        "one product per weight: X^T delta with one nonzero per column of X (locally connected)",
        by=_LOCAL_GRADIENTS,
    )
    d.add_step(
        "Tiled: the sum over the positions sharing a kernel",
        sympy.Eq(
            sympy.Symbol(r"\partial L/\partial w_{k,\tau,c,a}"),
            sympy.Sum(
                sympy.Piecewise((delta[k, o] * x[c, S * o + D * a], shares), (0, True)),
                (o, 0, O - 1),
            ),
        ),
        "o runs over o mod t = tau (t = 1: the convolution's sum over every o)",
        by=_LOCAL_GRADIENTS,
        keeps=(shares,),
        latex=r"\frac{\partial L}{\partial w_{k,\tau,c,a}} = "
        r"\sum_{o \equiv \tau \ (\mathrm{mod}\ t)}"
        r" \delta_{k,o}\, \tilde x_{c,\,S o + D a}",
    )
    d.add_step(
        "Gradient of the input",
        sympy.Eq(sympy.Symbol(r"\partial L/\partial x"), sympy.Symbol(r"T^{T} \delta")),
        "T has position-dependent entries, so T^T delta is no longer a convolution",
        by=_LOCAL_GRADIENTS,
    )
    symbolic = index_form(spec, size).tap_count() <= _SYMBOLIC_TAPS
    if symbolic:  # small: the gradients themselves, in SymPy (shown in results)
        dw, xtd, dx, ttd = _gradients(spec, size)
        d.results.update(grad_weight=xtd, grad_input=ttd)

    def this() -> Outcome:
        ok, taps = structural_gradients(spec, size)
        single = _single_products(spec, size)
        how = "integer tables of T against the formula, per factor"
        if symbolic:
            ok = ok and dw == xtd and dx == ttd
            single = single and all(len(sympy.Add.make_args(v)) == 1 for v in xtd.values())
            how += "; SymPy gradients of L"
        note = "each dL/dw entry a single product" if single else "sums over shared positions"
        return Outcome(1, 0.0 if ok else 1.0, ok, f"{note} ({taps} taps: {how})")

    def grid() -> Outcome:
        def err(case: tuple[Conv, tuple[int, ...]]) -> float:
            g = _gradient_tables(*case)  # exact, as `this` but without SymPy products
            return float(g[0] != g[1] or g[2] != g[3])

        return grid_check(_local_grid(), err)

    d.check("dL/dw = X^T delta, dL/dx = T^T delta (this layer)", "exact", this)
    d.check("same on a grid of locally connected and tiled layers", "exact", grid)
    return d
