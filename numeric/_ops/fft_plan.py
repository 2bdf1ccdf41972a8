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
Under a limit smaller than one output channel and one sample (`smallest`), the chunks hold one
sample, as every algorithm's do under a budget smaller than one sample, and the blocks' spectra
are kept no larger than their sample's workspace (`blocks`).

```python
>>> import symconv as sc, numeric as nm
>>> from numeric._ops.fft_plan import blocks
>>> spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=11, padding=5)
>>> blocks(spec, (48, 48), 4, "forward") is None  # fits the default limit
True
>>> with nm.workspace_limit(4 * 2**20):
...     [(b.out_channels, o) for b, i, o in blocks(spec, (48, 48), 4, "forward")][:2]
[(3, slice(0, 3, None)), (3, slice(3, 6, None))]

```
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from symconv.spec import Conv

from .._backend import get_workspace_limit
from ._common import lazy  # numeric.algorithms (the cost model, SymPy) on first use

__all__ = ["blocks", "costs", "smallest"]

Block = tuple[Conv, slice, slice]  # the block's layer, its input and output channels


def costs(spec: Conv, size: tuple[int, ...], item: int, op: str) -> tuple[int, int]:
    """(bytes per sample, fixed bytes) of a block: `workspace_bytes` (twice for a gradient)
    and one more copy of the input's spectrum per sample (measured with tracemalloc: numpy's
    rfftn keeps its intermediate transform while the spectrum is made contiguous, which the
    model leaves inside its constants for whole layers but not for a block of few outputs),
    and the kernel's spectrum (`fixed_workspace_bytes`)."""
    algorithms = lazy("algorithms")
    per = algorithms.workspace_bytes(spec, size, "fft", item) * (1 if op == "forward" else 2)
    per += (
        2 * spec.in_channels * algorithms._values(spec, size, 1, algorithms.WINOGRAD_M)["F"] * item
    )
    return per, algorithms.fixed_workspace_bytes(spec, size, "fft", item, op)


def _first(n: int, ok: Callable[[int], bool]) -> int | None:
    """The least i in [0, n) with ok(i) (ok false, then true, as i grows), None when none."""
    lo, hi, found = 0, n - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if ok(mid):
            found, hi = mid, mid - 1
        else:
            lo = mid + 1
    return found


def blocks(spec: Conv, size: Sequence[int], item: int, op: str = "forward") -> list[Block] | None:
    """The blocks of output channels the FFT runs `op` of `spec` in, or None when the whole
    layer keeps within the workspace limit for `item`-byte elements (`over_workspace`).

    The largest blocks, whole groups first, whose spectrum and one sample fit the limit; when
    none does (a limit smaller than one sample and one output channel), the largest whose
    spectrum is no larger than the limit or than its own sample's workspace (the run then
    exceeds the limit by at most twice what one sample needs, as every algorithm runs at least
    one sample per chunk), else one output channel each.
    """
    size = tuple(int(n) for n in size)
    if lazy("algorithms").over_workspace(spec, size, "fft", item, op) is None:
        return None
    g, cg, kg = spec.groups, spec.in_channels // spec.groups, spec.out_channels // spec.groups

    def layer(i: int) -> Conv:  # i = 0: the whole layer; then fewer groups; then part of one
        if i < g:
            return dataclasses.replace(
                spec, in_channels=(g - i) * cg, out_channels=(g - i) * kg, groups=g - i
            )
        return dataclasses.replace(spec, in_channels=cg, out_channels=kg - 1 - (i - g), groups=1)

    n, limit = g + kg - 1, get_workspace_limit()

    def fits(i: int) -> bool:
        return sum(costs(layer(i), size, item, op)) <= limit

    def small(i: int) -> bool:
        per, fixed = costs(layer(i), size, item, op)
        return fixed <= max(limit, per)

    i = _first(n, fits)
    i = _first(n, small) if i is None else i
    i = n - 1 if i is None else max(i, 1)  # the whole layer is over: at least two blocks
    block = layer(i)
    if i < g:
        m, out = block.groups, []
        for g0 in range(0, g, m):
            g1 = min(g, g0 + m)
            out.append((layer(g - (g1 - g0)), slice(g0 * cg, g1 * cg), slice(g0 * kg, g1 * kg)))
        return out
    b, out = block.out_channels, []
    for gi in range(g):
        for k0 in range(0, kg, b):
            k1 = min(kg, k0 + b)
            part = dataclasses.replace(spec, in_channels=cg, out_channels=k1 - k0, groups=1)
            out.append((part, slice(gi * cg, (gi + 1) * cg), slice(gi * kg + k0, gi * kg + k1)))
    return out


def smallest(spec: Conv, size: Sequence[int], item: int, op: str = "forward") -> int:
    """Bytes of workspace of the FFT's smallest part: one sample and one output channel (with
    its group's inputs), the kernel's spectrum included."""
    one = dataclasses.replace(
        spec, in_channels=spec.in_channels // spec.groups, out_channels=1, groups=1
    )
    return sum(costs(one, tuple(int(n) for n in size), item, op))
