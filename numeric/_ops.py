"""The public operations, any number of spatial axes; `numeric._generated.api` names them per dims.

Each operation normalises its arguments once (by building the `symconv` spec: one validation
path), checks the arrays, sizes the batch chunk from the workspace budget and calls the
generated kernel of the backend the arrays pick.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symconv._errors import SpecError
from symconv.limits import check_numeric
from symconv.spec import Conv, Pool
from symconv.transpose import ConvTranspose

from . import _autograd
from ._autograd import needs_grad
from ._backend import (
    check_ndim,
    chunk_for,
    get_workspace_limit,
    itemsize,
    pick,
    prod,
    shape_arg,
)
from ._half import half_precision
from ._parallel import get_num_threads, map_batch

Array = Any
IntOrTuple = int | Sequence[int]


def _layout(dims: int) -> str:
    return "(N, C, " + ", ".join("DHW"[3 - dims :]) + ")"


def _batched(op: str, name: str, x: Array, dims: int) -> tuple[Array, bool]:
    """Accept torch's unbatched input (C, *spatial) by adding a batch axis."""
    if x.ndim == dims + 1:
        return x[None], True
    check_ndim(op, name, x, dims + 2, _layout(dims))
    return x, False


_PER_AXIS = ("kernel_size", "stride", "padding", "dilation", "output_padding")


def _spec(op: str, cls: type, **kw: Any) -> Any:
    """`cls(**kw)`, a one-entry tuple or list of a per-axis argument standing for every axis
    (torch's functional ops accept `stride=(2,)` in 2D), a SpecError prefixed with `op`."""
    for key in _PER_AXIS:
        value = kw.get(key)
        if isinstance(value, tuple | list) and len(value) == 1 and kw.get("dims", 1) > 1:
            kw[key] = tuple(value) * kw["dims"]
    try:
        return cls(**kw)
    except SpecError as err:
        raise SpecError(f"{op}: {err}") from None


def _checked_size(
    op: str, spec: Any, size: Sequence[int], shape: Sequence[int] = (), item: int = 8
) -> tuple[int, ...]:
    """The spatial output size; with the array's full `shape` (N, C, *spatial) and `item`
    bytes per element, the call's cost is checked first against `symconv.limits`
    (`numeric_bytes`): the output's bytes and one sample's padded input, both known before
    anything is allocated."""
    try:
        out = spec.output_size(tuple(int(s) for s in size))
    except SpecError as err:
        raise SpecError(f"{op}: {err}") from None
    if shape:
        n, c = int(shape[0]), int(shape[1])
        c_out = getattr(spec, "out_channels", c)
        check_numeric(
            op, f"an output of shape {(n, c_out, *out)} in bytes", n * c_out * prod(out) * item
        )
        pads = getattr(spec, "pads", None)
        if pads is None:  # Pool (ConvTranspose: its output, checked above, is the large side)
            pads = tuple((p, p) for p in getattr(spec, "padding", ()))
        if pads:
            padded = prod(int(i) + lo + hi for i, (lo, hi) in zip(size, pads, strict=True))
            check_numeric(op, "one sample's padded input in bytes", c * padded * item)
            step = max((*spec.stride, *spec.dilation))
            if c * padded * item * step >= 2**62:  # NumPy's and torch's strides are int64
                raise SpecError(
                    f"{op}: stride or dilation {step} is too large for 64-bit array strides "
                    f"on a padded input of {c * padded} elements (at most "
                    f"{2**62 // (c * padded * item) - 1} here)"
                )
    return out


def _check_shape(op: str, name: str, a: Array, shape: Sequence[int]) -> None:
    if tuple(a.shape) != tuple(shape):
        raise SpecError(f"{op}: {name} has shape {tuple(a.shape)}, expected {tuple(shape)}")


# -- convolution --------------------------------------------------------------------------------
def conv_spec(
    op: str,
    dims: int,
    c_in: int,
    weight_shape: Sequence[int],
    bias: bool,
    stride: IntOrTuple,
    padding: Any,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    flip: bool,
) -> Conv:
    """The `symconv.Conv` these arguments describe, the weight's channel count checked."""
    if len(weight_shape) != dims + 2:
        raise SpecError(
            f"{op}: weight must have {dims + 2} dimensions (C_out, C_in/groups, *kernel), "
            f"got shape {tuple(weight_shape)}"
        )
    c_out, c_g = int(weight_shape[0]), int(weight_shape[1])
    spec = _spec(
        op,
        Conv,
        dims=dims,
        in_channels=c_in,
        out_channels=c_out,
        kernel_size=tuple(int(k) for k in weight_shape[2:]),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=bias,
        padding_mode=padding_mode,
        flip=flip,
    )
    if c_g * spec.groups != c_in:
        raise SpecError(
            f"{op}: weight of shape {tuple(weight_shape)} expects {c_g * spec.groups} input "
            f"channels (C_in/groups = {c_g}, groups = {spec.groups}), but the input has {c_in}"
        )
    return spec


