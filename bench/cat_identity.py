"""Everything a user sees, dumped to a folder, to compare two versions of the code byte for byte (issue 14, the
low-cardinality text columns held as categoricals: the outputs must not change).

Run once per checkout, from that checkout (its code is the one imported), then diff the two folders:
    cd /path/to/base && PYTHONPATH=. python /path/to/this/bench/cat_identity.py /tmp/base-out
    cd /path/to/new  && PYTHONPATH=. python bench/cat_identity.py /tmp/new-out
    python bench/cat_identity.py --compare /tmp/base-out /tmp/new-out

What is dumped:
- the CLI (`python -m analysis report`): its report text, --json, the fix list as CSV and the Excel workbook's
  cell values (with --briefs; every sheet, every cell), on the real Online Retail II file (signed transactions), the demo
  exports and a generated Shopify export (data.shopify_sample);
- every dashboard page under AppTest (tests/app helpers), on the demo and on the Shopify export, without a
  sidebar filter, with the first collection and with the first channel: titles, headers, markdown, captions, metrics, info/warning
  texts, every table's values as CSV, and every plotly chart's figure (data and layout, as JSON).
Not part of the test suite (it takes minutes); the element values of a table's dtypes are dumped apart
(dtypes.txt), since a categorical column shows the same values.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REAL = Path("/work/shared/data/online_retail_II_2009-12_to_2010-11.csv.gz")
SHOPIFY = [Path("/tmp/shopx/orders_export_1.csv"), Path("/tmp/shopx/orders_export_2.csv")]


def _cli(out: Path, name: str, args: list[str]) -> None:
    d = out / "cli" / name
    d.mkdir(parents=True, exist_ok=True)
    for kind in ("csv", "xlsx"):  # run in the output folder, so that the paths printed are the same
        res = subprocess.run(
            [sys.executable, "-m", "analysis", "report", *args, "--out", f"fixlist.{kind}"]
            + (["--json", "summary.json"] if kind == "csv" else ["--briefs"]),
            capture_output=True,
            text=True,
            cwd=d,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        (d / f"stdout-{kind}.txt").write_text(res.stdout + f"\nexit {res.returncode}\n" + res.stderr[-2000:])
    import openpyxl

    wb = openpyxl.load_workbook(d / "fixlist.xlsx", read_only=True, data_only=True)
    with open(d / "xlsx-cells.txt", "w") as f:
        for ws in wb.worksheets:
            f.write(f"## {ws.title}\n")
            for row in ws.iter_rows(values_only=True):
                f.write(repr(row) + "\n")
    (d / "fixlist.xlsx").unlink()


def _elements(at) -> tuple[dict, list[str]]:
    import pandas as pd

    out: dict[str, list] = {}
    dtypes = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        out[kind] = [str(e.value) for e in getattr(at, kind)]
    out["metric"] = [(m.label, m.value, m.delta) for m in at.metric]
    out["sidebar_caption"] = [c.value for c in at.sidebar.caption]
    tables = []
    for e in list(at.dataframe) + list(at.table):
        v = e.value
        if isinstance(v, pd.DataFrame):
            tables.append(v.to_csv())
            dtypes.append(" ".join(f"{c}:{t}" for c, t in v.dtypes.astype(str).items()))
        else:
            tables.append(repr(v))
    out["tables"] = tables
    charts = []
    for e in at.get("plotly_chart"):
        spec = json.loads(e.proto.spec) if getattr(e.proto, "spec", "") else {}
        charts.append(json.dumps({"data": spec.get("data"), "layout": spec.get("layout")}, sort_keys=True))
    out["charts"] = charts
    out["exception"] = [str(e.value) for e in at.exception]
    return out, dtypes


def _pages(out: Path, name: str, spec, contents) -> None:
    from dashboard import session as S
    from tests.app.conftest import PAGES, run_page

    d = out / "pages" / name
    d.mkdir(parents=True, exist_ok=True)
    all_dtypes = []
    for page in PAGES:
        if page.endswith("upload.py"):
            continue
        for filtered in ("", S.F_COLLECTIONS, S.F_CHANNELS):
            at = run_page(page, spec, contents, timeout=300)
            if filtered:  # the first collection (lines of it), the first channel (whole orders)
                ms = at.multiselect(key=filtered)
                ms.set_value([sorted(ms.options)[0]]).run(timeout=300)
            els, dtypes = _elements(at)
            stem = Path(page).stem + (f"-{filtered}" if filtered else "")
            (d / f"{stem}.json").write_text(json.dumps(els, indent=1, sort_keys=True))
            all_dtypes += [f"{stem}: {t}" for t in dtypes]
    (d / "dtypes.txt").write_text("\n".join(all_dtypes) + "\n")


def main(out: Path) -> None:
    os.environ.setdefault("RI_STATE_DIR", str(out / "state"))
    out.mkdir(parents=True, exist_ok=True)
    demo = out / "demo-files"
    subprocess.run([sys.executable, "-m", "analysis", "demo", "--out", str(demo)], check=True, capture_output=True)
    demo_args = []
    for f in sorted(demo.iterdir()):
        role = next((r for r in ("orders", "returns", "catalog", "interventions") if r in f.name), None)
        if role:
            demo_args += [f"--{role}", str(f)]
    _cli(out, "demo", demo_args)
    _cli(out, "shopify", [a for f in SHOPIFY for a in ("--orders", str(f))])
    if "--no-real" not in sys.argv:
        _cli(out, "real", ["--transactions", str(REAL)])

    from tests.app.conftest import upload_spec

    _pages(out, "demo", None, None)
    spec, contents = upload_spec({f.name: (f.read_bytes(), "orders") for f in SHOPIFY}, name="shopify")
    _pages(out, "shopify", spec, contents)


_FLOAT = re.compile(r"-?\d+\.\d+(?:e-?\d+)?")


def _rounded(text: str) -> str:
    return _FLOAT.sub(lambda m: f"{float(m.group()):.12g}", text)


def compare(a: Path, b: Path) -> int:
    """Every file of a against b: "same" (byte for byte), "same to 12 digits" (floats rounded to 12 significant
    digits: the order-refund outcome's float sums in DuckDB vary in their last digits from run to run of the same
    code) or "DIFFERENT". Returns the number of different files."""
    bad = 0
    for f in sorted(p for p in a.rglob("*") if p.is_file() and "demo-files" not in p.parts and "state" not in p.parts):
        g = b / f.relative_to(a)
        x, y = f.read_bytes(), g.read_bytes() if g.exists() else b""
        if x == y:
            verdict = "same"
        elif _rounded(x.decode(errors="replace")) == _rounded(y.decode(errors="replace")):
            verdict = "same to 12 digits"
        else:
            verdict = "DIFFERENT"
            bad += 1
        print(f"{verdict:18} {f.relative_to(a)}")
    return bad


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        sys.exit(1 if compare(Path(sys.argv[2]), Path(sys.argv[3])) else 0)
    main(Path(sys.argv[1]))
