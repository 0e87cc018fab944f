"""bench/bench_load.py's measuring tools (not their timings): a child's peak memory is its own, and the
CLI's stage split accounts for the whole run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import bench_load
from tests.conftest import ROOT


def test_child_peak_rss_is_the_childs_own_not_the_benchmarks():
    # Linux carries a parent's RSS at fork into the child's ru_maxrss; the launcher keeps it out
    held = bytearray(300 << 20)  # this process: 300 MB touched
    held[::4096] = b"x" * len(held[::4096])
    child = "b = bytearray(60 << 20); b[::4096] = b'x' * len(b[::4096])"
    out = bench_load._child_cpu([sys.executable, "-c", child], repeat=1)
    assert 60 <= out["peak_rss_mb"] < 200, out
    assert out["cpu_s"] > 0
    del held


def test_cli_stages_add_up_to_the_whole_run(tmp_path):
    lines = ["Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"]
    for i in range(120):  # sales, then credit notes for some of them
        day = 1 + i % 28
        lines.append(f"{5000 + i},{100 + i % 7},ITEM {i % 7},{1 + i % 3},2024-01-{day:02d} 10:00,2.5,{200 + i % 11},UK")
    for i in range(0, 120, 9):
        lines.append(f"C{9000 + i},{100 + i % 7},ITEM {i % 7},-1,2024-02-{1 + i % 28:02d} 10:00,2.5,{200 + i % 11},UK")
    path = tmp_path / "tx.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_load.py"), "--stages", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["exit_status"] == 0
    stages = ["interpreter", "imports", "output", *bench_load.STAGES]
    assert set(out) == {*stages, "total", "exit_status"}
    # every stage ran (each spent some CPU) and the exclusive stages cover the whole process
    assert all(out[s] >= 0 for s in stages)
    assert out["reading"] > 0 and out["prepare"] > 0 and out["analyse"] > 0
    assert sum(out[s] for s in stages) == pytest.approx(out["total"], abs=0.01)
