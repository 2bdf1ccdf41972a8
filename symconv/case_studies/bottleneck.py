r"""The 1x1 convolution (a per-pixel linear map of the channels) and the bottleneck
(1x1 reduce, 3x3, 1x1 restore: $2Cb + 9b^2$ weights against $9C^2$): `bottleneck_derivation`.
"""

from __future__ import annotations

import itertools

import sympy

from .. import arch
from .._subs import at as _at
from ..derivation import Derivation, Outcome, grid_check
from ..spec import Conv
from ._common import C_IN, C_OUT, B, C, H, W


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
