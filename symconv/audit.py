r"""The lectures, audited: every printed equation and number the engine can compute.

Each `Claim` records one thing a lecture prints — a size, a count, an equation, a worked value
— where it is printed, the value as printed, and the engine call that recomputes it (`call`,
shown to the reader, and `compute`, which runs it). `Claim.verdict()` recomputes and answers:

- `"agree"`: the engine's value equals the printed one, allowing for the printed rounding
  (`ulp`, one unit of the last printed digit; "35K" agrees with 34,944);
- `"erratum"`: it differs, and `symconv.errata` records the difference with its explanation;
- `"question"`: the lecture asks and prints no answer; the engine's answer is shown;
- `"not computable"`: nothing the engine computes (a figure's pixels, an error rate, a
  complexity class); `note` says why.

A claim that disagrees without an erratum is a defect of this audit: the tests fail on it.
The computed values are never written down here; `table()` recomputes them.

```python
>>> from symconv import audit
>>> c = next(c for c in audit.AUDIT if c.printed == "76*10 = 760")
>>> c.verdict(), c.computed(), c.call
('agree', 760, 'Conv(in_channels=3, out_channels=10, kernel_size=5, padding=2).num_parameters()')
>>> sorted({c.verdict() for c in audit.AUDIT})
['agree', 'erratum', 'not computable', 'question']

```
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import sympy

from . import arch, errata
from .arith import SYMBOLS, conv_output_formula, pool_output_formula
from .backprop import grad_weight_op, sympy_gradients
from .fourier import fourier_derivation
from .indexform import index_form
from .local import LocallyConnected, Tiled
from .poolgrad import pool_backward
from .spec import Conv, Pool, PoolKind
from .toeplitz import toeplitz

__all__ = ["AUDIT", "LECTURES", "Claim", "Verdict", "table"]

Verdict = Literal["agree", "erratum", "question", "not computable", "disagrees"]

KHAN = "Khan, CS-568 Deep Learning: Convolutional Neural Networks"
XU = "Xu, CS 4644 / 7643 Lecture 8: Convolution, pooling, CNN architectures"
LECTURES = {
    "000": KHAN,
    "001": XU,
    "002": errata.KONDOR,
    "003": errata.LARSON,
    "004": errata.FISCHER,
}


@dataclass(frozen=True)
class Claim:
    """One printed equation or number, and how the engine recomputes it.

    Args:
        lecture: the key of `LECTURES` ("000" to "004").
        place: where it is printed, in words (the slide's title or the example).
        quantity: what the value is.
        printed: the value as printed.
        printed_value: the printed value read as a number, tuple or boolean ("holds");
            `None` for a question the lecture does not answer.
        compute: recomputes it with the engine; `None` when the engine cannot.
        call: the engine call `compute` makes, as the reader would type it.
        ulp: one unit of the last printed digit (numbers agree when they differ by less).
        note: why it is not computable, or a remark on the rounding rule.
        erratum: the `symconv.errata` record when the printed value is wrong.
    """

    lecture: str
    place: str
    quantity: str
    printed: str
    printed_value: Any
    compute: Callable[[], Any] | None = field(repr=False, compare=False)
    call: str = ""
    ulp: Any = 1
    note: str = ""
    erratum: errata.Erratum | None = field(default=None, repr=False, compare=False)

    def computed(self) -> Any:
        """The engine's value now (`None` when not computable)."""
        return None if self.compute is None else self.compute()

    def verdict(self) -> Verdict:
        """Recompute and compare (see the module docstring for the verdicts)."""
        if self.compute is None:
            return "not computable"
        if self.printed_value is None:
            return "question"
        try:
            value = self.compute()
        except Exception:  # the engine cannot reproduce it at all: as wrong as a wrong value
            return "disagrees"
        return self._judge(value)

    def _judge(self, value: Any) -> Verdict:
        """The verdict on `value`, what `compute` returned (a printed value to compare with)."""
        try:
            agrees = _agree(value, self.printed_value, self.ulp)
        except Exception:  # not comparable with the printed value: as wrong as a wrong value
            return "disagrees"
        if self.erratum is not None:
            return "disagrees" if agrees else "erratum"
        return "agree" if agrees else "disagrees"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the record, the engine's value (as text) and the verdict."""
        value = self.computed()  # once: `verdict` would compute it again
        if self.compute is None:
            verdict: Verdict = "not computable"
        elif self.printed_value is None:
            verdict = "question"
        else:
            verdict = self._judge(value)
        return {
            "lecture": self.lecture,
            "source": LECTURES[self.lecture],
            "place": self.place,
            "quantity": self.quantity,
            "printed": self.printed,
            "computed": show(value),
            "verdict": verdict,
            "call": self.call,
            "note": self.note or (self.erratum.explain() if self.erratum else ""),
        }


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Fraction | np.integer | np.floating) and not isinstance(
        v, bool
    )


