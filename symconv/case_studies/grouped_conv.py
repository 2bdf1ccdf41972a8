r"""The grouped convolution (AlexNet's two towers, ResNeXt's cardinality): $g$ groups divide a
conv's weights by $g$, its weight matrix is block diagonal: `grouped_conv_derivation`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy

from .. import arch
from .._subs import at as _at
from .._torchref import torch_or_none
from ..derivation import Derivation, Outcome, discrepancy, grid_check
from ..spec import Conv
from ._common import C_IN, C_OUT, G, K, _no_torch


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
                value = _at(block, at)
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
