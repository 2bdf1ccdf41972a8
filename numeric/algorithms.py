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
prints the model's predictions next to the kernels' times. "auto" takes the fastest supported
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
for the forward pass), whose results match torch's place for place. A non-finite *weight*
meets the zero padding: numeric multiplies the padding's zeros ($\infty \cdot 0$ = NaN at the
border outputs), as torch's im2col path does; torch's oneDNN path skips them, so there the two
can differ at the border. numeric accepts non-finite inputs and weights everywhere (IEEE
arithmetic); the exact, symbolic functions (`symconv.separable`, `symconv.low_rank`) refuse
them. Named explicitly, `"winograd"` and `"fft"` spread as
described (and an inf can come back as NaN); `"separable"` can turn $\infty \cdot 0$ into
$\infty - \infty$.

**Reproducibility.** For a given thread count (`numeric.set_num_threads`) and BLAS build, every
algorithm returns bitwise the same result on every call: the batch split and the order of every
sum are fixed. A different thread count splits the batch differently; the forward pass and
$\partial L/\partial x$ stay bitwise equal per sample (each sample is computed whole), but
$\partial L/\partial w$ sums the parts' results in another grouping, and BLAS may block its
GEMMs differently, so results can differ in the last bits. "auto" can pick another algorithm
for another thread count too (the cost model counts the parts).
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any

import numpy as np
import sympy

from symconv._errors import SpecError
from symconv._fft_sizes import fft_plan
from symconv._tolerances import RANK_TOL as _RANK_TOL
from symconv._validate import as_int
from symconv.derivation import Derivation, Outcome
from symconv.spec import Conv

from . import _ops
from ._backend import Backend, get_workspace_limit
from ._generated import numpy_conv, numpy_fft, numpy_shifted, numpy_winograd
from ._generated.numpy_fft import fft_lengths
from ._generated.numpy_shifted import shift_add_layer
from ._generated.numpy_winograd import FORWARD as _WINOGRAD_FORWARD
from ._generated.numpy_winograd import tiles as winograd_tiles
from ._parallel import get_num_threads, map_batch, parts, set_num_threads

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
]

ALGORITHMS = ("auto", "direct", "winograd", "shifted", "fft", "separable")
_CANDIDATES = ("direct", "winograd", "shifted", "fft", "separable")  # ties go to the earlier
WINOGRAD_M = 4  # F(4x4, 3x3); F(2x2, 3x3) through conv2d(winograd_m=2)
WINOGRAD_TILES = tuple(sorted(_WINOGRAD_FORWARD))  # the tiles the printed kernels carry
OPS = ("forward", "grad_input", "grad_weight")
# per op, the algorithms that sum each output over its own window only: inf and NaN reach
# exactly the outputs torch's do. Winograd's tiles and the FFT's spectra mix neighbours;
# separable's two passes can turn inf * 0 into inf - inf; the shifted gradients multiply the
# flattened rows' wrap-around columns by zeros (an inf there becomes NaN in a valid output).
NON_SPREADING: dict[str, tuple[str, ...]] = {
    "forward": ("direct", "shifted"),
    "grad_input": ("direct",),
    "grad_weight": ("direct",),
}
RANK_TOL = _RANK_TOL  # sigma_2 / sigma_1 still counted as zero, by float type

# Rates of this project's CPU machine (2-core x86_64, OpenBLAS 0.3.31, float32), measured by
# `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/calibrate.py`
# (BENCHMARKS.md).
RATES: dict[str, float] = {"gemm": 2.1e11, "fft": 4.6e9, "memory": 1.3e9, "calls": 5.0e5}
# The fraction of those rates each algorithm's parts reach (bench/calibrate.py compares the model
# with the kernels): Winograd's alpha^2 GEMMs, one per tile position, and the FFT's small
# batched complex GEMMs and numpy.fft's transforms of many short signals run at about half.
EFFICIENCY: dict[str, dict[str, float]] = {
    "winograd": {"gemm": 0.5},
    "fft": {"gemm": 0.5, "fft": 0.5},
}


# -- cost formulas --------------------------------------------------------------------------------
_S = dict(
    zip(
        ("N", "C_in", "C_out", "G", "O", "P", "k", "t", "alpha", "m", "D", "L", "F", "Q", "H"),
        sympy.symbols("N C_in C_out G O P k t alpha m D L F Q H", positive=True, integer=True),
        strict=True,
    )
)


