"""Convolution time and the process's allocation history: torch's conv2d and numeric's.

Run: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/alloc_history.py`.
Each row runs in a fresh process, VGG 64x56x56 (N=8, float32, 2 threads each side): the first
call, the median of 15 calls after two warm-up calls, and the page faults per call (minor faults
of the process over those calls), for torch's F.conv2d and numeric.conv2d. States:

- `fresh`: no large allocation before;
- `after-1GiB`: a 1 GiB array touched and freed (the earlier setting of bench/run.py);
- `settled`: `suite.settle_allocator()` (the 1 GiB array, then a 30 MiB one freed: glibc's
  mmap and trim thresholds at 30 and 60 MiB, as in a process that has freed a large array);
- `mmap-every-block`: GLIBC_TUNABLES pins both thresholds at 128 KiB (every block above it
  fresh pages, every freed heap top returned): the worst case;
- `numeric-fresh-buffers`: settled, with numeric's kept Winograd buffers turned off
  (`numeric.algorithms.runners.KEEP_BYTES = 0`).
"""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
import resource, statistics, sys, time
sys.path.insert(0, "bench")
import numpy as np, torch, torch.nn.functional as F
import numeric as nm
import numeric.algorithms as alg
from suite import settle_allocator
torch.set_num_threads(2)
nm.set_num_threads(2)
case = sys.argv[1]
if case == "after-1GiB":
    big = np.ones(2**28, np.float32)
    del big
elif case in ("settled", "numeric-fresh-buffers"):
    settle_allocator()
if case == "numeric-fresh-buffers":
    alg.runners.KEEP_BYTES = 0  # where _keep reads it
rng = np.random.default_rng(0)
x = rng.standard_normal((8, 64, 56, 56)).astype(np.float32)
w = (0.1 * rng.standard_normal((64, 64, 3, 3))).astype(np.float32)
xt, wt = torch.from_numpy(x), torch.from_numpy(w)
def measure(fn):
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    fn()
    fn()
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    ts = []
    for _ in range(15):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 15
    return f"{1e3 * first:.1f} | {1e3 * statistics.median(ts):.2f} | {faults:.0f}"
torch_side = measure(lambda: F.conv2d(xt, wt, None, 1, 1))
print(torch_side, "|", measure(lambda: nm.conv2d(x, w, padding=1)))
"""

PINNED = "glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072"


def main() -> None:
    print(
        "| process | torch first ms | torch median ms | torch faults/call "
        "| numeric first ms | numeric median ms | numeric faults/call |"
    )
    print("|---|---|---|---|---|---|---|")
    cases = ("fresh", "after-1GiB", "settled", "mmap-every-block", "numeric-fresh-buffers")
    for _ in range(2):
        for case in cases:
            env = dict(os.environ)
            if case == "mmap-every-block":
                env["GLIBC_TUNABLES"] = PINNED
            done = subprocess.run(
                [sys.executable, "-c", CHILD, case],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            print(f"| {case} | {done.stdout.strip()} |")


if __name__ == "__main__":
    main()
