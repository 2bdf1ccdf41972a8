r"""What the lectures' case studies teach, derived and certified.

- `residual_derivation`: the gradient through a residual block $y = x + F(x)$ is
  $\partial L/\partial x = \partial L/\partial y\,(I + \partial F/\partial x)$, and
  `gradient_norm_study` makes the lecture's point concrete: the gradient through a deep plain
  stack is a product of Jacobians that shrinks geometrically, through residual blocks a product
  of $(I + J_\ell)$ that does not.
- `bottleneck_derivation`: a 1x1 convolution is a per-pixel linear map of the channels; the
  bottleneck (1x1 reduce, 3x3, 1x1 restore) costs $2Cb + 9b^2$ weights against $9C^2$.
- `depthwise_separable_derivation`: a depthwise $k \times k$ conv then a pointwise 1x1 conv
  costs $1/C_\mathrm{out} + 1/k^2$ of a full conv (MobileNet).
- `grouped_conv_derivation`: $g$ groups divide a conv's weights by $g$ (AlexNet's two
  towers, ResNeXt's cardinality): its weight matrix is block diagonal.

Every count is checked against the layer specs (`Conv.num_parameters`, `Conv.macs`) and the
shipped architecture tables; the numeric checks run torch (float64) when it is installed.

```python
>>> from symconv.case_studies import depthwise_separable_derivation
>>> d = depthwise_separable_derivation()
>>> d["ratio"]   # 1/C_out + 1/k^2
k**(-2) + 1/C_out
>>> d.verify().passed
True

```
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import sympy

from ._results import ChainRule
from ._subs import at as _at
from ._torchref import torch_or_none
from .derivation import Derivation, Outcome, discrepancy, grid_check
from .spec import Conv

__all__ = [
    "bottleneck_derivation",
    "depthwise_separable_derivation",
    "gradient_norm_study",
    "grouped_conv_derivation",
    "residual_derivation",
]

K, C, B, C_IN, C_OUT, G, H, W = sympy.symbols("k C b C_in C_out g H W", integer=True, positive=True)


def _no_torch() -> Outcome:  # pragma: no cover - torch is optional
    return Outcome(0, 0.0, True, "torch not installed: not checked")


# -- residual blocks -------------------------------------------------------------------------
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


# -- 1x1 convolutions and the bottleneck ---------------------------------------------------------
def bottleneck_derivation() -> Derivation:
    r"""A 1x1 convolution and the bottleneck's saving.

    A 1x1 conv maps the $C_\mathrm{in}$ values at each pixel to $C_\mathrm{out}$: $C_\mathrm{in}
    C_\mathrm{out}$ weights, $HW C_\mathrm{in} C_\mathrm{out}$ MACs. Two 3x3 convs at $C$
    channels cost $18C^2$ weights; ResNet's bottleneck (1x1 to $b$, 3x3 at $b$, 1x1 back to
    $C$) $2Cb + 9b^2$, with $b = C/4$: $17C^2/16$. Checks: the closed forms (general), each
    count against `Conv.num_parameters` and `Conv.macs` on a grid and against ResNet-50's and
    ResNet-34's tables (exact).
    """
    d = Derivation("The 1x1 convolution and the bottleneck block")
    one = C_IN * C_OUT
    layers = "each count against Conv.num_parameters and Conv.macs"
    block = "the bottleneck against Conv.num_parameters and Conv.macs"
    d.add_step("1x1 conv: weights", sympy.Eq(sympy.Symbol("P_{1x1}"), one),
               "a C_in -> C_out linear map shared by every pixel", by=layers)  # fmt: skip
    d.add_step("1x1 conv: MACs on H x W", sympy.Eq(sympy.Symbol("M_{1x1}"), H * W * one),
               "one multiply-add per weight per pixel", by=(layers, block))  # fmt: skip
    plain = 2 * 9 * C**2
    bottle = C * B + 9 * B**2 + B * C
    d.add_step("Two 3x3 convs at C channels", sympy.Eq(sympy.Symbol("P_{basic}"), plain),
               "ResNet-18/34's basic block", by=(layers, "against the ResNet tables"))  # fmt: skip
    d.add_step("Bottleneck: 1x1 to b, 3x3 at b, 1x1 to C", sympy.Eq(sympy.Symbol("P_{bottleneck}"),
               bottle), "ResNet-50/101/152's block, b the bottleneck width",
               by=(block, "against the ResNet tables"))  # fmt: skip
    quarter = sympy.factor(bottle.subs(B, C / 4))
    ratio = sympy.simplify(quarter / plain)
    d.add_step("With b = C/4", sympy.Eq(sympy.Symbol("P_{bottleneck}"), quarter),
               f"{ratio} of the basic block's weights at the same width C",
               by="closed forms")  # fmt: skip
    resnet = {"C": 256, "b": 64, "bottleneck": int(bottle.subs({C: 256, B: 64}))}
    resnet["basic"] = int(plain.subs(C, 256))
    times = resnet["basic"] / resnet["bottleneck"]
    d.add_step(
        "ResNet-50's first stage (C = 256, b = 64)",
        sympy.Tuple(
            sympy.Eq(sympy.Symbol("P_{bottleneck}"), resnet["bottleneck"]),
            sympy.Eq(sympy.Symbol("P_{basic}"), resnet["basic"]),
        ),
        f"a 3x3 pair at 256 channels would cost {times:.1f} times as many weights (288/17)",
        by=("closed forms", "against the ResNet tables"),
    )
    d.results.update(bottleneck=bottle, basic=plain, ratio=ratio, resnet50=resnet)

    def general() -> Outcome:
        ok = sympy.simplify(quarter - sympy.Rational(17, 16) * C**2) == 0
        ok &= sympy.simplify(ratio - sympy.Rational(17, 288)) == 0
        ok &= sympy.Rational(resnet["basic"], resnet["bottleneck"]) == sympy.Rational(288, 17)
        return Outcome(3, 0.0 if ok else 1.0, ok, "closed forms for b = C/4, and at C = 256")

    def grid() -> Outcome:
        def err(case: tuple[int, int, int]) -> float:
            c, b, size = case
            convs = [
                Conv(in_channels=i, out_channels=o, kernel_size=k, padding=k // 2, bias=False)
                for i, o, k in ((c, b, 1), (b, b, 3), (b, c, 1))
            ]
            want = int(_at(bottle, {C: c, B: b}))
            e = abs(sum(s.num_parameters() for s in convs) - want)
            e += abs(sum(s.macs((size, size)) for s in convs) - size * size * want)
            one_macs = int(_at(H * W * one, {H: size, W: size, C_IN: c, C_OUT: b}))
            return e + abs(convs[0].macs((size, size)) - one_macs)

        return grid_check(list(itertools.product((4, 16, 64, 256), (1, 4, 64), (1, 7))), err)

    def each() -> Outcome:
        def err(case: tuple[int, int, int, int]) -> float:
            ci, co, h, w = case
            pointwise = Conv(in_channels=ci, out_channels=co, kernel_size=1, bias=False)
            pair = Conv(in_channels=ci, out_channels=ci, kernel_size=3, padding=1, bias=False)
            at = {C_IN: ci, C_OUT: co, H: h, W: w, C: ci}
            e = abs(pointwise.num_parameters() - int(_at(one, at)))
            e += abs(pointwise.macs((h, w)) - int(_at(H * W * one, at)))
            return e + abs(2 * pair.num_parameters() - int(_at(plain, at)))

        cases = list(itertools.product((1, 3, 64), (1, 5, 256), (1, 4), (2, 7)))
        return grid_check(cases, err)

    def tables() -> Outcome:
        from . import arch

        r50, r34 = arch.get("resnet50").table(), arch.get("resnet34").table()
        got = sum(r50.row(f"layer1.1.conv{i}").parameters for i in (1, 2, 3))
        e = abs(got - resnet["bottleneck"])
        for stage, c in ((3, 256), (4, 512)):
            basic = sum(r34.row(f"layer{stage}.1.conv{i}").parameters for i in (1, 2))
            e += abs(basic - int(plain.subs(C, c)))
        return Outcome(
            3,
            float(e),
            e == 0,
            "resnet50 layer1.1 (C = 256, b = 64), resnet34 layer3.1 (C = 256), layer4.1 (C = 512)",
        )

    d.check("closed forms", "general", general)
    d.check(block, "exact", grid)
    d.check(layers, "exact", each)
    d.check("against the ResNet tables", "exact", tables)
    return d


# -- depthwise-separable convolution -------------------------------------------------------------
def depthwise_separable_derivation() -> Derivation:
    r"""MobileNet's factorisation: a depthwise $k \times k$ conv (one filter per input channel,
    `groups` = $C_\mathrm{in}$) then a pointwise 1x1 conv costs
    $k^2 C_\mathrm{in} HW + C_\mathrm{in} C_\mathrm{out} HW$ MACs against
    $k^2 C_\mathrm{in} C_\mathrm{out} HW$: the ratio $1/C_\mathrm{out} + 1/k^2$ (weights: the
    same ratio). The pair equals one full conv whose kernel is the rank-structured
    $W_{nmij} = P_{nm} D_{mij}$ (checked exactly on small sizes and against torch).
    """
    d = Derivation("Depthwise-separable convolution: cost ratio 1/C_out + 1/k^2")
    full = K**2 * C_IN * C_OUT * H * W
    dw, pw = K**2 * C_IN * H * W, C_IN * C_OUT * H * W
    each = "each count against Conv.macs"
    d.add_step("Full conv, MACs (stride 1, 'same')", sympy.Eq(sympy.Symbol("M_{full}"), full),
               "every output sees k^2 C_in inputs", by=each)  # fmt: skip
    d.add_step("Depthwise conv", sympy.Eq(sympy.Symbol("M_{dw}"), dw),
               "one k x k filter per input channel (groups = C_in)", by=each)  # fmt: skip
    d.add_step("Pointwise 1x1 conv", sympy.Eq(sympy.Symbol("M_{pw}"), pw),
               "mixes the channels", by=each)  # fmt: skip
    ratio = sympy.expand(sympy.cancel((dw + pw) / full))
    d.add_step("Ratio", sympy.Eq(sympy.Symbol("(M_{dw} + M_{pw})/M_{full}"), ratio),
               "the same for the weights (drop H W)",
               by=("ratio = 1/C_out + 1/k^2", "against Conv.macs and Conv.num_parameters",
                   "against MobileNet v1's table"))  # fmt: skip
    x, p, dk = sympy.IndexedBase("x"), sympy.IndexedBase("P"), sympy.IndexedBase("D")
    kernel = sympy.IndexedBase("W")
    n, m, i, j, r, s = sympy.symbols("n m i j r s", integer=True, nonnegative=True)
    window = ((i, 0, K - 1), (j, 0, K - 1))
    d.add_step(
        "The pair's kernel",
        sympy.Eq(kernel[n, m, i, j], p[n, m] * dk[m, i, j]),
        "P the pointwise weights, D the depthwise filters",
        definition=True,
    )
    pair = sympy.Sum(p[n, m] * sympy.Sum(dk[m, i, j] * x[m, r + i, s + j], *window),
                     (m, 0, C_IN - 1))  # fmt: skip
    as_one = sympy.Sum(kernel[n, m, i, j] * x[m, r + i, s + j], *window, (m, 0, C_IN - 1))
    d.add_step(
        "The pair as one conv",
        sympy.Eq(pair, as_one),
        "output channel n at (r, s), x the padded input: a full conv with the kernel W",
        by=("pair = one conv with W_nmij = P_nm D_mij (exact, C_in, k = 1..3)",
            "depthwise then pointwise = one conv with W_nm = P_nm D_m (torch)"),
    )  # fmt: skip
    mobilenet = ratio.subs({K: 3, C_OUT: 1024})
    d.add_step("MobileNet (k = 3, C_out = 1024)", sympy.Eq(sympy.Symbol("ratio"), mobilenet),
               f"{float(1 / mobilenet):.1f} times fewer MACs",
               by=("ratio = 1/C_out + 1/k^2", "against MobileNet v1's table"))  # fmt: skip
    d.results.update(ratio=ratio)

    def general() -> Outcome:
        ok = sympy.simplify(ratio - (1 / C_OUT + 1 / K**2)) == 0
        ok &= mobilenet == sympy.Rational(1, 1024) + sympy.Rational(1, 9)
        return Outcome(2, 0.0 if ok else 1.0, ok, "simplified symbolically; at k = 3, C_out = 1024")

    def grid() -> Outcome:
        def err(case: tuple[int, int, int, int]) -> float:
            ci, co, k, size = case
            full_c = Conv(in_channels=ci, out_channels=co, kernel_size=k, padding=k // 2,
                          bias=False)  # fmt: skip
            dw_c = Conv(in_channels=ci, out_channels=ci, kernel_size=k, padding=k // 2,
                        groups=ci, bias=False)  # fmt: skip
            pw_c = Conv(in_channels=ci, out_channels=co, kernel_size=1, bias=False)
            s = (size, size)
            got = sympy.Rational(dw_c.macs(s) + pw_c.macs(s), full_c.macs(s))
            got_p = sympy.Rational(dw_c.num_parameters() + pw_c.num_parameters(),
                                   full_c.num_parameters())  # fmt: skip
            want = _at(ratio, {C_OUT: co, K: k})
            return float(abs(got - want) + abs(got_p - want))

        cases = list(itertools.product((1, 3, 32), (1, 8, 64), (1, 3, 5), (1, 6)))
        return grid_check(cases, err)

    def counts() -> Outcome:
        def err(case: tuple[int, int, int, int, int]) -> float:
            ci, co, k, h, w = case
            specs = [
                Conv(in_channels=ci, out_channels=co, kernel_size=k, padding=k // 2, bias=False),
                Conv(in_channels=ci, out_channels=ci, kernel_size=k, padding=k // 2, groups=ci,
                     bias=False),
                Conv(in_channels=ci, out_channels=co, kernel_size=1, bias=False),
            ]  # fmt: skip
            at = {C_IN: ci, C_OUT: co, K: k, H: h, W: w}
            return sum(
                abs(c.macs((h, w)) - int(_at(f, at)))
                for c, f in zip(specs, (full, dw, pw), strict=True)
            )

        cases = list(itertools.product((1, 3, 32), (1, 8), (1, 3, 5), (1, 6), (2, 5)))
        return grid_check(cases, err)

    def pair_exact() -> Outcome:
        def err(case: tuple[int, int]) -> float:
            ci, k = case
            # xreplace, not subs: exact replacement of the symbols, no subs machinery
            at = {C_IN: sympy.Integer(ci), K: sympy.Integer(k)}
            lhs = pair.xreplace(at).doit()
            rhs = as_one.xreplace(at).doit().xreplace(
                {kernel[n, m_, a, b]: p[n, m_] * dk[m_, a, b]
                 for m_ in range(ci) for a in range(k) for b in range(k)}
            )  # fmt: skip
            return 0.0 if sympy.expand(lhs - rhs) == 0 else 1.0

        return grid_check(list(itertools.product((1, 2, 3), (1, 2, 3))), err)

    def table() -> Outcome:
        from . import arch

        t = arch.get("mobilenet_v1").table()
        worst = 0.0
        for i in range(1, 14):
            dw_r, pw_r = t.row(f"layer{i}.dw.0"), t.row(f"layer{i}.pw.0")
            ci, co = dw_r.shape[0], pw_r.shape[0]
            want = _at(ratio, {C_OUT: co, K: 3})
            got = sympy.Rational(dw_r.parameters + pw_r.parameters, 9 * ci * co)
            worst = max(worst, float(abs(got - want)))
        return Outcome(13, worst, worst == 0, "MobileNet v1's 13 depthwise-separable layers")

    def against_torch() -> Outcome:
        torch = torch_or_none()
        if torch is None:  # pragma: no cover
            return _no_torch()
        F = torch.nn.functional
        gen = torch.Generator().manual_seed(1)
        worst = 0.0
        for ci, co, k in ((3, 5, 3), (4, 2, 5)):
            x = torch.randn(1, ci, 9, 9, generator=gen, dtype=torch.float64)
            depth = torch.randn(ci, 1, k, k, generator=gen, dtype=torch.float64)
            point = torch.randn(co, ci, 1, 1, generator=gen, dtype=torch.float64)
            pair = F.conv2d(F.conv2d(x, depth, padding=k // 2, groups=ci), point)
            kernel = point[:, :, 0, 0, None, None] * depth[None, :, 0]  # W_nm = P_nm D_m
            one = F.conv2d(x, kernel, padding=k // 2)
            worst = max(worst, discrepancy(pair.numpy(), one.numpy()))
        return Outcome(2, worst, worst < 1e-10, "float64")

    d.check("ratio = 1/C_out + 1/k^2", "general", general)
    d.check("against Conv.macs and Conv.num_parameters", "exact", grid)
    d.check(each, "exact", counts)
    d.check("pair = one conv with W_nmij = P_nm D_mij (exact, C_in, k = 1..3)", "exact",
            pair_exact)  # fmt: skip
    d.check("against MobileNet v1's table", "exact", table)
    d.check("depthwise then pointwise = one conv with W_nm = P_nm D_m (torch)", "numeric",
            against_torch)  # fmt: skip
    return d


# -- grouped convolution -------------------------------------------------------------------------
def grouped_conv_derivation() -> Derivation:
    r"""Grouped convolution: with $g$ groups each output channel sees $C_\mathrm{in}/g$ input
    channels, so the weights number $k^2 C_\mathrm{in} C_\mathrm{out}/g$ (plus $C_\mathrm{out}$
    biases): $1/g$ of the dense conv. The channel-mixing matrix is block diagonal ($g$ blocks),
    so a grouped conv equals a dense conv whose kernel is zero off the diagonal blocks.
    """
    d = Derivation("Grouped convolution: parameters k^2 C_in C_out / g + C_out")
    grouped = K**2 * (C_IN / G) * C_OUT + C_OUT
    count = "against Conv.num_parameters"
    d.add_step("Weights per output channel", sympy.Eq(sympy.Symbol("w"), K**2 * C_IN / G),
               "a k x k window over its group's C_in/g channels",
               by="weights per output channel against Conv.weight_shape")  # fmt: skip
    d.add_step("Parameters", sympy.Eq(sympy.Symbol("P_g"), grouped), "plus one bias per output",
               by=(count, "against the ResNeXt, AlexNet and MobileNetV2 tables"))  # fmt: skip
    dense = K**2 * C_IN * C_OUT
    d.add_step("Against the dense conv (weights)", sympy.Eq(sympy.Symbol("P_g/P_1"),
               sympy.simplify((grouped - C_OUT) / dense)), "g groups: g times fewer",
               by="P_g / P_1 = 1/g")  # fmt: skip
    resnext = grouped.subs({K: 3, C_IN: 128, C_OUT: 128, G: 32}) - 128
    d.add_step(
        "ResNeXt-50's 3x3 conv in its first stage (128 channels, g = 32)",
        sympy.Eq(sympy.Symbol("P"), resnext),
        f"no bias (batch norm follows); a dense 3x3 conv would have {9 * 128 * 128:,}",
        by="against the ResNeXt, AlexNet and MobileNetV2 tables",
    )
    w, dense_w = sympy.IndexedBase("w"), sympy.IndexedBase(r"\bar{W}")
    n, m, i, j = sympy.symbols("n m i j", integer=True, nonnegative=True)
    same_group = sympy.Eq(sympy.floor(n * G / C_OUT), sympy.floor(m * G / C_IN))
    # within n's group, input m is the group's channel m mod C_in/g
    block = sympy.Piecewise((w[n, sympy.Mod(m, C_IN / G), i, j], same_group), (0, True))
    same_group = block.args[0][1]  # as SymPy ordered it
    d.add_step(
        "As a dense conv: a block-diagonal kernel",
        sympy.Eq(dense_w[n, m, i, j], block),
        "w the grouped kernel (C_out x C_in/g x k x k): output n sees input m only within its "
        "group",
        by=("dense kernel = the grouped one on the diagonal blocks",
            "grouped = dense conv with a block-diagonal kernel (torch)"),
        keeps=[same_group],
    )  # fmt: skip
    d.results.update(parameters=grouped, dense_kernel=block)

    def blocks() -> Outcome:
        def err(case: tuple[int, int, int]) -> float:
            g, ci_g, co_g = case
            ci, co = g * ci_g, g * co_g
            weights = np.arange(1, co * ci_g + 1).reshape(co, ci_g)
            want = np.zeros((co, ci), dtype=int)
            for grp in range(g):  # group grp's outputs see group grp's inputs
                rows = slice(grp * co_g, (grp + 1) * co_g)
                want[rows, grp * ci_g : (grp + 1) * ci_g] = weights[rows]
            got = np.zeros((co, ci), dtype=int)
            for a, b in itertools.product(range(co), range(ci)):
                at = {G: g, C_IN: ci, C_OUT: co, n: a, m: b, i: 0, j: 0}
                # xreplace, not subs: integers for the symbols; floor, Mod, Piecewise evaluate
                value = block.xreplace({v: sympy.Integer(t) for v, t in at.items()})
                got[a, b] = 0 if value == 0 else weights[tuple(int(t) for t in value.indices[:2])]
            return discrepancy(got, want)

        return grid_check(list(itertools.product((1, 2, 3), (1, 2), (1, 3))), err)

    def per_output() -> Outcome:
        def err(case: tuple[int, int, int, int]) -> float:
            g, ci_g, co_g, k = case
            spec = Conv(in_channels=g * ci_g, out_channels=g * co_g, kernel_size=k, groups=g)
            want = _at(K**2 * C_IN / G, {K: k, C_IN: g * ci_g, G: g})
            return abs(math.prod(spec.weight_shape[1:]) - int(want))

        return grid_check(list(itertools.product((1, 2, 4, 32), (1, 3), (1, 2), (1, 3))), err)

    def general() -> Outcome:
        ok = sympy.simplify((grouped - C_OUT) / dense - 1 / G) == 0
        return Outcome(1, 0.0 if ok else 1.0, ok, "weights of g groups / dense weights = 1/g")

    def grid() -> Outcome:
        def err(case: tuple[int, int, int, int, bool]) -> float:
            g, ci_g, co_g, k, bias = case
            spec = Conv(in_channels=g * ci_g, out_channels=g * co_g, kernel_size=k, groups=g,
                        bias=bias)  # fmt: skip
            want = _at(grouped, {G: g, C_IN: g * ci_g, C_OUT: g * co_g, K: k})
            want -= 0 if bias else g * co_g
            return abs(spec.num_parameters() - int(want))

        cases = list(itertools.product((1, 2, 4, 32), (1, 3), (1, 2), (1, 3), (False, True)))
        return grid_check(cases, err)

    def tables() -> Outcome:
        from . import arch

        # (row, k, C_in, C_out, g, bias)
        rows = [
            (arch.get("resnext50_32x4d").table().row("layer1.0.conv2"), 3, 128, 128, 32, False),
            (arch.get("alexnet_grouped").table().row("conv2"), 5, 96, 256, 2, True),
            (arch.get("mobilenet_v2").table().row("features.2.conv.1.0"), 3, 96, 96, 96, False),
        ]
        e = 0
        for row, k, ci, co, g, bias in rows:
            want = int(_at(grouped, {K: k, C_IN: ci, C_OUT: co, G: g})) - (0 if bias else co)
            e += abs(row.parameters - want)
        detail = "resnext50 (g = 32), alexnet_grouped, mobilenet_v2"
        return Outcome(len(rows), float(e), e == 0, detail)

    def against_torch() -> Outcome:
        torch = torch_or_none()
        if torch is None:  # pragma: no cover
            return _no_torch()
        F = torch.nn.functional
        gen = torch.Generator().manual_seed(2)
        worst = 0.0
        for g, ci, co in ((2, 4, 6), (3, 3, 3)):
            x = torch.randn(1, ci, 7, 7, generator=gen, dtype=torch.float64)
            w = torch.randn(co, ci // g, 3, 3, generator=gen, dtype=torch.float64)
            dense = torch.zeros(co, ci, 3, 3, dtype=torch.float64)
            for j in range(g):  # block diagonal: group j's outputs see group j's inputs
                o, i = slice(j * co // g, (j + 1) * co // g), slice(j * ci // g, (j + 1) * ci // g)
                dense[o, i] = w[o]
            worst = max(worst, discrepancy(F.conv2d(x, w, groups=g).numpy(),
                                           F.conv2d(x, dense).numpy()))  # fmt: skip
        return Outcome(2, worst, worst < 1e-10, "float64")

    d.check("P_g / P_1 = 1/g", "general", general)
    d.check("weights per output channel against Conv.weight_shape", "exact", per_output)
    d.check(count, "exact", grid)
    d.check("against the ResNeXt, AlexNet and MobileNetV2 tables", "exact", tables)
    d.check("dense kernel = the grouped one on the diagonal blocks", "exact", blocks)
    d.check("grouped = dense conv with a block-diagonal kernel (torch)", "numeric", against_torch)
    return d
