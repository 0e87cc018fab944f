"""The dashboard in a real browser: page switches against a bare Streamlit app drawing as much, and a new filter
combination on about 1M order lines.

Each app runs under the real ``streamlit run`` on a free port and is driven by headless Chromium
(playwright, /usr/bin/chromium). A page switch is timed from the click on a sidebar page link until
(1) the server reports the script run finished (RunWatcher), (2) the new page's heading (its h1, different
from the previous page's) is shown, (3) a plotly chart of the new page is visible (on pages that show one),
and (4) Streamlit is idle: no "Running" status and no stale element left in the main area. The browser polls
these conditions on every animation frame.

- Page switch (``measure``): the dashboard on the demo data (88k order lines, as ``make run`` shows); every
  page is visited once (its caches fill) and its plotly charts and dataframes are counted in the browser
  (``page_elements``: points, traces, height, and whether each is shown, in a tab or in a collapsed expander).
  Then bench/baseline_app starts with one bare page per dashboard page drawing the same counts
  (RI_BASELINE_PAGES), and ROUNDS rounds switch to each page on the dashboard and then on the bare app, so a
  busy moment on the shared machine hits both alike. Reported: per-page medians and ratios, the ratio of the
  medians over all switches, the geometric mean of the per-page ratios, and the CPU seconds each server
  spent per switch (/proc/PID/stat: steadier than wall time when the machine is shared).
- New filter (``measure_filters``): the dashboard on a generated demo of FILTER_ORDERS orders (RI_DEMO_ORDERS,
  about 1M order lines); after the first load and one visit of Collections, Journeys and Overview, each of
  FILTER_STEPS adds a value never chosen before to a sidebar filter on the page named, timed from the click on
  the option until the page is redrawn (run finished, nothing stale, a chart shown), with the server's CPU
  seconds for it. The first visit of a page after a filter change is reported too.

Run: ``make bench`` or ``python -m bench browser`` (both parts, defaults), or ``python -m bench.bench_browser
[--root DIR] [--rounds N] [--orders N] [--no-switch] [--no-filters]`` (``--root DIR`` measures another checkout's dashboard with this same harness and baseline,
e.g. the commit before a change). Not part of the tests.
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
ROUNDS = 5
FILTER_ORDERS = 510_000  # about 1M order lines
TIMEOUT_MS = int(os.environ.get("RI_BENCH_TIMEOUT_MS", "180000"))

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


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) the server process `pid` has used so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(root: Path, script: str, env: dict | None = None):
    """`streamlit run script` (relative to root) on a free port; yields the URL, stops the server after."""
    with serve_process(root, script, env=env) as (url, _proc):
        yield url


@contextmanager
def serve_process(
    root: Path,
    script: str,
    *,
    state_dir: Path | None = None,
    log_path: Path | None = None,
    env: dict | None = None,
):
    """As serve(), yielding (url, server process) for callers that watch the server (e.g. its memory).
    state_dir / log_path: where the server keeps its state and writes its log (temporary ones by default;
    given ones are left in place, so a test can read the log after a failure). env: extra variables for the server."""
    port = _free_port()
    state = str(state_dir) if state_dir is not None else tempfile.mkdtemp(prefix="ri-bench-state-")
    env = dict(os.environ, RI_STATE_DIR=state, PYTHONPATH=str(root), **(env or {}))
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


# what a page draws, counted in the browser: its plotly charts (points, traces, height; where: shown, in a tab not
# shown, or in a collapsed expander) and its dataframes (rows and columns once the grid is drawn, else unknown)
ELEMENTS_JS = """() => { const m = document.querySelector('[data-testid="stMain"]');
  const where = el => el.closest('[data-testid="stExpander"]') ? 'expander'
                      : (el.getBoundingClientRect().height > 0 ? 'main' : 'tab');
  const charts = [...m.querySelectorAll('.js-plotly-plot')].map(g => ({
    points: (g.calcdata || []).reduce((s, cd) => s + (cd ? cd.length : 0), 0), traces: (g.data || []).length,
    height: Math.round(g.getBoundingClientRect().height) || 380, where: where(g)}));
  const tables = [...m.querySelectorAll('[data-testid="stDataFrame"]')].map(d => {
    const g = d.querySelector('[aria-rowcount]');
    return {rows: g ? +g.getAttribute('aria-rowcount') - 1 : null, cols: g ? +g.getAttribute('aria-colcount') : null,
            where: where(d)}; });
  return {charts, tables}; }"""
DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stDataFrame"]')]
  .filter(d => d.getBoundingClientRect().height > 0 && !d.closest('[data-testid="stExpander"]'))
  .every(d => d.querySelector('[aria-rowcount]'))"""
UNKNOWN_TABLE = (30, 8)  # rows, columns assumed for a dataframe the browser has not drawn yet (hidden)


