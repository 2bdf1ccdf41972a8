r"""The FFT within the workspace limit when its kernel's spectrum alone would exceed it.

The FFT kernels transform the whole weight once per call: $C_\mathrm{out} C_\mathrm{in}/g$
spectra of $F$ complex frequencies (`numeric.algorithms.fixed_workspace_bytes`), a part that
does not shrink with the batch. "auto" skips the FFT where one sample and that spectrum do not
fit (`over_workspace`); named explicitly (`algorithm="fft"`), the layer runs here in blocks of
output channels, each a layer of its own with its part of the weight: whole groups while they
fit, else a few output channels of one group (with all of that group's inputs). The forward
pass writes each block's outputs, $\partial L/\partial w$ each block's rows of the weight, and
$\partial L/\partial x$ adds each block's part into its group's inputs. Each block costs one
transform of its inputs (and of $\delta$'s channels): slower than one pass, within the limit.
When even one output channel does not fit, the call is refused with a `SpecError` naming the
cost, the limit and the ways out.

```python
>>> import symconv as sc, numeric as nm
>>> from numeric._fft_blocks import blocks
>>> spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=11, padding=5)
>>> blocks("conv2d", spec, (48, 48), 4, "forward") is None  # fits the default limit
True
>>> with nm.workspace_limit(4 * 2**20):
...     [(b.out_channels, o) for b, i, o in blocks("conv2d", spec, (48, 48), 4, "forward")][:2]
[(3, slice(0, 3, None)), (3, slice(3, 6, None))]

```
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from symconv._errors import SpecError
from symconv.spec import Conv

from ._backend import get_workspace_limit

__all__ = ["blocks", "costs"]

Block = tuple[Conv, slice, slice]  # the block's layer, its input and output channels


def costs(spec: Conv, size: tuple[int, ...], item: int, op: str) -> tuple[int, int]:
    """(bytes per sample, fixed bytes) of a block: `workspace_bytes` (twice for a gradient)
    and one more copy of the input's spectrum per sample (measured with tracemalloc: numpy's
    rfftn keeps its intermediate transform while the spectrum is made contiguous, which the
    model leaves inside its constants for whole layers but not for a block of few outputs),
    and the kernel's spectrum (`fixed_workspace_bytes`)."""
    from .algorithms import WINOGRAD_M, _values, fixed_workspace_bytes, workspace_bytes

    per = workspace_bytes(spec, size, "fft", item) * (1 if op == "forward" else 2)
    per += 2 * spec.in_channels * _values(spec, size, 1, WINOGRAD_M)["F"] * item
    return per, fixed_workspace_bytes(spec, size, "fft", item, op)


def _fits(spec: Conv, size: tuple[int, ...], item: int, op: str) -> bool:
    return sum(costs(spec, size, item, op)) <= get_workspace_limit()


def _largest(lo: int, hi: int, fits: object) -> int:
    """The largest m in [lo, hi] with fits(m) (fits grows false with m), lo - 1 when none."""
    best = lo - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(mid):  # type: ignore[operator]
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


def blocks(
    name: str, spec: Conv, size: Sequence[int], item: int, op: str = "forward"
) -> list[Block] | None:
    """The blocks of output channels the FFT runs `op` of `spec` in, each within the workspace
    limit for `item`-byte elements, or None when the whole layer fits.

    Raises:
        SpecError: even one output channel (with its group's inputs) does not fit.
    """
    from .algorithms import over_workspace

    size = tuple(int(n) for n in size)
    if over_workspace(spec, size, "fft", item, op) is None:
        return None
    g, cg, kg = spec.groups, spec.in_channels // spec.groups, spec.out_channels // spec.groups

    def whole(m: int) -> Conv:
        return dataclasses.replace(spec, in_channels=m * cg, out_channels=m * kg, groups=m)

    def part(b: int) -> Conv:
        return dataclasses.replace(spec, in_channels=cg, out_channels=b, groups=1)

    m = _largest(1, g - 1, lambda m: _fits(whole(m), size, item, op))
    if m >= 1:
        out = []
        for g0 in range(0, g, m):
            g1 = min(g, g0 + m)
            out.append((whole(g1 - g0), slice(g0 * cg, g1 * cg), slice(g0 * kg, g1 * kg)))
        return out
    b = _largest(1, kg, lambda b: _fits(part(b), size, item, op))
    if b < 1:
        per, fixed = costs(part(1), size, item, op)
        need = per + fixed
        raise SpecError(
            f"{name}: algorithm 'fft' needs {need} bytes of workspace for one sample and one "
            f"output channel ({fixed} of them its kernel's spectrum), over the workspace limit "
            f"{get_workspace_limit()}: use algorithm='auto' or 'direct', or raise the limit "
            "(numeric.set_workspace_limit)"
        )
    out = []
    for gi in range(g):
        for k0 in range(0, kg, b):
            k1 = min(kg, k0 + b)
            cin = slice(gi * cg, (gi + 1) * cg)
            out.append((part(k1 - k0), cin, slice(gi * kg + k0, gi * kg + k1)))
    return out
