"""The demo generator: deterministic, canonical, internally consistent, and carrying its planted stories.

Every expected effect is re-measured here with plain pandas groupbys on the raw frames (independent of
analysis/), on orders old enough that all their returns have happened (order_date <= end - 45 days).
Thresholds sit well inside the planted sizes declared in data.demo.PLANTED and well outside the
sampling noise at 45,000 orders (e.g. Linen Shirts ~7,000 units: SE of a rate difference ~0.006).
"""

from __future__ import annotations

import csv
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pytest

from data import demo
from data.model import Dataset
from data.schema import CATALOG, INTERVENTIONS, ORDERS, RETURNS

END = date(2026, 10, 31)
DTYPES = {"str": "string", "date": "datetime64[ns]", "int": "int64", "float": "float64"}


@pytest.fixture(scope="module")
def frames():
    return demo.generate_frames(seed=7, n_orders=45_000)


@pytest.fixture(scope="module")
def mature(frames):
    """Order lines of orders placed >= 45 days before the end, with their returned units."""
    orders, returns, _, _ = frames
    lines = orders[orders["order_date"] <= pd.Timestamp(END) - pd.Timedelta(days=45)]
    ret = returns.groupby(["order_id", "sku"], as_index=False)["quantity"].sum().rename(columns={"quantity": "ret"})
    lines = lines.merge(ret, on=["order_id", "sku"], how="left")
    return lines.assign(ret=lines["ret"].fillna(0).astype("int64"))


def unit_rate(lines: pd.DataFrame) -> float:
    return float(lines["ret"].sum() / lines["quantity"].sum())


def rate_by(lines: pd.DataFrame, col: str) -> pd.Series:
    g = lines.groupby(col)[["ret", "quantity"]].sum()
    return g["ret"] / g["quantity"]


# ---------------------------------------------------------------- determinism, schema, Dataset
def test_same_seed_same_frames_other_seed_differs():
    a = demo.generate_frames(seed=3, n_orders=1_500)
    b = demo.generate_frames(seed=3, n_orders=1_500)
    c = demo.generate_frames(seed=4, n_orders=1_500)
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y)
    assert not a[0].equals(c[0])
    assert not a[1].equals(c[1])


def test_frames_have_canonical_columns_and_dtypes(frames):
    for df, table in zip(frames, (ORDERS, RETURNS, CATALOG, INTERVENTIONS)):
        assert tuple(df.columns) == table.names
        for col in table.columns:
            assert str(df[col.name].dtype) == DTYPES[col.dtype], (table.name, col.name, df[col.name].dtype)
            if col.dtype == "date":
                assert (df[col.name] == df[col.name].dt.normalize()).all()
            if col.required:
                assert df[col.name].notna().all(), (table.name, col.name)
    orders = frames[0]
    assert orders["intent"].isna().all()  # not in real exports: prepare derives it
    assert orders["order_date"].min() >= pd.Timestamp(2025, 5, 1)
    assert orders["order_date"].max() <= pd.Timestamp(END)


def test_generate_dataset_builds_a_reconciled_demo_dataset():
    ds = demo.generate_dataset(seed=1, n_orders=2_000)
    assert isinstance(ds, Dataset)
    assert ds.name == "Demo: Northwind Living (generated)"
    assert any("generated" in n.lower() for n in ds.notes)
    assert {f.role for f in ds.files} == {"orders", "returns", "catalog", "interventions"}
    for f in ds.files:
        assert f.layout == "demo" and f.rows_read == f.rows_loaded and f.rows_rejected == 0 and f.reconciles
    assert dict(zip((f.role for f in ds.files), (f.rows_loaded for f in ds.files)))["orders"] == len(ds.orders)
    for frame in (ds.rejected, ds.unmatched_returns, ds.excluded):
        assert list(frame.columns) == ["file", "row", "kind", "reason", "data"] and frame.empty
    assert ds.orders["order_id"].nunique() == 2_000
    assert ds.content_hash and ds.content_hash != demo.generate_dataset(seed=2, n_orders=2_000).content_hash


@pytest.mark.parametrize("kwargs", [{"n_orders": 0}, {"n_orders": -5}, {"n_orders": 2.5}, {"months": 1}])
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError, match="must be"):
        demo.generate_frames(**kwargs)