@functools.cache
def cost_formulas() -> dict[str, dict[str, sympy.Expr]]:
    r"""Per algorithm: `gemm` and `fft` (floating-point operations), `memory` (elements
    moved) and `calls` (NumPy operations issued, each with a fixed cost), SymPy expressions in
    $N, C_\mathrm{in}, C_\mathrm{out}, G$, $O$ (outputs per
    channel), $P$ (padded inputs per channel), $k$ (taps), $t$ (Winograd tiles per sample and
    channel, all dilation phases), $\alpha$, $m$, $D$ (the dilations' product), $L$ (FFT points
    per channel), $F$ (complex frequencies of the real FFT), $Q$ (the shifted GEMMs' rows: flat
    positions of the padded grid from the first output to the last), $H$ (the batch parts run
    side by side, `numeric.set_num_threads`: each transforms the filter once).

    ```python
    >>> from numeric.algorithms import cost_formulas
    >>> cost_formulas()["direct"]["gemm"]
    2*C_in*C_out*N*O*k/G

    ```
    """
    N, Ci, Co, G, O, P, k, t, a, m, D, L, F, Q, H = _S.values()
    cg = Ci / G
    return {
        # im2col: pad, one copy of every window (C_in k O), the GEMM, the output
        "direct": {
            "gemm": 2 * N * Co * cg * O * k,
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + 2 * Ci * k * O + Co * O),
            "calls": sympy.Integer(5),
        },
        # groups == C_in, one channel each: no GEMM, a multiply and an add per tap on
        # cache-resident blocks (measured: 3/4 of a strided copy's time per tap and output)
        "direct-depthwise": {
            "gemm": sympy.Integer(0),
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + sympy.Rational(3, 4) * Co * O * k),
            "calls": 2 * k + 4,
        },
        # the element-wise stage as one GEMM per tile position; pad, copy the a x a tiles (one
        # strided copy), B^T d B and A^T M A (two GEMM passes each), scatter the m x m output
        # tiles; with dilation D (its product over the axes) the tile copy moves runs of D
        # elements, about D times slower per element (refit with bench/calibrate.py after the
        # one-copy gather: 1 + D, it was 3/2 + 2 D with a copy per tile position); per batch
        # part the filter transform G g G^T (copy 3 x 3 -> a x 3 -> a x a per channel pair:
        # 27 + 6 a + a^2 elements moved; it dominates on small images with many channels,
        # bench/auto_regret.py: 512 x 7 x 7 took 36 ms by Winograd, 12 direct)
        "winograd": {
            "gemm": 2 * N * Co * cg * t * a**2,
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + Ci * t * a**2 * (1 + D) + 2 * Co * t * a**2 + Co * t * m**2)
            + H * (27 + 6 * a + a**2) * Co * cg,
            "calls": sympy.Integer(16),
        },
        # stride 1: the flattened channels-last copy of the padded input, one GEMM per tap on a
        # shifted view of it (Q rows: the outputs and the grid's discarded positions between
        # them), each added into the accumulator (a cache-resident add: counted as one element
        # moved, fit with bench/calibrate.py), the outputs; NumPy runs a batched GEMM as one
        # call per sample; the channels-last copies in and out are transposes, twice a plain
        # copy's time (bench/auto_regret.py: 1x1 64 -> 256 on 56 x 56 took 26 ms, 9 direct)
        "shifted": {
            "gemm": 2 * N * Co * cg * Q * k,
            "fft": sympy.Integer(0),
            "memory": N * (3 * Ci * P + (k - 1) * Co * Q + Co * (Q + 2 * O)),
            "calls": 2 * G * k * N + 6,
        },
        # stride 1, few channels per group (the printed shift_add_layer): no GEMM; the padded
        # input copied once (kept between chunks), then per tap and channel pair a multiply and
        # an add over Q positions, cache-resident (fit with bench/calibrate.py: half an element
        # moved each), two calls per block of 2^17 accumulator elements
        "shifted-rows": {
            "gemm": sympy.Integer(0),
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + sympy.Rational(1, 2) * Co * cg * k * Q + Co * O),
            "calls": 2 * cg * k * (N * Co * Q / 2**17 + 1) + 8,
        },
        # real FFTs of the inputs, outputs and kernels (5/2 L log2 L each) and the channel sum
        # as a complex GEMM per frequency (8 real operations per complex multiply-add)
        "fft": {
            "gemm": 8 * N * Co * cg * F,
            "fft": sympy.Rational(5, 2) * L * sympy.log(L, 2) * (N * Ci + N * Co + Co * cg),
            "memory": N * (Ci * P + 4 * Ci * F + 4 * Co * F + Co * O),
            "calls": sympy.Integer(16),
        },
        # rank-1 kernels: a row pass and a column pass, broadcast multiply-adds (memory-bound;
        # refit 2026-11-23 on four rank-1 layers, 5x5 to 9x9: one element moved per tap and
        # position, the earlier 3 overestimated every one of them 2.5-3.6x)
        "separable": {
            "gemm": sympy.Integer(0),
            "fft": sympy.Integer(0),
            "memory": N * (Ci * P + Co * cg * (P + O) * sympy.sqrt(k)),
            "calls": 4 * G * sympy.sqrt(k),
        },
    }


@functools.cache
def _compiled(algorithm: str) -> Any:
    f = cost_formulas()[algorithm]
    args = list(_S.values())
    return {part: sympy.lambdify(args, e, modules="math") for part, e in f.items()}


