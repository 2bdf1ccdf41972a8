r"""Convolution algorithms (issue 7): direct, Winograd, shifted GEMMs, FFT, separable, and the
choice "auto".

Every conv function of `numeric` takes `algorithm=` (keyword; default `"auto"`):

| algorithm | runs | kernels (generated) |
|---|---|---|
| `"direct"` | every layer | im2col + GEMM, `numeric/_generated/*_conv.py` |
| `"winograd"` | 2-d, $3 \times 3$, stride 1 (any dilation, padding, groups) | `*_winograd.py` |
| `"shifted"` | 1-d, 2-d, 3-d, stride 1 (any kernel, dilation, padding, groups) | `*_shifted.py` |
| `"fft"` | 1-d, 2-d, 3-d, every stride, dilation, groups | `*_fft.py` |
| `"separable"` | forward, 2-d, every $(k, c)$ kernel slice of rank 1 | two 1-d passes, `*_fft.py` |

Forward, `grad_input` and `grad_weight` run by each algorithm (separable: forward only). The
shifted GEMMs read the stride-1 Toeplitz band on the flattened padded input: one GEMM per tap
on a shifted view, no im2col copy (`symconv/codegen/shifted.py`); layers with few channels
per group (depthwise) add each tap's shifted rows instead, channels first.
Padding modes other than zeros are applied first (the direct kernels' padding map; for the
gradient, its transpose after), `flip=True` flips the kernel; NumPy arrays and torch tensors.

**Cost model.** `cost_formulas()` gives, per algorithm, the floating-point work of its GEMM
stage and FFTs, the elements its copies and transforms move, and the NumPy calls it issues, as
SymPy expressions of the layer ($N$ samples, $O$ outputs and $P$ padded inputs per channel, $k$
taps, $t$ Winograd tiles of $\alpha^2$ points, $L$ FFT points...). `costs()` evaluates them for
one layer and turns them into seconds with this machine's rates (`RATES`: GEMM FLOP/s, FFT
FLOP/s, elements moved and calls per second, measured by `calibrate()`) times the fraction of
them each algorithm reaches (`EFFICIENCY`); `python bench/calibrate.py` measures the rates and
prints the model's predictions next to the kernels' times, and with `--write` records them in
`numeric/algorithms/rates.json` (`write_rates`), the data file the model reads on first use,
with the machine, the date and the command. "auto" takes the fastest supported
algorithm by that estimate (a batch of 0 runs direct); `explain()` shows the numbers and the
rule. The rates are the CPU's: torch tensors on another device get the same choice (name the
algorithm to override it). `cost_derivation()` (`symconv derive algorithm-costs`) states the
formulas and checks each GEMM term exactly against the operations the printed NumPy kernels
issue; the memory terms carry constants fitted to this machine, stated, not derived.

**Accuracy.** $F(4 \times 4, 3 \times 3)$ rounds about 10-30x more than the direct sum in float32
(relative error about $10^{-5}$ on the VGG layers against $4 \times 10^{-7}$ direct,
`symconv.winograd.float32_error` for one tile); `"direct"` or float64 when that matters.

**Inf and NaN.** `"direct"` and `"shifted"` sum each output over its own window, so a
non-finite input spoils exactly the outputs whose windows read it, as in torch. Winograd's
transforms mix a whole $\alpha \times \alpha$ tile, so it spreads over every output tile
whose input tile holds it; FFT mixes every position, so it spreads over the whole sample. "auto"
never does so: when the input or the weight (for a gradient, the operands it reads) holds inf
or NaN, found by one sum per array, it picks only among `NON_SPREADING[op]` (direct; shifted
for the forward pass), whose results match torch's place for place. A non-finite weight (or,
for $\partial L/\partial w$, $\delta$) meets the zero padding: "auto" then sums tap by tap over
the in-bounds outputs (`numeric._taps`) where torch leaves the padding out ($\partial L/\partial
x$ and `conv_transpose` always; the forward pass and $\partial L/\partial w$ in float32, as
torch's oneDNN direct kernels do), and multiplies the padding's zeros ($\infty \cdot 0$ = NaN
at the border) in float64, as torch's native kernels do. numeric accepts non-finite inputs
and weights everywhere (IEEE arithmetic); the exact, symbolic functions (`symconv.separable`,
`symconv.low_rank`) refuse them. Named explicitly, `"winograd"` and `"fft"` spread as
described (and an inf can come back as NaN); `"separable"` can turn $\infty \cdot 0$ into
$\infty - \infty$.

**Reproducibility.** For a given thread count (`numeric.set_num_threads`) and BLAS build, every
algorithm returns bitwise the same result on every call: the batch split and the order of every
sum are fixed. A different thread count splits the batch differently; the forward pass and
$\partial L/\partial x$ stay bitwise equal per sample (each sample is computed whole), but
$\partial L/\partial w$ sums the parts' results in another grouping, and BLAS may block its
GEMMs differently, so results can differ in the last bits. "auto" can pick another algorithm
for another thread count too (the cost model counts the parts).

**Modules.** `rules` (which algorithm runs which layer: `supported`, `NON_SPREADING`,
`rank_one_factors`), `cost_model` (the cost model and the workspaces; the rates read from
`rates.json`), `choice` ("auto": `plan`, `explain`), `runners` (dispatch to the generated
kernels, `conv2d` by name), `calibration` (measuring and recording the rates), `derivation`
(the formulas checked against the kernels). Every name is importable from this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .calibration import calibrate, write_rates
from .calibration import machine as machine
from .choice import all_finite, choose, explain, plan
from .cost_model import (
    EFFICIENCY,
    cost_formulas,
    costs,
    fixed_workspace_bytes,
    over_workspace,
    workspace_bytes,
)
from .cost_model import RATES_FILE as RATES_FILE
from .cost_model import _values as _values  # a layer's sizes, as the formulas name them
from .cost_model import get_rates as get_rates
from .cost_model import recorded as recorded
from .rules import ALGORITHMS, NON_SPREADING, WINOGRAD_M, rank_one_factors, supported
from .rules import OPS as OPS
from .rules import RANK_TOL as RANK_TOL
from .rules import WINOGRAD_TILES as WINOGRAD_TILES
from .runners import CACHE_BYTES as CACHE_BYTES
from .runners import KEEP_BYTES, conv2d, release_workspaces
from .runners import _cache_chunk as _cache_chunk  # the tests size the chunks with them
from .runners import _keep as _keep
from .runners import forward as forward  # numeric._ops runs the algorithms through these
from .runners import grad_input as grad_input
from .runners import grad_weight as grad_weight

if TYPE_CHECKING:
    from .derivation import cost_derivation as cost_derivation

    RATES: dict[str, float]

__all__ = [
    "ALGORITHMS",
    "EFFICIENCY",
    "KEEP_BYTES",
    "NON_SPREADING",
    "RATES",
    "WINOGRAD_M",
    "all_finite",
    "calibrate",
    "choose",
    "conv2d",
    "cost_derivation",
    "cost_formulas",
    "costs",
    "explain",
    "fixed_workspace_bytes",
    "over_workspace",
    "plan",
    "rank_one_factors",
    "release_workspaces",
    "supported",
    "workspace_bytes",
    "write_rates",
]


def __getattr__(name: str) -> Any:
    """`RATES`: the cost model's rates, read from `rates.json` on first use (`get_rates()`);
    `cost_derivation`, loaded on first use (it imports SymPy; choosing an algorithm does not)."""
    if name == "RATES":
        return get_rates()
    if name == "cost_derivation":
        from .derivation import cost_derivation

        return cost_derivation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
