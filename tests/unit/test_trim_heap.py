"""data.memory.trim_heap hands freed heap pages back on glibc and does nothing where there is no glibc."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import data.memory as memory


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(memory._libc() is None or not Path("/proc/self/status").exists(), reason="glibc on Linux only")
def test_freed_heap_goes_back_to_the_system():
    # many 64 KiB blocks (below glibc's mmap threshold: they live in the heap), all freed but the last one, which
    # pins the heap's top: glibc keeps the freed 256 MiB below it resident until malloc_trim hands it back
    blocks = [np.ones(8192) for _ in range(4096)]
    last = blocks[-1]
    high = _rss_kib()
    blocks.clear()
    kept = _rss_kib()
    memory.trim_heap()
    trimmed = _rss_kib()
    assert kept > high - 64 * 1024  # freed, but still resident
    assert trimmed < kept - 192 * 1024  # at least 3/4 of it went back
    assert last[0] == 1.0


def test_no_glibc_is_a_no_op(monkeypatch):
    memory._libc.cache_clear()
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: (_ for _ in ()).throw(OSError(name)))
    try:
        assert memory._libc() is None
        memory.trim_heap()  # nothing to call, nothing raised
    finally:
        memory._libc.cache_clear()
