"""Dashboard responsiveness on ~1M order lines: page switches and filter changes once data is loaded.

Runs the real app with Streamlit's AppTest (the same script runner as a browser session, without the
network) on a generated dataset of about 1M order lines, and times, in the same run (medians of 3):
- the first load (generate + prepare + analyse: the one-off cost a user pays once per dataset);
- switching to each page once loaded (cache hits);
- a filter change seen for the first time (prepare filter + analyse) and the same filter again;
- as the baseline, a plain pandas groupby of collection return rates on the same lines: the cheapest
  possible recomputation of one number, which a cache hit must beat.
Script-run time only: AppTest draws nothing, so this is not what a user waits for on a page switch;
bench/bench_browser.py measures that in a real browser.
Run: .venv/bin/python -m bench apptest   (not part of the test suite).
"""

from __future__ import annotations

import statistics
import time

from bench.timing import median_time

N_ORDERS = 450_000  # ~880k order lines
PAGES = [
    "views/overview.py",
    "views/collections.py",
    "views/intents.py",
    "views/combinations.py",
    "views/journeys.py",
    "views/reasons.py",
    "views/trends.py",
    "views/fixlist.py",
    "views/interventions.py",
]


def main() -> dict:
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from dashboard import session as S

    app = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
    spec = S.DatasetSpec(kind="demo", seed=7, name="bench")
    # put a large generated dataset in the dashboard's dataset cache under a spec of its own
    from dashboard import cache
    from data.demo import generate_dataset

    t = time.perf_counter()
    ds = generate_dataset(seed=7, n_orders=N_ORDERS)
    gen_s = time.perf_counter() - t
    with cache._DATASETS_LOCK:
        cache._DATASETS[spec] = (ds, time.monotonic())  # (dataset, last use), as dataset_for keeps them
    lines = len(ds.orders)

    def session(page: str, collections: tuple = ()) -> AppTest:
        at = AppTest.from_file(app, default_timeout=900)
        at.session_state[S.DATASET_SPEC] = spec
        if collections:
            at.session_state[S.F_COLLECTIONS] = list(collections)
        at.switch_page(page)
        at.run()
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].message}")
        return at

    t = time.perf_counter()
    session("views/overview.py")
    first_load = time.perf_counter() - t
    per_page = {p.split("/")[-1][:-3]: median_time(lambda p=p: session(p)) for p in PAGES}
    t = time.perf_counter()
    session("views/overview.py", ("Linen Shirts", "Smart Lighting"))
    new_filter = time.perf_counter() - t
    same_filter = median_time(lambda: session("views/overview.py", ("Linen Shirts", "Smart Lighting")))

    o = ds.orders
    baseline = median_time(lambda: o.groupby("collection")["quantity"].sum())
    result = {
        "order_lines": lines,
        "generate_s": round(gen_s, 2),
        "first_load_s": round(first_load, 2),
        "page_switch_median_s": round(statistics.median(per_page.values()), 3),
        "page_switch_max_s": round(max(per_page.values()), 3),
        "per_page_s": {k: round(v, 3) for k, v in per_page.items()},
        "new_filter_s": round(new_filter, 2),
        "same_filter_again_s": round(same_filter, 3),
        "pandas_groupby_baseline_s": round(baseline, 4),
        "page_switch_vs_groupby": round(statistics.median(per_page.values()) / baseline, 1),
    }
    for k, v in result.items():
        print(f"{k}: {v}")
    return result


if __name__ == "__main__":
    main()
