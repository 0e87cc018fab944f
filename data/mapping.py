"""Column mapping: which source column feeds which canonical column, per role and per file, plus reading settings.

Each uploaded file (or workbook sheet) keeps its own column choices (Mapping.files): a Shopify export and an
Amazon report loaded together as orders do not share one set of headers. The per-role tables are what a preset
carries to next week's files (whose names differ) and what a file without its own entry is read with.

The mapping step is the only place raw headers become canonical names (convention 3, docs/METHOD-REFERENCES.md).
suggest_mapping() proposes a mapping from headers in English, German, French, Spanish, Dutch and
Italian, however they are spelled (see data.header_match); a user-edited Mapping (from the mapping editor or a saved JSON file) overrides it.
"""

from __future__ import annotations

import dataclasses
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


@dataclass(frozen=True, slots=True)
class FileColumns:
    """One file's (or workbook sheet's) own column mapping, as chosen for it on the Upload page.

    file: the file's name as uploaded (or given to the CLI, without its folder); sheet: the workbook sheet read
    (None: a CSV, or any sheet of the file); role: the role the columns are for (a file loaded as another role
    is read with that role's mapping instead); columns: its whole mapping {canonical: source column} - a
    canonical column left out is not read from this file, whatever its detected layout suggests; sha256: the
    content's digest, set only to tell apart two uploads of one name (orders_export_1.csv from two shops).
    """

    file: str
    sheet: str | None
    role: str
    columns: dict[str, str]
    sha256: str | None = None

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"file": self.file, "sheet": self.sheet, "role": self.role, "columns": dict(self.columns)}
        if self.sha256:
            doc["sha256"] = self.sha256
        return doc


def _column_problems(role: str, columns: dict, where: str, prefix: str) -> list[Problem]:
    """The problems of one table's {canonical: source header} in a mapping JSON: canonical columns the role does
    not have, sources that are not text. where / prefix name the place in the messages (a file entry's)."""
    names = TABLES[role].names
    out = []
    for canon, source in columns.items():
        if canon not in names:
            out.append(
                Problem(
                    "mapping JSON",
                    "Unknown canonical column",
                    f"'{canon}' is not a column of {role}{where}.",
                    f"Use one of: {', '.join(names)}.",
                    column=canon,
                )
            )
        elif source is not None and not isinstance(source, str):
            out.append(
                Problem(
                    "mapping JSON",
                    "Source column must be text",
                    f"{prefix}{role}.{canon} is {source!r}.",
                    "Write the header text of the source column.",
                    column=canon,
                )
            )
    return out


@dataclass
class Mapping:
    """tables: role -> {canonical column: source column}; files: each file's own columns (FileColumns), which
    win over its role's; settings: reading options; reason_overrides: raw reason -> taxonomy category (carried
    for data.reasons)."""

    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    settings: dict = field(default_factory=default_settings)
    reason_overrides: dict[str, str] = field(default_factory=dict)
    files: tuple[FileColumns, ...] = ()

    def setting(self, key: str) -> Any:
        return self.settings.get(key, {**default_settings(), **OPTIONAL_SETTINGS}[key])

    def columns_for(self, name: str, sheet: str | None, role: str, sha256: str | None = None) -> dict[str, str] | None:
        """The file's own columns for `role`, or None (then its role's mapping applies).

        An entry names the file and its sheet (an entry without a sheet fits every sheet of the file); one with
        a digest fits only that content, and is preferred to one without.

        >>> m = Mapping(files=(FileColumns("a.csv", None, "orders", {"order_id": "Name"}),))
        >>> m.columns_for("a.csv", None, "orders"), m.columns_for("a.csv", None, "returns"), m.columns_for("b.csv", None, "orders")
        ({'order_id': 'Name'}, None, None)
        """
        fits = [
            f
            for f in self.files
            if f.file == name
            and f.role == role
            and (f.sheet is None or f.sheet == sheet)
            and (f.sha256 is None or f.sha256 == sha256)
        ]
        if not fits:
            return None
        best = max(fits, key=lambda f: (f.sha256 is not None, f.sheet is not None))
        return dict(best.columns)

    def to_json(self) -> str:
        doc: dict[str, Any] = {role: dict(self.tables.get(role, {})) for role in ROLES}
        doc["settings"] = {**default_settings(), **self.settings}
        doc["reason_overrides"] = dict(self.reason_overrides)
        if self.files:  # written only when set: mapping files without per-file columns stay as they were
            doc["files"] = [f.to_doc() for f in self.files]
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
            if key in ("settings", "reason_overrides", "files"):
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
            problems += _column_problems(key, value, "", "")
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
        files = _files_from_doc(doc.get("files", []), problems)
        if problems:
            raise InputError("Mapping file has problems", f"{len(problems)} problem(s) in the mapping file.", problems)
        return cls(
            tables=tables,
            settings=settings,
            reason_overrides={str(k): str(v) for k, v in overrides.items()},
            files=files,
        )


