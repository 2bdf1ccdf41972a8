"""`symconv tour`: the main job in one run — derivations, their verification, arithmetic, a table.

Each section is computed by the engine when the tour runs (`_sections`); nothing is printed
from a template. `tour()` prints each as soon as it and every one before it are done.

With `workers` (the CLI's choice) three processes share the work: a torch worker forked
first, before SymPy is imported (`symconv._worker.Worker`: no thread here, so the next fork
is safe), imports torch and runs the torch comparisons (`_torch`: the generated kernels, torch's
convolution, the equivariance derivations' numeric checks); a second worker, forked once SymPy
is loaded, derives backpropagation; this process computes the other SymPy sections and never
imports torch. Without workers every section is computed here, just before it is printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from .._worker import Worker, can_fork
from . import _torch

__all__ = ["tour"]


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


def _torch_worker_init() -> None:
    """The torch worker's set-up: one OpenMP thread (tiny convolutions: a pool only spins)."""
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")


def tour(
    as_json: bool = False,
    progress: bool = False,
    emit: Callable[[str], None] | None = None,
    workers: bool = False,
) -> bool:
    """Run every section, printing each as soon as it and every one before it are computed
    (JSON: all at the end). Returns whether every check passed.

    `progress` shows a tqdm bar on stderr; `emit` replaces `print` for the text (tests read
    the sections as they arrive). `workers`: run the torch comparisons and the backpropagation
    derivation in forked worker processes (module docstring) where that is safe.
    """
    torch: Worker | None = Worker(_torch_worker_init) if workers and can_fork() else None
    submit: Callable[..., Any] = torch.submit if torch is not None else _Now
    compared = submit(_torch.kernels)  # the torch worker's first job: it imports torch now

    # the sections and SymPy: imported after the fork, so the torch worker never loads them
    from . import _sections

    sympy: Executor | None = None
    if torch is not None and can_fork():
        import multiprocessing

        sympy = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
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
    waiting: list[_sections.Pending] = []

    def show(pending: _sections.Pending) -> None:
        r = pending.result()
        results.append(r)
        if not as_json:
            out(f"\n== {r['title']} ==\n{r['text']}")
        if bar is not None:
            bar.update(1)

    try:
        plan = _sections.plan(compared, submit, torch, sympy.submit if sympy else None)
        for start in plan:
            waiting.append(start())
            while waiting and waiting[0].done():  # print what is ready, in order
                show(waiting.pop(0))
        for pending in waiting:
            show(pending)
    finally:
        if bar is not None:
            bar.close()
        for pool in (sympy, torch):
            if pool is not None:
                pool.shutdown(cancel_futures=True)
    if as_json:
        out(json.dumps(results, indent=2))
    return all(r["passed"] for r in results)
