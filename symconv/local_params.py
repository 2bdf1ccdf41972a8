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
from typing import Any

import numpy as np
import sympy

from ._errors import SpecError
from ._subs import at as _at
from .derivation import Derivation, grid_check
from .indexform import index_form
from .limits import check_symbolic
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


def local_params(spec: Any = None, input_size: Any = None) -> Derivation:
    r"""Parameter counts of convolution, tiled, locally connected and dense layers (2D).

    `spec` (a 2D `Conv`, default 3x3 kernel, 3 -> 10 channels) and `input_size` (default
    $21 \times 21$) fill in the table in `d["table"]` (tiled with $t = 2 \times 2$). Checks:
    the formulas against `num_parameters` of `Conv`, `Tiled`, `LocallyConnected` on a grid (and
    the dense count against the size of the Toeplitz matrix; the locally connected count
    against its number of taps).
    """
    spec = Conv(dims=2, in_channels=3, out_channels=10, kernel_size=3) if spec is None else spec
    check_symbolic("local_params", spec, input_size)  # the cost first: integer arithmetic only
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

    def ratios() -> tuple[int, float, bool, str]:
        ff = param_formulas()
        ok = sympy.simplify(ff["locally connected"] / ff["convolution"] - O**2) == 0 and (
            sympy.simplify(ff["dense"] / ff["locally connected"] - N**2 / K**2) == 0
        )
        return 1, 0.0 if ok else 1.0, ok, "symbolic in N, K, O, C_in, C_out (weights only)"

    d.check("ratios of the weight counts, symbolic", "general", ratios)
    d.results.update(formulas=f, table=table)

    def grid() -> tuple[int, float, bool, str]:
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
            ff = param_formulas(bias)
            got = {
                "convolution": conv.num_parameters(),
                "tiled": til.num_parameters(),
                "locally connected": loc.num_parameters(),
            }
            bad = any(int(_at(ff[name], vals)) != v for name, v in got.items())
            return float(bad)

        return grid_check(_grid(), err)

    def matrices() -> tuple[int, float, bool, str]:
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

    Checked exactly: both gradients of $L = \delta^\top T x$ (symbolic $x$, $\delta$, $w$) equal
    $X^\top \delta$ (`symconv.patch_matrix`) and $T^\top \delta$ (`symconv.toeplitz`) on a grid of
    locally connected and tiled layers (1D and 2D, strides, padding, reflect padding).
    """
    check_symbolic(
        "local_backprop",
        spec,
        getattr(spec, "input_size", None) if input_size is None else input_size,
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
    dw, xtd, dx, ttd = _gradients(spec, size)
    d.results.update(grad_weight=xtd, grad_input=ttd)

    def this() -> tuple[int, float, bool, str]:
        ok = dw == xtd and dx == ttd
        single = all(len(sympy.Add.make_args(v)) == 1 for v in xtd.values())
        note = "each dL/dw entry a single product" if single else "sums over shared positions"
        return 1, 0.0 if ok else 1.0, ok, note

    def grid() -> tuple[int, float, bool, str]:
        def err(case: tuple[Conv, tuple[int, ...]]) -> float:
            g = _gradients(*case)
            return float(g[0] != g[1] or g[2] != g[3])

        return grid_check(_local_grid(), err)

    d.check("dL/dw = X^T delta, dL/dx = T^T delta (this layer)", "exact", this)
    d.check("same on a grid of locally connected and tiled layers", "exact", grid)
    return d
