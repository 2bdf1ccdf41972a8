"""Intra-op parallelism for the NumPy kernels: the batch split across threads.

NumPy runs element-wise work (im2col's copies, Winograd's tile gathers, FFT passes) on one
thread; only BLAS calls use several. So a NumPy convolution splits its batch into one part per
thread and runs the generated kernel on each part at once (NumPy and BLAS release the GIL),
with BLAS held to one thread inside (through `threadpoolctl`, when installed): two levels of
threads would compete for the same cores (OpenBLAS's workers spin-wait between calls). Results
are concatenated (outputs, dL/dx) or summed (dL/dw). torch tensors run torch's own threads.

```python
>>> import numeric as nm
>>> old = nm.set_num_threads(1)   # serial NumPy kernels
>>> _ = nm.set_num_threads(old)

```
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from symconv._errors import SpecError

__all__ = ["get_num_threads", "map_batch", "set_num_threads"]

MIN_WORK = 2e7  # floating-point operations below which a split costs more than it saves


def _default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_STATE: dict[str, Any] = {"threads": _default_threads(), "pool": None, "controller": None}
_LOCK = threading.Lock()


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: start a new pool on first use."""
    global _LOCK, _BLAS_LOCK
    _LOCK = threading.Lock()
    _BLAS_LOCK = threading.Lock()
    _BLAS.update(users=0, saved=None)
    _STATE["pool"] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def set_num_threads(n: int) -> int:
    """Threads for the NumPy kernels (default: the CPUs this process may use); returns the old
    count. 1 runs every kernel serially (BLAS keeps its own threads then)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecError(f"set_num_threads: n must be an integer >= 1, got {n!r}")
    with _LOCK:
        old, _STATE["threads"] = _STATE["threads"], n
        if _STATE["pool"] is not None and n != old:
            _STATE["pool"].shutdown(wait=False)
            _STATE["pool"] = None
    return old


def get_num_threads() -> int:
    """Threads the NumPy kernels use."""
    return _STATE["threads"]


def _pool() -> ThreadPoolExecutor:
    with _LOCK:
        if _STATE["pool"] is None:
            _STATE["pool"] = ThreadPoolExecutor(_STATE["threads"], thread_name_prefix="numeric")
        return _STATE["pool"]


_BLAS: dict[str, Any] = {"users": 0, "saved": None}
_BLAS_LOCK = threading.Lock()


def _controller() -> Any:
    if _STATE["controller"] is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            _STATE["controller"] = False
        else:
            _STATE["controller"] = ThreadpoolController()
    return _STATE["controller"]


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Hold BLAS to one thread for the block (a no-op without threadpoolctl).

    The BLAS thread count is process-wide, so concurrent callers share one limit: the first to
    enter saves the count and sets 1, the last to leave restores exactly what it saved (each
    caller setting and restoring its own would leave 1 behind when their blocks overlap)."""
    ctl = _controller()
    if not ctl:
        yield
        return
    with _BLAS_LOCK:
        if _BLAS["users"] == 0:
            with _in_control(ctl):
                _BLAS["saved"] = ctl.limit(limits=1, user_api="blas")
        _BLAS["users"] += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS["users"] -= 1
            if _BLAS["users"] == 0:
                with _in_control(ctl):
                    _BLAS["saved"].restore_original_limits()
                _BLAS["saved"] = None


@contextmanager
def _in_control(ctl: Any) -> Iterator[None]:
    """Let this thread set the BLAS thread count, then let go. threadpoolctl (3.6+) lets only
    the first thread that sets OpenBLAS's count set it again; any other thread's calls do
    nothing, silently. The first caller of numeric to enter and the last to leave are often
    different threads, so the restore would be dropped and the count left at 1. Every set and
    restore here runs under `_BLAS_LOCK`, so handing control over cannot race."""
    classes = {type(lc) for lc in ctl.lib_controllers}
    clear = [c.clear_controlling_thread for c in classes if hasattr(c, "clear_controlling_thread")]
    for c in clear:
        c(force=True)
    try:
        yield
    finally:
        for c in clear:
            c(force=True)


def _bounded(call: Callable[..., Any], at_once: int) -> Callable[..., Any]:
    """`call`, run by at most `at_once` threads at a time (the pool may hold more)."""
    gate = threading.BoundedSemaphore(at_once)

    def run(*args: Any) -> Any:
        with gate:
            return call(*args)

    return run


def parts(n: int, work: float, chunk: int, threads: int) -> list[slice]:
    """The batch slices: none over `chunk` samples (the workspace budget) and, for work worth
    splitting, at least one per thread."""
    k = min(threads, n) if work >= MIN_WORK else 1
    k = max(k, 1, -(-n // max(1, chunk)))
    return [slice(i * n // k, (i + 1) * n // k) for i in range(k)]


def _each(fn: Callable[[slice], Any], split: Sequence[slice], parallel: bool) -> list[Any]:
    """`fn` on every slice: on the pool with BLAS held to one thread when `parallel` and there
    is more than one slice, else one after the other."""
    if parallel and len(split) > 1:
        with _one_blas_thread():
            return list(_pool().map(fn, split))
    return [fn(s) for s in split]


def map_batch(
    backend: str,
    n: int,
    work: float,
    chunk: int,
    call: Callable[..., Any],
    combine: str,
    into: Any = None,
    threads: int | None = None,
) -> Any:
    """`call(batch slice)` over the batch in parts of at most `chunk` samples: in parallel for
    NumPy (`get_num_threads()` threads; small work runs on one), one after the other for torch
    (torch's own threads run each part). `combine`: "concat" (each part is copied into one
    output as soon as it is made, so at most one part per thread is alive), "sum", or "into":
    `call(slice, into[slice])` writes its part into the caller's output `into` (no part is
    made and copied), which is returned. `threads`: at most this many parts at once (the
    workspace budget's share)."""
    cap = threads
    threads = _STATE["threads"] if backend == "numpy" else 1
    if cap is not None and cap < threads:  # the workspace leaves room for `cap` at once
        call = _bounded(call, cap)
        threads = cap
    split: Sequence[slice] = parts(n, work, chunk, threads)
    if combine == "into":
        if into is None or into.shape[0] != n:
            raise ValueError("map_batch: combine='into' needs `into`, an output of n samples")
        _each(lambda s: call(s, into[s]), split, threads > 1 and work >= MIN_WORK)
        return into
    if len(split) == 1:
        return call(slice(0, n))
    out: list[Any] = [None]
    lock = threading.Lock()

    def run(s: slice) -> Any:
        part = call(s)
        if combine == "sum":
            return part
        with lock:
            if out[0] is None:
                out[0] = (
                    np.empty((n, *part.shape[1:]), dtype=part.dtype)
                    if isinstance(part, np.ndarray)
                    else part.new_empty((n, *part.shape[1:]))
                )
        out[0][s] = part
        return None

    results = _each(run, split, threads > 1 and work >= MIN_WORK)  # len(split) > 1: n >= 2
    if combine == "sum":
        total = results[0]
        for r in results[1:]:
            total += r
        return total
    return out[0]
