"""Calibration of the fix list by simulation: false rows on null data, power on planted effects.

Run on demand (minutes on 2 cores; not part of the test suite):

    .venv/bin/python -m bench.calibration            # 40 demo nulls + 40 frailty nulls + planted runs
    .venv/bin/python -m bench.calibration --quick    # 10 + 10 + 10, about a minute

Two null generators, every dataset through the full pipeline (prepare -> analyse, briefs off):

* demo nulls: data.demo.generate_dataset(null=True): one true rate for every unit times a customer
  propensity (gamma, variance 0.25; customers repeat with a heavy-tailed number of orders);
* frailty nulls (this module, `frailty_dataset`): an independent generator - one true rate (10%),
  returns correlated within orders through a gamma frailty of variance 0.5, and optionally within
  customers (customer frailty variance `customer_var`); 4 categories x 4 collections x 6 products,
  sizes, 5 journeys, 3 channels, 1-4 lines per order.

Planted runs use the frailty generator with one collection at `collection_mult` x the rate (1.3x and
2x), or one pair of collections whose units return at `pair_mult` x the rate when bought together.

Printed per setting: share of datasets with >= 1 false fix-list row, mean false rows, per-view
false "clearly higher" rates (share of datasets with one in that dimension), and, for planted runs,
the power (the planted segment is on the fix list) and the mean false rows besides it.

DiD coverage and placebo rates (`did_calibration`, 5 x the datasets per setting): one logged change evaluated
by analysis.interventions.evaluate on `intervention_dataset` (different base rates, multiplicative season and
drift, collection-month noise, order frailty): the share of "reduced"/"increased" verdicts on placebos and
where only the comparison moves, the coverage of the true ratio by the 95% interval on planted effects, the
bias, and the ITS level p-values' placebo rate.
Trend test (issue 11 item 6, `trend_false_positive_rate`): monthly cohort series simulated directly at the
order level (one true rate, order frailty variance 0.5, each month's rate times 1 + 0.05 Z), passed to
analysis.trends.series_trend - the function behind the Trends page's "steady rising/falling trend" - and the
share with p < 0.05 printed, beside that of a binomial test that treats units as independent.
The latest figures are recorded in README.md ("Calibration (simulation)").
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

CATEGORIES = ("Tops", "Dresses", "Lighting", "Bedding")
COLLECTIONS_PER_CATEGORY = 4
PRODUCTS_PER_COLLECTION = 6
SIZES = ("S", "M", "L")
JOURNEYS = ("Search", "Newsletter", "Social", "Summer Sale", "Direct")
CHANNELS = ("web", "app", "marketplace")


@dataclass(frozen=True)
class Plant:
    """What a planted dataset contains: a collection with a multiplied rate, or a pair of collections whose
    units return at a multiplied rate in orders holding both. None = null dataset."""

    collection: str | None = None
    collection_mult: float = 1.0
    pair: tuple[str, str] | None = None
    pair_mult: float = 1.0
    # several collections at once, each with its own multiplier (the ranking-accuracy runs)
    collections: tuple[tuple[str, float], ...] = ()


def _catalog():
    rows = []
    for ci, cat in enumerate(CATEGORIES):
        for k in range(COLLECTIONS_PER_CATEGORY):
            coll = f"{cat} {chr(65 + k)}"
            for j in range(PRODUCTS_PER_COLLECTION):
                rows.append((cat, coll, f"{coll} product {j + 1}"))
    return pd.DataFrame(rows, columns=["category", "collection", "product_name"])


def frailty_dataset(
    seed: int,
    n_orders: int = 30_000,
    *,
    rate: float = 0.10,
    order_var: float = 0.5,
    customer_var: float = 0.0,
    plant: Plant | None = None,
):
    """A canonical Dataset in which every unit returns at `rate` x order frailty (x customer frailty),
    frailties ~ Gamma(mean 1, variance order_var / customer_var); `plant` adds one true effect."""
    from data.demo import _empty_rejected, canonical_frame
    from data.model import Dataset
    from data.schema import CATALOG, INTERVENTIONS, ORDERS, RETURNS

    rng = np.random.default_rng(seed)
    cat = _catalog()
    n_prod = len(cat)
    pop = rng.gamma(1.0, size=n_prod)
    pop /= pop.sum()
    n = int(n_orders)
    n_cust = max(1, int(n * 0.6))
    cust_w = rng.gamma(0.6, size=n_cust)
    cust = rng.choice(n_cust, size=n, p=cust_w / cust_w.sum())
    c_frail = rng.gamma(1 / customer_var, customer_var, size=n_cust) if customer_var > 0 else np.ones(n_cust)
    o_frail = rng.gamma(1 / order_var, order_var, size=n) if order_var > 0 else np.ones(n)
    k = rng.choice([1, 2, 3, 4], size=n, p=[0.45, 0.3, 0.15, 0.1])
    lo = np.repeat(np.arange(n), k)
    lp = rng.choice(n_prod, size=len(lo), p=pop)
    qty = np.where(rng.random(len(lo)) < 0.9, 1, 2)
    days = rng.integers(0, 365, size=n)
    order_date = pd.Timestamp("2025-01-01") + pd.to_timedelta(days, unit="D")
    journey = rng.choice(len(JOURNEYS), size=n, p=[0.35, 0.2, 0.2, 0.1, 0.15])
    channel = rng.choice(len(CHANNELS), size=n, p=[0.6, 0.3, 0.1])
    coll = cat["collection"].to_numpy()[lp]
    p = rate * o_frail[lo] * c_frail[cust[lo]]
    if plant is not None and plant.collection is not None:
        p = np.where(coll == plant.collection, p * plant.collection_mult, p)
    for c_name, c_mult in plant.collections if plant is not None else ():
        p = np.where(coll == c_name, p * c_mult, p)
    if plant is not None and plant.pair is not None:
        a, b = plant.pair
        has_a = np.bincount(lo[coll == a], minlength=n) > 0
        has_b = np.bincount(lo[coll == b], minlength=n) > 0
        both = (has_a & has_b)[lo] & np.isin(coll, [a, b])
        p = np.where(both, p * plant.pair_mult, p)
    ret = rng.binomial(qty, np.minimum(p, 0.95))
    order_ids = np.array([f"O{i:06d}" for i in range(n)], dtype=object)
    sku = np.array(
        [f"P{j:03d}-{SIZES[s]}" for j, s in zip(lp, rng.integers(0, len(SIZES), size=len(lo)))], dtype=object
    )
    orders = pd.DataFrame(
        {
            "order_id": order_ids[lo],
            "order_date": order_date[lo],
            "sku": sku,
            "quantity": qty,
            "unit_price": 40.0,
            "product_name": cat["product_name"].to_numpy()[lp],
            "collection": coll,
            "category": cat["category"].to_numpy()[lp],
            "size": [s.rsplit("-", 1)[1] for s in sku],
            "customer_id": np.array([f"C{c:06d}" for c in cust], dtype=object)[lo],
            "channel": np.array(CHANNELS, dtype=object)[channel][lo],
            "journey": np.array(JOURNEYS, dtype=object)[journey][lo],
        }
    )
    rl = np.flatnonzero(ret > 0)
    returns = pd.DataFrame(
        {
            "order_id": order_ids[lo[rl]],
            "sku": sku[rl],
            "quantity": ret[rl],
            "return_date": order_date[lo[rl]] + pd.Timedelta(days=10),
            "reason": "Too small",
            "resolution": "Refund",
        }
    )
    empty = _empty_rejected()
    return Dataset(
        name=f"frailty dataset {seed}",
        orders=canonical_frame(orders, ORDERS),
        returns=canonical_frame(returns, RETURNS),
        catalog=canonical_frame(pd.DataFrame(), CATALOG),
        interventions=canonical_frame(pd.DataFrame(), INTERVENTIONS),
        files=(),
        rejected=empty,
        unmatched_returns=empty,
        excluded=empty,
    )


def _run(ds, plant: Plant | None = None) -> dict:
    from analysis.engine import Settings, analyse
    from analysis.prepare import prepare

    a = analyse(prepare(ds), Settings(cost_per_return=40.0), briefs=False)
    fix = a.fix_list
    true_keys, also_true = set(), set()
    if plant is not None and plant.collection is not None:
        true_keys.add(("collection", plant.collection))
        # the planted collection's products and its category are truly higher too (nested in / containing it)
        cat = _catalog()
        mine = cat[cat["collection"] == plant.collection]
        also_true |= {("product", p) for p in mine["product_name"]} | {("category", c) for c in mine["category"]}
    if plant is not None and plant.pair is not None:
        true_keys.add(("combination", " + ".join(sorted(plant.pair))))
        # the pair's units are part of its collections (and their products and categories), which are truly higher
        cat = _catalog()
        mine = cat[cat["collection"].isin(plant.pair)]
        also_true |= (
            {("collection", c) for c in plant.pair}
            | {("product", p) for p in mine["product_name"]}
            | {("category", c) for c in mine["category"]}
        )
    keys = list(zip(fix["dimension"], fix["segment"])) if len(fix) else []
    false_rows = [k for k in keys if k not in true_keys | also_true]
    segs = a.segments
    higher = segs[segs["direction"].astype("string").fillna("") == "higher"]
    lower = segs[segs["direction"].astype("string").fillna("") == "lower"]
    false_higher = {d for d, s in zip(higher["dimension"], higher["segment"]) if (d, s) not in true_keys | also_true}
    false_lower = set(lower["dimension"])
    return {
        "false_rows": len(false_rows),
        "rows": len(keys),
        "found": bool(true_keys) and true_keys <= set(keys),
        "false_higher": false_higher,
        "false_lower": false_lower,
        "false_keys": false_rows,
    }


def summarise(name: str, results: list[dict], planted: bool = False) -> dict:
    k = len(results)
    any_false = sum(r["false_rows"] > 0 for r in results)
    mean_false = float(np.mean([r["false_rows"] for r in results])) if k else float("nan")
    per_view = Counter(d for r in results for d in r["false_higher"])
    per_view_lower = Counter(d for r in results for d in r["false_lower"])
    # the false-discovery proportion of each dataset's list (0 for an empty list), averaged: the list's FDR
    fdr = (
        float(np.mean([r["false_rows"] / r["rows"] if r.get("rows") else 0.0 for r in results])) if k else float("nan")
    )
    out = {
        "setting": name,
        "datasets": k,
        "any_false_row": any_false / k,
        "mean_false_rows": mean_false,
        "fdr": fdr,
        "false_higher_by_view": {d: c / k for d, c in sorted(per_view.items())},
        "false_lower_by_view": {d: c / k for d, c in sorted(per_view_lower.items())},
    }
    if planted:
        out["power"] = float(np.mean([r["found"] for r in results]))
    return out


def _print(s: dict) -> None:
    line = (
        f"{s['setting']:<34} n={s['datasets']:>3}  datasets with a false fix-list row: {s['any_false_row']:.3f}"
        f"  mean false rows: {s['mean_false_rows']:.3f}  list FDR: {s['fdr']:.3f}"
    )
    if "power" in s:
        line += f"  power: {s['power']:.3f}"
    print(line)
    if s["false_higher_by_view"]:
        print("    false 'higher' by view: " + ", ".join(f"{d} {v:.3f}" for d, v in s["false_higher_by_view"].items()))
    if s["false_lower_by_view"]:
        print(
            "    'lower' by view (null: all false): "
            + ", ".join(f"{d} {v:.3f}" for d, v in s["false_lower_by_view"].items())
        )
    sys.stdout.flush()


def calibrate(
    n_demo: int = 40,
    n_frailty: int = 40,
    n_planted: int = 40,
    *,
    demo_orders: int = 30_000,
    frailty_orders: int = 30_000,
    seed0: int = 1000,
) -> list[dict]:
    """Run every setting and return its summary (see module docstring)."""
    from data.demo import generate_dataset

    settings = [
        (
            "demo null (customer frailty)",
            n_demo,
            lambda s: (generate_dataset(seed=s, n_orders=demo_orders, null=True), None),
        ),
        ("frailty null (order var 0.5)", n_frailty, lambda s: (frailty_dataset(s, frailty_orders), None)),
        (
            "frailty null (+ customer var 0.3)",
            n_frailty // 2,
            lambda s: (frailty_dataset(s, frailty_orders, customer_var=0.3), None),
        ),
    ]
    plants = [
        ("planted collection 1.3x", Plant(collection="Tops B", collection_mult=1.3)),
        ("planted collection 2x", Plant(collection="Lighting C", collection_mult=2.0)),
        ("planted pair 2x (Tops A + Dresses A)", Plant(pair=("Dresses A", "Tops A"), pair_mult=2.0)),
    ]
    out = []
    for name, k, make in settings:
        t = time.perf_counter()
        res = []
        for i in range(k):
            ds, plant = make(seed0 + i)
            res.append(_run(ds, plant))
        s = summarise(name, res)
        s["seconds"] = time.perf_counter() - t
        _print(s)
        out.append(s)
    for name, plant in plants:
        t = time.perf_counter()
        res = [_run(frailty_dataset(seed0 + 500 + i, frailty_orders, plant=plant), plant) for i in range(n_planted)]
        s = summarise(name, res, planted=True)
        s["seconds"] = time.perf_counter() - t
        _print(s)
        out.append(s)
    return out


# ---------------------------------------------------------------- DiD coverage and placebo rates (issue 11 item 7)
# Separate from the fix-list settings above: its own generator, runner and printout, one call line in main().

# "Treated" and the five collections nearest its rate (the automatic comparison), then three far ones: the
# reference that tells whether the comparison itself moved at the date
IV_RATES = {
    "Treated": 0.05,
    "Alpine": 0.09,
    "Birch": 0.11,
    "Coastal": 0.13,
    "Delta": 0.15,
    "Estuary": 0.17,
    "Fjord": 0.26,
    "Glacier": 0.30,
    "Heath": 0.34,
}
IV_COMPARISON = ("Alpine", "Birch", "Coastal", "Delta", "Estuary")
IV_START = pd.Timestamp("2024-01-01")


def intervention_dataset(
    seed: int,
    n_orders: int = 20_000,
    *,
    months: int = 24,
    launch_month: int | None = None,
    rates: dict[str, float] | None = None,
    season_amp: float = 0.3,
    drift: float = 0.015,
    month_noise: float = 0.03,
    order_var: float = 0.5,
    effect: float = 1.0,
    comparison_shift: float = 1.0,
):
    """A Dataset for one logged change to collection "Treated" (launch at `launch_month`, default a random
    month 8..16 of `months`). Every unit returns at base rate (different per collection, `rates`) x a
    multiplicative season (1 + season_amp sin) x a site-wide multiplicative drift (1 + drift)^month x
    collection-month noise (lognormal, sd `month_noise`) x an order frailty (gamma, mean 1, variance
    `order_var`); after the launch "Treated" is multiplied by `effect` (the true ratio; 1 = placebo) and the
    five collections nearest its rate (IV_COMPARISON, the automatic comparison) by `comparison_shift` (1 = the
    comparison does not move). Returns (Dataset, launch date)."""
    from data.demo import _empty_rejected, canonical_frame
    from data.model import Dataset
    from data.schema import CATALOG, INTERVENTIONS, ORDERS, RETURNS

    rng = np.random.default_rng(seed)
    rates = dict(IV_RATES if rates is None else rates)
    colls = np.array(list(rates), dtype=object)
    base = np.array(list(rates.values()))
    lm = int(rng.integers(8, 17)) if launch_month is None else int(launch_month)
    t0 = IV_START - pd.DateOffset(months=lm)
    launch = IV_START
    t1 = t0 + pd.DateOffset(months=months)
    n = int(n_orders)
    day = rng.integers(0, (t1 - t0).days, n)
    od = t0 + pd.to_timedelta(day, unit="D")
    mi = ((od.year - t0.year) * 12 + (od.month - t0.month)).to_numpy()
    season = 1 + season_amp * np.sin(2 * np.pi * (od.month.to_numpy() - 1) / 12)
    trend = (1 + drift) ** mi
    noise = np.exp(rng.normal(0, month_noise, size=(len(colls), months + 1)))
    frail = rng.gamma(1 / order_var, order_var, size=n) if order_var > 0 else np.ones(n)
    k = rng.choice([1, 2, 3], size=n, p=[0.55, 0.3, 0.15])
    lo = np.repeat(np.arange(n), k)
    w = np.array([2.0] + [1.0] * (len(colls) - 1))
    ci = rng.choice(len(colls), size=len(lo), p=w / w.sum())
    shifted = np.isin(colls, IV_COMPARISON)
    qty = np.where(rng.random(len(lo)) < 0.9, 1, 2)
    after = np.asarray(od >= launch)[lo]
    p = base[ci] * season[lo] * trend[lo] * noise[ci, mi[lo]] * frail[lo]
    p = np.where(after & (ci == 0), p * effect, p)
    p = np.where(after & shifted[ci], p * comparison_shift, p)
    ret = rng.binomial(qty, np.minimum(p, 0.95))
    oid = np.array([f"O{i:06d}" for i in range(n)], dtype=object)
    sku = np.array([f"{colls[c][:3].upper()}-{j}" for j, c in enumerate(ci)], dtype=object)
    orders = pd.DataFrame(
        {
            "order_id": oid[lo],
            "order_date": od[lo],
            "sku": sku,
            "quantity": qty,
            "unit_price": 40.0,
            "product_name": colls[ci],
            "collection": colls[ci],
            "category": "Outerwear",
            "customer_id": np.array([f"C{c:06d}" for c in rng.integers(0, n // 2, n)], dtype=object)[lo],
            "channel": "web",
        }
    )
    rl = np.flatnonzero(ret > 0)
    returns = pd.DataFrame(
        {
            "order_id": oid[lo[rl]],
            "sku": sku[rl],
            "quantity": ret[rl],
            "return_date": od[lo[rl]] + pd.Timedelta(days=10),
            "reason": "Too small",
            "resolution": "Refund",
        }
    )
    empty = _empty_rejected()
    ds = Dataset(
        name=f"intervention dataset {seed}",
        orders=canonical_frame(orders, ORDERS),
        returns=canonical_frame(returns, RETURNS),
        catalog=canonical_frame(pd.DataFrame(), CATALOG),
        interventions=canonical_frame(pd.DataFrame(), INTERVENTIONS),
        files=(),
        rejected=empty,
        unmatched_returns=empty,
        excluded=empty,
    )
    return ds, launch


def did_run(seed: int, *, effect: float = 1.0, comparison_shift: float = 1.0, n_orders: int = 20_000, **kw) -> dict:
    """One dataset through prepare() and analysis.interventions.evaluate(); what the verdict and diagnostics say."""
    from analysis.interventions import Intervention, evaluate
    from analysis.prepare import prepare

    ds, launch = intervention_dataset(seed, n_orders, effect=effect, comparison_shift=comparison_shift, **kw)
    # the automatic comparison, except where the shifted collections must be the comparison
    r = evaluate(
        prepare(ds),
        Intervention("collection", "Treated", launch),
        comparison=list(IV_COMPARISON) if comparison_shift != 1.0 else None,
    )
    d = r.did
    rd = (r.rate_after - r.rate_before) - (r.comparison_rate_after - r.comparison_rate_before)
    return {
        "direction": r.direction,
        "ratio": d.ratio if d else np.nan,
        "se": d.se if d else np.nan,
        "dispersion": d.dispersion if d else np.nan,
        "df": d.df if d else np.nan,
        "covered": bool(d is not None and d.ci_low <= effect <= d.ci_high),
        "log_ratio_error": (d.log_ratio - np.log(effect)) if d else np.nan,
        "points": d.points if d else np.nan,
        "risk_difference": rd,
        "did_reduced": bool(d is not None and d.direction == "reduced"),
        "did_increased": bool(d is not None and d.direction == "increased"),
        "its_p": r.its.level_p if r.its is not None else np.nan,
        "parallel_warn": bool(r.parallel is not None and not r.parallel.parallel),
        "placebo_warn": bool(r.placebo is not None and r.placebo.direction != "no clear change"),
        "comparison_moved": r.comparison_moved,
    }


def did_summary(name: str, runs: list[dict], effect: float) -> dict:
    f = pd.DataFrame(runs)
    k = len(f)
    se = lambda p: float(np.sqrt(max(p * (1 - p), 1e-9) / k))  # noqa: E731 - binomial simulation error
    out = {
        "setting": name,
        "runs": k,
        "true_ratio": effect,
        "reduced": float((f["direction"] == "reduced").mean()),
        "increased": float((f["direction"] == "increased").mean()),
        "did_alone_changed": float((f["did_reduced"] | f["did_increased"]).mean()),
        "coverage": float(f["covered"].mean()),
        "mean_log_ratio_error": float(f["log_ratio_error"].mean()),
        "mean_points": float(f["points"].mean()),
        "mean_risk_difference": float(f["risk_difference"].mean()),
        "its_p_below_05": float((f["its_p"].dropna() < 0.05).mean()) if f["its_p"].notna().any() else np.nan,
        "its_runs": int(f["its_p"].notna().sum()),
        "parallel_warn": float(f["parallel_warn"].mean()),
        "placebo_warn": float(f["placebo_warn"].mean()),
        "comparison_moved": float(f["comparison_moved"].mean()),
    }
    out["se_at_05"] = se(0.05)
    return out


def _print_did(s: dict) -> None:
    print(
        f"{s['setting']:<44} n={s['runs']:>3}  verdict reduced {s['reduced']:.3f} / increased {s['increased']:.3f}"
        f" (DiD alone changed {s['did_alone_changed']:.3f})  CI coverage of true ratio {s['true_ratio']:.2f}: "
        f"{s['coverage']:.3f}  mean log-ratio error {s['mean_log_ratio_error']:+.4f}"
    )
    print(
        f"    points (ratio translated) mean {s['mean_points'] * 100:+.2f}, risk-difference DiD mean "
        f"{s['mean_risk_difference'] * 100:+.2f}; ITS level p < 0.05: {s['its_p_below_05']:.3f} of {s['its_runs']};"
        f" diagnostics warn: parallel trends {s['parallel_warn']:.3f}, placebo date {s['placebo_warn']:.3f}, "
        f"comparison moved {s['comparison_moved']:.3f}  (simulation s.e. at 0.05: {s['se_at_05']:.3f})"
    )
    sys.stdout.flush()


def did_calibration(n: int = 200, *, seed0: int = 5000, n_orders: int = 20_000) -> list[dict]:
    """Placebos (no effect) under multiplicative seasonality, drift, different base rates and order frailty;
    placebos where only the comparison moves at the date (x 1.25); planted effects (x 0.8, x 1.25):
    verdict rates, interval coverage of the true ratio, bias, ITS placebo p-values, diagnostic warning rates."""
    settings = [
        ("DiD placebo (season, drift, frailty)", 1.0, 1.0),
        ("DiD placebo, only the comparison moves x1.25", 1.0, 1.25),
        ("DiD planted x0.80", 0.8, 1.0),
        ("DiD planted x1.25", 1.25, 1.0),
    ]
    out = []
    for j, (name, effect, shift) in enumerate(settings):
        t = time.perf_counter()
        runs = [
            did_run(seed0 + 1000 * j + i, effect=effect, comparison_shift=shift, n_orders=n_orders) for i in range(n)
        ]
        s = did_summary(name, runs, effect)
        s["seconds"] = time.perf_counter() - t
        _print_did(s)
        out.append(s)
    return out


# ---- ranking accuracy of true excess (issue 11 item 10) --------------------------------------------------
# Four collections in four different categories (so none is in another's comparison group) return at
# different multiples of the rate; their sizes differ by dataset (random product popularity). The true
# excess of a planted collection is its units x rate x (multiplier - 1): what the fix list's priority
# (shrunk excess cost) estimates. The list ranks well when its order of these collections follows it.
RANKING_PLANTS = Plant(collections=(("Tops B", 1.3), ("Dresses C", 1.6), ("Lighting A", 2.0), ("Bedding D", 1.45)))


def ranking_run(seed: int, n_orders: int = 30_000, plant: Plant = RANKING_PLANTS, rate: float = 0.10) -> dict:
    """One dataset with several planted collections: where the fix list puts them against their true excess.

    Returns spearman (rank correlation between the fix list's order of the planted collections - an
    unlisted one ranks below every listed one - and their true excess; nan when all true excesses tie),
    top1 (the fix list's first collection row is the planted collection with the largest true excess),
    listed (how many planted collections are on the list) and true_excess (by collection).
    """
    from scipy.stats import spearmanr

    from analysis.engine import Settings, analyse
    from analysis.prepare import prepare

    ds = frailty_dataset(seed, n_orders, rate=rate, plant=plant)
    fix = analyse(prepare(ds), Settings(cost_per_return=40.0), briefs=False).fix_list
    units = ds.orders.groupby("collection", observed=True)["quantity"].sum()
    true = {c: float(units.get(c, 0.0)) * rate * (m - 1.0) for c, m in plant.collections}
    rows = fix[fix["dimension"] == "collection"] if len(fix) else fix
    order = [c for c in rows["segment"] if c in true] if len(fix) else []
    # list score: higher = earlier on the list; unlisted collections share the lowest score
    score = [len(order) - order.index(c) if c in order else 0 for c in true]
    rho = float(spearmanr(score, list(true.values())).statistic) if len(set(true.values())) > 1 else float("nan")
    best = max(true, key=true.get)
    first = rows["segment"].iloc[0] if len(rows) else None
    return {"spearman": rho, "top1": first == best, "listed": len(order), "true_excess": true}


def ranking_accuracy(n_datasets: int = 40, *, n_orders: int = 30_000, seed0: int = 3000) -> dict:
    """Mean Spearman correlation between fix-list order and true excess, and top-1 accuracy (printed)."""
    t = time.perf_counter()
    res = [ranking_run(seed0 + i, n_orders) for i in range(n_datasets)]
    rhos = np.array([r["spearman"] for r in res], dtype="float64")
    out = {
        "setting": f"ranking ({len(RANKING_PLANTS.collections)} planted collections)",
        "datasets": n_datasets,
        "spearman_mean": float(np.nanmean(rhos)),
        "spearman_median": float(np.nanmedian(rhos)),
        "top1": float(np.mean([r["top1"] for r in res])),
        "listed_mean": float(np.mean([r["listed"] for r in res])),
        "seconds": time.perf_counter() - t,
    }
    print(
        f"{out['setting']:<34} n={n_datasets:>3}  Spearman(list order, true excess) mean {out['spearman_mean']:.3f}"
        f" median {out['spearman_median']:.3f}  top-1 accuracy {out['top1']:.3f}"
        f"  planted collections listed {out['listed_mean']:.2f} of {len(RANKING_PLANTS.collections)}"
    )
    sys.stdout.flush()
    return out


def simulate_monthly_series(
    rng: np.random.Generator,
    *,
    months: int = 12,
    orders_per_month: int = 2_500,
    rate: float = 0.10,
    order_var: float = 0.5,
    month_sd: float = 0.05,
    slope: float = 0.0,
) -> pd.DataFrame:
    """One matured monthly cohort series (period, units, returned, coverage, provisional) on a null (slope 0)
    or a trend: month m's rate is rate x (1 + slope)^m x (1 + month_sd Z_m); each order holds 1 + Poisson(1)
    units returned independently at its month's rate x a Gamma(mean 1, variance order_var) order frailty."""
    units = 1 + rng.poisson(1.0, size=(months, orders_per_month))
    frail = rng.gamma(1.0 / order_var, order_var, size=(months, orders_per_month))
    month_rate = (
        rate * (1.0 + slope) ** np.arange(months) * np.clip(1.0 + month_sd * rng.standard_normal(months), 0.0, None)
    )
    returned = rng.binomial(units, np.clip(month_rate[:, None] * frail, 0.0, 1.0))
    return pd.DataFrame(
        {
            "period": pd.date_range("2025-01-01", periods=months, freq="MS"),
            "units": units.sum(axis=1),
            "returned": returned.sum(axis=1),
            "coverage": 1.0,
            "provisional": False,
        }
    )


def trend_false_positive_rate(reps: int = 1_000, seed: int = 7, *, alpha: float = 0.05, **kw) -> dict:
    """Share of simulated series (simulate_monthly_series, keyword arguments passed on) on which the Trends
    page's test (analysis.trends.series_trend) says "steady trend" (p < alpha); and, for contrast, the share
    for a binomial logistic slope test that treats every unit as independent (what Cochran-Armitage did)."""
    from scipy import stats as sps

    from analysis.trends import series_trend

    rng = np.random.default_rng(seed)
    page, naive = 0, 0
    for _ in range(reps):
        s = simulate_monthly_series(rng, **kw)
        t = series_trend(s)
        page += int(t.p_value < alpha)
        z = t.slope / (t.se / np.sqrt(t.dispersion))  # the same fit with the binomial variance (dispersion 1)
        naive += int(2 * sps.norm.sf(abs(z)) < alpha)
    return {
        "reps": reps,
        "page_test": page / reps,
        "units_independent": naive / reps,
        "mc_se": float(np.sqrt(alpha * (1 - alpha) / reps)),
    }


def print_trend_calibration(reps: int) -> None:
    """The trend test's false-positive rate at alpha 0.05, with and without month noise, and its power."""
    t0 = time.perf_counter()
    for name, kw in (
        ("order frailty 0.5 + 5% month noise", {}),
        ("order frailty 0.5, no month noise", {"month_sd": 0.0}),
    ):
        r = trend_false_positive_rate(reps, **kw)
        print(
            f"trend test, null ({name}): false 'steady trend' {r['page_test']:.3f} "
            f"(MC s.e. {r['mc_se']:.3f}; units treated as independent: {r['units_independent']:.3f}), n={reps}"
        )
    pw = trend_false_positive_rate(reps, seed=8, slope=0.02)
    print(
        f"trend test, rate +2%/month (relative) with the same noise: power {pw['page_test']:.3f}, n={reps}"
        f"  [{time.perf_counter() - t0:.0f} s]"
    )
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 datasets per setting instead of 40")
    ap.add_argument("--datasets", type=int, default=None, help="datasets per setting")
    args = ap.parse_args(argv)
    k = args.datasets or (10 if args.quick else 40)
    print_trend_calibration(200 if args.quick else 1_000)
    calibrate(k, k, k)
    did_calibration(5 * k)
    ranking_accuracy(k)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
