"""What a new filter computes, in process: `python -m bench.bench_filter` (run from the checkout to measure).

The generated demo at RI_DEMO_ORDERS orders (default 510,000: 995,372 lines) is prepared and analysed once, as the
dashboard's first load does; then, for the six cumulative filter steps of bench/bench_browser.py's
``measure_filters``, ``filter_prepared`` plus what the page shown computes: ``analyse`` (briefs off) on Overview,
``analysis.engine.segment_stage`` on Collections and Journeys where the checkout has it (else ``analyse``). CPU
seconds (getrusage), medians of 3; each repetition filters afresh, so nothing is reused between them. For an A/B,
run it in a checkout of the code before (``git archive HEAD | tar -x -C DIR``) and in this one, one after the
other (README "Benchmarks", new filter).
"""

from __future__ import annotations

import json
import os
import resource
import statistics

os.environ.setdefault("RI_DUCKDB_THREADS", "1")  # as the dashboard (dashboard/cache.py)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# the steps of bench/hand_query.sql that a new filter cannot reuse from the unfiltered data: both cluster
# levels' segment sums and the pair self-join (allocation, intents and the return window are the prepared data's)
FILTER_STEPS = ("segments_orders", "segments_customers", "pairs")


def _hand_counting(dataset, f, window_days: int) -> dict:
    """The floor for a new filter: bench/hand_query.sql (issue 14's hand-written query) over the canonical
    tables of the filtered orders, on DuckDB's default threads (both cores), with the unfiltered data's return
    window. CPU and wall seconds of FILTER_STEPS, medians of 3."""
    import duckdb

    from bench.hand_query import load_tables, run_hand_query

    o = dataset.orders
    keep = o["channel"].isin(f.channels) if f.channels else True
    if f.journeys:
        keep = keep & o["journey"].isin(f.journeys)
    orders = o[keep]
    returns = dataset.returns[dataset.returns["order_id"].isin(orders["order_id"])]
    cpus, walls = [], []
    for _ in range(3):
        con = duckdb.connect()
        load_tables(con, orders, returns)
        cpu: dict[str, float] = {}
        wall: dict[str, float] = {}
        run_hand_query(con, window_days=window_days, cpu=cpu, wall=wall)
        con.close()
        cpus.append(sum(cpu[k] for k in FILTER_STEPS))
        walls.append(sum(wall[k] for k in FILTER_STEPS))
    return {"cpu_s": round(statistics.median(cpus), 3), "wall_s": round(statistics.median(walls), 3)}


def main() -> dict:
    import analysis.engine as engine
    from analysis.prepare import Filters, filter_prepared, prepare
    from data.demo import generate_dataset

    n_orders = int(os.environ.get("RI_DEMO_ORDERS", "510000"))
    dataset = generate_dataset(seed=7, n_orders=n_orders)
    full = prepare(dataset)
    t = _cpu()
    engine.analyse(full, engine.Settings(), briefs=False)
    result: dict = {"lines": len(full.lines), "full_analyse_cpu_s": round(_cpu() - t, 2), "steps": []}
    filter_prepared(full, Filters(channels=("Web",)))  # the order codes, once per dataset, as the first filter
    stage = getattr(engine, "segment_stage", None)
    web_app = ("Web", "App")
    steps = [
        ("Overview", Filters(channels=("Web",))),
        ("Overview", Filters(channels=web_app)),
        ("Overview", Filters(channels=web_app, journeys=("Direct",))),
        ("Collections", Filters(channels=web_app, journeys=("Direct", "Homepage"))),
        ("Collections", Filters(channels=web_app + ("Marketplace",), journeys=("Direct", "Homepage"))),
        (
            "Journeys",
            Filters(channels=web_app + ("Marketplace",), journeys=("Direct", "Homepage", "Google Shopping")),
        ),
    ]
    for page, f in steps:
        total, filt = [], []
        kept = 0
        for _ in range(3):
            t = _cpu()
            fp = filter_prepared(full, f)
            t1 = _cpu()
            if page == "Overview" or stage is None:
                engine.analyse(fp, engine.Settings(), briefs=False)
            else:
                stage(fp, engine.Settings())
            total.append(_cpu() - t)
            filt.append(t1 - t)
            kept = len(fp.lines)
        step = {
            "page": page,
            "lines_kept": kept,
            "cpu_s": round(statistics.median(total), 3),
            "filter_prepared_cpu_s": round(statistics.median(filt), 3),
            "hand_counting": _hand_counting(dataset, f, full.window_days),
        }
        result["steps"].append(step)
        print(json.dumps(step), flush=True)
    result["median_cpu_s"] = round(statistics.median(s["cpu_s"] for s in result["steps"]), 3)
    result["hand_counting_median_wall_s"] = round(
        statistics.median(s["hand_counting"]["wall_s"] for s in result["steps"]), 3
    )
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
