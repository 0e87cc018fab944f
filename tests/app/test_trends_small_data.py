"""AppTest: the Trends page on short exports (issue 13, finding 6) - one calendar month, an export that starts
mid-month, a 33-day export spanning two months, one week, one day - built with tests.builders and uploaded as CSV;
and on the first 30,000 lines of the real Online Retail II export (one month, when present)."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pandas as pd
import pytest

from dashboard import session as S
from tests.app.conftest import assert_clean, run_page, upload_spec
from tests.builders import make_dataset
from tests.conftest import REAL_DATA

TRENDS = "views/trends.py"
ORDER_COLS = ["order_id", "order_date", "sku", "quantity", "unit_price", "collection", "channel"]
RETURN_COLS = ["order_id", "sku", "quantity", "return_date"]


def _short_export(first: str, days: int, n_orders: int = 400, seed: int = 3):
    """Orders spread over `days` days from `first` (both ends present), ~20% returned 5 days later."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(first)
    offsets = rng.integers(0, days, n_orders)
    offsets[0], offsets[-1] = 0, days - 1
    orders, returns = [], []
    for i, off in enumerate(offsets):
        sku = f"S{rng.integers(0, 8)}"
        day = start + pd.Timedelta(days=int(off))
        orders.append(
            {
                "order_id": f"O{i}",
                "order_date": day,
                "sku": sku,
                "quantity": 1,
                "unit_price": 25.0,
                "collection": f"Collection {sku[-1]}",
                "channel": ["web", "app"][i % 2],
            }
        )
        if rng.random() < 0.2:
            returns.append({"order_id": f"O{i}", "sku": sku, "quantity": 1, "return_date": day + pd.Timedelta(days=5)})
    ds = make_dataset(orders, returns)
    o = ds.orders[ORDER_COLS].assign(order_date=ds.orders["order_date"].dt.strftime("%Y-%m-%d"))
    r = ds.returns[RETURN_COLS].assign(return_date=ds.returns["return_date"].dt.strftime("%Y-%m-%d"))
    return upload_spec(
        {
            "orders.csv": (o.to_csv(index=False).encode(), "orders"),
            "returns.csv": (r.to_csv(index=False).encode(), "returns"),
        },
        name=f"{days} days from {first}",
    )


def _date_inputs(at) -> dict:
    return {d.label: d.value for d in at.date_input if d.key in ("tr_wc_a", "tr_wc_b")}


@pytest.mark.parametrize(
    "first,days",
    [
        ("2025-08-01", 31),  # one calendar month: IndexError in _default_periods before
        ("2025-08-03", 20),  # starts mid-month: "The value 2025-08-01 is less than the min_value 2025-08-03" before
        ("2025-08-03", 33),  # 33 days over two months: default periods ran past both ends of the data before
        ("2025-08-11", 7),  # one week
        ("2025-08-11", 1),  # one day
    ],
)
@pytest.mark.parametrize("weekly", [False, True])
def test_trends_on_short_exports(first, days, weekly):
    spec, contents = _short_export(first, days)
    at = run_page(TRENDS, spec, contents)
    assert_clean(at, TRENDS)
    if weekly:
        at.toggle(key="tr_weekly").set_value(True).run()
        assert_clean(at, TRENDS)
    d_min, d_max = pd.Timestamp(first).date(), (pd.Timestamp(first) + pd.Timedelta(days=days - 1)).date()
    periods = _date_inputs(at)
    assert set(periods) == {"Period A (before)", "Period B (after)"}
    for a, b in periods.values():  # default periods lie inside the data, in order
        assert d_min <= a <= b <= d_max
    (_, a1), (b0, _) = periods["Period A (before)"], periods["Period B (after)"]
    if days > 1:
        assert a1 < b0  # two different stretches to compare


@pytest.mark.slow
def test_trends_on_the_first_30000_real_lines():
    if not REAL_DATA.exists():
        pytest.skip(f"real export not found at {REAL_DATA}")
    with gzip.open(REAL_DATA, "rt", encoding="utf-8", newline="") as f:
        head = "".join(line for _, line in zip(range(30_000), f)).encode("utf-8")
    h = hashlib.sha256(head).hexdigest()
    spec = S.DatasetSpec(
        kind="upload",
        files=(S.UploadedRef("online_retail_head.csv", h, None, None),),
        name="Online Retail II, first 30,000 lines",
    )
    at = run_page(TRENDS, spec, {h: head}, timeout=300)
    assert_clean(at, TRENDS)
    assert len(_date_inputs(at)) == 2
