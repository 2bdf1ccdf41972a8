"""What every printed layer module shares (`symconv.codegen.layer`): the backend vocabulary
(the only place NumPy and torch differ), the index form read as slice literals, and `_Module`,
the module under construction, with the input checks and padding helpers its functions use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from .._errors import SpecError
from ..indexform import IndexForm, index_form
from ..spec import Conv, Pool
from ..transpose import ConvTranspose

Layer = Conv | ConvTranspose | Pool
LAYER_BACKENDS = ("numpy", "torch")

# -- the backend vocabulary (the only place the two backends differ) ---------------------------
_LIB = {"numpy": "numpy", "torch": "torch"}
_ARRAY = {"numpy": "numpy.ndarray", "torch": "torch.Tensor"}
_IS_FLOAT = {
    "numpy": "numpy.issubdtype(v.dtype, numpy.floating)",
    "torch": "v.is_floating_point()",
}
_REFUSED = {  # array types that pass isinstance but would be misread (a mask ignored)
    "numpy": " or isinstance(v, numpy.ma.MaskedArray)",
    "torch": "",
}
_IS_INT = {
    "numpy": "numpy.issubdtype(v.dtype, numpy.integer)",
    "torch": "v.dtype == torch.int64",
}


def _zeros(backend: str, shape: str, like: str) -> str:
    if backend == "numpy":
        return f"numpy.zeros({shape}, dtype={like}.dtype)"
    return f"{like}.new_zeros({shape})"


def _full(backend: str, shape: str, value: str, like: str) -> str:
    if backend == "numpy":
        return f"numpy.full({shape}, {value}, dtype={like}.dtype)"
    return f"{like}.new_full({shape}, {value})"


# -- reading the index form --------------------------------------------------------------------
def _progression(values: np.ndarray, what: str) -> str:
    """`values` (an arithmetic progression, checked) as a `slice` literal."""
    start = int(values[0])
    step = int(values[1] - values[0]) if len(values) > 1 else 1
    stop = int(values[-1]) + 1
    if step < 1 or not np.array_equal(values, np.arange(start, stop, step)):
        raise SpecError(f"generate: {what} {values.tolist()} is not a progression; no slice")
    return f"slice({start}, {stop})" if step == 1 else f"slice({start}, {stop}, {step})"


def _taps(form: IndexForm) -> list[list[tuple[int, str, str]]]:
    """Per axis: `(a, outputs, positions)` slice literals of each tap that reads something."""
    out = []
    for axis, ax in enumerate(form.axes):
        table = form.tap_table(axis, padded=form.kind != "transpose")
        entries = []
        for a in range(ax.kernel):
            (o,) = np.nonzero(table[:, a] >= 0)
            if len(o):
                what = f"axis {axis} tap {a}:"
                entries.append(
                    (a, _progression(o, f"{what} outputs"), _progression(table[o, a], what))
                )
        out.append(entries)
    return out


def _int_tuple(values: Sequence[int]) -> str:
    """A tuple literal of `values`, runs of four or more written as `*range(...)`."""
    vals = [int(v) for v in values]
    parts: list[str] = []
    i = 0
    while i < len(vals):
        j = i + 1
        step = vals[j] - vals[i] if j < len(vals) else 0
        while j < len(vals) and vals[j] - vals[j - 1] == step:
            j += 1
        if j - i >= 4 and step != 0:
            stop = vals[j - 1] + (1 if step > 0 else -1)
            parts.append(f"*range({vals[i]}, {stop}" + ("" if step == 1 else f", {step}") + ")")
            i = j
        elif j - i >= 4:
            parts.append(f"*({vals[i]},) * {j - i}")
            i = j
        else:
            parts.append(str(vals[i]))
            i += 1
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _size_text(size: Sequence[int]) -> str:
    return "x".join(map(str, size))


def _tuple(values: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, values)) + ("," if len(values) == 1 else "") + ")"


# -- printing ----------------------------------------------------------------------------------
class _Module:
    """Collects the pieces of one layer module (constants, helpers, functions) in order."""

    def __init__(self, spec: Layer, size: tuple[int, ...], backend: str) -> None:
        self.spec, self.size, self.b = spec, size, backend
        self.form = index_form(spec, size)
        self.out = tuple(self.form.output_size)  # type: ignore[arg-type]  # sized
        self.d = spec.dims
        self.consts: list[str] = []
        self.helpers: list[str] = []
        self.funcs: list[str] = []
        self.imports = {_LIB[backend]} | ({"itertools"} if spec.dims > 1 else set())

    # array indexing text: x[:, :, o0, o1]
    def idx(self, name: str, var: str) -> str:
        return f"{name}[:, :, {', '.join(f'{var}{k}' for k in range(self.d))}]"

    def loop(self) -> str:
        if self.d == 1:
            return "for a0, o0, j0 in TAPS[0]:"
        names = ", ".join(f"(a{k}, o{k}, j{k})" for k in range(self.d))
        return f"for {names} in itertools.product(*TAPS):"

    def wtap(self) -> str:
        return f"w[:, :, {', '.join(f'a{k}' for k in range(self.d))}]"

    def spatial(self, shape: Sequence[int]) -> str:
        return ", ".join(map(str, shape))


def _shape_doc(channels: str, size: Sequence[int]) -> str:
    return f"(N, {channels}, {', '.join(map(str, size))})"


def _check_helper(m: _Module) -> str:
    array = _ARRAY[m.b]
    return f'''def _check(name, v, shape, what, like=None):
    """Refuse `v` unless it is a floating-point {array} of `shape` (None: any length)."""
    ok = isinstance(v, {array}) and {_IS_FLOAT[m.b]}
    if not ok{_REFUSED[m.b]}:
        got = type(v).__name__ + (f" of dtype {{v.dtype}}" if hasattr(v, "dtype") else "")
        raise ValueError(f"{{name}} must be a floating-point {array}, got {{got}}")
    if v.ndim != len(shape) or any(n not in (None, k) for n, k in zip(shape, v.shape)):
        raise ValueError(f"{{name}} must have shape {{what}}, got {{tuple(v.shape)}}")
    if like is not None and v.dtype != like.dtype:
        raise ValueError(f"{{name}} has dtype {{v.dtype}}, not {{like.dtype}} as the others")
    return v'''


def _chk(name: str, shape: str, what: str, like: str | None = None) -> str:
    """A call of the printed `_check`, one line."""
    extra = f", like={like}" if like else ""
    return f"    {name} = _check({name!r}, {name}, {shape}, {what!r}{extra})".replace("'", '"')


def _pad_helpers(m: _Module, fill: str) -> tuple[str, str]:
    """`_pad(x)` (x -> x~, from the form's padding) and `_unpad(g)` (its adjoint), or empty."""
    axes = m.form.axes
    padded = tuple(int(ax.padded) for ax in axes)  # type: ignore[arg-type]  # sized
    if padded == m.size:
        return "", ""
    mode = getattr(m.spec, "padding_mode", "zeros")
    inner = ", ".join(f"{ax.lo}:{ax.lo + cast(int, ax.size)}" for ax in axes)  # sized form
    if mode == "zeros":
        shape = f"(x.shape[0], x.shape[1], {m.spatial(padded)})"
        new = _zeros(m.b, shape, "x") if fill == "0.0" else _full(m.b, shape, fill, "x")
        pads = [(ax.lo, ax.hi) for ax in axes]
        pad = f'''def _pad(x):
    """x~: x padded with {fill.replace("math.", "")} by (P_lo, P_hi) = {pads} per axis."""
    xp = {new}
    xp[:, :, {inner}] = x
    return xp'''
        unpad = f'''def _unpad(g):
    """The adjoint of _pad: the interior of the padded gradient."""
    return g[:, :, {inner}]'''
        return pad, unpad
    phis = [_int_tuple(m.form.pad_table(a).tolist()) for a in range(m.d)]
    m.consts.append(
        f"# x~[..., j] = x[..., PHI[axis][j]]: the {mode!r} padding map phi(j - P_lo) per axis\n"
        "# (IndexForm.pad_table)\n"
        "PHI = (\n" + "".join(f"    {p},\n" for p in phis) + ")"
    )
    gathers = "".join(f"[{':, ' * (2 + k)}PHI[{k}]]" for k in range(m.d))
    pad = f'''def _pad(x):
    """x~: x padded by its {mode!r} padding map phi (PHI)."""
    return x{gathers}'''
    if m.b == "numpy":
        body = """        shape = (*g.shape[:axis], n, *g.shape[axis + 1 :])
        out = numpy.zeros(shape, dtype=g.dtype)
        numpy.add.at(out, (slice(None),) * axis + (numpy.asarray(phi),), g)"""
    else:
        body = """        out = g.new_zeros((*g.shape[:axis], n, *g.shape[axis + 1 :]))
        out.index_add_(axis, torch.tensor(phi, device=g.device), g)"""
    sizes = ", ".join(f"({k + 2}, PHI[{k}], {n})" for k, n in enumerate(m.size))
    unpad = f'''def _unpad(g):
    """The adjoint of _pad: each padded position's gradient added to the input it copies."""
    for axis, phi, n in ({sizes}{"," if m.d == 1 else ""}):
{body}
        g = out
    return g'''
    return pad, unpad


def _taps_const(m: _Module, what: str) -> None:
    lines = [
        f"# TAPS[axis]: (tap a, outputs o, {what}) as slices, one entry per kernel tap that",
        f"# reads something; from symconv.index_form(spec, {m.size}).tap_table(axis"
        + (", padded=True)" if m.form.kind != "transpose" else ")"),
        "TAPS = (",
    ]
    for axis, entries in enumerate(_taps(m.form)):
        lines.append(f"    (  # axis {axis}")
        lines += [f"        ({a}, {o}, {j})," for a, o, j in entries]
        lines.append("    ),")
    lines.append(")")
    m.consts.append("\n".join(lines))
