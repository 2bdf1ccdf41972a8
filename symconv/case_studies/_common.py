"""What the case studies share: the SymPy symbols of their formulas and the outcome of a
torch check when torch is not installed."""

from __future__ import annotations

import sympy

from ..derivation import Outcome

K, C, B, C_IN, C_OUT, G, H, W = sympy.symbols("k C b C_in C_out g H W", integer=True, positive=True)


def _no_torch() -> Outcome:  # pragma: no cover - torch is optional
    return Outcome(0, 0.0, True, "torch not installed: not checked")
