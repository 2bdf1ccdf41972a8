"""`symconv tour`: the main job in one run — derivations, their verification, arithmetic, a table.

Each section is computed by the engine when the tour runs; nothing is printed from a template.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, cast

import numeric as nm
from numeric.algorithms import explain

from ._torchref import conv_reference, torch_or_none
from .arch import get
from .arith import lecture_formula_derivation
from .backprop import backprop
from .equivariance import equivariance
from .spec import Conv, Pool
from .toeplitz import structure, toeplitz, toeplitz_numeric

__all__ = ["tour"]


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


def _matrix(submit: _Submit) -> _Pending:
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

    return _Pending((submit(_torch_conv, big, x[None], w),), finish)


def _torch_conv(spec: Conv, x: Any, w: Any) -> Any:
    """torch's convolution of NumPy arrays, as a NumPy array (None without torch)."""
    if torch_or_none() is None:  # pragma: no cover - torch is optional
        return None
    return conv_reference(spec, x, w).numpy()


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


def _kernels() -> dict[str, Any]:
    """The generated NumPy kernels (numeric/_generated/) against torch, forward and backward."""
    import numpy as np

    try:
        import torch
        import torch.nn.functional as F
    except ImportError:  # pragma: no cover - torch is optional
        return {
            "title": "Generated kernels",
            "text": "torch not installed: skipped",
            "passed": True,
        }
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 16, 16))
    w = rng.standard_normal((8, 3, 3, 3))
    b = rng.standard_normal(8)
    kw: dict[str, Any] = {"stride": 2, "padding": 1, "dilation": 1, "groups": 2}
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ref = F.conv2d(xt, wt, bt, **kw)
    y = nm.conv2d(x, w, b, **kw)
    delta = rng.standard_normal(y.shape)
    ref.backward(torch.tensor(delta))
    gx = nm.conv2d_grad_input(x.shape, w, delta, **kw)
    gw = nm.conv2d_grad_weight(x, w.shape, delta, **kw)
    errs = {
        "forward": float(np.abs(y - ref.detach().numpy()).max()),
        "grad_input": float(np.abs(gx - cast(torch.Tensor, xt.grad).numpy()).max()),
        "grad_weight": float(np.abs(gw - cast(torch.Tensor, wt.grad).numpy()).max()),
    }
    lines = [
        "numeric.conv2d(x, w, b, stride=2, padding=1, groups=2) on float64 arrays "
        "(N=4, 6x16x16, 8@3x3), printed from the index form, against torch:"
    ]
    lines += [f"  {name:<12} max |difference| {err:.1e}" for name, err in errs.items()]
    # the same layer type by the other algorithms: a 3x3 stride-1 layer, dilation 2
    x2, w2 = rng.standard_normal((2, 16, 12, 12)), rng.standard_normal((16, 16, 3, 3))
    kw2: dict[str, Any] = {"padding": 2, "dilation": 2}
    xt2, wt2 = (torch.tensor(a, requires_grad=True) for a in (x2, w2))
    ref2 = F.conv2d(xt2, wt2, None, **kw2)
    delta2 = rng.standard_normal(tuple(ref2.shape))
    ref2.backward(torch.tensor(delta2))
    lines.append("conv2d(padding=2, dilation=2), N=2, 16x12x12, 16@3x3, by each algorithm:")
    for algorithm in ("winograd", "shifted", "fft"):
        got = (
            nm.conv2d(x2, w2, None, **kw2, algorithm=algorithm),
            nm.conv2d_grad_input(x2.shape, w2, delta2, **kw2, algorithm=algorithm),
            nm.conv2d_grad_weight(x2, w2.shape, delta2, **kw2, algorithm=algorithm),
        )
        want = (  # the .grad casts: backward() set them
            ref2.detach().numpy(),
            cast(torch.Tensor, xt2.grad).numpy(),
            cast(torch.Tensor, wt2.grad).numpy(),
        )
        err = max(float(np.abs(a - b).max()) for a, b in zip(got, want, strict=True))
        errs[algorithm] = err
        lines.append(f"  {algorithm:<12} max |difference| {err:.1e} (forward, dL/dx, dL/dw)")
    vgg = Conv(dims=2, in_channels=512, out_channels=512, kernel_size=3, padding=1)
    e = explain(vgg, (28, 28), batch=8)
    est = ", ".join(
        f"{k} {1e3 * v['seconds']:.0f} ms" for k, v in e["costs"].items() if v is not None
    )
    lines.append(f"algorithm='auto' on VGG16 conv4_2 (N=8): {e['algorithm']} (estimated {est})")
    return {
        "title": "A generated kernel running against torch",
        "text": "\n".join(lines),
        "passed": max(errs.values()) < 1e-10,
    }


