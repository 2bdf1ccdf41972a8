r"""`check_pool_identities`: property-test a user's pooling function against symconv's pooling
reference (`symconv.poolgrad`, evaluated through the pooling index form).

The function has the signature of `torch.nn.functional`'s pool of that kind, on NumPy arrays,
called without `return_indices`:

- max: `pool(input, kernel_size, stride, padding, dilation, ceil_mode)`;
- avg: `pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
  divisor_override)` (1-d: no `divisor_override`, as `F.avg_pool1d`);
- lp: `pool(input, norm_type, kernel_size, stride, ceil_mode)`.

Arguments are passed by keyword; sizes as one int when all axes agree, else a tuple. For every
drawn `(Pool, input_size, arrays)` it must satisfy, in this order (the narrowest first):

1. **output shape** `(N, C, *spec.output_size(input_size))`;
2. **window contents**: on windows inside the input, $y_o$ is the max / average /
   $(\sum x^p)^{1/p}$ of $x[S o + D a]$, $a < K$ (the index form's tap table);
3. **padding**: on windows reaching into the padding, max reads it as $-\infty$, avg divides by
   the whole window (`count_include_pad=True`), by the input entries in it (`False`) or by
   `divisor_override`;
4. **ceil_mode**: the last windows `ceil_mode=True` adds are clipped at the padded input's end
   and pool what they cover (avg: divided by the clipped window, or the input entries);

and, when `backward` is given (`backward(grad_output, input, <the forward's keywords>)`, the
signature of `numeric.max_pool2d_backward` and its siblings):

5. **gradient routing**: $\partial L/\partial x = $ `symconv.poolgrad.pool_backward` (max: each
   window's $\delta_o$ to its maximum; avg: $\delta_o / N_o$ to every entry; lp:
   $\delta_o\,c_o\,x_j^{p-1} y_o^{1-p}$);
6. **tie rule** (max): on inputs with ties (small integers), each window's gradient goes to its
   *first* maximum in the window's scan order (C order), torch's rule.

lp pooling is checked on non-negative inputs (a negative entry to a fractional power is NaN).
A max window that holds padding alone (dilation can step over the whole input) is $-\infty$,
as in torch; its gradient is not checked (its upstream gradient is set to 0: torch routes it to
an arbitrary entry).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np
from hypothesis import strategies as st

from .._errors import SpecError
from ..indexform import index_form
from ..poolgrad import pool_backward, pool_forward
from ..spec import POOL_KINDS, Pool
from ._report import (
    DEFAULT_DEADLINE,
    Bare,
    BaseChecker,
    call_source,
    check_options,
    fn_name,
    run_checks,
)
from ._source import _compact
from .strategies import filled, pool_specs

__all__ = ["check_pool_identities", "pool_source"]

_SPEC_KEYS = ("max_size", "kernel_size", "stride", "dilation", "padding", "ceil_mode", "square")
_OTHER_KEYS = ("batch", "channels", "norm_types")
#: Default `max_size` per dimension: outputs wider than 12 (stride 1, padding up to 1).
DEFAULT_MAX_SIZE = {1: 32, 2: 16, 3: 14}
_REDUCTION = {
    "max": "the maximum",
    "avg": "the average",
    "lp": "(sum of x^p)^(1/p)",
}


def pool_source(spec: Pool) -> str:
    """`spec` as a `symconv.Pool(...)` expression that rebuilds it.

    ```python
    >>> import symconv as sc
    >>> pool_source(sc.Pool(kind="avg", kernel_size=(2, 2), stride=1, ceil_mode=True))
    "symconv.Pool(dims=2, kind='avg', kernel_size=2, stride=1, ceil_mode=True)"

    ```
    """
    parts = [
        f"dims={spec.dims}",
        f"kind={spec.kind!r}",
        f"kernel_size={_compact(spec.kernel_size)!r}",
    ]
    if spec.stride != spec.kernel_size:
        parts.append(f"stride={_compact(spec.stride)!r}")
    for name, default in (("padding", 0), ("dilation", 1)):
        value = _compact(getattr(spec, name))
        if value != default:
            parts.append(f"{name}={value!r}")
    if spec.ceil_mode:
        parts.append("ceil_mode=True")
    if spec.kind == "avg" and not spec.count_include_pad:
        parts.append("count_include_pad=False")
    if spec.divisor_override is not None:
        parts.append(f"divisor_override={spec.divisor_override}")
    if spec.kind == "lp":
        parts.append(f"norm_type={spec.norm_type!r}")
    return f"symconv.Pool({', '.join(parts)})"


def pool_kwargs(spec: Pool) -> dict[str, Any]:
    """The keywords of `torch.nn.functional`'s pool of `spec.kind` (no `return_indices`)."""
    kw: dict[str, Any] = {}
    if spec.kind == "lp":
        kw["norm_type"] = spec.norm_type
    kw["kernel_size"] = _compact(spec.kernel_size)
    kw["stride"] = _compact(spec.stride)
    if spec.kind != "lp":
        kw["padding"] = _compact(spec.padding)
    if spec.kind == "max":
        kw["dilation"] = _compact(spec.dilation)
    kw["ceil_mode"] = spec.ceil_mode
    if spec.kind == "avg":
        kw["count_include_pad"] = spec.count_include_pad
        if spec.dims > 1:
            kw["divisor_override"] = spec.divisor_override
    return kw


