"""Money in more than one currency: an Amazon EU seller's All Orders report (EUR, GBP, SEK marketplaces) or a
Shopify store selling in several currencies gave one "returned value" and one cost per return adding euros to
pounds, unannounced. The load report warns per file, and the Overview's summary and the CLI say it once.

Expected shares are counted here from the written file with pandas, not by the loader."""

from __future__ import annotations


import pandas as pd
import pytest

from analysis.overview import plain_summary
from analysis.engine import analyse
from analysis.prepare import prepare
from data.ingest import SourceFile, load_dataset
from tests.unit.shopify_raw import order_kinds, raw_export
from data.validate import MIXED_CURRENCIES


@pytest.fixture(scope="module")
def export():
    name, _, raw = raw_export(seed=11, n_orders=800)
    return name, raw


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_one_file_in_two_currencies_is_said_with_its_shares(export):
    name, raw = export
    raw = raw.copy()
    named = raw.index[raw["Currency"] != ""]  # Shopify names the currency on an order's first line only
    raw.loc[named[::4], "Currency"] = "EUR"
    ds = load_dataset([SourceFile(name, _csv(raw), "orders")])
    # the lines the loader keeps are those of live orders; among them, the ones naming a currency
    live = raw[order_kinds(raw)["live"] & (raw["Currency"] != "")]
    eur = (live["Currency"] == "EUR").mean()
    probs = [p for p in ds.problems if p.title == "Several currencies in one file"]
    assert len(probs) == 1 and probs[0].file == name and probs[0].column == "Currency"
    assert f"EUR {eur:.0%}" in probs[0].message and f"USD {1 - eur:.0%}" in probs[0].message
    note = next(n for n in ds.notes if n.startswith(MIXED_CURRENCIES))
    p = prepare(ds)
    a = analyse(p, briefs=False)
    assert note in plain_summary(p, a.totals, a.fix_list, a.segments)


def test_two_files_each_in_its_own_currency_are_said_once(export):
    name, raw = export
    half = raw["Name"].isin(raw["Name"].drop_duplicates().iloc[::2])
    a, b = raw[half].copy(), raw[~half].copy()
    b.loc[b["Currency"] != "", "Currency"] = "GBP"
    ds = load_dataset([SourceFile("us.csv", _csv(a), "orders"), SourceFile("uk.csv", _csv(b), "orders")])
    assert not [p for p in ds.problems if p.title == "Several currencies in one file"]  # each file is one currency
    notes = [n for n in ds.notes if n.startswith(MIXED_CURRENCIES)]
    assert len(notes) == 1 and "USD" in notes[0] and "GBP" in notes[0]


def test_one_currency_says_nothing(export):
    name, raw = export
    ds = load_dataset([SourceFile(name, _csv(raw), "orders")])
    assert not [n for n in ds.notes if n.startswith(MIXED_CURRENCIES)]
    assert not [p for p in ds.problems if "currencies" in p.title]


def test_an_amazon_style_lowercase_currency_column_is_read():
    rows = []
    for i in range(40):
        cur = ("EUR", "GBP", "SEK")[i % 3]
        rows.append(
            {
                "amazon-order-id": f"302-{i:07d}-1",
                "purchase-date": f"2024-03-{1 + i % 27:02d}T10:00:00+00:00",
                "order-status": "Shipped",
                "sku": f"SKU-{i % 5}",
                "product-name": f"Shirt {i % 5}",
                "quantity": "1",
                "currency": cur,
                "item-price": "20.00",
            }
        )
    tsv = pd.DataFrame(rows).to_csv(index=False, sep="\t").encode()
    ds = load_dataset([SourceFile("all_orders.txt", tsv, "orders")])
    prob = next(p for p in ds.problems if p.title == "Several currencies in one file")
    assert prob.column == "currency" and "3 currencies" in prob.message


def test_two_stores_exports_under_the_same_file_name_are_both_counted(export):
    # Shopify names every orders export orders_export_1.csv: two stores' exports (USD and GBP) arrive under one
    # name, and the second must not replace the first in the count of currencies
    name, raw = export
    half = raw["Name"].isin(raw["Name"].drop_duplicates().iloc[::2])
    a, b = raw[half].copy(), raw[~half].copy()
    b.loc[b["Currency"] != "", "Currency"] = "GBP"
    ds = load_dataset([SourceFile(name, _csv(a), "orders"), SourceFile(name, _csv(b), "orders")])
    notes = [n for n in ds.notes if n.startswith(MIXED_CURRENCIES)]
    assert len(notes) == 1 and "USD" in notes[0] and "GBP" in notes[0]


def test_words_that_are_no_currency_are_not_counted(export):
    name, raw = export
    raw = raw.copy()
    named = raw.index[raw["Currency"] != ""]
    raw.loc[named[::5], "Currency"] = "TBD"  # a placeholder, not a currency
    ds = load_dataset([SourceFile(name, _csv(raw), "orders")])
    assert not [n for n in ds.notes if n.startswith(MIXED_CURRENCIES)]
