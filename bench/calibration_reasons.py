"""Calibration of the Reasons page's "which reasons stand out against the rest" (analysis.reasons.reasons_vs_rest).

`python -m bench.calibration_reasons [N]` simulates N null datasets and N planted ones through prepare() and
reasons_vs_rest(), and prints the share of datasets with a (collection, reason) at q < 0.10: on null data a false
"stands out", on planted data whether the planted one is found; then the same for complete_the_set's "pairs well
with" (pairing_dataset: companions drawn independently of an order's correlated returns, or Belts planted at 0.6x). README "Calibration (simulation)" holds the
figures; tests/unit/test_reasons_clustered.py runs a smaller version.

Each dataset: 1,500 orders of 1-4 lines over 150 days, one of 6 collections per order, 30% of orders returning
(each line then 80%); an order's returned lines share one reason (90%; else any of the five) drawn from one mix
for every collection, so on null data no collection's reasons differ. Planted: collection C0's returning orders
give "Too small" with probability `planted` instead of the common mix.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd

REASONS = ["Too small", "Too big", "Changed my mind", "Not as described", "Arrived damaged"]
START = pd.Timestamp("2024-01-01")
# a late order, so that the 30-day window closes before the data ends
LATE = {"order_id": "late", "order_date": pd.Timestamp("2024-09-30"), "sku": "x", "quantity": 1, "unit_price": 1.0}


def _line(o: int, day: pd.Timestamp, sku: str, collection: str, price: float = 20.0) -> dict:
    return {
        "order_id": f"O{o}",
        "order_date": day,
        "sku": sku,
        "quantity": 1,
        "unit_price": price,
        "collection": collection,
    }


def _return(o: int, sku: str, day: pd.Timestamp, **extra: str) -> dict:
    return {"order_id": f"O{o}", "sku": sku, "quantity": 1, "return_date": day + pd.Timedelta(days=10), **extra}


def dataset(seed: int, planted: float = 0.0):
    from tests.builders import make_dataset

    rng = np.random.default_rng(seed)
    rows, rets = [], []
    for o in range(1500):
        day = START + pd.Timedelta(days=int(rng.integers(0, 150)))
        coll = f"C{int(rng.integers(0, 6))}"
        reason = REASONS[int(rng.integers(0, len(REASONS)))]
        if coll == "C0" and rng.random() < planted:
            reason = "Too small"
        returning = rng.random() < 0.3
        for j in range(int(rng.integers(1, 5))):
            sku = f"S{o}-{j}"
            rows.append(_line(o, day, sku, coll))
            if returning and rng.random() < 0.8:
                why = reason if rng.random() < 0.9 else REASONS[int(rng.integers(0, len(REASONS)))]
                rets.append(_return(o, sku, day, reason=why))
    rows.append(dict(LATE))
    return make_dataset(rows, rets)


def stands_out(seed: int, planted: float = 0.0) -> tuple[bool, bool]:
    """(any (collection, reason) at q < 0.10, the planted one (C0, too small) among them)."""
    from analysis import reasons as R
    from analysis.prepare import prepare

    vs = R.reasons_vs_rest(prepare(dataset(seed, planted), window_days=30), "collection")
    hit = vs[vs["q_value"] < 0.10]
    found = bool(((hit["segment"] == "C0") & (hit["reason_category"] == "size_too_small")).any())
    return bool(len(hit)), found


def pairing_dataset(seed: int, effect: float = 1.0):
    """Orders of 1-4 focal "Shirts" units returned together more often than chance (an order frailty: gamma,
    variance 1), each order also holding 0-2 companion collections drawn independently of its returns; with
    effect < 1 the Shirts units of orders holding "Belts" return at `effect` times the rate."""
    from tests.builders import make_dataset

    rng = np.random.default_rng(seed)
    companions = ["Belts", "Socks", "Hats", "Bags", "Scarves", "Ties"]
    rows, rets = [], []
    for o in range(3000):
        day = START + pd.Timedelta(days=int(rng.integers(0, 150)))
        with_ = list(rng.choice(companions, size=int(rng.integers(0, 3)), replace=False))
        rate = 0.15 * rng.gamma(1.0, 1.0) * (effect if "Belts" in with_ else 1.0)
        for j in range(int(rng.integers(1, 5))):
            sku = f"S{o}-{j}"
            rows.append(_line(o, day, sku, "Shirts"))
            if rng.random() < min(rate, 0.95):
                rets.append(_return(o, sku, day))
        for c in with_:
            rows.append(_line(o, day, f"{c}-{o}", c, price=9.0))
    rows.append(dict(LATE))
    return make_dataset(rows, rets)


def pairs_well(seed: int, effect: float = 1.0) -> tuple[bool, bool]:
    """(any companion said to pair well with Shirts, Belts among them), by analysis.reasons.complete_the_set."""
    from analysis import reasons as R
    from analysis.prepare import prepare

    t = R.complete_the_set(prepare(pairing_dataset(seed, effect), window_days=30), "collection", "Shirts")
    good = t[t["pairs_well"]] if len(t) else t
    return bool(len(good)), bool(len(good) and (good["item"] == "Belts").any())


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    n = int(argv[0]) if argv else 100
    null = [stands_out(seed)[0] for seed in range(n)]
    planted = [stands_out(10_000 + seed, planted=0.3)[1] for seed in range(n)]
    pair_null = [pairs_well(seed)[0] for seed in range(n)]
    pair_planted = [pairs_well(20_000 + seed, effect=0.6)[1] for seed in range(n)]
    out = {
        "datasets": n,
        "null_share_with_a_reason_standing_out": round(float(np.mean(null)), 3),
        "planted_found": round(float(np.mean(planted)), 3),
        "null_share_with_a_pairs_well_item": round(float(np.mean(pair_null)), 3),
        "planted_pairing_found": round(float(np.mean(pair_planted)), 3),
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
