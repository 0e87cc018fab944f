"""Page switches in a real browser: the dashboard against a bare two-page Streamlit app, in the same run.

Each app runs under the real ``streamlit run`` on a free port and is driven by headless Chromium
(playwright, /usr/bin/chromium). A page switch is timed from the click on a sidebar page link until
(1) the new page's heading (its h1, different from the previous page's) is shown, (2) a plotly chart of
the new page is visible, and (3) Streamlit is idle: no "Running" status and no stale element left in
the main area. The browser polls these conditions on every animation frame.

- Dashboard: the demo data (88k order lines, as ``make run`` shows), every page that draws a chart
  visited once first (so each page's caches are warm), then ROUNDS rounds through those pages.
- Baseline: bench/baseline_app (a heading, a 50-row table and a plotly chart per page), switched back and
  forth as many times; it runs before and after the dashboard, and both runs make up its median.

Run: ``make bench`` or ``python -m bench browser`` (``--root DIR`` measures another checkout's dashboard
with this same harness, e.g. the commit before a change). Not part of the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ROUNDS = 3
TIMEOUT_MS = 180_000

# true once the page switched to has rendered and Streamlit has finished its run (see module docstring)
_IDLE = """
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const h1 = main.querySelector('h1');
  if (!h1 || h1.innerText.trim() === old || h1.closest('[data-stale="true"]')) return false;
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  if (status && /Running/i.test(status.innerText)) return false;
  if (main.querySelector('[data-stale="true"]')) return false;"""
READY_JS = (
    "(old) => {"
    + _IDLE
    + """
  return [...main.querySelectorAll('.js-plotly-plot')].some(c => c.getBoundingClientRect().height > 0);
}"""
)
IDLE_JS = "(old) => {" + _IDLE + " return true; }"
HEADING_JS = """() => { const m = document.querySelector('[data-testid="stMain"]') || document.body;
                       const h = m.querySelector('h1'); return h ? h.innerText.trim() : ''; }"""


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(root: Path, script: str):
    """`streamlit run script` (relative to root) on a free port; yields the URL, stops the server after."""
    with serve_process(root, script) as (url, _proc):
        yield url


@contextmanager
def serve_process(root: Path, script: str, *, state_dir: Path | None = None, log_path: Path | None = None):
    """As serve(), yielding (url, server process) for callers that watch the server (e.g. its memory).
    state_dir / log_path: where the server keeps its state and writes its log (temporary ones by default;
    given ones are left in place, so a test can read the log after a failure)."""
    port = _free_port()
    state = str(state_dir) if state_dir is not None else tempfile.mkdtemp(prefix="ri-bench-state-")
    env = dict(os.environ, RI_STATE_DIR=state, PYTHONPATH=str(root))
    log = (
        open(log_path, "w+")
        if log_path is not None
        else tempfile.NamedTemporaryFile("w+", prefix="ri-bench-server-", suffix=".log", delete=False)
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"streamlit did not start ({script}):\n{log.read()[-3000:]}") from None
                time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if state_dir is None:
            shutil.rmtree(state, ignore_errors=True)


def _nav_links(page) -> list[str]:
    nav = page.get_by_test_id("stSidebarNav")
    nav.wait_for()
    # a link's text is its icon's ligature name, then the title: keep the title
    return [t.strip().splitlines()[-1].strip() for t in nav.get_by_role("link").all_inner_texts() if t.strip()]


class RunWatcher:
    """Counts the script runs the server reports finished (ForwardMsg.script_finished on the websocket).

    The status widget and stale markers appear only after a delay, so the DOM alone cannot tell a run
    that is still going from one that is done; the server's own message can.
    """

    def __init__(self, page) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._msg = ForwardMsg
        self._done = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
        self.finished = 0
        self.page = page
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        if isinstance(payload, str):
            return
        try:
            msg = self._msg.FromString(payload)
        except Exception:  # not a ForwardMsg
            return
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished in self._done:
            self.finished += 1

    def wait_past(self, count: int) -> None:
        deadline = time.perf_counter() + TIMEOUT_MS / 1000
        while self.finished <= count:
            if time.perf_counter() > deadline:
                raise TimeoutError("the script run never finished")
            self.page.wait_for_timeout(5)  # lets playwright deliver websocket events


def _switch(watcher: RunWatcher, title: str, ready: str = READY_JS) -> float:
    """Click the sidebar link `title`; seconds until the server has finished the run and the new page is
    drawn (heading, a visible chart, nothing stale)."""
    page = watcher.page
    old = page.evaluate(HEADING_JS)
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True)
    link.wait_for()
    runs = watcher.finished
    t = time.perf_counter()
    link.click()
    watcher.wait_past(runs)
    page.wait_for_function(ready, arg=old, polling="raf", timeout=TIMEOUT_MS)
    return time.perf_counter() - t


def _has_chart(page) -> bool:
    return page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stMain\"] .js-plotly-plot')]"
        ".some(c => c.getBoundingClientRect().height > 0)"
    )


def _open(browser, url: str) -> RunWatcher:
    ctx = browser.new_context(viewport={"width": 1500, "height": 1400})
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watcher = RunWatcher(page)
    page.goto(url)
    watcher.wait_past(0)
    page.wait_for_function(IDLE_JS, arg="\u0000", polling="raf", timeout=TIMEOUT_MS)
    return watcher


def measure_app(browser, url: str) -> dict:
    t = time.perf_counter()
    watcher = _open(browser, url)
    page = watcher.page
    first_load = time.perf_counter() - t
    charted, cold = [], {}
    titles = [t for t in _nav_links(page) if not t.startswith("Upload")]
    # warm-up: each page once (its caches fill), the default page (shown first, listed first) last; keep the
    # pages with a chart
    for title in titles[1:] + titles[:1]:
        cold[title] = round(_switch(watcher, title, IDLE_JS), 3)
        _log(f"  first visit {title}: {cold[title]} s")
        if _has_chart(page):  # pages without a chart are not part of the comparison
            charted.append(title)
    per_page: dict[str, list[float]] = {p: [] for p in charted}
    for _ in range(ROUNDS):
        for title in charted:
            per_page[title].append(_switch(watcher, title))
            _log(f"  switch to {title}: {per_page[title][-1]:.3f} s")
    page.context.close()
    times = [x for v in per_page.values() for x in v]
    return {
        "first_load_s": round(first_load, 2),
        "pages": charted,
        "first_visit_s": cold,
        "switches": len(times),
        "median_s": round(statistics.median(times), 3),
        "per_page_median_s": {p: round(statistics.median(v), 3) for p, v in per_page.items()},
    }


def measure_baseline(browser, url: str, switches: int) -> list[float]:
    watcher = _open(browser, url)
    titles = _nav_links(watcher.page)
    for title in (titles[1], titles[0]):  # warm-up
        _switch(watcher, title)
    times = [_switch(watcher, titles[(i + 1) % 2]) for i in range(switches)]
    _log(f"  baseline switches: {', '.join(f'{x:.3f}' for x in times)}")
    watcher.page.context.close()
    return times


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    root = Path(argv[argv.index("--root") + 1]).resolve() if "--root" in argv else ROOT
    if not Path(CHROMIUM).exists():
        msg = f"skipped: Chromium not found at {CHROMIUM}"
        print(msg)
        return {"skipped": msg}
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            with serve(HERE / "baseline_app", "app.py") as url:
                base = measure_baseline(browser, url, 12)
            with serve(root, "dashboard/app.py") as url:
                app = measure_app(browser, url)
            with serve(HERE / "baseline_app", "app.py") as url:
                base += measure_baseline(browser, url, 12)
        finally:
            browser.close()
    result = {
        "dashboard_root": str(root),
        "dashboard": app,
        "baseline": {"switches": len(base), "median_s": round(statistics.median(base), 3)},
        "page_switch_vs_baseline": round(app["median_s"] / statistics.median(base), 2),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
