r"""Alternative algorithms for `conv2d` (issue 7): direct, FFT, Winograd, separable, and "auto".

`conv2d(..., algorithm=...)` runs the kernels printed into `numeric/_generated/numpy_algorithms.py`
by `symconv.codegen.algorithms` (NumPy arrays; zero padding). `explain(spec, input_size)` gives
the cost of each algorithm and the one "auto" picks.

**Costs** (multiplications, for a batch of `batch` samples; $C_g = C_\mathrm{in}/G$, output
$o_1 \times o_2$, kernel $k_1 \times k_2$):

- direct: $N C_\mathrm{out} C_g o_1 o_2 k_1 k_2$ (`Conv.macs`);
- fft: transform lengths $L_1 \times L_2$ from `symconv.fourier.fft_plan` (rounded up to
  5-smooth lengths), $\tfrac{5}{4} L \log_2 L$ per real transform ($L = L_1 L_2$): $N C_\mathrm{in}$
  forward, $N C_\mathrm{out}$ inverse, $C_\mathrm{out} C_g$ for the kernel; plus 4 real
  multiplications per complex product, $N C_\mathrm{out} C_g L_1 (L_2/2 + 1)$ of them;
- winograd $F(m \times m, 3 \times 3)$: $\alpha^2$ (`winograd(m, 3).tile_multiplications()`)
  per tile and channel pair, $N C_\mathrm{out} C_g \lceil o_1/m \rceil \lceil o_2/m \rceil
  \alpha^2$, plus the dense transforms, $2\alpha^3$ per input tile and channel, and
  $\alpha^2 m + \alpha m^2$ per output tile and channel;
- separable (rank-1 kernels only): $N C_\mathrm{out} C_g (h\,o_2 k_2 + o_1 o_2 k_1)$, $h$ the
  padded rows read: $k_1 + k_2$ per output instead of $k_1 k_2$.

**Rule of "auto"**: the cheapest supported algorithm, where an alternative counts only if it
costs at most `MARGIN` (0.4) of direct (direct is one dense GEMM; the others pay transforms and
memory traffic that the count does not show: Winograd $F(2 \times 2)$ at 0.46 of direct's count
ran 1.5x slower than direct on VGG 256x28x28); ties go to the earlier of `ORDER`. Winograd is
considered with $F(2 \times 2, 3 \times 3)$ only: its float32 tile error is about 10x smaller
(max abs error on 300 standard-normal tiles, `symconv.winograd.float32_error`: 2.6e-6 against
2.8e-5 for $F(4 \times 4, 3 \times 3)$; the float32 direct sum: 1.1e-6); ask for
`winograd_m=4` explicitly. Separable is considered only when the weights are given and every
$(k, c)$ slice has rank 1 (`rank_one_factors`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import symconv as sc
from symconv import SpecError
from symconv.fourier import fft_plan
from symconv.winograd import winograd

from . import conv2d as _direct_conv2d
from ._backend import pick
from ._generated import numpy_algorithms as _gen

__all__ = ["ALGORITHMS", "MARGIN", "ORDER", "conv2d", "costs", "explain", "rank_one_factors"]

_OP = "conv2d"
ALGORITHMS = ("auto", "direct", "fft", "winograd", "separable")
ORDER = ("direct", "winograd", "separable", "fft")
MARGIN = 0.4  # calibrated on bench/algorithms.py (BENCHMARKS.md, issue 7)
RANK_TOL = {"float64": 1e-10, "float32": 1e-6}  # sigma_2 / sigma_1 still counted as zero


def rank_one_factors(weight: Any, tol: float | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """`(u, v)` with `weight[k, c] == outer(u[k, c], v[k, c])`, or None when some slice has rank
    > 1: $\\sigma_2 >$ `tol` $\\sigma_1$ (the rule of `symconv.separable`; default `tol`
    `RANK_TOL` by dtype: 1e-10 for float64 as there, 1e-6 for float32's rounding)."""
    w = np.asarray(weight)
    tol = RANK_TOL.get(str(w.dtype), 1e-10) if tol is None else tol
    K, Cg, kh, kw = w.shape
    U, s, Vt = np.linalg.svd(w.astype(np.float64).reshape(K * Cg, kh, kw), full_matrices=False)
    if s.shape[1] > 1 and np.any(s[:, 1] > tol * s[:, 0]):
        return None
    root = np.sqrt(s[:, 0])
    u = (U[:, :, 0] * root[:, None]).reshape(K, Cg, kh).astype(w.dtype)
    v = (Vt[:, 0, :] * root[:, None]).reshape(K, Cg, kw).astype(w.dtype)
    return u, v


def _why_not(spec: sc.Conv, algorithm: str, m: int = 2) -> str | None:
    """Why `algorithm` cannot run `spec` (None when it can)."""
    if spec.dims != 2:
        return f"needs a 2-d convolution, got dims {spec.dims}"
    if algorithm == "direct":
        return None
    if spec.padding_mode != "zeros" or spec.flip:
        return (
            f"needs zeros padding and cross-correlation, got padding_mode "
            f"{spec.padding_mode!r}, flip {spec.flip}"
        )
    if algorithm == "winograd":
        if spec.kernel_size != (3, 3) or spec.stride != (1, 1) or spec.dilation != (1, 1):
            return (
                f"needs a 3x3 kernel, stride 1 and dilation 1, got kernel_size "
                f"{spec.kernel_size}, stride {spec.stride}, dilation {spec.dilation}"
            )
        if m not in _gen.WINOGRAD:
            return f"winograd_m must be one of {sorted(_gen.WINOGRAD)}, got {m!r}"
    return None


def costs(
    spec: sc.Conv, input_size: Any, *, batch: int = 1, weight: Any = None
) -> dict[str, int | None]:
    """Multiplications of each algorithm for `batch` samples (None: not applicable here)."""
    size = spec._check_input(input_size)
    o1, o2 = spec.output_size(size)
    (k1, k2), cg = spec.kernel_size, spec.in_channels // spec.groups
    pairs = batch * spec.out_channels * cg
    out: dict[str, int | None] = {"direct": batch * spec.macs(size)}
    if _why_not(spec, "fft") is None:
        plan = fft_plan(spec, size)
        L1, L2 = _gen.fft_lengths(size, plan.kernel_extent, spec.pads)
        L = L1 * L2
        transforms = batch * (spec.in_channels + spec.out_channels) + spec.out_channels * cg
        out["fft"] = math.ceil(1.25 * L * math.log2(max(L, 2)) * transforms) + 4 * pairs * L1 * (
            L2 // 2 + 1
        )
    else:
        out["fft"] = None
    if _why_not(spec, "winograd") is None:
        f = winograd(2, 3)
        a, m = f.alpha, f.m
        tiles = math.ceil(o1 / m) * math.ceil(o2 / m)
        per_tile = f.tile_multiplications(2)[0]
        out["winograd"] = (
            pairs * tiles * per_tile
            + batch * tiles * spec.in_channels * 2 * a**3
            + batch * tiles * spec.out_channels * (a * a * m + a * m * m)
        )
    else:
        out["winograd"] = None
    if _why_not(spec, "separable") is None and (
        weight is not None and rank_one_factors(weight) is not None
    ):
        rows = (o1 - 1) * spec.stride[0] + spec.dilation[0] * (k1 - 1) + 1
        out["separable"] = pairs * (rows * o2 * k2 + o1 * o2 * k1)
    else:
        out["separable"] = None
    return out


def explain(
    spec: sc.Conv, input_size: Any, *, batch: int = 1, weight: Any = None
) -> dict[str, Any]:
    """The algorithm "auto" picks for `spec` on `input_size`, the costs, and the rule.

    ```python
    >>> import symconv as sc
    >>> from numeric.algorithms import explain
    >>> spec = sc.Conv(dims=2, in_channels=16, out_channels=16, kernel_size=15, padding=7)
    >>> explain(spec, (128, 128))["algorithm"]
    'fft'

    ```
    """
    if not isinstance(spec, sc.Conv) or type(spec) is not sc.Conv:
        raise SpecError(f"explain: expected a symconv.Conv, got {type(spec).__name__}")
    c = costs(spec, input_size, batch=batch, weight=weight)
    bar = MARGIN * c["direct"]  # type: ignore[operator]
    ok = {"direct": c["direct"]}
    ok.update({k: v for k, v in c.items() if k != "direct" and v is not None and v <= bar})
    best = min(ORDER, key=lambda k: (ok.get(k, math.inf), ORDER.index(k)))
    return {
        "algorithm": best,
        "costs": c,
        "rule": (
            f"cheapest of {list(ORDER)} by multiplications; an alternative must cost <= "
            f"{MARGIN} x direct; ties to the earlier; winograd counted as F(2x2, 3x3)"
        ),
    }


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
    winograd_m: int = 2,
) -> Any:
    """`numeric.conv2d` by the chosen `algorithm`: "direct" (`numeric.conv2d`), "fft",
    "winograd" (`winograd_m` 2 or 4: $F(m \\times m, 3 \\times 3)$), "separable" (rank-1
    kernels) or "auto" (`explain`). NumPy arrays for all but "direct"; zero padding.

    ```python
    >>> import numpy as np
    >>> from numeric.algorithms import conv2d
    >>> x, w = np.ones((1, 2, 6, 6)), np.ones((3, 2, 3, 3))
    >>> float(conv2d(x, w, padding=1, algorithm="winograd")[0, 0, 2, 2])
    18.0

    ```
    """
    if algorithm not in ALGORITHMS:
        raise SpecError(f"{_OP}: algorithm must be one of {list(ALGORITHMS)}, got {algorithm!r}")
    if algorithm == "direct":
        return _direct_conv2d(input, weight, bias, stride, padding, dilation, groups)
    backend = pick(_OP, input=input, weight=weight, bias=bias)
    if backend.name != "numpy":
        raise SpecError(
            f"{_OP}: algorithm {algorithm!r} runs on NumPy arrays only (for now), got "
            f"{backend.name} tensors; use algorithm='direct'"
        )
    if input.ndim != 4 or weight.ndim != 4:
        raise SpecError(
            f"{_OP}: input (N, C_in, H, W) and weight (C_out, C_in/groups, kh, kw) must have 4 "
            f"dimensions, got shapes {input.shape} and {weight.shape}"
        )
    try:
        spec = sc.Conv(
            dims=2,
            in_channels=int(input.shape[1]),
            out_channels=int(weight.shape[0]),
            kernel_size=tuple(int(k) for k in weight.shape[2:]),
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias is not None,
        )
    except SpecError as err:
        raise SpecError(f"{_OP}: {err}") from err
    if weight.shape[1] * spec.groups != input.shape[1]:
        raise SpecError(
            f"{_OP}: weight of shape {tuple(weight.shape)} expects "
            f"{weight.shape[1] * spec.groups} input channels, input has {input.shape[1]}"
        )
    size = spec._check_input(tuple(int(s) for s in input.shape[2:]))
    if bias is not None and tuple(bias.shape) != (spec.out_channels,):
        raise SpecError(f"{_OP}: bias must have shape ({spec.out_channels},), got {bias.shape}")
    factors = None
    if algorithm == "auto":
        algorithm = explain(spec, size, batch=int(input.shape[0]), weight=weight)["algorithm"]
        if algorithm == "direct":
            return _direct_conv2d(input, weight, bias, stride, padding, dilation, groups)
    why = _why_not(spec, algorithm, winograd_m)
    if algorithm == "separable" and why is None:
        factors = rank_one_factors(weight)
        if factors is None:
            why = "needs a rank-1 kernel in every (out, in) channel slice (see rank_one_factors)"
    if why is not None:
        raise SpecError(f"{_OP}: algorithm {algorithm!r} {why}")
    if algorithm == "fft":
        return _gen.conv2d_fft(
            input, weight, bias, spec.stride, spec.pads, spec.dilation, spec.groups
        )
    if algorithm == "winograd":
        return _gen.conv2d_winograd(input, weight, bias, spec.pads, spec.groups, winograd_m)
    u, v = factors  # type: ignore[misc]
    return _gen.conv2d_separable(
        input, u, v, bias, spec.stride, spec.pads, spec.dilation, spec.groups
    )
