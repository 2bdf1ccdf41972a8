r"""Backpropagation through pooling, derived from the pooling index form.

- max: $\partial L/\partial x_j = \sum_o \delta_o [j = \text{argmax of window } o]$; ties go to the
  *first* maximum in the window's scan order (C order over the window), torch's rule; padding
  never wins (it is $-\infty$);
- avg: $\partial L/\partial x_j = \sum_{o \ni j} \delta_o / N_o$, $N_o$ the window size
  (`count_include_pad=True`, clipped to the padded input in ceil mode), the number of input
  positions in the window (`False`) or `divisor_override`;
- lp: $y_o = (c_o \sum_{j \in o} x_j^p)^{1/p}$ with $c_o = \prod k / N_o$ (torch computes it as an
  average times the window size), so $\partial y_o/\partial x_j = c_o x_j^{p-1} y_o^{1-p}$, and
  zero where the window's sum of powers is zero (torch's rule); a negative sum (odd $p$) passes
  through as in torch: $p = 1$ is sum pooling, other odd $p$ give NaN there.
- max with NaN: NaN is the maximum, the window's last NaN (torch's rule).

`pool_forward` and `pool_backward` evaluate these on NumPy arrays through the index form's
gather: they are the reference the tests compare with torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import sympy

from ._errors import SpecError
from .derivation import Derivation, Outcome, discrepancy
from .indexform import WindowMax, index_form
from .limits import check_symbolic
from .spec import Pool

__all__ = ["pool_backprop", "pool_backward", "pool_forward"]


def _prepare(spec: Pool, x: np.ndarray):
    if x.ndim != spec.dims + 1:
        raise SpecError(
            f"{spec._op_name}: input of shape {x.shape} must be (C, *spatial) with "
            f"{spec.dims} spatial axes"
        )
    form = index_form(spec, x.shape[1:], channels=x.shape[0])
    return form, form.gather(), form.gather(padded=True)


def _divisor(spec: Pool, g, gp, n_out: int) -> np.ndarray:
    if spec.divisor_override is not None:
        return np.full(n_out, float(spec.divisor_override))
    taps = gp if spec.kind == "lp" or spec.count_include_pad else g
    return np.bincount(taps.rows, minlength=n_out).astype(float)


def pool_forward(spec: Pool, x: np.ndarray) -> np.ndarray:
    """Pooling of `x` (shape `(C, *spatial)`) evaluated through the index form (reference)."""
    return _forward(spec, x, _prepare(spec, x))


def _forward(spec: Pool, x: np.ndarray, tables: Any) -> np.ndarray:
    """`pool_forward` with `_prepare(spec, x)` given (trials on one shape share it)."""
    form, g, gp = tables
    n_out = int(np.prod(form.out_shape()))
    v = x.reshape(-1)[g.cols]
    if spec.kind == "max":
        y = np.full(n_out, -np.inf)
        with np.errstate(invalid="ignore"):  # a NaN input is the window's maximum
            np.maximum.at(y, g.rows, v)
    else:
        power = v if spec.kind == "avg" else v**spec.norm_type
        y = np.zeros(n_out)
        np.add.at(y, g.rows, power)
        y = y / _divisor(spec, g, gp, n_out)
        if spec.kind == "lp":  # torch: sign(s) relu(|s|) = s, so a negative sum (odd p) passes
            with np.errstate(invalid="ignore"):
                y = (y * np.prod(spec.kernel_size)) ** (1.0 / cast(float, spec.norm_type))
    return y.reshape(form.out_shape())


def _argmax_taps(g, values: np.ndarray, n_out: int) -> np.ndarray:
    """Index into the gather of each window's first maximum (window scan order breaks ties), or
    its last NaN: torch propagates NaN, a later NaN taking over from an earlier one."""
    nan = np.isnan(values)
    value_key = np.where(nan, 0.0, -values)  # NaNs first, then by value, descending
    position_key = np.where(nan, -g.weights, g.weights)  # the last NaN, the first maximum
    order = np.lexsort((position_key, value_key, ~nan, g.rows))
    first = np.ones(len(order), dtype=bool)
    first[1:] = g.rows[order][1:] != g.rows[order][:-1]
    return order[first]


def pool_backward(spec: Pool, x: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """$\\partial L/\\partial x$ for upstream `delta` (shape of the output), the derived rules."""
    return _backward(spec, x, delta, _prepare(spec, x))


def _backward(spec: Pool, x: np.ndarray, delta: np.ndarray, tables: Any) -> np.ndarray:
    """`pool_backward` with `_prepare(spec, x)` given (trials on one shape share it)."""
    form, g, gp = tables
    n_out = int(np.prod(form.out_shape()))
    if delta.shape != form.out_shape():
        raise SpecError(
            f"{spec._op_name}: delta of shape {delta.shape} must be the output "
            f"shape {form.out_shape()}"
        )
    d = delta.reshape(-1)
    grad = np.zeros(x.size)
    v = x.reshape(-1)[g.cols]
    if spec.kind == "max":
        taps = _argmax_taps(g, v, n_out)
        np.add.at(grad, g.cols[taps], d[g.rows[taps]])
    elif spec.kind == "avg":
        np.add.at(grad, g.cols, d[g.rows] / _divisor(spec, g, gp, n_out)[g.rows])
    else:
        p = cast(float, spec.norm_type)  # set for lp pooling
        c = np.prod(spec.kernel_size) / _divisor(spec, g, gp, n_out)
        y = _forward(spec, x, tables).reshape(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            local = c[g.rows] * v ** (p - 1) * y[g.rows] ** (1 - p)
        local = np.where(y[g.rows] != 0, local, 0.0)
        np.add.at(grad, g.cols, d[g.rows] * local)
    return grad.reshape(x.shape)


_AUTOGRAD = "forward and dL/dx agree with torch autograd"


def pool_backprop(spec: Pool, input_size: int | Sequence[int] | None = None) -> Derivation:
    """The pooling gradient rules as a derivation, checked numerically against torch."""
    if not isinstance(spec, Pool):
        raise SpecError(f"pool_backprop: expected a symconv.Pool, got {type(spec).__name__}")
    check_symbolic("pool_backprop", spec, input_size)  # the cost first: integer arithmetic only
    o, a, j = sympy.symbols("o a j", integer=True)
    K, S, D, N = sympy.symbols("K S D N_o", integer=True, positive=True)
    x, delta = sympy.IndexedBase(r"\tilde{x}"), sympy.IndexedBase(r"\delta")
    d = Derivation(f"Backpropagation through {spec}")
    tap = S * o + D * a
    if spec.kind == "max":
        star = sympy.Symbol("a^*_o")
        d.add_step(
            "Forward",
            sympy.Eq(sympy.Indexed("y", o), WindowMax(x[tap], (a, 0, K - 1))),
            "the maximum over the window a = 0..K-1",
            definition=True,
        )
        d.add_step(
            "Local derivative",
            sympy.Eq(
                sympy.Derivative(sympy.Indexed("y", o), x[j]),
                sympy.KroneckerDelta(j, S * o + D * star),
            ),
            "a*_o: the first maximum in the window (torch's tie rule); padding is -inf",
            by=_AUTOGRAD,
        )
        d.add_step(
            "Route delta",
            sympy.Eq(
                sympy.Symbol(r"\partial L/\partial x_j"),
                sympy.Sum(
                    delta[o] * sympy.KroneckerDelta(j, S * o + D * star),
                    (o, 0, sympy.Symbol("O", integer=True, positive=True) - 1),
                ),
            ),
            "each delta goes to its window's argmax only (O outputs)",
            by=_AUTOGRAD,
        )
    elif spec.kind == "avg":
        fwd = sympy.Sum(x[tap], (a, 0, K - 1)) / N
        d.add_step(
            "Forward",
            sympy.Eq(sympy.Indexed("y", o), fwd),
            "N_o: window size (count_include_pad), inputs in the window, or divisor_override",
            definition=True,
        )
        d.add_step(
            "Local derivative",
            sympy.Eq(
                sympy.Derivative(sympy.Indexed("y", o), x[j]),
                sympy.Sum(sympy.KroneckerDelta(j, tap), (a, 0, K - 1)) / N,
            ),
            "every position of the window gets 1/N_o",
            by=_AUTOGRAD,
        )
    else:
        p = sympy.Symbol("p", positive=True)
        c = sympy.Symbol("c_o", positive=True)
        xs = sympy.Symbol("x_j", positive=True)
        rest = sympy.Symbol("R", positive=True)
        y = (c * (xs**p + rest)) ** (1 / p)
        dy = sympy.diff(y, xs)
        d.add_step(
            "Forward",
            sympy.Eq(sympy.Symbol("y_o"), y),
            "R: the other terms of the window; c_o = prod(k)/N_o (torch's average times k)",
            definition=True,
        )
        d.add_step(
            "Local derivative",
            sympy.Eq(sympy.Derivative(sympy.Symbol("y_o"), xs), dy),
            "= c_o x_j^(p-1) y_o^(1-p); zero where the sum of powers is zero",
            by=("dy/dx_j", _AUTOGRAD),
        )

        def lp_general() -> Outcome:
            ok = sympy.simplify(dy - c * xs ** (p - 1) * y ** (1 - p)) == 0
            return Outcome(1, 0.0 if ok else 1.0, ok, "symbolic in p, c_o, x_j, R")

        d.check("dy/dx_j = c x_j^(p-1) y^(1-p)", "general", lp_general)

    size = input_size if input_size is not None else _default(spec)

    def numeric() -> Outcome:
        import torch

        rng = np.random.default_rng(0)
        worst, cases = 0.0, 0
        shape = (2, *spec._check_input(size))
        tables = _prepare(spec, np.zeros(shape))  # the index form's gathers, read once
        for trial in range(8):
            x = (
                rng.integers(0, 4, size=shape).astype(float)
                if trial % 2
                else rng.random(shape) + 0.1
            )  # integer inputs force ties in max pooling
            xt = torch.tensor(x[None], requires_grad=True)
            yt = _torch_pool(spec, xt)
            delta = rng.standard_normal(tuple(yt.shape[1:]))
            yt.backward(torch.tensor(delta[None]))
            ours = _backward(spec, x, delta, tables)
            worst = max(worst, discrepancy(ours, cast(torch.Tensor, xt.grad)[0].numpy()))
            ours = _forward(spec, x, tables)
            worst = max(worst, discrepancy(ours, yt[0].detach().numpy()))
            cases += 1
        return Outcome(
            cases, worst, worst < 1e-10, "float64, against torch autograd (ties included)"
        )

    d.check("forward and dL/dx agree with torch autograd", "numeric", numeric)
    d.results.update(backward=pool_backward, forward=pool_forward)
    return d


def _default(spec: Pool) -> tuple[int, ...]:
    for n in range(6, 64):
        try:
            return spec._check_input((n,) * spec.dims)
        except SpecError:
            continue
    return (64,) * spec.dims


def _torch_pool(spec: Pool, x):
    import torch.nn.functional as F

    n = spec.dims
    if spec.kind == "max":
        return getattr(F, f"max_pool{n}d")(
            x, spec.kernel_size, spec.stride, spec.padding, spec.dilation, ceil_mode=spec.ceil_mode
        )
    if spec.kind == "avg":
        if n == 1:  # torch's avg_pool1d has no divisor_override: run it as a 1 x k 2-d pool
            return F.avg_pool2d(
                x[..., None, :],
                (1, *spec.kernel_size),
                (1, *spec.stride),
                (0, *spec.padding),
                ceil_mode=spec.ceil_mode,
                count_include_pad=cast(bool, spec.count_include_pad),  # set for avg pooling
                divisor_override=spec.divisor_override,
            )[..., 0, :]
        return getattr(F, f"avg_pool{n}d")(
            x,
            spec.kernel_size,
            spec.stride,
            spec.padding,
            ceil_mode=spec.ceil_mode,
            count_include_pad=spec.count_include_pad,
            divisor_override=spec.divisor_override,
        )
    k, s = (spec.kernel_size[0], spec.stride[0]) if n == 1 else (spec.kernel_size, spec.stride)
    return getattr(F, f"lp_pool{n}d")(x, spec.norm_type, k, s, ceil_mode=spec.ceil_mode)
