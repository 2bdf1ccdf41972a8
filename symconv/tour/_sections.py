"""The tour's sections: each computed by the engine when the tour runs (nothing is printed
from a template), in print order (`plan`). The torch work they need is handed to `submit`
(`symconv.tour._torch`); the rest is SymPy, here.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from ..arch import get
from ..arith import lecture_formula_derivation
from ..backprop import backprop
from ..equivariance import equivariance
from ..spec import Conv, Pool
from ..toeplitz import structure, toeplitz, toeplitz_numeric
from ._torch import torch_conv

__all__ = ["Pending", "Submit", "plan"]

# what `submit(fn, *args)` returns: a Future of another process, or a call made here when its
# result is asked for (`symconv.tour._Now`)
Submit = Callable[..., Any]


def _derivation() -> dict[str, Any]:
    d = lecture_formula_derivation()
    cert = d.verify()
    return {"title": d.title, "text": d.text() + "\n\n" + cert.text(), "passed": cert.passed}


def _arithmetic() -> dict[str, Any]:
    lines = []
    for stride in (1, 2, 3):
        spec = Conv(kernel_size=3, stride=stride)
        fit = spec.fits(7)
        note = "" if fit.exact else f"  (doesn't fit: {fit.unused[0]} column(s) never read)"
        lines.append(
            f"7x7 input, 3x3 filter, stride {stride}: output "
            f"{'x'.join(map(str, spec.output_size(7)))}{note}"
        )
    conv = Conv(in_channels=3, out_channels=10, kernel_size=5, padding=2)
    lines.append(
        f"32x32x3 input, 10 5x5 filters, stride 1, pad 2: output "
        f"{'x'.join(map(str, conv.output_size(32)))}x10, {conv.num_parameters()} parameters"
    )
    alex = Conv(in_channels=3, out_channels=96, kernel_size=11, stride=4)
    pool = Pool(kind="max", kernel_size=3, stride=2)
    (o,) = set(alex.output_size(227))
    lines.append(
        f"AlexNet CONV1 on 227x227x3: {o}x{o}x96, {alex.num_parameters():,} parameters; "
        f"POOL1 -> {pool.output_size(o)[0]}"
    )
    return {
        "title": "Convolution arithmetic (the lectures' examples)",
        "text": "\n".join(lines),
        "passed": True,
    }


def _matrix(submit: Submit) -> Pending:
    import numpy as np

    spec = Conv(dims=1, kernel_size=3)
    T = toeplitz(spec, 5)
    lines = [
        "The lectures' x in R^5, w in R^3 (valid): y = T x with",
        _pretty(T),
        f"structure: {structure(spec, 5)}",
    ]
    big = Conv(
        dims=2,
        in_channels=2,
        out_channels=3,
        kernel_size=3,
        stride=2,
        padding=1,
        padding_mode="reflect",
    )
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 9, 9)), rng.standard_normal(big.weight_shape)
    y = toeplitz_numeric(big, (9, 9), w) @ x.reshape(-1)

    def finish(ref: np.ndarray | None) -> dict[str, Any]:
        passed = True
        if ref is not None:
            err = float(np.max(np.abs(y - ref.reshape(-1))))
            passed = err < 1e-10
            lines.append(
                f"{big}: T x (from the index form) vs torch.nn.functional.conv2d, "
                f"float64: max difference {err:.1e}"
            )
        else:  # pragma: no cover - torch is optional
            lines.append("(torch not installed: comparison skipped)")
        return {"title": "Convolution as a matrix", "text": "\n".join(lines), "passed": passed}

    return Pending((submit(torch_conv, big, x[None], w),), finish)


def _backprop() -> dict[str, Any]:
    d = backprop(Conv(dims=1, kernel_size=3, stride=2, padding=1))
    cert = d.verify()
    steps = "\n".join(f"{n}. {s.title}: {s.justification}" for n, s in enumerate(d.steps, 1))
    return {"title": d.title, "text": steps + "\n\n" + cert.text(), "passed": cert.passed}


def _equivariance(executor: Executor | None = None) -> dict[str, Any]:
    """Three paddings under a shift and a rotation; their torch checks run on `executor`."""
    lines, passed = [], True
    for mode in ("zeros", "reflect", "circular"):
        e = equivariance(Conv(dims=1, kernel_size=3, padding=1, padding_mode=mode), 8, shift=1)
        where = "every output" if e.exact else f"all but outputs {[o[0] for o in e.broken]}"
        lines.append(f"3-tap conv, {mode} padding, input 8, shift 1: equivariant at {where}")
        passed &= e.verify(executor=executor).passed
    rot = equivariance(Conv(dims=2, kernel_size=3, padding=1), 5, transform="rot90")
    passed &= rot.verify(executor=executor).passed
    lines.append(
        f"rot90: exact only if the kernel is rot90-symmetric ({len(rot.condition)} "
        f"conditions, e.g. {rot.condition[0]})"
    )
    return {
        "title": "Translation equivariance, derived",
        "text": "\n".join(lines),
        "passed": passed,
    }


def _pretty(matrix: Any) -> str:
    import sympy

    return sympy.pretty(matrix, use_unicode=False)


def _table() -> dict[str, Any]:
    t = get("vgg16").table()
    return {"title": "VGG16, layer by layer (symconv arch vgg16)", "text": t.text(), "passed": True}


class Pending:
    """A section computed here up to what `futures` (of other processes) still compute:
    `finish` turns their results into the section's result."""

    def __init__(self, futures: tuple[Any, ...], finish: Callable[..., dict[str, Any]]) -> None:
        self.futures, self.finish = futures, finish

    def done(self) -> bool:
        return all(f.done() for f in self.futures)

    def result(self) -> dict[str, Any]:
        return self.finish(*(f.result() for f in self.futures))


def _ready(result: dict[str, Any]) -> Pending:
    return Pending((), lambda: result)


def _waiting(future: Future[Any] | Any) -> Pending:
    return Pending((future,), lambda result: result)


def plan(
    compared: Any, submit: Submit, torch: Executor | None = None, sympy: Submit | None = None
) -> list[Callable[[], Pending]]:
    """The tour's sections in print order; each starts when called and returns a `Pending`.

    `compared`: the generated kernels against torch (`_torch.kernels`, submitted first);
    `submit` runs torch work, `torch` is its worker (the equivariance derivations' numeric
    checks run there); `sympy` runs the backpropagation derivation in another process
    (submitted now), or None: here.
    """
    backprop_section = sympy(_backprop) if sympy is not None else None
    return [
        lambda: _ready(_derivation()),
        lambda: _ready(_arithmetic()),
        lambda: _matrix(submit),
        lambda: _waiting(backprop_section) if backprop_section else _ready(_backprop()),
        lambda: _ready(_equivariance(torch)),
        lambda: _waiting(compared),
        lambda: _ready(_table()),
    ]
