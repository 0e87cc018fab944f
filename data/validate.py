"""Turn a mapped text frame into canonical typed columns, collecting every problem (convention 4, docs/METHOD-REFERENCES.md).

Nothing here raises on bad rows: unusable rows get a reject kind and reason, and each kind of problem
becomes one Problem with the file, the column, example rows (1-based data row numbers with the raw
value) and the fix. data.ingest raises one InputError when any Problem has severity "error".
"""

from __future__ import annotations

import re

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.errors import Problem
from data.readers import parse_dates, parse_numbers
from data.schema import TABLES

MAX_EXAMPLES = 5
FOOTER_REASON = "footer/total row"


MAX_QUANTITY = 1_000_000_000  # units on one line; beyond this a value is a typo or an overflow


@dataclass(frozen=True)
class Converted:
    """Canonical columns for one file; `kind`/`reason` hold the reject outcome per row (<NA> = usable)."""

    frame: pd.DataFrame
    kind: pd.Series
    reason: pd.Series
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    date_orders: dict = field(default_factory=dict)  # canonical date column -> "dmy" | "mdy" chosen for it (auto)


def examples(rows: np.ndarray, values: pd.Series | None = None, limit: int = MAX_EXAMPLES) -> tuple[str, ...]:
    """'row 12: "31/02/2024"' style examples; rows are 0-based positions shown as 1-based data rows."""
    out = []
    for pos in rows[:limit]:
        if values is None:
            out.append(f"row {int(pos) + 1}")
        else:
            out.append(f'row {int(pos) + 1}: "{values.iloc[int(pos)]}"')
    return tuple(out)


def missing_columns(file: str, role: str, mapping: dict[str, str], columns: list[str]) -> list[Problem]:
    """Required canonical columns that are unmapped, and mapped source columns that are not in the file."""
    problems = []
    found = ", ".join(columns[:30]) + (" ..." if len(columns) > 30 else "")
    for canon in TABLES[role].required:
        src = mapping.get(canon)
        if not src:
            problems.append(
                Problem(
                    file,
                    f"Missing required column '{canon}'",
                    f"The {role} file has no column for '{canon}' ({TABLES[role].column(canon).description}). Columns found: {found}.",
                    f'Map column X to \'{canon}\' in the mapping editor or mapping JSON ("{role}": {{"{canon}": "X"}}).',
                    column=canon,
                )
            )
    for canon, src in mapping.items():
        if src and src not in columns:
            problems.append(
                Problem(
                    file,
                    f"Mapped column '{src}' not found",
                    f"The mapping sends '{src}' to '{canon}', but the file has no such column. Columns found: {found}.",
                    f"Pick one of the file's columns for '{canon}' in the mapping editor or mapping JSON.",
                    column=canon,
                )
            )
    return problems


