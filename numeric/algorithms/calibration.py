"""Measuring this machine's rates (`calibrate`) and recording them (`write_rates`) in the data
file the cost model reads, `numeric/algorithms/rates.json`.

`python bench/calibrate.py --write` measures three rounds, writes their median with the
machine, the date and the command, and compares the model with the kernels' times.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from symconv._errors import SpecError

from .._parallel import get_num_threads, map_batch
from .cost_model import RATE_KEYS, RATES_FILE, get_rates


def _best_seconds(fn: Any, reps: int = 5) -> float:
    fn()
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


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
        get_rates().update(rates)
    return rates


def machine() -> str:
    """This machine in words, as `write_rates` records it: architecture, CPUs, Python, NumPy
    and its BLAS, and the BLAS settings of the environment (`OPENBLAS_*`, `OMP_NUM_THREADS`)."""
    try:  # NumPy >= 1.26: the build's configuration as a dict
        blas: Any = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):
        blas = {}
    env = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(("OPENBLAS_", "OMP_"))]
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"NumPy {np.__version__} ({blas.get('name', 'BLAS')} {blas.get('version', '?')})"
        + (f", {' '.join(env)}" if env else "")
    )


def write_rates(
    rates: dict[str, float],
    path: str | Path = RATES_FILE,
    *,
    command: str | None = None,
    dtype: Any = np.float32,
) -> Path:
    """Record `rates` (as `calibrate()` returns them; two significant digits, as the model was
    always given them) in the data file the cost model reads (default
    `numeric/algorithms/rates.json`), with `machine()`, the time (UTC), `command` (default
    this process's `sys.argv`), numeric's threads and `dtype`. The model reads the file once
    per process: a new one counts from the next. Returns the path.

    ```python
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from numeric.algorithms import write_rates
    >>> rates = {"gemm": 2.1e11, "fft": 4.6e9, "memory": 1.3e9, "calls": 5.0e5}
    >>> path = write_rates(rates, Path(tempfile.mkdtemp()) / "rates.json", command="doctest")
    >>> json.loads(path.read_text())["rates"] == rates
    True

    ```

    Raises:
        SpecError: `rates` lacks one of the four rates or one is not a positive number.
    """
    if not isinstance(rates, dict) or sorted(rates) != sorted(RATE_KEYS):
        got = sorted(rates) if isinstance(rates, dict) else type(rates).__name__
        raise SpecError(f"write_rates: rates must have the keys {sorted(RATE_KEYS)}, got {got}")
    bad = {k: v for k, v in rates.items() if not (isinstance(v, float | int) and 0 < v < math.inf)}
    if bad:
        raise SpecError(f"write_rates: rates must be positive numbers, got {bad}")
    record = {
        "rates": {k: float(f"{rates[k]:.2g}") for k in RATE_KEYS},
        "machine": machine(),
        "threads": get_num_threads(),
        "dtype": np.dtype(dtype).name,
        "measured": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(sys.argv) if command is None else command,
    }
    path = Path(path)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