# ---------------------------------------------------------------- internal consistency
def test_returns_never_exceed_units_bought_and_dates_are_plausible(frames):
    orders, returns, catalog, _ = frames
    bought = orders.groupby(["order_id", "sku"])["quantity"].sum()
    assert not orders.duplicated(["order_id", "sku"]).any()
    back = returns.groupby(["order_id", "sku"])["quantity"].sum()
    joined = back.to_frame("ret").join(bought.rename("bought"), how="left")
    assert joined["bought"].notna().all()  # every return matches a purchase
    assert (joined["ret"] <= joined["bought"]).all()
    assert (returns["quantity"] >= 1).all()
    odate = orders.drop_duplicates("order_id").set_index("order_id")["order_date"]
    days = (returns["return_date"] - returns["order_id"].map(odate)).dt.days
    assert days.between(2, 45).all() and (days <= 30).mean() > 0.9
    assert (returns["return_date"] <= pd.Timestamp(END)).all()
    assert returns["return_id"].notna().all()
    assert set(orders["sku"]) <= set(catalog["sku"]) and catalog["sku"].is_unique


def test_basket_mix_is_realistic(frames):
    orders = frames[0]
    per_order = orders.groupby("order_id").agg(units=("quantity", "sum"), colls=("collection", "nunique"))
    single = (per_order["units"] == 1).mean()
    assert 0.35 <= single <= 0.45  # "about 40% single-item orders"
    assert (per_order["colls"] >= 3).mean() > 0.05  # some full-refresh baskets
    assert set(orders["channel"]) == set(demo.CHANNELS) and set(orders["journey"]) == set(demo.JOURNEYS)
    visits = orders.drop_duplicates("order_id").groupby("customer_id").size()
    assert (visits >= 2).mean() > 0.2  # repeat customers exist
    month = orders.drop_duplicates("order_id")["order_date"].dt.month.value_counts()
    assert month[12] > 1.3 * month[2]  # December peak over February


def test_resolutions_refunds_and_exchanges(frames):
    orders, returns, catalog, _ = frames
    res = returns["resolution"]
    assert {"Refund", "refund", "Exchange", "Store credit", "Gift card"} <= set(res.dropna())
    exch = returns[res.str.lower() == "exchange"]
    assert exch["exchange_sku"].notna().all() and (exch["refund_amount"] == 0).all()
    assert returns.loc[res.str.lower() != "exchange", "exchange_sku"].isna().all()
    price = orders.set_index(["order_id", "sku"])["unit_price"]
    refunds = returns[res.str.lower() == "refund"]
    paid = price.reindex(pd.MultiIndex.from_frame(refunds[["order_id", "sku"]])).to_numpy() * refunds["quantity"]
    assert (refunds["refund_amount"].to_numpy() <= paid.to_numpy() + 1e-9).all()
    assert (np.isclose(refunds["refund_amount"].to_numpy(), paid.to_numpy())).mean() > 0.85
    assert returns["reason"].isna().mean() > 0.01 and returns["comment"].notna().mean() == pytest.approx(0.3, abs=0.08)


# ---------------------------------------------------------------- planted stories, measured independently
def test_overall_rate_and_null_segments(mature):
    assert 0.12 <= unit_rate(mature) <= 0.17
    by_channel = rate_by(mature, "channel")  # channels are null: all within 2 pp
    assert by_channel.max() - by_channel.min() < 0.02
    coll = rate_by(mature, "collection")
    assert abs(coll["Cotton Tees"] - coll["Knitwear"]) < 0.03  # two null Tops collections
    assert abs(coll["Rain Coats"] - coll["Wool Coats"]) < 0.04
    assert coll["Table Lamps"] < coll["Cotton Tees"]  # home returns less than apparel


def test_linen_shirts_run_small(mature, frames):
    tops = mature[mature["category"] == "Tops"]
    linen = tops[tops["collection"] == "Linen Shirts"]
    others = tops[tops["collection"] != "Linen Shirts"]
    assert unit_rate(linen) - unit_rate(others) > 0.05  # planted +0.09
    returns, catalog = frames[1], frames[2]
    lr = returns[returns["sku"].isin(catalog.loc[catalog["collection"] == "Linen Shirts", "sku"])]
    small = lr["reason"].str.contains("small|tight|klein|petit", case=False, na=False) | (
        lr["reason"].isna() & lr["comment"].str.contains("small|size up", case=False, na=False)
    )
    assert small.mean() > 0.35
    rank = catalog.set_index("sku")["size"].map({s: i for i, s in enumerate(("XS", "S", "M", "L", "XL"))})
    ex = lr[lr["exchange_sku"].notna()]
    up = ex["exchange_sku"].map(rank) - ex["sku"].map(rank)
    assert len(ex) > 50 and (up == 1).mean() > 0.6  # exchanged mostly one size up


