"""Handing freed heap memory back to the system between the big steps of a run."""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL("libc.so.6")
        lib.malloc_trim  # noqa: B018 - glibc only
        return lib
    except (OSError, AttributeError):
        return None


def trim_heap() -> None:
    """malloc_trim(0) on glibc (a no-op elsewhere)."""
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)
