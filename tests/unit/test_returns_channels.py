"""A returns file that covers only some sales channels (Amazon's FBA customer-returns report beside an orders
export of every channel): the other channels' orders were counted as never returned.

Seen in review on the demo's orders.xlsx (Web, App, Marketplace) with fba_customer_returns.tsv (Marketplace
orders only): the headline said returns are 2.3% of units (133 of 5,806), the fix list's first row read
'Marketplace: returns 14.5% vs 0.0% for the rest' with 'excess cost 11,273', and the Overview's meeting text
repeated it - the Web and App orders' returns were never in the file. Now a channel with no return at all, whose
orders should hold at least 5 orders with a return at the other channels' rate (Poisson P(0) < 1%), is set apart
like orders placed before a returns file starts: listed with the reason, said in a headline note, and every rate
describes the channels the returns cover. Expected: the Marketplace rate of the same data before the set-apart
(prepare on the complete orders, filtered to Marketplace, same window)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from analysis.prepare import prepare
from data.demo_files import write_demo_files
from data.ingest import SourceFile, load_dataset
from data.validate import HEADLINE_NOTES, RETURNS_CHANNELS


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    paths = write_demo_files(d, seed=11, n_orders=3000)
    return paths["orders_xlsx"].read_bytes(), paths["returns_fba_tsv"].read_bytes()


def test_channels_the_returns_file_does_not_cover_are_set_apart(exports):
    orders, fba = exports
    ds = load_dataset([SourceFile("orders.xlsx", orders, "orders"), SourceFile("fba.tsv", fba, "returns")])
    whole = load_dataset([SourceFile("orders.xlsx", orders, "orders")])
    assert RETURNS_CHANNELS in HEADLINE_NOTES
    (note,) = [n for n in ds.notes if n.startswith(RETURNS_CHANNELS)]
    assert "Marketplace" in note and "Web" in note and "App" in note
    (of,) = [f for f in ds.files if f.role == "orders"]
    other = whole.orders["channel"] != "Marketplace"
    assert of.reconciles and of.rejected_by_kind.get("channel_not_in_returns") == int(other.sum()) > 0
    assert set(ds.orders["channel"]) == {"Marketplace"}
    # the rates are those of the Marketplace orders alone beside the same returns (same window)
    raw = pd.read_excel(io.BytesIO(orders), sheet_name="Orders")
    only = raw[raw["Channel"] == "Marketplace"].to_csv(index=False).encode()
    alone = load_dataset([SourceFile("orders.csv", only, "orders"), SourceFile("fba.tsv", fba, "returns")])
    assert not any(n.startswith(RETURNS_CHANNELS) for n in alone.notes)
    a, b = prepare(ds, window_days=40).mature_lines, prepare(alone, window_days=40).mature_lines
    assert int(a["quantity"].sum()) == int(b["quantity"].sum())
    assert int(a["returned_units"].sum()) == int(b["returned_units"].sum()) > 0


def test_a_small_channel_without_returns_is_kept():
    # 200 web orders, 1 in 10 returned; 20 wholesale orders with none: at 10% they would hold about 2 (Poisson
    # gives 0 a chance of e^-2 = 14%): too few to tell, so nothing is set apart
    rows, rets = [], []
    for i in range(220):
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=i // 2)
        ch = "Wholesale" if i >= 200 else "Web"
        rows.append(f"O{i},{day:%Y-%m-%d},TEE,1,10,{ch}")
        if i < 200 and i % 10 == 0:
            rets.append(f"O{i},{day + pd.Timedelta(days=5):%Y-%m-%d},TEE,1")
    orders = ("Order,Date,SKU,Qty,Price,Channel\n" + "\n".join(rows) + "\n").encode()
    returns = ("Order,Return Date,SKU,Qty\n" + "\n".join(rets) + "\n").encode()
    ds = load_dataset([SourceFile("orders.csv", orders, "orders"), SourceFile("returns.csv", returns, "returns")])
    assert not any(n.startswith(RETURNS_CHANNELS) for n in ds.notes)
    assert len(ds.orders) == 220 and ds.rejected.empty
