"""Command line: `python -m analysis report ...` and `python -m analysis demo --out DIR`.

report reads files exactly as the dashboard does (data.ingest.load_dataset with SourceFile(name,
bytes, role)), runs analysis.engine.analyse, prints a short plain summary (totals and the top 5 of the
fix list) and optionally writes the fix list (.xlsx or .csv) and a JSON summary.
Bad input exits with status 2 and one readable paragraph (title, then every problem with its file,
column, examples and fix) - never a traceback. Unexpected errors exit with status 1 and one line
(add --debug to see the traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from data.errors import InputError, Problem, RIError

if TYPE_CHECKING:  # for annotations only (see below: the commands import lazily)
    import pandas as pd

    from analysis.engine import Analysis
    from analysis.prepare import Prepared
    from data.ingest import FileInfo, SourceFile
    from data.model import Dataset, FileReport

# pandas, the engine and the statistics are imported inside the commands that use them, so
# `python -m analysis --help` and argument errors answer without loading them.

ROLES = ("orders", "returns", "transactions", "catalog", "interventions")
TABLE_ROLES = ("orders", "returns", "catalog")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis", description="Returns Intelligence: returns analysis from the command line."
    )
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="Analyse order and return exports and write the fix list.")
    r.add_argument("--orders", action="append", default=[], metavar="F", help="Orders export (CSV/XLSX); repeatable.")
    r.add_argument(
        "--returns", action="append", default=[], metavar="F", help="Returns export (CSV/TSV/XLSX); repeatable."
    )
    r.add_argument(
        "--transactions",
        action="append",
        default=[],
        metavar="F",
        help="Signed transactions export (sales and returns in one table, e.g. ERP/POS).",
    )
    r.add_argument("--catalog", action="append", default=[], metavar="F", help="Product catalog (optional).")
    r.add_argument(
        "--mapping",
        metavar="F.json",
        help="Column mapping saved from the dashboard (optional): each file named in its files section is read with "
        "its own columns, any other with its role's.",
    )
    r.add_argument("--interventions", metavar="F", help="Log of guidance changes to evaluate (optional).")
    r.add_argument(
        "--cost-per-return",
        type=float,
        default=None,
        metavar="X",
        help="Cost of one returned unit (default: average returned value per unit + 8 handling).",
    )
    r.add_argument(
        "--window-days",
        type=int,
        default=None,
        metavar="N",
        help="Return window in days (default: estimated from the data).",
    )
    r.add_argument("--out", metavar="fixlist.xlsx|fixlist.csv", help="Write the fix list (Excel workbook or CSV).")
    r.add_argument("--json", metavar="summary.json", help="Write totals, segments and fix list as JSON.")
    r.add_argument(
        "--briefs",
        action="store_true",
        help="Also write a guidance brief per fix-list row into the workbook (slower on large data).",
    )
    r.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="Where the counting queries run: duckdb (default, in process) or spark (the same SQL, "
        "transpiled; local[2], SPARK_MASTER or SPARK_REMOTE).",
    )
    for role in TABLE_ROLES:
        r.add_argument(
            f"--{role}-table",
            metavar="SRC",
            dest=f"{role}_table",
            help=f"Canonical {role} table (data.schema columns): a Parquet file or folder, or with "
            f"--engine spark a table name in the Spark catalog.",
        )
    r.add_argument("--debug", action="store_true", help="Show tracebacks of unexpected errors.")
    d = sub.add_parser("demo", help="Write the demo exports (orders, returns, catalog, interventions) to a folder.")
    d.add_argument("--out", required=True, metavar="DIR")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--orders", type=int, default=3000, dest="n_orders", metavar="N")
    return p


def _input_error(title: str, message: str, problems: Iterable[dict[str, Any] | Problem] = ()) -> InputError:
    return InputError(title, message, [Problem(**p) if isinstance(p, dict) else p for p in problems])


def _sources_for_role(
    name: str, content: bytes, role: str, searched: dict[bytes, tuple[FileInfo, ...]]
) -> list[SourceFile]:
    """The file as `role`; for a workbook whose sheets hold tables of several roles (orders and returns on
    sheets of their own), every sheet detected as that role (orders split over a sheet per year are all read, as
    the dashboard chooses them all), so `--orders book.xlsx --returns book.xlsx` reads each from its sheets.
    searched: the workbooks' tables found so far (a search reads every sheet: once per workbook, not per role)."""
    from data.ingest import SourceFile, table_sheets
    from data.readers import is_excel, list_sheets

    if not is_excel(name, content):
        return [SourceFile(name, content, role)]
    try:
        several = len(list_sheets(content)) > 1  # a one-sheet workbook is not read twice
    except Exception:  # noqa: BLE001 - unreadable (protected, damaged): loading says why, with its fix
        several = False
    if several:
        if content not in searched:
            searched[content] = table_sheets(name, content)
        match = [i.sheet for i in searched[content] if i.role == role]
        if match:  # also past a cover sheet before the only table
            return [SourceFile(name, content, role, sheet) for sheet in match]
    return [SourceFile(name, content, role)]


