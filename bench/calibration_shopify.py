"""Calibration of the fix list on Shopify-like exports without a category column (run on demand).

Every replicate goes through the whole pipeline: data.shopify_sample.generate_shopify_export (CSV bytes,
one seed per replicate) -> data.ingest.load_dataset -> analysis.prepare.prepare ->
analysis.engine.analyse(briefs=False) -> fix_list.

    PYTHONPATH=. .venv/bin/python -m bench.calibration_shopify --nulls 80 --planted 40 --out calib.json
    PYTHONPATH=<other checkout> .venv/bin/python <this file> ...   # the same simulation on other code

Null exports (effects=False) plant nothing, but the product types keep their base rates (jeans 0.085, tees
0.05, carpenter 0.09, belts 0.03): structure without a category column to explain it. Planted exports
(effects=True) hold five effects: intent=bracketing, channel=Nordstrom (3x), collection=SKINNY (2.2x),
promotion=NA40 (2x) and the return-insurance add-on (1.6x; addon="Return insurance").

Each fix-list row that is not a planted effect is classified against the generator's truth (each line's
refund probability, ShopifyTruth.lines.p_refund, and its product type's base rate): the expected rate of the
segment and of its comparison group (the row's `reference`: everything, the rest of its category - the
product type read from the names - or the other sizes of its size system) are computed from those probabilities with the pipeline's own rate definition for the dimension
(Prepared.rate_columns: units, expected refunded units = sum of p; or, on code from before every dimension was
compared on units, orders weighing 1 for intent, channel, promotion, country, customer type and add-on, an
order refunded with probability 1 - prod(1 - p) over its lines). A row is
- "structure" when the base rates alone make the segment >= 5% higher than its comparison (e.g. a jeans
  collection against everything, or multi-item orders on the order refund rate: more lines, more chances);
- "implied" (planted arm only) when only the planted effects make it >= 5% higher (e.g. product "Skinny Jean",
  addon "Protection and return insurance");
- "false" otherwise: nothing in the truth makes the segment return more than what it is compared with.
Combination rows are classified from their two collections' base rates the same way, at the unit level, over
the orders holding both (see _combination_mask).
The latest figures are in README.md ("Calibration (simulation)").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

import numpy as np
import pandas as pd

PLANTED = {
    ("intent", "bracketing"),
    ("channel", "Nordstrom"),
    ("collection", "SKINNY"),
    ("promotion", "NA40"),
    ("addon", "Return insurance"),
}
MARGIN = 1.05  # a segment is "truly higher" when its expected rate is >= 5% above its comparison group's
ORDER_DIMENSIONS = ("intent", "journey", "channel", "customer_type", "promotion", "country", "addon")


def _base_rates() -> dict[str, float]:
    from data import shopify_sample as s

    out = {name: s.BASE_P["jean"] for name, _, _ in s.JEANS}
    out |= {name: s.BASE_P["tee"] for name, _, _ in s.TEES}
    out[s.CARPENTER[0]] = s.BASE_P["carpenter"]
    out[s.BELT[0]] = s.BASE_P["belt"]
    return out


def _truth_lines(prepared, truth) -> pd.DataFrame:
    """The mature lines with each line's true and base refund probability and its order's (unit or order
    basis numerators: ex_* = expected numerator of the pipeline's rate)."""
    lines = prepared.mature_lines
    # (order, sku, product): the generator's SKU codes collide ("SJ" is Skinny Jean and Slim Jean)
    t = truth.lines[["name", "sku", "product", "p_refund"]].rename(columns={"name": "order_id", "product": "pn"})
    t = t.assign(p_base=t["pn"].map(_base_rates()).astype(float))
    keep = [
        c for c in ("order_id", "sku", "quantity", "order_n", "collection", "category", "product", "size") if c in lines
    ]
    keep += [c for c in ORDER_DIMENSIONS if c in lines and c not in keep]
    key = {"order_id": object, "sku": object, "pn": object}
    df = (
        lines[keep]
        .assign(pn=lines["product_name"])
        .astype(key)
        .merge(t.astype(key), on=list(key), how="left", validate="m:1")
    )
    if df["p_refund"].isna().any():
        raise RuntimeError(f"{int(df['p_refund'].isna().sum())} pipeline lines not in the generator's truth")
    for k in ("p_refund", "p_base"):
        q = 1.0 - df.groupby("order_id", sort=False)[k].transform(lambda s: float(np.prod(1.0 - s.to_numpy())))
        df[f"ex_unit_{k}"] = df["quantity"].astype(float) * df[k]
        df[f"ex_order_{k}"] = q * df["order_n"].astype(float)
    return df


def _combination_mask(df: pd.DataFrame, segment: str) -> pd.Series:
    """Lines of the combination's two collections in orders holding both."""
    parts = [s.strip() for s in segment.split(" + ")]
    coll = df["collection"].astype(object)
    has = [df.groupby("order_id")["collection"].transform(lambda s, c=c: (s.astype(object) == c).any()) for c in parts]
    both = has[0] & has[1] if len(has) == 2 else pd.Series(False, index=df.index)
    return both & coll.isin(parts)


def _ratio(df: pd.DataFrame, dimension: str, segment: str, reference: str, key: str, basis: str = "") -> float:
    """Expected segment rate / expected comparison rate under probabilities `key` (p_refund or p_base), on
    the pipeline's basis for the dimension ("order" or "unit"; by default orders for order-level dimensions,
    as before the order-refund outcome compared every dimension on units)."""
    if dimension == "combination":
        seg = _combination_mask(df, segment)
    elif segment == "(not set)":
        seg = df[dimension].isna()
    else:
        seg = df[dimension].astype(object).astype(str) == segment
    group = pd.Series(True, index=df.index)
    if isinstance(reference, str) and reference.startswith("size system: "):
        from data.sizes import size_system

        system = df["size"].astype(object).map(lambda v: None if pd.isna(v) else size_system(v))
        group = system == reference.removeprefix("size system: ")
    elif isinstance(reference, str) and reference.startswith("category: "):
        group = df["category"].astype(object) == reference.removeprefix("category: ")
    rest = group & ~seg
    basis = basis or ("order" if dimension in ORDER_DIMENSIONS else "unit")
    num, den = f"ex_{basis}_{key}", ("order_n" if basis == "order" else "quantity")
    s_rate = df.loc[seg, num].sum() / df.loc[seg, den].astype(float).sum()
    r_rate = df.loc[rest, num].sum() / df.loc[rest, den].astype(float).sum()
    return float(s_rate / r_rate) if r_rate > 0 else float("nan")


def replicate(seed: int, effects: bool, n_orders: int) -> dict:
    from analysis.engine import analyse
    from analysis.prepare import prepare
    from data.ingest import SourceFile, load_dataset
    from data.shopify_sample import generate_shopify_export

    files, truth = generate_shopify_export(seed=seed, n_orders=n_orders, effects=effects)
    prepared = prepare(load_dataset([SourceFile(n, c) for n, c in files.items()]))
    fix = analyse(prepared, briefs=False).fix_list
    df = _truth_lines(prepared, truth) if len(fix) else None
    rows = []
    for dim, seg, ref in zip(fix.get("dimension", []), fix.get("segment", []), fix.get("reference", [])):
        seg = str(seg)
        ref = str(ref) if ref is not None and not pd.isna(ref) else "all"
        if effects and (dim, seg) in PLANTED:
            rows.append({"dimension": dim, "segment": seg, "reference": ref, "class": "planted"})
            continue
        assert df is not None
        # the rate the pipeline compares for this dimension (Prepared.rate_columns): refunded orders / orders
        # or refunded units / units
        basis = "order" if getattr(prepared, "rate_columns", lambda d: ("", ""))(dim)[1] == "order_n" else "unit"
        rb, rt = _ratio(df, dim, seg, ref, "p_base", basis), _ratio(df, dim, seg, ref, "p_refund", basis)
        cls = "structure" if rb >= MARGIN else ("implied" if rt >= MARGIN else "false")
        rows.append(
            {"dimension": dim, "segment": seg, "reference": ref, "class": cls, "base_ratio": rb, "true_ratio": rt}
        )
    return {"seed": seed, "effects": effects, "rows": rows}


def summarise(reps: list[dict]) -> dict:
    """Shares of replicates and mean rows per class; counts of each non-planted row."""
    r = len(reps)
    out: dict = {"replicates": r}
    if not r:  # an arm not run (--planted 0)
        return out
    out["any_row"] = sum(1 for x in reps if x["rows"]) / r
    out["rows_per_list"] = sum(len(x["rows"]) for x in reps) / r
    for cls in ("planted", "structure", "implied", "false"):
        n = [sum(1 for y in x["rows"] if y["class"] == cls) for x in reps]
        out[f"any_{cls}"] = sum(1 for k in n if k) / r
        out[f"{cls}_per_list"] = sum(n) / r
        listed = Counter(f"{y['dimension']}={y['segment']}" for x in reps for y in x["rows"] if y["class"] == cls)
        out[f"{cls}_rows"] = dict(listed.most_common())
    out["dimensions"] = dict(Counter(y["dimension"] for x in reps for y in x["rows"]).most_common())
    if reps and reps[0]["effects"]:
        out["power"] = {
            f"{d}={s}": sum(1 for x in reps if any((y["dimension"], y["segment"]) == (d, s) for y in x["rows"])) / r
            for d, s in sorted(PLANTED)
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nulls", type=int, default=40)
    ap.add_argument("--planted", type=int, default=20)
    ap.add_argument("--n-orders", type=int, default=4000)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--out", default="", help="write every replicate's rows and the summary as JSON")
    args = ap.parse_args(argv)
    t0 = time.time()
    result: dict = {"n_orders": args.n_orders}
    for arm, effects, r in (("null", False, args.nulls), ("planted", True, args.planted)):
        reps = []
        for i in range(r):
            reps.append(replicate(args.first_seed + i, effects, args.n_orders))
            print(f"{arm} {i + 1}/{r} {time.time() - t0:.0f}s {reps[-1]['rows']}", file=sys.stderr, flush=True)
        result[arm] = {"summary": summarise(reps), "replicates": reps}
        print(arm, json.dumps(result[arm]["summary"], indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