# -- what runs where ------------------------------------------------------------------------------
def _check_query(name: str, spec: Any, op: str, batch: Any = 0) -> None:
    """The arguments the cost queries share: a `symconv.Conv` (not a transposed one), an op of
    `OPS`, a batch that is an int >= 0."""
    if type(spec) is not Conv:
        raise SpecError(f"{name}: spec must be a symconv.Conv, got {type(spec).__name__}")
    if op not in OPS:
        raise SpecError(f"{name}: op must be one of {list(OPS)}, got {op!r}")
    as_int(name, "batch", batch, 0)


def _positive(v: Any) -> bool | np.bool_:
    return not isinstance(v, bool) and isinstance(v, int | float | np.number) and v > 0


def _is_tile(m: Any) -> bool:
    return not isinstance(m, bool) and isinstance(m, int | np.integer) and m in WINOGRAD_TILES


def supported(
    spec: Conv, algorithm: str, op: str = "forward", *, m: int = WINOGRAD_M
) -> str | None:
    """Why `algorithm` cannot run `op` of `spec` (None when it can).

    ```python
    >>> import symconv as sc
    >>> from numeric.algorithms import supported
    >>> supported(sc.Conv(dims=2, kernel_size=3, stride=2), "winograd")
    'needs a 3x3 kernel and stride 1, got kernel_size (3, 3), stride (2, 2)'
    >>> supported(sc.Conv(dims=3, kernel_size=5, dilation=2), "shifted") is None
    True

    ```

    Raises:
        SpecError: `spec` is not a `symconv.Conv`.
    """
    if type(spec) is not Conv:
        raise SpecError(f"supported: spec must be a symconv.Conv, got {type(spec).__name__}")
    if algorithm not in _CANDIDATES:
        return f"algorithm must be one of {list(ALGORITHMS)}, got {algorithm!r}"
    if op not in OPS:
        return f"op must be one of {list(OPS)}, got {op!r}"
    if algorithm in ("direct", "fft"):
        return None
    if algorithm == "shifted":
        if any(s != 1 for s in spec.stride):
            return f"needs stride 1, got stride {spec.stride}"
        return None
    if spec.dims != 2:
        return f"needs a 2-d convolution, got dims {spec.dims}"
    if algorithm == "winograd":
        if spec.kernel_size != (3, 3) or spec.stride != (1, 1):
            return (
                f"needs a 3x3 kernel and stride 1, got kernel_size {spec.kernel_size}, "
                f"stride {spec.stride}"
            )
        if not _is_tile(m):
            return f"winograd_m must be one of {list(WINOGRAD_TILES)}, got {m!r}"
        return None
    if op != "forward":
        return "runs the forward pass only (its gradients are not rank-1 layers)"
    return None


def rank_one_factors(weight: Any, tol: float | None = None) -> tuple[Any, Any] | None:
    """`(u, v)` with `weight[k, c] == outer(u[k, c], v[k, c])`, or None when some slice has rank
    > 1: $\\sigma_2 >$ `tol` $\\sigma_1$ (the rule of `symconv.separable`; default `tol`
    `RANK_TOL` by dtype), or when it holds inf or NaN (no factors: `symconv.separable` refuses
    non-finite kernels too). NumPy arrays or torch tensors (returned on the weight's device).

    ```python
    >>> import numpy as np
    >>> from numeric.algorithms import rank_one_factors
    >>> u, v = rank_one_factors(np.outer([1.0, 2, 1], [1.0, 0, -1])[None, None])
    >>> np.allclose(np.einsum("kca,kcb->kcab", u, v), np.outer([1, 2, 1], [1, 0, -1]))
    True

    ```
    """
    torch_like = not isinstance(weight, np.ndarray) and hasattr(weight, "detach")
    w = weight.detach().cpu().numpy() if torch_like else np.asarray(weight)
    if w.ndim != 4 or w.dtype.kind not in "fiu":
        raise SpecError(
            "rank_one_factors: weight must be a real 4-d array (C_out, C_in/groups, kh, kw), "
            f"got shape {w.shape}, dtype {w.dtype}"
        )
    if tol is not None and not (
        not isinstance(tol, bool) and isinstance(tol, int | float | np.floating) and tol >= 0
    ):
        raise SpecError(f"rank_one_factors: tol must be a real number >= 0, got {tol!r}")
    tol = RANK_TOL.get(str(w.dtype), RANK_TOL["float64"]) if tol is None else tol
    K, Cg, kh, kw = w.shape
    if K * Cg == 0 or not np.isfinite(w).all():  # inf or NaN: no factors (symconv refuses it)
        return None
    U, s, Vt = np.linalg.svd(w.astype(np.float64).reshape(K * Cg, kh, kw), full_matrices=False)
    if s.shape[1] > 1 and np.any(s[:, 1] > tol * s[:, 0]):
        return None
    root = np.sqrt(s[:, 0])
    u = (U[:, :, 0] * root[:, None]).reshape(K, Cg, kh).astype(w.dtype)
    v = (Vt[:, 0, :] * root[:, None]).reshape(K, Cg, kw).astype(w.dtype)
    if torch_like:
        import torch

        return torch.from_numpy(u).to(weight.device), torch.from_numpy(v).to(weight.device)
    return u, v


