"""The benchmark suite (BENCHMARKS.md; issue 4), plus a large-kernel layer for the FFT (issue 7).

Each row: name, N, C_in, H (= W), C_out, k, stride, padding, dilation, groups.
"""

SUITE = [
    ("LeNet conv1", 64, 1, 28, 6, 5, 1, 0, 1, 1),
    ("AlexNet conv1", 8, 3, 227, 96, 11, 4, 0, 1, 1),
    ("VGG 64x56x56", 8, 64, 56, 64, 3, 1, 1, 1, 1),
    ("VGG 256x28x28", 8, 256, 28, 256, 3, 1, 1, 1, 1),
    ("depthwise 128x56x56", 8, 128, 56, 128, 3, 1, 1, 1, 128),
    ("dilated 32x64x64 d2", 8, 32, 64, 32, 3, 1, 2, 2, 1),
]
LARGE_KERNEL = ("large kernel 16x128x128 15x15", 2, 16, 128, 16, 15, 1, 7, 1, 1)


def settle_allocator() -> None:
    """Put the C allocator in the state a long-running process reaches, before any timing.

    glibc's malloc serves blocks above its mmap threshold (128 KiB at start) with fresh pages
    and returns freed heap tops above its trim threshold to the system, so a block allocated
    afresh on every call pays a page fault per 4 KiB page (about 2 us on the project's
    machine, as much as a pass over the page). Freeing a block of at most 32 MiB raises both
    thresholds to that size (mmap) and twice it (trim), as happens in any process once it has
    freed a large array: here a 30 MiB one. The 1 GiB array touched and freed first was the
    earlier setting (torch's conv2d is sensitive to the allocation history); above 32 MiB it
    moves neither threshold. `bench/alloc_history.py` measures all three states."""
    import numpy as np

    big = np.ones(2**28, np.float32)  # 1 GiB
    del big
    block = np.ones(30 * 2**18, np.float32)  # 30 MiB
    del block


def time_ms(fn, reps: int = 9, warmup: int = 2) -> tuple[float, float]:
    """(median, minimum) milliseconds of `reps` calls of `fn` after `warmup` calls."""
    import statistics
    import time

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times), 1e3 * min(times)
