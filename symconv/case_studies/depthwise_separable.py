r"""The depthwise-separable convolution (MobileNet): a depthwise $k \times k$ conv then a
pointwise 1x1 conv costs $1/C_\mathrm{out} + 1/k^2$ of a full conv:
`depthwise_separable_derivation`.
"""

from __future__ import annotations

import itertools

import sympy

from .. import arch
from .._subs import at as _at
from .._torchref import torch_or_none
from ..derivation import Derivation, Outcome, discrepancy, grid_check
from ..spec import Conv
from ._common import C_IN, C_OUT, H, K, W, _no_torch


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
            at = {C_IN: ci, K: k}
            lhs = _at(pair, at).doit()
            rhs = _at(
                _at(as_one, at).doit(),
                {kernel[n, m_, a, b]: p[n, m_] * dk[m_, a, b]
                 for m_ in range(ci) for a in range(k) for b in range(k)}
            )  # fmt: skip
            return 0.0 if sympy.expand(lhs - rhs) == 0 else 1.0

        return grid_check(list(itertools.product((1, 2, 3), (1, 2, 3))), err)

    def table() -> Outcome:
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
