"""Calibration of the Trends page's expected final rate of provisional cohorts, through the whole pipeline.

`python -m bench.calibration_trends [N] [--shift F] [--bulk F] [--bands]` simulates N datasets (default 200) and prints, for the provisional
months whose expected final rate is shown, the error of the estimate against each month's realised final rate
and the share of months whose 95% interval holds it, by how much of the month's returns had arrived. README
"Calibration (simulation)" (Return window) holds the figures; tests/unit/test_expected_final.py runs a smaller version.

Each dataset: orders from 1 Jan 2025 to a day of January 2026 (``END`` plus 0-30 days, drawn per dataset, so the
last month holds anywhere from one day's orders with almost no follow-up to a whole month's), ``ORDERS_PER_DAY`` a day, 1-3 units each, a unit return rate of 12% with an order frailty
(gamma, variance 0.5: units of one order are returned together more often than chance) and month-to-month
variation (each month's rate times a gamma factor of s.d. 10%); days to return are long-tailed, as in the
maturity simulation of tests/unit/test_maturity.py (85% 2 + Gamma(2, 6), 15% 30 + Gamma(2, 25) days). The data
ends on that day: later returns are not in the file. Each month's realised final rate counts all its returns, seen or
not. With --shift F the rate of the last 90 days' orders is F times the earlier one (a guidance change the
matured months do not know of yet); with --bulk F a share F of the orders are trade orders of 20-300 units
returned whole or not at all. With --bands it prints instead how often the matured months' 95% band holds the
month's underlying rate (its units' rate before each order's frailty). The old estimate (the chain ladder: returns so far / units x G(age)) is computed beside the new one.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd

START = pd.Timestamp("2025-01-01")
END = pd.Timestamp("2026-01-01")
ORDERS_PER_DAY = 12
RATE = 0.12


def simulate_dataset(
    seed: int, shift: float = 1.0, bulk: float = 0.0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(orders, returns seen by END, truth per order month: units and all returned units). shift: the rate of
    orders placed in the last 90 days is multiplied by it (a guidance change that the provisional months
    alone can show). bulk: the share of orders that are trade orders of 20-300 units, returned whole or not at
    all (at the same 12%), as on the Online Retail II file where one order can hold most of a month's returns."""
    rng = np.random.default_rng(seed)
    end = END + pd.Timedelta(days=int(rng.integers(0, 31)))
    days = (end - START).days + 1
    n = ORDERS_PER_DAY * days
    day = np.sort(rng.integers(0, days, n))
    date = START + pd.to_timedelta(day, unit="D")
    month = date.to_period("M").start_time
    months = np.unique(month)
    month_factor = dict(zip(months, rng.gamma(100.0, 0.01, len(months)), strict=True))  # s.d. 10%
    frailty = rng.gamma(2.0, 0.5, n)  # mean 1, variance 0.5
    units = rng.integers(1, 4, n)
    recent = np.where(day >= days - 90, shift, 1.0)
    p = np.clip(RATE * frailty * recent * np.array([month_factor[m] for m in month]), 0, 0.95)
    returned = rng.binomial(units, p)
    trade = rng.random(n) < bulk
    units = np.where(trade, rng.integers(20, 301, n), units)
    returned = np.where(trade, units * (rng.random(n) < p), returned)
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "order_date": date,
            "sku": "S1",
            "quantity": units,
            "unit_price": 20.0,
            "customer_id": [f"C{i}" for i in range(n)],
        }
    )
    idx = np.flatnonzero(returned > 0)
    late = rng.random(len(idx)) < 0.15
    delay = np.where(late, 30 + rng.gamma(2.0, 25.0, len(idx)), 2 + rng.gamma(2.0, 6.0, len(idx)))
    rdate = date[idx] + pd.to_timedelta(np.floor(delay), unit="D")
    seen = rdate <= end
    rets = pd.DataFrame(
        {
            "order_id": orders["order_id"].to_numpy()[idx][seen],
            "sku": "S1",
            "quantity": returned[idx][seen],
            "return_date": rdate[seen],
        }
    )
    # expected units returned: each unit's rate without its order's frailty (mean 1), the month's underlying rate
    expected = units * RATE * recent * np.array([month_factor[m] for m in month])
    truth = (
        pd.DataFrame({"period": month, "units": units, "returned": returned, "expected": expected})
        .groupby("period")
        .sum()
    )
    truth["theta"] = truth["expected"] / truth["units"]
    return orders, rets, truth


