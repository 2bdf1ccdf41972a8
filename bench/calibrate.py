"""Measure this machine's rates for numeric.algorithms' cost model (GEMM, FFT, memory).

Run: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/calibrate.py`.
Prints the rates `numeric.algorithms.calibrate()` measures (best of 5, after a warm-up, three
rounds) and the `RATES` line to record in numeric/algorithms.py, then what "auto" picks for the
benchmark suite with the recorded and the measured rates.
"""

from __future__ import annotations

import os
import statistics

from suite import LARGE_KERNEL, SUITE

import numeric as nm
import symconv as sc
from numeric import algorithms as alg

LAYERS = [*SUITE, LARGE_KERNEL]


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f}, numeric threads {nm.get_num_threads()}")
    rounds = [alg.calibrate() for _ in range(3)]
    rates = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    for k in rates:
        print(f"  {k}: " + ", ".join(f"{r[k]:.3g}" for r in rounds))
    line = ", ".join(f'"{k}": {v:.2g}' for k, v in rates.items())
    print(f"RATES = {{{line}}}")
    recorded = dict(alg.RATES)
    print("| layer | auto (recorded rates) | auto (measured rates) |")
    print("|---|---|---|")
    for name, n, c, h, k, ks, s, p, d, g in LAYERS:
        spec = sc.Conv(dims=2, in_channels=c, out_channels=k, kernel_size=ks, stride=s,
                       padding=p, dilation=d, groups=g)  # fmt: skip
        a = alg.explain(spec, (h, h), batch=n)["algorithm"]
        alg.RATES.update(rates)
        b = alg.explain(spec, (h, h), batch=n)["algorithm"]
        alg.RATES.update(recorded)
        print(f"| {name} | {a} | {b} |")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