def convert(
    file: str,
    role: str,
    raw: pd.DataFrame,
    mapping: dict[str, str],
    footer: np.ndarray,
    settings: dict,
    decimal_hint: str | None = None,
) -> Converted:
    """Build canonical columns of `role` from `raw` (text) using `mapping`; mark footer, invalid and duplicate rows."""
    table = TABLES[role]
    n = len(raw)
    kind = pd.Series(pd.NA, index=raw.index, dtype="string")
    reason = pd.Series(pd.NA, index=raw.index, dtype="string")
    kind[footer] = "not_data"  # a total or page line is not an unreadable row (the CLI said "1 unreadable row")
    reason[footer] = FOOTER_REASON
    problems: list[Problem] = []
    notes: list[str] = []
    out: dict[str, pd.Series] = {}
    date_orders: dict[str, str] = {}
    date_format = settings.get("date_format", "auto")
    decimal = settings.get("decimal", "auto")
    live = ~footer
    for col in table.columns:
        src = mapping.get(col.name)
        if not src or src not in raw.columns:
            out[col.name] = _missing(col.dtype, raw.index)
            continue
        text = raw[src].astype("string").str.strip()
        text = text.where(text != "")
        if col.dtype == "date":
            values, bad, order = parse_dates(text.where(live), date_format)
            if order in ("dmy", "mdy") and date_format == "auto":
                date_orders[col.name] = order
                notes.append(f"'{src}' read as {'day/month/year' if order == 'dmy' else 'month/day/year'} dates.")
            what, fix = (
                "date",
                "Use dates like 2024-03-31, 31/03/2024 or 03/31/2024, or set date_format in the mapping settings.",
            )
        elif col.dtype in ("int", "float"):
            values, bad, used = parse_numbers(text.where(live), decimal, hint=decimal_hint)
            if used == "," and decimal == "auto":
                notes.append(f"'{src}' read with a decimal comma.")
            what, fix = (
                "number",
                "Use plain numbers (currency symbols and thousands separators are fine), or set decimal in the mapping settings.",
            )
            if col.dtype == "int":  # a fractional, non-finite or absurd quantity is as unusable as an unreadable one
                bad = bad | (values.notna() & (values != np.round(values))).fillna(False).astype(bool)
                bad = bad | (values.notna() & ~(values.abs() <= MAX_QUANTITY)).fillna(False).astype(bool)
        else:
            values, bad = text.astype("string"), pd.Series(False, index=raw.index)
        bad_rows = bad.to_numpy() & live
        if bad_rows.any():
            idx = np.flatnonzero(bad_rows)
            problems.append(
                Problem(
                    file,
                    f"Unreadable {what} in '{src}'",
                    f"{len(idx)} row(s) have a {what} that cannot be read; they are rejected as invalid.",
                    fix,
                    column=src,
                    examples=examples(idx, raw[src]),
                    severity="warning",
                )
            )
            m = bad_rows & kind.isna().to_numpy()
            kind[m] = "invalid"
            reason[m] = f"Unreadable {what} in '{src}'."
        if col.required:
            empty = values.isna().to_numpy() & ~bad.to_numpy() & live
            if empty.any():
                idx = np.flatnonzero(empty)
                problems.append(
                    Problem(
                        file,
                        f"Missing values in '{src}'",
                        f"{len(idx)} row(s) have no {col.name}; they are rejected as invalid.",
                        f"Fill in '{src}' or map another column to '{col.name}'.",
                        column=src,
                        examples=examples(idx),
                        severity="warning",
                    )
                )
                m = empty & kind.isna().to_numpy()
                kind[m] = "invalid"
                reason[m] = f"Missing {col.name}."
        if col.dtype == "int":
            values = values.where(~bad)
        out[col.name] = values
    frame = pd.DataFrame(out, index=raw.index)
    if "quantity" in frame and not table.column("quantity").required:
        one = table.column("quantity").default or 1
        src = mapping.get("quantity")
        blank = int((frame["quantity"].isna().to_numpy() & live & kind.isna().to_numpy()).sum())
        if blank and (not src or src not in raw.columns):
            notes.append(f"No quantity column: each row counts as {one} unit. Map a quantity column if there is one.")
        elif blank:
            notes.append(f"{blank:,} row(s) with no '{src}' count as {one} unit each.")
        frame["quantity"] = frame["quantity"].fillna(one)
    if "quantity" in frame and role in ("orders", "returns"):
        q = frame["quantity"]
        if role == "returns":
            neg = (q < 0).fillna(False).to_numpy() & live
            if neg.any():  # many returns systems write returned units as negative numbers
                frame.loc[neg, "quantity"] = -q[neg]
                notes.append(
                    f"Negative quantities in '{mapping.get('quantity', 'quantity')}' were read as units returned."
                )
        nonpos = (frame["quantity"] <= 0).fillna(False).to_numpy() & live & kind.isna().to_numpy()
        if nonpos.any():
            idx = np.flatnonzero(nonpos)
            src = mapping.get("quantity", "quantity")
            fix = (
                "Sales and returns in one file with signed quantities: load it as signed transactions. "
                "Otherwise remove the zero lines."
                if role == "orders"
                else "Remove the lines that return nothing."
            )
            problems.append(
                Problem(
                    file,
                    f"Zero or negative quantity in '{src}'",
                    f"{len(idx)} line(s) have a quantity of zero or less; they are rejected as invalid.",
                    fix,
                    column=src,
                    examples=examples(idx, raw[src] if src in raw else None),
                    severity="warning",
                )
            )
            kind[nonpos] = "invalid"
            reason[nonpos] = "Quantity is zero or negative."
    # exact duplicates of an earlier line (raw text, all columns)
    if n and role != "interventions":
        dup = raw.duplicated(keep="first").to_numpy() & live & kind.isna().to_numpy()
        if dup.any():
            kind[dup] = "duplicate"
            reason[dup] = "Exact duplicate of an earlier line."
            idx = np.flatnonzero(dup)
            problems.append(
                Problem(
                    file,
                    "Duplicate lines",
                    f"{len(idx)} line(s) repeat an earlier line exactly; only the first copy is used.",
                    # said per role: 'Remove the repeated lines if they are real separate sales' told a returns
                    # file's owner to delete real returns
                    "Nothing to do if they are copies. If they are real separate "
                    + {"returns": "returns", "catalog": "products"}.get(role, "sales")
                    + ", give each line something that tells them apart (a line or return number) and upload again.",
                    examples=examples(idx),
                    severity="warning",
                )
            )
    return Converted(frame, kind, reason, tuple(problems), tuple(dict.fromkeys(notes)), date_orders)