def _conv_bytes(spec: Conv, size: Sequence[int], item: int) -> int:
    """Workspace per sample: padded input, im2col columns (or, for the gradient, the padded
    delta's convolution), a copy of y."""
    padded = prod(i + lo + hi for i, (lo, hi) in zip(size, spec.pads, strict=True))
    out = prod(spec.output_size(tuple(size)))
    taps = prod(spec.kernel_size)
    cg = spec.in_channels // spec.groups
    work = max(out * taps * cg, 2 * padded * spec.out_channels)
    return item * (padded * spec.in_channels + work + out * spec.out_channels)


def _algorithm(
    op: str,
    kind: str,
    spec: Conv,
    size: Sequence[int],
    batch: int,
    algorithm: str,
    weight: Array | None = None,
    winograd_m: int | None = None,
    operands: Sequence[Array] = (),
) -> tuple[str, Any, bool]:
    """The algorithm to run, what choosing it found (separable: the kernel's rank-1 factors,
    found once per call), and whether the operands were found finite (only "auto" looks: True
    otherwise). Under "auto", `operands` holding inf or NaN restrict the choice to the
    algorithms that do not spread them (`numeric.algorithms.NON_SPREADING`)."""
    from . import algorithms

    finite = algorithm != "auto" or winograd_m is not None or algorithms.all_finite(*operands)
    item = itemsize(next(a for a in (*operands, weight) if a is not None)) if operands else 4
    name, found = algorithms.plan(
        kind, op, spec, tuple(int(n) for n in size), batch, algorithm, weight, winograd_m,
        finite=finite, itemsize=item,
    )  # fmt: skip
    return name, found, finite


def _by_taps(kind: str, spec: Conv, finite: bool, item: int, meets: Array) -> bool:
    """Whether `kind` of `spec` runs tap by tap over the in-bounds outputs (`numeric._taps`):
    only when "auto" found a non-finite operand (`finite` False), `meets` (the operand the
    padding's zeros would multiply: the weight for y and dL/dx, delta for dL/dw) is itself
    non-finite, and numeric leaves the padding out there (`_taps.padding_rule`). dL/dx runs so
    for every padding (its kernels multiply the zeros between strided outputs too)."""
    from . import _taps, algorithms

    if finite or not _taps.padding_rule(kind, item):
        return False
    if kind != "grad_input" and (spec.padding_mode != "zeros" or not any(map(any, spec.pads))):
        return False  # no zero padding: no padded zero to leave out
    return not algorithms.all_finite(meets)


def _flipped(be: Any, spec: Conv, w: Array) -> Array:
    return be.conv._flip(w, tuple(range(2, 2 + spec.dims))) if spec.flip else w


def conv(
    dims: int,
    op: str,
    input: Array,
    weight: Array,
    bias: Array | None,
    stride: IntOrTuple,
    padding: Any,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    flip: bool,
    algorithm: str = "auto",
    winograd_m: int | None = None,
) -> Array:
    be = pick(op, input=input, weight=weight, bias=bias)
    if needs_grad(input, weight, bias):  # torch autograd: backward by numeric's gradients
        layer = (stride, padding, dilation, groups, padding_mode, flip)
        return _autograd.conv(dims, op, input, weight, bias, layer, algorithm, winograd_m)
    x, unbatched = _batched(op, "input", input, dims)
    spec = conv_spec(
        op, dims, x.shape[1], weight.shape, bias is not None, stride, padding, dilation,
        groups, padding_mode, flip,
    )  # fmt: skip
    _checked_size(op, spec, x.shape[2:], x.shape, itemsize(x))
    if bias is not None:
        _check_shape(op, "bias", bias, (spec.out_channels,))
    name, factors, finite = _algorithm(
        op, "forward", spec, x.shape[2:], x.shape[0], algorithm, weight, winograd_m, (x, weight)
    )
    if _by_taps("forward", spec, finite, itemsize(x), weight):
        from . import _taps

        w = _flipped(be, spec, weight)
        chunk, cap = _chunk(be, _conv_bytes(spec, x.shape[2:], itemsize(x)))

        def taps(s: slice) -> Array:
            return _taps.forward(x[s], w, bias, spec.stride, spec.pads, spec.dilation, spec.groups)

        y = map_batch(be.name, x.shape[0], _work(spec, x.shape), chunk, taps, "concat", threads=cap)
        return y[0] if unbatched else y
    blocks = _fft_blocks(name, spec, x.shape, itemsize(x), "forward")
    if blocks:
        y = _fft_forward_blocks(be, blocks, x, weight, bias, spec)
        return y[0] if unbatched else y
    chunk, cap = _chunk(
        be, _bytes(spec, x.shape[2:], itemsize(x), name), _fixed(spec, x.shape, x, name)
    )
    if name == "direct":

        def call(s: slice) -> Array:
            return be.run(
                be.conv.conv_forward, x[s], weight, bias, spec.stride, spec.pads,
                spec.dilation, spec.groups, spec.padding_mode, spec.flip, chunk,
            )  # fmt: skip

        y = map_batch(be.name, x.shape[0], _work(spec, x.shape), chunk, call, "concat", threads=cap)
    else:
        from . import algorithms

        m = algorithms.WINOGRAD_M if winograd_m is None else winograd_m

        def write(s: slice, out: Array) -> None:  # each part straight into the output
            be.run(algorithms.forward, be, name, spec, x[s], weight, bias, chunk, m, factors, out)

        size = (x.shape[0], spec.out_channels, *spec.output_size(x.shape[2:]))
        y = map_batch(
            be.name, x.shape[0], _work(spec, x.shape), chunk, write, "into",
            be.conv._empty(size, x), threads=cap,
        )  # fmt: skip
    return y[0] if unbatched else y


