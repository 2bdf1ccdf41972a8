"""Generated NumPy conv kernels vs torch CPU conv2d, and vs the machine's SGEMM peak.

Run: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/run.py`.
`--backend torch [--device cuda]` times numeric's generated *torch* kernels instead (numeric on
torch tensors of that device) against torch's own conv2d (cuDNN on a GPU) on the same device,
and the peak is torch's SGEMM there; CUDA timings synchronise the device around every call.
Same process, torch.set_num_threads(2), the allocator settled first (`suite.settle_allocator`:
both sides are sensitive to the allocation history, bench/alloc_history.py), two warm-up calls
of each side, then each side's median (and minimum) of 9 runs, one side after the other;
float32. SGEMM is the fastest
of 9 runs. The load average is printed before and after (other processes on a shared machine
make runs differ; the ratio of minima is the less load-sensitive figure). `--rounds R` runs the
suite R times in the process and ends with each layer's median ratio over the rounds and the
median of the rounds' suite medians (a hiccup of either side in one round moves one figure).
Forward: nm.conv2d vs F.conv2d. Backward: nm.conv2d_grad_input + conv2d_grad_weight vs
torch autograd's backward pass (input and weight gradients, graph retained). numeric runs its
defaults: algorithm="auto" (the last column: what numeric.algorithms.explain picks, forward /
backward) and as many threads as torch (numeric.set_num_threads(2)).
"""

from __future__ import annotations

# ruff: noqa: B023  (the timed closures are called inside their loop iteration)
import argparse
import os
import statistics
import sys

import numpy as np
import torch
import torch.nn.functional as F
from suite import SUITE, settle_allocator, time_ms
from threadpoolctl import threadpool_info

import numeric as nm
import symconv as sc
from numeric.algorithms import explain

LAYERS = SUITE
REPS = 9


