"""Every convolution algorithm of numeric (direct, Winograd, shifted, FFT, separable, auto) vs
torch CPU.

Run: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/algorithms.py`.
Same process, torch.set_num_threads(2) and numeric's 2 threads, the allocator settled first
(`suite.settle_allocator`), two warm-up calls of each side, then the median of 7 runs, one side
after the other; float32. Forward: `nm.conv2d(..., algorithm=a)` / torch `F.conv2d`. Backward:
`nm.conv2d_grad_input` + `nm.conv2d_grad_weight` (same algorithm) / torch autograd's backward.
On the suite's layers separable runs on a rank-1 kernel of the layer's shape (forward only), every
other column and torch on a full-rank one. The rank-1 layers (`RANK_ONE`: blurs whose every
(out, in) slice is a scaled outer product of two binomial factors) run that rank-1 weight in
every column and in torch, so "auto" may pick separable there. "auto" is the default, with the
algorithm `numeric.algorithms.explain` picks for the weight in brackets. Ratios: lower is
better.
"""

from __future__ import annotations

# ruff: noqa: B023  (the timed closures are called inside their loop iteration)
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from suite import LARGE_KERNEL, SUITE, settle_allocator, time_ms
from threadpoolctl import threadpool_info

import numeric as nm
import symconv as sc
from numeric.algorithms import explain, supported

LAYERS = [*SUITE, LARGE_KERNEL]
# Rank-1 layers, same fields as SUITE: one channel, depthwise, and four channels in and out.
RANK_ONE = [
    ("rank-1 binomial 1x256x256 15x15", 8, 1, 256, 1, 15, 1, 7, 1, 1),
    ("rank-1 depthwise 4x256x256 15x15", 8, 4, 256, 4, 15, 1, 7, 1, 4),
    ("rank-1 binomial 4x128x128 9x9", 8, 4, 128, 4, 9, 1, 4, 1, 1),
]
ALGORITHMS = ("direct", "winograd", "shifted", "fft", "separable", "auto")
REPS = 7


def median_ms(fn) -> float:
    return time_ms(fn, REPS)[0]


def binomial_weight(rng: np.random.Generator, k: int, cg: int, ks: int) -> np.ndarray:
    """(k, cg, ks, ks) float32: per slice a random scale in [0.5, 1.5) times b b^T, b the
    binomial coefficients C(ks - 1, i) / 2^(ks - 1) (a Gaussian blur's integer cousin)."""
    b = np.array([math.comb(ks - 1, i) for i in range(ks)], np.float64) / 2 ** (ks - 1)
    scale = rng.uniform(0.5, 1.5, (k, cg))
    return (scale[:, :, None, None] * np.outer(b, b)).astype(np.float32)


def main() -> None:
    torch.set_num_threads(2)
    settle_allocator()  # the allocator's thresholds of a long-running process
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__}")
    for info in threadpool_info():
        print(
            f"  {info.get('internal_api')} {info.get('version')} "
            f"({info.get('architecture')}, {info.get('num_threads')} threads)"
        )
    print(f"numeric threads {nm.get_num_threads()}; load average {os.getloadavg()[0]:.2f}")
    rng = np.random.default_rng(0)
    print("| layer | pass | torch ms | " + " | ".join(ALGORITHMS) + " |")
    print("|---|---|---|" + "---|" * len(ALGORITHMS))
    rows = [(layer, False) for layer in LAYERS] + [(layer, True) for layer in RANK_ONE]
    for (name, n, c, h, k, ks, s, p, d, g), rank_one in rows:
        spec = sc.Conv(dims=2, in_channels=c, out_channels=k, kernel_size=ks, stride=s,
                       padding=p, dilation=d, groups=g)  # fmt: skip
        kw = dict(stride=s, padding=p, dilation=d, groups=g)
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((k, c // g, ks, ks)) * 0.1).astype(np.float32)
        u, v = rng.standard_normal((2, k, c // g, ks)).astype(np.float32)
        ws = np.einsum("kca,kcb->kcab", u, v)
        if rank_one:  # every column, torch included, runs the rank-1 weight
            w = ws = binomial_weight(rng, k, c // g, ks)
        xt, wt = torch.from_numpy(x), torch.from_numpy(w)
        xg, wg = xt.clone().requires_grad_(), wt.clone().requires_grad_()
        out = F.conv2d(xg, wg, None, s, p, d, g)
        delta = rng.standard_normal(tuple(out.shape)).astype(np.float32)
        dt = torch.from_numpy(delta)
        torch_f = median_ms(lambda: F.conv2d(xt, wt, None, s, p, d, g))
        torch_b = median_ms(lambda: torch.autograd.grad(out, (xg, wg), dt, retain_graph=True))
        auto_f = explain(spec, (h, h), batch=n, weight=w)["algorithm"]
        auto_b = explain(spec, (h, h), batch=n, op="grad_weight")["algorithm"]
        fwd, bwd = [], []
        for a in ALGORITHMS:
            weight = ws if a == "separable" else w
            if a != "auto" and supported(spec, a) is not None:
                fwd.append("n/a")
            else:
                ms = median_ms(lambda: nm.conv2d(x, weight, None, **kw, algorithm=a))
                fwd.append(f"{ms / torch_f:.2f}" + (f" ({auto_f})" if a == "auto" else ""))
            if a != "auto" and supported(spec, a, "grad_weight") is not None:
                bwd.append("n/a")
                continue

            def backward():
                nm.conv2d_grad_input(x.shape, w, delta, **kw, algorithm=a)
                nm.conv2d_grad_weight(x, w.shape, delta, **kw, algorithm=a)

            ms = median_ms(backward)
            bwd.append(f"{ms / torch_b:.2f}" + (f" ({auto_b})" if a == "auto" else ""))
        print(f"| {name} | fwd | {torch_f:.2f} | " + " | ".join(fwd) + " |")
        print(f"| | bwd | {torch_b:.2f} | " + " | ".join(bwd) + " |")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
