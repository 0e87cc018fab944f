"""Excel, CSV and JSON exports of an Analysis.

Formula injection (OWASP, "CSV Injection"): a text value is dangerous when it starts with = + - @ TAB CR or
LF, with their full-width forms (＝ ＋ － ＠, which spreadsheet apps normalise), or with any of these after
leading whitespace (" =1+1"). In CSV, escape_cell() puts an apostrophe in front of such a value, and CSV is
written per RFC 4180 (CRLF line ends, so a field holding a bare CR or LF is quoted and cannot start a row).
In xlsx, text is written with xlsxwriter's write_string (a string cell, never a formula) and a dangerous value
keeps its text as is, in a cell with Excel's "quote prefix" style: it stays text when edited, and shows no
apostrophe. JSON is data for programs, not a spreadsheet, so it is not escaped.
"""

from __future__ import annotations

import io
import json
import math
from typing import TYPE_CHECKING, SupportsFloat, TypeGuard

import numpy as np
import pandas as pd

from analysis.columns import sheet_columns
from analysis.engine import Analysis
from analysis.metrics import METRICS, format_value, unknown_reason

if TYPE_CHECKING:
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

FIX_SHEET_COLUMNS = [
    ("rank", "Rank", "int"),
    ("dimension", "Dimension", "text"),
    ("label", "Segment", "text"),
    ("return_rate", "Return rate", "pct"),
    ("baseline_rate", "Compared with", "pct"),
    ("ci_low", "Rate CI low", "pct"),
    ("ci_high", "Rate CI high", "pct"),
    ("excess_returns", "Excess returns", "num"),
    ("excess_cost", "Excess cost", "money"),
    ("conservative_excess_cost", "Excess cost (at least)", "money"),
    ("q_value", "q-value", "p"),
    ("why", "Why", "text"),
    ("suggested_action", "Suggested action", "text"),
    ("top_reasons", "Top reasons", "text"),
    ("refund_share", "Refunded", "pct"),
    ("exchange_share", "Exchanged", "pct"),
    ("example_comments", "Example comments", "text"),
    ("brief", "Guidance brief", "text"),
]
SEGMENT_SHEET_COLUMNS = sheet_columns()  # one spec with the pages: analysis.columns
SUMMARY_DATES = {
    "date_from": ("First order date (mature orders)", "The earliest order date among the orders counted in the rates."),
    "date_to": ("Last order date (mature orders)", "The latest order date among the orders counted in the rates."),
}
RATE_ROWS = {
    "line_return": "Returned units / units sold, counting only orders whose return window has closed (mature orders).",
    "order_refund": "Refunded units / units sold: the export records refunds per order, so each refunded order's "
    "refund is attributed to its items; counting only orders whose return window has closed (mature orders). The "
    "headline order refund rate is refunded orders / orders.",
}
METHOD_ROWS = [
    ("Return rate", RATE_ROWS["line_return"]),
    (
        "Compared with",
        "The rest of the population (all other units), or for collections/products/sizes the rest of "
        "their category (without categories, a size with the other sizes of its size system: waists with waists, "
        "letters with letters), or for item pairs what the two items return when bought without each other.",
    ),
    (
        "Design effect",
        "Units of one order, and orders of one repeat customer, tend to be returned together, so counts are divided "
        "by the Rao-Scott design effect (clustered by customer where customers repeat, else by order) before "
        "testing: the evidence is worth fewer independent units.",
    ),
    (
        "p (higher) / test",
        "One-sided test that the segment returns more than its comparison group, on the effective counts. The "
        "Test column: 'exact mid-p' - Fisher's conditional mid-p (Lancaster 1961) where every expected cell is at "
        "least 5 (the z-test is too optimistic at the small p-values the list-wide q needs); 'fisher' - Fisher's "
        "exact test where an expected cell is below 5, with the larger of the segment's and the rest's design "
        "effects; 'fewer than 5 returning orders' - not claimed higher (p = 1): a handful of incidents shows no "
        "pattern; 'one order carries most returns' - not claimed higher (p = 1): one order holds more than half "
        "of the returned units and the rest alone is not clearly higher; 'interaction (basket-size stratified)' - "
        "item pairs (below).",
    ),
    (
        "q-value",
        "List-wide false discovery rate: one weighted Benjamini-Hochberg family (Genovese, Roeder & Wasserman "
        "2006) over every segment of every dimension and every tested pair, so the fix list as a whole holds "
        "at most about 1 false row in 10. Weights are fixed by the data's structure before any test: each "
        "headline segment (collection, size, journey, channel, ...) 1 unit, each drill-down family (products "
        "when collections exist; pairs) 1 + ln(number of tests) units shared among its tests. The same q is "
        "shown on every page. A segment is 'clearly higher' when q <= 0.10.",
    ),
    (
        "Verdict",
        "clearly higher (q <= 0.10); higher (borderline) (p < 0.05 but not after the q correction); within "
        "noise; clearly lower (the one-sided 'lower' test has q <= 0.10).",
    ),
    ("CI low / high", "95% Wilson interval of the return rate on the effective counts."),
    ("Diff. CI", "95% Newcombe hybrid-score interval of the difference segment minus rest."),
    (
        "Shrunk rate",
        "Empirical-Bayes estimate: the rate pulled toward the segment's comparison rate, more so for small "
        "segments (beta-binomial prior, its strength fitted by weighted moments across the dimension).",
    ),
    (
        "Expected / excess returns",
        "Expected = units x rate of the comparison population; excess = returned - expected.",
    ),
    (
        "Excess cost",
        "Excess returns x cost per returned unit. 'At least' uses the one-sided 95% lower bound of the rate.",
    ),
    (
        "Priority score",
        "Shrunk excess returns x cost per return, counted only for segments that pass the q-value gate; "
        "the fix list is sorted by it.",
    ),
    (
        "Fix list de-duplication",
        "A segment that sits inside a listed one (a product of a listed collection) and whose "
        "extra returns are mostly explained by it is left out; so is an order attribute (channel, intent, "
        "promotion ...) that returns no more than its own products do outside it (product mix).",
    ),
    (
        "One order or customer",
        "A segment of which one order (or one customer) holds more than half of the returned units is listed "
        "only when the rest of it is still clearly higher; its excess and cost are then counted without that "
        "order, which its Why names. A segment whose returns come from fewer than 5 orders is never listed.",
    ),
    (
        "Item pairs",
        "Orders holding both items; tested with a logistic interaction on the four basket cells (neither / "
        "A only / B only / both), stratified by basket size (2, 3, 4-5, 6+ units).",
    ),
    (
        "Simpson check",
        "Collections compared within each customer intent / channel (Cochran-Mantel-Haenszel); flags "
        "where the overall verdict and the within-group verdict disagree.",
    ),
    ("Cost per return", "Your figure, or the average returned value per returned unit plus a handling cost."),
]


