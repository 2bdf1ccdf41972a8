"""torch's CPU conv2d and the process's allocation history (BENCHMARKING.md), and how bench/run.py
avoids it.

Run: `.venv/bin/python bench/alloc_history.py`. Each measurement runs in a fresh process: F.conv2d
on the VGG 64x56x56 layer (float32, 2 threads), the first call and the median of 9 calls, once
in a process that never made a large allocation and once after a 1 GiB array was touched and
freed (what bench/run.py does before timing either side).
"""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import statistics, sys, time
import numpy as np, torch, torch.nn.functional as F
torch.set_num_threads(2)
if sys.argv[1] == "after-1GiB":
    big = np.ones(2**28, np.float32)
    del big
rng = np.random.default_rng(0)
x = torch.from_numpy(rng.standard_normal((8, 64, 56, 56)).astype(np.float32))
w = torch.from_numpy(rng.standard_normal((64, 64, 3, 3)).astype(np.float32))
ts = []
for _ in range(9):
    t0 = time.perf_counter()
    F.conv2d(x, w, None, 1, 1)
    ts.append(time.perf_counter() - t0)
print(f"{1e3 * ts[0]:.2f} {1e3 * statistics.median(ts):.2f}")
"""


def main() -> None:
    print("| process | first call ms | median of 9 ms |")
    print("|---|---|---|")
    for _ in range(2):
        for case in ("fresh", "after-1GiB"):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, case], capture_output=True, text=True, check=True
            )
            first, median = done.stdout.split()
            print(f"| {case} | {first} | {median} |")


if __name__ == "__main__":
    main()
