"""A worker process, forked when created, with no thread in this process: where torch is
imported and torch's checks run while this process derives (`symconv tour`, `symconv derive`).

`concurrent.futures.ProcessPoolExecutor` runs a management thread in the parent; a process
forked while another thread runs may deadlock (a lock that thread held stays held in the
child), and the tour forks twice (its torch worker before SymPy is imported, a SymPy worker
after). So this is a `multiprocessing` process that runs the calls it is sent over a pipe, in
order, and sends each result (or exception) back; the parent reads results when it asks for
them (`Future.done()`, `Future.result()`), so it needs no thread either. `can_fork()` says
whether forking one is safe and pays here.

```python
>>> import operator
>>> with Worker() as w:
...     w.submit(operator.add, 2, 3).result(), w.submit(pow, 2, 10).result()
(5, 1024)

```
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Worker", "can_fork"]


def _serve(conn: Connection, initializer: Callable[[], None] | None) -> None:
    """The worker's loop: run each call received, send back (True, result) or (False, error);
    stop at None."""
    if initializer is not None:
        initializer()
    while (job := conn.recv()) is not None:
        fn, args, kwargs = job
        try:
            reply: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except BaseException as error:
            reply = (False, error)
        try:
            conn.send(reply)
        except Exception as error:
            conn.send((False, RuntimeError(f"{type(error).__name__}: {error}")))
    conn.close()


class _Result(Future[Any]):
    """A future the worker completes when the parent reads the pipe (no thread does)."""

    def __init__(self, worker: Worker) -> None:
        super().__init__()
        self._worker = worker

    def done(self) -> bool:
        self._worker._receive(block=False)
        return super().done()

    def result(self, timeout: float | None = None) -> Any:
        while not super().done():
            self._worker._receive(block=True)
        return super().result(timeout)


class Worker(Executor):
    """One forked process running submitted calls in order; `submit` pickles the call."""

    def __init__(self, initializer: Callable[[], None] | None = None) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, initializer), daemon=True)
        self._process.start()
        child.close()
        self._waiting: deque[_Result] = deque()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self._receive(block=False)  # what is ready: the pipe never fills up both ways
        future = _Result(self)
        self._conn.send((fn, args, kwargs))
        self._waiting.append(future)
        return future

    def _receive(self, block: bool) -> None:
        """Complete the oldest futures whose results have arrived (`block`: wait for one)."""
        while self._waiting and (block or self._conn.poll()):
            ok, value = self._conn.recv()
            future = self._waiting.popleft()
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
            block = False

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._process.is_alive():
            if cancel_futures or not wait:
                self._process.terminate()
            else:
                while self._waiting:  # read what is owed, or the worker blocks writing it
                    self._receive(block=True)
                self._conn.send(None)
            self._process.join()
        self._conn.close()


def can_fork() -> bool:
    """Whether forking a worker is safe and pays: two CPUs or more, `fork` available, torch
    not imported (a fork of a process whose OpenMP pool ran can hang) and no other thread
    running (a lock it held would stay held in the child)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return (
        cpus >= 2
        and "fork" in multiprocessing.get_all_start_methods()
        and "torch" not in sys.modules
        and threading.active_count() == 1
    )
