r"""What `check_identities` and `check_pool_identities` share: calling the user's function
(exceptions, non-numeric results, the per-call deadline), comparing with a reference, the
failure report, and the Hypothesis run that raises it once.

A report reads, one field a line: the identity and its statement, the minimal spec (a
`symconv.Conv(...)` / `symconv.Pool(...)` expression), the call, the shapes, the worst entry
(expected and got to full precision), the absolute and relative error against the tolerance,
a hint where one applies (float32 rounding, a feature to narrow away), the arrays when they are
small, and the `check_...(...)` call that reproduces the failure (with its seed).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .._errors import SpecError

__all__ = ["BaseChecker", "IdentityFailure", "run_checks"]

FLOAT32_EPS = float(np.finfo(np.float32).eps)
SMALL = 80  # arrays are printed when the example's arrays hold at most this many entries
WIDTH = 14  # report labels
DEFAULT_DEADLINE = 5.0  # seconds per call of the user's function


class IdentityFailure(AssertionError):
    """One identity failed on one example (inside the Hypothesis run; re-raised as a plain
    `AssertionError` by `check_identities` and `check_pool_identities`)."""


class _Stop(BaseException):
    """Ends the Hypothesis run at once: Hypothesis shrinks an `Exception`, but lets other
    `BaseException`s through, so a function over the deadline is not called again while
    shrinking."""


def number(v: Any) -> str:
    """Every digit a float needs to round-trip (`0.0158081` vs `0.015808100491762161`)."""
    return repr(float(v))


def fn_name(fn: Any, default: str) -> str:
    name = getattr(fn, "__name__", "")
    return name if name.isidentifier() else default


def check_options(
    where: str,
    rtol: Any,
    deadline: Any,
    max_examples: Any,
    seed: Any = None,
    derandomize: bool = False,
) -> None:
    if rtol is not None and not (isinstance(rtol, int | float) and 0 < rtol < 1):
        raise SpecError(f"{where}: rtol must be a number in (0, 1) or None, got {rtol!r}")
    if deadline is not None and not (isinstance(deadline, int | float) and deadline > 0):
        raise SpecError(f"{where}: deadline must be seconds > 0 or None, got {deadline!r}")
    if max_examples is not None and (
        isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1
    ):
        raise SpecError(f"{where}: max_examples must be an int >= 1, got {max_examples!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise SpecError(f"{where}: seed must be an int or None, got {seed!r}")
    if seed is not None and derandomize:
        raise SpecError(
            f"{where}: seed {seed!r} has no effect with derandomize=True (a derandomized run "
            f"is the same every time): pass one of them"
        )


class BaseChecker:
    """Calls, comparisons and the report; subclasses give `title`, `context()` and
    `arrays()` (the example's inputs, printed when small)."""

    title = "check"

    def __init__(self, fns: dict[str, Any], dtype: Any, rtol: float | None) -> None:
        self.fns, self.rtol = fns, rtol
        self.eps = float(np.finfo(dtype).eps)
        self.deadline: float | None = fns.get("_deadline")

    # -- subclass hooks ---------------------------------------------------------------------
    def context(self, got: Any) -> list[tuple[str, str]]:
        return []

    def arrays(self) -> list[tuple[str, np.ndarray | None]]:
        return []

    def hints(self, identity: str) -> list[str]:
        return []

    # -- calling the user's function ------------------------------------------------------------
    def call(self, name: str, *args: Any, **kwargs: Any) -> np.ndarray:
        """`fns[name](*args, **kwargs)` as a real float array; any other outcome is a failure."""
        __tracebackhide__ = True
        fn = self.fns[name]
        shown = ", ".join(
            [
                *(f"array{tuple(np.shape(a))}" for a in args),
                *(f"{k}={v!r}" for k, v in kwargs.items()),
            ]
        )
        start = time.perf_counter()
        try:
            out = fn(*args, **kwargs)
        except Exception as err:
            self.fail(
                f"calling {name}",
                f"{name}({shown}) returns an array",
                f"it raised {type(err).__name__}: {err}",
            )
        elapsed = time.perf_counter() - start
        if self.deadline is not None and elapsed > self.deadline:
            raise _Stop(
                self.message(
                    f"per-call deadline of {name}",
                    f"each call of {name} returns within the deadline of {self.deadline:g} s",
                    [
                        ("call", f"{name}({shown}) took {elapsed:.3g} s"),
                        (
                            "hint",
                            "pass deadline=None (no limit) or a larger deadline=..., or test "
                            "smaller layers (max_size=..., max_examples=...); the run stopped "
                            "at the first slow call instead of shrinking it",
                        ),
                    ],
                )
            )
        return self.numeric(name, shown, out)

    def numeric(self, name: str, shown: str, out: Any) -> np.ndarray:
        """`out` as a real numeric array, or a failure naming what it is instead."""
        __tracebackhide__ = True
        identity = f"{name} returns a real numeric array"
        statement = f"{name}({shown}) returns a real float (or integer) array"
        if out is None:
            self.fail(identity, statement, "it returned None")
        try:
            arr = np.asarray(out)
        except Exception as err:  # ragged lists, objects numpy cannot read
            self.fail(identity, statement, f"it returned {type(out).__name__}: {err}")
        if arr.dtype.kind == "c":
            imag = float(np.max(np.abs(arr.imag), initial=0.0))
            self.fail(
                identity,
                statement,
                f"it returned complex values ({arr.dtype}, largest |imaginary part| "
                f"{imag:.3g}); a real layer's output is real, and casting would drop the "
                f"imaginary part silently (an FFT convolution: return .real explicitly)",
            )
        if arr.dtype.kind not in "fiu":
            self.fail(
                identity,
                statement,
                f"it returned {type(out).__name__} of dtype {arr.dtype} "
                f"({'object' if arr.dtype.kind == 'O' else 'not a real number type'})",
            )
        return arr

    # -- comparing ------------------------------------------------------------------------
    def rel(self, length: int) -> float:
        """Per-entry tolerance relative to the magnitude: `rtol`, or $16 L \\varepsilon$."""
        return self.rtol if self.rtol is not None else 16.0 * length * self.eps

    def compare(
        self,
        identity: str,
        statement: str,
        got: np.ndarray,
        want: np.ndarray,
        scale: float,
        length: int,
        what: str = "output",
        mask: np.ndarray | None = None,
    ) -> None:
        """`got` within `rel(length) * scale` of `want` on every entry (where `mask`)."""
        __tracebackhide__ = True
        if got.shape != want.shape:
            self.fail(identity, statement, f"{what} shape {got.shape}, expected {want.shape}", got)
        if got.size == 0:
            return
        tol = self.rel(length) * float(scale)
        g64 = got.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs(g64 - want)
        same = (g64 == want) | (np.isnan(g64) & np.isnan(want))  # equal infinities, NaNs
        err = np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))
        if mask is not None:
            err = np.where(mask, err, 0.0)
        worst = int(np.argmax(err))
        e = float(err.flat[worst])
        if not e > tol:
            return
        idx = ", ".join(str(int(i)) for i in np.unravel_index(worst, err.shape))
        w, gv = float(want.flat[worst]), float(g64.flat[worst])
        bad = int((err > tol).sum())
        rel_value = e / abs(w) if w != 0 else math.inf
        rel_scale = e / scale if scale > 0 else math.inf
        tol_rule = f"rtol {self.rtol:g}" if self.rtol is not None else f"16 L eps, L = {length}"
        lines = [
            ("worst entry", f"{what}[{idx}]: expected {number(w)}, got {number(gv)}"),
            (
                "error",
                f"absolute {e:.3g}, relative {rel_value:.3g} (to the expected value), "
                f"{rel_scale:.3g} of the magnitude s = {scale:.3g}; tolerance {tol:.3g} "
                f"({tol_rule}, times s); {bad} of {err.size} entries exceed it",
            ),
        ]
        if self.rtol is None and self.eps < FLOAT32_EPS and rel_scale <= 16 * length * FLOAT32_EPS:
            lines.append(
                (
                    "hint",
                    f"an error of {rel_scale:.2g} of the magnitude is float32 rounding "
                    f"(float32 eps {FLOAT32_EPS:.3g}): the function seems to compute in "
                    f"float32 on float64 input. If that is intended, test it as float32 code "
                    f'with dtype="float32", or pass rtol=1e-5',
                )
            )
        self.fail(identity, statement, lines, got, want)

    # -- the report -----------------------------------------------------------------------
    def fail(
        self,
        identity: str,
        statement: str,
        discrepancy: str | list[tuple[str, str]],
        got: Any = None,
        want: Any = None,
    ) -> None:
        __tracebackhide__ = True  # pytest shows the message, not these frames
        raise IdentityFailure(self.message(identity, statement, discrepancy, got, want))

    def message(
        self,
        identity: str,
        statement: str,
        discrepancy: str | list[tuple[str, str]],
        got: Any = None,
        want: Any = None,
    ) -> str:
        fields: list[tuple[str, str]] = [("identity", statement), *self.context(got)]
        if isinstance(discrepancy, str):
            fields.append(("discrepancy", discrepancy))
        else:
            fields.extend(discrepancy)
        fields.extend(("hint", h) for h in self.hints(identity))
        shown = [(n, a) for n, a in self.arrays() if a is not None]
        if got is not None:
            shown.append(("got", np.asarray(got)))
        if want is not None:
            shown.append(("expected", np.asarray(want)))
            if got is not None and np.shape(got) == np.shape(want):
                with np.errstate(invalid="ignore", over="ignore"):
                    diff = np.asarray(got, dtype=np.float64) - np.asarray(want, dtype=np.float64)
                shown.append(("got - expected", diff))
        if shown and sum(int(np.size(a)) for _, a in shown) <= SMALL:
            for name, a in shown:
                fields.append(("arrays" if name == shown[0][0] else "", _show(name, a)))
        lines = [f"{self.title} breaks '{identity}'"]
        lines.extend(field(key, value) for key, value in fields)
        return "\n".join(lines)


