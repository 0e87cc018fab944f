"""A returns export that starts after the orders (a returns app's last 90 days beside an all-time orders export):
the earlier orders were counted as never returned. On the demo exports with the returns of the first 60% of the
period dropped, the unit return rate read about half the true one; now the orders placed before the returns file's
first return are set apart (listed, with the reason), and every rate describes the orders placed since.

The expected rates are those of the complete returns file over the same orders (prepare with the same window on
the complete data, filtered to orders placed from the first return): returns of orders placed from that day are
all in the shortened file, so the two must agree exactly."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.prepare import Filters, filter_prepared, prepare
from data.demo_files import write_demo_files
from data.ingest import SourceFile, load_dataset
from data.validate import RETURNS_START_LATER


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    paths = write_demo_files(d, seed=11, n_orders=3000)
    return paths["orders_xlsx"].read_bytes(), pd.read_csv(paths["returns_csv"])


def _load(orders: bytes, returns: pd.DataFrame, name: str = "orders.xlsx"):
    return load_dataset(
        [SourceFile(name, orders, "orders"), SourceFile("returns.csv", returns.to_csv(index=False).encode(), "returns")]
    )


def test_orders_before_a_later_returns_file_are_set_apart(exports):
    orders, returns = exports
    when = pd.to_datetime(returns["Return Date"], format="mixed")
    late = returns[when >= when.min() + (when.max() - when.min()) * 0.6]
    full, short = _load(orders, returns), _load(orders, late)
    first = pd.to_datetime(late["Return Date"], format="mixed").min().normalize()
    assert any(n.startswith(RETURNS_START_LATER) for n in short.notes)
    assert not any(n.startswith(RETURNS_START_LATER) for n in full.notes)
    # every order placed before the first return is listed as such; nothing else of the orders is lost
    (of,) = [f for f in short.files if f.role == "orders"]
    # counted on the orders file alone: the demo's returns.csv holds no Marketplace return (those are in the FBA
    # report), so both loads also set the Marketplace orders placed since apart (test_returns_channels)
    before = load_dataset([SourceFile("orders.xlsx", orders, "orders")]).orders["order_date"] < first
    assert of.reconciles and of.rejected_by_kind.get("before_returns") == int(before.sum())
    assert short.orders["order_date"].min() >= first
    # the rates are the complete file's over the same orders (same window)
    a = prepare(short, window_days=40)
    b = filter_prepared(prepare(full, window_days=40), Filters(date_from=first.date()))
    am, bm = a.mature_lines, b.mature_lines
    assert int(am["quantity"].sum()) == int(bm["quantity"].sum())
    assert int(am["returned_units"].sum()) == int(bm["returned_units"].sum()) > 0


def test_a_complete_file_whose_first_orders_had_no_return_is_kept():
    # a small shop: 20 orders in its first two months without a return (at the later rate of 10% they would hold
    # about 2: Poisson gives 0 a chance of e^-2 = 14%, so nothing is set apart), then 200 orders, 1 in 10 returned
    rows, rets = [], []
    for i in range(20):
        rows.append(f"E{i},2024-01-{1 + i:02d},TEE,1,10")
    for i in range(200):
        day = pd.Timestamp("2024-03-01") + pd.Timedelta(days=i // 2)
        rows.append(f"L{i},{day:%Y-%m-%d},TEE,1,10")
        if i % 10 == 0:
            rets.append(f"L{i},{day + pd.Timedelta(days=5):%Y-%m-%d},TEE,1")
    orders = ("Order,Date,SKU,Qty,Price\n" + "\n".join(rows) + "\n").encode()
    returns = pd.DataFrame([r.split(",") for r in rets], columns=["Order", "Return Date", "SKU", "Qty"])
    ds = _load(orders, returns, "orders.csv")
    assert not any(n.startswith(RETURNS_START_LATER) for n in ds.notes)
    assert len(ds.orders) == 220 and ds.rejected.empty