class _PoolExample:
    """One drawn case (a plain class: a short `repr`, not the arrays)."""

    def __init__(
        self, spec: Pool, size: tuple[int, ...], x: np.ndarray, delta: np.ndarray, ties: Any
    ) -> None:
        self.spec, self.size, self.x, self.delta, self.ties = spec, size, x, delta, ties

    def __repr__(self) -> str:
        return f"<{pool_source(self.spec)} on input {self.size}, shape {self.x.shape}>"


@st.composite
def _pool_examples(
    draw: Any, specs: st.SearchStrategy, batch: tuple, channels: tuple, dtype: Any
) -> _PoolExample:
    spec, size = draw(specs)
    if spec.kind == "avg" and spec.dims == 1 and spec.divisor_override is not None:
        spec = spec.replace(divisor_override=None)  # F.avg_pool1d has no divisor_override
    n = draw(st.integers(*batch))
    c = draw(st.integers(*channels))
    x = draw(filled((n, c, *size), dtype))
    if spec.kind == "lp":
        x = np.abs(x)
    delta = draw(filled((n, c, *spec.output_size(size)), dtype))
    ties = draw(filled((n, c, *size), dtype, "integers")) if spec.kind == "max" else None
    return _PoolExample(spec, tuple(size), x, delta, ties)


def _window_classes(spec: Pool, size: tuple[int, ...]) -> np.ndarray:
    """Per output position: 0 inside the input, 1 reaching into the padding, 2 clipped by
    ceil_mode (reaching past the padded input), from the index form's padded tap table."""
    form = index_form(spec, size)
    classes = []
    for a, ax in enumerate(form.axes):
        j = form.tap_table(a, padded=True)  # padded coordinate, -1 past the padded input
        clipped = np.any(j < 0, axis=1)
        end = ax.lo + cast(int, ax.size)  # the form is sized
        padded = np.any((j >= 0) & ((j < ax.lo) | (j >= end)), axis=1)
        classes.append(np.where(clipped, 2, np.where(padded, 1, 0)))
    grids = np.meshgrid(*classes, indexing="ij")
    return np.maximum.reduce(grids) if grids else np.zeros(())