def _unread_sheets(files: list[SourceFile], searched: dict[bytes, tuple[FileInfo, ...]]) -> list[str]:
    """A sentence per workbook sheet that holds a table of a role the workbook was not given as (an Orders and a
    Returns sheet in one book given as --orders only): not read, and said, with the option that reads it."""
    out: list[str] = []
    for content, infos in searched.items():
        given = [sf for sf in files if sf.content is content or sf.content == content]
        if not given:
            continue
        name, roles = given[0].name, {sf.role for sf in given}
        for info in infos:
            if info.role not in roles and info.role in ROLES and info.sheet not in {sf.sheet for sf in given}:
                out.append(
                    f"{name} also holds a table of {info.role} on sheet '{info.sheet}', not read: "
                    f"add --{info.role} {name} to read it."
                )
    return out


def _read_sources(args: argparse.Namespace, notes: list[str] | None = None) -> list[SourceFile]:
    """The files given on the command line, as SourceFiles; notes (when given) gets a sentence per workbook sheet
    of another role that is not read (see _unread_sheets)."""
    files: list[SourceFile] = []
    missing: list[dict[str, Any]] = []
    searched: dict[bytes, tuple[FileInfo, ...]] = {}
    for role in ROLES:
        values = getattr(args, role)
        for path in [values] if isinstance(values, str) else values or []:
            f = Path(path)
            if not f.is_file():
                missing.append(
                    {
                        "file": str(path),
                        "title": "File not found",
                        "message": f"No file at '{path}'.",
                        "fix": "Check the path and the spelling.",
                    }
                )
                continue
            files += _sources_for_role(f.name, f.read_bytes(), role, searched)
    if missing:
        raise _input_error("File not found", "Some files given on the command line do not exist.", missing)
    if not any(sf.role in ("orders", "transactions") for sf in files):
        raise _input_error(
            "No orders",
            "Give an orders export (--orders) or a transactions export (--transactions).",
            [
                {
                    "file": "(command line)",
                    "title": "No orders",
                    "message": "Return rates need the orders (or signed transactions) the returns came from.",
                    "fix": "Add --orders orders.csv or --transactions transactions.csv.",
                }
            ],
        )
    if notes is not None:
        notes.extend(_unread_sheets(files, searched))
    return files


def _print_error(exc: RIError) -> None:
    lines = [f"Error: {exc.title}. {exc.message}"]
    for p in exc.problems:
        lines.append("  - " + p.text())
    print("\n".join(lines), file=sys.stderr)


def _pct(v: float | None) -> str:
    import pandas as pd

    return "n/a" if v is None or pd.isna(v) else f"{float(v):.1%}"


