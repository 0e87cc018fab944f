"""What ingestion hands to the rest of the product: canonical tables plus a full account of every row."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from data.errors import Problem

# Kinds of rows that are read but not used in return rates. Every one is kept, with its reason,
# in Dataset.rejected so that rows_read == rows_loaded + rows_rejected for every file.
REJECT_KINDS = {
    "invalid": "Could not be read (bad date, number or missing required value)",
    "not_data": "Not a data line: a total, a page footer or a header repeated in the file",
    "duplicate": "Exact duplicate of an earlier line",
    "non_merchandise": "Not merchandise (shipping, fees, discounts, adjustments, bad debt)",
    "write_off": "Stock write-off (negative line with no customer and zero price)",
    "unmatched_return": "Return that matches no purchase in the data",
    "set_aside_return": "Return of a cancelled, voided or exchange order, of an add-on line, or of an order placed "
    "before the returns file starts (not counted)",
    "future_date": "Dated in the future",
    "cancelled": "Cancelled or voided order (not a customer return; left out of every rate)",
    "exchange_order": "Exchange order created by a returns app (a replacement, not a new sale)",
    "overlap": "Order already loaded from an earlier file (exports that overlap)",
    "before_returns": "Order placed before the returns file starts (its returns are not in the file)",
    "channel_not_in_returns": "Order of a sales channel the returns files do not cover (no return of the channel "
    "is in them; e.g. an Amazon returns report beside web orders)",
    "carrier_return": "Carrier return: undeliverable, refused or lost in transit (not a customer return; "
    "left out of the return rate unless count_carrier_returns is set)",
}

# the same kinds in a few words, (one row, several rows), for a one-line account ("Rows not used 4: 1 exact
# duplicate, 3 stock write-offs")
REJECT_SHORT = {
    "invalid": ("unreadable row", "unreadable rows"),
    "not_data": ("total or footer line", "total or footer lines"),
    "duplicate": ("exact duplicate", "exact duplicates"),
    "non_merchandise": ("not merchandise", "not merchandise"),
    "write_off": ("stock write-off", "stock write-offs"),
    "unmatched_return": ("return matching no purchase", "returns matching no purchase"),
    "set_aside_return": ("return of a set-aside order", "returns of set-aside orders"),
    "future_date": ("dated in the future", "dated in the future"),
    "cancelled": ("line of a cancelled or voided order", "lines of cancelled or voided orders"),
    "exchange_order": ("line of an exchange order", "lines of exchange orders"),
    "overlap": ("line of an order already loaded", "lines of orders already loaded"),
    "carrier_return": ("carrier return", "carrier returns"),
    "before_returns": ("order line placed before the returns file", "order lines placed before the returns file"),
    "channel_not_in_returns": (
        "order line of a channel the returns do not cover",
        "order lines of channels the returns do not cover",
    ),
}


def rejected_sentence(by_kind: dict) -> str:
    """Counts of rows not used, largest first, in words.

    >>> rejected_sentence({"write_off": 3, "duplicate": 1, "overlap": 0})
    '3 stock write-offs, 1 exact duplicate'
    """
    parts = []
    for kind, k in sorted(by_kind.items(), key=lambda kv: (-int(kv[1]), str(kv[0]))):
        if int(k) <= 0:
            continue
        one, many = REJECT_SHORT.get(str(kind), (str(kind), str(kind)))
        parts.append(f"{int(k):,} {one if int(k) == 1 else many}")
    return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class FileReport:
    """How one uploaded file (or sheet) was read and where each of its rows went."""

    file: str
    role: str  # orders | returns | catalog | transactions | interventions
    layout: str  # shopify_orders | amazon_fba_returns | signed_transactions | generic
    layout_label: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    sheet: str | None = None
    mapping: dict = field(default_factory=dict)  # canonical -> source column
    rejected_by_kind: dict = field(default_factory=dict)  # kind -> count
    notes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_rejected

    @property
    def label(self) -> str:
        """The file as the load report and the CLI name it: a sheet of a workbook of several is in its name
        already ('book.xlsx [2024]'), the one sheet of a workbook is added."""
        return self.file if not self.sheet or self.file.endswith(f"[{self.sheet}]") else f"{self.file} [{self.sheet}]"


@dataclass(frozen=True)
class Dataset:
    """Canonical tables (see data.schema) and the account of what was loaded, rejected and why.

    orders / returns / catalog / interventions hold the canonical columns of data.schema with
    canonical dtypes: str columns as pandas string (missing = <NA>), dates as datetime64[ns]
    (normalised to midnight), quantity as int64, money as float64 (missing = NaN).
    Optional columns that no file provided are present and entirely missing.

    rejected: one row per rejected source row, columns file, row (1-based data row number in the
    file), kind (see REJECT_KINDS), reason (a sentence), data (the raw row as "col=value; ..." text).
    unmatched_returns / excluded are the 'unmatched_return' and 'non_merchandise'/'write_off' parts of
    rejected, kept as canonical-looking frames (order_id, sku, quantity, ...) for display.
    """

    name: str
    orders: pd.DataFrame
    returns: pd.DataFrame
    catalog: pd.DataFrame
    interventions: pd.DataFrame
    files: tuple[FileReport, ...]
    rejected: pd.DataFrame
    unmatched_returns: pd.DataFrame
    excluded: pd.DataFrame
    notes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()  # warnings that did not stop loading
    content_hash: str = ""
    # counts of things set apart that rows alone do not tell: orders_cancelled (distinct orders),
    # non_merchandise_lines, orders_overlapping (orders found in more than one file)
    counts: dict = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rejected_by_kind(self) -> dict[str, int]:
        """Rows not used, by kind (REJECT_KINDS), over every file."""
        out: dict[str, int] = {}
        for f in self.files:
            for kind, k in f.rejected_by_kind.items():
                out[str(kind)] = out.get(str(kind), 0) + int(k)
        return out

    @property
    def returns_matching_nothing(self) -> int:
        """Return rows that match no purchase (kind 'unmatched_return': not loaded, in no rate).

        unmatched_returns also lists the remainder of lines matched in part (``partial``: a credit note returning
        more units than the purchase sold); those lines are loaded and their matched units counted, so they are
        not counted here (on the real Online Retail II export 1,638 rows, not 1,846).
        """
        um = self.unmatched_returns
        if um is None or not len(um):
            return 0
        if "partial" not in um.columns:
            return int(len(um))
        return int((~um["partial"].fillna(False).astype(bool)).sum())
