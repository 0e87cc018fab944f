"""Load test: N concurrent browser sessions upload the real 500k-line export and browse every page.

One `streamlit run dashboard/app.py` server on a free port; N threads, each with its own headless Chromium
(playwright, /usr/bin/chromium), start together: open Upload & map, upload the gzipped Online Retail II export
(../shared/data), wait for the load report ("rows read ="), then visit every analysis page from the sidebar,
each timed from the click until the server has finished the run and the page's heading is drawn with nothing
stale (bench_browser's watcher). Errors: exceptions shown on a page, timeouts, failed uploads.
The server's resident memory (VmRSS) is sampled every 0.5 s: cold (the bare server), before the sessions (after one
warm-up browser has opened the demo Overview, so the libraries every page imports are loaded, and closed again),
peak during, right after they close, and after --settle seconds. The server runs with RI_CACHE_TTL=60 (unless set),
so within the settle time its caches expire and, once Streamlit's server.disconnectedSessionTTL (120 s) has
passed, the closed sessions' data is released (dashboard.cache.release_closed_sessions).

Run: ``python -m bench.load_test [--sessions 10] [--settle 240] [--file PATH]``. Never part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
import traceback
from pathlib import Path

from bench.bench_browser import CHROMIUM, IDLE_JS, LAUNCH_ARGS, TIMEOUT_MS, RunWatcher, _open, _switch, serve_process

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "online_retail_II_2009-12_to_2010-11.csv.gz"
PAGES = (
    "Overview",
    "Collections",
    "Intents",
    "Combinations",
    "Journeys",
    "Reasons & outcomes",
    "Trends",
    "Fix list",
    "Interventions",
)
UPLOAD_TIMEOUT_MS = 900_000
REGISTER_TIMEOUT_MS = 240_000  # the uploaded file shown and inspected (its mapping and the Load data button)


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.time(), _rss_mb(self.pid)))
            self.stop.wait(0.5)


def session(i: int, url: str, path: Path, barrier: threading.Barrier, out: dict) -> None:
    from playwright.sync_api import sync_playwright

    res = out[i] = {"errors": [], "pages": {}, "upload_s": None}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            ctx = browser.new_context(viewport={"width": 1500, "height": 1400})
            page = ctx.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            try:
                _browse(page, url, path, barrier, res)
            except Exception:
                shots = os.environ.get("RI_LOAD_TEST_SHOTS")
                if shots:  # what the browser showed when the session failed
                    page.screenshot(path=f"{shots}/session-{i}.png", full_page=True)
                raise
            finally:
                ctx.close()
                browser.close()
    except Exception as exc:
        res["errors"].append(f"session: {type(exc).__name__}: {str(exc)[:300]}")
        traceback.print_exc()


def _browse(page, url: str, path: Path, barrier: threading.Barrier, res: dict) -> None:
    watcher = RunWatcher(page)
    page.goto(url + "/upload")
    watcher.wait_past(0)
    page.wait_for_function(IDLE_JS, arg="\u0000", polling="raf", timeout=TIMEOUT_MS)
    barrier.wait()
    t = time.perf_counter()
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(path))
    try:
        page.get_by_role("button", name="Load data").wait_for(timeout=REGISTER_TIMEOUT_MS)
    except Exception:
        if page.get_by_text(path.name, exact=False).count():
            page.get_by_role("button", name="Load data").wait_for(timeout=UPLOAD_TIMEOUT_MS)  # still reading it
        else:
            # under heavy load a file handed to the browser's file input was sometimes never uploaded (no file
            # shown, nothing reached the server): counted, and the file handed over once more
            res["upload_retries"] = res.get("upload_retries", 0) + 1
            page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(str(path))
            page.get_by_role("button", name="Load data").wait_for(timeout=UPLOAD_TIMEOUT_MS)
    page.get_by_role("button", name="Load data").click()
    page.get_by_text("rows read =", exact=False).first.wait_for(timeout=UPLOAD_TIMEOUT_MS)
    res["upload_s"] = time.perf_counter() - t
    for title in PAGES:
        try:
            res["pages"][title] = _switch(watcher, title, IDLE_JS)
            if page.get_by_test_id("stException").count():
                res["errors"].append(f"{title}: " + page.get_by_test_id("stException").first.inner_text()[:300])
        except Exception as exc:  # a timeout or a broken page: count it and go on
            res["errors"].append(f"{title}: {type(exc).__name__}: {str(exc)[:300]}")


def warm_up(url: str) -> None:
    """One browser opens every page on the demo (each page's libraries get imported, e.g. statsmodels by
    Interventions, and the demo's caches filled) and closes: "before" is a server that has drawn every page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        watcher = _open(browser, url)
        for title in (*PAGES[1:], "Upload & map"):
            _switch(watcher, title, IDLE_JS)
        browser.close()


def rss_by_mapping(pid: int) -> dict:
    """Where the resident memory sits (/proc/PID/smaps): glibc's main heap, anonymous mappings by size (thread
    arenas are 64 MB mappings; big arrays and other allocators' chunks are mmapped apart), and files (libraries)."""
    out: dict[str, float] = {}
    key = None
    try:
        with open(f"/proc/{pid}/smaps") as fh:
            for line in fh:
                head = line.split()
                if "-" in head[0] and not head[0].endswith(":"):
                    lo, hi = (int(x, 16) for x in head[0].split("-"))
                    name = head[5] if len(head) > 5 else ""
                    if name == "[heap]":
                        key = "heap"
                    elif name.startswith("/"):
                        key = "files"
                    elif name:
                        key = "other"
                    else:
                        size = hi - lo
                        key = (
                            "anon >= 64 MB"
                            if size >= 64 << 20
                            else "anon 1-64 MB"
                            if size >= 1 << 20
                            else "anon < 1 MB"
                        )
                elif head[0] == "Rss:" and key:
                    out[key] = out.get(key, 0.0) + int(head[1]) / 1024
    except OSError:
        return {}
    return {k: round(v) for k, v in sorted(out.items())}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--settle", type=float, default=240, help="seconds to wait after the sessions close")
    ap.add_argument("--file", type=Path, default=REAL)
    args = ap.parse_args(argv)
    if not args.file.is_file():
        raise SystemExit(f"No file at {args.file}")
    os.environ.setdefault("RI_CACHE_TTL", "60")  # the server inherits it: caches expire within the settle time
    with serve_process(ROOT, "dashboard/app.py") as (url, proc):
        return _measure(args, url, proc)


def _measure(args, url: str, proc) -> dict:
    sampler = Sampler(proc.pid)
    try:
        time.sleep(3)
        rss_cold = _rss_mb(proc.pid)
        warm_up(url)
        time.sleep(5)
        rss_before = _rss_mb(proc.pid)
        map_before = rss_by_mapping(proc.pid)
        sampler.start()
        out: dict = {}
        barrier = threading.Barrier(args.sessions)
        t0 = time.time()
        threads = [
            threading.Thread(target=session, args=(i, url, args.file, barrier, out)) for i in range(args.sessions)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        t1 = time.time()
        rss_closed = _rss_mb(proc.pid)
        time.sleep(args.settle)
        rss_settled = _rss_mb(proc.pid)
        map_settled = rss_by_mapping(proc.pid)
        sampler.stop.set()
        timeline = {f"{t - t1:.0f}s": round(mb) for t, mb in sampler.samples[::60] if t > t1}
        during = [mb for t, mb in sampler.samples if t0 <= t <= t1]
        page_times = [s for r in out.values() for s in r["pages"].values()]
        uploads = [r["upload_s"] for r in out.values() if r["upload_s"] is not None]
        errors = [e for r in out.values() for e in r["errors"]]
        result = {
            "sessions": args.sessions,
            "file": args.file.name,
            "wall_s": round(t1 - t0, 1),
            "errors": len(errors),
            "error_list": errors[:20],
            "uploads_done": len(uploads),
            "upload_retries": sum(r.get("upload_retries", 0) for r in out.values()),
            "upload_p50_s": round(statistics.median(uploads), 1) if uploads else None,
            "upload_max_s": round(max(uploads), 1) if uploads else None,
            "page_switches": len(page_times),
            "page_p50_s": round(_pct(page_times, 0.5), 2),
            "page_p95_s": round(_pct(page_times, 0.95), 2),
            "rss_cold_mb": round(rss_cold),
            "rss_before_mb": round(rss_before),
            "rss_peak_mb": round(max(during)) if during else None,
            "rss_median_during_mb": round(statistics.median(during)) if during else None,
            "rss_after_close_mb": round(rss_closed),
            f"rss_after_{args.settle:g}s_mb": round(rss_settled),
            "rss_after_vs_before": round(rss_settled / rss_before - 1, 3),
            "rss_every_30s_after_close_mb": timeline,
            "rss_by_mapping_before_mb": map_before,
            "rss_by_mapping_after_mb": map_settled,
            "slowest_page": max(
                ((t, r_i, title) for r_i, r in out.items() for title, t in r["pages"].items()), default=None
            ),
        }
        print(json.dumps(result, indent=2))
        return result
    finally:
        sampler.stop.set()


if __name__ == "__main__":
    main()