def _summary_text(
    analysis: Analysis, dataset_name: str, prepared: Prepared | None = None, rejected_by_kind: dict | None = None
) -> str:
    from analysis.metrics import returns_not_loaded, unknown_reason
    from data.model import rejected_sentence

    t = analysis.totals
    rejected = rejected_sentence(rejected_by_kind or {})
    out = [f"Returns Intelligence report - {dataset_name}"]
    if prepared is not None:
        from analysis.overview import window_warning

        from data.validate import HEADLINE_NOTES

        warn = window_warning(prepared)
        if warn:
            out.append("WARNING: " + warn)
        out += ["WARNING: " + n for n in prepared.notes if n.startswith(HEADLINE_NOTES)]
    out.append(
        f"Period {t.get('date_from')} to {t.get('date_to')} (mature orders; return window {t['window_days']} days; "
        f"{t['immature_orders_excluded']:,} recent orders excluded)"
    )
    if t.get("outcome") == "order_refund":
        out += [
            "Outcome: orders with a customer refund (the export records refunds per order only; add a returns file "
            "for unit return rates); segments and the fix list compare refunded units / units sold, refunds "
            "attributed to items",
            f"Orders {t['orders']:,} | refunded {t['orders_refunded']:,} | order refund rate {_pct(t['order_refund_rate'])} "
            f"| refunded value {t['refunded_value']:,.2f}",
            f"Unit return rate: not in the data | cancelled or voided orders set apart {t['orders_cancelled']:,} | "
            f"add-on lines set apart {t['non_merchandise_lines']:,}",
        ]
    else:
        if returns_not_loaded(t):
            why = str(unknown_reason("unit_return_rate", t))  # "Not known: no returns are loaded. ..."
            out.append(f"WARNING: Return rates are {why[0].lower()}{why[1:]}")
        units_ret = "n/a" if t.get("units_returned") is None else f"{t['units_returned']:,}"
        out += [
            f"Orders {t['orders']:,} | units sold {t['units_sold']:,} | units returned {units_ret}",
            f"Unit return rate {_pct(t['unit_return_rate'])} | order return rate {_pct(t['order_return_rate'])} | "
            f"refunded {_pct(t['refund_share'])} | exchanged {_pct(t['exchange_share'])}",
        ]
    # without returns the default cost per return is the handling cost alone: not a cost of returns this data shows
    cost = "n/a (no returns loaded)" if returns_not_loaded(t) else f"{analysis.cost_per_return:,.2f}"
    out += [
        f"Rows not used {t['rejected_rows']:,}{': ' + rejected if rejected else ''}; "
        f"cost per {'refunded unit' if t.get('outcome') == 'order_refund' else 'returned unit'} {cost}",
        "",
    ]
    fl = analysis.fix_list
    if fl.empty and returns_not_loaded(t):
        out.append(
            "Fix list: none, since no returns are loaded."
            if not t.get("returns_matching_nothing")
            else "Fix list: none, since no loaded return matches an order."
        )
    elif fl.empty and getattr(analysis, "dropped", None) is not None and len(analysis.dropped):
        out.append("Fix list: empty; the segments that return clearly more are not listed, for the reasons below.")
    elif fl.empty:
        out.append(
            "Fix list: no segment "
            + ("is refunded" if t.get("outcome") == "order_refund" else "returns")
            + " clearly more than comparable items (q <= "
            f"{analysis.settings.q:g})."
        )
    else:
        out.append(f"Fix list (top {min(5, len(fl))} of {len(fl)}):")
        for _, r in fl.head(5).iterrows():
            out.append(f" {int(r['rank'])}. [{r['dimension']}] {r['label']}: {r['why']}")
            out.append(
                f"    excess {'refunded units' if t.get('outcome') == 'order_refund' else 'returns'} {r['excess_returns']:,.0f}, excess cost {r['excess_cost']:,.0f} "
                f"(at least {r['conservative_excess_cost']:,.0f}); action: {r['suggested_action']}"
            )
    addressed = getattr(analysis, "addressed", None)
    for sentence in addressed["sentence"] if addressed is not None and len(addressed) else []:
        out.append(f"Taken off the fix list by a logged change: {sentence}")
    dropped = getattr(analysis, "dropped", None)
    if dropped is not None and len(dropped):
        from analysis.fixlist import dropped_sentences

        said = dropped_sentences(dropped)
        out.append(
            f"Not listed although higher than the rest ({len(said)}" + (", first 5):" if len(said) > 5 else "):")
        )
        out += [f" - {s}" for s in said[:5]]
    return "\n".join(out)


def _interventions(prepared: Prepared, dataset: Dataset, args: argparse.Namespace) -> tuple[str | None, list[dict]]:
    if not args.interventions:
        return None, []
    from analysis.interventions import evaluate_all

    results = evaluate_all(prepared, dataset.interventions)
    if not results:
        return "Interventions: the file holds no usable interventions.", []
    import pandas as pd

    lines = ["Interventions:"]
    for r in results:
        start = r.get("start_date")
        start = pd.Timestamp(start).date().isoformat() if start is not None and not pd.isna(start) else "?"
        lines.append(
            f" - [{r.get('dimension')}] {r.get('segment')} from {start}: "
            f"{_pct(r.get('rate_before'))} before, {_pct(r.get('rate_after'))} after; {r.get('verdict')}"
        )
    return "\n".join(lines), results


