"""Shopify orders exports read truthfully: order refunds as the outcome, cancellations and add-ons apart,
overlapping exports once, variants split, refunds attributed to lines without bias, planted effects found.

Expected values come from the generator's own record of what it planted (data.shopify_sample.ShopifyTruth),
counted independently of the loading and analysis code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.engine import analyse
from analysis.overview import plain_summary, window_warning
from analysis.prepare import prepare
from data.ingest import SourceFile, load_dataset
from data.shopify import channel_names, split_variant
from data.shopify_sample import generate_shopify_export

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample():
    files, truth = generate_shopify_export(seed=5, n_orders=5000)
    ds = load_dataset([SourceFile(n, c) for n, c in files.items()])
    p = prepare(ds)
    return files, truth, ds, p, analyse(p, briefs=False)


def test_layout_recognised_and_every_row_accounted(sample):
    files, truth, ds, _, _ = sample
    assert [f.layout for f in ds.files] == ["shopify_orders", "shopify_orders"]
    for f in ds.files:
        assert f.reconciles
        assert f.rows_read == len(pd.read_csv(__import__("io").BytesIO(files[f.file]), dtype=str))


def test_cancellations_and_voids_are_set_apart_and_counted(sample):
    _, truth, ds, p, a = sample
    o = truth.orders
    expected = int((o["cancelled"] | o["voided"]).sum())
    assert a.totals["orders_cancelled"] == expected
    cancelled = set(o.loc[o["cancelled"] | o["voided"], "name"])
    assert not (set(ds.orders["order_id"]) & cancelled)
    assert (ds.rejected["kind"] == "cancelled").sum() > 0


def test_add_on_lines_are_not_products(sample):
    _, truth, ds, p, a = sample
    # independent count from the raw files: lines that do not require shipping in orders neither cancelled nor voided
    expected = 0
    for content in sample[0].values():
        raw = pd.read_csv(__import__("io").BytesIO(content), dtype=str, keep_default_na=False)
        first = raw.groupby("Name")[["Cancelled at", "Financial Status"]].transform("first")
        live = (first["Cancelled at"] == "") & (first["Financial Status"] != "voided")
        expected += int(((raw["Lineitem requires shipping"] == "false") & live).sum())
    assert a.totals["non_merchandise_lines"] == expected > 0
    names = set(ds.orders["product_name"].dropna())
    for addon in (
        "Package Protetion Valid in US.",
        "Free Unlimited Return Valid in US.",
        "Route Package Protection",
        "HOLIDAY GIFT CARD",
        "Tip",
    ):
        assert addon not in names
    assert not ds.orders["size"].dropna().str.startswith("$").any()
    segs = a.segments
    assert not segs["segment"].astype(str).str.contains("Protetion|Gift card|GIFT CARD|Tip$", regex=True).any()
    # buying return insurance is an order attribute that can be analysed
    assert "Return insurance" in set(segs.loc[segs["dimension"] == "addon", "segment"])


def test_overlapping_exports_count_each_order_once(sample):
    _, truth, ds, _, _ = sample
    o = truth.orders
    loaded = set(ds.orders["order_id"])
    expected = set(o.loc[~o["cancelled"] & ~o["voided"] & ~o["exchange_order"] & (o["n_items"] > 0), "name"])
    assert loaded == expected
    per_order_lines = ds.orders.groupby("order_id").size()
    truth_lines = truth.lines[truth.lines["name"].isin(expected)].groupby("name").size()
    assert per_order_lines.sort_index().tolist() == truth_lines.sort_index().tolist()
    assert ds.counts["orders_overlapping"] > 0


def test_order_refund_rate_matches_an_independent_count(sample):
    _, truth, ds, p, a = sample
    t = a.totals
    assert t["outcome"] == "order_refund" and t["unit_return_rate"] is None and t["exchange_share"] is None
    o = truth.orders
    keep = ~o["cancelled"] & ~o["voided"] & ~o["exchange_order"] & (o["n_items"] > 0)
    cutoff = o.loc[keep, "order_date"].max() - pd.Timedelta(days=p.window_days)
    mature = o[keep & (o["order_date"] <= cutoff)]
    assert t["orders"] == len(mature)
    assert t["order_refund_rate"] == pytest.approx(mature["refunded"].mean(), abs=0.01)


def test_planted_effects_reach_the_fix_list(sample):
    *_, a = sample
    fl = set(zip(a.fix_list["dimension"], a.fix_list["segment"].astype(str)))
    for planted in (
        ("intent", "bracketing"),
        ("channel", "Nordstrom"),
        ("collection", "SKINNY"),
        ("promotion", "NA40"),
    ):
        assert planted in fl, planted
    seg = a.segments.set_index(["dimension", "segment"])
    # every dimension is a rate of (attributed) units, intents too (Prepared.rate_columns)
    assert seg.loc[("intent", "bracketing"), "basis"] == "units"
    assert seg.loc[("intent", "bracketing"), "return_rate"] > 2 * seg.loc[("intent", "bracketing"), "baseline_rate"]


def test_refunds_attributed_to_lines_are_not_biased(sample):
    """Per fit (Vendor), the unit refund rate from attributed refunds vs the generator's true refunded lines."""
    _, truth, ds, p, _ = sample
    L = p.mature_lines
    est = L.groupby("collection")[["returned_units", "quantity"]].sum()
    est = est["returned_units"] / est["quantity"]
    tl = truth.lines[truth.lines["name"].isin(set(L["order_id"]))]
    true = tl.assign(r=tl["refunded"] * tl["quantity"]).groupby("vendor")[["r", "quantity"]].sum()
    true = true["r"] / true["quantity"]
    both = pd.concat([est.rename("est"), true.rename("true")], axis=1).dropna()
    assert len(both) >= 5
    assert (both["est"] - both["true"]).abs().max() < 0.02, both
    assert p.counts["refunds_attributed"] / p.counts["refunded_orders"] > 0.6


