"""Thin GEMMs in blocks against one call: an in-process A/B of numeric's `_small_gemm` budget.

Run: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/thin_gemm.py`.
A GEMM whose small dimensions multiply to little (Winograd's 6 x 6 transforms, LeNet's 6 x 25
weight, LeNet's dL/dw with its long inner dimension) is memory-bound, and OpenBLAS runs one of
at most about 10^6 multiply-adds by its small-matrix path, which does not pack the long operand.
The printed NumPy kernels split such GEMMs into blocks of `_small_gemm()` multiply-adds
(`_thin_matmul`, `_thin_matmul_add`); `_small_gemm() = 0` is one call, as before. For each
layer (the suite's LeNet, AlexNet and VGG layers and three layers outside it), in one process,
NumPy float32, numeric's and torch's two threads, the allocator settled: forward, dL/dx and dL/dw
with the budget off and on, alternating over `ROUNDS` rounds (each side's minimum of 6 calls per
round), the medians over the rounds, then torch's forward and backward (median of 9) and the
machine's SGEMM peak (2048^2, the fastest of 9).
"""

from __future__ import annotations

# ruff: noqa: B023  (the timed closures are called inside their loop iteration)
import os
import statistics

import numpy as np
import torch
import torch.nn.functional as F
from suite import SUITE, settle_allocator, time_ms

import numeric as nm
from numeric._generated import numpy_conv, numpy_winograd

ROUNDS = 8
BUDGET = numpy_conv._small_gemm()  # the printed budget
LAYERS = [(row, "direct") for row in SUITE[:2]] + [(row, "winograd") for row in SUITE[2:4]]
LAYERS += [
    (("CIFAR 3->32 x32", 64, 3, 32, 32, 3, 1, 1, 1, 1), "direct"),
    (("1x1 64->256 x56", 8, 64, 56, 256, 1, 1, 0, 1, 1), "direct"),
    (("ResNet 3x3 512x7", 8, 512, 7, 512, 3, 1, 1, 1, 1), "direct"),
]


def _budget(b: int) -> None:
    numpy_conv._small_gemm = numpy_winograd._small_gemm = lambda: b


def main() -> None:
    torch.set_num_threads(2)
    nm.set_num_threads(2)
    settle_allocator()
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    peak = 2 * 2048**3 / (time_ms(lambda: a @ a)[1] * 1e-3) / 1e9
    print(f"SGEMM 2048^2: {peak:.0f} GFLOP/s; load average {os.getloadavg()[0]:.2f}")
    print(f"budget {BUDGET} multiply-adds per GEMM call against one call; ms, median of rounds")
    print("| layer | algorithm | forward one / blocks | dL/dx one / blocks | dL/dw one / blocks "
          "| torch fwd / bwd | blocks / torch fwd, bwd |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for (name, n, c, h, k, ks, s, p, d, g), algorithm in LAYERS:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((k, c // g, ks, ks)) * 0.1).astype(np.float32)
        kw = dict(stride=s, padding=p, dilation=d, groups=g, algorithm=algorithm)
        y = nm.conv2d(x, w, **kw)
        delta = rng.standard_normal(y.shape).astype(np.float32)
        calls = {
            "f": lambda: nm.conv2d(x, w, **kw),
            "gx": lambda: nm.conv2d_grad_input(x.shape, w, delta, **kw),
            "gw": lambda: nm.conv2d_grad_weight(x, w.shape, delta, **kw),
        }
        got: dict[tuple[str, int], list[float]] = {}
        for r in range(ROUNDS):
            for b in (0, BUDGET) if r % 2 else (BUDGET, 0):
                _budget(b)
                for op, call in calls.items():
                    got.setdefault((op, b), []).append(time_ms(call, reps=6, warmup=1)[1])
        _budget(BUDGET)
        med = {key: statistics.median(v) for key, v in got.items()}
        xt, wt, dt = (torch.from_numpy(v) for v in (x, w, delta))
        tf = time_ms(lambda: F.conv2d(xt, wt, None, s, p, d, g))[0]
        xg, wg = xt.clone().requires_grad_(), wt.clone().requires_grad_()
        out = F.conv2d(xg, wg, None, s, p, d, g)
        tb = time_ms(lambda: torch.autograd.grad(out, (xg, wg), dt, retain_graph=True))[0]
        pair = lambda op: f"{med[(op, 0)]:.2f} / {med[(op, BUDGET)]:.2f}"  # noqa: E731
        bwd = med[("gx", BUDGET)] + med[("gw", BUDGET)]
        print(
            f"| {name} | {algorithm} | {pair('f')} | {pair('gx')} | {pair('gw')} "
            f"| {tf:.2f} / {tb:.2f} | {med[('f', BUDGET)] / tf:.2f}, {bwd / tb:.2f} |"
        )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
