"""The cost model behind "auto": per algorithm, the work of one layer as SymPy expressions
(`cost_formulas`), evaluated for a layer and priced in seconds at this machine's rates
(`costs`), and the extra memory each algorithm's kernels take (`workspace_bytes`).

The rates (`RATES`: GEMM and FFT FLOP/s, elements moved and NumPy calls per second) are data,
not code: `rates.json` beside this module, written by `bench/calibrate.py --write` (which runs
`numeric.algorithms.calibrate()`), read once on first use (`get_rates()`; `RATES` is that dict).
The file also records the machine, the date and the command of the measurement
(`recorded()`). `EFFICIENCY`, the fraction of each rate an algorithm's parts reach, and the
constants of the memory terms are fitted by hand against the kernels' times and stay here,
next to the formulas they belong to.

```python
>>> import symconv as sc
>>> from numeric.algorithms.cost_model import costs
>>> spec = sc.Conv(dims=2, in_channels=8, out_channels=8, kernel_size=3, stride=2)
>>> c = costs(spec, (16, 16))
>>> c["winograd"] is None, c["direct"]["gemm"] == 2 * spec.macs((16, 16))
(True, True)

```
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from symconv._errors import SpecError
from symconv._fft_sizes import fft_plan
from symconv._validate import as_int
from symconv.spec import Conv

from .._backend import get_workspace_limit
from .._generated import costs as _generated_costs
from .._generated.numpy_fft import fft_lengths
from .._generated.numpy_winograd import tiles as winograd_tiles
from .._parallel import get_num_threads, parts
from .rules import _CANDIDATES, WINOGRAD_M, _check_query, _positive, _shift_adds, supported

RATES_FILE = Path(__file__).with_name("rates.json")
RATE_KEYS = ("gemm", "fft", "memory", "calls")

if TYPE_CHECKING:
    import sympy

    RATES: dict[str, float]
    _S: dict[str, sympy.Symbol]  # the formulas' symbols by name (`__getattr__`)


@functools.cache
def recorded() -> dict[str, Any]:
    """The record of `rates.json`: `rates` (per second: `gemm` and `fft` FLOPs, `memory`
    elements moved, `calls` NumPy operations), with the `machine`, `measured` (when), `command`
    and `threads` of the measurement. Read once, on first use.

    ```python
    >>> from numeric.algorithms.cost_model import recorded
    >>> sorted(recorded()["rates"])
    ['calls', 'fft', 'gemm', 'memory']

    ```
    """
    try:
        record = json.loads(RATES_FILE.read_text())
    except json.JSONDecodeError as e:
        raise SpecError(f"{RATES_FILE}: rates must be a JSON record, got {e}") from None
    got = record.get("rates") if isinstance(record, dict) else None
    if not isinstance(got, dict) or sorted(got) != sorted(RATE_KEYS):
        raise SpecError(f"{RATES_FILE}: rates must hold the keys {sorted(RATE_KEYS)}, got {got}")
    if not all(_positive(v) for v in got.values()):
        raise SpecError(f"{RATES_FILE}: rates must be positive numbers, got {got}")
    return dict(record)


@functools.cache
def get_rates() -> dict[str, float]:
    """The rates the model prices with: `recorded()["rates"]` as floats, one dict for the
    process (`calibrate(apply=True)` updates it in place; `numeric.algorithms.RATES` is it)."""
    return {k: float(recorded()["rates"][k]) for k in RATE_KEYS}


def __getattr__(name: str) -> Any:
    if name == "RATES":  # read on first use, not on import
        return get_rates()
    if name == "_S":  # the formulas' symbols by name (imports SymPy: for the derivation)
        import sympy

        return {n: sympy.Symbol(n, integer=True, positive=True) for n in _generated_costs.SYMBOLS}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The fraction of those rates each algorithm's parts reach (bench/calibrate.py compares the model
# with the kernels): Winograd's alpha^2 GEMMs, one per tile position, and the FFT's small
# batched complex GEMMs and numpy.fft's transforms of many short signals run at about half.
EFFICIENCY: dict[str, dict[str, float]] = {
    "winograd": {"gemm": 0.5},
    "fft": {"gemm": 0.5, "fft": 0.5},
}


# -- cost formulas --------------------------------------------------------------------------------
# The formulas are a table of code generation (`symconv.codegen.api_table.costs`, where each is
# explained), printed into `numeric/_generated/costs.py` as plain functions: pricing a layer
# neither imports SymPy nor compiles a formula.


def cost_formulas() -> dict[str, dict[str, sympy.Expr]]:
    r"""Per algorithm: `gemm` and `fft` (floating-point operations), `memory` (elements
    moved) and `calls` (NumPy operations issued, each with a fixed cost), SymPy expressions in
    $N, C_\mathrm{in}, C_\mathrm{out}, G$, $O$ (outputs per
    channel), $P$ (padded inputs per channel), $k$ (taps), $t$ (Winograd tiles per sample and
    channel, all dilation phases), $\alpha$, $m$, $D$ (the dilations' product), $L$ (FFT points
    per channel), $F$ (complex frequencies of the real FFT), $Q$ (the shifted GEMMs' rows: flat
    positions of the padded grid from the first output to the last), $H$ (the batch parts run
    side by side, `numeric.set_num_threads`: each transforms the filter once). The
    expressions the printed cost functions evaluate (this call imports SymPy).

    ```python
    >>> from numeric.algorithms import cost_formulas
    >>> cost_formulas()["direct"]["gemm"]
    2*C_in*C_out*N*O*k/G

    ```
    """
    return _generated_costs.formulas()


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
        if not isinstance(rates, dict) or set(rates) != set(RATE_KEYS):
            keys = sorted(rates) if isinstance(rates, dict) else type(rates).__name__
            raise SpecError(
                f"costs: rates must be a dict with the keys {sorted(RATE_KEYS)}, got {keys}"
            )
        bad = {k: v for k, v in rates.items() if not _positive(v)}
        if bad:
            raise SpecError(f"costs: rates must be positive numbers, got {bad}")
    if threads is not None:
        as_int("costs", "threads", threads, 1)
    rates = get_rates() if rates is None else rates
    threads = get_num_threads() if threads is None else threads
    values = _values(spec, size, batch, WINOGRAD_M, threads)
    out: dict[str, dict[str, float] | None] = {}
    for name in _CANDIDATES:
        if supported(spec, name, op) is not None:
            out[name] = None
            continue
        formula = _formula(spec, name, op)
        work = {p: float(v) for p, v in _generated_costs.COSTS[formula](**values).items()}
        eff = EFFICIENCY.get(name, {})
        work["seconds"] = sum(work[p] / (rates[p] * eff.get(p, 1.0)) for p in rates)
        out[name] = work
    return out
