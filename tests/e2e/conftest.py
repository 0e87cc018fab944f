"""Real-browser fixtures: the real `streamlit run` server on a free port, and headless Debian Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_browser import CHROMIUM, LAUNCH_ARGS, serve_process

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run dashboard/app.py` on a free port (bench.bench_browser.serve_process, the one way this
    repository starts the app), with its state and log kept in the test's temporary folders."""
    state = tmp_path_factory.mktemp("state")
    log = tmp_path_factory.mktemp("log") / "server.log"
    try:
        with serve_process(ROOT, "dashboard/app.py", state_dir=state, log_path=log) as (url, _proc):
            yield {"url": url, "state": state, "log": log}
    except RuntimeError as exc:  # the server did not start: its log is in the message
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install it (apt-get install -y chromium) to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 2200}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


APP_IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
APP_BUSY = '[data-testid="stApp"]:not([data-test-script-state="notRunning"])'


def wait_idle(page, timeout: float = 90_000) -> None:
    """Wait on Streamlit's own run state: the app root carries `data-test-script-state`
    (initial / running / rerunRequested / notRunning) and `data-test-connection-state`.

    An action that triggers a rerun may not have flipped the state yet when this is called, so it
    first gives the run a brief chance to start (a run that already finished is fine: the wait just
    ends), then waits until the script is no longer running on a live connection."""
    try:
        page.wait_for_selector(APP_BUSY, state="attached", timeout=1_000)
    except Exception:  # noqa: BLE001 - the run was already over (or no rerun was triggered)
        pass
    page.wait_for_selector(APP_IDLE, state="attached", timeout=timeout)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test prints the tail of the Streamlit server log in its report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and "server" in getattr(item, "funcargs", {}):
        log = Path(item.funcargs["server"]["log"])
        if log.exists():
            rep.sections.append(("streamlit server log", log.read_text(errors="replace")[-8000:]))
