"""A Shopify store's two overlapping orders exports through the real app: every page tells the refund story."""

from __future__ import annotations

import pytest

from data.shopify_sample import generate_shopify_export
from tests.e2e.conftest import shot, wait_idle
from tests.e2e.test_browser import PAGES, _nav, _no_exception

pytestmark = pytest.mark.e2e


def test_shopify_exports_tell_the_refund_story_on_every_page(server, page, tmp_path):
    files, truth = generate_shopify_export(seed=9, n_orders=2500)
    paths = []
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        paths.append(str(tmp_path / name))
    page.goto(server["url"] + "/upload")
    wait_idle(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(paths)
    wait_idle(page)
    page.get_by_text("Shopify orders export", exact=False).first.wait_for()
    page.get_by_role("button", name="Load data").click()
    wait_idle(page)
    page.get_by_text("rows read =", exact=False).first.wait_for()
    _no_exception(page, "upload")
    shot(page, "shopify-01-upload")

    _nav(page, "Overview")
    text = page.inner_text("body")
    assert "Order refund rate" in text and "Not in your data" in text
    assert "Returns are 0.0%" not in text and "Nothing to fix" not in text
    shot(page, "shopify-02-overview")
    for title in PAGES:
        _nav(page, title)
        _no_exception(page, title)
        shot(page, "shopify-page-" + title.lower().replace(" & ", "-").replace(" ", "-"))
    _nav(page, "Overview")
    assert "Bracketing" in page.inner_text("body")  # the planted top fix, named in the meeting text
    _nav(page, "Journeys")
    page.get_by_role("tab", name="By channel").click()
    wait_idle(page)
    assert "App 580111" in page.inner_text("body") or page.locator(".js-plotly-plot").count() > 0
