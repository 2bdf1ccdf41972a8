"""The engine calls the claims make: each claim's `compute` (its `call` is what a reader types)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from .. import arch
from ..arith import SYMBOLS, conv_output_formula, pool_output_formula
from ..backprop import grad_weight_op, sympy_gradients
from ..fourier import fourier_derivation
from ..indexform import index_form
from ..local import LocallyConnected, Tiled
from ..poolgrad import pool_backward
from ..spec import Conv, Pool, PoolKind
from ..toeplitz import toeplitz


def _conv(k: Any = 3, s: Any = 1, p: Any = 0, cin: int = 1, cout: int = 1, **kw: Any) -> Conv:
    return Conv(in_channels=cin, out_channels=cout, kernel_size=k, stride=s, padding=p, **kw)


def _volume(spec: Conv, n: int) -> tuple[int, ...]:
    """Output as the lectures write it: height x width x depth."""
    return (*spec.output_size(n), spec.out_channels)


def _lecture_size(n: int, f: int, s: int, p: int = 0) -> Fraction:
    """The engine's output-size formula with its floor dropped: the lectures' $(N - F + 2P)/S + 1$
    as printed (2.33 for N = 7, F = 3, S = 3, where the engine's size is the floor, 2)."""
    values = {SYMBOLS["i"]: n, SYMBOLS["k"]: f, SYMBOLS["s"]: s, SYMBOLS["p"]: p, SYMBOLS["d"]: 1}
    raw = sympy.sympify(conv_output_formula().replace(sympy.floor, lambda a: a).subs(values))
    return Fraction(int(raw.p), int(raw.q))


def _formula_grid(pool: bool = False) -> bool:
    """$(W - F + 2P)/S + 1$ equals the engine's size wherever the lecture's division is exact."""
    for w in range(1, 40):
        for f in range(1, 8):
            for s in range(1, 5):
                for p in range(0, 4 if not pool else 1):
                    if (w - f + 2 * p) % s or w + 2 * p < f:
                        continue
                    spec = Pool(kind="max", kernel_size=f, stride=s) if pool else _conv(f, s, p)
                    if spec.output_size(w)[0] != (w - f + 2 * p) // s + 1:
                        return False
    return True


def _same_preserves(fs: tuple[int, ...] = (3, 5, 7)) -> tuple[int, ...]:
    """Padding $(F - 1)/2$ at stride 1: the pads torch's "same" picks, if they keep the size."""
    out = []
    for f in fs:
        spec = Conv(kernel_size=f, padding="same")
        assert spec.output_size(32) == (32, 32)
        out.append(spec.pads[0][0])
    return tuple(out)


def _fk2ck_grid() -> bool:
    """ "Number of parameters: F^2 C K and K biases" on a grid of layers."""
    return all(
        _conv(f, cin=c, cout=k).num_parameters() == f * f * c * k + k
        for f in (1, 3, 5)
        for c in (1, 3, 64)
        for k in (1, 10, 128)
    )


def _larson_fc(k: Any = 9) -> Any:
    hidden, output = arch.Linear("hidden", 20, bias=False), arch.Linear("output", 10, bias=False)
    return hidden.num_parameters(k**2) + output.num_parameters(20)


def _larson_fc_symbolic() -> bool:
    k = sympy.Symbol("K", integer=True, positive=True)
    return sympy.expand(_larson_fc(k) - (200 + 20 * k**2)) == 0


def _gradients_2x2_on_3x3() -> dict[str, Any]:
    g = sympy_gradients(Conv(kernel_size=2, bias=False), 3)
    x, w, d = g["x"], g["w"], g["delta"]
    return {
        "loss": g["loss"],
        "X": lambda i, j: x[3 * (i - 1) + (j - 1)],  # row-major, 1-based as printed
        "F": lambda i, j: w[2 * (i - 1) + (j - 1)],
        "d": lambda i, j: d[2 * (i - 1) + (j - 1)],
        "y": g.get("y"),
    }


def _larson_o11() -> bool:
    """$O_{11} = X_{11}F_{11} + X_{12}F_{12} + X_{21}F_{21} + X_{22}F_{22}$: dL/dd11 is O11."""
    g = _gradients_2x2_on_3x3()
    X, F, d = g["X"], g["F"], g["d"]
    o11 = sympy.diff(g["loss"], d(1, 1))
    return sympy.expand(o11 - sum(X(i, j) * F(i, j) for i in (1, 2) for j in (1, 2))) == 0


def _larson_df(i: int, j: int) -> bool:
    """$\\partial L/\\partial F_{ij} = \\sum_{ab} \\partial L/\\partial O_{ab} X_{a+i-1, b+j-1}$."""
    g = _gradients_2x2_on_3x3()
    X, F, d = g["X"], g["F"], g["d"]
    printed = sum(d(a, b) * X(a + i - 1, b + j - 1) for a in (1, 2) for b in (1, 2))
    return sympy.expand(sympy.diff(g["loss"], F(i, j)) - printed) == 0


def _larson_full_convolution() -> bool:
    """dL/dX is the full convolution of dL/dO with the filter rotated by 180 degrees."""
    g = _gradients_2x2_on_3x3()
    X, F, d = g["X"], g["F"], g["d"]
    for i in (1, 2, 3):
        for j in (1, 2, 3):
            full = sum(
                d(a, b) * F(i - a + 1, j - b + 1)
                for a in (1, 2)
                for b in (1, 2)
                if 1 <= i - a + 1 <= 2 and 1 <= j - b + 1 <= 2
            )
            if sympy.expand(sympy.diff(g["loss"], X(i, j)) - full) != 0:
                return False
    return True


def _khan_1d_weight_gradient() -> tuple[int, int, int]:
    """3-tap filter, 5 outputs: the 7-long padded input, validly convolved with the 5 deltas."""
    spec = Conv(dims=1, kernel_size=3, padding=1)
    op = grad_weight_op(spec, 5)
    g = sympy_gradients(spec, 5)
    x, w, delta = g["x"], g["w"], g["delta"]
    padded = [0, *(x[i] for i in range(5)), 0]
    for a in range(3):  # the derived operator is that valid convolution, tap by tap
        by_valid = sum(delta[o] * padded[o + a] for o in range(5))
        assert sympy.expand(sympy.diff(g["loss"], w[a]) - by_valid) == 0
    return (op.padded_size[0], op.conv.kernel_size[0], op.kernel_size[0])


def _bias_gradient_is_sum(dims: int = 1) -> bool:
    spec = Conv(dims=dims, kernel_size=3, padding=1)
    g = sympy_gradients(spec, 5 if dims == 1 else 4)
    n = math.prod(spec.output_size(5 if dims == 1 else 4))
    return sympy.diff(g["loss"], g["b"][0]) == sum(g["delta"][o] for o in range(n))


def _khan_2d_weight_gradient() -> bool:
    """Pad floor(K/2) each side; the valid convolution with the delta map is K x K (K odd)."""
    for k in (1, 3, 5, 7):
        op = grad_weight_op(_conv(k, p=k // 2), (9, 9))
        if op.kernel_size != (k, k) or op.padded_size != (9 + 2 * (k // 2),) * 2:
            return False
    return True


def _khan_pool_routing() -> bool:
    """2x2 windows at stride 2 on a 6x6 map: max pooling sends each delta to the recorded
    argmax only, mean pooling a quarter of it to each of the window's four inputs."""
    rng = np.random.default_rng(0)
    x = rng.permutation(36).reshape(1, 6, 6).astype(float)  # distinct: one maximum per window
    delta = rng.integers(1, 9, (1, 3, 3)).astype(float)
    windows = x[0].reshape(3, 2, 3, 2).transpose(0, 2, 1, 3).reshape(3, 3, 4)
    recorded = np.zeros((3, 2, 3, 2))
    for (r, c), arg in np.ndenumerate(windows.argmax(axis=2)):
        recorded[r, arg // 2, c, arg % 2] = delta[0, r, c]
    uniform = np.repeat(np.repeat(delta[0] / 4, 2, axis=0), 2, axis=1)
    kinds: tuple[PoolKind, ...] = ("max", "avg")
    spec = {kind: Pool(kind=kind, kernel_size=2, stride=2) for kind in kinds}
    return bool(
        np.array_equal(pool_backward(spec["max"], x, delta)[0], recorded.reshape(6, 6))
        and np.array_equal(pool_backward(spec["avg"], x, delta)[0], uniform)
    )


def _khan_delta_convolution(n: int = 5, k: int = 3) -> bool:
    """dL/dx of a k x k valid layer on n x n: the delta map, zero-padded by k - 1, correlated
    with the weights flipped both ways (SymPy's derivative of the loss, entry by entry)."""
    g = sympy_gradients(Conv(kernel_size=k, bias=False), n)
    x, w, d = g["x"], g["w"], g["delta"]
    o = n - k + 1
    for i in range(n):
        for j in range(n):
            padded = sum(
                d[(i + a - k + 1) * o + (j + b - k + 1)] * w[(k - 1 - a) * k + (k - 1 - b)]
                for a in range(k)
                for b in range(k)
                if 0 <= i + a - k + 1 < o and 0 <= j + b - k + 1 < o
            )
            if sympy.expand(sympy.diff(g["loss"], x[i * n + j]) - padded) != 0:
                return False
    return True


def _downsampled_fraction(n: int = 28) -> Fraction:
    pool = Pool(kind="max", kernel_size=2, stride=2)
    return 1 - Fraction(pool.activations(n), n * n)


def _alexnet(row: str) -> str:
    return arch.get("alexnet").table().row(row).volume


def _vgg_millions(config: str) -> int:
    return arch.vgg(config).table().total_parameters


def _fischer_toeplitz() -> bool:
    """x in R^5, w in R^3: y = W x with W the 3 x 5 band (w1 w2 w3 0 0; 0 w1 w2 w3 0; ...)."""
    t = toeplitz(Conv(dims=1, kernel_size=3, bias=False), 5)
    w = [t[0, a] for a in range(3)]
    band = sympy.Matrix(3, 5, lambda r, c: w[c - r] if 0 <= c - r < 3 else 0)
    return t.shape == (3, 5) and sympy.Matrix(t) == band


def _goodfellow_example() -> tuple[int, ...]:
    """Goodfellow et al. Fig. 9.1: 3 x 4 input, 2 x 2 kernel; output (0, 0) = aw + bx + ey + fz."""
    t = toeplitz(Conv(kernel_size=2, bias=False), (3, 4))
    a, b, e, f = (sympy.Symbol(s) for s in "abef")
    w, x, y, z = (sympy.Symbol(s) for s in "wxyz")
    image = sympy.Matrix(3, 4, lambda r, c: sympy.Symbol("abcdefghijkl"[4 * r + c]))
    kernel = {t[0, 0]: w, t[0, 1]: x, t[0, 4]: y, t[0, 5]: z}
    out = (t.xreplace(kernel) * image.reshape(12, 1))[0]
    assert sympy.expand(out - (a * w + b * x + e * y + f * z)) == 0
    return Conv(kernel_size=2).output_size((3, 4))


def _full_width(m: int = 9, k: int = 4) -> int:
    return Conv(dims=1, kernel_size=k, padding="full").output_size(m)[0] - m - k + 1


def _cross_correlation_is_flipped_convolution() -> bool:
    """$f \\circ g = f * g^-$: flip=True with the kernel reversed is flip=False, entry by entry."""
    for k in (2, 3, 4):
        plain = toeplitz(Conv(dims=1, kernel_size=k, bias=False), 7)
        flipped = toeplitz(Conv(dims=1, kernel_size=k, bias=False, flip=True), 7)
        w = [plain[0, a] for a in range(k)]
        if flipped.xreplace(dict(zip(w, reversed(w), strict=True))) != plain:
            return False
    return True


def _convolution_theorem() -> bool:
    return fourier_derivation(Conv(dims=1, kernel_size=3), None).verify().passed


def _tiled_factor() -> bool:
    plain = _conv(3, cin=3, cout=4, bias=False)
    return all(
        Tiled(
            dims=2, in_channels=3, out_channels=4, kernel_size=3, tiles=t, bias=False
        ).num_parameters()
        == t * t * plain.num_parameters()
        for t in (1, 2, 3)
    )


def _local_weight_rank() -> int:
    layer = LocallyConnected(dims=2, in_channels=3, out_channels=4, kernel_size=3, input_size=8)
    return len(layer.weight_shape)


def _multichannel_formula() -> bool:
    """$Y_{ijk} = \\sum_{lmn} X_{l, j+m-1, k+n-1} K_{i,l,m,n}$ is the index form's layer."""
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (2, 5, 6))
    kern = rng.integers(-3, 4, (3, 2, 2, 3))
    spec = Conv(in_channels=2, out_channels=3, kernel_size=(2, 3), bias=False)
    g = index_form(spec, (5, 6)).gather()
    out = np.zeros(math.prod(g.out_shape), dtype=np.int64)
    np.add.at(out, g.rows, x.ravel()[g.cols] * kern.ravel()[g.weights])
    formula = np.einsum(
        "lmnab,ilab->imn", np.lib.stride_tricks.sliding_window_view(x, (2, 3), (1, 2)), kern
    )
    return bool(np.array_equal(out.reshape(g.out_shape), formula))


def _pool_formula_symbolic() -> bool:
    """$W_2 = (W_1 - F)/S + 1$ is the floor-mode pooling formula when the division is exact."""
    return _formula_grid(pool=True) and pool_output_formula(ceil_mode=False).has(sympy.floor)
