"""Calibrate numeric.algorithms' cost model on this machine, and check it against the kernels.

Run: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/calibrate.py [--write]`.
Prints the rates `numeric.algorithms.calibrate()` measures (median of three rounds); with
`--write` records them in numeric/algorithms/rates.json, the data file the cost model reads
(`numeric.algorithms.write_rates`: with the machine, the date and this command), to commit
after a run on a quiet machine. Then, for the benchmark suite, each algorithm's measured
forward time (NumPy, float32, median of 5 after a warm-up, numeric's threads) next to the time
the cost model predicts at the measured rates, and what "auto" picks.
"""

from __future__ import annotations

# ruff: noqa: B023  (the timed closures are called inside their loop iteration)
import os
import statistics
import sys

import numpy as np
from suite import LARGE_KERNEL, SUITE, settle_allocator, time_ms

import numeric as nm
import symconv as sc
from numeric import algorithms as alg

LAYERS = [*SUITE, LARGE_KERNEL]


def median_ms(fn, reps: int = 5) -> float:
    return time_ms(fn, reps, warmup=1)[0]


def main() -> None:
    settle_allocator()  # the allocator's thresholds of a long-running process
    print(f"load average {os.getloadavg()[0]:.2f}, numeric threads {nm.get_num_threads()}")
    rounds = [alg.calibrate() for _ in range(3)]
    rates = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    for k in rates:
        print(f"  {k}: " + ", ".join(f"{r[k]:.3g}" for r in rounds))
    line = ", ".join(f'"{k}": {v:.2g}' for k, v in rates.items())
    print(f"RATES = {{{line}}}")
    if "--write" in sys.argv[1:]:
        command = " ".join(["python", *sys.argv])
        print(f"written to {alg.write_rates(rates, command=command)}")
    alg.RATES.update(rates)
    rng = np.random.default_rng(0)
    names = ("direct", "winograd", "shifted", "fft")
    print("| layer | " + " | ".join(f"{a} ms (model)" for a in names) + " | auto | fastest |")
    print("|---|" + "---|" * (len(names) + 2))
    for name, n, c, h, k, ks, s, p, d, g in LAYERS:
        spec = sc.Conv(dims=2, in_channels=c, out_channels=k, kernel_size=ks, stride=s,
                       padding=p, dilation=d, groups=g)  # fmt: skip
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((k, c // g, ks, ks)) * 0.1).astype(np.float32)
        e = alg.explain(spec, (h, h), batch=n)
        cells, measured = [], {}
        for a in names:
            if e["costs"][a] is None:
                cells.append("n/a")
                continue
            kw = dict(stride=s, padding=p, dilation=d, groups=g, algorithm=a)
            measured[a] = median_ms(lambda: nm.conv2d(x, w, **kw))
            cells.append(f"{measured[a]:.1f} ({1e3 * e['costs'][a]['seconds']:.1f})")
        fastest = min(measured, key=measured.get)
        print(f"| {name} | " + " | ".join(cells) + f" | {e['algorithm']} | {fastest} |")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
