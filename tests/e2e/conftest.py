"""Real-browser fixtures: the real `streamlit run` server on a free port, and headless Debian Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    state = tmp_path_factory.mktemp("state")
    env = dict(os.environ, RI_STATE_DIR=str(state), PYTHONPATH=str(ROOT))
    log = tmp_path_factory.mktemp("log") / "server.log"
    fh = open(log, "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "dashboard/app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=fh,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        fh.close()
        pytest.fail("streamlit did not start:\n" + log.read_text()[-4000:])
    yield {"url": url, "state": state, "log": log}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    fh.close()


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
