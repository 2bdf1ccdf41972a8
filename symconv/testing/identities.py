r"""`check_identities`: property-test a user's convolution against the identities symconv proves.

The user's function has the signature of `torch.nn.functional.conv{1,2,3}d`,
`conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)`, on NumPy arrays.
For every drawn `(spec, input_size, arrays)` it must satisfy, in this order (the most specific
first, so a failure names the narrowest identity that breaks):

1. **output shape**: `(N, C_out, *spec.output_size(input_size))`;
2. **bias**: $\mathrm{conv}(x, w, b) = \mathrm{conv}(x, w) + b$;
3. **linearity in the input**: $\mathrm{conv}(\alpha x_1 + \beta x_2) = \alpha\,\mathrm{conv}(x_1)
   + \beta\,\mathrm{conv}(x_2)$, and **in the weight** likewise;
4. **translation equivariance** where it is exact: shifting the input by $t = S u$ (zero-filled)
   shifts output $o$ to $o + u$ for every output whose taps read the same inputs before and
   after the shift, read off the index form (`IndexForm.tap_table`);
5. **agreement with the Toeplitz matrix**: $\mathrm{vec}(y) = T\,\mathrm{vec}(x) + b$ with
   $T$ = `symconv.toeplitz_numeric(spec, input_size, weight)`;

and, when given, for the transposed convolution (`F.conv_transpose{d}d`'s signature) and the
gradients (`torch.nn.grad.conv{d}d_input` / `_weight` signatures):

6. **adjointness** $\langle \mathrm{conv}(x), y\rangle = \langle x, \mathrm{conv\_transpose}(y)
   \rangle$ and **conv_transpose = $T^\top$**;
7. **grad_input** $= T^\top\delta$ and **grad_weight** $= X^\top\delta$ ($X$ the patch matrix).

Tolerances: $16\,L\,\varepsilon\,s$ per entry, $\varepsilon$ the dtype's machine epsilon, $L$ the
reduction length (terms summed per output, plus one) and $s$ the largest $\sum |w||x|$ (+|b|)
of the case, so any summation order (GEMM, Winograd, FFT) passes and a wrong index does not;
`rtol=` replaces $16\,L\,\varepsilon$ (e.g. `1e-5` for code that computes in float32).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from hypothesis import strategies as st

from .._errors import SpecError
from ..indexform import index_form
from ..spec import NUMPY_PAD_MODES, Conv
from ..toeplitz import toeplitz_numeric
from ._report import (
    DEFAULT_DEADLINE,
    Bare,
    BaseChecker,
    IdentityFailure,
    call_source,
    check_options,
    fn_name,
    number,
    run_checks,
)
from ._source import _compact, _hints, spec_source
from .strategies import PADDING_STYLES, conv_specs, filled

__all__ = ["IdentityFailure", "check_identities", "spec_source"]

_SPEC_KEYS = (
    "max_size",
    "kernel_size",
    "stride",
    "dilation",
    "padding",
    "channels",
    "groups",
    "padding_modes",
    "padding_styles",
    "bias",
    "square",
)
_OTHER_KEYS = ("batch", "values")
ALPHA, BETA = 0.75, -1.25  # exactly representable: linearity checks add no rounding of their own


#: Default `max_size` per dimension (padding up to 2: outputs up to 36, 20 and 18 wide), so
#: bugs that show only past 12 outputs (tiling, blocking) are reached.
DEFAULT_MAX_SIZE = {1: 32, 2: 16, 3: 14}


# -- one example ------------------------------------------------------------------------------
class _Example:
    """One drawn case: spec, input size, arrays, shift (a plain class: Hypothesis prints its
    short `repr` in the falsifying-example note instead of the arrays)."""

    def __init__(
        self,
        spec: Conv,
        size: tuple[int, ...],
        x: np.ndarray,
        w: np.ndarray,
        b: np.ndarray | None,
        delta: np.ndarray,
        x2: np.ndarray,
        w2: np.ndarray,
        shift: tuple[int, ...],
    ) -> None:
        self.spec, self.size, self.x, self.w, self.b = spec, size, x, w, b
        self.delta, self.x2, self.w2, self.shift = delta, x2, w2, shift
        self.kwargs: dict[str, Any] = {}

    def __repr__(self) -> str:  # Hypothesis prints this in its "Falsifying example" note
        return f"<{spec_source(self.spec)} on input {self.size}, batch {self.x.shape[0]}>"


@st.composite
def _examples(draw: Any, specs: st.SearchStrategy, batch: Any, values: Any, dtype: Any) -> _Example:
    spec, size = draw(specs)
    n = draw(st.integers(*batch))
    x = draw(filled((n, spec.in_channels, *size), dtype, values))
    x2 = draw(filled(x.shape, dtype, values))
    w = draw(filled(spec.weight_shape, dtype, values))
    w2 = draw(filled(spec.weight_shape, dtype, values))
    b = draw(filled((spec.out_channels,), dtype, values)) if spec.bias else None
    delta = draw(filled((n, spec.out_channels, *spec.output_size(size)), dtype, values))
    shift = tuple(draw(st.sampled_from((1, -1, 2, -2))) for _ in range(spec.dims))
    return _Example(spec, size, x, w, b, delta, x2, w2, shift)


def _flat(a: np.ndarray) -> np.ndarray:
    """`(N, ...)` -> `(N, prod(...))`, batch 0 included."""
    return a.reshape(a.shape[0], math.prod(a.shape[1:]))


class _Checker(BaseChecker):
    """Runs the identities on one `_Example`; every failure raises `IdentityFailure`."""

    def __init__(
        self,
        ex: _Example,
        fns: dict[str, Callable | None],
        dims: int,
        dtype: Any,
        rtol: float | None = None,
    ):
        super().__init__(fns, dtype, rtol)
        self.ex, self.dims = ex, dims
        self.title = f"check_identities: the conv{dims}d under test"
        spec = ex.spec
        self.zeros = spec.padding_mode == "zeros"
        pads = spec.pads
        self.symmetric = all(lo == hi for lo, hi in pads)
        if not self.zeros:  # not expressible through F.conv: pad here, call with padding 0
            padding: Any = 0
        elif isinstance(spec.padding, str) and spec.padding in ("valid", "same"):
            padding = spec.padding
        else:
            padding = _compact(tuple(lo for lo, _ in pads))
        self.kwargs = {
            "stride": _compact(spec.stride),
            "padding": padding,
            "dilation": _compact(spec.dilation),
            "groups": spec.groups,
        }
        ex.kwargs = self.kwargs
        self.out_shape = (ex.x.shape[0], spec.out_channels, *spec.output_size(ex.size))
        self.T = toeplitz_numeric(spec, ex.size, ex.w.astype(np.float64))
        self.absT = abs(self.T)
        self.L = math.prod(spec.weight_shape[1:]) + 1

    # -- the report's fields ---------------------------------------------------------------
    def context(self, got: Any) -> list[tuple[str, str]]:
        ex, spec = self.ex, self.ex.spec
        shapes = f"x {ex.x.shape}, weight {ex.w.shape}" + (
            f", bias {ex.b.shape}" if ex.b is not None else ", bias None"
        )
        if got is not None:
            shapes += f" -> output {tuple(np.shape(got))}"
        kw = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        out = [
            ("minimal spec", spec_source(spec)),
            ("input size", f"{ex.size} (batch {ex.x.shape[0]})"),
            ("call", f"conv(x, weight, {'bias' if ex.b is not None else 'None'}, {kw})"),
            ("shapes", shapes),
        ]
        if not self.zeros:
            out.append(
                (
                    "note",
                    f"padding_mode {spec.padding_mode!r} is applied with numpy.pad before the "
                    f"call (padding 0)",
                )
            )
        return out

    def arrays(self) -> list[tuple[str, np.ndarray | None]]:
        return [("x", self.ex.x), ("weight", self.ex.w), ("bias", self.ex.b)]

    def hints(self, identity: str) -> list[str]:
        calling = identity.startswith("calling")
        if not (calling or identity == "output shape"):
            return []
        ex = self.ex
        hints = _hints(ex.spec, ex.x.shape[0], self.fns.get("_restrict") or {}, calling)
        if not hints:
            return []
        return [
            "if your conv does not support a feature this spec uses, narrow the specs: "
            f"check_identities(conv, ..., {', '.join(hints)})"
        ]

    # -- helpers ---------------------------------------------------------------------------
    def _call(self, name: str, *args: Any, **kwargs: Any) -> np.ndarray:
        __tracebackhide__ = True
        return self.call(name, *args, **kwargs)

    def conv(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        __tracebackhide__ = True
        if not self.zeros:
            pads = [(0, 0), (0, 0), *self.ex.spec.pads]
            x = np.pad(x, pads, mode=NUMPY_PAD_MODES[self.ex.spec.padding_mode])
        return self._call("conv", x, w, b, **self.kwargs)

    def forward(self, x: np.ndarray, w: np.ndarray | None = None, bias: bool = False) -> tuple:
        """Reference $T x (+ b)$ per sample and its magnitude $|T||x| (+|b|)$, float64."""
        T, absT = (self.T, self.absT) if w is None else self._matrix(w)
        flat = _flat(x).astype(np.float64)
        y = (T @ flat.T).T.reshape(self.out_shape[:1] + self.out_shape[1:])
        mag = (absT @ np.abs(flat).T).T.reshape(y.shape)
        b = self.ex.b
        if bias and b is not None:
            shape = (1, -1) + (1,) * self.ex.spec.dims
            y = y + b.astype(np.float64).reshape(shape)
            mag = mag + np.abs(b.astype(np.float64)).reshape(shape)
        return y, mag

    def _matrix(self, w: np.ndarray) -> tuple[Any, Any]:
        T = toeplitz_numeric(self.ex.spec, self.ex.size, w.astype(np.float64))
        return T, abs(T)

    # -- the identities ----------------------------------------------------------------------
    def run(self) -> None:
        __tracebackhide__ = True  # pytest shows the message, not these frames
        ex, spec = self.ex, self.ex.spec
        y = self.conv(ex.x, ex.w, ex.b)
        if y.shape != self.out_shape:
            self.fail(
                "output shape",
                "conv(x, w, b).shape = (N, C_out, *spec.output_size(input_size))",
                f"output shape {y.shape}, expected {self.out_shape} = (N, C_out, "
                f"*{spec.output_size(ex.size)})",
                y,
            )
        ref, mag = self.forward(ex.x)
        scale = float(mag.max(initial=0.0))
        if ex.b is not None:
            y0 = self.conv(ex.x, ex.w, None)
            bscale = scale + float(np.abs(ex.b).max(initial=0.0))
            self.compare(
                "bias is an additive term",
                "conv(x, w, b) = conv(x, w, None) + b[k] on every output of channel k",
                y,
                y0.astype(np.float64) + ex.b.astype(np.float64).reshape((1, -1) + (1,) * spec.dims),
                bscale,
                self.L,
            )
        else:
            y0 = y
        y1 = self.conv(ex.x2, ex.w, None)
        _, mag1 = self.forward(ex.x2)
        mixed = (ALPHA * ex.x + BETA * ex.x2).astype(ex.x.dtype)
        self.compare(
            "linearity in the input",
            f"conv({ALPHA} x1 + {BETA} x2, w) = {ALPHA} conv(x1, w) + {BETA} conv(x2, w)",
            self.conv(mixed, ex.w, None),
            ALPHA * y0.astype(np.float64) + BETA * y1.astype(np.float64),
            abs(ALPHA) * scale + abs(BETA) * float(mag1.max(initial=0.0)),
            self.L,
        )
        y2 = self.conv(ex.x, ex.w2, None)
        _, mag2 = self.forward(ex.x, ex.w2)
        mixed_w = (ALPHA * ex.w + BETA * ex.w2).astype(ex.w.dtype)
        self.compare(
            "linearity in the weight",
            f"conv(x, {ALPHA} w1 + {BETA} w2) = {ALPHA} conv(x, w1) + {BETA} conv(x, w2)",
            self.conv(ex.x, mixed_w, None),
            ALPHA * y0.astype(np.float64) + BETA * y2.astype(np.float64),
            abs(ALPHA) * scale + abs(BETA) * float(mag2.max(initial=0.0)),
            self.L,
        )
        self.equivariance(y0, scale)
        ref_b, mag_b = self.forward(ex.x, bias=True)
        self.compare(
            "agreement with the Toeplitz matrix",
            "vec(y) = T vec(x) + b, T = symconv.toeplitz_numeric(spec, input_size, weight)",
            y,
            ref_b,
            float(mag_b.max(initial=0.0)),
            self.L,
        )
        del ref
        if self.zeros and self.symmetric:
            if self.fns.get("transpose") is not None:
                self.transpose(y0, scale)
            if self.fns.get("grad_input") is not None:
                self.grad_input()
            if self.fns.get("grad_weight") is not None:
                self.grad_weight()

    def _shift(self, x: np.ndarray, t: Sequence[int]) -> np.ndarray:
        """`x` moved by `t` along the spatial axes, zeros filling in: x_s[i] = x[i - t]."""
        out = np.zeros_like(x)
        src, dst = [slice(None)] * 2, [slice(None)] * 2
        for ti, n in zip(t, x.shape[2:], strict=True):
            if abs(ti) >= n:
                return out
            src.append(slice(0, n - ti) if ti >= 0 else slice(-ti, n))
            dst.append(slice(ti, n) if ti >= 0 else slice(0, n + ti))
        out[tuple(dst)] = x[tuple(src)]
        return out

    def equivariance(self, y0: np.ndarray, scale: float) -> None:
        __tracebackhide__ = True
        ex, spec = self.ex, self.ex.spec
        form = index_form(spec, ex.size)
        keep, moved = [], []
        t = tuple(s * u for s, u in zip(spec.stride, ex.shift, strict=True))
        for a, ax in enumerate(form.axes):
            size, out = cast(int, ax.size), cast(int, ax.out)  # the form is sized
            tab = form.tap_table(a)
            src = tab - t[a]
            after = np.where((tab >= 0) & (src >= 0) & (src < size), src, -1)
            o = np.arange(out)
            before = o - ex.shift[a]
            inside = (before >= 0) & (before < out)
            ok = np.zeros(out, dtype=bool)
            ok[inside] = np.all(after[inside] == tab[before[inside]], axis=1)
            keep.append(np.flatnonzero(ok))
            moved.append(before[ok])
        if any(len(k) == 0 for k in keep):
            return  # no output is equivariant to this shift
        ys = self.conv(self._shift(ex.x, t), ex.w, None)
        got = ys[np.ix_(np.arange(ys.shape[0]), np.arange(ys.shape[1]), *keep)]
        want = y0[np.ix_(np.arange(y0.shape[0]), np.arange(y0.shape[1]), *moved)]
        self.compare(
            "translation equivariance",
            f"shifting x by {t} (stride x {ex.shift}, zeros filling in) shifts outputs by "
            f"{ex.shift}, on the {math.prod(len(k) for k in keep)} output position(s) whose "
            f"taps read the same inputs before and after (from the index form)",
            got,
            want.astype(np.float64),
            scale,
            self.L,
            what="output (among the equivariant positions) ",
        )

    def transpose(self, y0: np.ndarray, scale: float) -> None:
        __tracebackhide__ = True
        ex, spec = self.ex, self.ex.spec
        unused = _compact(spec.fits(ex.size).unused)
        kw = {
            "stride": self.kwargs["stride"],
            "padding": _compact(tuple(lo for lo, _ in spec.pads)),
            "output_padding": unused,
            "groups": spec.groups,
            "dilation": self.kwargs["dilation"],
        }
        back = self._call("transpose", ex.delta, ex.w, None, **kw)
        want = (self.T.T @ _flat(ex.delta).astype(np.float64).T).T
        want = want.reshape(ex.x.shape)
        if back.shape != ex.x.shape:
            self.fail(
                "conv_transpose output shape",
                f"conv_transpose(y, w, output_padding={unused}) has the input's shape",
                f"shape {back.shape}, expected {ex.x.shape}",
                back,
            )
        lhs = float(np.sum(y0.astype(np.float64) * ex.delta))
        rhs = float(np.sum(ex.x.astype(np.float64) * back.astype(np.float64)))
        _, mag = self.forward(ex.x)
        bound = float(np.sum(mag * np.abs(ex.delta)))
        tol = self.rel(self.L + ex.delta.size) * bound
        if not abs(lhs - rhs) <= tol:
            self.fail(
                "adjointness <T x, y> = <x, T^T y>",
                "sum(conv(x, w) * y) = sum(x * conv_transpose(y, w)) (transpose arguments "
                + ", ".join(f"{k}={v!r}" for k, v in kw.items())
                + ")",
                f"<conv(x), y> = {number(lhs)} but <x, conv_transpose(y)> = {number(rhs)}; "
                f"difference {abs(lhs - rhs):.3g} > tolerance {tol:.2g}",
                back,
            )
        magt = (self.absT.T @ np.abs(_flat(ex.delta)).T).T
        self.compare(
            "conv_transpose = T^T",
            "conv_transpose(y, w) = T^T y, the transposed Toeplitz matrix",
            back,
            want,
            float(magt.max(initial=0.0)),
            self.L + spec.out_channels,
            what="input-shaped output",
        )

    def grad_input(self) -> None:
        __tracebackhide__ = True
        ex = self.ex
        kw = {**self.kwargs, "padding": _compact(tuple(lo for lo, _ in ex.spec.pads))}
        got = self._call("grad_input", ex.x.shape, ex.w, ex.delta, **kw)
        flat = _flat(ex.delta).astype(np.float64)
        want = (self.T.T @ flat.T).T.reshape(ex.x.shape)
        mag = (self.absT.T @ np.abs(flat).T).T
        self.compare(
            "grad_input = T^T delta",
            "grad_input(x.shape, w, delta) = dL/dx = T^T delta (chain rule, vec(y) = T vec(x))",
            got,
            want,
            float(mag.max(initial=0.0)),
            self.L + ex.spec.out_channels,
            what="dL/dx",
        )

    def grad_weight(self) -> None:
        __tracebackhide__ = True
        ex, spec = self.ex, self.ex.spec
        kw = {**self.kwargs, "padding": _compact(tuple(lo for lo, _ in spec.pads))}
        got = self._call("grad_weight", ex.x, spec.weight_shape, ex.delta, **kw)
        g = index_form(spec, ex.size).gather()
        n_w = math.prod(spec.weight_shape)
        want, mag = np.zeros(n_w), np.zeros(n_w)
        for n in range(ex.x.shape[0]):
            xs = ex.x[n].reshape(-1).astype(np.float64)[g.cols]
            ds = ex.delta[n].reshape(-1).astype(np.float64)[g.rows]
            want += np.bincount(g.weights, xs * ds, minlength=n_w)
            mag += np.bincount(g.weights, np.abs(xs * ds), minlength=n_w)
        length = max(1, ex.x.shape[0] * math.prod(self.out_shape[2:])) + 1
        self.compare(
            "grad_weight = X^T delta",
            "grad_weight(x, w.shape, delta) = dL/dw = X^T delta, X the patch (im2col) matrix "
            "of vec(y) = X vec(w)",
            got,
            want.reshape(spec.weight_shape),
            float(mag.max(initial=0.0)),
            length,
            what="dL/dw",
        )


# -- the public entry point -------------------------------------------------------------------
def check_identities(
    conv: Callable[..., Any],
    dims: int = 2,
    max_examples: int | None = None,
    transpose: Callable[..., Any] | None = None,
    grad_input: Callable[..., Any] | None = None,
    grad_weight: Callable[..., Any] | None = None,
    *,
    dtype: Any = np.float64,
    rtol: float | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
    derandomize: bool = False,
    seed: int | None = None,
    **restrict: Any,
) -> None:
    r"""Property-check a convolution against the identities of the module docstring.

    Args:
        conv: `conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1)` on
            NumPy arrays (torch's `F.conv{dims}d` signature); `stride`, `dilation` and
            `padding` come as one int when all axes agree, else a tuple; `padding` may be
            `"valid"` or `"same"` (narrow with `padding_styles=("int", "tuple")`). It must
            return a real array (complex, string, object arrays and None are failures).
        dims: 1, 2 or 3.
        max_examples: examples to try; default the active Hypothesis profile's.
        transpose: `conv_transpose(input, weight, bias=None, stride=1, padding=0,
            output_padding=0, groups=1, dilation=1)` (F.conv_transpose's signature).
        grad_input: `grad_input(input_size, weight, grad_output, stride, padding, dilation,
            groups)` (`torch.nn.grad.conv{dims}d_input`'s signature, `input_size` a shape).
        grad_weight: `grad_weight(input, weight_size, grad_output, stride, padding, dilation,
            groups)` (`torch.nn.grad.conv{dims}d_weight`'s).
        dtype: the arrays' dtype; tolerances scale with its machine epsilon.
        rtol: per-entry tolerance relative to the example's magnitude $s$ (default
            $16 L \varepsilon$, $L$ the terms per output), e.g. `1e-5` for float32 arithmetic.
        deadline: seconds one call of a function under test may take (default 5; `None`: no
            limit); the first slower call ends the run with a failure saying so. It is
            measured when the call returns (a call that never returns is not interrupted).
        derandomize: draw the same examples on every run (Hypothesis' `derandomize`).
        seed: the seed of the run; a failure's report gives the seed that reproduces it.
        **restrict: narrow the drawn specs, for convs that lack a feature: any of
            `max_size` (default 32 in 1-d, 16 in 2-d, 14 in 3-d: outputs wider than 12),
            `kernel_size`, `stride`, `dilation`, `padding`, `channels`, `groups`,
            `padding_styles`, `bias`, `square` (as `symconv.testing.conv_specs`; an int fixes
            the value, a `(lo, hi)` pair gives a range, e.g. `groups=1, dilation=1`),
            `padding_modes` (default `("zeros",)`; other modes are applied with `numpy.pad`
            and the conv called with padding 0), `batch` (default `(0, 2)`) and `values`
            (`"normal"`, `"integers"` or an element strategy).

    Raises:
        AssertionError: the first identity that fails, on the smallest example Hypothesis finds,
            raised once: the identity, the spec (a `symconv.Conv(...)` expression), the call,
            the shapes, the worst entry, absolute and relative error, a hint where one applies
            (float32 rounding, a feature to narrow away), the arrays when small, and the
            `check_identities(...)` call (with its seed) that reproduces it.
        SpecError: an option names an unknown restriction, has a bad value, or leaves no
            valid spec.
    """
    __tracebackhide__ = True
    if dims not in (1, 2, 3):
        raise SpecError(f"check_identities: dims must be 1, 2 or 3, got {dims!r}")
    check_options("check_identities", rtol, deadline, max_examples, seed, derandomize)
    unknown = sorted(set(restrict) - set(_SPEC_KEYS) - set(_OTHER_KEYS))
    if unknown:
        raise SpecError(
            f"check_identities: unknown restriction(s) {unknown}; known: "
            f"{', '.join(_SPEC_KEYS + _OTHER_KEYS)}"
        )
    spec_kw: dict[str, Any] = {
        "max_size": DEFAULT_MAX_SIZE[dims],
        "padding_modes": ("zeros",),
        "padding_styles": ("int", "tuple", "valid", "same"),
        **{k: v for k, v in restrict.items() if k in _SPEC_KEYS},
    }
    styles = spec_kw["padding_styles"]
    styles = (styles,) if isinstance(styles, str) else tuple(styles)
    if "pairs" in styles or any(s not in PADDING_STYLES for s in styles):
        raise SpecError(
            f"check_identities: padding_styles {styles!r}: F.conv's signature takes 'int', "
            f"'tuple', 'valid', 'same' or 'full' (passed as ints), not (lo, hi) pairs"
        )
    spec_kw.update(dims=dims, flip=False)
    specs = conv_specs(**spec_kw)  # validates the restriction now, with a SpecError
    batch = restrict.get("batch", (0, 2))
    batch = (batch, batch) if isinstance(batch, int) else tuple(batch)
    values = restrict.get("values", "normal")
    dtype = np.dtype(dtype)
    fns: dict[str, Any] = {
        "conv": conv,
        "transpose": transpose,
        "grad_input": grad_input,
        "grad_weight": grad_weight,
        "_restrict": restrict,
        "_deadline": deadline,
    }

    def body(example: _Example) -> None:
        __tracebackhide__ = True
        _Checker(example, fns, dims, dtype, rtol).run()

    def reproduce(again: dict[str, Any]) -> str:
        options: dict[str, Any] = {"dims": dims}
        for name, fn in (("transpose", transpose), ("grad_input", grad_input)):
            if fn is not None:
                options[name] = Bare(fn_name(fn, name))
        if grad_weight is not None:
            options["grad_weight"] = Bare(fn_name(grad_weight, "grad_weight"))
        if dtype != np.float64:
            options["dtype"] = str(dtype)
        for key, value in (("rtol", rtol), ("deadline", deadline)):
            if value != {"rtol": None, "deadline": DEFAULT_DEADLINE}[key]:
                options[key] = value
        options.update(again)
        options.update(restrict)
        return call_source(fn_name(conv, "conv"), "check_identities", [], options)

    run_checks(
        _examples(specs, batch, values, dtype),
        body,
        max_examples=max_examples,
        derandomize=derandomize,
        seed=seed,
        reproduce=reproduce,
    )