def page_elements(page) -> dict:
    """The charts and dataframes of the page shown (bench/baseline_app/views/page.py draws the same)."""
    try:  # plotly and the grids draw after the run: wait until every shown dataframe has its grid
        page.wait_for_function(DRAWN_JS, polling=100, timeout=5000)
    except Exception:  # a grid never drawn counts as UNKNOWN_TABLE
        pass
    spec, before = page.evaluate(ELEMENTS_JS), None
    for _ in range(20):  # elements can still arrive after the run is reported finished: count until it holds
        if before is not None and _counts(spec) == _counts(before):
            break
        page.wait_for_timeout(250)
        before, spec = spec, page.evaluate(ELEMENTS_JS)
    for t in spec["tables"]:
        if not t["rows"] or not t["cols"]:
            t["rows"], t["cols"] = UNKNOWN_TABLE
    return spec


def _ready_for(spec: dict) -> str:
    """A page with a chart shown is ready once one is drawn; a page without one once Streamlit is idle."""
    return READY_JS if any(c["where"] == "main" for c in spec["charts"]) else IDLE_JS


def _counts(spec: dict) -> str:
    return f"{len(spec['charts'])} charts, {len(spec['tables'])} tables"


def measure(browser, root: Path, rounds: int = ROUNDS) -> dict:
    """Every dashboard page against the bare page drawing as many charts and tables, switched alternately.

    Both servers run at once; each round visits every page on the dashboard and then the same page on the
    baseline, so a busy moment on the shared machine hits both alike."""
    with serve_process(root, "dashboard/app.py") as (dash_url, dash_proc):
        t = time.perf_counter()
        dash = _open(browser, dash_url)
        first_load = time.perf_counter() - t
        titles = [t for t in _nav_links(dash.page) if not t.startswith("Upload")]
        cold, specs = {}, {}
        # warm-up: each page once (its caches fill, its elements are counted), the default page last
        for title in titles[1:] + titles[:1]:
            cold[title] = round(_switch(dash, title, IDLE_JS), 3)
            specs[title] = page_elements(dash.page)
            _log(f"  first visit {title}: {cold[title]} s ({_counts(specs[title])})")
        specs = {t: specs[t] for t in titles}  # in the dashboard's order: the same page opens first
        base_env = {"RI_BASELINE_PAGES": json.dumps(specs)}
        with serve_process(HERE / "baseline_app", "app.py", env=base_env) as (base_url, base_proc):
            base = _open(browser, base_url)
            for title in titles[1:] + titles[:1]:
                _switch(base, title, _ready_for(specs[title]))
            d_times: dict[str, list[float]] = {p: [] for p in titles}
            b_times: dict[str, list[float]] = {p: [] for p in titles}
            d_cpu: dict[str, list[float]] = {p: [] for p in titles}
            b_cpu: dict[str, list[float]] = {p: [] for p in titles}
            for _ in range(rounds):
                for title in titles[1:] + titles[:1]:  # both apps show the default page (titles[0]) now
                    ready = _ready_for(specs[title])
                    for watcher, proc, times, cpu in (
                        (dash, dash_proc, d_times, d_cpu),
                        (base, base_proc, b_times, b_cpu),
                    ):
                        c = server_cpu(proc.pid)
                        times[title].append(_switch(watcher, title, ready))
                        cpu[title].append(server_cpu(proc.pid) - c)
                    _log(
                        f"  {title}: dashboard {d_times[title][-1]:.3f} s ({d_cpu[title][-1]:.2f} s CPU), "
                        f"bare {b_times[title][-1]:.3f} s ({b_cpu[title][-1]:.2f} s CPU)"
                    )
            base.page.context.close()
        dash.page.context.close()
    per_page = {}
    for title in titles:
        d, b = statistics.median(d_times[title]), statistics.median(b_times[title])
        per_page[title] = {
            "elements": _counts(specs[title]),
            "dashboard_s": round(d, 3),
            "bare_s": round(b, 3),
            "ratio": round(d / b, 2),
            "dashboard_server_cpu_s": round(statistics.median(d_cpu[title]), 3),
            "bare_server_cpu_s": round(statistics.median(b_cpu[title]), 3),
        }
    all_d = [x for v in d_times.values() for x in v]
    all_b = [x for v in b_times.values() for x in v]
    ratios = [v["ratio"] for v in per_page.values()]
    return {
        "first_load_s": round(first_load, 2),
        "first_visit_s": cold,
        "switches": len(all_d),
        "dashboard_median_s": round(statistics.median(all_d), 3),
        "bare_median_s": round(statistics.median(all_b), 3),
        "ratio_of_medians": round(statistics.median(all_d) / statistics.median(all_b), 2),
        "geomean_page_ratio": round(statistics.geometric_mean(ratios), 2),
        # CPU the server spent per switch (script run, serialising, sending): steadier than wall time on a
        # shared machine
        "dashboard_server_cpu_median_s": round(statistics.median([x for v in d_cpu.values() for x in v]), 3),
        "bare_server_cpu_median_s": round(statistics.median([x for v in b_cpu.values() for x in v]), 3),
        "per_page": per_page,
        "elements": specs,
    }


