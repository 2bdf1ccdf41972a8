"""Running one algorithm: dispatch to the generated kernels of the array's backend
(`forward`, `grad_input`, `grad_weight`), padding modes other than zeros and `flip=True`
applied around them, the Winograd and shifted chunks sized to the cache (`CACHE_BYTES`), the
Winograd workspaces kept between calls (`KEEP_BYTES`, `release_workspaces`), and `conv2d` by
name.
"""

from __future__ import annotations

from typing import Any

from symconv.spec import Conv

from .. import _ops
from .._backend import Backend, get_workspace_limit
from .._parallel import get_num_threads
from .choice import plan
from .cost_model import workspace_bytes
from .rules import WINOGRAD_M


def _zero_pads(spec: Conv) -> tuple[tuple[int, int], ...]:
    return tuple((0, 0) for _ in range(spec.dims))


def _flip(be: Backend, w: Any, dims: int) -> Any:
    return be.conv._contiguous(be.conv._flip(w, tuple(range(2, 2 + dims))))


CACHE_BYTES = 8 * 2**20  # Winograd's NumPy working set per chunk (bench: BENCHMARKS.md)
KEEP_BYTES = 2 * CACHE_BYTES  # Winograd's buffers kept per thread between calls (at most)


def _keep(be: Backend, a: Any) -> int:
    """Bytes of Winograd workspace each thread keeps between calls on `a`'s device:
    `KEEP_BYTES`, within the workspace budget's share per thread (`numeric.set_workspace_limit`;
    0 keeps nothing). Fresh pages cost a fault each (about 2 us on the project's machine, as
    much as a pass over them) and glibc's allocator hands large freed blocks back to the system
    until the process has freed a large array: with every block on fresh pages one VGG
    64x56x56 forward took 37-46 ms with buffers allocated per call and 17-24 ms with kept ones
    (BENCHMARKS.md). On a GPU nothing is kept: torch's caching allocator reuses device memory
    already, and a buffer kept across calls on different CUDA streams would race.
    `release_workspaces()` frees them."""
    if be.name == "torch" and a.device.type != "cpu":
        return 0
    threads = get_num_threads() + 1 if be.name == "numpy" else 1  # the pool's and the caller's
    return max(0, min(KEEP_BYTES, get_workspace_limit() // threads))


def release_workspaces() -> None:
    """Free the Winograd workspaces kept between calls (every thread's, both backends)."""
    import sys

    for name in ("numpy_winograd", "torch_winograd"):
        module = sys.modules.get(f"numeric._generated.{name}")
        if module is not None:
            module.release_workspaces()


def _cache_chunk(
    be: Backend,
    spec: Conv,
    a: Any,
    chunk: int,
    size: tuple[int, ...] | None = None,
    algorithm: str = "winograd",
) -> int:
    """Samples per Winograd (or shifted-GEMM) chunk on the CPU: as many as keep the tiles,
    their transform and the products (the accumulators) within `CACHE_BYTES` per thread (NumPy:
    one VGG 64x56x56 sample at a time ran 2.3x faster than four, 11 against 26 ms; torch on the
    CPU, whose threads share each call, two samples against all eight: 15-17 against 24-27 ms),
    at most `chunk` (the workspace budget's). A GPU takes the whole budget's chunk."""
    if be.name == "numpy":
        budget = CACHE_BYTES
    elif a.device.type == "cpu":
        import torch

        budget = CACHE_BYTES * torch.get_num_threads()
    else:
        return chunk
    size = tuple(int(n) for n in a.shape[2:]) if size is None else size
    per = workspace_bytes(spec, size, algorithm, a.dtype.itemsize)
    return max(1, min(chunk, budget // max(1, per)))


def forward(
    be: Backend,
    algorithm: str,
    spec: Conv,
    x: Any,
    w: Any,
    b: Any,
    chunk: int,
    m: int = WINOGRAD_M,
    factors: Any = None,
    out: Any = None,
) -> Any:
    """y of `spec` by `algorithm` (not "direct": numeric._ops runs that); separable uses the
    rank-1 `factors` of `w` (`plan` finds them), or factors `w` itself. With `out`, y is
    written into it (Winograd's output tiles straight into it) and `out` returned."""
    pads = spec.pads
    if spec.padding_mode != "zeros":  # the mode's padding first, then a zero-padded layer
        x, pads = be.conv._pad(x, pads, spec.padding_mode), _zero_pads(spec)
    if spec.flip:
        w = _flip(be, w, spec.dims)
    if algorithm == "winograd":
        chunk = _cache_chunk(be, spec, x, chunk)
        y = be.module("winograd").conv2d_winograd(
            x, w, b, pads, spec.dilation, spec.groups, m, chunk, keep=_keep(be, x), out=out
        )
    elif algorithm == "shifted":
        chunk = _cache_chunk(be, spec, x, chunk, algorithm="shifted")
        y = be.module("shifted").conv_shifted(x, w, b, pads, spec.dilation, spec.groups, chunk)
    elif algorithm == "fft":
        y = be.module("fft").conv_fft(x, w, b, spec.stride, pads, spec.dilation, spec.groups)
    else:
        if factors is None:
            factors = plan("forward", "conv2d", spec, (), 1, "separable", w)[1]
        elif spec.flip:  # the factors of the flipped kernel: both reversed
            factors = tuple(be.conv._contiguous(be.conv._flip(f, (2,))) for f in factors)
        u, v = factors
        y = be.module("fft").conv_separable(
            x, u, v, b, spec.stride, pads, spec.dilation, spec.groups
        )
    return _written(y, out)


def _written(y: Any, out: Any) -> Any:
    """`y`, or `out` holding it when given (a kernel that wrote into `out` returned it)."""
    if out is None or y is out:
        return y
    out[...] = y
    return out


def grad_input(
    be: Backend,
    algorithm: str,
    spec: Conv,
    delta: Any,
    w: Any,
    size: tuple[int, ...],
    chunk: int,
    m: int = WINOGRAD_M,
    out: Any = None,
) -> Any:
    """dL/dx of `spec` by `algorithm`: the zero-padded layer's gradient, then Pad^T (the direct
    kernels' `_fold`) for the other padding modes; written into `out` when given (Winograd's
    output tiles straight into it for zero padding)."""
    pads, inner = spec.pads, size
    mode = spec.padding_mode
    if mode != "zeros":
        inner = tuple(n + lo + hi for n, (lo, hi) in zip(size, pads, strict=True))
        pads = _zero_pads(spec)
    if spec.flip:
        w = _flip(be, w, spec.dims)
    if algorithm == "winograd":
        chunk = _cache_chunk(be, spec, delta, chunk, size)
        g = be.module("winograd").conv2d_winograd_grad_input(
            delta, w, inner, pads, spec.dilation, spec.groups, m, chunk, keep=_keep(be, delta),
            out=out if mode == "zeros" else None,
        )  # fmt: skip
    elif algorithm == "shifted":
        chunk = _cache_chunk(be, spec, delta, chunk, size, algorithm="shifted")
        g = be.module("shifted").conv_shifted_grad_input(
            delta, w, inner, pads, spec.dilation, spec.groups, chunk
        )
    else:
        g = be.module("fft").conv_fft_grad_input(
            delta, w, inner, spec.stride, pads, spec.dilation, spec.groups
        )
    return _written(g if mode == "zeros" else be.conv._fold(g, size, spec.pads, mode), out)


def grad_weight(
    be: Backend, algorithm: str, spec: Conv, x: Any, delta: Any, chunk: int, m: int = WINOGRAD_M
) -> Any:
    """dL/dw of `spec` by `algorithm` (flipped back for `flip=True`)."""
    pads = spec.pads
    if spec.padding_mode != "zeros":
        x, pads = be.conv._pad(x, pads, spec.padding_mode), _zero_pads(spec)
    if algorithm == "winograd":
        chunk = _cache_chunk(be, spec, x, chunk)
        dw = be.module("winograd").conv2d_winograd_grad_weight(
            x, delta, pads, spec.dilation, spec.groups, m, chunk, keep=_keep(be, x)
        )
    elif algorithm == "shifted":
        chunk = _cache_chunk(be, spec, x, chunk, algorithm="shifted")
        dw = be.module("shifted").conv_shifted_grad_weight(
            x, delta, spec.kernel_size, pads, spec.dilation, spec.groups, chunk
        )
    else:
        dw = be.module("fft").conv_fft_grad_weight(
            x, delta, spec.kernel_size, spec.stride, pads, spec.dilation, spec.groups
        )
    return _flip(be, dw, spec.dims) if spec.flip else dw


def conv2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    *,
    algorithm: str = "auto",
    winograd_m: int = WINOGRAD_M,
    padding_mode: str = "zeros",
    flip: bool = False,
) -> Any:
    """`numeric.conv2d` by the chosen `algorithm`, with the Winograd tile `winograd_m` (2 or
    4: $F(m \\times m, 3 \\times 3)$) open to choice.

    ```python
    >>> import numpy as np
    >>> from numeric.algorithms import conv2d
    >>> x, w = np.ones((1, 2, 6, 6)), np.ones((3, 2, 3, 3))
    >>> float(conv2d(x, w, padding=1, algorithm="winograd", winograd_m=2)[0, 0, 2, 2])
    18.0

    ```
    """
    return _ops.conv(
        2, "conv2d", input, weight, bias, stride, padding, dilation, groups, padding_mode, flip,
        algorithm, winograd_m,
    )  # fmt: skip
