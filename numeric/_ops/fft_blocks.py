"""An explicit FFT over the workspace limit: blocks of output channels whose spectra fit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from symconv.spec import Conv

from .._backend import (
    itemsize,
)
from .._parallel import map_batch
from . import fft_plan
from ._common import Array, _chunk, _work, lazy


def _fft_blocks(
    name: str, spec: Conv, shape: Sequence[int], item: int, kind: str
) -> list[tuple[Conv, slice, slice]] | None:
    """The FFT's blocks of output channels when its kernel's spectrum would not fit the
    workspace limit (`numeric._ops.fft_plan`), else None (every other algorithm, or an empty
    batch: None). `shape`: the input's (N, C, *spatial)."""
    if name != "fft" or int(shape[0]) == 0:
        return None

    return fft_plan.blocks(spec, shape[2:], item, kind)


def _block_chunk(be: Any, block: Conv, shape: Sequence[int], a: Array, kind: str) -> tuple:

    size = tuple(int(n) for n in shape[2:])
    return _chunk(be, *fft_plan.costs(block, size, itemsize(a), kind))


def _fft_forward_blocks(
    be: Any, blocks: list, x: Array, weight: Array, bias: Array | None, spec: Conv
) -> Array:
    """y by the FFT, block by block of output channels, each block's outputs written into y."""
    algorithms = lazy("algorithms")

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
    algorithms = lazy("algorithms")

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
    algorithms = lazy("algorithms")

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
