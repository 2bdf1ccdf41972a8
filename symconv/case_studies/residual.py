r"""The residual block $y = x + F(x)$: its chain rule
$\partial L/\partial x = \partial L/\partial y\,(I + \partial F/\partial x)$ (`residual_derivation`,
`residual_chain_rule`, `stack_chain_rule`) and `gradient_norm_study`: the gradient through a
deep plain stack shrinks geometrically, through residual blocks it does not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from .._results import ChainRule
from .._torchref import torch_or_none
from ..derivation import Derivation, Outcome, discrepancy
from ._common import _no_torch


def residual_chain_rule(n: int, identity: bool = True) -> ChainRule:
    """Whether $\\partial L(x + F(x))/\\partial x_j = \\sum_i \\partial L/\\partial y_i
    (\\delta_{ij} + \\partial F_i/\\partial x_j)$ for undefined (arbitrary differentiable) $L$
    and $F_1..F_n$, for every $j$; `identity=False` drops the $\\delta_{ij}$ (the plain
    layer's rule), which must fail. Returns a `ChainRule`: whether it `holds`, and the
    `jacobian` of $y$."""
    xs = sympy.symbols(f"x1:{n + 1}")
    dummies = sympy.symbols(f"u1:{n + 1}")
    fs = [sympy.Function(f"F_{i + 1}")(*xs) for i in range(n)]
    ys = [x + f for x, f in zip(xs, fs, strict=True)]
    loss = sympy.Function("L")(*ys)
    upstream = [
        sympy.Derivative(sympy.Function("L")(*dummies), dummies[i]).subs(
            dict(zip(dummies, ys, strict=True))
        )
        for i in range(n)
    ]
    jac = sympy.Matrix(fs).jacobian(xs) + (sympy.eye(n) if identity else sympy.zeros(n))
    ok = all(
        sympy.simplify(sympy.diff(loss, xs[j]) - sum(upstream[i] * jac[i, j] for i in range(n)))
        == 0
        for j in range(n)
    )
    return ChainRule(ok, sympy.Matrix(ys).jacobian(xs))


def _residual_block_torch(seed: int = 0) -> Outcome:
    """dL/dx of y = x + conv(relu(conv(x))) by autograd against g (I + J_F) with J_F the
    explicit Jacobian of F (torch.autograd.functional.jacobian), float64."""
    torch = torch_or_none()
    if torch is None:  # pragma: no cover
        return _no_torch()
    F = torch.nn.functional
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    for c, size in ((2, 5), (3, 4)):
        w1 = torch.randn(c, c, 3, 3, generator=gen, dtype=torch.float64)
        w2 = torch.randn(c, c, 3, 3, generator=gen, dtype=torch.float64)

        def branch(x: Any, w1: Any = w1, w2: Any = w2) -> Any:
            return F.conv2d(F.relu(F.conv2d(x, w1, padding=1)), w2, padding=1)

        x = torch.randn(1, c, size, size, generator=gen, dtype=torch.float64, requires_grad=True)
        upstream = torch.randn(1, c, size, size, generator=gen, dtype=torch.float64)
        (x + branch(x)).backward(upstream)
        n = c * size * size
        jac = torch.autograd.functional.jacobian(branch, x.detach(), vectorize=True).reshape(n, n)
        formula = upstream.reshape(n) @ (torch.eye(n, dtype=torch.float64) + jac)
        worst = max(worst, discrepancy(formula.numpy(), x.grad.reshape(n).numpy()))
    return Outcome(2, worst, worst < 1e-10, "3x3 conv, ReLU, 3x3 conv branch; float64")


def gradient_norm_study(
    depth: int = 50, width: int = 64, scale: float = 0.8, seed: int = 0
) -> dict[str, list[float]]:
    r"""$\lVert \partial L / \partial x_\ell \rVert$ for $\ell = 0..$`depth` in two stacks of
    `depth` layers of `width` units with the same weights $W_\ell \sim N(0, \sigma^2/n)$,
    $\sigma$ = `scale`: plain, $x_{\ell+1} = \tanh(W_\ell x_\ell)$, and residual,
    $x_{\ell+1} = x_\ell + \tanh(W_\ell x_\ell)$; $L = u^\top x_\mathrm{depth}$ for a fixed
    random unit vector $u$. Backpropagated by hand: $g_\ell = J_\ell^\top g_{\ell+1}$ with
    $J_\ell = \mathrm{diag}(\tanh'(W_\ell x_\ell)) W_\ell$ (plain) or $I + J_\ell$ (residual).

    ```python
    >>> s = gradient_norm_study(depth=30)
    >>> s["plain"][0] < 1e-2 < 1 < s["residual"][0]
    True

    ```
    """
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((depth, width, width)) * scale / np.sqrt(width)
    x0 = rng.standard_normal(width)
    u = rng.standard_normal(width)
    u /= np.linalg.norm(u)
    out: dict[str, list[float]] = {"depth": list(range(depth + 1))}
    for kind in ("plain", "residual"):
        xs, x = [], x0
        for w in weights:
            xs.append(x)
            x = np.tanh(w @ x) + (x if kind == "residual" else 0)
        g, norms = u, [1.0]
        for w, x in zip(weights[::-1], xs[::-1], strict=True):
            jt = w.T * (1 - np.tanh(w @ x) ** 2)  # J^T = W^T diag(tanh')
            g = jt @ g + (g if kind == "residual" else 0)
            norms.append(float(np.linalg.norm(g)))
        out[kind] = norms[::-1]  # index l: the gradient at x_l
    return out


def _study_against_torch() -> Outcome:
    """The hand-written backpropagation of `gradient_norm_study` against torch autograd, on a
    small configuration and on the one `residual_derivation` displays (the defaults)."""
    torch = torch_or_none()
    if torch is None:  # pragma: no cover
        return _no_torch()
    worst, cases = 0.0, 0
    for depth, width, scale, seed in ((12, 16, 0.8, 3), (50, 64, 0.8, 0)):
        study = gradient_norm_study(depth, width, scale, seed)
        rng = np.random.default_rng(seed)
        weights = torch.tensor(rng.standard_normal((depth, width, width)) * scale / np.sqrt(width))
        x = torch.tensor(rng.standard_normal(width), requires_grad=True)
        u = rng.standard_normal(width)
        u = torch.tensor(u / np.linalg.norm(u))
        for kind in ("plain", "residual"):
            xs, h = [], x
            for w in weights:
                h.retain_grad()
                xs.append(h)
                h = torch.tanh(w @ h) + (h if kind == "residual" else 0)
            h.retain_grad()
            xs.append(h)
            (u @ h).backward()
            norms = [float(v.grad.norm()) for v in xs]
            worst = max(worst, discrepancy(np.array(norms), np.array(study[kind])))
            x.grad = None
            cases += depth + 1
    detail = "gradient norms per layer, float64 autograd, depth 12 width 16 and depth 50 width 64"
    return Outcome(cases, worst, worst < 1e-12, detail)


def stack_chain_rule(n: int, blocks: int, residual: bool = True) -> bool:
    """Whether the Jacobian of `blocks` stacked layers $x_{\\ell+1} = x_\\ell + F_\\ell(x_\\ell)$
    (or, `residual=False`, $F_\\ell(x_\\ell)$) on $n$ variables is the ordered product
    $\\prod_{\\ell = L-1}^{0} (I + J_\\ell)$ (or $\\prod J_\\ell$), $J_\\ell$ the Jacobian of
    the undefined (arbitrary differentiable) $F_\\ell$ at $x_\\ell$."""
    xs = sympy.symbols(f"x1:{n + 1}")
    us = sympy.symbols(f"u1:{n + 1}")
    x, product = list(xs), sympy.eye(n)
    for layer in range(blocks):
        fs = [sympy.Function(f"F_{layer}_{i + 1}")(*us) for i in range(n)]
        at = dict(zip(us, x, strict=True))
        jac_l = sympy.Matrix(fs).jacobian(us).subs(at)
        product = ((sympy.eye(n) + jac_l) if residual else jac_l) * product
        x = [(xi if residual else 0) + f.subs(at) for xi, f in zip(x, fs, strict=True)]
    diff = (sympy.Matrix(x).jacobian(xs) - product).doit()
    # expand decides when the entries cancel term by term (they do); simplify only otherwise
    return all(sympy.expand(e) == 0 or sympy.simplify(e) == 0 for e in diff)


def residual_derivation() -> Derivation:
    r"""The gradient through a residual block: $\partial L/\partial x = \partial L/\partial y
    \,(I + \partial F/\partial x)$, and the gradient norm per depth, plain vs residual.

    Checks: the chain rule for arbitrary differentiable $F$ and $L$ (undefined SymPy functions,
    $n = 1..3$), the Jacobian of a stack of blocks as the ordered product of theirs, against
    torch autograd on a conv-ReLU-conv branch, and the study's hand-written backpropagation
    against autograd (on the displayed configuration too).
    """
    n = sympy.Symbol("n", integer=True, positive=True)
    eye = sympy.Identity(n)
    d = Derivation("Backpropagation through a residual block y = x + F(x)")
    d.add_step(
        "The block",
        sympy.Eq(sympy.Symbol("y"), sympy.Symbol("x") + sympy.Function("F")(sympy.Symbol("x"))),
        "ResNet's identity shortcut: the layers learn the residual F",
        definition=True,
    )
    jac = residual_chain_rule(2).jacobian
    d.add_step(
        "Its Jacobian (n = 2)",
        sympy.Eq(sympy.MatrixSymbol("J_y", 2, 2), jac),
        "J_y = dy/dx: the identity plus the branch's Jacobian",
        by="dy/dx = I + dF/dx",
    )
    d.add_step(
        "Chain rule",
        sympy.Eq(
            sympy.MatrixSymbol("g_x", 1, n),
            sympy.MatMul(sympy.MatrixSymbol("g_y", 1, n), eye + sympy.MatrixSymbol("J_F", n, n)),
        ),
        "g_v = dL/dv a row, J_F = dF/dx: the upstream gradient reaches x unchanged through the "
        "shortcut, plus the branch's part",
        by=("dL/dx = dL/dy (I + dF/dx)", "against torch autograd"),
    )
    js = [sympy.MatrixSymbol(f"J_{i}", n, n) for i in range(3)]
    d.add_step(
        "Through L = 3 blocks, residual (g) and plain (h)",
        sympy.Tuple(
            sympy.Eq(
                sympy.MatrixSymbol("g_0", 1, n),
                sympy.MatMul(sympy.MatrixSymbol("g_3", 1, n), *(eye + j for j in js[::-1])),
            ),
            sympy.Eq(
                sympy.MatrixSymbol("h_0", 1, n),
                sympy.MatMul(sympy.MatrixSymbol("h_3", 1, n), *js[::-1]),
            ),
        ),
        "x_(l+1) = x_l + F_l(x_l) or F_l(x_l), J_l = dF_l/dx at x_l, and so for any L: a plain "
        "stack multiplies Jacobians whose norms below 1 shrink the gradient geometrically; the "
        "identity term keeps a path along which nothing is multiplied",
        by=("Jacobian of a stack", "gradient-norm study against torch autograd"),
    )
    study = gradient_norm_study()
    d.add_step(
        "Numeric study (50 tanh layers of width 64, W ~ N(0, 0.64/64))",
        sympy.Tuple(
            sympy.Eq(sympy.Abs(sympy.Symbol("g_0")), sympy.Float(study["residual"][0], 3)),
            sympy.Eq(sympy.Abs(sympy.Symbol("h_0")), sympy.Float(study["plain"][0], 3)),
        ),
        "the gradient norm at the input, residual (g) and plain (h), for a unit gradient at "
        "the output",
        by="gradient-norm study against torch autograd",
    )
    d.results.update(study=study, jacobian=jac)

    def general() -> Outcome:
        ok = all(residual_chain_rule(n).holds for n in (1, 2, 3))
        return Outcome(3, 0.0 if ok else 1.0, ok, "undefined L and F_i, every x_j, n = 1, 2, 3")

    def jacobian() -> Outcome:
        ok = True
        for size in (1, 2, 3):
            xs = sympy.symbols(f"x1:{size + 1}")
            fs = sympy.Matrix([sympy.Function(f"F_{i + 1}")(*xs) for i in range(size)])
            want = sympy.eye(size) + fs.jacobian(xs)
            got = residual_chain_rule(size).jacobian
            ok &= sympy.simplify(got - want) == sympy.zeros(size)
        ok &= sympy.simplify(jac - residual_chain_rule(2).jacobian) == sympy.zeros(2)
        return Outcome(3, 0.0 if ok else 1.0, ok, "y = x + F(x), undefined F_i, n = 1, 2, 3")

    def stack() -> Outcome:
        cases = [(n, blocks, res) for n, blocks in ((1, 2), (1, 3), (2, 2)) for res in (1, 0)]
        ok = all(stack_chain_rule(n, blocks, bool(res)) for n, blocks, res in cases)
        detail = "undefined F_l, residual and plain, (n, L) = (1, 2), (1, 3), (2, 2)"
        return Outcome(len(cases), 0.0 if ok else 1.0, ok, detail)

    d.check("dL/dx = dL/dy (I + dF/dx)", "general", general)
    d.check("dy/dx = I + dF/dx", "general", jacobian)
    d.check("Jacobian of a stack = ordered product of the blocks' Jacobians", "general", stack)
    d.check("against torch autograd", "numeric", _residual_block_torch)
    d.check("gradient-norm study against torch autograd", "numeric", _study_against_torch)
    return d
