"""Handing freed heap memory back to the system between the big steps of a run.

glibc keeps memory that was freed in its heap (a 5M-line `prepare()` leaves about 0.7 GB there), and allocations
larger than its mmap threshold are mapped afresh instead of reusing it, so the freed heap adds to the next peak
(README "Benchmarks": `prepare()` at 5M lines 2.97 -> 2.67 GB with the trims in analysis.prepare).
"""

from __future__ import annotations

import ctypes
import functools


@functools.lru_cache(maxsize=1)  # no argument: the C library, looked up once
def _libc() -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL("libc.so.6")
        lib.malloc_trim  # noqa: B018 - glibc only
        return lib
    except (OSError, AttributeError):
        return None


def trim_heap() -> None:
    """malloc_trim(0) on glibc: the free pages of every arena go back to the system (a no-op elsewhere). Costs a
    walk of the heap's free lists (milliseconds); the pages handed back are faulted in again when reused."""
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)
