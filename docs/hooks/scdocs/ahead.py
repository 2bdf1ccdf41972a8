"""Directives computed ahead in a second process, while the build works through the pages.

A build is one process, and most of its time is the directives (derivations and their
certificates, tables, figures); a second core would sit idle. `Ahead(bodies)` forks one
worker that renders the directives from the last one backwards while the build renders them
from the first one forwards (`take`). Each directive is claimed by whichever side reaches it
first (a shared array), so none is computed twice and neither side waits long; they meet in
the middle. A directive is a pure function of its text, so the worker's output is the output
the build would have computed: the pages are the same. Whatever the worker fails on, the
build computes itself (and reports the error as it always did), and so is a directive that
logs a warning (so that `--strict` still counts it).

Used by `mkdocs build` only (`hook.py`), and only with two or more CPUs and
`SCDOCS_JOBS` not set to 1.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
from collections.abc import Sequence
from typing import Any

from .directives import parse
from .registry import render

__all__ = ["Ahead", "wanted"]

_FREE, _BUILD, _WORKER = 0, 1, 2


def wanted() -> bool:
    """Whether to compute ahead: two or more CPUs for this process, not switched off."""
    if os.environ.get("SCDOCS_JOBS", "") == "1":
        return False
    if "fork" not in multiprocessing.get_all_start_methods() or not hasattr(
        os, "sched_getaffinity"
    ):
        return False
    return len(os.sched_getaffinity(0)) >= 2


class Ahead:
    """A worker rendering `bodies` (the directives' texts, in build order) from the end."""

    def __init__(self, bodies: Sequence[str]) -> None:
        ctx = multiprocessing.get_context("fork")
        self._index = {b: i for i, b in enumerate(bodies)}
        self._claims = ctx.Array("b", len(bodies))  # _FREE, _BUILD or _WORKER, with a lock
        self._done: dict[int, Any] = {}
        self._finished = False
        # a Queue, not a bare Pipe: its feeder thread buffers, so the worker never blocks on a
        # full pipe while the build is busy elsewhere
        self._results = ctx.Queue()
        self._worker = ctx.Process(target=_work, args=(list(bodies), self._claims, self._results))
        self._worker.daemon = True
        self._worker.start()

    def take(self, body: str) -> Any:
        """The worker's output for the directive `body`, or None: the build computes it."""
        i = self._index.get(body)
        if i is None:
            return None
        with self._claims.get_lock():
            if self._claims[i] == _FREE:
                self._claims[i] = _BUILD
                return None
            if self._claims[i] == _BUILD:  # the same text again: computed (and cached) here
                return None
        while i not in self._done:
            if self._finished:  # the worker stopped without it: compute it here
                return None
            try:
                item = self._results.get(timeout=0.5)
            except queue.Empty:
                self._finished = not self._worker.is_alive()
                continue
            if item is None:  # the worker's last word
                self._finished = True
            else:
                self._done[item[0]] = item[1]
        return self._done[i]  # None when the worker failed on it

    def close(self) -> None:
        """Stop the worker (it may still be rendering what the build no longer needs)."""
        if self._worker.is_alive():
            self._worker.terminate()
        self._worker.join()
        self._results.close()


class _Warnings(logging.Handler):
    """Records the warnings a directive logs: the strict build must see them, so a directive
    that logs one is left to the build (which logs it again, in the process that counts)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True


def _work(bodies: list[str], claims: Any, results: Any) -> None:
    warned = _Warnings()
    for name in ("", "mkdocs"):  # the root logger, and mkdocs' (which need not propagate)
        logging.getLogger(name).addHandler(warned)
    for i in reversed(range(len(bodies))):
        with claims.get_lock():
            if claims[i] != _FREE:  # the build has come this far: the rest is its
                break
            claims[i] = _WORKER
        warned.seen = False
        try:
            out = render(*parse(bodies[i]))
        except Exception:  # the build computes it again and reports the error
            out = None
        if warned.seen:
            out = None
        results.put((i, out))
    results.put(None)
