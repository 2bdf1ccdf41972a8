"""Exact checks of a Winograd algorithm: its residual against direct correlation, coefficient
mismatches and multiplication counts."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .._errors import SpecError
from ..spec import Conv
from ..toeplitz import toeplitz
from ._transforms import _OP, Winograd


def _symbols(name: str, *shape: int) -> sympy.Matrix:
    base = sympy.IndexedBase(name)
    if len(shape) == 1:
        return sympy.Matrix(shape[0], 1, lambda i, _: base[i])
    return sympy.Matrix(shape[0], shape[1], lambda i, j: base[i, j])


def _valid_correlation(d: sympy.Matrix, g: sympy.Matrix, dims: int) -> sympy.Matrix:
    """The reference, read from `symconv.toeplitz` (cross-correlation, valid)."""
    if dims == 1:
        spec = Conv(dims=1, kernel_size=g.rows, bias=False)
        T = toeplitz(spec, d.rows)
        w = sympy.IndexedBase("w")
        sub = {w[0, 0, a]: g[a] for a in range(g.rows)}
        return (T.xreplace(sub) * d).applyfunc(sympy.expand)
    spec = Conv(dims=2, kernel_size=g.shape, bias=False)
    T = toeplitz(spec, d.shape)
    w = sympy.IndexedBase("w")
    sub = {w[0, 0, a, b]: g[a, b] for a in range(g.rows) for b in range(g.cols)}
    o = (d.rows - g.rows + 1, d.cols - g.cols + 1)
    y = T.xreplace(sub) * d.reshape(d.rows * d.cols, 1)
    return y.reshape(*o).applyfunc(sympy.expand)


def winograd_residual(f: Winograd, dims: int = 1) -> sympy.Matrix:
    """The symbolic residual of $F(m, r)$ (or $F(m \\times m, r \\times r)$) against the valid
    correlation of symbolic `d` with symbolic `g` (from `symconv.toeplitz`): zero when correct.

    ```python
    >>> from symconv.winograd import winograd
    >>> winograd_residual(winograd(2, 3)).is_zero_matrix
    True

    ```
    """
    if _check_dims(dims) == 1:
        d, g = _symbols("d", f.alpha), _symbols("g", f.r)
        got = f.apply(d, g)
    else:
        d, g = _symbols("d", f.alpha, f.alpha), _symbols("g", f.r, f.r)
        got = f.apply2d(d, g)
    return (got.applyfunc(sympy.expand) - _valid_correlation(d, g, dims)).applyfunc(sympy.expand)


def _coefficient_mismatches_2d(f: Winograd) -> tuple[int, int]:
    r"""`(wrong, total)`: how many of the $m^2 r^2 \alpha^2$ coefficients of the nested 2D
    algorithm differ from the valid 2D correlation's, in exact arithmetic (0 wrong: the identity
    holds for all $d$, $g$).

    $Y = A^\top[(G g G^\top) \odot (B^\top d B)] A$ is bilinear in $(g, d)$; the coefficient of
    $g_{st} d_{uv}$ in $Y_{ij}$ is $\sum_{p, q} A^\top_{ip} A^\top_{jq} G_{ps} G_{qt}
    B^\top_{pu} B^\top_{qv} = T_{isu} T_{jtv}$ with $T_{isu} = \sum_p A^\top_{ip} G_{ps}
    B^\top_{pu}$ (the sum over $p, q$ separates), so all of them cost $m^2 r^2 \alpha^2$
    products, not the seconds that expanding the symbolic residual takes from $\alpha = 5$.
    The reference coefficients are read from `symconv.toeplitz`'s 2D matrix.
    """
    m, r, a = f.m, f.r, f.alpha
    T = [f.G.T * sympy.diag(*f.AT.row(i)) * f.BT for i in range(m)]  # T[i][s, u]
    scale = sympy.ilcm(1, 1, *(x.q for Ti in T for x in Ti))  # integers: exact, and fast
    N = np.empty((m, r, a), dtype=object)
    for i, Ti in enumerate(T):
        for (s, u), x in np.ndenumerate(np.array(Ti.tolist(), dtype=object)):
            N[i, s, u] = int(x * scale)
    got = N[:, None, :, None, :, None] * N[None, :, None, :, None, :]  # (i, j, s, t, u, v)
    want = np.zeros((m, m, r, r, a, a), dtype=object)
    w = sympy.IndexedBase("w")
    ref = toeplitz(Conv(dims=2, kernel_size=(r, r), bias=False), (a, a))
    for (row, col), entry in ref.todok().items():
        i, j = divmod(row, m)
        u, v = divmod(col, a)
        for term, c in entry.as_coefficients_dict().items():
            if not (isinstance(term, sympy.Indexed) and term.base == w):
                raise AssertionError(f"unexpected entry {entry} in the reference Toeplitz matrix")
            s, t = (int(k) for k in term.indices[2:])
            want[i, j, s, t, u, v] += int(c) * int(scale) ** 2
    return int(np.count_nonzero(got != want)), got.size


def _hadamard_products(f: Winograd, dims: int) -> int:
    r"""The multiplications the element-wise stage actually performs, counted from the
    transforms: entry $P$ of $(G^{\otimes d} \operatorname{vec} g) \odot
    (B^{\top \otimes d} \operatorname{vec} d)$ multiplies two data-dependent values when row
    $P$ of both Kronecker powers is nonzero (a product of nonzero rationals is nonzero, so the
    zero pattern of a Kronecker power is the Kronecker power of the zero pattern)."""
    g_nz = np.array([[x != 0 for x in row] for row in f.G.tolist()], dtype=bool)
    b_nz = np.array([[x != 0 for x in row] for row in f.BT.tolist()], dtype=bool)
    kg, kb = g_nz, b_nz
    for _ in range(dims - 1):
        kg, kb = np.kron(kg, g_nz), np.kron(kb, b_nz)
    return int(np.count_nonzero(kg.any(axis=1) & kb.any(axis=1)))


def _direct_products(f: Winograd, dims: int) -> int:
    """Multiplications of the direct valid correlation of one tile: the nonzeros of its
    Toeplitz matrix (one weight times one input each), from `symconv.toeplitz`."""
    size = f.alpha if dims == 1 else (f.alpha,) * dims
    return int(toeplitz(Conv(dims=dims, kernel_size=f.r, bias=False), size).nnz())


def _check_dims(dims: Any) -> int:
    if isinstance(dims, bool) or not isinstance(dims, int) or dims not in (1, 2):
        raise SpecError(f"{_OP}: dims must be 1 or 2, got {dims!r}")
    return dims