def _pick(watcher: RunWatcher, label: str, option: str) -> float:
    """Add `option` to the sidebar multiselect `label`; seconds until the server has finished the run and
    the page is redrawn (nothing stale, a chart shown where the page has one)."""
    page = watcher.page
    box = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text=label)
    field = box.locator("input")
    field.click()  # the text field, not the box (a click there could land on a chosen value's remove button)
    field.fill(option)
    opt = page.get_by_role("option", name=option, exact=True)
    opt.wait_for()
    ready = READY_JS if _has_chart(page) else IDLE_JS
    runs = watcher.finished
    t = time.perf_counter()
    opt.click()
    watcher.wait_past(runs)
    page.wait_for_function(ready, arg="\u0000", polling="raf", timeout=TIMEOUT_MS)
    took = time.perf_counter() - t
    page.keyboard.press("Escape")
    return took


# (page, sidebar filter, option added): each step a filter combination not seen before in the session
FILTER_STEPS = (
    ("Overview", "Channel", "Web"),
    ("Overview", "Channel", "App"),
    ("Overview", "Journey", "Direct"),
    ("Collections", "Journey", "Homepage"),
    ("Collections", "Channel", "Marketplace"),
    ("Journeys", "Journey", "Google Shopping"),
)


def measure_filters(browser, root: Path, n_orders: int) -> dict:
    """A new filter combination on a large generated dataset (RI_DEMO_ORDERS orders, about 2 lines each).

    The page is opened (with the filters so far, untimed when it was shown before), then a sidebar filter
    gets a value never chosen before and the time runs until the page is redrawn."""
    out: dict = {"orders": n_orders, "steps": [], "page_after_filter_s": {}}
    with serve_process(root, "dashboard/app.py", env={"RI_DEMO_ORDERS": str(n_orders)}) as (url, proc):
        t = time.perf_counter()
        w = _open(browser, url)
        out["first_load_s"] = round(time.perf_counter() - t, 2)
        _log(f"  first load of {n_orders:,} orders: {out['first_load_s']} s")
        for title in ("Collections", "Journeys", "Overview"):  # warm: each page drawn once, no filter
            _log(f"  first visit {title}: {_switch(w, title, IDLE_JS):.2f} s")
        shown = "Overview"
        for title, label, option in FILTER_STEPS:
            if title != shown:
                # the page shown first after a filter change computes everything for the new combination
                c = server_cpu(proc.pid)
                took = _switch(w, title, IDLE_JS)
                cpu = server_cpu(proc.pid) - c
                out["page_after_filter_s"][title] = {"s": round(took, 3), "server_cpu_s": round(cpu, 2)}
                _log(f"  {title} after the filter change: {took:.2f} s ({cpu:.2f} s CPU)")
                shown = title
            c = server_cpu(proc.pid)
            took = _pick(w, label, option)
            cpu = server_cpu(proc.pid) - c
            out["steps"].append(
                {"page": title, "added": f"{label}: {option}", "s": round(took, 3), "server_cpu_s": round(cpu, 2)}
            )
            _log(f"  {title}, new filter {label} + {option}: {took:.2f} s ({cpu:.2f} s CPU)")
        w.page.context.close()
    times = [s["s"] for s in out["steps"]]
    out["new_filter_median_s"] = round(statistics.median(times), 3)
    out["new_filter_max_s"] = round(max(times), 3)
    out["new_filter_server_cpu_median_s"] = round(statistics.median(s["server_cpu_s"] for s in out["steps"]), 2)
    return out


def main(argv: list[str] | None = None) -> dict:
    """`python -m bench.bench_browser [--root DIR] [--rounds N] [--orders N] [--no-switch] [--no-filters]`."""
    argv = list(sys.argv[1:] if argv is None else argv)

    def arg(name: str, default: str) -> str:
        return argv[argv.index(name) + 1] if name in argv else default

    root = Path(arg("--root", str(ROOT))).resolve()
    if not Path(CHROMIUM).exists():
        msg = f"skipped: Chromium not found at {CHROMIUM}"
        print(msg)
        return {"skipped": msg}
    from playwright.sync_api import sync_playwright

    result: dict = {"dashboard_root": str(root), "load_average": os.getloadavg()}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            if "--no-switch" not in argv:
                result["page_switch"] = measure(browser, root, int(arg("--rounds", str(ROUNDS))))
            if "--no-filters" not in argv:
                result["new_filter"] = measure_filters(browser, root, int(arg("--orders", str(FILTER_ORDERS))))
        finally:
            browser.close()
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
