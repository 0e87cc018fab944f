"""Orders without any returns (no returns file, no credit notes, no refund column): an eBay orders report alone
read "units returned 0, unit return rate 0.0%, order return rate 0.0%" in the CLI and on the Overview, under a
banner that said return rates are not known. Unknown is not zero: the rates are None, the summary and the CLI say
what to add, and a returns file whose lines all fail to match still gives a known 0 (with its own warning)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.cli import main
from analysis.engine import analyse
from analysis.metrics import unknown_reason
from analysis.overview import plain_summary
from analysis.prepare import prepare
from data.ingest import SourceFile, load_dataset

ORDERS = pd.DataFrame(
    {
        "Order Number": [f"A{i}" for i in range(200) for _ in range(2)],
        "Sale Date": [f"2024-0{1 + i % 6}-{1 + i % 27:02d}" for i in range(200) for _ in range(2)],
        "Custom Label": ["DRESS-10", "COAT-M"] * 200,
        "Quantity": [1, 1] * 200,
        "Sold For": [24.99, 59.0] * 200,
    }
)


def _orders_only():
    return load_dataset([SourceFile("ebay.csv", ORDERS.to_csv(index=False).encode(), "orders")])


def test_rates_are_unknown_not_zero_without_returns():
    p = prepare(_orders_only(), window_days=30)
    a = analyse(p, briefs=False)
    t = a.totals
    for k in ("unit_return_rate", "order_return_rate", "units_returned", "returned_value", "value_return_rate"):
        assert t[k] is None, k
        assert "no returns are loaded" in str(unknown_reason(k, t)), k
    assert t["units_sold"] == int(p.mature_lines["quantity"].sum()) > 0 and t["orders"] > 0  # what is known stays
    summary = plain_summary(p, t, a.fix_list, a.segments)
    assert any(s.startswith("Return rates are not known") for s in summary)
    assert not any("0.0%" in s for s in summary)


def test_cli_says_not_known_instead_of_zero(tmp_path, capsys):
    f = tmp_path / "ebay.csv"
    ORDERS.to_csv(f, index=False)
    assert main(["report", "--orders", str(f)]) == 0
    out = capsys.readouterr().out
    assert "WARNING: Return rates are not known: no returns are loaded" in out
    assert "Unit return rate n/a | order return rate n/a" in out and "0.0%" not in out
    # the handling cost alone is not a cost of returns this data shows
    assert "cost per returned unit n/a (no returns loaded)" in out


def test_a_returns_file_that_matches_nothing_is_not_a_zero():
    # returns whose order numbers match no order (another store's, Amazon's order ids beside a Shopify export, a
    # different period) say nothing of these orders' returns: the CLI and the Overview read "Unit return rate
    # 0.0%" under a warning; the rates are unknown, with the reason
    returns = pd.DataFrame({"Order Number": ["X1", "X2", "X3", "X4", "X5"], "SKU": ["A"] * 5, "Quantity": [1] * 5})
    ds = load_dataset(
        [
            SourceFile("ebay.csv", ORDERS.to_csv(index=False).encode(), "orders"),
            SourceFile("returns.csv", returns.to_csv(index=False).encode(), "returns"),
        ]
    )
    p = prepare(ds, window_days=30)
    t = analyse(p, briefs=False).totals
    assert t["unit_return_rate"] is None and t["units_returned"] is None
    assert any(n.startswith("Most return lines matched no order") for n in p.notes)
    why = str(unknown_reason("unit_return_rate", t))
    assert why.startswith("Not known: none of the 5 return lines loaded matches an order"), why


def test_shopify_refunds_are_read_when_the_returns_file_matches_nothing():
    # a Shopify orders export beside an Amazon FBA returns report: every FBA order id is Amazon's, so no return
    # matches; Shopify's own refunds (Refunded Amount) are then the outcome, not a 0% return rate
    from data.shopify_sample import generate_shopify_export

    files, _ = generate_shopify_export(seed=1, n_orders=400)
    fba = pd.DataFrame(
        {
            "return-date": ["2024-03-01T10:00:00+00:00"] * 6,
            "order-id": [f"111-000000{i}-000000{i}" for i in range(6)],
            "sku": ["X"] * 6,
            "quantity": [1] * 6,
            "reason": ["UNWANTED_ITEM"] * 6,
        }
    )
    sources = [SourceFile(name, content, "orders") for name, content in files.items()]
    sources.append(SourceFile("fba_returns.tsv", fba.to_csv(index=False, sep="\t").encode(), "returns"))
    p = prepare(load_dataset(sources))
    assert p.outcome == "order_refund"
    t = analyse(p, briefs=False).totals
    assert t["order_refund_rate"] is not None and t["order_refund_rate"] > 0


def test_a_returns_file_with_no_rows_is_not_a_zero():
    # a returns export of the wrong period (header only) says nothing of returns: the rates stay unknown, and the
    # file's warning says why and what to export
    header = b"Order Number,Custom Label,Quantity,Return Date\n"
    ds = load_dataset(
        [
            SourceFile("ebay.csv", ORDERS.to_csv(index=False).encode(), "orders"),
            SourceFile("returns.csv", header, "returns"),
        ]
    )
    t = analyse(prepare(ds, window_days=30), briefs=False).totals
    assert t["unit_return_rate"] is None and t["units_returned"] is None
    assert any(p.title == "No return lines" and p.file == "returns.csv" for p in ds.problems)


@pytest.mark.parametrize("seed", [1])
def test_the_demo_keeps_its_rates(seed):
    from data.demo import generate_dataset

    t = analyse(prepare(generate_dataset(seed=seed, n_orders=1500)), briefs=False).totals
    assert 0 < t["unit_return_rate"] < 1 and t["units_returned"] > 0