class _PoolChecker(BaseChecker):
    def __init__(
        self, ex: _PoolExample, fns: dict[str, Any], dtype: Any, rtol: float | None
    ) -> None:
        super().__init__(fns, dtype, rtol)
        self.ex, spec = ex, ex.spec
        self.title = f"check_pool_identities: the {spec.kind}_pool{spec.dims}d under test"
        self.kwargs = pool_kwargs(spec)
        self.out_shape = (*ex.x.shape[:2], *spec.output_size(ex.size))
        self.L = math.prod(spec.kernel_size) + 1
        self.shown_x = ex.x

    def context(self, got: Any) -> list[tuple[str, str]]:
        ex = self.ex
        kw = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        shapes = f"x {self.shown_x.shape}"
        if got is not None:
            shapes += f" -> {tuple(np.shape(got))}"
        return [
            ("minimal spec", pool_source(ex.spec)),
            ("input size", f"{ex.size} (batch {ex.x.shape[0]}, channels {ex.x.shape[1]})"),
            ("call", f"pool(x, {kw})"),
            ("shapes", shapes),
        ]

    def arrays(self) -> list[tuple[str, np.ndarray | None]]:
        return [("x", self.shown_x)]

    def hints(self, identity: str) -> list[str]:
        """Narrowings that avoid the features this spec uses (for pools that lack them)."""
        if not (identity.startswith("calling") or identity == "output shape"):
            return []
        spec, restrict = self.ex.spec, self.fns.get("_restrict") or {}
        out = []
        if spec.ceil_mode and restrict.get("ceil_mode") is not False:
            out.append("ceil_mode=False")
        if any(d > 1 for d in spec.dilation) and restrict.get("dilation") != 1:
            out.append("dilation=1")
        if any(spec.padding) and restrict.get("padding") != 0:
            out.append("padding=0")
        if spec.dims > 1 and not restrict.get("square"):
            if any(len(set(v)) > 1 for v in (spec.kernel_size, spec.stride, spec.padding)):
                out.append("square=True")
        if self.ex.x.shape[0] == 0:
            out.append("batch=(1, 2)")
        if not out:
            return []
        return [
            "if your pool does not support a feature this spec uses, narrow the pools: "
            f"check_pool_identities(pool, ..., {', '.join(out)})"
        ]

    def reference(self, x: np.ndarray, delta: np.ndarray | None = None) -> np.ndarray:
        spec, x64 = self.ex.spec, x.astype(np.float64)
        if delta is None:
            out = [pool_forward(spec, sample) for sample in x64]
            return np.stack(out) if out else np.zeros(self.out_shape)
        d64 = delta.astype(np.float64)
        out = [pool_backward(spec, s, d) for s, d in zip(x64, d64, strict=True)]
        return np.stack(out) if out else np.zeros(x.shape)

    def run(self) -> None:
        __tracebackhide__ = True
        ex, spec = self.ex, self.ex.spec
        y = self.call("pool", ex.x, **self.kwargs)
        if y.shape != self.out_shape:
            self.fail(
                "output shape",
                "pool(x).shape = (N, C, *spec.output_size(input_size))",
                f"output shape {y.shape}, expected {self.out_shape} = (N, C, "
                f"*{spec.output_size(ex.size)})",
                y,
            )
        want = self.reference(ex.x)
        finite = np.abs(want[np.isfinite(want)])  # a max window of padding alone is -inf
        scale = float(finite.max(initial=0.0)) + float(np.abs(ex.x).max(initial=0.0))
        classes = np.broadcast_to(_window_classes(spec, ex.size), y.shape)
        reduction = _REDUCTION[spec.kind]
        if spec.divisor_override is not None:
            reduction = f"the sum divided by divisor_override = {spec.divisor_override}"
        pad_rule = {
            "max": "the padding is -inf (never the maximum)",
            "avg": (
                f"divided by divisor_override = {spec.divisor_override}"
                if spec.divisor_override is not None
                else "divided by the whole window, padding included (count_include_pad=True)"
                if spec.count_include_pad
                else "divided by the input entries in the window (count_include_pad=False)"
            ),
            "lp": "lp pooling has no padding",
        }[spec.kind]
        checks = [
            (
                "window contents",
                f"on windows inside the input, y[o] = {reduction} of x[S o + D a], a < K",
            ),
            ("padding", f"on windows reaching into the padding, y[o] = {reduction}, {pad_rule}"),
            (
                "ceil_mode",
                f"ceil_mode=True's last windows, clipped at the padded input's end, pool what "
                f"they cover: y[o] = {reduction}"
                + (", divided by the clipped window" if spec.kind != "max" else ""),
            ),
        ]
        for level, (identity, statement) in enumerate(checks):
            self.compare(identity, statement, y, want, scale, self.L, mask=classes == level)
        backward = self.fns.get("backward")
        if backward is None:
            return
        # a max window holding padding alone (dilation can skip every input) is -inf, and
        # torch routes its gradient arbitrarily: its delta is 0 here, so it routes nowhere
        delta = np.where(np.isfinite(want), ex.delta, 0).astype(ex.delta.dtype)
        got = self.call("backward", delta, ex.x, **self.kwargs)
        want_g = self.reference(ex.x, delta)
        # every kind routes delta with non-negative factors here (lp: x >= 0)
        gscale = float(self.reference(ex.x, np.abs(delta)).max(initial=0.0))
        routing = {
            "max": "dL/dx[j] = sum of delta[o] over the windows o whose maximum is x[j]",
            "avg": "dL/dx[j] = sum over the windows o holding x[j] of delta[o] / N_o",
            "lp": "dL/dx[j] = sum over windows o of delta[o] c_o x[j]^(p-1) y[o]^(1-p)",
        }[spec.kind]
        self.compare(
            "gradient routing",
            f"backward(delta, x, ...) = {routing} (symconv.poolgrad.pool_backward)",
            got,
            want_g,
            gscale,
            self.L * math.prod(spec.kernel_size),
            what="dL/dx",
        )
        if ex.ties is not None:
            self.shown_x = ex.ties
            got_t = self.call("backward", delta, ex.ties, **self.kwargs)
            want_t = self.reference(ex.ties, delta)
            self.compare(
                "tie rule",
                "on inputs with ties, each window's delta[o] goes to its first maximum in the "
                "window's scan order (C order over the window), torch's rule",
                got_t,
                want_t,
                float(self.reference(ex.ties, np.abs(delta)).max(initial=0.0)),
                self.L * math.prod(spec.kernel_size),
                what="dL/dx",
            )