def _missing(dtype: str, index: pd.Index) -> pd.Series:
    if dtype == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if dtype in ("int", "float"):
        return pd.Series(np.nan, index=index, dtype="float64")
    return pd.Series(pd.NA, index=index, dtype="string")


def mark_future(
    file: str, frame: pd.DataFrame, column: str, kind: pd.Series, reason: pd.Series, today: pd.Timestamp
) -> list[Problem]:
    """Rows dated after `today` -> future_date (a typo or a wrong date format, not a real sale)."""
    if column not in frame:
        return []
    fut = (frame[column] > today + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)).fillna(
        False
    ).to_numpy() & kind.isna().to_numpy()
    if not fut.any():
        return []
    kind[fut] = "future_date"
    reason[fut] = f"{column} is after {today.date()}."
    idx = np.flatnonzero(fut)
    vals = frame[column].dt.strftime("%Y-%m-%d")
    return [
        Problem(
            file,
            "Dates in the future",
            f"{len(idx)} row(s) have a {column} after {today.date()}; they are rejected.",
            "Check the date format setting (day/month vs month/day) or fix the dates.",
            column=column,
            examples=examples(idx, vals),
            severity="warning",
        )
    ]


def negative_price_problem(file: str, frame: pd.DataFrame, usable: np.ndarray) -> list[Problem]:
    if "unit_price" not in frame:
        return []
    neg = (frame["unit_price"] < 0).fillna(False).to_numpy() & usable
    if not neg.any():
        return []
    idx = np.flatnonzero(neg)
    vals = frame["unit_price"].astype("string")
    return [
        Problem(
            file,
            "Negative prices",
            f"{len(idx)} line(s) have a negative unit price; they are kept, but values computed from them will be off.",
            "Check whether these are discounts or refunds that belong in the returns file.",
            column="unit_price",
            examples=examples(idx, vals),
            severity="warning",
        )
    ]