def test_smart_lighting_confuses_at_setup(mature, frames):
    lighting = mature[mature["category"] == "Lighting"]
    smart = lighting["collection"] == "Smart Lighting"
    assert unit_rate(lighting[smart]) - unit_rate(lighting[~smart]) > 0.04  # planted +0.07
    returns, catalog = frames[1], frames[2]
    sr = returns[returns["sku"].isin(catalog.loc[catalog["collection"] == "Smart Lighting", "sku"])]
    setup = sr["reason"].str.contains(
        "app|instruction|set it up|install|assembl|montage|INSTALLATION", case=False, na=False
    )
    assert setup.mean() > 0.4


def test_tiktok_journey_returns_more(mature):
    tik = mature["journey"] == "TikTok campaign"
    assert unit_rate(mature[tik]) - unit_rate(mature[~tik]) > 0.05  # planted +0.08


def test_dresses_with_sandals_interaction(mature):
    flags = pd.DataFrame(
        {
            "order_id": mature["order_id"],
            "dress": mature["collection"] == "Summer Dresses",
            "sandal": mature["collection"] == "Sandals",
        }
    )
    has = flags.groupby("order_id")[["dress", "sandal"]].any()
    cells = mature.join(has, on="order_id").groupby(["dress", "sandal"])[["ret", "quantity"]].sum()
    p = cells["ret"] / cells["quantity"]
    n_pair_orders = int((has["dress"] & has["sandal"]).sum())
    assert n_pair_orders >= 300
    additive = p[(True, False)] + p[(False, True)] - p[(False, False)]
    assert p[(True, True)] - additive > 0.05  # planted +0.10 on the pair orders' units


def test_bracketing_orders_send_most_sizes_back(mature):
    sizes = mature.groupby(["order_id", "product_name"])["size"].nunique()
    bracket_orders = sizes[sizes >= 2].index.get_level_values(0).unique()
    bl = mature[mature["order_id"].isin(bracket_orders)]
    br_lines = bl.set_index(["order_id", "product_name"]).index.isin(sizes[sizes >= 2].index)
    assert len(bracket_orders) > 1_000
    assert unit_rate(bl[br_lines]) > 0.4


def test_hiking_jackets_fall_after_the_fit_guide(frames, mature):
    iv = frames[3]
    assert list(iv["segment"]) == ["Hiking Jackets"]
    assert iv["description"].iloc[0] == "Fit guide video and size advice on product pages"
    launch = iv["start_date"].iloc[0]
    assert launch == pd.Timestamp(demo.INTERVENTION["start_date"])
    assert 6 <= (pd.Timestamp(END) - launch).days / 30.4 <= 8  # ~7 months before the end
    outer = mature[mature["category"] == "Outerwear"].assign(post=lambda d: d["order_date"] >= launch)
    r = outer.groupby(["collection", "post"])[["ret", "quantity"]].sum()
    rate = r["ret"] / r["quantity"]
    assert rate[("Hiking Jackets", False)] == pytest.approx(0.24, abs=0.03)
    assert rate[("Hiking Jackets", True)] == pytest.approx(0.16, abs=0.03)
    observed = rate[("Hiking Jackets", True)] - rate[("Hiking Jackets", False)]
    assert observed == pytest.approx(demo.INTERVENTION["true_effect"], abs=0.03)  # the declared effect is the data's
    for control in ("Rain Coats", "Wool Coats"):
        assert abs(rate[(control, True)] - rate[(control, False)]) < 0.04


def test_small_noisy_ceramics(frames, mature):
    orders = frames[0]
    lec = orders[orders["collection"] == "Limited Edition Ceramics"]
    assert 40 <= lec["quantity"].sum() <= 80
    table = mature[mature["category"] == "Tableware"]
    is_lec = table["collection"] == "Limited Edition Ceramics"
    assert unit_rate(table[is_lec]) > 1.3 * unit_rate(table[~is_lec])  # raw rate looks high