def test_variants_split_into_colour_and_size():
    v = split_variant(
        pd.Series(
            [
                "Jean - Distressed Acid Noir / 31",
                "Pant - Khaki / 30W x 32L",
                "Tee - Cool Grey / M",
                "Package Protection - $4.98",
                "Gift - $30.00 USD",
                "Belt - One Size",
                "Boot - EU 42",
                "Plain Product",
            ]
        )
    )
    assert v["size"].tolist()[:3] == ["31", "30W x 32L", "M"]
    assert pd.isna(v["size"].iloc[3]) and pd.isna(v["size"].iloc[4])
    assert v["size"].tolist()[5:7] == ["One Size", "EU 42"]
    assert v["colour"].iloc[0] == "Distressed Acid Noir"
    assert v["product"].tolist()[0] == "Jean" and v["product"].iloc[-1] == "Plain Product"


def test_bracketing_sees_two_sizes_of_one_product(sample):
    _, truth, ds, p, _ = sample
    o = p.orders.set_index("order_id")
    tb = truth.orders[(truth.orders["intent"] == "bracketing") & truth.orders["name"].isin(o.index)]
    assert (o.loc[tb["name"], "intent"] == "bracketing").mean() > 0.95


def test_numeric_sources_get_readable_names():
    assert channel_names(pd.Series(["web", "580111", "24986320897", "pos", "Nordstrom", ""])).tolist()[:5] == [
        "Online Store",
        "App 580111",
        "App 24986320897",
        "Point of Sale",
        "Nordstrom",
    ]


def test_short_export_warns_first():
    files, _ = generate_shopify_export(
        seed=2, n_orders=600, start=pd.Timestamp("2025-08-03").date(), end=pd.Timestamp("2025-09-04").date()
    )
    ds = load_dataset([SourceFile(n, c) for n, c in files.items()])
    p = prepare(ds)
    w = window_warning(p)
    assert w and "too recent" in w and "Return window" in w
    a = analyse(p, briefs=False)
    assert plain_summary(p, a.totals, a.fix_list, a.segments)[0] == w


def test_shopify_products_export_is_the_catalog():
    prod = (
        "Handle,Title,Vendor,Product Category,Type,Tags,Option1 Name,Option1 Value,Variant SKU,Variant Price\n"
        "greyson-jean,Greyson Jean,Denim Co,Apparel > Jeans,Jeans,,Size,30,GJ-30,128.00\n"
        "greyson-jean,,,,,,,32,GJ-32,128.00\n"
        "pocket-tee,Pocket Tee,Denim Co,Apparel > Shirts,Tees,,Size,M,PT-M,38.00\n"
    )
    orders = "Order,Date,SKU,Qty\nA1,2025-01-02,GJ-30,1\nA1,2025-01-02,GJ-32,1\nA2,2025-01-03,PT-M,1\n"
    ds = load_dataset([SourceFile("orders.csv", orders.encode()), SourceFile("products_export.csv", prod.encode())])
    cat = [f for f in ds.files if f.file == "products_export.csv"][0]
    assert (cat.role, cat.layout) == ("catalog", "shopify_products")
    o = ds.orders.set_index("sku")
    assert o.loc["GJ-32", "collection"] == "Jeans" and o.loc["GJ-32", "size"] == "32"
    assert o.loc["PT-M", "product_name"] == "Pocket Tee"


def test_cli_report_on_two_overlapping_exports(sample, tmp_path):
    files, truth, ds, p, a = sample
    paths = []
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        paths += ["--orders", str(tmp_path / name)]
    out_json = tmp_path / "s.json"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "report",
            *paths,
            "--json",
            str(out_json),
            "--out",
            str(tmp_path / "fix.xlsx"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "order refund rate" in res.stdout and "Unit return rate: not in the data" in res.stdout
    d = json.loads(out_json.read_text())
    assert d["totals"]["order_refund_rate"] == pytest.approx(a.totals["order_refund_rate"])
    assert d["totals"]["unit_return_rate"] is None and d["totals"]["orders_cancelled"] == a.totals["orders_cancelled"]
    fl = {(r["dimension"], r["segment"]) for r in d["fix_list"]}
    assert ("intent", "bracketing") in fl and ("channel", "Nordstrom") in fl
    assert all(s["basis"] == "units" for s in d["segments"] if s["dimension"] in ("intent", "channel"))
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "fix.xlsx", read_only=True)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert summary["Order refund rate (mature orders)"] == pytest.approx(a.totals["order_refund_rate"])
    assert summary["Unit return rate (mature orders)"] == "not in your data"


def test_a_drill_down_with_no_rest_has_no_comparison_rate(sample):
    """SKINNY holds one product: the product has nothing to be compared with inside it (seen as '-Infinity')."""
    from analysis.segments import segment_table

    _, _, _, p, _ = sample
    t = segment_table(p, "product", cost_per_return=10.0, within=("collection", "SKINNY"))
    assert len(t) == 1 and int(t["rest_n"].iloc[0]) == 0
    assert pd.isna(t["baseline_rate"].iloc[0]) and t["verdict"].iloc[0] == "within noise"
