"""Where the memory of read + prepare + analyse goes (issue 14, target 2): a stage-by-stage profile.

A sampling thread reads /proc/self/status every 20 ms and records VmRSS with the main thread's Python stack
(innermost frames under analysis/ or data/); the run prints, per stage (read, prepare, analyse), VmRSS,
VmHWM (peak resident) and VmPeak (peak virtual, what RLIMIT_AS limits) at its end, the call sites where RSS
rose most, and what each big frame costs (DataFrame.memory_usage(deep=True)).

Run (after `python -m bench.bench_engine --generate N DIR`):
    python -m bench.memory_profile DIR [--top 25] [--release]
(--release drops the Dataset once prepared, as the CLI and bench_engine do)
Not part of the test suite.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

GB = 1024**3


def status() -> dict[str, float]:
    """VmRSS, VmHWM, VmPeak, VmSize of this process in GB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM", "VmPeak", "VmSize"):
            out[k] = int(v.split()[0]) * 1024 / GB
    return out


class Sampler(threading.Thread):
    """RSS and the main thread's innermost project frame, every `every` seconds."""

    def __init__(self, every: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.main = threading.main_thread().ident
        self.samples: list[tuple[float, str]] = []
        self.stop = False

    def where(self) -> str:
        frame = sys._current_frames().get(self.main or 0)
        parts = []
        while frame is not None and len(parts) < 3:
            f = frame.f_code.co_filename
            if "/analysis/" in f or "/data/" in f:
                parts.append(f"{Path(f).parent.name}/{Path(f).name}:{frame.f_lineno}({frame.f_code.co_name})")
            frame = frame.f_back
        return " < ".join(parts) or "(other)"

    def run(self) -> None:
        while not self.stop:
            self.samples.append((status()["VmRSS"], self.where()))
            time.sleep(self.every)

    def rises(self, top: int) -> list[tuple[str, float, float]]:
        """Call sites by total RSS rise seen while there (GB), with the highest RSS seen there."""
        up: dict[str, float] = defaultdict(float)
        hi: dict[str, float] = defaultdict(float)
        prev = self.samples[0][0] if self.samples else 0.0
        for rss, at in self.samples:
            if rss > prev:
                up[at] += rss - prev
            hi[at] = max(hi[at], rss)
            prev = rss
        return sorted(((k, up[k], hi[k]) for k in up), key=lambda t: -t[1])[:top]


def frame_gb(df: Any) -> str:
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        return ""
    m = df.memory_usage(deep=True)
    big = m.sort_values(ascending=False).head(6)
    cols = ", ".join(f"{k} {v / GB * 1024:.0f} MB ({df[k].dtype})" for k, v in big.items() if k != "Index")
    return f"{m.sum() / GB:.2f} GB, {len(df):,} rows x {df.shape[1]} cols; biggest: {cols}"


def main(d: Path, top: int = 25, release: bool = False) -> None:
    import gc

    from analysis.engine import Settings, analyse
    from analysis.prepare import prepare
    from bench.bench_engine import read_dataset

    s = Sampler()
    s.start()
    print("start", {k: round(v, 2) for k, v in status().items()})
    ds = read_dataset(d)
    gc.collect()
    print("after read", {k: round(v, 2) for k, v in status().items()})
    print("  dataset.orders:", frame_gb(ds.orders))
    print("  dataset.returns:", frame_gb(ds.returns))
    p = prepare(ds)
    if release:  # as the CLI and bench_engine do: the rows as read are not read again once prepared
        ds = None
    gc.collect()
    print("after prepare", {k: round(v, 2) for k, v in status().items()})
    for name in ("lines", "orders", "returns"):
        print(f"  prepared.{name}:", frame_gb(getattr(p, name)))
    a = analyse(p, Settings(cost_per_return=40.0), briefs=False)
    gc.collect()
    print("after analyse", {k: round(v, 2) for k, v in status().items()})
    for k, v in p._memo.items():
        vals = v if isinstance(v, tuple) else (v,)
        for x in vals:
            if hasattr(x, "nbytes") and x.nbytes > 20e6:
                print(f"  memo {k}: ndarray {x.nbytes / GB:.2f} GB")
            elif hasattr(x, "memory_usage") and x.memory_usage(deep=True).sum() > 20e6:
                print(f"  memo {k}:", frame_gb(x))
    s.stop = True
    s.join()
    print(f"segments {len(a.segments)}, pairs {len(a.pairs)}")
    print("RSS rise by call site (GB rise, GB max there):")
    for at, up, hi in s.rises(top):
        print(f"  +{up:5.2f}  max {hi:5.2f}  {at}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]), int(args[args.index("--top") + 1]) if "--top" in args else 25, "--release" in args)
