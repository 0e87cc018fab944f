"""File reading, format detection, column mapping, validation, the DuckDB store and the demo data.

Importing the package chooses Arrow's memory pool for the process (`_use_system_arrow_pool`): the C library's
allocator instead of the wheel's mimalloc. Measured with `python -m bench.bench_engine --pipeline DIR` (same
datasets, alternating, one session; README "Memory"): prepare + analyse at 1M lines 5.1-5.2 -> 4.7 s CPU and peak
1.72 -> 1.44 GB; at 5M `prepare()` 13.8-14.5 -> 10.4-10.5 s CPU (mimalloc maps and zero-fills fresh pages for
each 40 MB column: the kernel time that made 5M superlinear). In the dashboard, mimalloc also kept the pages
that script threads freed in its own 1 GiB reserved areas, which no release call from the sweeper thread
reaches: after ten 500k-line sessions closed, 590 MB stayed resident there (bench/load_test.py, /proc smaps);
on glibc, the sweeper's malloc_trim hands them back (README "Load test"). `RI_ARROW_MEMORY_POOL=default` keeps
the wheel's pool; an `ARROW_DEFAULT_MEMORY_POOL` set by the user always wins.
"""

from __future__ import annotations

import os as _os
import sys as _sys


def _use_system_arrow_pool() -> None:
    if _os.environ.get("RI_ARROW_MEMORY_POOL", "system") != "system" or _os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    if "pyarrow" in _sys.modules:  # imported first by the host (Streamlit): switch the default pool now
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
    else:  # read by Arrow when it creates its default pool; no import here (the CLI's --help stays fast)
        _os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"


_use_system_arrow_pool()