def _pretty(matrix: Any) -> str:
    import sympy

    return sympy.pretty(matrix, use_unicode=False)


def _table() -> dict[str, Any]:
    t = get("vgg16").table()
    return {"title": "VGG16, layer by layer (symconv arch vgg16)", "text": t.text(), "passed": True}


# -- running the sections ---------------------------------------------------------------------
# The sections that need torch hand it their torch work (`submit`): with a worker process
# (`tour(workers=True)`), the worker imports torch and runs that work while this process
# computes the SymPy sections; torch is imported once, by the worker, and never here.

_Submit = Callable[..., "Future[Any] | _Now"]


class _Now:
    """What `submit` returns without a worker: the call, made here when its result is asked
    for (so that each section is still computed just before it is printed)."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._call: Callable[[], Any] | None = lambda: fn(*args)
        self._value: Any = None

    def done(self) -> bool:
        return True  # nothing to wait for elsewhere

    def result(self) -> Any:
        if self._call is not None:
            self._value, self._call = self._call(), None
        return self._value


class _Pending:
    """A section computed here up to what `futures` still compute: `finish` turns their
    results into the section's result."""

    def __init__(
        self,
        futures: tuple[Future[Any] | _Now, ...],
        finish: Callable[..., dict[str, Any]],
    ) -> None:
        self.futures, self.finish = futures, finish

    def done(self) -> bool:
        return all(f.done() for f in self.futures)

    def result(self) -> dict[str, Any]:
        return self.finish(*(f.result() for f in self.futures))


def _ready(result: dict[str, Any]) -> _Pending:
    return _Pending((), lambda: result)


def _sections(submit: _Submit, executor: Executor | None = None) -> list[Callable[[], _Pending]]:
    """The tour's sections in print order; each starts when called and returns a `_Pending`.

    The generated kernels are submitted at once (the worker's first job: it imports torch).
    """
    kernels = submit(_kernels)
    return [
        lambda: _ready(_derivation()),
        lambda: _ready(_arithmetic()),
        lambda: _matrix(submit),
        lambda: _ready(_backprop()),
        lambda: _ready(_equivariance(executor)),
        lambda: _Pending((kernels,), lambda result: result),
        lambda: _ready(_table()),
    ]


def _worker_init() -> None:
    """The worker's set-up: one OpenMP thread (tiny convolutions: a pool only spins)."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _worker() -> ProcessPoolExecutor | None:
    """A one-process pool forked from this one, or None where a fork is not safe (torch imported
    already: a fork of a process whose OpenMP pool ran can hang; other threads running) or
    there is one CPU only."""
    import multiprocessing
    import os
    import threading

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    if (
        cpus < 2
        or "fork" not in multiprocessing.get_all_start_methods()
        or "torch" in sys.modules
        or threading.active_count() > 1
    ):
        return None
    return ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init
    )


def tour(
    as_json: bool = False,
    progress: bool = False,
    emit: Callable[[str], None] | None = None,
    workers: bool = False,
) -> bool:
    """Run every section, printing each as soon as it and every one before it are computed
    (JSON: all at the end).

    `progress` shows a tqdm bar on stderr; `emit` replaces `print` for the text (tests read
    the sections as they arrive). With `workers` (the CLI's choice), a forked worker process
    imports torch and runs the torch comparisons (the generated kernels, torch's convolution,
    the equivariance derivations' numeric checks) while this process computes the SymPy
    sections ahead; without it, each section is computed just before it is printed. Returns
    whether every check passed.
    """
    pool = _worker() if workers else None

    def submit(fn: Callable[..., Any], *args: Any) -> Future[Any] | _Now:
        return pool.submit(fn, *args) if pool is not None else _Now(fn, *args)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=7, desc="tour", unit="section", leave=False)

    def out(text: str) -> None:
        if emit is not None:
            emit(text)
        elif bar is not None:
            bar.write(text, file=sys.stdout)
        else:
            print(text, flush=True)

    results: list[dict[str, Any]] = []
    waiting: list[_Pending] = []

    def show(pending: _Pending) -> None:
        r = pending.result()
        results.append(r)
        if not as_json:
            out(f"\n== {r['title']} ==\n{r['text']}")
        if bar is not None:
            bar.update(1)

    try:
        for start in _sections(submit, pool):
            waiting.append(start())
            while waiting and waiting[0].done():  # print what is ready, in order
                show(waiting.pop(0))
        for pending in waiting:
            show(pending)
    finally:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if as_json:
        out(json.dumps(results, indent=2))
    return all(r["passed"] for r in results)
