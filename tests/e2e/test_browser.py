"""A user's path through the real app in headless Chromium: upload, map, look, download, log a change."""

from __future__ import annotations


import openpyxl
import pytest

from data import demo
from data.demo import write_demo_files
from tests.e2e.conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

PAGES = [
    "Overview",
    "Collections",
    "Intents",
    "Combinations",
    "Journeys",
    "Reasons & outcomes",
    "Trends",
    "Fix list",
    "Interventions",
    "Upload & map",
]


HEADINGS = {"Intents": "Customer intents", "Combinations": "Items bought together", "Journeys": "Journeys and channels"}


def _nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    # the new page has really rendered: its own heading is on screen
    page.get_by_role("heading", name=HEADINGS.get(title, title), exact=True).first.wait_for()
    wait_idle(page)


def _no_exception(page, where: str) -> None:
    exc = page.get_by_test_id("stException")
    assert exc.count() == 0, f"{where}: exception shown: {exc.first.inner_text()[:500]}"


def test_upload_map_browse_download(server, page, tmp_path):
    files = write_demo_files(tmp_path, seed=11, n_orders=2500)
    page.goto(server["url"] + "/upload")
    wait_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
        [str(files["orders_xlsx"]), str(files["returns_csv"])]
    )
    wait_idle(page)
    page.get_by_text("detected layout", exact=False).first.wait_for()
    shot(page, "01-upload-mapped")
    page.get_by_role("button", name="Load data").click()
    wait_idle(page)
    page.get_by_text("to see the results", exact=False).first.wait_for()  # the success message after loading
    page.get_by_text("rows read =", exact=False).first.wait_for()  # the reconciliation line of the report
    _no_exception(page, "upload")
    shot(page, "02-upload-validated")

    _nav(page, "Collections")
    page.locator(".js-plotly-plot").first.wait_for(state="visible")
    _no_exception(page, "Collections")
    # our own dataset, loaded through the UI: the sidebar names the uploaded file, not the demo
    page.get_by_text(files["orders_xlsx"].name, exact=False).first.wait_for()
    assert demo.DATASET_NAME not in page.content()
    shot(page, "03-collections")

    for title in PAGES:
        _nav(page, title)
        _no_exception(page, title)
        shot(page, "page-" + title.lower().replace(" & ", "-").replace(" ", "-"))

    _nav(page, "Fix list")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Fix list workbook (Excel)").click()
    path = tmp_path / "fix.xlsx"
    dl.value.save_as(path)
    wb = openpyxl.load_workbook(path, read_only=True)
    assert {"Fix list", "Summary", "Segments", "Method"} <= set(wb.sheetnames)
    rows = list(wb["Fix list"].iter_rows(values_only=True))
    header = [str(h).lower() for h in rows[0]]
    assert any("segment" in h for h in header)
    assert len(rows) >= 2, "the planted collections should produce at least one fix-list row"
    segments = {str(r[header.index(next(h for h in header if "segment" in h))]) for r in rows[1:]}
    assert segments & {"Linen Shirts", "Smart Lighting", "bracketing", "Bracketing (several sizes)"}, segments


def test_intervention_survives_reload(server, page):
    page.goto(server["url"] + "/interventions")
    wait_idle(page)
    _no_exception(page, "Interventions")
    form = page.get_by_test_id("stForm").first
    form.get_by_label("Segment").click()
    page.get_by_role("option", name="Linen Shirts").click()
    form.get_by_label("Description").fill("Size advice banner e2e")
    form.get_by_role("button", name="Add intervention").click()
    wait_idle(page)
    page.get_by_text("Size advice banner e2e").first.wait_for(state="attached")
    page.reload()
    wait_idle(page)
    page.get_by_text("Size advice banner e2e").first.wait_for(state="attached")
    _no_exception(page, "Interventions after reload")
    shot(page, "04-interventions-after-reload")
