"""The pooling functions of a printed layer module (`symconv.codegen.layer`): max, average
and lp pooling's `forward` and `backward`, average pooling's divisors counted from the index
form's tables (and checked against `IndexForm.divisors()`)."""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from .._errors import SpecError
from ..spec import Pool
from ._layer_module import (
    _ARRAY,
    _IS_INT,
    _LIB,
    _check_helper,
    _chk,
    _full,
    _int_tuple,
    _Module,
    _pad_helpers,
    _shape_doc,
    _size_text,
    _taps_const,
    _tuple,
    _zeros,
)


# -- pooling -----------------------------------------------------------------------------------
def _counts(m: _Module, include_pad: bool) -> list[list[int]]:
    """Per axis and output: the window's taps inside the padded input (`include_pad`) or inside
    the input, counted from the index form's tap tables (as `IndexForm.divisors`)."""
    return [(m.form.tap_table(a, padded=include_pad) >= 0).sum(axis=1).tolist() for a in range(m.d)]


def _divisor_const(m: _Module, counts: list[list[int]], what: str) -> str:
    vectors = "".join(f"    {_int_tuple(c)},\n" for c in counts)
    m.consts.append(
        f"# {what}, per axis and output (a window's count is their product)\nCOUNTS = (\n{vectors})"
    )
    if m.b == "numpy":
        vec = "numpy.asarray(COUNTS[{k}], dtype=like.dtype)"
    else:
        vec = "torch.tensor(COUNTS[{k}], dtype=like.dtype, device=like.device)"
    terms = []
    for k in range(m.d):
        shape = ", ".join("-1" if i == k else "1" for i in range(m.d))
        terms.append(f"{vec.format(k=k)}.reshape({shape})")
    body = " * ".join(terms) if m.d == 1 else "(\n        " + "\n        * ".join(terms) + "\n    )"
    m.helpers.append(f'''def _count(like):
    """The window counts as an array of the output's spatial shape {_tuple(m.out)}."""
    return {body}''')
    return "_count(x)"