# -- costs and the choice -------------------------------------------------------------------------
def _fft_lengths(spec: Conv, size: tuple[int, ...]) -> tuple[int, ...]:
    """The FFT kernels' transform lengths (the printed `fft_lengths`, from `fft_plan`). A
    padding mode other than zeros is applied first (`forward`), so the FFT then sees the
    padded input with no padding of its own."""
    extent = fft_plan(spec, size).kernel_extent
    if spec.padding_mode != "zeros":
        padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, spec.pads, strict=True))
        return tuple(fft_lengths(padded, extent, tuple((0, 0) for _ in size)))
    return tuple(fft_lengths(size, extent, spec.pads))


@functools.lru_cache(maxsize=1024)
def _values(
    spec: Conv, size: tuple[int, ...], batch: int, m: int, threads: int = 1
) -> dict[str, int]:
    """The cost formulas' symbols for one layer (cached: every non-direct call asks); `threads`
    the NumPy kernels' threads (the batch parts, `H`, as `numeric._parallel.parts` splits)."""
    out = spec.output_size(size)
    padded = [n + lo + hi for n, (lo, hi) in zip(size, spec.pads, strict=True)]
    per_axis = winograd_tiles(out, spec.dilation, m)  # the printed kernels' own tiling
    tiles = math.prod(t * d for t, d in zip(per_axis, spec.dilation, strict=True))
    lengths = _fft_lengths(spec, size)
    return dict(
        N=batch,
        C_in=spec.in_channels,
        C_out=spec.out_channels,
        G=spec.groups,
        O=math.prod(out),
        P=math.prod(padded),
        k=math.prod(spec.kernel_size),
        t=tiles,
        alpha=m + 2,
        m=m,
        D=math.prod(spec.dilation),
        L=math.prod(lengths),
        F=math.prod(lengths[:-1]) * (lengths[-1] // 2 + 1),
        Q=sum((o - 1) * math.prod(padded[i + 1 :]) for i, o in enumerate(out)) + 1,
        H=len(parts(batch, 2.0 * batch * spec.macs(size), max(1, batch), threads)),
    )


def workspace_bytes(spec: Conv, size: tuple[int, ...], algorithm: str, itemsize: int) -> int:
    """Extra memory per sample of `algorithm`'s kernels (what the batch chunks are sized by):
    Winograd: the padded input, the tiles and their transform, the element-wise products and
    their transform, the output tiles; FFT: the padded input, the input and output spectra
    (complex: two numbers each, and one temporary), the inverse transform and the crop;
    shifted: the flattened input, the accumulator and one GEMM's result, delta on the padded
    grid (dL/dw), the output (shift-adds: no accumulator per sample, a block of rows);
    separable: the padded input and the two passes."""
    v = _values(spec, size, 1, WINOGRAD_M)
    ci, co, a2, t = v["C_in"], v["C_out"], v["alpha"] ** 2, v["t"]
    if algorithm == "winograd":
        n = ci * v["P"] + 2 * a2 * t * ci + 2 * a2 * t * co + v["m"] ** 2 * t * co
    elif algorithm == "fft":
        n = ci * v["P"] + 4 * (ci + co) * v["F"] + co * (v["L"] + v["O"])
    elif algorithm == "shifted" and _shift_adds(spec, "forward"):  # fixed-size row blocks
        n = ci * v["P"] + co * (v["P"] + v["O"])
    elif algorithm == "shifted":
        n = ci * v["P"] + co * (2 * v["Q"] + v["P"] + v["O"])
    else:
        n = ci * v["P"] + 2 * co * (v["P"] + v["O"])
    return int(n) * itemsize


def fixed_workspace_bytes(
    spec: Conv, size: tuple[int, ...], algorithm: str, itemsize: int, op: str = "forward"
) -> int:
    """Extra memory per call that does not grow with the batch: the FFT's kernel spectrum,
    $C_\text{out} C_\text{in}/g$ complex numbers per frequency (two numbers each), counted
    four times (rfftn's intermediate transform, the spectrum, its conjugate and the copy
    matmul makes of a transposed operand) with the zero-padded kernel; for dL/dw the gradient's
    spectrum, its copies and its inverse transform instead. 0 for the others (their kernel
    transforms are small)."""
    if algorithm != "fft":
        return 0
    v = _values(spec, size, 1, WINOGRAD_M)
    pairs = v["C_out"] * (v["C_in"] // v["G"])
    n = 8 * pairs * v["F"] + (2 if op == "grad_weight" else 1) * pairs * v["L"]
    return int(n) * itemsize


def over_workspace(
    spec: Conv, size: tuple[int, ...], algorithm: str, itemsize: int, op: str = "forward"
) -> str | None:
    """Why `algorithm` cannot keep `op` within the workspace limit even one sample at a time
    on one thread (`numeric.set_workspace_limit`), or None when it can: only an algorithm with
    a part that does not shrink with the batch (the FFT's kernel spectrum) can be refused; the
    others run at least one sample per chunk, as the budget's rule has always been."""
    fixed = fixed_workspace_bytes(spec, size, algorithm, itemsize, op)
    if not fixed:  # chunked per sample, at least one at a time, as direct (the budget's rule)
        return None
    need = fixed + workspace_bytes(spec, size, algorithm, itemsize) * (1 if op == "forward" else 2)
    limit = get_workspace_limit()
    if need <= limit:
        return None
    return (
        f"needs {need} bytes of workspace for one sample ({fixed} of them the kernel's "
        f"spectrum), over the workspace limit {limit} (numeric.set_workspace_limit)"
    )


def _shift_adds(spec: Conv, op: str) -> bool:
    """Whether the shifted kernels run `op` of `spec` as shift-adds (the printed rule; dL/dx
    is a layer with the channel counts exchanged)."""
    c_g, k_g = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    return shift_add_layer(k_g, c_g) if op == "grad_input" else shift_add_layer(c_g, k_g)


def _formula(spec: Conv, algorithm: str, op: str) -> str:
    """The entry of `cost_formulas()` that prices `algorithm` on `spec`: the direct kernels'
    shift-add path for depthwise layers, the shifted kernels' shift-adds for few channels."""
    if algorithm == "direct" and spec.groups == spec.in_channels > 1:
        return "direct-depthwise"
    if algorithm == "shifted" and _shift_adds(spec, op):
        return "shifted-rows"
    return algorithm


def costs(
    spec: Conv,
    input_size: Any,
    *,
    batch: int = 1,
    op: str = "forward",
    rates: dict[str, float] | None = None,
    threads: int | None = None,
) -> dict[str, dict[str, float] | None]:
    """Per algorithm, its work (`gemm`, `fft` operations; `memory` elements) for `batch`
    samples and the estimated `seconds` at `rates` (default `RATES`) reached to `EFFICIENCY`;
    None where it does not run. Every op costs what the forward does (each gradient is a
    correlation of the same size). `threads`: the NumPy kernels' (default
    `numeric.get_num_threads()`), which set how many batch parts transform the filter.
    """
    _check_query("costs", spec, op, batch)
    size = spec._check_input(input_size)
    if rates is not None:
        if not isinstance(rates, dict) or set(rates) != set(RATES):
            keys = sorted(rates) if isinstance(rates, dict) else type(rates).__name__
            raise SpecError(
                f"costs: rates must be a dict with the keys {sorted(RATES)}, got {keys}"
            )
        bad = {k: v for k, v in rates.items() if not _positive(v)}
        if bad:
            raise SpecError(f"costs: rates must be positive numbers, got {bad}")
    if threads is not None:
        as_int("costs", "threads", threads, 1)
    rates = RATES if rates is None else rates
    threads = get_num_threads() if threads is None else threads
    values = _values(spec, size, batch, WINOGRAD_M, threads)
    out: dict[str, dict[str, float] | None] = {}
    for name in _CANDIDATES:
        if supported(spec, name, op) is not None:
            out[name] = None
            continue
        formula = _formula(spec, name, op)
        work = {part: float(f(*values.values())) for part, f in _compiled(formula).items()}
        eff = EFFICIENCY.get(name, {})
        work["seconds"] = sum(work[p] / (rates[p] * eff.get(p, 1.0)) for p in rates)
        out[name] = work
    return out


def explain(
    spec: Conv,
    input_size: Any,
    *,
    batch: int = 1,
    op: str = "forward",
    weight: Any = None,
) -> dict[str, Any]:
    """The algorithm "auto" runs for `op` of `spec` on `batch` inputs of `input_size`, with the
    costs behind it and the rule. Separable counts only when `weight` is given and every slice
    has rank 1 (checked only when it would win).

    ```python
    >>> import symconv as sc
    >>> from numeric.algorithms import explain
    >>> big = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=15, padding=7)
    >>> explain(big, (128, 128), batch=2)["algorithm"]
    'fft'
    >>> vgg = sc.Conv(dims=2, in_channels=256, out_channels=256, kernel_size=3, padding=1)
    >>> explain(vgg, (28, 28), batch=8)["algorithm"]
    'winograd'

    ```
    """
    _check_query("explain", spec, op, batch)
    c = costs(spec, input_size, batch=batch, op=op)
    return {
        "algorithm": _pick(spec, spec._check_input(input_size), batch, op, weight)[0],
        "costs": c,
        "rates": dict(RATES),
        "rule": (
            "fastest supported algorithm by seconds = sum over parts p of work[p] / (rates[p] x "
            "EFFICIENCY[algorithm][p]) (cost_formulas); separable only for rank-1 weights; "
            f"ties to the earlier of {list(_CANDIDATES)}"
        ),
    }


@functools.lru_cache(maxsize=1024)
def _ranked(
    spec: Conv,
    size: tuple[int, ...],
    batch: int,
    op: str,
    rates: tuple[tuple[str, float], ...],
    threads: int,
) -> tuple[str, ...]:
    """Supported algorithms, fastest first by the cost model (cached: "auto" asks per call)."""
    c = costs(spec, size, batch=batch, op=op, rates=dict(rates), threads=threads)
    return tuple(
        sorted(
            (k for k, v in c.items() if v is not None),
            key=lambda k: (c[k]["seconds"], _CANDIDATES.index(k)),  # type: ignore[index]  # v is not None
        )
    )


def _order(spec: Conv, size: tuple[int, ...], batch: int, op: str, itemsize: int) -> list[str]:
    """Supported algorithms, fastest first, less those over the workspace limit."""
    order = _ranked(spec, size, batch, op, tuple(RATES.items()), get_num_threads())
    return [a for a in order if over_workspace(spec, size, a, itemsize, op) is None]


def _pick(
    spec: Conv, size: tuple[int, ...], batch: int, op: str, weight: Any, itemsize: int = 4
) -> tuple[str, Any]:
    """The fastest by the cost model within the workspace limit, with the rank-1 factors when
    that is separable (which counts only for rank-1 weights: the test runs only when separable
    would win)."""
    order = _order(spec, size, batch, op, itemsize)
    if order[0] == "separable":
        factors = None if weight is None else rank_one_factors(weight)
        return (order[1], None) if factors is None else ("separable", factors)
    return order[0], None


def _pick_non_spreading(
    spec: Conv, size: tuple[int, ...], batch: int, op: str, itemsize: int = 4
) -> str:
    """The fastest of `NON_SPREADING[op]` by the cost model (direct for an empty batch)."""
    if batch == 0:
        return "direct"
    order = _order(spec, size, batch, op, itemsize)
    return next((a for a in order if a in NON_SPREADING[op]), "direct")


def all_finite(*arrays: Any) -> bool:
    """Whether every array holds only finite numbers, by one sum each (no temporary array):
    inf or NaN anywhere makes the sum inf or NaN. A finite array whose sum overflows reads as
    not finite, which only restricts "auto" to `NON_SPREADING` (exact either way)."""
    for a in arrays:
        if a is None:
            continue
        total = a.sum()
        if not bool(total.isfinite() if hasattr(total, "isfinite") else np.isfinite(total)):
            return False
    return True


def choose(
    op: str,
    name: str,
    spec: Conv,
    size: tuple[int, ...],
    batch: int,
    algorithm: str,
    weight: Any = None,
    m: int | None = None,
) -> str:
    """The algorithm to run (`algorithm`, or the auto choice), checked: SpecError when the
    named algorithm cannot run this layer or a given Winograd tile `m` does not exist (a tile
    given with "auto" asks for Winograd)."""
    return plan(op, name, spec, size, batch, algorithm, weight, m)[0]


def plan(
    op: str,
    name: str,
    spec: Conv,
    size: tuple[int, ...],
    batch: int,
    algorithm: str,
    weight: Any = None,
    m: int | None = None,
    finite: bool = True,
    itemsize: int = 4,
) -> tuple[str, Any]:
    """`choose`, with what the choice found: the rank-1 factors `(u, v)` of `weight` when the
    algorithm is separable (so that a call factors its kernel once), else None. `finite=False`
    (an operand holds inf or NaN) restricts "auto" to the algorithms that do not spread them,
    `NON_SPREADING`, so that the result matches torch's. "auto" skips an algorithm that cannot
    keep within the workspace limit for `itemsize`-byte elements (`over_workspace`); one named
    explicitly runs anyway, one sample at a time on one thread (as every algorithm does under a
    budget smaller than one sample: the budget sizes the chunks, at least one sample each).

    ```python
    >>> import numpy as np
    >>> import symconv as sc
    >>> from numeric.algorithms import plan
    >>> sobel = np.outer([1.0, 2, 1], [1.0, 0, -1])[None, None]
    >>> spec = sc.Conv(dims=2, in_channels=1, out_channels=1, kernel_size=3)
    >>> name, (u, v) = plan("forward", "conv2d", spec, (32, 32), 1, "separable", sobel)
    >>> name, np.allclose(u[0, 0, :, None] * v[0, 0], sobel[0, 0])
    ('separable', True)
    >>> plan("forward", "conv2d", spec, (32, 32), 1, "direct", sobel)
    ('direct', None)

    ```
    """
    if algorithm not in ALGORITHMS:
        raise SpecError(f"{name}: algorithm must be one of {list(ALGORITHMS)}, got {algorithm!r}")
    if op not in OPS:
        raise SpecError(f"{name}: op must be one of {list(OPS)}, got {op!r}")
    if m is not None:
        if not _is_tile(m):
            raise SpecError(f"{name}: winograd_m must be one of {list(WINOGRAD_TILES)}, got {m!r}")
        algorithm = "winograd" if algorithm == "auto" else algorithm
    if algorithm == "auto" and not finite:
        return _pick_non_spreading(spec, size, batch, op, itemsize), None
    if algorithm == "auto":
        return ("direct", None) if batch == 0 else _pick(spec, size, batch, op, weight, itemsize)
    why = supported(spec, algorithm, op, m=WINOGRAD_M if m is None else m)
    if why is not None:
        raise SpecError(f"{name}: algorithm {algorithm!r} {why}")
    if algorithm != "separable" or weight is None:
        return algorithm, None
    factors = rank_one_factors(weight)
    if factors is None:
        raise SpecError(
            f"{name}: algorithm 'separable' needs a rank-1 kernel in every (out, in) channel "
            "slice (see numeric.algorithms.rank_one_factors)"
        )
    return algorithm, factors


# -- running one ----------------------------------------------------------------------------------
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
        module = sys.modules.get(f"{__package__}._generated.{name}")
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


# -- calibration ----------------------------------------------------------------------------------
def _best_seconds(fn: Any, reps: int = 5) -> float:
    fn()
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# The layers the cost derivation counts on: 1-3 d, strides, dilations, groups, depthwise,
# few channels (shift-adds), padding that crops; each with its input size and batch.
_COUNTED = (
    (dict(dims=1, in_channels=3, out_channels=4, kernel_size=3, padding=1), (11,), 2),
    (dict(dims=1, in_channels=4, out_channels=6, kernel_size=4, stride=2, groups=2), (13,), 3),
    (dict(dims=2, in_channels=3, out_channels=5, kernel_size=3, padding=1), (9, 7), 2),
    (
        dict(dims=2, in_channels=8, out_channels=8, kernel_size=3, padding=2, dilation=2),
        (10, 10),
        1,
    ),
    (dict(dims=2, in_channels=6, out_channels=6, kernel_size=3, padding=1, groups=6), (8, 8), 2),
    (dict(dims=2, in_channels=4, out_channels=8, kernel_size=(3, 3), groups=2), (9, 12), 2),
    (dict(dims=2, in_channels=1, out_channels=2, kernel_size=5, padding=2), (8, 8), 3),
    (dict(dims=2, in_channels=3, out_channels=4, kernel_size=(2, 3), stride=(2, 1)), (9, 8), 2),
    (dict(dims=3, in_channels=2, out_channels=3, kernel_size=3, padding=1), (5, 4, 6), 1),
    (
        dict(
            dims=2, in_channels=3, out_channels=8, kernel_size=3, padding=1, padding_mode="reflect"
        ),
        (9, 16),
        2,
    ),
    (
        dict(
            dims=1, in_channels=2, out_channels=2, kernel_size=5, padding=2, padding_mode="circular"
        ),
        (12,),
        2,
    ),
)
# what each algorithm's `gemm` counts, as issued by its printed NumPy kernels
_GEMM_COUNTED = {
    "direct": "im2col's GEMMs, W (C_out/G x C_in/G k) by the columns, per group and tile",
    "winograd": "the channel products U V, one per tile position and group (its transforms, "
    "two GEMMs of a 6 x 6 matrix each, are priced as memory)",
    "shifted": "one GEMM per tap and group on a shifted view, Q rows per sample",
    "fft": "the complex channel products per frequency, 8 real operations per multiply-add",
}


def _issued_flops(module: Any, run: Any, transforms: bool) -> float:
    """The floating-point operations of every `_matmul` the generated `module` issues during
    `run()`: 2 per real multiply-add, 8 per complex one; with `transforms`, GEMMs with a 2-d
    operand (Winograd's 6 x 6 and 4 x 6 transform matrices) are left out. The module's
    `_matmul` is wrapped for the call."""
    counted: list[int] = []
    original = module._matmul

    def _matmul(a: Any, b: Any, out: Any) -> Any:
        if not (transforms and 2 in (a.ndim, b.ndim)):
            batch = math.prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
            per = 8 if np.iscomplexobj(a) or np.iscomplexobj(b) else 2
            counted.append(per * batch * a.shape[-2] * a.shape[-1] * b.shape[-1])
        return original(a, b, out)

    module._matmul = _matmul
    try:
        run()
    finally:
        module._matmul = original
    return float(sum(counted))


def cost_derivation(formulas: dict[str, dict[str, sympy.Expr]] | None = None) -> Any:
    r"""The cost model of "auto" as a derivation: each algorithm's GEMM work as a SymPy
    expression of the layer, checked exactly against the operations its printed NumPy kernels
    issue (every `_matmul` counted while the forward pass runs) on layers in 1-3 d with
    strides, dilations, groups, depthwise and few-channel layers; the memory terms are stated
    as they are priced (constants fitted with `bench/calibrate.py`, not derived). `formulas`
    replaces `cost_formulas()` (a wrong formula fails the check).

    ```python
    >>> from numeric.algorithms import cost_derivation
    >>> cost_derivation().verify().passed
    True

    ```
    """
    formulas = cost_formulas() if formulas is None else formulas
    d = Derivation('Cost model of algorithm="auto": the work each algorithm issues')
    for name, why in _GEMM_COUNTED.items():
        work = sympy.Eq(sympy.Symbol(f"W_{name}"), formulas[name]["gemm"])
        d.add_step(f"{name}: GEMM operations", work, why, by=_COUNTED_CHECK)
    for name in ("direct-depthwise", "shifted-rows"):
        work = sympy.Eq(sympy.Symbol(f"W_{name}"), formulas[name]["gemm"])
        d.add_step(
            f"{name}: GEMM operations",
            work,
            "element-wise passes, no GEMM: counted",
            by=_COUNTED_CHECK,
        )
    work = sympy.Eq(sympy.Symbol("W_separable"), formulas["separable"]["gemm"])
    d.add_step(
        "separable: GEMM operations",
        work,
        "its row pass is a thin batched GEMM over kw taps, priced with the column pass as "
        "memory (fitted, not counted: the only GEMM term the check below leaves out)",
        definition=True,
    )
    for name, f in formulas.items():
        moved = sympy.Eq(sympy.Symbol(f"M_{name}"), f["memory"])
        d.add_step(
            f"{name}: elements moved",
            moved,
            "the model's memory term, constants fitted to this machine",
            definition=True,
        )
    modules = {"direct": numpy_conv, "winograd": numpy_winograd}
    modules.update(shifted=numpy_shifted, fft=numpy_fft)

    def check() -> Outcome:
        rng = np.random.default_rng(0)
        cases, worst, seen = 0, 0.0, set()
        old = set_num_threads(1)  # one batch part: H = 1
        try:
            for fields, size, batch in _COUNTED:
                spec = Conv(**fields)
                x = rng.standard_normal((batch, spec.in_channels, *size))
                w = rng.standard_normal(spec.weight_shape)
                subs = {_S[k]: v for k, v in _values(spec, size, batch, WINOGRAD_M).items()}
                for name, module in modules.items():
                    if supported(spec, name, "forward") is not None:
                        continue
                    formula = _formula(spec, name, "forward")
                    want = float(formulas[formula]["gemm"].xreplace(subs))
                    args = (spec.dims, f"conv{spec.dims}d", x, w, None, spec.stride, spec.pads)
                    rest = (spec.dilation, spec.groups, spec.padding_mode, False, name, WINOGRAD_M)
                    got = _issued_flops(
                        module, lambda a=args, r=rest: _ops.conv(*a, *r), name == "winograd"
                    )
                    worst = max(worst, abs(got - want) / max(1.0, want))
                    cases += 1
                    seen.add(formula)
        finally:
            set_num_threads(old)
        return Outcome(
            cases, worst, worst == 0.0, f"relative error; formulas {', '.join(sorted(seen))}"
        )

    d.check(_COUNTED_CHECK, "exact", check)
    return d


_COUNTED_CHECK = "gemm formula = operations the printed NumPy kernels issue"


def calibrate(*, apply: bool = False, dtype: Any = np.float32) -> dict[str, float]:
    """Measure this machine's rates with NumPy, split over the batch the way the kernels run
    (`numeric.set_num_threads`): `gemm` (FLOP/s of VGG-shaped GEMMs, 256 x 2304 by 784 per
    sample), `fft` (FLOP/s at 5/2 L log2 L per real 2-d FFT of 64 x 64), `memory` (elements per
    second of im2col's strided window copies), `calls` (small window copies per second: the
    fixed cost of one NumPy operation). With `apply=True` they replace `RATES` for this
    process. Takes about a second.

    ```python
    >>> from numeric.algorithms import calibrate
    >>> sorted(calibrate())
    ['calls', 'fft', 'gemm', 'memory']

    ```
    """
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise SpecError(f"calibrate: dtype must be float32 or float64, got {dtype!r}")
    rng = np.random.default_rng(0)
    n = 8
    a = rng.standard_normal((256, 2304)).astype(dtype)
    b = rng.standard_normal((n, 2304, 784)).astype(dtype)
    x = rng.standard_normal((n, 32, 64, 64)).astype(dtype)
    xp = rng.standard_normal((n, 64, 30, 30)).astype(dtype)
    cols = np.empty((n, 64, 9, 28, 28), dtype)

    def gemm(s: slice) -> Any:
        return np.matmul(a, b[s])

    def fft(s: slice) -> Any:
        return np.fft.rfftn(x[s], axes=(2, 3))

    def copies(s: slice) -> Any:
        for t in range(9):
            i, j = divmod(t, 3)
            cols[s, :, t] = xp[s, :, i : i + 28, j : j + 28]
        return cols[s]

    def rate(call: Any) -> float:
        return 1 / _best_seconds(lambda: map_batch("numpy", n, math.inf, 1, call, "concat"))

    small, target = np.ones((2, 2, 6, 6), dtype), np.empty((2, 9, 2, 4, 4), dtype)

    def calls() -> None:
        for _ in range(10):
            for t in range(9):
                i, j = divmod(t, 3)
                target[:, t] = small[:, :, i : i + 4, j : j + 4].transpose(1, 0, 2, 3)

    rates = {
        "gemm": 2 * 256 * 2304 * 784 * n * rate(gemm),
        "fft": 2.5 * 4096 * 12 * n * 32 * rate(fft),
        "memory": cols.size * rate(copies),
        "calls": 90 / _best_seconds(calls),
    }
    if apply:
        RATES.update(rates)
    return rates


# -- conv2d by name (the module's original entry point) -------------------------------------------
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