def _reason_sheets(prepared: Prepared) -> dict[str, pd.DataFrame]:
    """Reasons and Exchanges sheets for the workbook (each says why it is empty when data is missing)."""
    from analysis.reasons import export_frames

    return export_frames(prepared)


def _reason_records(prepared: Prepared) -> list[dict]:
    """Over-represented reasons per segment of every dimension with data (JSON "reasons")."""
    from analysis.reasons import RETURN_DIMENSIONS, missing_message, reasons_vs_rest, vs_rest_records

    if missing_message(prepared, "reason"):
        return []
    out: list[dict] = []
    for dim in RETURN_DIMENSIONS:
        if prepared.has(dim) and dim in prepared.returns.columns:
            out.extend(vs_rest_records(reasons_vs_rest(prepared, dim)))
    return out


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.engine import Settings
    from data.ingest import load_dataset

    for target in (args.out, args.json):
        if target and not Path(target).resolve().parent.is_dir():
            raise _input_error(
                "Output folder not found", f"The folder of '{target}' does not exist; create it or choose another path."
            )
    if args.out and Path(args.out).suffix.lower() not in (".xlsx", ".csv"):
        raise _input_error("Unknown output type", f"--out must end in .xlsx or .csv (got '{args.out}').")
    try:
        settings = Settings(cost_per_return=args.cost_per_return, window_days=args.window_days)
    except ValueError as exc:
        raise _input_error("Bad setting", str(exc)) from None
    mapping = None
    if args.mapping:
        from data.mapping import MAX_MAPPING_BYTES, Mapping

        mp = Path(args.mapping)
        if not mp.is_file():
            raise _input_error("File not found", f"No mapping file at '{args.mapping}'.")
        if mp.stat().st_size > MAX_MAPPING_BYTES:  # refused before the file is read into memory
            raise _input_error(
                "Mapping file too large",
                f"{args.mapping} holds {mp.stat().st_size / 1e6:,.1f} MB; a "
                f"mapping is a few KB and at most {MAX_MAPPING_BYTES / 1e6:,.0f} MB is read.",
                [
                    {
                        "file": str(args.mapping),
                        "title": "Mapping file too large",
                        "message": "This is not a mapping file saved from the dashboard.",
                        "fix": "Give the mapping JSON downloaded from the mapping editor.",
                    }
                ],
            )
        mapping = Mapping.from_json(mp.read_bytes())
    if any(getattr(args, f"{role}_table", None) for role in TABLE_ROLES):
        dataset = _table_dataset(args)
    else:
        unread: list[str] = []
        files = _read_sources(args, unread)
        for sentence in unread:  # said first: a sheet of the workbook is not in the report
            print(f"Note: {sentence}")
        dataset = load_dataset(
            files, mapping, name=", ".join(sf.name if sf.sheet is None else f"{sf.name} [{sf.sheet}]" for sf in files)
        )
        del files  # the bytes as read: parsed
    from data.engine_sql import use_engine

    with use_engine(args.engine):
        prepared = _prepare(args, dataset, mapping)
        # the rows as read are not needed once prepared (the report reads the prepared frames, the Dataset's
        # account and interventions): released before analyse, they are not held beside its frames (at 5M
        # lines in no date order 1 GB of the peak, README "Memory")
        dataset = _without_rows(dataset)
        return _report(args, dataset, prepared, settings)


def _prepare(args: argparse.Namespace, dataset: Dataset, mapping: Any) -> Prepared:
    from analysis.prepare import prepare

    overrides = (mapping.reason_overrides or None) if mapping else None
    return prepare(dataset, window_days=args.window_days, reason_overrides=overrides)


def _without_rows(dataset: Dataset) -> Dataset:
    """The Dataset with empty orders and returns (same columns and dtypes; new frames: an empty slice or copy
    of an Arrow column would still hold the full buffers), the rest kept."""
    import dataclasses

    import pandas as pd

    def empty(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in df.dtypes.items()}, columns=df.columns)

    return dataclasses.replace(dataset, orders=empty(dataset.orders), returns=empty(dataset.returns))