def is_formula_like(value: object) -> TypeGuard[str]:
    """True for text a spreadsheet could run as a formula: starting with a FORMULA_TRIGGERS character, directly
    or after leading whitespace (spaces, no-break and ideographic spaces).

    >>> is_formula_like(" \u3000＝1+1"), is_formula_like("a=b"), is_formula_like(3)
    (True, False, False)
    """
    return isinstance(value, str) and (
        value.startswith(FORMULA_TRIGGERS) or value.lstrip().startswith(FORMULA_TRIGGERS)
    )


def escape_cell(value: object) -> object:
    """Neutralise spreadsheet formula injection in one CSV cell value (OWASP CSV Injection guidance).

    Formula-like strings (is_formula_like) get a leading apostrophe; other values are returned as is.

    >>> escape_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> escape_cell("＝1+1"), escape_cell("Linen Shirts"), escape_cell(3)
    ("'＝1+1", 'Linen Shirts', 3)
    """
    return "'" + value if is_formula_like(value) else value


def _write_text(ws: Worksheet, row: int, col: int, text: str, formats: dict, kind: str) -> None:
    """One xlsx text cell: a string cell; formula-like text in the quote-prefixed variant of the format."""
    ws.write_string(row, col, text, formats[kind + "_q"] if is_formula_like(text) else formats[kind])


