"""Timing helper shared by the benchmarks: median wall time of repeated runs."""

import statistics
import time


def median_time(fn, repeat: int = 3) -> float:
    """Median of `repeat` wall-clock timings of fn() in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
