"""The separable derivation: the 2-D Toeplitz matrix as a Kronecker product, and the cost saving."""

from __future__ import annotations

import itertools
from typing import Any

import sympy

from .._errors import SpecError
from .._subs import at as _at
from ..derivation import Derivation, Outcome, grid_check
from ..spec import Conv
from ..toeplitz import sparse_product, toeplitz
from ._factor import separable


# -- derivation ------------------------------------------------------------------------------
def _toeplitz_1d(k: int, n: int, pads: tuple[int, int], name: str) -> dict[tuple[int, int], Any]:
    spec = Conv(dims=1, kernel_size=k, padding=(pads,), bias=False)
    base, v = sympy.IndexedBase("w"), sympy.IndexedBase(name)
    return {
        key: val.xreplace({base[0, 0, a]: v[a] for a in range(k)})  # exact: Indexed for Indexed
        for key, val in toeplitz(spec, n).todok().items()
    }


def _kron_check(ks: tuple[int, int], ns: tuple[int, int], padding: str) -> float:
    """0 when T(u v^T) == T_u (x) T_v and == the product of the two 1D passes, exactly."""
    spec = Conv(dims=2, kernel_size=ks, padding=padding, bias=False)
    u, v, w = sympy.IndexedBase("u"), sympy.IndexedBase("v"), sympy.IndexedBase("w")
    sub = {w[0, 0, a, b]: u[a] * v[b] for a in range(ks[0]) for b in range(ks[1])}
    T2 = {key: sympy.expand(val.xreplace(sub)) for key, val in toeplitz(spec, ns).todok().items()}
    o = spec.output_size(ns)
    Tu = _toeplitz_1d(ks[0], ns[0], spec.pads[0], "u")
    Tv = _toeplitz_1d(ks[1], ns[1], spec.pads[1], "v")
    kron = {
        (r1 * o[1] + r2, c1 * ns[1] + c2): sympy.expand(a * b)
        for (r1, c1), a in Tu.items()
        for (r2, c2), b in Tv.items()
    }
    # two passes: rows with v (I_{n1} (x) T_v), then columns with u (T_u (x) I_{o2})
    rows = {(i * o[1] + r, i * ns[1] + c): val for (r, c), val in Tv.items() for i in range(ns[0])}
    cols = {(r * o[1] + j, c * o[1] + j): val for (r, c), val in Tu.items() for j in range(o[1])}
    two = {key: sympy.expand(val) for key, val in sparse_product(cols, rows).items()}
    return float(T2 != kron or T2 != two)