def cohort_rows(seed: int, shift: float = 1.0, bulk: float = 0.0) -> pd.DataFrame:
    """The provisional months with an expected final rate shown, of one simulated dataset: coverage, the new
    estimate and its interval, the chain ladder's, and the realised final rate."""
    from analysis.prepare import prepare
    from analysis.trends import cohort_series
    from tests.builders import make_dataset

    orders, rets, truth = simulate_dataset(seed, shift, bulk)
    p = prepare(make_dataset(orders, rets))
    s = cohort_series(p).set_index("period")
    s = s[s["expected_final_rate"].notna()]
    final = truth["returned"] / truth["units"]
    return pd.DataFrame(
        {
            "seed": seed,
            "coverage": s["coverage"],
            "estimate": s["expected_final_rate"],
            "low": s["expected_final_low"],
            "high": s["expected_final_high"],
            "chain_ladder": (s["returned"] / (s["units"] * s["coverage"])).clip(upper=1.0),
            "final": final.reindex(s.index),
        }
    ).reset_index()


def band_rows(seed: int, bulk: float = 0.0) -> pd.DataFrame:
    """The matured months of one simulated dataset: the Trends band (ci_low, ci_high) and the month's underlying
    rate theta (its units' rate before each order's frailty), to see how often the 95% band holds it."""
    from analysis.prepare import prepare
    from analysis.trends import cohort_series
    from tests.builders import make_dataset

    orders, rets, truth = simulate_dataset(seed, 1.0, bulk)
    s = cohort_series(prepare(make_dataset(orders, rets))).set_index("period")
    s = s[~s["provisional"]]
    return pd.DataFrame({"low": s["ci_low"], "high": s["ci_high"], "theta": truth["theta"].reindex(s.index)})


def summarise(rows: pd.DataFrame) -> list[dict]:
    """Per band of coverage: months, RMSE and bias (points) of the new estimate and the chain ladder, and the
    share of months whose 95% interval holds the realised final rate."""
    bands = pd.cut(rows["coverage"], [0.0, 0.25, 0.5, 0.75, 1.0], include_lowest=True)
    out = []
    for band, g in rows.groupby(bands, observed=True):
        err, cl = g["estimate"] - g["final"], g["chain_ladder"] - g["final"]
        out.append(
            {
                "returns_arrived": f"{max(band.left, 0):.0%}-{band.right:.0%}",
                "months": len(g),
                "rmse_new_pts": round(100 * float(np.sqrt((err**2).mean())), 2),
                "rmse_chain_ladder_pts": round(100 * float(np.sqrt((cl**2).mean())), 2),
                "bias_new_pts": round(100 * float(err.mean()), 2),
                "bias_chain_ladder_pts": round(100 * float(cl.mean()), 2),
                "largest_error_new_pts": round(100 * float(err.abs().max()), 1),
                "largest_error_chain_ladder_pts": round(100 * float(cl.abs().max()), 1),
                "interval_coverage": round(float(((g["low"] <= g["final"]) & (g["final"] <= g["high"])).mean()), 3),
            }
        )
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    argv = list(sys.argv[1:] if argv is None else argv)
    opts = {}
    for name in ("--shift", "--bulk"):
        if name in argv:
            i = argv.index(name)
            opts[name] = float(argv[i + 1])
            del argv[i : i + 2]
    bands = "--bands" in argv
    if bands:
        argv.remove("--bands")
    n = int(argv[0]) if argv else 200
    if bands:
        b = pd.concat([band_rows(seed, opts.get("--bulk", 0.0)) for seed in range(n)], ignore_index=True)
        held = float(((b["low"] <= b["theta"]) & (b["theta"] <= b["high"])).mean())
        out = [{"matured_months": len(b), "band_holds_the_months_rate": round(held, 3)}]
        print(json.dumps(out[0]))
        return out
    rows = pd.concat(
        [cohort_rows(seed, opts.get("--shift", 1.0), opts.get("--bulk", 0.0)) for seed in range(n)],
        ignore_index=True,
    )
    out = summarise(rows)
    for r in out:
        print(json.dumps(r))
    return out


if __name__ == "__main__":
    main()
