"""Overview figures and intent views against independent plain-pandas computations on the demo data."""

import pandas as pd
import pytest

from analysis.intents import bracketing_story, intent_mix
from analysis.overview import headline, monthly, plain_summary
from analysis.prepare import prepare
from data.demo import generate_dataset


@pytest.fixture(scope="module")
def prepared():
    return prepare(generate_dataset(seed=2, n_orders=6000))


def test_headline_compares_last_90_matured_days_with_the_90_before(prepared):
    h = headline(prepared)
    lines = prepared.lines[prepared.lines["mature"]]
    end = lines["order_date"].max()
    cur = lines[lines["order_date"] > end - pd.Timedelta(days=90)]
    prev = lines[
        (lines["order_date"] > end - pd.Timedelta(days=180)) & (lines["order_date"] <= end - pd.Timedelta(days=90))
    ]
    assert h.unit_rate == pytest.approx(cur["returned_units"].sum() / cur["quantity"].sum())
    assert h.unit_rate_prev == pytest.approx(prev["returned_units"].sum() / prev["quantity"].sum())
    orders = prepared.orders[prepared.orders["mature"]]
    cur_o = orders[orders["order_date"] > end - pd.Timedelta(days=90)]
    assert h.order_rate == pytest.approx((cur_o["returned_units"] > 0).mean())


def test_headline_on_a_short_history_has_no_change():
    from analysis.prepare import filter_prepared, Filters

    p = prepare(generate_dataset(seed=2, n_orders=6000))
    last = p.lines["order_date"].max()
    short = filter_prepared(p, Filters(date_from=last - pd.Timedelta(days=120)))
    h = headline(short)
    assert h.unit_rate_prev is None and h.order_rate_prev is None
    lines = short.lines[short.lines["mature"]]
    assert h.unit_rate == pytest.approx(lines["returned_units"].sum() / lines["quantity"].sum())


def test_monthly_series(prepared):
    m = monthly(prepared).set_index("month")
    g = prepared.lines.groupby(prepared.lines["order_date"].dt.to_period("M").dt.start_time)
    expected = g["returned_units"].sum() / g["quantity"].sum()
    pd.testing.assert_series_equal(m["rate"], expected, check_names=False)
    assert m["provisional"].iloc[-1] and not m["provisional"].iloc[0]


def test_intent_mix_rows_are_unit_shares(prepared):
    mix = intent_mix(prepared)
    lines = prepared.lines[prepared.lines["mature"]]
    linen = lines[lines["collection"] == "Linen Shirts"]
    exp = linen.groupby("intent")["quantity"].sum() / linen["quantity"].sum()
    for intent, share in exp.items():
        assert mix.loc["Linen Shirts", intent] == pytest.approx(share)
    assert ((mix.sum(axis=1) - 1).abs() < 1e-9).all()


def test_bracketing_story(prepared):
    bs = bracketing_story(prepared)
    lines = prepared.lines[prepared.lines["mature"]]
    b = lines[lines["intent"] == "bracketing"]
    assert bs.bracketing_orders == b["order_id"].nunique()
    assert bs.kept_share == pytest.approx(1 - b["returned_units"].sum() / b["quantity"].sum())
    assert bs.avg_variants >= 2


def test_plain_summary_is_three_to_five_sentences(prepared):
    from analysis.engine import analyse

    a = analyse(prepared)
    s = plain_summary(prepared, a.totals, a.fix_list, a.segments)
    assert 3 <= len(s) <= 5
    assert s[0].startswith(f"Returns are {a.totals['unit_return_rate']:.1%} of units")
    assert "[" not in " ".join(s)  # no Python reprs leak into the text


def test_order_level_refunds_from_a_shopify_export(tmp_path):
    from analysis.overview import order_refunds
    from data.demo import write_demo_files
    from data.ingest import SourceFile, load_dataset

    path = write_demo_files(tmp_path, seed=5, n_orders=1500)["orders_shopify_csv"]
    p = prepare(load_dataset([SourceFile(path.name, path.read_bytes())]))
    t = order_refunds(p).set_index(["dimension", "segment"])
    # independent: the export's own Refunded Amount on each order's first row, matured orders only
    raw = pd.read_csv(path)
    first = raw.drop_duplicates("Name").set_index("Name")
    refunded = pd.to_numeric(first["Refunded Amount"], errors="coerce").fillna(0)
    mature = set(p.orders.loc[p.orders["mature"], "order_id"])
    refunded = refunded[refunded.index.astype(str).isin(mature)]
    assert t.loc[("all", "All orders"), "orders"] == len(refunded)
    assert t.loc[("all", "All orders"), "refunded_orders"] == int((refunded > 0).sum())
    assert t.loc[("all", "All orders"), "refunded_value"] == pytest.approx(float(refunded.sum()))
    assert any(d == "channel" for d, _ in t.index)  # Shopify's Source column gives the channel
