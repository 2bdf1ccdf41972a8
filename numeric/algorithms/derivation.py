"""The cost model's check: each algorithm's GEMM formula against the operations its printed
NumPy kernels issue (`cost_derivation`, `symconv derive algorithm-costs`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy

from symconv.derivation import Derivation, Outcome
from symconv.spec import Conv

from .. import _ops
from .._generated import numpy_conv, numpy_fft, numpy_shifted, numpy_winograd
from .._parallel import set_num_threads
from .cost_model import _S, _formula, _values, cost_formulas
from .rules import WINOGRAD_M, supported

# The layers the cost derivation counts on: 1-3 d, strides, dilations, groups, depthwise,
# few channels (shift-adds), padding that crops; each with its input size and batch.
_COUNTED = (
    (dict(dims=1, in_channels=3, out_channels=4, kernel_size=3, padding=1), (11,), 2),
    (dict(dims=1, in_channels=4, out_channels=6, kernel_size=4, stride=2, groups=2), (13,), 3),
    (dict(dims=2, in_channels=3, out_channels=5, kernel_size=3, padding=1), (9, 7), 2),
    (
        dict(dims=2, in_channels=8, out_channels=8, kernel_size=3, padding=2, dilation=2),
        (10, 10),
        1,
    ),
    (dict(dims=2, in_channels=6, out_channels=6, kernel_size=3, padding=1, groups=6), (8, 8), 2),
    (dict(dims=2, in_channels=4, out_channels=8, kernel_size=(3, 3), groups=2), (9, 12), 2),
    (dict(dims=2, in_channels=1, out_channels=2, kernel_size=5, padding=2), (8, 8), 3),
    (dict(dims=2, in_channels=3, out_channels=4, kernel_size=(2, 3), stride=(2, 1)), (9, 8), 2),
    (dict(dims=3, in_channels=2, out_channels=3, kernel_size=3, padding=1), (5, 4, 6), 1),
    (
        dict(
            dims=2, in_channels=3, out_channels=8, kernel_size=3, padding=1, padding_mode="reflect"
        ),
        (9, 16),
        2,
    ),
    (
        dict(
            dims=1, in_channels=2, out_channels=2, kernel_size=5, padding=2, padding_mode="circular"
        ),
        (12,),
        2,
    ),
)
# what each algorithm's `gemm` counts, as issued by its printed NumPy kernels
_GEMM_COUNTED = {
    "direct": "im2col's GEMMs, W (C_out/G x C_in/G k) by the columns, per group and tile",
    "winograd": "the channel products U V, one per tile position and group (its transforms, "
    "two GEMMs of a 6 x 6 matrix each, are priced as memory)",
    "shifted": "one GEMM per tap and group on a shifted view, Q rows per sample",
    "fft": "the complex channel products per frequency, 8 real operations per multiply-add",
}


def _issued_flops(module: Any, run: Any, transforms: bool) -> float:
    """The floating-point operations of every `_matmul` the generated `module` issues during
    `run()`: 2 per real multiply-add, 8 per complex one; with `transforms`, GEMMs with a 2-d
    operand (Winograd's 6 x 6 and 4 x 6 transform matrices) are left out. The module's
    `_matmul` is wrapped for the call."""
    counted: list[int] = []
    original = module._matmul

    def _matmul(a: Any, b: Any, out: Any) -> Any:
        if not (transforms and 2 in (a.ndim, b.ndim)):
            batch = math.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
            per = 8 if np.iscomplexobj(a) or np.iscomplexobj(b) else 2
            counted.append(per * batch * a.shape[-2] * a.shape[-1] * b.shape[-1])
        return original(a, b, out)

    module._matmul = _matmul
    try:
        run()
    finally:
        module._matmul = original
    return float(sum(counted))


def cost_derivation(formulas: dict[str, dict[str, sympy.Expr]] | None = None) -> Any:
    r"""The cost model of "auto" as a derivation: each algorithm's GEMM work as a SymPy
    expression of the layer, checked exactly against the operations its printed NumPy kernels
    issue (every `_matmul` counted while the forward pass runs) on layers in 1-3 d with
    strides, dilations, groups, depthwise and few-channel layers; the memory terms are stated
    as they are priced (constants fitted with `bench/calibrate.py`, not derived). `formulas`
    replaces `cost_formulas()` (a wrong formula fails the check).

    ```python
    >>> from numeric.algorithms import cost_derivation
    >>> cost_derivation().verify().passed
    True

    ```
    """
    formulas = cost_formulas() if formulas is None else formulas
    d = Derivation('Cost model of algorithm="auto": the work each algorithm issues')
    for name, why in _GEMM_COUNTED.items():
        work = sympy.Eq(sympy.Symbol(f"W_{name}"), formulas[name]["gemm"])
        d.add_step(f"{name}: GEMM operations", work, why, by=_COUNTED_CHECK)
    for name in ("direct-depthwise", "shifted-rows"):
        work = sympy.Eq(sympy.Symbol(f"W_{name}"), formulas[name]["gemm"])
        d.add_step(
            f"{name}: GEMM operations",
            work,
            "element-wise passes, no GEMM: counted",
            by=_COUNTED_CHECK,
        )
    work = sympy.Eq(sympy.Symbol("W_separable"), formulas["separable"]["gemm"])
    d.add_step(
        "separable: GEMM operations",
        work,
        "its row pass is a thin batched GEMM over kw taps, priced with the column pass as "
        "memory (fitted, not counted: the only GEMM term the check below leaves out)",
        definition=True,
    )
    for name, f in formulas.items():
        moved = sympy.Eq(sympy.Symbol(f"M_{name}"), f["memory"])
        d.add_step(
            f"{name}: elements moved",
            moved,
            "the model's memory term, constants fitted to this machine",
            definition=True,
        )
    modules = {"direct": numpy_conv, "winograd": numpy_winograd}
    modules.update(shifted=numpy_shifted, fft=numpy_fft)

    def check() -> Outcome:
        rng = np.random.default_rng(0)
        cases, worst, seen = 0, 0.0, set()
        old = set_num_threads(1)  # one batch part: H = 1
        try:
            for fields, size, batch in _COUNTED:
                spec = Conv(**fields)
                x = rng.standard_normal((batch, spec.in_channels, *size))
                w = rng.standard_normal(spec.weight_shape)
                subs = {_S[k]: v for k, v in _values(spec, size, batch, WINOGRAD_M).items()}
                for name, module in modules.items():
                    if supported(spec, name, "forward") is not None:
                        continue
                    formula = _formula(spec, name, "forward")
                    want = float(formulas[formula]["gemm"].xreplace(subs))
                    args = (spec.dims, f"conv{spec.dims}d", x, w, None, spec.stride, spec.pads)
                    rest = (spec.dilation, spec.groups, spec.padding_mode, False, name, WINOGRAD_M)
                    got = _issued_flops(
                        module, lambda a=args, r=rest: _ops.conv(*a, *r), name == "winograd"
                    )
                    worst = max(worst, abs(got - want) / max(1.0, want))
                    cases += 1
                    seen.add(formula)
        finally:
            set_num_threads(old)
        return Outcome(
            cases, worst, worst == 0.0, f"relative error; formulas {', '.join(sorted(seen))}"
        )

    d.check(_COUNTED_CHECK, "exact", check)
    return d


_COUNTED_CHECK = "gemm formula = operations the printed NumPy kernels issue"