def _table_dataset(args: argparse.Namespace) -> Dataset:
    """A Dataset from canonical tables (Parquet, or Spark tables with --engine spark): the tables a
    lake or warehouse already holds, with data.schema's columns; no file is parsed."""
    import pandas as pd

    from data.demo import _empty_rejected, canonical_frame
    from data.model import Dataset
    from data.schema import CATALOG, INTERVENTIONS, ORDERS, RETURNS

    if not args.orders_table:
        raise _input_error("No orders", "Give the orders table (--orders-table) with the returns table.")
    frames = {}
    for role, table in (("orders", ORDERS), ("returns", RETURNS), ("catalog", CATALOG)):
        src = getattr(args, f"{role}_table")
        if not src:
            frames[role] = canonical_frame(pd.DataFrame(), table)
            continue
        if args.engine == "spark":
            from data.engine_sql import read_spark_table

            df = read_spark_table(src)
        else:
            if not Path(src).exists():
                raise _input_error(
                    "File not found", f"No Parquet file or folder at '{src}' (a Spark table name needs --engine spark)."
                )
            df = pd.read_parquet(src)
        need = [c.name for c in table.columns if c.required and c.name not in df.columns]
        if need:
            raise _input_error(
                "Missing columns",
                f"The {role} table '{src}' has no column(s) {', '.join(need)}; "
                "canonical tables carry data.schema's column names.",
            )
        frames[role] = canonical_frame(df, table)
    empty = _empty_rejected()
    name = ", ".join(str(getattr(args, f"{r}_table")) for r in TABLE_ROLES if getattr(args, f"{r}_table"))
    return Dataset(
        name=name,
        orders=frames["orders"],
        returns=frames["returns"],
        catalog=frames["catalog"],
        interventions=canonical_frame(pd.DataFrame(), INTERVENTIONS),
        files=(),
        rejected=empty,
        unmatched_returns=empty,
        excluded=empty,
    )


def _file_record(f: FileReport) -> dict:
    """What the JSON says of one file read: as the dashboard's load report shows it."""
    return {
        "file": f.file,
        "sheet": f.sheet,
        "role": f.role,
        "layout": f.layout_label,
        "rows_read": f.rows_read,
        "rows_loaded": f.rows_loaded,
        "rows_rejected": f.rows_rejected,
        "rejected_by_kind": dict(f.rejected_by_kind),
        "notes": list(f.notes),
    }


def _loading_text(dataset: Dataset) -> str:
    """How each file was read and what loading did to it (statuses read, spellings matched, rows set apart): the
    notes the dashboard's load report lists under each file's name."""
    out = []
    for f in dataset.files:
        out.append(
            f"Read {f.label} ({f.layout_label}, {f.role}): {f.rows_read:,} rows = {f.rows_loaded:,} loaded "
            f"+ {f.rows_rejected:,} set apart or rejected"
        )
        out += [f"  - {n}" for n in f.notes]
        said = list(f.problems) + [p for p in dataset.problems if p.file in (f.file, f.label) and p not in f.problems]
        out += [f"  ! {p.title}: {p.message}" + (f" Fix: {p.fix}" if p.fix else "") for p in said]
    return "\n".join(out)