def _fft_blocks(
    name: str, spec: Conv, shape: Sequence[int], item: int, kind: str
) -> list[tuple[Conv, slice, slice]] | None:
    """The FFT's blocks of output channels when its kernel's spectrum would not fit the
    workspace limit (`numeric._fft_blocks`), else None (every other algorithm, or an empty
    batch: None). `shape`: the input's (N, C, *spatial)."""
    if name != "fft" or int(shape[0]) == 0:
        return None
    from . import _fft_blocks

    return _fft_blocks.blocks(spec, shape[2:], item, kind)


def _block_chunk(be: Any, block: Conv, shape: Sequence[int], a: Array, kind: str) -> tuple:
    from . import _fft_blocks

    size = tuple(int(n) for n in shape[2:])
    return _chunk(be, *_fft_blocks.costs(block, size, itemsize(a), kind))


def _fft_forward_blocks(
    be: Any, blocks: list, x: Array, weight: Array, bias: Array | None, spec: Conv
) -> Array:
    """y by the FFT, block by block of output channels, each block's outputs written into y."""
    from . import algorithms

    size = (x.shape[0], spec.out_channels, *spec.output_size(x.shape[2:]))
    y = be.conv._empty(size, x)
    for block, cin, cout in blocks:
        chunk, cap = _block_chunk(be, block, x.shape, x, "forward")
        w, b = weight[cout], None if bias is None else bias[cout]

        def write(
            s: slice, out: Array, blk: Conv = block, cin: slice = cin, w: Array = w,
            b: Any = b, chunk: int = chunk,
        ) -> None:  # fmt: skip
            m = algorithms.WINOGRAD_M
            be.run(algorithms.forward, be, "fft", blk, x[s][:, cin], w, b, chunk, m, None, out)

        work = _work(block, x.shape)
        map_batch(be.name, x.shape[0], work, chunk, write, "into", y[:, cout], threads=cap)
    return y


def _fft_grad_input_blocks(
    be: Any, blocks: list, grad_output: Array, weight: Array, size: Sequence[int]
) -> Array:
    """dL/dx by the FFT, block by block of output channels, each block's part added into its
    group's inputs."""
    from . import algorithms

    dx = be.conv._zeros(tuple(size), grad_output)
    for block, cin, cout in blocks:
        chunk, cap = _block_chunk(be, block, size, weight, "grad_input")
        w = weight[cout]

        def add(
            s: slice, out: Array, blk: Conv = block, cin: slice = cin, cout: slice = cout,
            w: Array = w, chunk: int = chunk,
        ) -> None:  # fmt: skip
            out[:, cin] += be.run(
                algorithms.grad_input, be, "fft", blk, grad_output[s][:, cout], w, size[2:], chunk
            )

        map_batch(be.name, size[0], _work(block, size), chunk, add, "into", dx, threads=cap)
    return dx


