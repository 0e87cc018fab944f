"""The Overview of orders without any returns: the rates are Unknown with what to add, no 0% monthly line is
drawn and the fix list does not say "no segment returns more" (tests/unit/test_no_returns_loaded.py holds the
numbers)."""

from __future__ import annotations

import pytest

from tests.app.conftest import PAGES, assert_clean, run_page, upload_spec
from tests.unit.test_no_returns_loaded import ORDERS


def test_overview_says_unknown_without_returns():
    spec, contents = upload_spec({"ebay.csv": (ORDERS.to_csv(index=False).encode(), "orders")})
    at = run_page("views/overview.py", spec, contents)
    assert_clean(at, "overview without returns")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Unit return rate"] == "Unknown" and metrics["Order return rate"] == "Unknown"
    assert metrics["Units sold"] != "Unknown"
    infos = [i.value for i in at.info]
    assert "No monthly return rate to draw: return rates are not known (said above)." in infos
    assert "Nothing to rank: return rates are not known (said above)." in infos
    assert not any("0.0%" in m.value for m in at.markdown)


@pytest.mark.parametrize("page", [p for p in PAGES if p not in ("views/overview.py", "views/upload.py")])
def test_rate_pages_say_not_known_and_show_no_rates(page):
    spec, contents = upload_spec({"ebay.csv": (ORDERS.to_csv(index=False).encode(), "orders")})
    at = run_page(page, spec, contents)
    assert_clean(at, page)
    assert any("No returns are loaded, so return rates are not known" in w.value for w in at.warning)
    assert not at.dataframe and not at.metric  # no table or figure of rates that were never loaded
    assert not any("%" in m.value for m in at.markdown)


def test_returns_that_match_no_order_are_said_not_called_zero():
    # five return lines of another store's order numbers: the pages said 0.0%; now not known, and why
    import pandas as pd

    rets = pd.DataFrame({"Order Number": [f"X{i}" for i in range(5)], "SKU": ["A"] * 5, "Quantity": [1] * 5})
    spec, contents = upload_spec(
        {
            "ebay.csv": (ORDERS.to_csv(index=False).encode(), "orders"),
            "returns.csv": (rets.to_csv(index=False).encode(), "returns"),
        }
    )
    at = run_page("views/overview.py", spec, contents)
    assert_clean(at, "overview, returns matching nothing")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Unit return rate"] == "Unknown"
    said = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "none of the 5 return lines loaded matches an order" in said
    assert not any("0.0%" in m.value for m in at.markdown)
    at = run_page("views/collections.py", spec, contents)
    assert_clean(at, "collections, returns matching nothing")
    assert any("none of the 5 return lines loaded matches an order" in w.value for w in at.warning)
