"""CLI via subprocess on the demo exports in each layout, on bad input, and on the real export (slow)."""

from __future__ import annotations

import json
import subprocess
import sys

import openpyxl
import pytest

from tests.conftest import REAL_DATA, ROOT


def run(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "analysis", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    res = run("demo", "--out", d, "--orders", 2500)
    assert res.returncode == 0, res.stderr
    return d


def test_report_generic_layout_with_exports(demo, tmp_path):
    out, js = tmp_path / "fix.xlsx", tmp_path / "s.json"
    res = run(
        "report",
        "--briefs",
        "--orders",
        demo / "orders.xlsx",
        "--returns",
        demo / "returns.csv",
        "--returns",
        demo / "fba_customer_returns.tsv",
        "--catalog",
        demo / "catalog.csv",
        "--interventions",
        demo / "interventions.csv",
        "--cost-per-return",
        30,
        "--out",
        out,
        "--json",
        js,
    )
    assert res.returncode == 0, res.stderr
    assert "Unit return rate" in res.stdout and "Fix list" in res.stdout and "Interventions" in res.stdout
    d = json.loads(js.read_text())
    assert d["totals"]["units_sold"] > 0 and d["settings"]["cost_per_return"] == 30
    assert d["fix_list"] and d["fix_list"][0]["rank"] == 1
    wb = openpyxl.load_workbook(out)
    assert "Fix list" in wb.sheetnames and "Interventions" in wb.sheetnames
    # the printed top rows are the JSON's top rows
    assert d["fix_list"][0]["why"].split(";")[0] in res.stdout
    # issue 5/6 additions: interventions evaluated, reasons vs rest, briefs and reason mix per fix-list row
    iv = d["interventions"][0]
    assert iv["segment"] == "Hiking Jackets" and iv["verdict"] and "comparison_segments" in iv
    smart = [r for r in d["reasons"] if r["segment"] == "Smart Lighting" and r["dimension"] == "collection"]
    top = max(smart, key=lambda r: r["share"])
    assert top["reason_category"] == "setup_confusion" and top["share"] > top["rest_share"]
    assert d["fix_list"][0]["brief"].startswith("# Brief 1") and isinstance(d["fix_list"][0]["reason_mix"], dict)
    assert {"Reasons", "Exchanges"} <= set(wb.sheetnames)


def test_mapping_reason_overrides_reach_the_analysis(demo, tmp_path):
    mapping = tmp_path / "m.json"
    mapping.write_text(
        json.dumps(
            {"reason_overrides": {"runs small": "quality", "SIZE_TOO_SMALL": "quality", "Size too small": "quality"}}
        )
    )
    js = tmp_path / "s.json"
    res = run(
        "report",
        "--orders",
        demo / "orders.xlsx",
        "--returns",
        demo / "returns.csv",
        "--mapping",
        mapping,
        "--json",
        js,
    )
    assert res.returncode == 0, res.stderr
    d = json.loads(js.read_text())
    linen = {r["reason_category"]: r for r in d["reasons"] if r["segment"] == "Linen Shirts"}
    base = tmp_path / "b.json"
    assert (
        run("report", "--orders", demo / "orders.xlsx", "--returns", demo / "returns.csv", "--json", base).returncode
        == 0
    )
    linen0 = {
        r["reason_category"]: r for r in json.loads(base.read_text())["reasons"] if r["segment"] == "Linen Shirts"
    }
    # the corrected reasons move returns from size_too_small to quality
    assert linen["quality"]["returned"] > linen0.get("quality", {"returned": 0})["returned"]


def test_report_shopify_layout_csv_out(demo, tmp_path):
    out = tmp_path / "fix.csv"
    res = run(
        "report",
        "--orders",
        demo / "shopify_orders_export.csv",
        "--returns",
        demo / "returns.csv",
        "--window-days",
        30,
        "--out",
        out,
    )
    assert res.returncode == 0, res.stderr
    assert "return window 30 days" in res.stdout
    assert out.read_bytes().startswith(b"\xef\xbb\xbfRank,")


def test_bad_input_exits_2_with_a_readable_message(tmp_path):
    bad = tmp_path / "orders.csv"
    bad.write_text("foo,bar\n1,2\n")
    res = run("report", "--orders", bad)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and res.stderr.startswith("Error: ")
    assert "orders.csv" in res.stderr and "Fix:" in res.stderr
    res = run("report", "--orders", tmp_path / "missing.csv")
    assert res.returncode == 2 and "File not found" in res.stderr and "Traceback" not in res.stderr
    res = run("report", "--returns", bad)
    assert res.returncode == 2 and "--orders" in res.stderr
    res = run("report", "--orders", bad, "--out", tmp_path / "x.pdf")
    assert res.returncode == 2 and ".xlsx or .csv" in res.stderr


@pytest.mark.slow
def test_report_on_real_transactions_export(tmp_path):
    if not REAL_DATA.exists():
        pytest.skip(f"real export not found at {REAL_DATA}")
    js = tmp_path / "s.json"
    # the estimated window is 120 days here (Kaplan-Meier: credit notes come late; see test_maturity), which
    # leaves order #518505 among the recent orders; 108 days (the old estimate) keeps it in the rates
    res = run("report", "--transactions", REAL_DATA, "--json", js, "--window-days", "108")
    assert res.returncode == 0, res.stderr
    # one wholesale order is ~60% of returned units: said before anything else
    assert res.stdout.startswith("Note: One order (#518505, 87,167 units sold) is 60% of all returned units")
    d = json.loads(js.read_text())
    t = d["totals"]
    assert t["orders"] > 10_000 and 0 < t["unit_return_rate"] < 0.2
    assert t["rejected_rows"] > 0  # non-merchandise, unmatched credit notes, ... are accounted for
    assert {s["dimension"] for s in d["segments"]} >= {"product", "collection"}
    # wholesale baskets (median order of many units): consumer intents are not claimed, and the notes say why
    assert "intent" not in {s["dimension"] for s in d["segments"]}
    # the matching rule (credit notes need an identified customer) would make the first-vs-repeat difference
    assert "customer_type" not in {s["dimension"] for s in d["segments"]}
    assert any(n.startswith("First vs repeat customers is not tested") for n in d["notes"])
    assert any(n.startswith("Customer intents") and "wholesale" in n for n in d["notes"])


def test_text_with_nan_survives_and_missing_output_folder_is_a_clean_error(demo, tmp_path):
    iv = tmp_path / "iv.csv"
    iv.write_text("dimension,segment,start_date,description\ncollection,Hiking Jackets,2026-04-01,NaNo fit guide\n")
    js = tmp_path / "s.json"
    res = run(
        "report",
        "--orders",
        demo / "orders.xlsx",
        "--returns",
        demo / "returns.csv",
        "--interventions",
        iv,
        "--json",
        js,
    )
    assert res.returncode == 0, res.stderr
    assert "NaNo fit guide" in js.read_text() and "nullo" not in js.read_text()
    res = run("report", "--orders", demo / "orders.xlsx", "--out", tmp_path / "nope" / "fix.xlsx")
    assert res.returncode == 2 and "Output folder not found" in (res.stdout + res.stderr)
    assert "Traceback" not in res.stderr


def test_the_report_releases_the_rows_as_read_once_prepared():
    """cmd_report hands _report a Dataset whose orders and returns are empty frames of the same columns and
    dtypes that share no memory with the rows as read (so those are freed before analyse); the account the
    report prints (name, files, rejected rows, interventions) is kept."""
    import numpy as np

    from analysis.cli import _without_rows
    from data.demo import generate_dataset

    ds = generate_dataset(seed=2, n_orders=300)
    out = _without_rows(ds)
    for name in ("orders", "returns"):
        before, after = getattr(ds, name), getattr(out, name)
        assert len(before) > 0 and len(after) == 0
        assert list(after.columns) == list(before.columns)
        assert after.dtypes.to_dict() == before.dtypes.to_dict()
        for c in before.columns:
            arrow = getattr(after[c].array, "_pa_array", None)
            if arrow is not None:  # an empty slice of an Arrow column would hold all of its buffers
                assert arrow.get_total_buffer_size() < 100
            else:
                assert not np.shares_memory(after[c].to_numpy(), before[c].to_numpy())
    assert (out.name, out.files, out.rows_rejected) == (ds.name, ds.files, ds.rows_rejected)
    assert out.interventions is ds.interventions and out.unmatched_returns is ds.unmatched_returns


def test_report_in_process_puts_the_collection_thresholds_back(demo, capsys):
    # the report collects garbage less often (analysis.cli._CLI_GC_THRESHOLD); a caller in the same process keeps
    # its own thresholds, whether the report succeeds or fails
    import gc

    from analysis import cli

    before = gc.get_threshold()
    assert cli.main(["report", "--orders", str(demo / "orders.xlsx"), "--returns", str(demo / "returns.csv")]) == 0
    assert gc.get_threshold() == before
    assert cli.main(["report", "--orders", str(demo / "no such file.csv")]) == 2
    assert gc.get_threshold() == before


def test_report_says_how_each_file_was_read(tmp_path):
    # an orders export with a status column: the CLI lists what loading did (as the dashboard's load report) and
    # the JSON carries each file's counts and notes; expected counts written out by hand below
    rows = ["Order Number,Order Date,Order Status,SKU,Quantity,Item Cost"]
    statuses = ["completed", "refunded", "cancelled", "on-hold"]
    for i in range(40):
        rows.append(f"{100 + i},2024-03-{1 + i % 28:02d},{statuses[i % 4]},{['TEE', 'CAP', 'MUG'][i % 3]},1,10")
    f = tmp_path / "woo.csv"
    f.write_text("\n".join(rows) + "\n")
    js = tmp_path / "r.json"
    res = run("report", "--orders", f, "--json", js)
    assert res.returncode == 0, res.stderr
    # 40 lines, one order each: 10 cancelled set apart; 10 refunded; 10 on-hold counted as sold and named
    assert "Read woo.csv (Generic table, orders): 40 rows = 30 loaded + 10 set apart or rejected" in res.stdout
    assert "10 refunded order(s)" in res.stdout
    assert "'on-hold' (10 orders)" in res.stdout
    (rec,) = json.loads(js.read_text())["files"]
    assert (rec["rows_read"], rec["rows_loaded"], rec["rows_rejected"]) == (40, 30, 10)
    assert rec["rejected_by_kind"] == {"cancelled": 10}
    assert any("'on-hold' (10 orders)" in n for n in rec["notes"])