# a column naming the currency of each line's amounts (Shopify "Currency", Amazon "currency", ERP exports)
_CURRENCY_HEADER = re.compile(
    r"^\s*(currency|currency[ _-]?code|curr|w(ae|ä)hrung|devise|moneda|divisa|valuta|munt)\s*$", re.IGNORECASE
)
# ISO 4217 codes of the currencies online retail sells in, and their symbols: a three-letter word such as "TBD"
# or "N/A" in the column is not a currency
CURRENCY_CODES = frozenset(
    "USD EUR GBP CHF SEK NOK DKK PLN CZK HUF RON BGN ISK TRY JPY CNY HKD TWD KRW SGD MYR THB IDR PHP VND INR PKR "
    "AUD NZD CAD MXN BRL ARS CLP COP PEN ZAR AED SAR QAR KWD ILS EGP NGN KES MAD UAH RUB".split()
) | frozenset("$€£¥₹")
MIXED_CURRENCIES = "Several currencies"  # the first words of the note pages and the CLI read
MOST_UNMATCHED = "Most return lines matched no order"
RETURNS_START_LATER = "The returns start later than the orders"
RETURNS_CHANNELS = "The returns cover only some sales channels"
# dataset notes that change what the headline figures mean: the Overview's summary and the CLI say them first
HEADLINE_NOTES = (MIXED_CURRENCIES, MOST_UNMATCHED, RETURNS_START_LATER, RETURNS_CHANNELS)


def currency_counts(raw: pd.DataFrame, usable: np.ndarray) -> tuple[str | None, pd.Series]:
    """(the currency column's name, lines per currency code among the usable rows) of a file; (None, empty)
    when it has no currency column. Blank cells (Shopify gives the currency on an order's first line only) and
    values that are not a currency code of CURRENCY_CODES or a symbol are not counted."""
    col = next((c for c in raw.columns if _CURRENCY_HEADER.match(str(c))), None)
    if col is None:
        return None, pd.Series(dtype="int64")
    v = raw[col].astype("string").str.strip().str.upper()[usable]
    # ISO codes (or a lone symbol): anything else in the column is not taken for a currency, and nothing else
    # of the uploaded text reaches the note pages show
    v = v[v.isin(CURRENCY_CODES).fillna(False)]
    return str(col), v.value_counts()


def mixed_currency_problem(per_file: Sequence[tuple[str, str, pd.Series]]) -> tuple[list[Problem], str | None]:
    """A warning per file whose lines are in more than one currency, and one note when the files together are
    (several currencies in one file, or one file in USD and another in EUR): the money figures then add unlike
    amounts. per_file: (file, currency column, lines per currency) per file, in order (two files may share a
    name); the problems follow that order."""
    problems = []
    total = pd.Series(dtype="int64")
    for file, col, counts in per_file:
        total = total.add(counts, fill_value=0)
        if len(counts) > 1:
            n = int(counts.sum())
            problems.append(
                Problem(
                    file,
                    "Several currencies in one file",
                    f"Column '{col}' holds {len(counts)} currencies: "
                    + ", ".join(f"{k} {v / n:.0%}" for k, v in counts.items())
                    + " of the lines that name one. Money figures (returned value, value return rate, cost per "
                    "return, the fix list's excess cost) add them as if they were one currency; unit and order "
                    "return rates are not affected.",
                    "Upload one currency at a time (for Amazon, one marketplace's report), or convert the amounts "
                    "to one currency before uploading.",
                    column=col,
                    examples=tuple(f'"{k}": {int(v):,} lines' for k, v in counts.head(5).items()),
                    severity="warning",
                )
            )
    if len(total) <= 1:
        return problems, None
    total = total.sort_values(ascending=False)
    lines = float(total.sum())
    note = (
        f"{MIXED_CURRENCIES} in the data ("
        + ", ".join(f"{k} {v / lines:.0%}" for k, v in total.items())
        + " of the lines that name a currency): money figures (returned value, cost per return, excess cost) add "
        "them as if they were "
        "one currency. Return rates by unit and by order are not affected. Upload one currency at a time, or "
        "convert the amounts first."
    )
    return problems, note
