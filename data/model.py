"""What ingestion hands to the rest of the product: canonical tables plus a full account of every row."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from data.errors import Problem

# Kinds of rows that are read but not used in return rates. Every one is kept, with its reason,
# in Dataset.rejected so that rows_read == rows_loaded + rows_rejected for every file.
REJECT_KINDS = {
    "invalid": "Could not be read (bad date, number or missing required value)",
    "duplicate": "Exact duplicate of an earlier line",
    "non_merchandise": "Not merchandise (shipping, fees, discounts, adjustments, bad debt)",
    "write_off": "Stock write-off (negative line with no customer and zero price)",
    "unmatched_return": "Return that matches no purchase in the data",
    "set_aside_return": "Return of a cancelled, voided or exchange order, or of an add-on line (not counted)",
    "future_date": "Dated in the future",
    "cancelled": "Cancelled or voided order (not a customer return; left out of every rate)",
    "exchange_order": "Exchange order created by a returns app (a replacement, not a new sale)",
    "overlap": "Order already loaded from an earlier file (exports that overlap)",
    "before_returns": "Order placed before the returns file starts (its returns are not in the file)",
    "carrier_return": "Carrier return: undeliverable, refused or lost in transit (not a customer return; "
    "left out of the return rate unless count_carrier_returns is set)",
}


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
