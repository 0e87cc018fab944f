"""The one description of the segment table's columns: header, kind and help, for the pages and the workbook.

analysis.segments.segment_table produces the columns; the dashboard's segment tables
(dashboard.segment_views.segment_table) and the "Segments" sheet of the Excel export (analysis.export) both show a
subset of SEGMENT_COLUMNS in this order, under these headers. A new column is added here once.

kind: "text", "int", "num" (rounded count), "pct" (a rate), "money", "p" (a p- or q-value).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("text", "int", "num", "pct", "money", "p")


@dataclass(frozen=True)
class Column:
    key: str  # column of analysis.segments.segment_table
    header: str  # what the page and the workbook call it
    kind: str
    help: str = ""
    page: bool = True  # shown in the dashboard's segment tables
    export: bool = True  # written to the workbook's Segments sheet
    page_key: str = ""  # the page's display column when it differs (dashboard.formatting.segment_frame adds it)
    wide: bool = False  # long text on the page


SEGMENT_COLUMNS: tuple[Column, ...] = (
    Column("dimension", "Dimension", "text", page=False),
    Column("label", "Segment", "text", page_key="Segment"),
    Column("verdict", "Verdict", "text"),
    Column("basis", "Basis", "text", "Units, or orders when the rate is per order", page=False),
    Column("n", "Volume", "int", "Units sold (orders on the order basis), matured orders only"),
    Column("returned", "Returned", "int"),
    Column("return_rate", "Return rate", "pct"),
    Column("baseline_rate", "Comparison rate", "pct", "Return rate of the segment's comparison group"),
    Column("reference", "Compared with", "text", page_key="Compared with"),
    Column("ci_low", "95% CI low", "pct"),
    Column("ci_high", "95% CI high", "pct"),
    Column("diff", "Difference", "pct", page=False),
    Column("diff_low", "Diff. CI low", "pct", page=False),
    Column("diff_high", "Diff. CI high", "pct", page=False),
    Column("noise_reason", "Why within noise", "text", export=False, wide=True),
    Column("p_value", "p (higher)", "p", page=False),
    Column(
        "q_value",
        "q (higher)",
        "p",
        "List-wide q-value of the test for higher: one weighted Benjamini-Hochberg family over every segment and pair (the fix list's)",
    ),
    Column("p_lower", "p (lower)", "p", page=False),
    Column("q_lower", "q (lower)", "p", page=False),
    Column(
        "shrunk_rate",
        "Shrunk rate",
        "pct",
        "Empirical-Bayes estimate: small segments pulled toward their comparison rate",
    ),
    Column("expected_returns", "Expected returns", "num", page=False),
    Column("excess_returns", "Excess returns", "num"),
    Column("excess_cost", "Excess cost", "money"),
    Column("conservative_excess", "Excess (at least)", "num", page=False),
    Column("priority_score", "Priority score", "money", page=False),
    Column("top_reason", "Top reason", "text"),
    Column("test", "Test", "text", page=False),
    Column("deff", "Design effect", "num", page=False),
    Column("order_return_rate", "Order return rate", "pct", page=False),
)


def page_columns() -> tuple[Column, ...]:
    """The columns the dashboard's segment tables show, in order."""
    return tuple(c for c in SEGMENT_COLUMNS if c.page)


def sheet_columns() -> list[tuple[str, str, str]]:
    """(key, header, kind) of the workbook's Segments sheet, in order.

    >>> sheet_columns()[:3]
    [('dimension', 'Dimension', 'text'), ('label', 'Segment', 'text'), ('verdict', 'Verdict', 'text')]
    """
    return [(c.key, c.header, c.kind) for c in SEGMENT_COLUMNS if c.export]