def _report(args: argparse.Namespace, dataset: Dataset, prepared: Prepared, settings: Any) -> int:
    import pandas as pd

    from analysis.engine import _jsonable, analyse
    from analysis.export import fixlist_csv, fixlist_xlsx

    unmatched = dataset.returns_matching_nothing
    analysis = analyse(
        prepared, settings, unmatched_returns=unmatched, rejected_rows=dataset.rows_rejected, briefs=args.briefs
    )
    if args.interventions and dataset.interventions is not None and len(dataset.interventions):
        from analysis.interventions import with_changes_judged

        analysis = with_changes_judged(analysis, prepared, dataset.interventions)  # judged after each change
    from analysis.concentration import concentration_sentences

    for sentence in concentration_sentences(prepared):  # said first: a few orders can carry every rate
        print(f"Note: {sentence}")
    print(_summary_text(analysis, dataset.name, prepared, dataset.rejected_by_kind))
    loading = _loading_text(dataset)
    if loading:
        print()
        print(loading)
    extra = {}
    text, results = _interventions(prepared, dataset, args)
    if text:
        print()
        print(text)
    if results:
        extra["Interventions"] = pd.DataFrame(results)
    if args.out and Path(args.out).suffix.lower() == ".xlsx":  # the reason sheets exist only in the workbook
        extra.update(_reason_sheets(prepared))
    if args.out:
        out = Path(args.out)
        data = (
            fixlist_xlsx(analysis, extra_sheets=extra or None)
            if out.suffix.lower() == ".xlsx"
            else fixlist_csv(analysis)
        )
        out.write_bytes(data)
        print(f"\nFix list written to {out}")
    if args.json:
        # one encoding pass, on json's C encoder (no indent: see analysis.export.to_json)
        payload = analysis.to_json_dict()
        payload["reasons"] = _reason_records(prepared)
        payload["interventions"] = _jsonable(results)
        payload["files"] = _jsonable([_file_record(f) for f in dataset.files])
        Path(args.json).write_text(
            json.dumps(payload, allow_nan=False, ensure_ascii=False, default=str), encoding="utf-8"
        )
        print(f"JSON summary written to {args.json}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from data.demo import write_demo_files

    paths = write_demo_files(Path(args.out), seed=args.seed, n_orders=args.n_orders)
    for key, path in paths.items():
        print(f"{key}: {path}")
    return 0


# glibc hands every freed block above its mmap threshold (128 KB at start, raised as blocks are freed) back
# to the system, and the next column array of that size faults its pages in again: a report allocates and
# frees hundreds of 4 MB arrays (500k lines x 8 bytes), and half the page faults of loading the real
# 503k-line export came from that churn (132k -> 69k minor faults, 0.4-1.0 -> 0.2-0.4 s of system CPU).
# A one-shot command keeps what it frees: blocks up to 32 MB come from the heap, which is trimmed only
# past 1 GB free. RI_CLI_MALLOC=default leaves glibc's policy. The dashboard, a long-lived server, is
# left alone (dashboard.cache limits its arenas instead).
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # glibc malloc.h
_MALLOC_SETTINGS = ((M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 1 << 30), (M_TOP_PAD, 64 << 20))


def _keep_freed_memory() -> None:
    import os

    if os.environ.get("RI_CLI_MALLOC", "") == "default":
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        for param, value in _MALLOC_SETTINGS:
            libc.mallopt(param, value)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to tune
        pass


# The cyclic garbage collector runs every 700 new container objects (lists, dicts, frames' internals) by
# default: a report on the real 503k-line export triggered ~240 collections (one a full pass over every
# object of pandas, pyarrow and duckdb), 0.06-0.09 s CPU that freed nothing a one-shot command needs back.
# The report collects every 20,000 instead, and the older generations 5x and 10x less often than
# Python's (10, 10), so a full collection rarely runs during a report; reference counting frees everything
# as before. main() puts the previous thresholds back when the command returns (tests call it in-process).
_CLI_GC_THRESHOLD = (20_000, 50, 100)


def _fewer_collections() -> tuple[int, int, int]:
    """Set the report's collection thresholds; returns the ones before (for gc.set_threshold)."""
    import gc
    import os

    before = gc.get_threshold()
    if os.environ.get("RI_CLI_GC", "") != "default":
        gc.set_threshold(*_CLI_GC_THRESHOLD)
    return before


def main(argv: list[str] | None = None) -> int:
    import gc

    args = _parser().parse_args(argv)
    gc_before = gc.get_threshold()
    if args.command == "report":
        _keep_freed_memory()
        gc_before = _fewer_collections()
    if not getattr(args, "debug", False):  # a failure the readers log and report must not print its traceback
        import logging

        logging.getLogger().addHandler(logging.NullHandler())
    try:
        if args.command == "report":
            return cmd_report(args)
        return cmd_demo(args)
    except RIError as exc:
        _print_error(exc)
        return 2
    except Exception as exc:  # never a traceback for users; --debug shows it
        if getattr(args, "debug", False):
            raise
        print(f"Unexpected error ({type(exc).__name__}): {exc}. Run again with --debug for details.", file=sys.stderr)
        return 1
    finally:
        gc.set_threshold(*gc_before)