def _fft_grad_weight_blocks(
    be: Any, blocks: list, x: Array, grad_output: Array, spec: Conv
) -> Array:
    """dL/dw by the FFT, block by block of output channels (the weight's rows)."""
    from . import algorithms

    dw = be.conv._empty((spec.out_channels, spec.in_channels // spec.groups, *spec.kernel_size), x)
    for block, cin, cout in blocks:
        chunk, cap = _block_chunk(be, block, x.shape, x, "grad_weight")

        def call(
            s: slice, blk: Conv = block, cin: slice = cin, cout: slice = cout, chunk: int = chunk
        ) -> Array:
            return be.run(
                algorithms.grad_weight, be, "fft", blk, x[s][:, cin], grad_output[s][:, cout], chunk
            )

        dw[cout] = map_batch(
            be.name, x.shape[0], _work(block, x.shape), chunk, call, "sum", threads=cap
        )
    return dw


def _bytes(spec: Conv, size: Sequence[int], item: int, algorithm: str) -> int:
    """Workspace per sample of `algorithm` (direct: `_conv_bytes`)."""
    if algorithm == "direct":
        return _conv_bytes(spec, size, item)
    from .algorithms import workspace_bytes

    return workspace_bytes(spec, tuple(int(s) for s in size), algorithm, item)


def _chunk(be: Any, per_sample: int, fixed: int = 0, parallel: bool = True) -> tuple[int, int]:
    """Samples per chunk and the most threads to run at once: the workspace budget shared by
    the threads that run at once, each also holding `fixed` bytes (the FFT's kernel spectrum),
    so fewer threads run when the fixed part leaves no room for all of them."""
    threads = get_num_threads() if be.name == "numpy" and parallel else 1
    limit = get_workspace_limit()
    if fixed:
        threads = max(1, min(threads, limit // max(1, fixed + per_sample)))
    room = max(0, limit - threads * fixed)
    return max(1, room // max(1, per_sample * threads)), threads


def _fixed(spec: Conv, shape: Sequence[int], a: Array, algorithm: str, op: str = "forward") -> int:
    """Workspace per call that does not grow with the batch (`fixed_workspace_bytes`)."""
    from .algorithms import fixed_workspace_bytes

    size = tuple(int(s) for s in shape[2:])
    return fixed_workspace_bytes(spec, size, algorithm, itemsize(a), op)


def _work(spec: Conv, shape: Sequence[int]) -> float:
    """Floating-point operations of the layer on the batch (2 x multiply-adds)."""
    return 2.0 * int(shape[0]) * spec.macs(tuple(int(s) for s in shape[2:]))


def conv_grad_input(
    dims: int,
    op: str,
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    stride: IntOrTuple,
    padding: Any,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    flip: bool,
    algorithm: str = "auto",
    winograd_m: int | None = None,
) -> Array:
    be = pick(op, weight=weight, grad_output=grad_output)
    size = shape_arg(op, "input_size", input_size)
    if len(size) != dims + 2:
        raise SpecError(
            f"{op}: input_size must be the input's full shape {_layout(dims)}, got {size}"
        )
    check_ndim(op, "grad_output", grad_output, dims + 2, _layout(dims))
    spec = conv_spec(
        op, dims, size[1], weight.shape, False, stride, padding, dilation, groups,
        padding_mode, flip,
    )  # fmt: skip
    out = _checked_size(op, spec, size[2:], size, itemsize(weight))
    _check_shape(op, "grad_output", grad_output, (size[0], spec.out_channels, *out))
    name, _, finite = _algorithm(
        op, "grad_input", spec, size[2:], size[0], algorithm, winograd_m=winograd_m,
        operands=(grad_output, weight),
    )  # fmt: skip
    if _by_taps("grad_input", spec, finite, itemsize(weight), weight):
        return _grad_input_by_taps(be, spec, grad_output, weight, size)
    blocks = _fft_blocks(name, spec, size, itemsize(weight), "grad_input")
    if blocks:
        return _fft_grad_input_blocks(be, blocks, grad_output, weight, size)
    chunk, cap = _chunk(
        be,
        _bytes(spec, size[2:], itemsize(weight), name) * 2,
        _fixed(spec, size, weight, name, "grad_input"),
    )
    if name != "direct":
        from . import algorithms

        m = algorithms.WINOGRAD_M if winograd_m is None else winograd_m

        def write(s: slice, out: Array) -> None:  # each part straight into dL/dx
            be.run(
                algorithms.grad_input, be, name, spec, grad_output[s], weight, size[2:], chunk,
                m, out,
            )  # fmt: skip

        dx = be.conv._empty(size, grad_output)
        return map_batch(be.name, size[0], _work(spec, size), chunk, write, "into", dx, threads=cap)

    def call(s: slice) -> Array:
        return be.run(
            be.conv.conv_grad_input, grad_output[s], weight, size[2:], spec.stride,
            spec.pads, spec.dilation, spec.groups, spec.padding_mode, spec.flip, chunk,
        )  # fmt: skip

    return map_batch(be.name, size[0], _work(spec, size), chunk, call, "concat", threads=cap)


def _grad_input_by_taps(
    be: Any, spec: Conv, grad_output: Array, weight: Array, size: Sequence[int]
) -> Array:
    """dL/dx tap by tap (`numeric._taps.grad_input`), batch chunks by the workspace budget; for a
    padding mode other than zeros on the padded grid, then folded back (Pad^T)."""
    from . import _taps

    w, pads, inner = _flipped(be, spec, weight), spec.pads, tuple(size[2:])
    if spec.padding_mode != "zeros":
        inner = tuple(n + lo + hi for n, (lo, hi) in zip(inner, pads, strict=True))
        pads = tuple((0, 0) for _ in inner)
    chunk, cap = _chunk(be, _conv_bytes(spec, size[2:], itemsize(weight)) * 2)

    def call(s: slice) -> Array:
        g = _taps.grad_input(
            grad_output[s], w, inner, spec.stride, pads, spec.dilation, spec.groups
        )
        if spec.padding_mode == "zeros":
            return g
        return be.conv._fold(g, tuple(size[2:]), spec.pads, spec.padding_mode)

    return map_batch(be.name, size[0], _work(spec, size), chunk, call, "concat", threads=cap)


def conv_grad_weight(
    dims: int,
    op: str,
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    stride: IntOrTuple,
    padding: Any,
    dilation: IntOrTuple,
    groups: int,
    padding_mode: str,
    flip: bool,
    algorithm: str = "auto",
    winograd_m: int | None = None,
) -> Array:
    be = pick(op, input=input, grad_output=grad_output)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    check_ndim(op, "grad_output", grad_output, dims + 2, _layout(dims))
    wsize = shape_arg(op, "weight_size", weight_size)
    spec = conv_spec(
        op, dims, input.shape[1], wsize, False, stride, padding, dilation, groups,
        padding_mode, flip,
    )  # fmt: skip
    out = _checked_size(op, spec, input.shape[2:], input.shape, itemsize(input))
    _check_shape(op, "grad_output", grad_output, (input.shape[0], spec.out_channels, *out))
    name, _, finite = _algorithm(
        op, "grad_weight", spec, input.shape[2:], input.shape[0], algorithm,
        winograd_m=winograd_m, operands=(input, grad_output),
    )  # fmt: skip
    if _by_taps("grad_weight", spec, finite, itemsize(input), grad_output):
        from . import _taps

        chunk, cap = _chunk(be, _conv_bytes(spec, input.shape[2:], itemsize(input)) * 2)

        def taps(s: slice) -> Array:
            dw = _taps.grad_weight(
                input[s], grad_output[s], spec.kernel_size, spec.stride, spec.pads,
                spec.dilation, spec.groups,
            )  # fmt: skip
            return _flipped(be, spec, dw)

        return map_batch(
            be.name, input.shape[0], _work(spec, input.shape), chunk, taps, "sum", threads=cap
        )
    blocks = _fft_blocks(name, spec, input.shape, itemsize(input), "grad_weight")
    if blocks:
        return _fft_grad_weight_blocks(be, blocks, input, grad_output, spec)
    chunk, cap = _chunk(
        be,
        _bytes(spec, input.shape[2:], itemsize(input), name) * 2,
        _fixed(spec, input.shape, input, name, "grad_weight"),
    )
    if name != "direct":
        from . import algorithms

        m = algorithms.WINOGRAD_M if winograd_m is None else winograd_m

        def call(s: slice) -> Array:
            return be.run(
                algorithms.grad_weight, be, name, spec, input[s], grad_output[s], chunk, m
            )
    else:

        def call(s: slice) -> Array:
            return be.run(
                be.conv.conv_grad_weight, input[s], grad_output[s], spec.kernel_size,
                spec.stride, spec.pads, spec.dilation, spec.groups, spec.padding_mode,
                spec.flip, chunk,
            )  # fmt: skip

    return map_batch(
        be.name, input.shape[0], _work(spec, input.shape), chunk, call, "sum", threads=cap
    )


def conv_grad_bias(op: str, grad_output: Array) -> Array:
    be = pick(op, grad_output=grad_output)
    if grad_output.ndim < 3:
        raise SpecError(f"{op}: grad_output must be (N, C_out, *spatial), got {grad_output.shape}")
    return be.run(be.conv.conv_grad_bias, grad_output)


def conv_transpose(
    dims: int,
    op: str,
    input: Array,
    weight: Array,
    bias: Array | None,
    stride: IntOrTuple,
    padding: IntOrTuple,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
) -> Array:
    be = pick(op, input=input, weight=weight, bias=bias)
    if needs_grad(input, weight, bias):  # torch autograd: dL/dx = T delta, a convolution
        conf = (stride, padding, output_padding, groups, dilation)
        return _autograd.conv_transpose(dims, op, input, weight, bias, conf)
    x, unbatched = _batched(op, "input", input, dims)
    spec = _transpose_spec(
        op, dims, x.shape, weight, stride, padding, output_padding, groups, dilation,
        bias=bias is not None,
    )  # fmt: skip
    out = _checked_size(op, spec, x.shape[2:], x.shape, itemsize(x))
    if bias is not None:
        _check_shape(op, "bias", bias, (spec.out_channels,))
    per = (
        itemsize(x)
        * prod(out)
        * (spec.in_channels * 4 + spec.out_channels * 3)
        * prod(spec.kernel_size)
    )
    from .algorithms import all_finite

    if not all_finite(weight):  # y = T^T x tap by tap: no zero between the inputs multiplied
        from . import _taps

        pads = tuple((p, p) for p in spec.padding)
        chunk, cap = _chunk(be, per // max(1, int(x.shape[0])))

        def taps(s: slice) -> Array:
            y = _taps.grad_input(x[s], weight, out, spec.stride, pads, spec.dilation, spec.groups)
            return y if bias is None else y + bias.reshape(-1, *(1 for _ in out))

        y = map_batch(be.name, x.shape[0], 0.0, chunk, taps, "concat", threads=cap)
        return y[0] if unbatched else y
    y = be.run(
        be.conv.conv_transpose_forward, x, weight, bias, spec.stride, spec.padding,
        spec.output_padding, spec.dilation, spec.groups, chunk_for(per),
    )  # fmt: skip
    return y[0] if unbatched else y


# -- pooling ------------------------------------------------------------------------------------
def pool_spec(op: str, dims: int, x: Array, **kw: Any) -> tuple[Pool, tuple[int, ...]]:
    stride = kw.pop("stride", None)
    if isinstance(stride, tuple | list) and len(stride) == 0:
        stride = None  # torch: stride=[] means the kernel size
    spec = _spec(op, Pool, dims=dims, stride=stride, **kw)
    return spec, _checked_size(op, spec, x.shape[2:], x.shape, itemsize(x))


def max_pool(dims: int, op: str, input: Array, return_indices: bool, **kw: Any) -> Any:
    be = pick(op, input=input)
    if needs_grad(input):
        return _autograd.pool("max", dims, op, input, None, kw, return_indices)
    x, unbatched = _batched(op, "input", input, dims)
    spec, out = pool_spec(op, dims, x, kind="max", **kw)
    y, idx = be.run(
        be.pool.max_pool, x, spec.kernel_size, spec.stride, spec.padding, spec.dilation, out
    )
    if unbatched:
        y, idx = y[0], idx[0]
    return (y, idx) if return_indices else y


def max_pool_backward(
    dims: int, op: str, grad_output: Array, input: Array, indices: Array | None, **kw: Any
) -> Array:
    be = pick(op, grad_output=grad_output, input=input)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    spec, out = pool_spec(op, dims, input, kind="max", **kw)
    _check_shape(op, "grad_output", grad_output, (*input.shape[:2], *out))
    if indices is None:
        _, indices = be.run(
            be.pool.max_pool, input, spec.kernel_size, spec.stride, spec.padding,
            spec.dilation, out,
        )  # fmt: skip
    else:
        _check_indices(op, be, indices, grad_output, prod(input.shape[2:]))
    return be.run(be.pool.max_pool_backward, grad_output, indices, tuple(input.shape[2:]))


def _check_indices(op: str, be: Any, indices: Any, grad_output: Array, per: int) -> None:
    """`indices` as `max_pool*d(return_indices=True)` returns them: the array type (and device)
    of grad_output, integer, its shape, each a flat spatial index in [0, per) or -1 (a window
    entirely in the padding: it sends nothing)."""
    if be.name == "torch":
        import torch

        ok = isinstance(indices, torch.Tensor) and indices.device == grad_output.device
        integer = ok and not (indices.dtype.is_floating_point or indices.dtype.is_complex)
        integer = integer and indices.dtype != torch.bool
    else:
        ok = isinstance(indices, np.ndarray)
        integer = ok and indices.dtype.kind in "iu"
    if not ok:
        where = (
            f"a torch.Tensor on {grad_output.device}" if be.name == "torch" else "a numpy.ndarray"
        )
        raise SpecError(
            f"{op}: indices must be {where} like grad_output, got {type(indices).__name__}"
        )
    if not integer:
        raise SpecError(f"{op}: indices must have an integer dtype, got {indices.dtype}")
    _check_shape(op, "indices", indices, grad_output.shape)
    if indices.numel() if be.name == "torch" else indices.size:
        lo, hi = int(indices.min()), int(indices.max())
        if lo < -1 or hi >= per:
            bad = lo if lo < -1 else hi
            raise SpecError(
                f"{op}: indices must be flat positions in [0, {per}) of the input's spatial axes "
                f"(or -1 for a window entirely in the padding), got {bad}"
            )


def avg_pool(dims: int, op: str, input: Array, **kw: Any) -> Array:
    be = pick(op, input=input)
    if needs_grad(input):
        return _autograd.pool("avg", dims, op, input, None, kw)
    x, unbatched = _batched(op, "input", input, dims)
    spec, out = pool_spec(op, dims, x, kind="avg", **kw)
    y = be.run(
        be.pool.avg_pool, x, spec.kernel_size, spec.stride, spec.padding, out,
        spec.count_include_pad, spec.divisor_override,
    )  # fmt: skip
    return y[0] if unbatched else y


def avg_pool_backward(dims: int, op: str, grad_output: Array, input: Array, **kw: Any) -> Array:
    be = pick(op, grad_output=grad_output, input=input)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    spec, out = pool_spec(op, dims, input, kind="avg", **kw)
    _check_shape(op, "grad_output", grad_output, (*input.shape[:2], *out))
    return be.run(
        be.pool.avg_pool_backward, grad_output, tuple(input.shape[2:]), spec.kernel_size,
        spec.stride, spec.padding, spec.count_include_pad, spec.divisor_override,
    )  # fmt: skip


def lp_pool(dims: int, op: str, input: Array, norm_type: float, **kw: Any) -> Array:
    be = pick(op, input=input)
    if needs_grad(input):
        return _autograd.pool("lp", dims, op, input, norm_type, kw)
    x, unbatched = _batched(op, "input", input, dims)
    spec, out = pool_spec(op, dims, x, kind="lp", norm_type=norm_type, **kw)
    y = be.run(be.pool.lp_pool, x, float(norm_type), spec.kernel_size, spec.stride, out)
    return y[0] if unbatched else y


def lp_pool_backward(
    dims: int, op: str, grad_output: Array, input: Array, norm_type: float, **kw: Any
) -> Array:
    be = pick(op, grad_output=grad_output, input=input)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    spec, out = pool_spec(op, dims, input, kind="lp", norm_type=norm_type, **kw)
    _check_shape(op, "grad_output", grad_output, (*input.shape[:2], *out))
    return be.run(
        be.pool.lp_pool_backward, grad_output, input, float(norm_type), spec.kernel_size,
        spec.stride,
    )  # fmt: skip


def _transpose_spec(
    op: str,
    dims: int,
    size: Sequence[int],
    weight: Array,
    stride: IntOrTuple,
    padding: IntOrTuple,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
    bias: bool = False,
) -> ConvTranspose:
    """The `symconv.ConvTranspose` of a transposed convolution on input (N, C_in, *size): the
    forward pass and both gradients build it here, with the weight's channel check."""
    check_ndim(op, "weight", weight, dims + 2, "(C_in, C_out/groups, *kernel)")
    groups_ = groups if isinstance(groups, int) and not isinstance(groups, bool) else 1
    spec = _spec(
        op,
        ConvTranspose,
        dims=dims,
        in_channels=int(size[1]),
        out_channels=int(weight.shape[1]) * groups_,
        kernel_size=tuple(int(k) for k in weight.shape[2:]),
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
        bias=bias,
    )
    if weight.shape[0] != size[1]:
        raise SpecError(
            f"{op}: weight of shape {tuple(weight.shape)} expects {weight.shape[0]} input "
            f"channels, but the input has {size[1]}"
        )
    return spec


def conv_transpose_grad_input(
    dims: int,
    op: str,
    input_size: Sequence[int],
    weight: Array,
    grad_output: Array,
    stride: IntOrTuple,
    padding: IntOrTuple,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
) -> Array:
    r"""dL/dx of `conv_transpose`: $y = T^\top x$, so $\partial L/\partial x = T \delta$, the
    convolution with the same weight, stride, padding, dilation and groups, cropped to the
    input's size ($T\delta$ has $i + \lfloor \mathrm{output\_padding} / s \rfloor$ entries per
    axis; the rest are positions x does not have)."""
    pick(op, weight=weight, grad_output=grad_output)
    size = shape_arg(op, "input_size", input_size)
    if len(size) != dims + 2:
        raise SpecError(
            f"{op}: input_size must be the input's full shape {_layout(dims)}, got {size}"
        )
    check_ndim(op, "grad_output", grad_output, dims + 2, _layout(dims))
    spec = _transpose_spec(
        op, dims, size, weight, stride, padding, output_padding, groups, dilation
    )
    out = _checked_size(op, spec, size[2:])
    _check_shape(op, "grad_output", grad_output, (size[0], spec.out_channels, *out))
    layer = (spec.stride, spec.padding, spec.dilation, spec.groups, "zeros", False)
    dx = conv(dims, op, grad_output, weight, None, *layer)
    return dx[(slice(None), slice(None), *(slice(0, n) for n in size[2:]))]


def conv_transpose_grad_weight(
    dims: int,
    op: str,
    input: Array,
    weight_size: Sequence[int],
    grad_output: Array,
    stride: IntOrTuple,
    padding: IntOrTuple,
    output_padding: IntOrTuple,
    groups: int,
    dilation: IntOrTuple,
) -> Array:
    r"""dL/dw of `conv_transpose`: $y = T^\top x$ is, read backwards, the convolution $T$ with
    input $\delta$ and upstream gradient $x$; dL/dw is that convolution's weight gradient
    (x zero-extended to $T\delta$'s size where `output_padding` reaches the stride)."""
    be = pick(op, input=input, grad_output=grad_output)
    check_ndim(op, "input", input, dims + 2, _layout(dims))
    check_ndim(op, "grad_output", grad_output, dims + 2, _layout(dims))
    wsize = shape_arg(op, "weight_size", weight_size)
    if len(wsize) != dims + 2:
        raise SpecError(
            f"{op}: weight_size must be (C_in, C_out/groups, *kernel), {dims + 2} entries, "
            f"got {wsize}"
        )
    shape = tuple(int(s) for s in input.shape)
    spec = _transpose_spec(
        op, dims, shape, np.empty(wsize, dtype=np.int8), stride, padding, output_padding,
        groups, dilation,
    )  # fmt: skip
    out = _checked_size(op, spec, shape[2:])
    _check_shape(op, "grad_output", grad_output, (shape[0], spec.out_channels, *out))
    layer = (spec.stride, spec.padding, spec.dilation, spec.groups, "zeros", False)
    cspec = conv_spec(op, dims, spec.out_channels, wsize, False, *layer)
    full = cspec.output_size(out)
    x = input
    if tuple(full) != shape[2:] and not _finite(grad_output):
        return _transpose_grad_weight_by_taps(be, cspec, input, grad_output, itemsize(input))
    if tuple(full) != shape[2:]:
        grown = be.conv._zeros((*shape[:2], *full), input)
        grown[(slice(None), slice(None), *(slice(0, n) for n in shape[2:]))] = input
        x = grown
    return conv_grad_weight(dims, op, grad_output, wsize, x, *layer)


def _finite(a: Array) -> bool:
    from .algorithms import all_finite

    return all_finite(a)


def _transpose_grad_weight_by_taps(
    be: Any, cspec: Conv, x: Array, grad_output: Array, item: int
) -> Array:
    """dL/dw of a transposed convolution whose `output_padding` leaves positions of its
    gradient convolution's output that x does not have, with inf or NaN in grad_output: tap by
    tap over x's own positions (`numeric._taps.grad_weight`), so that no zero standing in for
    them multiplies grad_output; the padding's zeros left out or multiplied by the rule of
    `conv_grad_weight` (`_taps.padding_rule`: multiplied for float64, as torch's native kernels
    do)."""
    from . import _taps

    g, pads = grad_output, cspec.pads
    if not _taps.padding_rule("grad_weight", item):
        g, pads = be.conv._pad(grad_output, pads, "zeros"), tuple((0, 0) for _ in pads)
    chunk, cap = _chunk(be, _conv_bytes(cspec, grad_output.shape[2:], item) * 2)

    def call(s: slice) -> Array:
        return _taps.grad_weight(
            g[s], x[s], cspec.kernel_size, cspec.stride, pads, cspec.dilation, cspec.groups
        )

    work = _work(cspec, grad_output.shape)
    return map_batch(be.name, x.shape[0], work, chunk, call, "sum", threads=cap)


# -- float16 / bfloat16: computed in float32, returned in the input's dtype ----------------------
conv = half_precision(conv)
conv_grad_input = half_precision(conv_grad_input)
conv_grad_weight = half_precision(conv_grad_weight)
conv_grad_bias = half_precision(conv_grad_bias)
conv_transpose = half_precision(conv_transpose)
conv_transpose_grad_input = half_precision(conv_transpose_grad_input)
conv_transpose_grad_weight = half_precision(conv_transpose_grad_weight)
max_pool = half_precision(max_pool)
max_pool_backward = half_precision(max_pool_backward)
avg_pool = half_precision(avg_pool)
avg_pool_backward = half_precision(avg_pool_backward)
lp_pool = half_precision(lp_pool)
lp_pool_backward = half_precision(lp_pool_backward)
