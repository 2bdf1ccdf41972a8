"""conv2d by algorithm (direct, FFT, Winograd F(2x2) / F(4x4), separable) vs torch CPU conv2d.

Run: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/algorithms.py`.
Same process, torch.set_num_threads(2), a 1 GiB allocation touched and freed first, two
warm-up calls of each side, then the median of 7 runs, one side after the other; float32.
Separable runs on a rank-1 kernel of the layer's shape (random outer products); the other
columns on a random kernel. Ratios are time / torch F.conv2d (lower is better); "auto" is what
`numeric.algorithms.explain` picks for the layer (with the weights, so separable counts).
"""

from __future__ import annotations

# ruff: noqa: B023  (the timed closures are called inside their loop iteration)
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_info

import symconv as sc
from numeric.algorithms import conv2d, explain

LAYERS = [  # name, N, C_in, H, C_out, k, padding
    ("VGG 64x56x56 3x3", 8, 64, 56, 64, 3, 1),
    ("VGG 256x28x28 3x3", 8, 256, 28, 256, 3, 1),
    ("large kernel 16x128x128 15x15", 2, 16, 128, 16, 15, 7),
]
REPS = 7


def median_ms(fn) -> float:
    fn()
    fn()
    times = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main() -> None:
    torch.set_num_threads(2)
    big = np.ones(2**28, np.float32)  # 1 GiB touched and freed before any timing
    del big
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__}")
    for info in threadpool_info():
        print(
            f"  {info.get('internal_api')} {info.get('version')} "
            f"({info.get('architecture')}, {info.get('num_threads')} threads)"
        )
    print(f"load average {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng(0)
    head = "| layer | torch ms | direct | fft | winograd F2 | winograd F4 | separable | auto |"
    print(head)
    print("|" + "---|" * 8)
    for name, n, c, h, k, ks, p in LAYERS:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = rng.standard_normal((k, c, ks, ks)).astype(np.float32)
        u, v = rng.standard_normal((2, k, c, ks)).astype(np.float32)
        ws = np.einsum("kca,kcb->kcab", u, v)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        torch_ms = median_ms(lambda: F.conv2d(xt, wt, None, 1, p))
        cells = []
        runs = [
            ("direct", w, {}),
            ("fft", w, {}),
            ("winograd", w, {"winograd_m": 2}),
            ("winograd", w, {"winograd_m": 4}),
            ("separable", ws, {}),
        ]
        for algorithm, weight, kw in runs:
            if algorithm == "winograd" and ks != 3:
                cells.append("n/a")
                continue
            ms = median_ms(lambda: conv2d(x, weight, None, 1, p, algorithm=algorithm, **kw))
            cells.append(f"{ms / torch_ms:.2f}")
        spec = sc.Conv(dims=2, in_channels=c, out_channels=k, kernel_size=ks, padding=p)
        auto = explain(spec, (h, h), batch=n)["algorithm"]
        auto_sep = explain(spec, (h, h), batch=n, weight=ws)["algorithm"]
        print(f"| {name} | {torch_ms:.1f} | {' | '.join(cells)} | {auto} ({auto_sep} if rank 1) |")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