def _text(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, dict):
        return "; ".join(f"{k}: {float(x):.0%}" for k, x in v.items())
    if isinstance(v, (list, tuple, np.ndarray)):
        return " | ".join(str(x) for x in v)
    return str(v)


def _num(v: SupportsFloat | str | None) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _write_table(
    wb: Workbook,
    ws: Worksheet,
    df: pd.DataFrame,
    spec: list[tuple[str, str, str]],
    formats: dict,
    *,
    freeze: bool = True,
) -> None:
    cols = [(c, h, k) for c, h, k in spec if c in df.columns]
    for j, (_, header, _) in enumerate(cols):
        _write_text(ws, 0, j, header, formats, "header")
    widths = [len(h) + 2 for _, h, _ in cols]
    for i, row in enumerate(df[[c for c, _, _ in cols]].itertuples(index=False, name=None), start=1):
        for j, ((_, _, kind), v) in enumerate(zip(cols, row)):
            if kind == "text":
                t = _text(v)
                _write_text(ws, i, j, t, formats, "wrap" if len(t) > 60 else "text")
                widths[j] = max(widths[j], min(len(t), 60))
            else:
                f = _num(v)
                if f is None:
                    ws.write_blank(i, j, None)
                else:
                    ws.write_number(i, j, f, formats[kind])
                widths[j] = max(widths[j], 12)
    for j, w in enumerate(widths):
        ws.set_column(j, j, min(max(w, 8), 60))
    if freeze:
        ws.freeze_panes(1, 0)
    if len(df) and cols:
        ws.autofilter(0, 0, len(df), len(cols) - 1)


def _generic_spec(df: pd.DataFrame) -> list[tuple[str, str, str]]:
    spec = []
    for c in df.columns:
        kind = "num" if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) else "text"
        if kind == "num" and any(t in str(c) for t in ("rate", "share")):
            kind = "pct"
        spec.append((c, str(c), kind))
    return spec


