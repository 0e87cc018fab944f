"""Column mapping: which source column feeds which canonical column, per role, plus reading settings.

The mapping step is the only place raw headers become canonical names (convention 3, docs/METHOD-REFERENCES.md).
suggest_mapping() proposes a mapping from headers in English, German, French, Spanish, Dutch and
Italian, however they are spelled (see data.header_match); a user-edited Mapping (from the mapping editor or a saved JSON file) overrides it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from data.errors import InputError, Problem
from data.header_match import MAX_HEADER_CHARS, Suggestion, suggest_columns
from data.schema import TABLES

ROLES = ("orders", "returns", "catalog", "transactions", "interventions")
DATE_FORMATS = ("auto", "dmy", "mdy", "ymd")
DECIMALS = ("auto", ".", ",")
MAX_MAPPING_BYTES = 5 * 1024 * 1024  # a real mapping file is a few KB


def default_settings() -> dict:
    return {"credit_note_prefix": "C", "non_merchandise_skus": [], "date_format": "auto", "decimal": "auto"}


# Settings written only when set (older mapping files stay as they were):
# count_carrier_returns - count undeliverable / lost-in-transit returns as customer returns (default: set apart).
# refunded_statuses / cancelled_statuses - an orders export's own order-status values (any case) that mean the order
#   was refunded in full / never sold, besides the words data.layouts knows (e.g. ["closed"] for Magento).
OPTIONAL_SETTINGS = {"count_carrier_returns": False, "refunded_statuses": [], "cancelled_statuses": []}


@dataclass
class Mapping:
    """tables: role -> {canonical column: source column}; settings: reading options; reason_overrides:
    raw reason -> taxonomy category (carried for data.reasons)."""

    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    settings: dict = field(default_factory=default_settings)
    reason_overrides: dict[str, str] = field(default_factory=dict)

    def setting(self, key: str) -> Any:
        return self.settings.get(key, {**default_settings(), **OPTIONAL_SETTINGS}[key])

    def to_json(self) -> str:
        doc = {role: dict(self.tables.get(role, {})) for role in ROLES}
        doc["settings"] = {**default_settings(), **self.settings}
        doc["reason_overrides"] = dict(self.reason_overrides)
        return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Mapping:
        """Parse a mapping JSON file; every problem (bad JSON, unknown role/column/setting) is reported at once.

        Bytes are decoded as UTF-8 (with or without BOM). A file over MAX_MAPPING_BYTES, binary bytes or JSON
        nested deeper than Python can parse is refused as an InputError, never a crash."""
        fix = "Download the mapping again from the mapping editor, or fix the JSON syntax."
        if len(text) > MAX_MAPPING_BYTES:
            msg = (
                f"The mapping file holds {len(text) / 1e6:,.1f} MB; a mapping is a few KB and at most "
                f"{MAX_MAPPING_BYTES / 1e6:,.0f} MB is read."
            )
            raise InputError(
                "Mapping file too large", msg, [Problem("mapping JSON", "Mapping file too large", msg, fix)]
            )
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                msg = f"The mapping file is not UTF-8 text (byte {exc.start} cannot be read); it may be a binary file."
                raise InputError(
                    "Mapping file is not valid JSON",
                    msg,
                    [Problem("mapping JSON", "Mapping file is not valid JSON", msg, fix)],
                ) from exc
        try:
            doc = json.loads(text)
        except RecursionError as exc:
            msg = "The mapping file nests lists or objects too deeply to be a mapping."
            raise InputError(
                "Mapping file has the wrong shape",
                msg,
                [Problem("mapping JSON", "Mapping file has the wrong shape", msg, fix)],
            ) from exc
        except (json.JSONDecodeError, TypeError) as exc:
            msg = f"The mapping file is not valid JSON ({exc})."
            raise InputError(
                "Mapping file is not valid JSON",
                msg,
                [
                    Problem(
                        "mapping JSON",
                        "Mapping file is not valid JSON",
                        msg,
                        "Download the mapping again from the mapping editor, or fix the JSON syntax.",
                    )
                ],
            ) from exc
        if not isinstance(doc, dict):
            msg = "The mapping file must hold one JSON object with keys orders, returns, catalog, transactions, interventions, settings."
            raise InputError(
                "Mapping file has the wrong shape",
                msg,
                [Problem("mapping JSON", "Mapping file has the wrong shape", msg, "Start from a downloaded mapping.")],
            )
        problems: list[Problem] = []
        tables: dict[str, dict[str, str]] = {}
        for key, value in doc.items():
            if key in ("settings", "reason_overrides"):
                continue
            if key not in ROLES:
                problems.append(
                    Problem(
                        "mapping JSON",
                        "Unknown table in mapping",
                        f"'{key}' is not a table.",
                        f"Use one of: {', '.join(ROLES)}.",
                    )
                )
                continue
            if not isinstance(value, dict):
                problems.append(
                    Problem(
                        "mapping JSON",
                        "Table mapping must be an object",
                        f"'{key}' is not an object.",
                        'Write it as {"canonical": "source column"}.',
                    )
                )
                continue
            names = TABLES[key].names
            for canon, source in value.items():
                if canon not in names:
                    problems.append(
                        Problem(
                            "mapping JSON",
                            "Unknown canonical column",
                            f"'{canon}' is not a column of {key}.",
                            f"Use one of: {', '.join(names)}.",
                            column=canon,
                        )
                    )
                elif source is not None and not isinstance(source, str):
                    problems.append(
                        Problem(
                            "mapping JSON",
                            "Source column must be text",
                            f"{key}.{canon} is {source!r}.",
                            "Write the header text of the source column.",
                            column=canon,
                        )
                    )
            tables[key] = {c: s for c, s in value.items() if c in names and isinstance(s, str)}  # null: unmapped
        settings = default_settings()
        raw_settings = doc.get("settings", {}) or {}
        if not isinstance(raw_settings, dict):
            raw_settings = {}
            problems.append(
                Problem(
                    "mapping JSON",
                    "Settings must be an object",
                    "settings is not an object.",
                    "See the settings block of a downloaded mapping.",
                )
            )
        for k, v in raw_settings.items():
            if k not in settings and k not in OPTIONAL_SETTINGS:
                problems.append(
                    Problem(
                        "mapping JSON",
                        "Unknown setting",
                        f"'{k}' is not a setting.",
                        f"Use one of: {', '.join([*settings, *OPTIONAL_SETTINGS])}.",
                    )
                )
            elif k == "date_format" and v not in DATE_FORMATS:
                problems.append(
                    Problem(
                        "mapping JSON",
                        "Unknown date format",
                        f"date_format is {v!r}.",
                        f"Use one of: {', '.join(DATE_FORMATS)}.",
                    )
                )
            elif k == "decimal" and v not in DECIMALS:
                problems.append(
                    Problem(
                        "mapping JSON",
                        "Unknown decimal mark",
                        f"decimal is {v!r}.",
                        f"Use one of: {', '.join(DECIMALS)}.",
                    )
                )
            elif k == "count_carrier_returns" and not isinstance(v, bool):
                problems.append(
                    Problem(
                        "mapping JSON",
                        "count_carrier_returns must be true or false",
                        f"count_carrier_returns is {v!r}.",
                        "Write true or false.",
                    )
                )
            elif k in ("refunded_statuses", "cancelled_statuses") and not (
                isinstance(v, list) and all(isinstance(x, str) for x in v)
            ):
                problems.append(
                    Problem(
                        "mapping JSON",
                        f"{k} must be a list of order-status values",
                        f"{k} is {v!r}.",
                        'Write e.g. ["closed", "returned to stock"].',
                    )
                )
            elif k == "non_merchandise_skus" and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                problems.append(
                    Problem(
                        "mapping JSON",
                        "non_merchandise_skus must be a list of codes",
                        f"non_merchandise_skus is {v!r}.",
                        'Write e.g. ["POST", "GIFTWRAP"].',
                    )
                )
            else:
                settings[k] = v
        overrides = doc.get("reason_overrides", {}) or {}
        if not isinstance(overrides, dict):
            problems.append(
                Problem(
                    "mapping JSON",
                    "reason_overrides must be an object",
                    "reason_overrides is not an object.",
                    'Write it as {"raw reason": "category"}.',
                )
            )
            overrides = {}
        if problems:
            raise InputError("Mapping file has problems", f"{len(problems)} problem(s) in the mapping file.", problems)
        return cls(tables=tables, settings=settings, reason_overrides={str(k): str(v) for k, v in overrides.items()})


def normalize_header(h: str) -> str:
    """Lower-case, accents kept, punctuation/underscores/dashes as single spaces (first MAX_HEADER_CHARS only)."""
    return re.sub(r"[^0-9a-zà-ÿß]+", " ", str(h)[:MAX_HEADER_CHARS].lower()).strip()


def suggest_mapping(columns: Sequence[str], role: str, frame: pd.DataFrame | None = None) -> dict[str, str]:
    """Propose {canonical: source column} for a file of the given role from its headers (and sample values).

    Only suggestions confident enough to apply are returned (data.header_match explains how headers are
    split, translated and scored; suggest_columns gives every suggestion with its confidence and reason).
    Time is linear in the number of columns and bounded per header, whatever the header's length.

    >>> suggest_mapping(["Invoice", "StockCode", "Quantity", "InvoiceDate", "Price", "Customer ID"], "transactions")["order_date"]
    'InvoiceDate'
    >>> suggest_mapping(["InvoiceNo", "StockCode", "UnitPrice", "CustomerID"], "transactions")
    {'order_id': 'InvoiceNo', 'sku': 'StockCode', 'unit_price': 'UnitPrice', 'customer_id': 'CustomerID'}
    """
    return {s.canonical: s.column for s in suggest_columns_for(columns, role, frame) if s.applied}


def suggest_columns_for(columns: Sequence[str], role: str, frame: pd.DataFrame | None = None) -> tuple[Suggestion, ...]:
    """Every suggestion for a file of `role`, applied or not, with confidence and reason."""
    if role not in TABLES:
        raise ValueError(f"role must be one of {', '.join(TABLES)}, not {role!r}.")
    return suggest_columns(columns, role, TABLES[role].names, frame)


def explain_mapping(
    columns: Sequence[str],
    role: str,
    frame: pd.DataFrame | None,
    suggested: dict[str, str],
    layout_label: str | None = None,
) -> dict[str, Suggestion]:
    """Why each suggested column was chosen and how sure it is, plus questions for unmapped columns.

    A column the header matcher chose carries its own confidence and reason; one set by a recognised
    layout (its headers are the export's own) is certain; a column neither explains (e.g. from a
    preset) is left out. Unmapped canonical columns get the matcher's unapplied guess, if any, so the
    Upload page can ask "did you mean ...?".

    >>> e = explain_mapping(["Order ID", "Date", "Code X"], "orders", None, {"order_id": "Order ID"})
    >>> e["order_id"].level, e["sku"].applied
    ('high', False)
    """
    out: dict[str, Suggestion] = {}
    matched = {s.canonical: s for s in suggest_columns_for(columns, role, frame)}
    for canon, col in suggested.items():
        s = matched.get(canon)
        if s is not None and s.column == col:
            out[canon] = s if s.applied else Suggestion(canon, col, s.confidence, s.reason, True)
        elif layout_label:
            out[canon] = Suggestion(canon, col, 1.0, f"column of the recognised {layout_label}")
        elif s is None or s.column != col:  # a column the reader derived (e.g. style and size from SKUs)
            out[canon] = Suggestion(canon, col, 0.9, "derived from the file's values (see the notes above)")
    for canon, s in matched.items():
        if canon not in suggested and not s.applied and s.column not in suggested.values():
            out[canon] = s
    return out
