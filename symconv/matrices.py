r"""The layer as a matrix: `matrix_derivation` (the Toeplitz matrix $T$ built from the index
form: its structure, $T = \mathrm{Valid}\cdot\mathrm{Pad}$, $T x$ against torch) and
`transpose_derivation` (the transposed convolution as $T^\top$: its output size, the
stride-1 equivalent, the adjoint's factor tables), assembled from the modules that own the
pieces (`toeplitz`, `transpose`, `arith`). `symconv derive toeplitz` and `symconv derive
transpose` build them (`symconv.registry`).

```python
>>> from symconv.matrices import matrix_derivation
>>> from symconv import Conv
>>> matrix_derivation(Conv(dims=1, kernel_size=3), 5).verify().passed
True

```
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import sympy

from . import _sizes
from ._errors import SpecError
from ._torchref import conv_reference, torch_or_none
from .arith import SYMBOLS, transpose_output_formula
from .derivation import Derivation, Outcome, SkipCheck, discrepancy, grid_check
from .indexform import index_form
from .spec import Conv
from .toeplitz import (
    factored_matvec,
    factored_product_check,
    padding_matrix,
    sparse_product,
    structure,
    toeplitz,
    valid_matrix,
)
from .transpose import ConvTranspose, conv_transpose_equivalent, verify_adjoint

__all__ = ["matrix_derivation", "transpose_derivation"]

_SHOW_MAX = 16  # show matrices up to this many rows and columns


def matrix_derivation(spec: Any, input_size: int | Sequence[int]) -> Derivation:
    r"""Convolution as a matrix: $\mathrm{vec}(y) = T\,\mathrm{vec}(x)$, $T = V\,\mathrm{Pad}$.

    Steps: the index form, $T$ (shown when small), its structure, the padding matrix. Checks:
    $T = V \cdot \mathrm{Pad}$ exactly; $T x$ against torch in float64 (when torch is installed).
    """
    form = index_form(spec, input_size)
    factored = form.kind == "conv"  # weights shared over positions: check factor by factor
    shape = (math.prod(form.out_shape()), math.prod(form.in_shape()))
    small = max(shape) <= _SHOW_MAX
    # the symbolic T only where it is shown or cheap; the checks read integer tables
    T = toeplitz(spec, input_size) if small or not factored else None
    nnz = form.nonzeros()
    s = structure(spec, input_size)
    d = Derivation(f"{spec} as a matrix on input {form.input_size}")
    d.add_step(
        "Index form",
        form.expression(),
        "the definition every matrix is read from",
        definition=True,
    )
    shown = (
        T
        if small
        else sympy.Symbol(
            rf"T \in \mathbb{{R}}^{{{shape[0]} \times {shape[1]}}},\ {nnz}\ \text{{nonzeros}}"
        )
    )
    d.add_step(
        "The matrix T",
        shown,
        "rows: flattened (C_out, *output); columns: (C_in, *input)",
        by=("T = V Pad", "T x equals torch"),
    )
    d.add_step("Structure", s.name, s.evidence, by="structure read off T")
    pad_shape = (math.prod(form.in_shape(padded=True)), shape[1])
    pad = padding_matrix(spec, input_size) if max(pad_shape) <= _SHOW_MAX or not factored else None
    if max(pad_shape) <= _SHOW_MAX:
        d.add_step(
            "Padding as a matrix",
            pad,
            "T = V Pad: the valid convolution of the padded input",
            by="T = V Pad",
        )
    d.results.update(structure=s)
    if T is not None:
        d.results.update(T=T, pad=pad)

    def factorisation() -> Outcome:
        if factored:
            product = factored_product_check(form)
            return Outcome(
                product.nonzeros,
                0.0 if product.holds else 1.0,
                product.holds,
                "per axis in int64, symbolic weights",
            )
        assert T is not None and pad is not None  # not factored: both built above
        v = dict(valid_matrix(spec, input_size).todok())
        prod = {k: val for k, val in sparse_product(v, dict(pad.todok())).items() if val != 0}
        ok = prod == dict(T.todok())
        return Outcome(T.nnz(), 0.0 if ok else 1.0, ok, "entry by entry, symbolic weights")

    def against_torch() -> Outcome:
        if torch_or_none() is None:  # pragma: no cover - torch is optional
            raise SkipCheck("torch not installed (pip install torch): not checked")
        if not isinstance(spec, Conv) or type(spec) is not Conv:
            raise SkipCheck("only plain convolutions have a torch counterpart")
        rng = np.random.default_rng(0)
        worst = 0.0
        size = cast(tuple[int, ...], form.input_size)  # a sized form
        for _ in range(3):
            x = rng.standard_normal((spec.in_channels, *size))
            w = rng.standard_normal(spec.weight_shape)
            y = factored_matvec(form, w, x)  # T x, T's taps read from the index form
            ref = conv_reference(spec, x[None], w)
            worst = max(worst, discrepancy(y, ref.numpy().reshape(-1)))
        return Outcome(3, worst, worst < 1e-10, "float64, random inputs and weights")

    def structure_check() -> Outcome:
        again = structure(spec, input_size)
        one_block = form.in_channels == form.out_channels == 1
        ok = again.name == s.name and (s.name != "Toeplitz" or not one_block or _is_toeplitz(T))
        return Outcome(1, 0.0 if ok else 1.0, ok, f"{s.name}: {s.evidence}")

    d.check("T = V Pad", "exact", factorisation)
    d.check("structure read off T entry by entry", "exact", structure_check)
    d.check("T x equals torch.nn.functional.conv", "numeric", against_torch)
    return d


def _is_toeplitz(T: Any) -> bool:
    """Every diagonal of `T` constant (a 1-d, one-channel convolution's matrix)."""
    entries = dict(T.todok())
    return all(
        entries.get((r, c), 0) == entries.get((r + 1, c + 1), 0)
        for r in range(T.shape[0] - 1)
        for c in range(T.shape[1] - 1)
    )


def transpose_derivation(spec: Any, input_size: int | Sequence[int] | None = None) -> Derivation:
    r"""The transposed convolution: its size rule, what `output_padding` disambiguates, $T^\top$.

    A strided convolution maps $s$ input sizes onto one output size (the last
    $a = (i + 2p - d(k-1) - 1) \bmod s$ positions are never read); its transpose returns the
    smallest of them unless `output_padding` $= a$ asks for another.
    """
    if isinstance(spec, Conv) and type(spec) is Conv:
        if spec.padding_mode != "zeros" or spec.flip or any(lo != hi for lo, hi in spec.pads):
            raise SpecError(
                "derive transpose: the transposed convolution exists for zero, symmetric padding "
                "and cross-correlation (as torch's ConvTranspose)"
            )
        spec = ConvTranspose(
            dims=spec.dims,
            in_channels=spec.out_channels,
            out_channels=spec.in_channels,
            kernel_size=spec.kernel_size,
            stride=spec.stride,
            padding=tuple(p for p, _ in spec.pads),
            dilation=spec.dilation,
            groups=spec.groups,
            bias=spec.bias,
        )
    if not isinstance(spec, ConvTranspose):
        raise SpecError(
            f"transpose_derivation: expected a Conv or ConvTranspose, got {type(spec).__name__}"
        )
    size = (3,) * spec.dims if input_size is None else input_size
    S = SYMBOLS
    i, k, s, dd, p, a = S["i"], S["k"], S["s"], S["d"], S["p"], S["a"]
    q = sympy.Symbol("q", integer=True, nonnegative=True)
    o_conv = _sizes.conv_out(i, k, s, dd, p, p)
    o, o_t = sympy.Symbol("o", integer=True, positive=True), sympy.Symbol("o'")
    transposed = transpose_output_formula().subs(i, o)  # the transpose reads o, not i
    span = sympy.Eq(i + 2 * p - dd * (k - 1) - 1, s * q + a)
    recovered = sympy.solve(span, i)[0]
    back = sympy.expand(transposed.subs(o, q + 1))
    d = Derivation(f"{spec}: the transposed convolution")
    d.add_step(
        "Convolution output size",
        sympy.Eq(o, o_conv),
        "many-to-one when s > 1 (symconv derive output-size)",
        definition=True,
    )
    d.add_step(
        "Write the padded span as s q + a",
        span,
        "0 <= a < s: a = (i + 2p - d(k-1) - 1) mod s positions are never read",
        definition=True,
    )
    d.add_step(
        "Hence o = q + 1",
        sympy.Eq(o, q + 1),
        "floor((s q + a)/s) = q because 0 <= a < s",
        by="o = q + 1",
    )
    d.add_step(
        "Transposed output size",
        sympy.Eq(o_t, transposed),
        "torch's ConvTranspose on an input of size o, a = output_padding",
        definition=True,
    )
    d.add_step(
        "Substitute o = q + 1",
        sympy.Eq(o_t, back),
        "the transposed output size of the convolution's output",
        by="o' at o = q + 1",
    )
    d.add_step(
        "output_padding = a returns the input size",
        sympy.Eq(o_t, i),
        "s q + a - 2p + d(k - 1) + 1 = i by the padded span: the transpose returns i exactly "
        "when output_padding = a",
        by=("output_padding = a recovers", "same, every i < 12"),
    )
    eq = conv_transpose_equivalent(spec)
    d.add_step(
        "As a direct convolution",
        sympy.Symbol(
            rf"\text{{insert {list(eq.zeros_inserted)} zeros, pad {list(eq.padding)}, "
            rf"flipped kernel}}"
        ),
        "Dumoulin & Visin, relationships 8-14 (negative pad: crop)",
        by="the transposed matrix is T^T",
    )

    def proof() -> Outcome:
        ok = sympy.simplify(back - recovered) == 0
        return Outcome(1, 0.0 if ok else 1.0, ok, "symbolic in i, k, s, d, p, q, a")

    def substitution() -> Outcome:
        ok = sympy.simplify(transposed.subs(o, q + 1) - back) == 0
        return Outcome(1, 0.0 if ok else 1.0, ok, "symbolic in q, k, s, d, p, a")

    def floor_q() -> Outcome:
        cases = [(qq, aa, ss) for ss in range(1, 6) for aa in range(ss) for qq in range(0, 9)]
        expr = sympy.lambdify((q, a, s), sympy.floor((s * q + a) / s) + 1 - (q + 1), "math")
        return grid_check(cases, lambda c: abs(expr(*c)))

    def grid() -> Outcome:
        cases = [
            c
            for c in itertools.product(
                range(1, 12), range(1, 4), range(1, 4), range(1, 3), range(0, 3)
            )
            if c[0] + 2 * c[4] >= c[3] * (c[1] - 1) + 1
        ]

        def err(c: tuple[int, ...]) -> float:
            ii, kk, ss, d_, pp = c
            o = _sizes.conv_out(ii, kk, ss, d_, pp, pp)
            a_ = _sizes.unused(ii, kk, ss, d_, pp, pp)
            return abs(_sizes.transpose_out(o, kk, ss, d_, pp, a_) - ii)

        return grid_check(cases, err)

    def adjoint() -> Outcome:
        ok = verify_adjoint(spec, size)
        return Outcome(1, 0.0 if ok else 1.0, ok, f"toeplitz(ConvTranspose) == T^T at input {size}")

    d.check("o = q + 1: floor((s q + a)/s) + 1, every s < 6, a < s, q < 9", "exact", floor_q)
    d.check("o' at o = q + 1, symbolic", "general", substitution)
    d.check("output_padding = a recovers the input size", "general", proof)
    d.check("same, every i < 12, k, s < 4, d < 3, p < 3", "exact", grid)
    d.check("the transposed matrix is T^T of the convolution", "exact", adjoint)
    return d