def _pool(m: _Module) -> None:
    spec: Pool = m.spec  # type: ignore[assignment]  # _pool: a Pool module
    kind = spec.kind
    size, out = _size_text(m.size), _size_text(m.out)
    x_doc, y_doc = _shape_doc("C", m.size), _shape_doc("C", m.out)
    m.consts.append(
        f"X_SHAPE = (None, None, {m.spatial(m.size)})  # None: any batch size, any channels\n"
        f"Y_SHAPE = (None, None, {m.spatial(m.out)})"
    )
    _taps_const(m, "padded positions j read")
    m.helpers.append(_check_helper(m))
    fill = {"max": "-math.inf", "avg": "0.0", "lp": "0.0"}[kind]
    pad, unpad = _pad_helpers(m, fill)
    if kind == "max":  # its backward scatters through the indices, never through the padding
        unpad = ""
    m.helpers += [h for h in (pad, unpad) if h]
    read = "_pad(x)" if pad else "x"
    js = ", ".join(f"j{k}" for k in range(m.d))
    os_ = ", ".join(f"o{k}" for k in range(m.d))
    x_what = f"{x_doc}: batch, channels, input {size}"
    d_what = f"{y_doc}: batch, channels, output {out}"
    cx, cd = _chk("x", "X_SHAPE", x_what), _chk("delta", "Y_SHAPE", d_what)
    lib = _LIB[m.b]
    new_y = _zeros(m.b, f"(x.shape[0], x.shape[1], {m.spatial(m.out)})", "x")
    padded = tuple(int(ax.padded) for ax in m.form.axes)  # type: ignore[arg-type]  # sized
    new_gp = _zeros(m.b, f"(delta.shape[0], delta.shape[1], {m.spatial(padded)})", "delta")
    crop = "    return _unpad(gp)" if unpad else "    return gp"
    if kind == "max":
        m.imports.add("math")
        n_in, n_out = math.prod(m.size), math.prod(m.out)
        inner = ", ".join(f"{ax.lo}:{ax.lo + cast(int, ax.size)}" for ax in m.form.axes)
        if m.b == "numpy":
            plane = f"numpy.full({_tuple(padded)}, -1, dtype=numpy.int64)"
            ar = f"numpy.arange({n_in}).reshape({m.spatial(m.size)})"
            new_i = "numpy.full(y.shape, -1, dtype=numpy.int64)"
            count = "indices.size"
            scatter = f"""    flat = numpy.zeros((n * c, {n_in}), dtype=delta.dtype)
    rows = numpy.arange(n * c)[:, None]
    numpy.add.at(flat, (rows, indices.reshape(n * c, {n_out})), delta.reshape(n * c, {n_out}))"""
        else:
            plane = f"torch.full({_tuple(padded)}, -1, dtype=torch.int64, device=x.device)"
            ar = f"torch.arange({n_in}, device=x.device).reshape({m.spatial(m.size)})"
            new_i = "torch.full(y.shape, -1, dtype=torch.int64, device=x.device)"
            count = "indices.numel()"
            scatter = f"""    flat = delta.new_zeros((n * c, {n_in}))
    flat.scatter_add_(1, indices.reshape(n * c, {n_out}), delta.reshape(n * c, {n_out}))"""
        int_kind = ("int64 " if m.b == "torch" else "integer ") + _ARRAY[m.b]
        new_yfull = _full(m.b, f"(x.shape[0], x.shape[1], {m.spatial(m.out)})", "-math.inf", "x")
        m.funcs.append(f'''def forward(x):
    """(y, indices) as torch's max_pool{m.d}d(..., return_indices=True): x {x_doc} -> y {y_doc};
    indices: each maximum's flat position in the input plane (the first maximum of its window;
    a NaN wins, as in torch)."""
{cx}
    xp = {read}
    # the flat input index at each padded position, -1 in the padding
    where = {plane}
    where[{inner}] = {ar}
    y = {new_yfull}
    idx = {new_i}
    {m.loop()}
        v, i = xp[:, :, {js}], where[{js}]
        old, old_i = y[:, :, {os_}], idx[:, :, {os_}]
        take = (i >= 0) & ((v > old) | {lib}.isnan(v) | (old_i < 0))
        y[:, :, {os_}] = {lib}.where(take, v, old)
        idx[:, :, {os_}] = {lib}.where(take, i, old_i)
    return y, idx''')
        m.funcs.append(f'''def backward(delta, indices):
    """dL/dx {x_doc} for dL/dy = delta {y_doc}: each delta goes to the input its maximum came
    from (indices as forward returns them)."""
{cd}
    v = indices
    if not isinstance(v, {_ARRAY[m.b]}) or not ({_IS_INT[m.b]}):
        got = type(v).__name__ + (f" of dtype {{v.dtype}}" if hasattr(v, "dtype") else "")
        raise ValueError(f"indices must be an {int_kind}, got {{got}}")
    if tuple(v.shape) != tuple(delta.shape):
        got = f"{{tuple(v.shape)}}, delta {{tuple(delta.shape)}}"
        raise ValueError(f"indices must have delta's shape, got {{got}}")
    if {count} and (int(v.min()) < 0 or int(v.max()) >= {n_in}):
        raise ValueError("indices must lie in [0, {n_in}): flat positions in a {size} input")
    n, c = delta.shape[:2]
{scatter}
    return flat.reshape(n, c, {m.spatial(m.size)})''')
        return
    if spec.divisor_override is not None:
        divisor = str(spec.divisor_override)
        div_doc = f"divisor_override {spec.divisor_override}"
    elif kind == "lp":
        divisor = _divisor_const(m, _counts(m, False), "Input positions in each window")
        div_doc = "its input positions"
    else:
        include = bool(spec.count_include_pad)
        where_ = "padded input" if include else "input"
        counts = _counts(m, include)
        grid = np.prod(np.meshgrid(*counts, indexing="ij"), axis=0)
        if not np.array_equal(grid, m.form.divisors()):
            raise SpecError(f"generate: the window counts of {spec} disagree with divisors()")
        divisor = _divisor_const(m, counts, f"Window taps inside the {where_}")
        div_doc = f"its taps inside the {where_}"
    if kind == "avg":
        m.funcs.append(f'''def forward(x):
    """Average pooling: x {x_doc} -> y {y_doc}, each window's sum over {div_doc}."""
{cx}
    xp = {read}
    y = {new_y}
    {m.loop()}
        y[:, :, {os_}] += xp[:, :, {js}]
    return y / {divisor}''')
        m.funcs.append(f'''def backward(delta):
    """dL/dx {x_doc} for dL/dy = delta {y_doc}: delta / divisor spread over each window."""
{cd}
    g = delta / {divisor.replace("(x)", "(delta)")}
    gp = {new_gp}
    {m.loop()}
        gp[:, :, {js}] += g[:, :, {os_}]
{crop}''')
        return
    p = float(spec.norm_type)  # type: ignore[arg-type]  # lp: set
    inv, pm1, one_m = 1.0 / p, p - 1.0, 1.0 - p
    k = math.prod(spec.kernel_size)
    if m.b == "numpy":  # x^p of a negative x, y^(1 - p) at y = 0: as torch, no warnings
        quiet, ind = '    with numpy.errstate(all="ignore"):\n', "    "
    else:
        quiet, ind = "", ""
    m.funcs.append(f'''def forward(x):
    """Power-average pooling as torch's lp_pool{m.d}d, p = {p!r}: x {x_doc} -> y {y_doc},
    y = ({k} / N_o * sum over the window of x^p)^(1/p), N_o {div_doc}."""
{cx}
    xp = {read}
    s = {new_y}
{quiet}{ind}    {m.loop()}
{ind}        s[:, :, {os_}] += xp[:, :, {js}] ** {p!r}
{ind}    return (s / {divisor} * {k}) ** {inv!r}''')
    m.funcs.append(f'''def backward(delta, x):
    """dL/dx {x_doc} for dL/dy = delta {y_doc} (symconv.poolgrad): dy_o/dx_j =
    c_o x_j^(p-1) y_o^(1-p), c_o = {k} / N_o; zero where the window's sum of powers is zero."""
{cd}
{_chk("x", "X_SHAPE", x_what, "delta")}
    if tuple(x.shape[:2]) != tuple(delta.shape[:2]):
        got = f"{{tuple(x.shape)}} and {{tuple(delta.shape)}}"
        raise ValueError(f"x and delta must agree on batch and channels, got {{got}}")
    y = forward(x)
    xp = {read}
    gp = {new_gp}
{quiet}{ind}    coef = {lib}.where(y != 0, delta * ({k} / {divisor}) * y ** {one_m!r}, 0.0)
{ind}    {m.loop()}
{ind}        gp[:, :, {js}] += coef[:, :, {os_}] * xp[:, :, {js}] ** {pm1!r}
{crop}''')