def timed_ms(*fns, reps=REPS):
    """(median ms, min ms) of each function: two warm-up calls, then `reps` timed calls, one
    function after the other. (Alternating single calls is slower for both: OpenBLAS's and
    OpenMP's worker threads keep spinning after a call and take the cores from the other.)"""
    return [time_ms(fn, reps) for fn in fns]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="times to run the suite (default 1)")
    parser.add_argument(
        "--backend", choices=("numpy", "torch"), default="numpy", help="numeric's kernels to time"
    )
    parser.add_argument("--device", default="cpu", help="torch device for --backend torch")
    args = parser.parse_args()
    rounds = max(1, args.rounds)
    device = torch.device(args.device if args.backend == "torch" else "cpu")
    torch.set_num_threads(2)
    nm.set_num_threads(2)
    settle_allocator()  # the allocator's thresholds of a long-running process
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    if args.backend == "numpy":
        gemm_ms = timed_ms(lambda: a @ a)[0][1]  # the peak: the fastest run
    else:
        at = torch.from_numpy(a).to(device)
        gemm_ms = timed_ms(_synced(lambda: at @ at, device))[0][1]
    peak = 2 * 2048**3 / (gemm_ms * 1e-3) / 1e9
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__}")
    for info in threadpool_info():
        print(
            f"  {info.get('internal_api')} {info.get('version')} "
            f"({info.get('architecture')}, {info.get('num_threads')} threads) "
            f"{info.get('filepath', '').split('/')[-1]}"
        )
    if device.type == "cuda":
        print(f"  {torch.cuda.get_device_name(device)}, cuDNN {torch.backends.cudnn.version()}")
    print(
        f"{args.backend} SGEMM 2048^2 on {device}: {peak:.0f} GFLOP/s; torch threads "
        f"{torch.get_num_threads()}, numeric threads {nm.get_num_threads()}"
    )
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print()
    per_layer: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in LAYERS}
    medians = []
    for r in range(rounds):
        if rounds > 1:
            print(f"round {r + 1} of {rounds}")
        medians.append(_round(peak, per_layer, args.backend, device))
    if rounds > 1:
        print(f"over {rounds} rounds, each layer's median ratio (forward / backward):")
        for name, pairs in per_layer.items():
            f, b = (statistics.median(v) for v in zip(*pairs, strict=True))
            print(f"  {name}: {f:.2f} / {b:.2f}")
        f, b = (statistics.median(v) for v in zip(*medians, strict=True))
        print(
            f"median over the rounds of the suite's median ratio: forward {f:.2f}, backward {b:.2f}"
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def _synced(fn, device: torch.device):
    """`fn` followed by a device synchronisation on CUDA (kernels run asynchronously there)."""
    if device.type != "cuda":
        return fn

    def call():
        fn()
        torch.cuda.synchronize(device)

    return call


def _synced_to(device: torch.device):
    """Decorator form of `_synced`."""
    return lambda fn: _synced(fn, device)


def _round(
    peak: float, per_layer: dict[str, list[tuple[float, float]]], backend: str, device
) -> tuple[float, float]:
    """One pass over the suite: prints its table; returns the median ratios (forward,
    backward) and appends each layer's ratios to `per_layer`."""
    ours = "numpy" if backend == "numpy" else "numeric-torch"
    print(
        f"| layer | fwd {ours} ms | fwd torch ms | fwd ratio | fwd % SGEMM "
        f"| bwd {ours} ms | bwd torch ms | bwd ratio | bwd % SGEMM | fwd / bwd ratio of minima "
        "| algorithm |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    ratios_f, ratios_b, minima_f, minima_b = [], [], [], []
    for name, n, c, h, k, ks, s, p, d, g in LAYERS:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((k, c // g, ks, ks)) * 0.1).astype(np.float32)
        kw = dict(stride=s, padding=p, dilation=d, groups=g)
        y = nm.conv2d(x, w, **kw)
        delta = rng.standard_normal(y.shape).astype(np.float32)
        xt, wt, dt = (torch.from_numpy(v).to(device) for v in (x, w, delta))
        if backend == "torch":  # numeric runs its torch kernels on the same tensors
            x, w, delta = xt, wt, dt
        xg, wg = xt.clone().requires_grad_(), wt.clone().requires_grad_()
        (f_np, f_np_min), (f_t, f_t_min) = timed_ms(
            _synced(lambda: nm.conv2d(x, w, **kw), device),
            _synced(lambda: F.conv2d(xt, wt, None, s, p, d, g), device),
        )

        out = F.conv2d(xg, wg, None, s, p, d, g)

        @_synced_to(device)
        def torch_bwd():  # the backward pass alone (autograd graph kept)
            torch.autograd.grad(out, (xg, wg), dt, retain_graph=True)

        @_synced_to(device)
        def np_bwd():
            nm.conv2d_grad_input(x.shape, w, delta, **kw)
            nm.conv2d_grad_weight(x, w.shape, delta, **kw)

        (b_np, b_np_min), (b_t, b_t_min) = timed_ms(np_bwd, torch_bwd)
        flops = 2 * np.prod(y.shape) * (c // g) * ks * ks
        spec = sc.Conv(dims=2, in_channels=c, out_channels=k, kernel_size=ks, **kw)
        algorithms = " / ".join(
            explain(spec, (h, h), batch=n, op=op)["algorithm"] for op in ("forward", "grad_input")
        )
        gf = lambda ms, f=flops: f / (ms * 1e-3) / 1e9  # noqa: E731
        ratios_f.append(f_np / f_t)
        ratios_b.append(b_np / b_t)
        per_layer[name].append((ratios_f[-1], ratios_b[-1]))
        minima_f.append(f_np_min / f_t_min)
        minima_b.append(b_np_min / b_t_min)
        print(
            f"| {name} | {f_np:.2f} | {f_t:.2f} | {f_np / f_t:.2f} | {100 * gf(f_np) / peak:.0f} "
            f"| {b_np:.2f} | {b_t:.2f} | {b_np / b_t:.2f} | {100 * 2 * gf(b_np) / peak:.0f} "
            f"| {minima_f[-1]:.2f} / {minima_b[-1]:.2f} | {algorithms} |"
        )
    print()
    print(
        f"median ratio {ours} / torch: forward {statistics.median(ratios_f):.2f}, "
        f"backward {statistics.median(ratios_b):.2f}"
    )
    print(
        f"median ratio of minima: forward {statistics.median(minima_f):.2f}, "
        f"backward {statistics.median(minima_b):.2f}"
    )
    print()
    return statistics.median(ratios_f), statistics.median(ratios_b)


if __name__ == "__main__":
    main()
