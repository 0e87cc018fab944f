"""The workbook's Method sheet describes what the analysis did, for the outcome of the data.

It said 'pooled two-proportion z-test on the effective counts; for small segments Fisher's exact test on orders'
while no segment is tested so any more (the Segments sheet's Test column of the real Online Retail II export
reads 'exact mid-p', 'fisher', 'one order carries most returns', 'fewer than 5 returning orders'), 'Return rate =
returned units / units sold' on a Shopify orders export whose rates are refunded units / units sold, and 'shrunk
toward the typical rate of the dimension' where analysis.segments.eb_shrink centres on each segment's comparison
rate. One definition: the sheet names every test the Segments sheet shows, in the data's outcome.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from analysis.engine import analyse
from analysis.export import fixlist_xlsx
from analysis.prepare import prepare
from data.demo import generate_dataset
from tests.builders import make_dataset


def _sheets(a) -> tuple[dict[str, str], set[str]]:
    wb = openpyxl.load_workbook(io.BytesIO(fixlist_xlsx(a)), read_only=True)
    method = {str(r[0]): str(r[1]) for r in wb["Method"].iter_rows(min_row=2, values_only=True) if r[0]}
    seg = list(wb["Segments"].iter_rows(values_only=True))
    col = seg[0].index("Test")
    return method, {str(r[col]) for r in seg[1:] if r[col]}


def _explained(method: dict[str, str], test: str) -> bool:
    return any(f"'{test}'" in text for text in method.values())


def test_every_test_of_the_segments_sheet_is_explained_and_no_test_that_is_not_run():
    a = analyse(prepare(generate_dataset(seed=3, n_orders=3000)), briefs=False)
    method, tests = _sheets(a)
    assert tests, "the demo's Segments sheet names its tests"
    for t in tests:
        assert _explained(method, t), (t, method["p (higher) / test"])
    # every z row is re-tested by the exact mid-p (analysis.segments.compare_segments)
    assert "pooled two-proportion z-test on the effective counts" not in method["p (higher) / test"]
    assert "Fisher's exact test on orders" not in method["p (higher) / test"]
    assert "comparison" in method["Shrunk rate"] and "typical rate of the dimension" not in method["Shrunk rate"]


def test_the_gates_are_explained_where_they_fire():
    # the test_fixlist_real_signals case: one order of 5,000 units, 4,800 sent back, at a fair whose own 400
    # orders return like the web's; and a product bought in four orders, returned in two of them
    from tests.unit.test_fixlist_carried import _rows

    rows, rets = _rows(web_every=12, fair_every=12)  # its 5 late orders now come before the RARE ones: same rows
    for i in range(4):
        rows.append(
            {
                "order_id": f"R{i}",
                "order_date": "2024-01-05",
                "sku": "RARE",
                "quantity": 3,
                "unit_price": 10.0,
                "channel": "Web",
                "customer_id": f"r{i}",
            }
        )
    rets += [{"order_id": "R0", "sku": "RARE", "quantity": 3}, {"order_id": "R1", "sku": "RARE", "quantity": 3}]
    a = analyse(prepare(make_dataset(rows, pd.DataFrame(rets)), window_days=30), briefs=False)
    method, tests = _sheets(a)
    assert {"one order carries most returns", "fewer than 5 returning orders"} <= tests, tests
    for t in tests:
        assert _explained(method, t), (t, method["p (higher) / test"])


def test_the_rate_is_described_in_the_data_s_outcome():
    from data.ingest import SourceFile, load_dataset
    from data.shopify_sample import generate_shopify_export

    files, _ = generate_shopify_export(seed=7, n_orders=1500)  # a Shopify orders export: refunds per order only
    p = prepare(load_dataset([SourceFile(n, c) for n, c in files.items()]))
    assert p.outcome == "order_refund"
    method, _ = _sheets(analyse(p, briefs=False))
    assert method["Return rate"].startswith("Refunded units / units sold"), method["Return rate"]