def fixlist_xlsx(analysis: Analysis, extra_sheets: dict[str, pd.DataFrame] | None = None, currency: str = "") -> bytes:
    """The fix list workbook: "Fix list", "Summary", "Segments", "Method", plus extra_sheets
    (name -> DataFrame, e.g. Interventions, Reasons, Exchanges), all text formula-escaped.
    """
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "nan_inf_to_errors": False})
    money = f'"{currency}"#,##0' if currency else "#,##0"
    formats = {
        "header": wb.add_format({"bold": True, "bg_color": "#E8EEF4", "text_wrap": True, "valign": "top", "border": 1}),
        "text": wb.add_format({"valign": "top"}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "pct": wb.add_format({"num_format": "0.0%", "valign": "top"}),
        "money": wb.add_format({"num_format": money, "valign": "top"}),
        "num": wb.add_format({"num_format": "#,##0.0", "valign": "top"}),
        "int": wb.add_format({"num_format": "#,##0", "valign": "top"}),
        "p": wb.add_format({"num_format": "0.0000", "valign": "top"}),
    }
    for kind, props in (
        ("header", {"bold": True, "bg_color": "#E8EEF4", "text_wrap": True, "valign": "top", "border": 1}),
        ("text", {"valign": "top"}),
        ("wrap", {"text_wrap": True, "valign": "top"}),
    ):
        formats[kind + "_q"] = wb.add_format({**props, "quote_prefix": True})  # formula-like text stays text
    _write_table(wb, wb.add_worksheet("Fix list"), analysis.fix_list, FIX_SHEET_COLUMNS, formats)

    ws = wb.add_worksheet("Summary")
    ws.write_string(0, 0, "Metric", formats["header"])
    ws.write_string(0, 1, "Value", formats["header"])
    ws.write_string(0, 2, "Definition", formats["header"])
    r = 1
    for key, value in analysis.totals.items():
        m = METRICS.get(key)
        if m is None and key in SUMMARY_DATES:  # the period: words, not the raw keys 'date_from' / 'date_to'
            _write_text(ws, r, 0, SUMMARY_DATES[key][0], formats, "text")
            _write_text(ws, r, 1, _text(value), formats, "text")
            _write_text(ws, r, 2, SUMMARY_DATES[key][1], formats, "wrap")
            r += 1
            continue
        _write_text(ws, r, 0, m.label if m else key, formats, "text")
        f = _num(value) if not isinstance(value, str) else None
        kind = {"percent": "pct", "currency": "money", "count": "int"}.get(m.format if m else "", "num")
        why = unknown_reason(key, analysis.totals) if value is None and m and m.format != "text" else None
        if f is not None:
            ws.write_number(r, 1, f, formats[kind])
        else:
            shown = format_value(key, value) if key == "outcome" else _text(value)  # words, not the code's key
            _write_text(ws, r, 1, "not in your data" if why else shown, formats, "text")
        _write_text(ws, r, 2, why or (m.definition if m else ""), formats, "wrap")
        r += 1
    if "cost_per_return" not in analysis.totals:  # else its row, with its definition, is written above
        ws.write_string(r, 0, "Cost per returned unit", formats["text"])
        ws.write_number(r, 1, float(analysis.cost_per_return), formats["money"])
        r += 1
    for note in analysis.notes:
        ws.write_string(r, 0, "Note", formats["text"])
        _write_text(ws, r, 2, _text(note), formats, "wrap")
        r += 1
    ws.set_column(0, 0, 38)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 2, 90)
    ws.freeze_panes(1, 0)

    _write_table(wb, wb.add_worksheet("Segments"), analysis.segments, SEGMENT_SHEET_COLUMNS, formats)

    ws = wb.add_worksheet("Method")
    ws.write_string(0, 0, "Column / test", formats["header"])
    ws.write_string(0, 1, "What it means", formats["header"])
    outcome = str(analysis.totals.get("outcome") or "line_return")
    rows = [(k, RATE_ROWS.get(outcome, v) if k == "Return rate" else v) for k, v in METHOD_ROWS]
    for i, (k, v) in enumerate(rows, start=1):
        _write_text(ws, i, 0, k, formats, "text")
        _write_text(ws, i, 1, v, formats, "wrap")
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 110)

    used = {"Fix list", "Summary", "Segments", "Method"}
    for name, df in (extra_sheets or {}).items():
        sheet = _sheet_name(str(name), used)
        _write_table(wb, wb.add_worksheet(sheet), df, _generic_spec(df), formats)
    wb.close()
    return buf.getvalue()


def _sheet_name(name: str, used: set) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'")[:31] or "Sheet"
    base, k = clean, 2
    while clean.lower() in {u.lower() for u in used}:
        suffix = f" ({k})"
        clean = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(clean)
    return clean


def fixlist_csv(analysis: Analysis) -> bytes:
    """The fix list as UTF-8 CSV (with BOM so spreadsheet apps detect the encoding); text escaped."""
    fl = analysis.fix_list
    cols = [(c, h, k) for c, h, k in FIX_SHEET_COLUMNS if c in fl.columns]

    def cell(v: object, kind: str) -> object:
        if kind == "text":
            return escape_cell(_text(v))
        x = _num(v)  # type: ignore[arg-type]
        return int(x) if kind == "int" and x is not None else x  # a rank is 1, not 1.0

    out = pd.DataFrame({h: [cell(v, k) for v in fl[c]] for c, h, k in cols})
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_json(analysis: Analysis) -> str:
    """Analysis.to_json_dict() as JSON text (NaN -> null; strict JSON, no NaN literals). One line: with an
    indent Python's json falls back from its C encoder to the pure-Python one (1.3 s CPU for the real file's
    3.5 MB of segments, against about 0.1 s); `python -m json.tool` pretty-prints it."""
    return json.dumps(analysis.to_json_dict(), allow_nan=False, ensure_ascii=False, default=str)