def test_planted_declarations_agree_with_the_generated_data(mature):
    """PLANTED's declared sizes are what the generated lines show (bracketed lines, which follow their own
    mechanism, left out); observed by hand from the frames, so a declaration that drifts from the generator fails."""
    segs = {(p.dimension, p.segment): p for p in demo.PLANTED}
    sizes = mature.groupby(["order_id", "product_name"])["size"].nunique()
    bracketed = mature.set_index(["order_id", "product_name"]).index.isin(sizes[sizes >= 2].index)
    lines = mature[~bracketed]
    for name in ("Linen Shirts", "Smart Lighting"):  # elevated against the rest of their category
        seg = lines[lines["collection"] == name]
        rest = lines[(lines["category"] == seg["category"].iloc[0]) & (lines["collection"] != name)]
        assert unit_rate(seg) - unit_rate(rest) == pytest.approx(segs[("collection", name)].size, abs=0.02), name
    tik = lines["journey"] == "TikTok campaign"
    assert unit_rate(lines[tik]) - unit_rate(lines[~tik]) == pytest.approx(
        segs[("journey", "TikTok campaign")].size, abs=0.02
    )
    # the pair is named as the fix list names pairs: the two collections in alphabetical order
    assert ("combination", " + ".join(sorted(("Summer Dresses", "Sandals")))) in segs


def test_null_variant_has_no_planted_effects():
    orders, returns, _, _ = demo.generate_frames(seed=5, n_orders=20_000, null=True)
    lines = orders[orders["order_date"] <= pd.Timestamp(END) - pd.Timedelta(days=45)]
    back = returns.groupby(["order_id", "sku"])["quantity"].sum().rename("ret")
    lines = lines.join(back, on=["order_id", "sku"]).fillna({"ret": 0})
    coll = rate_by(lines, "collection").drop("Limited Edition Ceramics")
    assert coll.max() - coll.min() < 0.05
    assert unit_rate(lines) == pytest.approx(demo.NULL_RATE, abs=0.015)
    jr = rate_by(lines, "journey")
    assert jr.max() - jr.min() < 0.04


# ---------------------------------------------------------------- raw export files
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo_files")
    return demo.write_demo_files(d, seed=11, n_orders=1_200)


def test_write_demo_files_layouts(files):
    assert set(files) == {
        "orders_xlsx",
        "orders_shopify_csv",
        "returns_csv",
        "returns_fba_tsv",
        "catalog_csv",
        "interventions_csv",
    }
    orders, returns, catalog, _ = demo.generate_frames(seed=11, n_orders=1_200)

    wb = openpyxl.load_workbook(files["orders_xlsx"], read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == demo.ORDERS_XLSX_COLUMNS
    assert len(rows) - 1 == len(orders)
    assert hasattr(rows[1][1], "year")  # a real Excel date, not text

    shop = pd.read_csv(files["orders_shopify_csv"], dtype=str, keep_default_na=False)
    for col in (
        "Name",
        "Email",
        "Financial Status",
        "Created at",
        "Lineitem quantity",
        "Lineitem name",
        "Lineitem price",
        "Lineitem sku",
        "Refunded Amount",
        "Source",
    ):
        assert col in shop.columns
    first = ~shop["Name"].duplicated()
    assert (shop.loc[first, "Created at"] != "").all() and (shop.loc[~first, "Created at"] == "").all()
    assert (shop.loc[~first, "Email"] == "").all() and (~first).sum() > 100
    assert shop["Name"].nunique() == orders.loc[orders["channel"] != "Marketplace", "order_id"].nunique()
    assert shop["Lineitem name"].str.contains(" - ").any()

    raw = files["returns_csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, as Excel saves CSV
    rc = pd.read_csv(files["returns_csv"], dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert tuple(rc.columns) == demo.RETURNS_CSV_COLUMNS
    dates = rc["Return Date"]
    assert dates.str.len().isin([10, 16]).all() and (dates.str.len() == 16).any() and (dates.str.len() == 10).any()
    assert pd.to_datetime(dates, format="ISO8601").notna().all()

    with open(files["returns_fba_tsv"], newline="", encoding="utf-8") as fh:
        fba_rows = list(csv.reader(fh, delimiter="\t"))
    assert tuple(fba_rows[0]) == demo.FBA_COLUMNS and all(len(r) == len(demo.FBA_COLUMNS) for r in fba_rows)
    assert len(rc) + len(fba_rows) - 1 == len(returns)  # the two returns files hold every return once
    fba = pd.DataFrame(fba_rows[1:], columns=fba_rows[0])
    assert fba["order-id"].str.fullmatch(r"\d{3}-\d{7}-\d{7}").all()

    cat = pd.read_csv(files["catalog_csv"], dtype=str)
    assert tuple(cat.columns) == demo.CATALOG_CSV_COLUMNS and len(cat) == len(catalog)
    iv = pd.read_csv(files["interventions_csv"], dtype=str)
    assert list(iv.columns) == ["dimension", "segment", "start_date", "description"]
    assert iv.loc[0, "segment"] == "Hiking Jackets"
