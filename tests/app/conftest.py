"""AppTest helpers: run a page of the real app with a chosen dataset in session state."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import session as S

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"

PAGES = [
    "views/overview.py",
    "views/collections.py",
    "views/intents.py",
    "views/combinations.py",
    "views/journeys.py",
    "views/reasons.py",
    "views/trends.py",
    "views/fixlist.py",
    "views/interventions.py",
    "views/upload.py",
]


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    """Each test gets its own state folder (presets, interventions); the store is rebuilt for it."""
    from dashboard.presets import preset_store

    monkeypatch.setenv("RI_STATE_DIR", str(tmp_path / "state"))
    preset_store.clear()
    yield
    preset_store.clear()


def upload_spec(files: dict[str, tuple[bytes, str]], mapping_json: str = "", name: str = "test upload"):
    """files: name -> (bytes, role). Returns (spec, contents) to put in session state."""
    refs, contents = [], {}
    for fname, (data, role) in files.items():
        h = hashlib.sha256(data).hexdigest()
        contents[h] = data
        refs.append(S.UploadedRef(name=fname, sha256=h, role=role, sheet=None))
    return S.DatasetSpec(kind="upload", files=tuple(refs), mapping_json=mapping_json, name=name), contents


TITLES = {
    "views/overview.py": "Overview",
    "views/collections.py": "Collections",
    "views/intents.py": "Customer intents",
    "views/combinations.py": "Items bought together",
    "views/journeys.py": "Journeys and channels",
    "views/reasons.py": "Reasons & outcomes",
    "views/trends.py": "Trends",
    "views/fixlist.py": "Fix list",
    "views/interventions.py": "Interventions",
    "views/upload.py": "Upload & map",
}


def run_page(page: str, spec=None, contents=None, timeout: float = 120) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if spec is not None:
        at.session_state[S.DATASET_SPEC] = spec
        at.session_state[S.UPLOAD_BYTES] = contents or {}
    at.switch_page(page)
    at.run()
    # the router really ran this page (AppTest falls back to the default page on a path it cannot match)
    if page in TITLES and not at.exception and at.title:
        assert at.title[0].value == TITLES[page], f"{page}: ran '{at.title[0].value}' instead"
    return at


def assert_clean(at: AppTest, page: str) -> None:
    assert not at.exception, f"{page}: exception element {[e.value for e in at.exception]}"
    errors = [e.value for e in at.error]
    assert not errors, f"{page}: error elements {errors}"
