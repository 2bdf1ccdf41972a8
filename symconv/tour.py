"""`symconv tour`: the main job in one run — derivations, their verification, arithmetic, a table.

Each section is computed by the engine when the tour runs; nothing is printed from a template.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
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


def _matrix() -> dict[str, Any]:
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
    passed, err = True, None
    if torch_or_none() is not None:
        ref = conv_reference(big, x[None], w)
        err = float(np.max(np.abs(y - ref.numpy().reshape(-1))))
        passed = err < 1e-10
        lines.append(
            f"{big}: T x (from the index form) vs torch.nn.functional.conv2d, "
            f"float64: max difference {err:.1e}"
        )
    else:  # pragma: no cover - torch is optional
        lines.append("(torch not installed: comparison skipped)")
    return {"title": "Convolution as a matrix", "text": "\n".join(lines), "passed": passed}


def _backprop() -> dict[str, Any]:
    d = backprop(Conv(dims=1, kernel_size=3, stride=2, padding=1))
    cert = d.verify()
    steps = "\n".join(f"{n}. {s.title}: {s.justification}" for n, s in enumerate(d.steps, 1))
    return {"title": d.title, "text": steps + "\n\n" + cert.text(), "passed": cert.passed}


def _equivariance() -> dict[str, Any]:
    lines, passed = [], True
    for mode in ("zeros", "reflect", "circular"):
        e = equivariance(Conv(dims=1, kernel_size=3, padding=1, padding_mode=mode), 8, shift=1)
        where = "every output" if e.exact else f"all but outputs {[o[0] for o in e.broken]}"
        lines.append(f"3-tap conv, {mode} padding, input 8, shift 1: equivariant at {where}")
        passed &= e.verify().passed
    rot = equivariance(Conv(dims=2, kernel_size=3, padding=1), 5, transform="rot90")
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


def _sections() -> list[Callable[[], dict[str, Any]]]:
    sections: list[Callable[[], dict[str, Any]]] = [
        _derivation,
        _arithmetic,
        _matrix,
        _backprop,
        _equivariance,
        _kernels,
    ]

    def table() -> dict[str, Any]:
        t = get("vgg16").table()
        return {
            "title": "VGG16, layer by layer (symconv arch vgg16)",
            "text": t.text(),
            "passed": True,
        }

    return [*sections, table]


# The sections that use torch: with `workers`, one forked worker computes them (in order) while
# this process computes the others; torch is then imported once, by the worker.
_OFFLOAD = ("_matrix", "_equivariance", "_kernels")


def _run_section(index: int) -> dict[str, Any]:
    """Section `index` of `_sections()` (what the worker process receives)."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # tiny convolutions: a thread pool only spins
    return _sections()[index]()


def _worker() -> Any:
    """A one-process pool forked from this one, or None where a fork is not safe (torch imported
    already: a fork of a process whose OpenMP pool ran can hang; other threads running) or
    there is one CPU only."""
    import multiprocessing
    import os
    import threading
    from concurrent.futures import ProcessPoolExecutor

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
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))


def tour(
    as_json: bool = False,
    progress: bool = False,
    emit: Callable[[str], None] | None = None,
    workers: bool = False,
) -> bool:
    """Run every section, printing each as soon as it is computed (JSON: all at the end).

    `progress` shows a tqdm bar on stderr; `emit` replaces `print` for the text (tests read
    the sections as they arrive). With `workers` (the CLI's choice), the torch sections run in
    a forked worker process while this one computes the rest ahead; each section is still
    printed in order, as soon as it and every one before it are done. Returns whether every
    check passed.
    """
    sections = _sections()
    pool = _worker() if workers else None
    futures: dict[int, Any] = {}
    if pool is not None:
        futures = {
            i: pool.submit(_run_section, i)
            for i, section in enumerate(sections)
            if getattr(section, "__name__", "") in _OFFLOAD
        }
    local = [i for i in range(len(sections)) if i not in futures]
    computed: dict[int, dict[str, Any]] = {}

    def result(i: int) -> dict[str, Any]:
        """Section i's result; while a worker's section is not done, compute ours ahead."""
        while i not in computed:
            if i in futures and (futures[i].done() or not local):
                computed[i] = futures[i].result()
            elif local:
                j = local.pop(0)
                computed[j] = sections[j]()
            else:  # pragma: no cover - every index is local or a future
                raise AssertionError(i)
        return computed.pop(i)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(sections), desc="tour", unit="section", leave=False)

    def out(text: str) -> None:
        if emit is not None:
            emit(text)
        elif bar is not None:
            bar.write(text, file=sys.stdout)
        else:
            print(text, flush=True)

    results = []
    try:
        for i in range(len(sections)):
            r = result(i)
            results.append(r)
            if not as_json:
                out(f"\n== {r['title']} ==\n{r['text']}")
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if as_json:
        out(json.dumps(results, indent=2))
    return all(r["passed"] for r in results)
