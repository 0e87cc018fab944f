"""A "Country" column is a country, not a channel: the real Online Retail II export's Journeys page showed its
40 countries under "By channel" and the sidebar offered them as channels. Country is now its own role (header
matching, the transactions layout) with its own sidebar filter."""

from __future__ import annotations

import pandas as pd

from dashboard import session as S
from tests.app.conftest import assert_clean, run_page, upload_spec


def uci_transactions():
    """A UCI-style export (InvoiceNo ... Country): 30 invoices in France, 30 in Germany, 2 lines of 4 units each
    (240 units per country); every third French invoice and every second German one has a credit note of 1 unit
    of its first line (10 and 15 returned units)."""
    rows = []
    for k, country in enumerate(("France", "Germany")):
        for i in range(30):
            inv = f"{5000 + 100 * k + i}"
            day = f"2024-0{1 + i % 6}-{1 + i % 27:02d} 10:00"
            cust = f"{12000 + 100 * k + i % 10}"
            for sku in ("85123A", "22423"):
                rows.append(
                    dict(
                        InvoiceNo=inv,
                        StockCode=sku,
                        Description=f"ITEM {sku}",
                        Quantity=4,
                        InvoiceDate=day,
                        UnitPrice=2.5,
                        CustomerID=cust,
                        Country=country,
                    )
                )
            if (country == "France" and i % 3 == 0) or (country == "Germany" and i % 2 == 0):
                rows.append(
                    dict(
                        InvoiceNo=f"C{inv}",
                        StockCode="85123A",
                        Description="ITEM 85123A",
                        Quantity=-1,
                        InvoiceDate=f"2024-0{1 + i % 6}-28 10:00",
                        UnitPrice=2.5,
                        CustomerID=cust,
                        Country=country,
                    )
                )
    rows.append(
        dict(
            InvoiceNo="9999",
            StockCode="22423",
            Description="ITEM 22423",
            Quantity=1,
            InvoiceDate="2024-12-30 10:00",
            UnitPrice=2.5,
            CustomerID="19999",
            Country="France",
        )
    )
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8")
    return upload_spec({"online_retail.csv": (data, "transactions")}, name="uci")


def test_country_is_its_own_view_and_filter_not_a_channel():
    spec, contents = uci_transactions()
    at = run_page("views/journeys.py", spec, contents)
    assert_clean(at, "journeys")
    assert at.multiselect(key=S.F_CHANNELS).disabled  # no channel in this export
    country = at.multiselect(key=S.F_COUNTRIES)
    assert not country.disabled and country.options == ["France", "Germany"]
    assert at.tabs[0].label == "By country"  # views with data first
    table = next(d.value for d in at.dataframe if "Segment" in d.value.columns)
    assert sorted(table["Segment"]) == ["France", "Germany"]
    assert table.set_index("Segment")["returned"].to_dict() == {"France": 10, "Germany": 15}

    at.switch_page("views/collections.py").run()
    at.multiselect(key=S.F_COUNTRIES).set_value(["Germany"]).run()
    assert_clean(at, "collections, Germany")
    shown = next(d.value for d in at.dataframe if "returned" in d.value.columns)
    assert int(shown["returned"].sum()) == 15  # Germany's credit notes only


def test_a_change_logged_on_channel_for_a_country_is_evaluated_by_country():
    """Before Country had a role of its own, a UCI-style file's countries were its channels, so a change logged
    then for Germany says dimension channel. The Interventions page evaluates it by country and says so, instead
    of "cannot be evaluated"."""
    from data.state import StateStore

    spec, contents = uci_transactions()
    StateStore().add_intervention(spec.workspace, "channel", "Germany", "2024-03-01", "Size advice")
    at = run_page("views/interventions.py", spec, contents)
    assert_clean(at, "interventions")
    assert any("is a country in this data" in c.value and "evaluated by country" in c.value for c in at.caption)
    assert not [w.value for w in at.warning if "cannot be evaluated" in w.value]
    assert any(m.label == "Before (descriptive)" for m in at.metric)