def _layer_steps(dd: Derivation, spec: Any, input_size: Any) -> None:
    """The counts at one layer's kernel (w on every axis, stride 1, no padding, dilation 1):
    parameters per channel pair and, with an input size, the multiply-adds of the d passes
    (each pass narrows one axis) against the full kernel's, both from `Conv`."""
    if not isinstance(spec, Conv) or type(spec) is not Conv:
        raise SpecError(f"derive separable: expected a convolution, got {type(spec).__name__}")
    w, dims = spec.kernel_size[0], spec.dims
    why = "the separable passes are stride-1, undilated valid convolutions"
    for name, value, plain in (
        ("kernel", spec.kernel_size, (w,) * dims),
        ("stride", spec.stride, (1,) * dims),
        ("dilation", spec.dilation, (1,) * dims),
        ("padding", spec.pads, ((0, 0),) * dims),
    ):
        if tuple(value) != plain:
            raise SpecError(
                f"derive separable: --{name} {value} does not apply: {why}, with one kernel "
                f"length w on every axis"
            )
    size = None if input_size is None else spec._check_input(input_size)

    def passes(n: tuple[int, ...]) -> tuple[int, int]:
        """Multiply-adds of the full kernel and of the d one-axis passes (1 x 1 channels)."""
        full = Conv(dims=dims, kernel_size=w, bias=False).macs(n)
        total, cur = 0, list(n)
        for a in reversed(range(dims)):  # the last axis first: n_1 x o_2 between, in 2-d
            axis = tuple(w if b == a else 1 for b in range(dims))
            total += Conv(dims=dims, kernel_size=axis, bias=False).macs(tuple(cur))
            cur[a] = cur[a] - w + 1
        return full, total

    ratio = sympy.Rational(w**dims, dims * w)
    dd.add_step(
        f"This layer: w = {w}, d = {dims}",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("P_full"), w**dims), sympy.Eq(sympy.Symbol("P_sep"), dims * w)
        ),
        f"weights per (input, output) channel pair; {ratio} times fewer",
        by="this layer's counts",
    )
    if size is not None:
        full, sep = passes(size)
        dd.add_step(
            f"This layer on {'x'.join(map(str, size))}",
            sympy.Tuple(
                sympy.Eq(sympy.Symbol("M_full"), full), sympy.Eq(sympy.Symbol("M_sep"), sep)
            ),
            "multiply-adds per channel pair: the full kernel, and the d passes one after another",
            by="this layer's counts",
        )

    def counts() -> Outcome:
        full = Conv(dims=dims, kernel_size=w, bias=False).num_parameters()
        one_d = dims * Conv(dims=1, kernel_size=w, bias=False).num_parameters()
        ok = full == w**dims and one_d == dims * w
        if size is not None and dims == 2:  # the symbolic 2-d count of the steps above
            o1, o2 = size[0] - w + 1, size[1] - w + 1
            ok = ok and passes(size)[1] == w * (size[0] * o2 + o1 * o2)
        return Outcome(1, 0.0 if ok else 1.0, ok, "Conv.num_parameters and Conv.macs")

    dd.check("this layer's counts against Conv.num_parameters and Conv.macs", "exact", counts)