def _files_from_doc(entries: Any, problems: list[Problem]) -> tuple[FileColumns, ...]:
    """The `files` section of a mapping JSON: each entry checked, every problem added to `problems`."""
    shape = 'Write it as [{"file": "orders.csv", "sheet": null, "role": "orders", "columns": {"order_id": "Name"}}].'
    if entries is None:
        return ()
    if not isinstance(entries, list):
        problems.append(Problem("mapping JSON", "files must be a list", "files is not a list.", shape))
        return ()
    out = []
    for i, e in enumerate(entries, start=1):
        where = f"files entry {i}"
        if not isinstance(e, dict) or not isinstance(e.get("file"), str) or not isinstance(e.get("columns"), dict):
            problems.append(
                Problem("mapping JSON", "File entry must name a file and its columns", f"{where} is {e!r}"[:200], shape)
            )
            continue
        role, sheet, sha = e.get("role"), e.get("sheet"), e.get("sha256")
        unknown = [k for k in e if k not in ("file", "sheet", "role", "columns", "sha256")]
        if unknown:
            problems.append(
                Problem(
                    "mapping JSON",
                    "Unknown key in file entry",
                    f"{where} ({e['file']}) has {', '.join(map(repr, unknown))}.",
                    "Use file, sheet, role, columns (and sha256).",
                )
            )
        if role not in ROLES:
            problems.append(
                Problem(
                    "mapping JSON",
                    "Unknown file role",
                    f"{where} ({e['file']}) has role {role!r}.",
                    f"Use one of: {', '.join(ROLES)}.",
                )
            )
            continue
        if not (sheet is None or isinstance(sheet, str)) or not (sha is None or isinstance(sha, str)):
            problems.append(
                Problem(
                    "mapping JSON",
                    "sheet and sha256 must be text or null",
                    f"{where} ({e['file']}) has sheet {sheet!r}, sha256 {sha!r}.",
                    "Write the sheet's name, or null for a CSV.",
                )
            )
            continue
        names = TABLES[role].names
        problems += _column_problems(role, e["columns"], f" ({where}, {e['file']})", f"{e['file']}: ")
        columns = {c: s for c, s in e["columns"].items() if c in names and isinstance(s, str) and s}
        out.append(FileColumns(e["file"], sheet, role, columns, sha or None))
    return tuple(out)


def mapping_of_files(
    chosen: Sequence[FileColumns], settings: dict | None = None, reason_overrides: dict[str, str] | None = None
) -> Mapping:
    """The Mapping the Upload page writes from each file's chosen columns: every file keeps its own (a digest is
    added to the entries of uploads that share a name and sheet), and each role's table gathers its files'
    columns, the first file's choice where two differ - what a preset pre-fills next week's files with, where
    their columns exist.

    >>> m = mapping_of_files([FileColumns("shop.csv", None, "orders", {"order_id": "Name", "sku": "Lineitem sku"}),
    ...                       FileColumns("erp.csv", None, "orders", {"order_id": "Order No", "size": "Size"})])
    >>> m.tables["orders"], m.columns_for("erp.csv", None, "orders")
    ({'order_id': 'Name', 'sku': 'Lineitem sku', 'size': 'Size'}, {'order_id': 'Order No', 'size': 'Size'})
    """
    tables: dict[str, dict[str, str]] = {}
    for f in chosen:
        role = tables.setdefault(f.role, {})
        for canon, src in f.columns.items():
            role.setdefault(canon, src)
    seen: dict[tuple[str, str | None], int] = {}
    for f in chosen:
        seen[(f.file, f.sheet)] = seen.get((f.file, f.sheet), 0) + 1
    files = tuple(f if seen[(f.file, f.sheet)] > 1 else dataclasses.replace(f, sha256=None) for f in chosen)
    return Mapping(
        tables=tables,
        settings={**default_settings(), **(settings or {})},
        reason_overrides=dict(reason_overrides or {}),
        files=files,
    )


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
