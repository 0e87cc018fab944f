"""analysis.reasons on a constructed shop with planted effects.

Planted: Linen Shirts come back mostly for SIZE_TOO_SMALL and are exchanged one size up; a Linen Shirt
bought with a Belt returns far less (15 % vs 50 %); lamps come back for setup confusion.
Expected numbers are recomputed here with plain pandas + statsmodels/scipy, not with analysis.stats.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis import reasons as R
from analysis.prepare import prepare
from tests.builders import make_dataset

dataset_from_rows = make_dataset  # canonical Dataset from plain rows (tests/builders.py)


SIZES = ["S", "M", "L"]
UP = {"S": "M", "M": "L", "L": "XL"}
SCRIPT_COMMENT = "<script>alert('x')</script> far too small *really* [link](http://x)"


def shop_rows(seed: int = 7, n_orders: int = 1200, *, with_reasons: bool = True) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(seed)
    orders, rets = [], []
    start = pd.Timestamp("2024-01-01")
    for i in range(n_orders):
        oid = f"O{i:05d}"
        date = start + pd.Timedelta(days=int(i * 180 / n_orders))
        journey = "TikTok" if rng.random() < 0.3 else "Search"
        base = {"order_id": oid, "order_date": date, "customer_id": f"C{i}", "channel": "web", "journey": journey}
        lines = []
        belt = rng.random() < 0.35
        if rng.random() < 0.6:
            size = SIZES[int(rng.integers(0, 3))]
            lines.append(("Linen Shirts", "Linen Shirt", size, f"LS-{size}", 40.0))
        else:
            size = SIZES[int(rng.integers(0, 3))]
            lines.append(("Tees", "Basic Tee", size, f"TE-{size}", 15.0))
        if belt:
            lines.append(("Belts", "Leather Belt", "M", "BELT-M", 25.0))
        if rng.random() < 0.25:
            lines.append(("Smart Lighting", "Smart Lamp", None, "LAMP", 60.0))
        for coll, prod, size, sku, price in lines:
            orders.append(
                {
                    **base,
                    "sku": sku,
                    "quantity": 1,
                    "unit_price": price,
                    "product_name": prod,
                    "collection": coll,
                    "size": size,
                }
            )
            ret = {"order_id": oid, "sku": sku, "quantity": 1, "return_date": date + pd.Timedelta(days=9)}
            u = rng.random()
            if prod == "Linen Shirt" and u < (0.15 if belt else 0.5):
                small = rng.random() < 0.7
                exch = small and rng.random() < 0.6
                ret.update(
                    reason="SIZE_TOO_SMALL" if small else "COLOR",
                    comment="Runs small across the chest" if small else "Colour looked different",
                    resolution="Exchange" if exch else "Refund",
                    exchange_sku=f"LS-{UP[size]}" if exch else None,
                )
            elif prod == "Basic Tee" and u < 0.2:
                ret.update(reason="UNWANTED" if rng.random() < 0.6 else "Too big", comment=None, resolution="Refund")
            elif prod == "Smart Lamp" and u < 0.3:
                ret.update(reason="OTHER", comment="Couldn't set it up with the app", resolution="Store credit")
            elif prod == "Leather Belt" and u < 0.05:
                ret.update(reason="UNWANTED", resolution="Refund")
            else:
                continue
            if not with_reasons:
                for k in ("reason", "comment", "resolution", "exchange_sku"):
                    ret.pop(k, None)
            rets.append(ret)
    # one hostile comment, for escaping tests downstream
    for r in rets:
        if r.get("reason") == "SIZE_TOO_SMALL":
            r["comment"] = SCRIPT_COMMENT
            break
    # an XL line so that L -> XL exchanges resolve to a known SKU
    orders.append(
        {
            "order_id": "OXL",
            "order_date": start,
            "customer_id": "CXL",
            "channel": "web",
            "journey": "Search",
            "sku": "LS-XL",
            "quantity": 1,
            "unit_price": 40.0,
            "product_name": "Linen Shirt",
            "collection": "Linen Shirts",
            "size": "XL",
        }
    )
    return orders, rets


@pytest.fixture(scope="module")
def shop():
    o, r = shop_rows()
    return prepare(dataset_from_rows(o, r)), o, r


@pytest.fixture(scope="module")
def bare_shop():
    o, r = shop_rows(with_reasons=False)
    return prepare(dataset_from_rows(o, r))


def test_reason_mix_shares_match_plain_pandas(shop):
    p, _, _ = shop
    mix = R.reason_mix(p, "collection", "Linen Shirts")
    r = p.returns[p.returns["collection"] == "Linen Shirts"]
    expected = r.groupby("reason_category")["quantity"].sum() / r["quantity"].sum()
    got = mix.table.set_index("reason_category")["share"]
    assert got.to_dict() == pytest.approx(expected.to_dict())
    assert mix.dominant == "size_too_small"
    # every Linen Shirt reason (size, colour) is preventable by guidance
    assert mix.preventable_share == pytest.approx(1.0)
    overall = R.reason_mix(p)
    assert overall.units == pytest.approx(float(p.returns["quantity"].sum()))
    lamp = R.reason_mix(p, "collection", "Smart Lighting")
    assert lamp.dominant == "setup_confusion"  # OTHER + comment -> comment keyword
    tees = R.reason_mix(p, "collection", "Tees")
    # Tees: changed_mind is customer choice, 'Too big' preventable
    prevent = p.returns[(p.returns["collection"] == "Tees")]
    exp_prev = (prevent["reason_group"] == "preventable").mean()
    assert tees.preventable_share == pytest.approx(exp_prev)


def test_reasons_vs_rest_equals_statsmodels_and_scipy(shop):
    p, _, _ = shop
    out = R.reasons_vs_rest(p, "collection")
    r = p.returns
    ct = pd.crosstab(r["collection"], r["reason_category"], values=r["quantity"], aggfunc="sum").fillna(0)
    pvals, keys = [], []
    for seg in ct.index:
        for cat in ct.columns:
            x1, n1 = ct.loc[seg, cat], ct.loc[seg].sum()
            x2, n2 = ct[cat].sum() - x1, ct.values.sum() - n1
            table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
            e = np.outer(table.sum(1), table.sum(0)) / table.sum()
            if e.min() >= 5:  # METHOD 2.2 switching rule
                _, pv = proportions_ztest([x1, x2], [n1, n2], alternative="larger")
            else:
                _, pv = fisher_exact(table, alternative="greater")
            pvals.append(pv)
            keys.append((seg, cat))
    q = multipletests(pvals, method="fdr_bh")[1]
    exp = dict(zip(keys, q))
    got = {
        (s, c): (pv, qv) for s, c, pv, qv in zip(out["segment"], out["reason_category"], out["p_value"], out["q_value"])
    }
    assert len(got) == len(exp)
    for key, pv, qv in zip(keys, pvals, q):
        assert got[key][0] == pytest.approx(pv, rel=1e-6, abs=1e-12)
        assert got[key][1] == pytest.approx(qv, rel=1e-6, abs=1e-12)
    top = out.iloc[0]
    assert top["q_value"] < 1e-6
    # the most significant over-representations are the planted ones
    sig = set(zip(out.loc[out["q_value"] < 0.01, "segment"], out.loc[out["q_value"] < 0.01, "reason_category"]))
    assert ("Linen Shirts", "size_too_small") in sig and ("Smart Lighting", "setup_confusion") in sig
    rec = R.vs_rest_records(out)
    assert set(rec[0]) == {"dimension", "segment", "reason_category", "returned", "share", "rest_share", "q_value"}
    assert rec[0]["dimension"] == "collection"


def test_reasons_vs_rest_two_sided(shop):
    p, _, _ = shop
    out = R.reasons_vs_rest(p, "journey", alternative="two-sided")
    r = p.returns
    x1 = r.loc[(r["journey"] == "TikTok") & (r["reason_category"] == "size_too_small"), "quantity"].sum()
    n1 = r.loc[r["journey"] == "TikTok", "quantity"].sum()
    x2 = r.loc[(r["journey"] != "TikTok") & (r["reason_category"] == "size_too_small"), "quantity"].sum()
    n2 = r.loc[r["journey"] != "TikTok", "quantity"].sum()
    _, pv = proportions_ztest([x1, x2], [n1, n2], alternative="two-sided")  # statsmodels, pooled
    row = out[(out["segment"] == "TikTok") & (out["reason_category"] == "size_too_small")].iloc[0]
    assert row["test"] == "z"
    assert row["p_value"] == pytest.approx(pv, rel=1e-9)


def test_resolution_by_segment(shop):
    p, _, _ = shop
    out = R.resolution_by_segment(p, "collection").set_index("segment")
    r = p.returns[p.returns["collection"] == "Linen Shirts"]
    exch = (r["resolution_category"] == "exchange").sum()
    assert out.loc["Linen Shirts", "exchange_share"] == pytest.approx(exch / len(r))
    assert out.loc["Linen Shirts", "saved_revenue"] == pytest.approx(40.0 * exch)
    size_ref = ((r["reason_category"] == "size_too_small") & (r["resolution_category"] == "refund")).sum()
    assert out.loc["Linen Shirts", "size_refunds"] == size_ref
    assert out.loc["Smart Lighting", "store_credit_share"] == pytest.approx(1.0)
    # Tees: 'Too big' (size) always refunded -> an exchange was plausible
    assert bool(out.loc["Tees", "refund_though_exchange_plausible"])
    # Linen Shirts: ~60 % of size returns are exchanged -> not flagged at the 50 % rule
    assert not bool(out.loc["Linen Shirts", "refund_though_exchange_plausible"])


def test_exchange_targets_finds_size_up(shop):
    p, _, rets = shop
    out = R.exchange_targets(p, "Linen Shirt", top=None)
    n_exch = sum(1 for r in rets if r.get("exchange_sku"))
    assert out["exchanges"].sum() == n_exch
    assert set(out["kind"]) == {"size_up"}
    summ = R.exchange_kind_summary(p)
    assert summ.iloc[0]["kind"] == "size_up" and summ.iloc[0]["share"] == pytest.approx(1.0)


def test_exchange_kinds_and_size_rank(shop):
    assert R.size_rank("xl") == ("letter", 6.0)
    assert R.size_rank("2XL") > R.size_rank("XL")
    assert R.size_rank("38")[1] < R.size_rank("40")[1]
    assert R.size_rank("One size") is None
    assert R._size_move("M", "S") == "size_down"
    assert R._size_move("M", "42") is None  # letter vs numeric cannot be ordered


def test_complete_the_set_finds_planted_belt(shop):
    p, _, _ = shop
    out = R.complete_the_set(p, "collection", "Linen Shirts", by="collection")
    belt = out[out["item"] == "Belts"].iloc[0]
    assert bool(belt["pairs_well"])
    assert belt["rate_with"] < belt["rate_without"]
    # independent: plain pandas on matured lines + statsmodels
    L = p.mature_lines
    shirts = L[L["collection"] == "Linen Shirts"]
    belt_orders = set(L.loc[L["collection"] == "Belts", "order_id"])
    w = shirts[shirts["order_id"].isin(belt_orders)]
    wo = shirts[~shirts["order_id"].isin(belt_orders)]
    assert belt["orders_with"] == w["order_id"].nunique()
    assert belt["rate_with"] == pytest.approx(w["returned_units"].sum() / w["quantity"].sum())
    assert belt["rate_without"] == pytest.approx(wo["returned_units"].sum() / wo["quantity"].sum())

    # on Rao-Scott effective counts: each side's design effect over its orders, by hand (Rao & Scott 1992)
    def deff(part):
        t = part.groupby("order_id")[["returned_units", "quantity"]].sum()
        y, m = t["returned_units"].to_numpy(float), t["quantity"].to_numpy(float)
        M, k = m.sum(), len(m)
        q = y.sum() / M
        v = k / (k - 1) * ((y - q * m) ** 2).sum() / M**2
        return max(v / (q * (1 - q) / M), 1.0)

    d1, d2 = deff(w), deff(wo)
    assert max(d1, d2) > 1.0  # orders of several shirts: the correction is real here
    x1, n1 = w["returned_units"].sum() / d1, w["quantity"].sum() / d1
    x2, n2 = wo["returned_units"].sum() / d2, wo["quantity"].sum() / d2
    lo, hi = proportion_confint(x1, n1, method="wilson")
    assert (belt["ci_low"], belt["ci_high"]) == pytest.approx((lo, hi))
    _, pv = proportions_ztest([x1, x2], [n1, n2], alternative="smaller")
    assert belt["p_value"] == pytest.approx(pv, rel=1e-9)
    # the lamp is bought with shirts too but does not change their return rate -> not a pairing
    lamp = out[out["item"] == "Smart Lighting"]
    assert lamp.empty or not bool(lamp.iloc[0]["pairs_well"])


def test_complete_the_set_support_gate(shop):
    p, _, _ = shop
    out = R.complete_the_set(p, "collection", "Linen Shirts", min_orders=10_000)
    assert out.empty and "10000" in out.attrs["message"]


def test_example_comments_plain_trimmed(shop):
    p, _, _ = shop
    cs = R.example_comments(p, "collection", "Linen Shirts", category="size_too_small", k=5)
    assert 1 <= len(cs) <= 5 and len(set(cs)) == len(cs)
    assert all("\n" not in c and len(c) <= 240 for c in cs)
    assert R.clean_comment("a\n\tb  " + "x" * 300, max_chars=20) == "a b " + "x" * 15 + "\u2026"
    with pytest.raises(ValueError):
        R.example_comments(p, "collection", "Linen Shirts", category="nonsense")


def test_missing_columns_give_messages(bare_shop):
    p = bare_shop
    mix = R.reason_mix(p)
    assert mix.table.empty and "'reason'" in mix.message
    vs = R.reasons_vs_rest(p, "collection")
    assert vs.empty and "'reason'" in vs.attrs["message"]
    res = R.resolution_by_segment(p, "collection")
    assert res.empty and "'resolution'" in res.attrs["message"]
    ex = R.exchange_targets(p)
    assert ex.empty and "'exchange_sku'" in ex.attrs["message"]
    assert R.example_comments(p, "collection", "Linen Shirts") == []
    frames = R.export_frames(p)
    assert "message" in frames["Reasons"].columns and "message" in frames["Exchanges"].columns


def test_export_frames(shop):
    p, _, _ = shop
    frames = R.export_frames(p)
    assert {"Reasons", "Exchanges"} <= set(frames)
    assert (frames["Reasons"]["scope"] == "All returns").any()
    assert frames["Exchanges"]["exchanges"].sum() > 0


def test_bad_dimension_raises(shop):
    p, _, _ = shop
    with pytest.raises(ValueError, match="Unknown dimension"):
        R.reasons_vs_rest(p, "colour")
    assert not math.isnan(R.reason_mix(p).preventable_share)
