"""Arrow's memory pool: the system allocator once `data` is imported, whichever of pyarrow and data comes first;
the user's own choice wins (data/__init__.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def _backend(code: str, **env: str) -> str:
    e = {k: v for k, v in os.environ.items() if k not in ("ARROW_DEFAULT_MEMORY_POOL", "RI_ARROW_MEMORY_POOL")}
    e.update(env, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code + "; print(pa.default_memory_pool().backend_name)"],
        env=e,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return out.stdout.strip().splitlines()[-1]


def test_data_chooses_the_system_pool_before_or_after_pyarrow():
    assert _backend("import data.readers; import pyarrow as pa") == "system"
    assert _backend("import pyarrow as pa; pa.array([1]); import data") == "system"


def test_the_users_choice_wins():
    bare = _backend("import pyarrow as pa")  # the wheel's own default (mimalloc or jemalloc)
    assert _backend("import data; import pyarrow as pa", RI_ARROW_MEMORY_POOL="default") == bare
    assert _backend("import data; import pyarrow as pa", ARROW_DEFAULT_MEMORY_POOL=bare) == bare