def _agree(computed: Any, printed: Any, ulp: Any) -> bool:
    if isinstance(computed, tuple) and isinstance(printed, tuple):
        return len(computed) == len(printed) and all(
            _agree(c, p, ulp) for c, p in zip(computed, printed, strict=True)
        )
    if _is_number(computed) and _is_number(printed):
        return abs(Fraction(computed) - Fraction(printed)) < Fraction(ulp)
    return bool(computed == printed)


def show(value: Any) -> str:
    """A computed value as the audit table shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "holds" if value else "does not hold"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | Fraction):
        return f"{float(value):.4g}"
    if isinstance(value, tuple):
        return (
            " x ".join(show(v) for v in value) if all(_is_number(v) for v in value) else str(value)
        )
    return str(value)


# -- the engine calls the claims make -------------------------------------------------------------
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


# -- the audit ------------------------------------------------------------------------------------
def _c(
    lecture: str,
    place: str,
    quantity: str,
    printed: str,
    printed_value: Any,
    compute: Callable[[], Any] | None,
    call: str = "",
    **kw: Any,
) -> Claim:
    return Claim(lecture, place, quantity, printed, printed_value, compute, call, **kw)


_CLAIMS: list[Claim] = [
    # 000 Khan
    _c(
        "000",
        "Convolutional layer: a feature map of 100 neurons in a 10x10 array",
        "weights shared by a feature map with 5x5 receptive fields",
        "26 (= 5 × 5 + 1)",
        26,
        lambda: _conv(5).num_parameters(),
        "Conv(kernel_size=5).num_parameters()",
    ),
    _c(
        "000",
        "Convolutional layer: 100 neurons in a 10x10 array, 5x5 patches",
        "size of the previous layer",
        "(not printed)",
        None,
        None,
        note="the previous layer's size is not given (a 14x14 layer gives 10x10: "
        "Conv(kernel_size=5).output_size(14))",
    ),
    _c(
        "000",
        "Subsampling layer: downsampling n x n by factor 2",
        "pooled size of a 28 x 28 layer",
        "n/2 × n/2",
        (14, 14),
        lambda: Pool(kind="max", kernel_size=2, stride=2).output_size(28),
        "Pool(kind='max', kernel_size=2, stride=2).output_size(28)",
    ),
    _c(
        "000",
        "Subsampling: non-overlapping 2x2 patches",
        "fraction of the data discarded",
        "75%",
        Fraction(3, 4),
        _downsampled_fraction,
        "1 - Pool(kind='max', kernel_size=2, stride=2).activations(28) / 28**2",
    ),
    _c(
        "000",
        "Subsampling: F x F receptive field, stride S",
        "W2 = (W1 - F)/S + 1, H2 likewise, D2 = D1 (every exact case, W1 < 40, F < 8, S < 5)",
        "W2 = (W1 − F)/S + 1",
        True,
        _pool_formula_symbolic,
        "Pool(kind='max', kernel_size=F, stride=S).output_size(W1)",
    ),
    _c(
        "000",
        "Backpropagation from subsampling to convolution layer",
        "max pooling routes delta to the recorded index; mean pooling spreads it uniformly",
        "backpropagate δ only to this pooled neuron",
        True,
        _khan_pool_routing,
        "pool_backward(Pool(kind='max' | 'avg', kernel_size=2, stride=2), x, delta)",
    ),
    _c(
        "000",
        "Backpropagation in a convolutional layer",
        "dL/dx is the delta map convolved with the flipped weights, zero-padded",
        "convolution of the δ-map using flipped weights with zero-padding",
        True,
        _khan_delta_convolution,
        "sympy_gradients(Conv(kernel_size=3, bias=False), 5)",
    ),
    _c(
        "000",
        "Computing gradients: valid convolution of n x n with n x n",
        "size of the result (n = 5)",
        "What will be the size of the result?",
        None,
        lambda: _conv(5).output_size(5),
        "Conv(kernel_size=5).output_size(5)",
    ),
    _c(
        "000",
        "Computing gradients: valid convolution of (n+1) x (n+1) with n x n",
        "size of the result (n = 5)",
        "What will be the size of the result?",
        None,
        lambda: _conv(5).output_size(6),
        "Conv(kernel_size=5).output_size(6)",
    ),
    _c(
        "000",
        "Computing gradients, 1D case: 3x1 filter, deltas δ1..δ5",
        "padded input, deltas and weight derivatives (lengths)",
        "[0 x1 … x5 0] (valid) [δ1 … δ5] → 3 derivatives",
        (7, 5, 3),
        _khan_1d_weight_gradient,
        "grad_weight_op(Conv(dims=1, kernel_size=3, padding=1), 5)",
    ),
    _c(
        "000",
        "Computing gradients, 1D case",
        "dL/db",
        "Verify that ∂L/∂b = Σ δi",
        True,
        _bias_gradient_is_sum,
        "sympy_gradients(Conv(dims=1, kernel_size=3, padding=1), 5)",
    ),
    _c(
        "000",
        "Computing gradients, 2D case (K odd)",
        "pad ⌊K/2⌋ each side, valid convolution with the δ-map gives K x K (K = 1, 3, 5, 7)",
        "K × K array of derivatives",
        True,
        _khan_2d_weight_gradient,
        "grad_weight_op(Conv(kernel_size=K, padding=K // 2), (9, 9))",
    ),
    _c(
        "000",
        "Computing gradients, 2D case",
        "dL/db",
        "sum of the δ-map",
        True,
        lambda: _bias_gradient_is_sum(2),
        "sympy_gradients(Conv(kernel_size=3, padding=1), 4)",
    ),
    # 001 Xu
    _c(
        "001",
        "Fully Connected Layer",
        "32x32x3 image stretched",
        "3072 x 1",
        (3072,),
        lambda: arch.Network("fc", (3, 32, 32), [arch.Flatten("flatten")]).table().output_shape,
        "Network('fc', (3, 32, 32), [Flatten('flatten')]).table().output_shape",
    ),
    _c(
        "001",
        "Convolution Layer: six 5x5 filters on 32x32x3",
        "output volume",
        "28x28x6",
        (28, 28, 6),
        lambda: _volume(_conv(5, cin=3, cout=6), 32),
        "Conv(in_channels=3, out_channels=6, kernel_size=5).output_size(32)",
    ),
    _c(
        "001",
        "7x7 input, 3x3 filter, stride 1",
        "output",
        "5x5 output",
        (5, 5),
        lambda: _conv(3).output_size(7),
        "Conv(kernel_size=3).output_size(7)",
    ),
    _c(
        "001",
        "7x7 input, 3x3 filter, stride 1, pad 1",
        "output",
        "7x7 output!",
        (7, 7),
        lambda: _conv(3, p=1).output_size(7),
        "Conv(kernel_size=3, padding=1).output_size(7)",
    ),
    _c(
        "001",
        "Output size = (N - F + 2P)/stride + 1",
        "N = 7, F = 3, P = 1, stride 1",
        "(7 − 3 + 2 * 1)/1 + 1 = 7",
        7,
        lambda: _lecture_size(7, 3, 1, 1),
        "conv_output_formula().subs(i=7, k=3, s=1, p=1, d=1)",
    ),
    _c(
        "001",
        "7x7 input, 3x3 filter, stride 2",
        "output",
        "3x3 output!",
        (3, 3),
        lambda: _conv(3, s=2).output_size(7),
        "Conv(kernel_size=3, stride=2).output_size(7)",
    ),
    _c(
        "001",
        "7x7 input, 3x3 filter, stride 3",
        "whether the stride tiles the input",
        "doesn't fit!",
        False,
        lambda: _conv(3, s=3).fits(7).exact,
        "Conv(kernel_size=3, stride=3).fits(7).exact",
    ),
    _c(
        "001",
        "Output size: (N - F)/stride + 1",
        "N = 7, F = 3, stride 1",
        "(7 − 3)/1 + 1 = 5",
        5,
        lambda: _lecture_size(7, 3, 1),
        "conv_output_formula().subs(i=7, k=3, s=1)",
    ),
    _c(
        "001",
        "Output size: (N - F)/stride + 1",
        "N = 7, F = 3, stride 2",
        "(7 − 3)/2 + 1 = 3",
        3,
        lambda: _lecture_size(7, 3, 2),
        "conv_output_formula().subs(i=7, k=3, s=2)",
    ),
    _c(
        "001",
        "Output size: (N - F)/stride + 1",
        "N = 7, F = 3, stride 3 (not floored)",
        "(7 − 3)/3 + 1 = 2.33",
        Fraction(233, 100),
        lambda: _lecture_size(7, 3, 3),
        "(7 - 3)/3 + 1; torch and the engine floor it: Conv(kernel_size=3, stride=3)"
        ".output_size(7) == (2, 2)",
        ulp=Fraction(1, 100),
    ),
    _c(
        "001",
        "Output size, with padding of 1",
        "N = 7, F = 3, P = 1, stride 3",
        "(7 − 3 + 2)/3 + 1 = 3",
        (3, 3),
        lambda: _conv(3, s=3, p=1).output_size(7),
        "Conv(kernel_size=3, stride=3, padding=1).output_size(7)",
    ),
    _c(
        "001",
        "Remember back to…: 32x32 input, repeated 5x5 filters",
        "spatial sizes",
        "32 -> 28 -> 24",
        (32, 28, 24),
        lambda: (32, _conv(5).output_size(32)[0], _conv(5).output_size(28)[0]),
        "Conv(kernel_size=5).output_size(32), then (28)",
    ),
    _c(
        "001",
        "Examples time: 32x32x3, ten 5x5 filters, stride 1, pad 2",
        "output volume",
        "(32+2*2-5)/1+1 = 32 spatially, so 32x32x10",
        (32, 32, 10),
        lambda: _volume(_conv(5, p=2, cin=3, cout=10), 32),
        "Conv(in_channels=3, out_channels=10, kernel_size=5, padding=2).output_size(32)",
    ),
    _c(
        "001",
        "Examples time: number of parameters",
        "parameters per filter",
        "5*5*3 + 1 = 76",
        76,
        lambda: _conv(5, cin=3).num_parameters(),
        "Conv(in_channels=3, out_channels=1, kernel_size=5).num_parameters()",
    ),
    _c(
        "001",
        "Examples time: number of parameters",
        "parameters of the layer",
        "76*10 = 760",
        760,
        lambda: _conv(5, p=2, cin=3, cout=10).num_parameters(),
        "Conv(in_channels=3, out_channels=10, kernel_size=5, padding=2).num_parameters()",
    ),
    _c(
        "001",
        "Convolution layer: summary",
        "W2 = (W1 - F + 2P)/S + 1 (every exact case)",
        "W2 = (W1 − F + 2P)/S + 1",
        True,
        _formula_grid,
        "Conv(kernel_size=F, stride=S, padding=P).output_size(W1)",
    ),
    _c(
        "001",
        "Convolution layer: summary",
        "parameters (F = 1, 3, 5; C = 1, 3, 64; K = 1, 10, 128)",
        "F²CK and K biases",
        True,
        _fk2ck_grid,
        "Conv(in_channels=C, out_channels=K, kernel_size=F).num_parameters()",
    ),
    _c(
        "001",
        "Zero-pad with (F-1)/2 to preserve size",
        "padding for F = 3, 5, 7",
        "F = 3 ⇒ 1, F = 5 ⇒ 2, F = 7 ⇒ 3",
        (1, 2, 3),
        _same_preserves,
        "Conv(kernel_size=F, padding='same').pads",
    ),
    _c(
        "001",
        "Common settings: F = 5, S = 2",
        "padding",
        "P = ? (whatever fits)",
        None,
        None,
        note="depends on the input size, which is not given",
    ),
    _c(
        "001",
        "Pooling layer: summary",
        "parameters",
        "Number of parameters: 0",
        0,
        lambda: Pool(kind="max", kernel_size=2).num_parameters(),
        "Pool(kind='max', kernel_size=2).num_parameters()",
    ),
    _c(
        "001",
        "Max pooling with 2x2 filters and stride 2",
        "the pooled values",
        "6 8 / 3 4",
        None,
        None,
        note="the input grid is in the figure, not in the text",
    ),
    _c(
        "001",
        "ImageNet dataset; ILSVRC error rates",
        "images, error rates",
        "14,197,122; 18.2% -> 15.4%; 16.4% -> 11.7%",
        None,
        None,
        note="data-set and benchmark figures, not arithmetic of a layer",
    ),
    _c(
        "001",
        "AlexNet: CONV1, 96 11x11 filters at stride 4 on 227x227x3",
        "output volume",
        "[55x55x96]",
        "55x55x96",
        lambda: _alexnet("conv1"),
        "arch.get('alexnet').table().row('conv1').volume",
    ),
    _c(
        "001",
        "AlexNet: CONV1 parameters",
        "parameters",
        "(11*11*3 + 1)*96 = 35K",
        35_000,
        lambda: _conv(11, s=4, cin=3, cout=96).num_parameters(),
        "Conv(in_channels=3, out_channels=96, kernel_size=11, stride=4).num_parameters()",
        ulp=1_000,
        note="34,944 rounds to 35K",
    ),
    _c(
        "001",
        "AlexNet: POOL1, 3x3 filters at stride 2",
        "output size",
        "(55 − 3)/2 + 1 = 27",
        (27, 27),
        lambda: Pool(kind="max", kernel_size=3, stride=2).output_size(55),
        "Pool(kind='max', kernel_size=3, stride=2).output_size(55)",
    ),
    _c(
        "001",
        "AlexNet: POOL1",
        "parameters",
        "Parameters: 0!",
        0,
        lambda: arch.get("alexnet").table().row("pool1").parameters,
        "arch.get('alexnet').table().row('pool1').parameters",
    ),
    *(
        _c(
            "001",
            f"Full (simplified) AlexNet architecture: {row.upper()}",
            "output volume",
            f"[{vol}]",
            vol,
            functools.partial(_alexnet, row),
            f"arch.get('alexnet').table().row('{row}').volume",
        )
        for row, vol in [
            ("pool1", "27x27x96"),
            ("norm1", "27x27x96"),
            ("conv2", "27x27x256"),
            ("pool2", "13x13x256"),
            ("norm2", "13x13x256"),
            ("conv3", "13x13x384"),
            ("conv4", "13x13x384"),
            ("conv5", "13x13x256"),
            ("pool3", "6x6x256"),
            ("fc6", "4096"),
            ("fc7", "4096"),
            ("fc8", "1000"),
        ]
    ),
    _c(
        "001",
        "ZFNet: AlexNet but",
        "CONV1; CONV3,4,5 filters",
        "CONV1 7x7 stride 2; 512, 1024, 512",
        ("conv 7x7/2 pad 1, 96", 512, 1024, 512),
        lambda: (
            arch.get("zfnet").table().row("conv1").layer,
            *(arch.get("zfnet").table().row(f"conv{i}").shape[0] for i in (3, 4, 5)),
        ),
        "arch.get('zfnet').table().row('conv1' | 'conv3' | ...)",
    ),
    # 002 Kondor
    _c(
        "002",
        "Convolution and correlation",
        "f ∘ g = f * g⁻ (discrete, k = 2, 3, 4, n = 7)",
        "f ∘ g = f * g⁻ where g⁻(x) = g(−x)",
        True,
        _cross_correlation_is_flipped_convolution,
        "toeplitz(Conv(dims=1, kernel_size=k, flip=True), 7) with the kernel reversed",
    ),
    _c(
        "002",
        "Convolution theorem",
        "the DFT of a circular convolution is the product of the DFTs",
        "(f * g)^(k) = f^(k) g^(k)",
        True,
        _convolution_theorem,
        "fourier_derivation(Conv(dims=1, kernel_size=3)).verify()",
    ),
    _c(
        "002",
        "Discrete convolution in 2D: the 2D DFT",
        "cost",
        "O(N² log N)",
        None,
        None,
        note="a complexity class; the engine counts the FFT's operations for its cost model "
        "(numeric.algorithms), not asymptotics",
    ),
    _c(
        "002",
        "Output Size: (N - K)/S + 1",
        "N = 6, K = 3, S = 1",
        "Output size = 4",
        (4, 4),
        lambda: _conv(3).output_size(6),
        "Conv(kernel_size=3).output_size(6)",
    ),
    _c(
        "002",
        "Output Size: (N - K)/S + 1",
        "N = 8, K = 3, S = 1",
        "output size is 6",
        (6, 6),
        lambda: _conv(3).output_size(8),
        "Conv(kernel_size=3).output_size(8)",
    ),
    _c(
        "002",
        "Zero Padding",
        "padding (K - 1)/2 at stride 1 for K = 3, 5, 7",
        "zero padding with (K − 1)/2 to preserve size",
        (1, 2, 3),
        _same_preserves,
        "Conv(kernel_size=K, padding='same').pads",
    ),
    _c(
        "002",
        "Learn Multiple Filters",
        "feature maps from 100 filters",
        "100 feature maps",
        100,
        lambda: _conv(3, cin=3, cout=100).out_channels,
        "Conv(in_channels=3, out_channels=100, kernel_size=3)",
    ),
    _c(
        "002",
        "In General: Output Size",
        "W2 = (W1 - K)/S + 1 (every exact case)",
        "W2 = (W1 − K)/S + 1",
        True,
        _formula_grid,
        "Conv(kernel_size=K, stride=S).output_size(W1)",
    ),
    _c(
        "002",
        "Convolutional Layer Parameters: 28x28x3, 100 3x3 filters, stride 1",
        "zero padding needed to preserve size",
        "What is the zero padding needed?",
        None,
        lambda: Conv(in_channels=3, out_channels=100, kernel_size=3, padding="same").pads[0],
        "Conv(in_channels=3, out_channels=100, kernel_size=3, padding='same').pads",
    ),
    _c(
        "002",
        "LeNet-5: filters 5x5 stride 1, pooling 2x2 stride 2",
        "parameters",
        "How many parameters?",
        None,
        lambda: arch.get("lenet5").table().total_parameters,
        "arch.get('lenet5').table().total_parameters",
    ),
    _c(
        "002",
        "AlexNet: 227 x 227 x 3, 96 filters K = 11, stride 4",
        "width and height",
        "(227 − 11)/4 + 1 = 55",
        (55, 55),
        lambda: _conv(11, s=4).output_size(227),
        "Conv(kernel_size=11, stride=4).output_size(227)",
    ),
    _c(
        "002",
        "AlexNet: pooling 3 X 3, stride 2",
        "size of output volume",
        "27",
        (27, 27),
        lambda: Pool(kind="max", kernel_size=3, stride=2).output_size(55),
        "Pool(kind='max', kernel_size=3, stride=2).output_size(55)",
    ),
    _c(
        "002",
        "AlexNet: pooling",
        "parameters",
        "Number of parameters?",
        None,
        lambda: Pool(kind="max", kernel_size=3, stride=2).num_parameters(),
        "Pool(kind='max', kernel_size=3, stride=2).num_parameters()",
    ),
    _c(
        "002",
        "ImageNet 2013 (ZF)",
        "CONV1; next three conv layers",
        "7 X 7 stride 2; 512, 1024, 512",
        ("conv 7x7/2 pad 1, 96", 512, 1024, 512),
        lambda: (
            arch.get("zfnet").table().row("conv1").layer,
            *(arch.get("zfnet").table().row(f"conv{i}").shape[0] for i in (3, 4, 5)),
        ),
        "arch.get('zfnet').table()",
    ),
    _c(
        "002",
        "ImageNet 2013, VGG, GoogLeNet: error rates",
        "top-5 error",
        "14.8% (from 15.4%), 7.3%, 6.7%",
        None,
        None,
        note="benchmark results, not arithmetic",
    ),
    *(
        _c(
            "002",
            f"VGGNet Table 2: column {cfg}",
            "parameters (millions)",
            str(m),
            m * 10**6,
            functools.partial(_vgg_millions, cfg),
            f"arch.vgg('{cfg}').table().total_parameters",
            ulp=10**6,
            note="rounded to the nearest million",
        )
        for cfg, m in arch.VGG_PRINTED_MILLIONS.items()
    ),
    *(
        _c(
            "002",
            f"VGGNet Table 1: column {cfg}",
            "weight layers",
            f"{n} weight layers",
            n,
            lambda cfg=cfg: arch.vgg(cfg).table().depth,  # type: ignore[misc]  # mypy infers no lambda with defaults
            f"arch.vgg('{cfg}').table().depth",
        )
        for cfg, n in [("A", 11), ("A-LRN", 11), ("B", 13), ("C", 16), ("D", 16), ("E", 19)]
    ),
    _c(
        "002",
        "VGGNet: total number of parameters",
        "parameters of VGG-16",
        "138 Million",
        138 * 10**6,
        lambda: arch.get("vgg16").table().total_parameters,
        "arch.get('vgg16').table().total_parameters",
        ulp=10**6,
    ),
    _c(
        "002",
        "VGGNet: observations",
        "the first two blocks hold most of the activation memory",
        "Early convolutional layers take most memory",
        True,
        lambda: (
            lambda t: 2 * sum(r.memory for r in t.rows[:6] if r.kind == "conv") > t.total_memory
        )(arch.get("vgg16").table()),
        "arch.get('vgg16').table().rows[...].memory",
    ),
    _c(
        "002",
        "VGGNet: observations",
        "share of the parameters in the fully connected layers",
        "Most parameters are in the fully connected layers",
        True,
        lambda: (
            lambda t: (
                2 * sum(r.parameters for r in t.rows if r.kind == "linear") > t.total_parameters
            )
        )(arch.get("vgg16").table()),
        "arch.get('vgg16').table().rows[...].parameters",
    ),
    _c(
        "002",
        "VGGNet: memory",
        "backward pass",
        "the memory usage is doubled per image",
        None,
        None,
        note="the engine does not model training memory",
    ),
    # 003 Larson
    _c(
        "003",
        "Simple Example: From Fully Connected to CNN (9x9 image, 20 hidden, 10 outputs)",
        "parameters without biases",
        "9²x20 + (20x10) = 1,820",
        1_820,
        _larson_fc,
        "Linear('hidden', 20, bias=False).num_parameters(81) + Linear('output', 10, bias=False)"
        ".num_parameters(20)",
    ),
    _c(
        "003",
        "Simple Example: From Fully Connected to CNN",
        "parameters for a K x K image",
        "(K² × 20) + (20x10) = 200 + 20 K²",
        True,
        _larson_fc_symbolic,
        "the same with K a SymPy symbol",
    ),
    _c(
        "003",
        "Gradient of Convolution: 2x2 filter on a 3x3 input",
        "O11",
        "O11 = X11F11 + X12F12 + X21F21 + X22F22",
        True,
        _larson_o11,
        "sympy_gradients(Conv(kernel_size=2, bias=False), 3)",
    ),
    *(
        _c(
            "003",
            "Gradient of Convolution",
            f"∂L/∂F{i}{j}",
            f"∂L/∂F{i}{j} = Σ ∂L/∂Oab · X(a+{i - 1})(b+{j - 1})",
            True,
            functools.partial(_larson_df, i, j),
            "sympy_gradients(Conv(kernel_size=2, bias=False), 3)",
        )
        for i in (1, 2)
        for j in (1, 2)
    ),
    _c(
        "003",
        "Gradient of Convolution",
        "∂L/∂X (every input)",
        "∂L/∂X = Full Convolution of ∂L/∂O with the 180°-rotated filter",
        True,
        _larson_full_convolution,
        "sympy_gradients(Conv(kernel_size=2, bias=False), 3)",
    ),
    # 004 Fischer
    _c(
        "004",
        "Convolution is a linear operation: x in R^5, w in R^3",
        "y = W x",
        "W ∈ R^((n−m+1)×n) Toeplitz, rows (w1, w2, w3, 0, 0), (0, w1, w2, w3, 0), …",
        True,
        _fischer_toeplitz,
        "toeplitz(Conv(dims=1, kernel_size=3), 5)",
    ),
    _c(
        "004",
        "Convolution is a linear operation",
        "output length for n = 5, m = 3",
        "reduced dimension n − m + 1",
        (3,),
        lambda: Conv(dims=1, kernel_size=3).output_size(5),
        "Conv(dims=1, kernel_size=3).output_size(5)",
    ),
    _c(
        "004",
        "Example (Goodfellow et al. Fig. 9.1): 3x4 input, 2x2 kernel",
        "output size (and output (1,1) = aw + bx + ey + fz)",
        "2 x 3 output, aw + bx + ey + fz",
        (2, 3),
        _goodfellow_example,
        "toeplitz(Conv(kernel_size=2), (3, 4))",
    ),
    _c(
        "004",
        "Multi-channel convolution: 4d kernel K",
        "Y_ijk = Σ X_l,j+m−1,k+n−1 K_i,l,m,n is the layer",
        "Y_ijk = Σ_lmn X K",
        True,
        _multichannel_formula,
        "index_form(Conv(in_channels=2, out_channels=3, kernel_size=(2, 3)), (5, 6))",
    ),
    _c(
        "004",
        "Parameter sharing: 512 x 512 input",
        "pixels",
        "262144",
        262_144,
        lambda: (
            arch.Network("img", (1, 512, 512), [arch.Flatten("flatten")]).table().output_shape[0]
        ),
        "Network('img', (1, 512, 512), [Flatten('flatten')]).table().output_shape",
    ),
    _c(
        "004",
        "Parameter sharing: a dense layer to an output of similar size",
        "parameters",
        "68 x 10^9",
        68 * 10**9,
        lambda: arch.Linear("dense", 512 * 512, bias=False).num_parameters(512 * 512),
        "Linear('dense', 512 * 512, bias=False).num_parameters(512 * 512)",
        ulp=10**9,
        note="68,719,476,736 truncated to 68 x 10^9",
    ),
    _c(
        "004",
        "Edge detection with Y = [-1 1] * X: conv layer",
        "FLOPs (2 mult. + 1 add per output)",
        "319 x 280 x 3 = 267,960 FLOPs",
        267_960,
        lambda: Conv(kernel_size=(1, 2), bias=False).flops((280, 320), exact=True),
        "Conv(kernel_size=(1, 2), bias=False).flops((280, 320), exact=True)",
    ),
    _c(
        "004",
        "Zero padding: full convolution",
        "output width for m = 9, k = 4 (minus m + k − 1)",
        "width m + k − 1",
        0,
        _full_width,
        "Conv(dims=1, kernel_size=k, padding='full').output_size(m)",
    ),
    _c(
        "004",
        "Locally connected layers",
        "rank of the weight tensor (2-d)",
        "6-D tensor W",
        6,
        _local_weight_rank,
        "LocallyConnected(dims=2, ...).weight_shape(8)",
    ),
    _c(
        "004",
        "Tiled convolution",
        "parameters grow by the number of kernels (t = 1, 2, 3 per axis)",
        "only by a factor of the size of this set of kernels",
        True,
        _tiled_factor,
        "Tiled(dims=2, ..., tiles=t).num_parameters()",
    ),
    _c(
        "004",
        "Fast convolution: K * X = F⁻¹(F(K) ⊙ F(X))",
        "the convolution theorem",
        "K * X = F⁻¹(F(K) ⊙ F(X))",
        True,
        _convolution_theorem,
        "fourier_derivation(Conv(dims=1, kernel_size=3)).verify()",
    ),
    _c(
        "004",
        "Pooling: 2 x 2 filter with stride 2 (worked grid)",
        "pooled values",
        "(garbled in the notes)",
        None,
        None,
        note="the example grid is not legible in the text",
    ),
]


def _from_erratum(e: errata.Erratum) -> Claim:
    lecture = next(k for k, name in LECTURES.items() if e.source.startswith(name))
    return Claim(
        lecture,
        e.place,
        e.quantity,
        e.printed,
        e.printed_value,
        e.compute,
        "symconv.errata",
        ulp=e.ulp,
        erratum=e,
    )


def _googlenet_agreeing() -> list[Claim]:
    """GoogLeNet's Table 1 cells the engine reproduces (the others are errata): sizes and depths
    compared as printed, counts in the printed unit (K = 1024, M = 10^6) to the printed digit."""
    out = []
    for n, c in enumerate(_googlenet()):
        if not c.agrees:
            continue
        printed: str | int | Fraction  # the cell as printed, compared in its own unit
        ulp: int | Fraction
        if c.quantity == "output":
            printed, ulp = c.printed, 1
        elif c.quantity == "depth":
            printed, ulp = int(c.printed), 1
        else:
            printed, ulp = errata.reading(c.printed)
        out.append(
            Claim(
                "002",
                f"GoogLeNet table, {c.row}",
                c.quantity,
                c.printed,
                printed,
                functools.partial(_googlenet_cell, n),
                f"arch.compare_googlenet(): row {c.row!r}, {c.quantity}",
                ulp=ulp,
            )
        )
    return out


@functools.cache
def _googlenet() -> tuple[Any, ...]:
    """Table 1 against the engine's GoogLeNet (computed once a process: it is pure)."""
    return tuple(arch.compare_googlenet())


def _googlenet_cell(n: int) -> Any:
    c = _googlenet()[n]
    return int(c.computed) if c.quantity == "depth" else c.computed


def _audit() -> tuple[Claim, ...]:
    claims = [*_CLAIMS, *_googlenet_agreeing(), *(_from_erratum(e) for e in errata.ERRATA)]
    order = {k: i for i, k in enumerate(LECTURES)}
    return tuple(sorted(claims, key=lambda c: order[c.lecture]))  # stable: printed order kept


AUDIT: tuple[Claim, ...] = _audit()


def table() -> list[dict[str, Any]]:
    """Every claim as a JSON-ready row, recomputed now (`Claim.as_dict`)."""
    return [c.as_dict() for c in AUDIT]