def separable_derivation(spec: Any = None, input_size: Any = None) -> Derivation:
    r"""Separable convolution: $T_{u v^\top} = T_u \otimes T_v$, and the cost $w^d$ vs $d\,w$.

    Checks: the Kronecker identity and the two-pass product exactly for symbolic $u$, $v$
    ('valid' and 'same' zero padding, kernels up to 3x3, inputs up to 5x5); the MAC count
    formula against `Conv.macs` on a grid; `separable` on textbook kernels.
    """
    w_, d_ = sympy.symbols("w d", integer=True, positive=True)
    n, o1, o2 = sympy.symbols("n o_1 o_2", integer=True, positive=True)
    dd = Derivation("Separable kernels: d one-dimensional convolutions")
    u, v = sympy.IndexedBase("u"), sympy.IndexedBase("v")
    a, b = sympy.symbols("a b", integer=True)
    dd.add_step(
        "A separable kernel",
        sympy.Eq(sympy.Indexed("K", a, b), u[a] * v[b]),
        "K = u v^T: rank 1 (every 2x2 minor vanishes)",
        definition=True,
    )
    i, j = sympy.symbols("i j", integer=True)
    x = sympy.IndexedBase("x")
    dd.add_step(
        "The double sum factorises",
        sympy.Eq(
            sympy.Sum(x[i + a, j + b] * u[a] * v[b], (a, 0, w_ - 1), (b, 0, w_ - 1)),
            sympy.Sum(u[a] * sympy.Sum(x[i + a, j + b] * v[b], (b, 0, w_ - 1)), (a, 0, w_ - 1)),
        ),
        "inner sum: a 1D correlation of every row with v; outer: of every column with u",
        by="T(u v^T) = T_u (x) T_v",
    )
    dd.add_step(
        "As matrices",
        sympy.Eq(
            sympy.Symbol(r"T_{u v^{T}}"),
            sympy.Symbol(r"T_u \otimes T_v = (T_u \otimes I_{o_2})(I_{n_1} \otimes T_v)"),
        ),
        "doubly block Toeplitz with Toeplitz blocks that are multiples of one another",
        by="T(u v^T) = T_u (x) T_v",
    )
    dd.add_step(
        "Parameters",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("P_full"), w_**d_), sympy.Eq(sympy.Symbol("P_sep"), d_ * w_)
        ),
        "a w x ... x w kernel against d vectors of length w",
        by="parameter counts against Conv.num_parameters",
    )
    dd.add_step(
        "MACs per output",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("M_full"), w_**d_), sympy.Eq(sympy.Symbol("M_sep"), d_ * w_)
        ),
        f"ratio w^(d-1)/d: {sympy.Rational(3**1, 2)}x for 3x3, "
        f"{sympy.Rational(5**2, 3)}x for 5x5x5",
        by="MAC counts against Conv.macs",
    )
    exact_2d = w_ * (n * o2 + o1 * o2)
    dd.add_step(
        "Exactly, 2D valid, stride 1 (first pass over the rows, n_1 x o_2 intermediate)",
        sympy.Eq(sympy.Symbol("M_sep"), exact_2d),
        "against w^2 o_1 o_2 for the 2D kernel; o = n - w + 1",
        by="MAC counts against Conv.macs",
    )
    dd.results.update(params=(w_**d_, d_ * w_), macs_2d=(w_**2 * o1 * o2, exact_2d))

    def kron() -> Outcome:
        cases = [
            (ks, ns, pad)
            for ks in ((1, 2), (2, 2), (2, 3), (3, 3))
            for ns in ((3, 4), (4, 4), (5, 5))
            for pad in ("valid", "same")
        ]
        return grid_check(cases, lambda c: _kron_check(*c))

    def macs() -> Outcome:
        cases = list(itertools.product(range(1, 6), range(5, 10)))

        def err(c: tuple[int, int]) -> float:
            k, nn = c
            full = Conv(dims=2, kernel_size=k).macs((nn, nn))
            oo = nn - k + 1
            rows = Conv(dims=2, kernel_size=(1, k)).macs((nn, nn))
            colp = Conv(dims=2, kernel_size=(k, 1)).macs((nn, oo))
            want_full = _at(w_**2 * o1 * o2, {w_: k, o1: oo, o2: oo})
            want_sep = _at(exact_2d, {w_: k, n: nn, o1: oo, o2: oo})
            return float(full != want_full or rows + colp != want_sep)

        return grid_check(cases, err)

    def textbook() -> Outcome:
        sob = separable([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
        gauss = separable([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
        ok = (
            sob is not None
            and [list(f) for f in sob.factors] == [[1, 2, 1], [1, 0, -1]]
            and gauss is not None
            and [list(f) for f in gauss.factors] == [[1, 2, 1], [1, 2, 1]]
            and separable([[0, 1, 0], [1, -4, 1], [0, 1, 0]]) is None  # the Laplacian: rank 2
        )
        return Outcome(3, 0.0 if ok else 1.0, ok, "Sobel, binomial 3x3, Laplacian (not separable)")

    dd.check("T(u v^T) = T_u (x) T_v = two 1D passes (valid, same)", "exact", kron)

    def params() -> Outcome:
        cases = list(itertools.product(range(1, 4), range(1, 6)))

        def err(c: tuple[int, int]) -> float:
            dims, k = c
            full = Conv(dims=dims, kernel_size=k, bias=False).num_parameters()
            passes = sum(
                Conv(
                    dims=dims,
                    kernel_size=tuple(k if ax == a else 1 for ax in range(dims)),
                    bias=False,
                ).num_parameters()
                for a in range(dims)
            )
            return float(full != k**dims or passes != dims * k)

        return grid_check(cases, err)

    if spec is not None:
        _layer_steps(dd, spec, input_size)
    dd.check("parameter counts against Conv.num_parameters, d < 4, w < 6", "exact", params)
    dd.check("MAC counts against Conv.macs", "exact", macs)
    dd.check("textbook kernels", "exact", textbook)
    return dd
