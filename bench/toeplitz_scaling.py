"""Symbolic Toeplitz construction time against the number of nonzeros (2D, 1 channel, 'same').

Run: `python bench/toeplitz_scaling.py`. Prints a Markdown table (median of 3 builds, after one
warm-up build that also fills the weight-symbol cache). Not a test: nothing here asserts time.
"""

from __future__ import annotations

import statistics
import time

import symconv as sc


def build_seconds(spec: sc.Conv, n: int, repeats: int = 3) -> float:
    sc.toeplitz(spec, (n, n))  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sc.toeplitz(spec, (n, n))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    print("| input | kernel | matrix | nonzeros | build (s) | us per nonzero |")
    print("|---|---|---|---|---|---|")
    for k in (3, 5):
        spec = sc.Conv(dims=2, kernel_size=k, padding="same", bias=False)
        for n in (8, 16, 32, 64, 128):
            nnz = sc.index_form(spec, (n, n)).nonzeros()
            sec = build_seconds(spec, n)
            print(
                f"| {n}x{n} | {k}x{k} | {n * n}x{n * n} | {nnz} | {sec:.4f} | "
                f"{1e6 * sec / nnz:.2f} |"
            )


if __name__ == "__main__":
    main()
