"""The `symconv` command line: shape, params, arch, derive, tour.

Every subcommand takes `--json`. Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

from .._errors import SpecError
from .layer import _spec as _spec
from .parser import _build, _one_line

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `symconv` console script.

    Bad input and a failing environment never print a traceback: a `SpecError`, or a
    `ValueError`, `OverflowError`, `OSError` (an unwritable file, a full disk) or `MemoryError`
    raised while running a subcommand, prints one line on stderr (values quoted, control
    characters escaped) and returns 2; a closed stdout (the reader went away, or no stdout at
    all) stops quietly with 1. Missing or unknown flags are argparse's one-line errors (2).
    """
    try:
        return _main(argv)
    finally:
        if argv is None:  # the console script: the process ends next
            # Interpreter shutdown runs the garbage collector over everything still alive,
            # SymPy's caches included (~0.1 s after a derivation); moving them to the
            # permanent generation skips that walk (`gc.freeze`). Nothing is kept longer.
            gc.freeze()


def _main(argv: Sequence[str] | None) -> int:
    args = _build().parse_args(argv)
    try:
        if sys.stdout is None:  # started with stdout closed: nowhere to write, as a closed pipe
            raise BrokenPipeError
        status = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except SpecError as err:
        _error(args.command, str(err))
        return 2
    except BrokenPipeError:
        # the reader went away (`symconv arch vgg16 | head -1`): stop quietly. Point stdout at
        # devnull so that the flush at exit cannot raise again (Python docs, "Note on SIGPIPE").
        _stdout_to_devnull()
        return 1
    except (ValueError, OverflowError, OSError, MemoryError, RecursionError) as err:
        if isinstance(err, OSError) and _stdout_failed():
            _stdout_to_devnull()  # stdout is full or broken: the flush at exit would fail again
            _error(args.command, f"cannot write the output: {err}")
            return 2
        _error(args.command, f"{type(err).__name__}: {err}")
        return 2
    return status or 0


def _error(command: str, message: str) -> None:
    sys.stderr.write(f"symconv {_one_line(command)}: error: {_one_line(message)}\n")
    sys.stderr.flush()


def _stdout_failed() -> bool:
    """Whether writing stdout fails now (a full disk, a closed descriptor)."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        return True
    return False


def _stdout_to_devnull() -> None:
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced stdout (pytest's capture): no fd
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
