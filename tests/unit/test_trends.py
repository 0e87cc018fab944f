"""analysis.trends: cohort series, control-chart choice, trend test and what_changed.

Synthetic data (built below, one line = one binomial draw with a known rate) gives the ground truth;
expected numbers are recomputed independently with plain pandas / statsmodels where named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis.prepare import prepare
from analysis.trends import cohort_series, control_chart, laney_p_prime, p_chart, series_trend, what_changed
from data.model import Dataset
from data.schema import ORDERS, RETURNS, CATALOG, INTERVENTIONS

BASE_RATES = {
    "Hiking Jackets": 0.24,
    "Rain Shells": 0.21,
    "Fleece": 0.18,
    "Base Layers": 0.15,
    "Trousers": 0.20,
    "Socks": 0.08,
}
TREATED = "Hiking Jackets"


def _frame(table, data: dict) -> pd.DataFrame:
    n = len(next(iter(data.values()))) if data else 0
    out = {}
    for c in table.columns:
        if c.name in data:
            v = pd.Series(data[c.name])
        elif c.dtype == "str":
            v = pd.Series([pd.NA] * n, dtype="string")
        elif c.dtype == "date":
            v = pd.Series([pd.NaT] * n, dtype="datetime64[ns]")
        elif c.dtype == "int":
            v = pd.Series(np.ones(n, dtype="int64"))
        else:
            v = pd.Series(np.full(n, np.nan))
        if c.dtype == "str":
            v = v.astype("string")
        elif c.dtype == "date":
            v = pd.to_datetime(v).astype("datetime64[ns]")
        elif c.dtype == "int":
            v = v.astype("int64")
        else:
            v = v.astype("float64")
        out[c.name] = v.reset_index(drop=True)
    return pd.DataFrame(out)


def synthetic_dataset(
    seed=0,
    n_orders=20000,
    start="2022-01-01",
    months=24,
    drop_date="2023-01-01",
    treated_after=0.16,
    rates=None,
    treated=TREATED,
    max_days=35,
) -> Dataset:
    rng = np.random.default_rng(seed)
    rates = dict(BASE_RATES if rates is None else rates)
    colls = list(rates)
    t0 = pd.Timestamp(start)
    t1 = t0 + pd.DateOffset(months=months)
    span = (t1 - t0).days
    day = rng.integers(0, span, n_orders)
    order_dates = t0 + pd.to_timedelta(np.sort(day), unit="D")
    n_lines = rng.choice([1, 2], size=n_orders, p=[0.75, 0.25])
    oid = np.repeat(np.arange(n_orders), n_lines)
    od = np.repeat(order_dates.to_numpy(), n_lines)
    w = np.array([3, 2, 2, 2, 2, 1], dtype=float)[: len(colls)]
    coll = rng.choice(colls, size=len(oid), p=w / w.sum())
    qty = rng.choice([1, 2], size=len(oid), p=[0.9, 0.1])
    p = np.array([rates[c] for c in coll])
    if drop_date is not None and treated_after is not None:
        p = np.where((coll == treated) & (od >= np.datetime64(pd.Timestamp(drop_date))), treated_after, p)
    ret_units = rng.binomial(qty, p)
    orders = _frame(
        ORDERS,
        {
            "order_id": [f"O{i:06d}" for i in oid],
            "order_date": od,
            "sku": [f"{c[:4].upper()}-{i % 3}" for i, c in enumerate(coll)],
            "quantity": qty,
            "unit_price": np.full(len(oid), 50.0),
            "collection": coll,
            "category": np.where(np.isin(coll, ["Socks", "Base Layers"]), "Basics", "Outerwear"),
            "customer_id": [f"C{i % (n_orders // 2):06d}" for i in oid],
            "channel": rng.choice(["web", "app"], size=len(oid)),
        },
    )
    # a line's sku must be unique within its order for return matching
    orders = orders.drop_duplicates(["order_id", "sku"]).reset_index(drop=True)
    keep = orders.index.to_numpy()
    ret_units = ret_units[keep]
    has = ret_units > 0
    r = orders[has].reset_index(drop=True)
    delay = rng.gamma(2.0, 6.0, size=len(r)).clip(1, max_days).astype(int)
    rdate = r["order_date"] + pd.to_timedelta(delay, unit="D")
    as_of = orders["order_date"].max()
    seen = (rdate <= as_of).to_numpy()
    returns = _frame(
        RETURNS,
        {
            "order_id": r["order_id"][seen],
            "sku": r["sku"][seen],
            "quantity": ret_units[has][seen],
            "return_date": rdate[seen],
            "reason": pd.Series(["too small"] * int(seen.sum())),
        },
    )
    empty = pd.DataFrame()
    return Dataset(
        name="synthetic",
        orders=orders,
        returns=returns,
        catalog=_frame(CATALOG, {}),
        interventions=_frame(INTERVENTIONS, {}),
        files=(),
        rejected=empty,
        unmatched_returns=empty,
        excluded=empty,
        content_hash=f"synthetic-{seed}",
    )


@pytest.fixture(scope="module")
def prepared():
    return prepare(synthetic_dataset(seed=3, n_orders=12000))


def test_cohort_series_matches_plain_pandas(prepared):
    s = cohort_series(prepared)
    L = prepared.lines
    # independent: plain pandas group-by on the order month
    g = L.groupby(L["order_date"].dt.to_period("M").dt.start_time)
    assert s["units"].tolist() == g["quantity"].sum().tolist()
    assert s["returned"].tolist() == g["returned_units"].sum().tolist()
    assert s["orders"].tolist() == g["order_id"].nunique().tolist()
    # the design effect of each month by hand from the per-order sums (Rao & Scott 1992, ratio estimator:
    # v = g/(g-1) sum (y_o - p m_o)^2 / M^2, deff = v / (p(1-p)/M), at least 1), then statsmodels' Wilson on the
    # effective counts
    per_order = L.groupby([L["order_date"].dt.to_period("M").dt.start_time, "order_id"])[
        ["returned_units", "quantity"]
    ].sum()
    deffs = []
    for _, o in per_order.groupby(level=0):
        y, m = o["returned_units"].to_numpy(float), o["quantity"].to_numpy(float)
        M, g = m.sum(), len(m)
        p = y.sum() / M
        v = g / (g - 1) * ((y - p * m) ** 2).sum() / M**2
        deffs.append(max(v / (p * (1 - p) / M), 1.0) if 0 < p < 1 else 1.0)
    d = np.array(deffs)
    assert (d > 1.05).any()  # the synthetic orders hold several units returned together
    lo, hi = proportion_confint(s["returned"] / d, s["units"] / d, method="wilson")  # statsmodels Wilson
    np.testing.assert_allclose(s["ci_low"], lo, rtol=1e-10)
    np.testing.assert_allclose(s["ci_high"], hi, rtol=1e-10)
    assert s["units"].sum() == L["quantity"].sum()


def test_provisional_cohorts_marked_and_completed(prepared):
    s = cohort_series(prepared)
    cutoff = prepared.cutoff_date
    period_end = s["period"] + pd.offsets.MonthEnd(0)
    # a month is provisional exactly when it holds orders placed after the cutoff
    assert (s["provisional"] == (period_end > cutoff)).all()
    assert s["provisional"].iloc[-1] and not s["provisional"].iloc[:-2].any()
    last = s.iloc[-1]
    # returns are censored at the data's end, so the raw last-month rate is too low; the expected final
    # rate must lie closer to the true mean rate of the treated-after mix than the raw rate does
    matured_rate = s.loc[~s["provisional"], "rate"].tail(6).mean()
    assert last["rate"] < matured_rate - 0.02
    assert abs(last["expected_final_rate"] - matured_rate) < abs(last["rate"] - matured_rate)
    assert 0 < last["coverage"] < 1
    assert s.loc[~s["provisional"], "expected_final_rate"].isna().all()


def test_same_period_last_year(prepared):
    s = cohort_series(prepared, dimension="collection", segment="Fleece").set_index("period")
    jan23 = pd.Timestamp("2023-01-01")
    assert s.loc[jan23, "rate_same_period_last_year"] == pytest.approx(s.loc[pd.Timestamp("2022-01-01"), "rate"])
    assert (
        s.loc[pd.Timestamp("2022-06-01"), "rate_same_period_last_year"]
        != s.loc[pd.Timestamp("2022-06-01"), "rate_same_period_last_year"]
    )  # NaN: no 2021


def test_weekly_series_and_bad_args(prepared):
    w = cohort_series(prepared, freq="W")
    assert (w["period"].dt.dayofweek == 0).all()
    assert w["units"].sum() == prepared.lines["quantity"].sum()
    with pytest.raises(ValueError, match="freq"):
        cohort_series(prepared, freq="D")
    with pytest.raises(ValueError, match="Unknown dimension"):
        cohort_series(prepared, dimension="colour", segment="x")
    with pytest.raises(ValueError, match="segment"):
        cohort_series(prepared, dimension="collection")


def test_control_chart_picks_laney_for_large_overdispersed_periods():
    # oracle case 11 inputs: p-chart flags 9/12, Laney only December
    n = [26000, 20500, 21500, 22500, 24000, 23500, 24500, 25500, 23000, 26500, 39000, 47000]
    x = [5200, 3650, 3725, 3800, 4150, 4000, 4300, 4600, 3950, 4750, 7400, 9875]
    cc = control_chart(pd.DataFrame({"returned": x, "units": n, "provisional": False}))
    assert cc.chart == "laney" and cc.n_flagged == 1 and "Laney" in cc.reason
    # small binomial periods: p-chart (textbook case 10)
    small = control_chart(pd.DataFrame({"returned": [40, 44, 22, 34, 24, 32, 28, 32, 34, 30], "units": 200}))
    assert small.chart == "p" and small.n_flagged == 0


def test_control_chart_on_pure_binomial_large_n_keeps_p_chart():
    rng = np.random.default_rng(5)
    n = np.full(24, 5000)
    x = rng.binomial(n, 0.2)
    cc = control_chart(pd.DataFrame({"returned": x, "units": n}))
    # no over-dispersion -> sigma_z near 1; the p-chart is only replaced when sigma_z > 1
    assert (cc.chart == "p") == (cc.sigma_z <= 1)
    assert cc.n_flagged <= 1


def test_control_chart_drops_provisional(prepared):
    s = cohort_series(prepared)
    cc = control_chart(s)
    assert len(cc.table) == int((~s["provisional"]).sum())
    with pytest.raises(ValueError, match="returned"):
        control_chart(pd.DataFrame({"x": [1]}))


def test_chart_argument_errors():
    with pytest.raises(ValueError):
        p_chart([5, 3], [2, 10])
    with pytest.raises(ValueError):
        laney_p_prime([1], [10])


def test_trend_test_detects_planted_drop(prepared):
    s = cohort_series(prepared, dimension="collection", segment="Hiking Jackets")
    t = series_trend(s)
    assert t.slope_sign == -1 and t.p_value < 0.01
    null = series_trend(cohort_series(prepared, dimension="collection", segment="Trousers"))
    assert null.p_value > 0.001
    # independent route: statsmodels' quasi-binomial GLM (Pearson scale) on the matured
    # months' counts completed by their coverage, month index as the score, t reference with k - 2 df
    import statsmodels.api as sm
    from scipy import stats as sps

    m = s[~s["provisional"] & (s["units"] > 0)]
    x, n = (m["returned"] / m["coverage"]).clip(upper=m["units"]).to_numpy(float), m["units"].to_numpy(float)
    months = np.arange(len(x), dtype=float)  # the synthetic data has sales in every month
    fit = sm.GLM(x / n, sm.add_constant(months), family=sm.families.Binomial(), var_weights=n).fit(scale="X2")
    assert fit.scale > 1 and t.reference == "t"  # over-dispersed: the quasi-binomial t test
    assert t.slope == pytest.approx(fit.params[1], rel=1e-8)
    assert t.p_value == pytest.approx(2 * sps.t.sf(abs(fit.tvalues[1]), len(x) - 2), rel=1e-6)


def test_what_changed_finds_planted_change(prepared):
    wc = what_changed(
        prepared, ("2022-01-01", "2022-12-31"), ("2023-01-01", "2023-10-31"), dimensions=("collection", "channel")
    )
    top = wc.iloc[0]
    assert (top["dimension"], top["segment"]) == ("collection", "Hiking Jackets")
    assert top["significant"] and top["change"] < 0
    assert top["ci_low"] < -0.08 < top["ci_high"]  # the true change (24% -> 16%) is inside the 95% CI
    coll = wc[wc["dimension"] == "collection"].set_index("segment")
    # independent plain-pandas rates
    L = prepared.mature_lines
    a = L[(L["order_date"] < "2023-01-01") & (L["collection"] == "Hiking Jackets")]
    assert coll.loc["Hiking Jackets", "rate_a"] == pytest.approx(a["returned_units"].sum() / a["quantity"].sum())
    # a channel's rate is the one the Journeys page shows (returned / sold units), not orders with a return
    ch = wc[wc["dimension"] == "channel"].set_index("segment")
    web = L[(L["order_date"] < "2023-01-01") & (L["channel"] == ch.index[0])]
    assert ch["unit"].eq("units").all()
    assert ch.iloc[0]["rate_a"] == pytest.approx(web["returned_units"].sum() / web["quantity"].sum())
    # BH within the collection family: statsmodels multipletests(fdr_bh)
    from statsmodels.stats.multitest import multipletests

    assert np.allclose(
        coll["q_value"].sort_index(),
        pd.Series(multipletests(coll["p_value"], method="fdr_bh")[1], index=coll.index).sort_index(),
    )
    # the other collections did not change
    assert coll.drop(index="Hiking Jackets")["significant"].sum() <= 1
    with pytest.raises(ValueError, match="ends before"):
        what_changed(prepared, ("2023-01-01", "2022-01-01"), ("2023-01-01", "2023-02-01"))


def test_what_changed_counts_refunded_units_where_refunds_are_per_order():
    from data.ingest import SourceFile, load_dataset
    from data.shopify_sample import generate_shopify_export

    files, _ = generate_shopify_export(seed=5, n_orders=3000)
    p = prepare(load_dataset([SourceFile(n, c) for n, c in files.items()]))
    assert p.outcome == "order_refund"
    wc = what_changed(p, ("2024-01-01", "2024-12-31"), ("2025-01-01", "2025-10-31"), dimensions=("channel",))
    # a channel is compared on refunded units / units like every dimension (refunds attributed to lines, see
    # prepare): period A's matured lines of the channel, summed here independently of the trend code
    L = p.mature_lines
    a = L[(L["order_date"] <= "2024-12-31") & L["channel"].notna()]
    sums = a.groupby("channel", observed=True)[["returned_units", "quantity"]].sum()
    expected = sums["returned_units"] / sums["quantity"]
    # lines of orders without a refund carry no refunded unit
    assert (a.loc[a["order_refunded"].fillna(0) <= 0, "returned_units"] == 0).all()
    got = wc.set_index("segment")
    assert got["unit"].eq("units").all()
    for seg, rate in expected.items():
        assert got.loc[seg, "rate_a"] == pytest.approx(float(rate)), seg


def test_what_changed_controls_fdr_on_null_data():
    families = hits = 0
    for seed in range(8):
        p = prepare(synthetic_dataset(seed=100 + seed, n_orders=6000, treated_after=None))
        wc = what_changed(
            p,
            ("2022-01-01", "2022-12-31"),
            ("2023-01-01", "2023-10-31"),
            dimensions=("collection", "channel", "category"),
        )
        for _, fam in wc.groupby("dimension"):
            families += 1
            hits += bool(fam["significant"].any())
    # complete null: BH at q = 0.10 keeps the chance of any false discovery per family <= 0.10
    assert families == 24
    assert hits <= 4, hits


@pytest.mark.slow
def test_real_export_trends():
    from tests.conftest import REAL_DATA

    if not REAL_DATA.exists():
        pytest.skip(f"real export {REAL_DATA} is absent")
    from data.ingest import SourceFile, load_dataset

    p = prepare(load_dataset([SourceFile(REAL_DATA.name, REAL_DATA.read_bytes())]))
    s = cohort_series(p)
    assert s["units"].sum() == p.lines["quantity"].sum()  # every line lands in one month
    assert s["provisional"].iloc[-1] and not s["provisional"].iloc[0]
    cc = control_chart(s)
    # ~400k units a month with rates moving 1% -> 19%: far more than binomial noise -> Laney
    assert cc.chart == "laney" and cc.sigma_z > 1
    wc = what_changed(p, ("2009-12-01", "2010-05-31"), ("2010-06-01", "2010-09-30"), dimensions=("country",))
    assert len(wc) > 5 and wc["q_value"].between(0, 1).all()


def test_overview_monthly_band_is_the_trends_band(prepared):
    # one definition: the Overview's monthly chart and the Trends page draw the same interval for a month
    from analysis.overview import monthly

    m = monthly(prepared)
    s = cohort_series(prepared)
    assert m["month"].tolist() == s["period"].tolist()
    np.testing.assert_allclose(m["ci_low"], s["ci_low"], rtol=1e-12)
    np.testing.assert_allclose(m["ci_high"], s["ci_high"], rtol=1e-12)