def check_pool_identities(
    pool: Callable[..., Any],
    kind: str,
    dims: int = 2,
    max_examples: int | None = None,
    backward: Callable[..., Any] | None = None,
    *,
    dtype: Any = np.float64,
    rtol: float | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
    derandomize: bool = False,
    seed: int | None = None,
    **restrict: Any,
) -> None:
    r"""Property-check a pooling function against the identities of the module docstring.

    Args:
        pool: `torch.nn.functional`'s `{kind}_pool{dims}d` signature on NumPy arrays, called by
            keyword without `return_indices`.
        kind: `"max"`, `"avg"` or `"lp"`.
        dims: 1, 2 or 3.
        max_examples: examples to try; default the active Hypothesis profile's.
        backward: `backward(grad_output, input, **the forward's keywords)` returning
            $\partial L/\partial x$ (`numeric.max_pool2d_backward`'s signature and siblings).
        dtype, rtol, deadline, derandomize, seed: as `check_identities`.
        **restrict: narrow the drawn pools, as `symconv.testing.pool_specs`: `max_size`
            (default 32 in 1-d, 16 in 2-d, 14 in 3-d), `kernel_size`, `stride`, `dilation`,
            `padding`, `ceil_mode`, `square`, `norm_types`; and `batch` (default `(0, 2)`),
            `channels` (default `(1, 3)`).

    Raises:
        AssertionError: the first identity that fails, raised once, as `check_identities`
            reports it (with a `symconv.Pool(...)` spec and the reproducing call).
        SpecError: an unknown or impossible option.
    """
    __tracebackhide__ = True
    if kind not in POOL_KINDS:
        raise SpecError(f"check_pool_identities: kind must be one of {POOL_KINDS}, got {kind!r}")
    if dims not in (1, 2, 3):
        raise SpecError(f"check_pool_identities: dims must be 1, 2 or 3, got {dims!r}")
    check_options("check_pool_identities", rtol, deadline, max_examples, seed, derandomize)
    unknown = sorted(set(restrict) - set(_SPEC_KEYS) - set(_OTHER_KEYS))
    if unknown:
        raise SpecError(
            f"check_pool_identities: unknown restriction(s) {unknown}; known: "
            f"{', '.join(_SPEC_KEYS + _OTHER_KEYS)}"
        )
    spec_kw: dict[str, Any] = {"max_size": DEFAULT_MAX_SIZE[dims]}
    spec_kw.update({k: v for k, v in restrict.items() if k in _SPEC_KEYS})
    if "norm_types" in restrict:
        spec_kw["norm_types"] = restrict["norm_types"]
    specs = pool_specs(dims=dims, kinds=kind, **spec_kw)
    batch = restrict.get("batch", (0, 2))
    batch = (batch, batch) if isinstance(batch, int) else tuple(batch)
    channels = restrict.get("channels", (1, 3))
    channels = (channels, channels) if isinstance(channels, int) else tuple(channels)
    dtype = np.dtype(dtype)
    fns = {"pool": pool, "backward": backward, "_deadline": deadline, "_restrict": restrict}

    def body(example: _PoolExample) -> None:
        __tracebackhide__ = True
        _PoolChecker(example, fns, dtype, rtol).run()

    def reproduce(again: dict[str, Any]) -> str:
        options: dict[str, Any] = {"dims": dims}
        if backward is not None:
            options["backward"] = Bare(fn_name(backward, "backward"))
        if dtype != np.float64:
            options["dtype"] = str(dtype)
        if rtol is not None:
            options["rtol"] = rtol
        if deadline != DEFAULT_DEADLINE:
            options["deadline"] = deadline
        options.update(again)
        options.update(restrict)
        return call_source(fn_name(pool, "pool"), "check_pool_identities", [repr(kind)], options)

    run_checks(
        _pool_examples(specs, batch, channels, dtype),
        body,
        max_examples=max_examples,
        derandomize=derandomize,
        seed=seed,
        reproduce=reproduce,
    )
