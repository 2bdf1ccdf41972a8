"""How much "auto" loses against the fastest algorithm on layers outside the benchmark suite.

Run: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/auto_regret.py`.
For each layer of a wider set (ResNet, MobileNet, Inception-style and small-channel layers;
1x1 to 7x7 kernels, strides 1 and 2, dilation, groups), NumPy, float32, numeric's threads:
the forward time of every algorithm that runs it (median of 5 after a warm-up, in turn, the
order alternating by layer), what `numeric.algorithms.explain` picks, and the regret: the
time of the pick over the fastest measured. Separable is left out (it needs rank-1 weights).
Ends with the layers whose regret is above 1.3 (this machine's run-to-run spread is about
that on one layer: see BENCHMARKS.md).
"""

from __future__ import annotations

# ruff: noqa: B023  (the timed closures are called inside their loop iteration)
import os

import numpy as np
from suite import settle_allocator, time_ms

import numeric as nm
import symconv as sc
from numeric import algorithms as alg

NAMES = ("direct", "winograd", "shifted", "fft")

# name, N, C_in, H (= W), C_out, k, stride, padding, dilation, groups
LAYERS = [
    ("ResNet stem 7x7/2", 8, 3, 224, 64, 7, 2, 3, 1, 1),
    ("ResNet 3x3 64x56", 8, 64, 56, 64, 3, 1, 1, 1, 1),
    ("ResNet 3x3/2 128x56", 8, 64, 56, 128, 3, 2, 1, 1, 1),
    ("ResNet 3x3 512x7", 8, 512, 7, 512, 3, 1, 1, 1, 1),
    ("1x1 256->64 x56", 8, 256, 56, 64, 1, 1, 0, 1, 1),
    ("1x1 64->256 x56", 8, 64, 56, 256, 1, 1, 0, 1, 1),
    ("ResNeXt 3x3 g32 128x28", 8, 128, 28, 128, 3, 1, 1, 1, 32),
    ("MobileNet dw 32x112", 8, 32, 112, 32, 3, 1, 1, 1, 32),
    ("MobileNet dw/2 64x112", 8, 64, 112, 64, 3, 2, 1, 1, 64),
    ("MobileNet dw 512x14", 8, 512, 14, 512, 3, 1, 1, 1, 512),
    ("MobileNet dw 1024x7", 8, 1024, 7, 1024, 3, 1, 1, 1, 1024),
    ("Inception 5x5 48->64 x35", 8, 48, 35, 64, 5, 1, 2, 1, 1),
    ("Inception 1x7 (as 7x7) 128x17", 8, 128, 17, 128, 7, 1, 3, 1, 1),
    ("dilated d4 64x32", 8, 64, 32, 64, 3, 1, 4, 4, 1),
    ("CIFAR 3x3 16x32 N=128", 128, 16, 32, 16, 3, 1, 1, 1, 1),
    ("small 3x3 4x16 N=2", 2, 4, 16, 4, 3, 1, 1, 1, 1),
    ("one channel 9x9 x64", 16, 1, 64, 1, 9, 1, 4, 1, 1),
]


def main() -> None:
    settle_allocator()  # the allocator's thresholds of a long-running process
    print(f"load average {os.getloadavg()[0]:.2f}, numeric threads {nm.get_num_threads()}")
    rng = np.random.default_rng(0)
    print("| layer | " + " | ".join(f"{a} ms" for a in NAMES) + " | auto | regret |")
    print("|---|" + "---|" * (len(NAMES) + 2))
    worst = []
    for i, (name, n, c, h, k, ks, s, p, d, g) in enumerate(LAYERS):
        spec = sc.Conv(dims=2, in_channels=c, out_channels=k, kernel_size=ks, stride=s,
                       padding=p, dilation=d, groups=g)  # fmt: skip
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((k, c // g, ks, ks)) * 0.1).astype(np.float32)
        pick = alg.explain(spec, (h, h), batch=n)["algorithm"]
        order = NAMES if i % 2 else NAMES[::-1]
        measured = {}
        for a in order:
            if alg.supported(spec, a) is not None:
                continue
            kw = dict(stride=s, padding=p, dilation=d, groups=g, algorithm=a)
            measured[a] = time_ms(lambda: nm.conv2d(x, w, **kw), reps=5, warmup=1)[0]
        best = min(measured.values())
        regret = measured[pick] / best
        cells = [f"{measured[a]:.2f}" if a in measured else "n/a" for a in NAMES]
        print(f"| {name} | " + " | ".join(cells) + f" | {pick} | {regret:.2f} |", flush=True)
        if regret > 1.3:
            worst.append((name, pick, min(measured, key=measured.get), regret))
    print(f"load average {os.getloadavg()[0]:.2f}")
    for name, pick, best_name, regret in worst:
        print(f"regret above 1.3: {name}: auto {pick}, fastest {best_name}, {regret:.2f}x")


if __name__ == "__main__":
    main()