def field(key: str, value: str) -> str:
    """One report line: `  key:          value`, continuation lines aligned."""
    label = f"{key}:" if key else ""
    return f"  {label:<{WIDTH}}" + value.replace("\n", "\n" + " " * (WIDTH + 2))


def _show(name: str, a: np.ndarray) -> str:
    a = np.asarray(a, dtype=np.float64) if a.dtype.kind in "fiub" else a
    body = np.array2string(a, precision=6, separator=", ", max_line_width=88)
    body = "\n".join(line for line in body.splitlines() if line.strip())  # no blank rows
    prefix = f"{name} = "
    return prefix + body.replace("\n", "\n" + " " * len(prefix))


class Bare(str):
    """A name printed bare in a reproducing call (`backward=my_backward`)."""

    def __repr__(self) -> str:
        return str(self)


def call_source(fn_name_: str, check: str, positional: list[str], options: dict[str, Any]) -> str:
    """`check(fn, ..., key=value, ...)`: the call that reproduces a run."""
    parts = [fn_name_, *positional, *(f"{k}={v!r}" for k, v in options.items())]
    return f"{check}({', '.join(parts)})"


def run_checks(
    strategy: st.SearchStrategy,
    body: Callable[[Any], None],
    *,
    max_examples: int | None,
    derandomize: bool,
    seed: int | None,
    reproduce: Callable[[dict[str, Any]], str],
) -> None:
    """Run `body` on examples of `strategy`; raise the first failure once, as a short
    `AssertionError` ending with the call that reproduces it (`reproduce(options)`)."""
    __tracebackhide__ = True
    limit = settings().max_examples if max_examples is None else int(max_examples)
    if derandomize:
        again: dict[str, Any] = {"max_examples": limit, "derandomize": True}
    else:
        seed = random.Random().getrandbits(32) if seed is None else int(seed)
        again = {"max_examples": limit, "seed": seed}

    @settings(
        max_examples=limit,
        deadline=None,  # our own, per call of the user's function
        database=None,
        derandomize=derandomize,
        report_multiple_bugs=False,
        print_blob=False,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def identities(example: Any) -> None:
        __tracebackhide__ = True
        body(example)

    if not derandomize:
        identities = hypothesis_seed(seed)(identities)
    tail = "\n" + field("reproduce", reproduce(again))
    try:
        identities()
    except (IdentityFailure, _Stop) as err:
        raise AssertionError(f"{err}{tail}") from None
    except BaseExceptionGroup as group:  # e.g. a flaky failure: report the first identity
        match, _ = group.split(IdentityFailure)
        if match is None:
            raise
        first = match.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise AssertionError(
            f"{first}\n  (the function gave different results on the same input when run "
            f"again: Hypothesis reports a flaky failure){tail}"
        ) from None
