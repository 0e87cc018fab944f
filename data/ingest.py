"""Uploaded export files -> the canonical Dataset, with a full account of every row.

inspect_file() reads one file and says what it is (layout, role, sheets, encoding, delimiter,
suggested mapping, preview). load_dataset() reads every file, maps, converts and validates it,
splits signed transactions, matches returns to orders, fills attributes from a catalog, and returns
a Dataset whose FileReports reconcile (rows_read == rows_loaded + rows_rejected). It raises one
InputError listing every problem when nothing usable can be built.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from data.errors import InputError, Problem
from data.amazon import STYLE_COL
from data.layouts import (
    MAGENTO_REFUNDED,
    SOLD_STATUS,
    is_magento,
    order_status_column,
    order_statuses,
    status_kinds,
    LAYOUT_LABELS,
    Layout,
    detect_layout,
    family_from_description,
    product_type_from_name,
    layout_rejects,
    prepare_frame_with_kinds,
)
from data.mapping import ROLES, Mapping, suggest_mapping
from data.model import Dataset, FileReport
from data.readers import DELIMITER_NAMES, RawTable, date_order_shown, parse_dates, read_table
from data.schema import TABLES
from data.transactions import split_transactions
from data.validate import (
    FOOTER_REASON,
    convert,
    currency_counts,
    examples,
    mark_future,
    MOST_UNMATCHED,
    RETURNS_CHANNELS,
    RETURNS_START_LATER,
    missing_columns,
    mixed_currency_problem,
    negative_price_problem,
)

PREVIEW_ROWS = 20

log = logging.getLogger("returns_intelligence")


@dataclass(frozen=True)
class SourceFile:
    name: str
    content: bytes
    role: str | None = None  # orders | returns | catalog | transactions | interventions | None = auto-detect
    sheet: str | None = None


@dataclass(frozen=True)
class FileInfo:
    name: str
    sheets: tuple[str, ...]
    sheet: str | None
    encoding: str | None
    delimiter: str | None
    header_row: int
    layout: str
    layout_label: str
    role: str
    columns: tuple[str, ...]
    preview: pd.DataFrame
    suggested: dict[str, str]
    notes: tuple[str, ...] = ()


def _read(
    name: str, content: bytes, sheet: str | None, role: str | None
) -> tuple[RawTable, Layout, pd.DataFrame, tuple, tuple | None]:
    raw = read_table(name, content, sheet)
    body = raw.frame[~raw.footer] if raw.footer.any() else raw.frame  # no copy of a file without footer rows
    layout = detect_layout(list(raw.frame.columns), body, role)
    if role is not None and role != layout.role:
        layout = Layout(layout.key, layout.label, role, detect_layout(list(raw.frame.columns), None, role).suggested)
    frame, notes, kinds = prepare_frame_with_kinds(layout, raw.frame)
    if len(frame) != len(raw.frame):  # multi-product cells split into lines: each line keeps its row's footer flag
        src = frame.index.to_numpy()
        frame = frame.reset_index(drop=True)
        raw = dataclasses.replace(raw, frame=frame, footer=raw.footer[src])
    return raw, layout, frame, notes, kinds


def inspect_file(name: str, content: bytes, sheet: str | None = None) -> FileInfo:
    """Read one upload and describe it for the mapping step (no validation, nothing rejected).

    >>> info = inspect_file("o.csv", b"Order ID,Order Date,SKU,Qty\\n1,2024-01-02,A,1\\n")
    >>> (info.role, info.suggested["quantity"])
    ('orders', 'Qty')
    """
    raw, layout, frame, notes, _ = _read(name, content, sheet, None)
    notes = raw.notes + notes
    if raw.delimiter:
        notes += (f"Delimiter: {DELIMITER_NAMES[raw.delimiter]}.",)
    return FileInfo(
        name=name,
        sheets=raw.sheets,
        sheet=raw.sheet,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        header_row=raw.header_row,
        layout=layout.key,
        layout_label=layout.label,
        role=layout.role,
        columns=tuple(frame.columns),
        preview=frame.head(PREVIEW_ROWS).copy(),
        suggested=dict(layout.suggested),
        notes=notes,
    )


MAX_SHEETS_INSPECTED = 20  # a workbook with more sheets is not searched for tables (its default sheet is read)


def holds_table(info: FileInfo) -> bool:
    """Whether the inspected file or sheet is a table of its detected role: every required column of that role
    was matched (a cover sheet, a notes sheet or a pivot summary is not), and for a catalog, whose one required
    column is the SKU, some attribute of it too (a pivot of SKUs and sums is not a catalog)."""
    table = TABLES[info.role]
    if not all(c in info.suggested for c in table.required):
        return False
    return info.role != "catalog" or any(c in info.suggested for c in table.names if c not in table.required)


def table_sheets(name: str, content: bytes) -> tuple[FileInfo, ...]:
    """The sheets of a workbook that hold a table of a known role (holds_table), in workbook order: ERP and
    returns-app workbooks carry orders and returns on sheets of their own, often after a cover sheet. One
    FileInfo for a CSV or a one-sheet workbook; the default sheet's alone when none holds a table or the
    workbook has more than MAX_SHEETS_INSPECTED sheets."""
    first = inspect_file(name, content)
    if len(first.sheets) <= 1 or len(first.sheets) > MAX_SHEETS_INSPECTED:
        return (first,)
    found = []
    for sheet in first.sheets:
        try:
            info = first if sheet == first.sheet else inspect_file(name, content, sheet)
        except Exception:  # noqa: BLE001 - an empty or unreadable sheet is not a table; the others still are
            continue
        if holds_table(info):
            found.append(info)
    return tuple(found) or (first,)


def _check_role(role: str | None) -> InputError | None:
    if role is None or role in ROLES:
        return None
    msg = f"Role '{role}' is not one of {', '.join(ROLES)}."
    return InputError(
        "Unknown file role", msg, [Problem("", "Unknown file role", msg, f"Use one of: {', '.join(ROLES)}.")]
    )


@dataclass
class _Work:
    """One file (or sheet) on its way through loading."""

    name: str
    sheet: str | None
    role: str
    layout: Layout
    raw: pd.DataFrame
    frame: pd.DataFrame  # canonical columns
    kind: pd.Series
    reason: pd.Series
    mapping: dict
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    loaded: pd.Series | None = None  # bool per row, set at the end
    date_orders: dict = field(default_factory=dict)  # canonical date column -> "dmy" | "mdy" read (auto only)


# kinds of order rows whose return is "set aside", not "unknown": the rows are in the orders file but not counted
_NOT_SET_ASIDE = ("overlap", "duplicate")


def _order_key(ids: pd.Series) -> pd.Series:
    """An order number as written without decoration: no '#' in front, no surrounding spaces, one case
    ('#1001', ' 1001', '1001' are one order). Shopify writes '#1001'; returns apps and ERPs often '1001'; a number
    column Excel saved as CSV '1001.0' (no trailing '.0' on a whole number)."""
    key = ids.astype("string").str.strip().str.lstrip("#").str.strip().str.upper()
    return key.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


def _order_key_lookup(ids: pd.Series, keys: pd.Series, wanted: pd.Series) -> dict[str, str]:
    """{_order_key: the order id as the orders file writes it} for the `wanted` keys that name one order only.
    ids: every order id, keys: their _order_key. Only the wanted keys' orders go into the dict (a dict of every
    order cost 0.8 s CPU at 500k orders, paid by every load with a single unknown return)."""
    near = keys.isin(wanted.dropna().unique()).to_numpy()
    keys, ids = keys[near], ids[near]
    unique = ~keys.duplicated(keep=False)
    return dict(zip(keys[unique], ids[unique]))


def _isin(values: pd.Series, known: pd.Index) -> np.ndarray:
    """values.isin(known) as a bool array (NA: False), `known` an object Index of order ids. Compared as Python
    strings: an Arrow string column's isin took 1.0 s CPU against 250k orders (pandas 3.1), this 0.05 s."""
    return values.astype(object).isin(known).to_numpy(dtype=bool)


def _order_numbers_as_written(
    f: pd.DataFrame, usable: np.ndarray, known: pd.Index, lookup: Callable[[pd.Series], dict[str, str]]
) -> int:
    """Return lines whose order number is not written as in the orders file (`known`: its order ids, loaded or
    set aside) but names one of its orders once decoration is dropped ('1001' for '#1001'): their order_id
    becomes the orders file's. How many changed."""
    if "order_id" not in f:
        return 0
    ids = f["order_id"].astype("string")
    todo = usable & ~_isin(ids, known) & ids.notna().to_numpy()
    if not todo.any():
        return 0
    want = _order_key(ids[todo])
    found = lookup(want)
    if not found:
        return 0
    return _write_found(f, "order_id", todo, want.map(found).to_numpy())


def _write_found(f: pd.DataFrame, column: str, todo: np.ndarray, found: np.ndarray) -> int:
    """f[column] of the `todo` rows set to `found` (one value per todo row) where a value was found; how many."""
    hit = pd.notna(found)
    if not hit.any():
        return 0
    f[column] = f[column].astype("string")
    f.iloc[np.flatnonzero(todo)[hit], f.columns.get_loc(column)] = found[hit]
    return int(hit.sum())


def _sku_key(skus: pd.Series) -> pd.Series:
    """A SKU without case or spaces: 'tee-blk-m', ' TEE-BLK-M', 'TEE BLK M'... are compared as 'TEE-BLK-M'; a SKU of
    digits without its leading zeros ('00123' and '123': Excel drops them) or a whole number's '.0' ('123.0')."""
    key = skus.astype("string").str.upper().str.replace(r"\s+", "", regex=True)
    return key.str.replace(r"^0*(\d+?)(?:\.0+)?$", r"\1", regex=True)


def _unmatched(f: pd.DataFrame, usable: np.ndarray, lines: pd.Index) -> np.ndarray:
    """The usable return lines with a SKU whose (order_id, sku) is not one of `lines` as written."""
    oid, sku = f["order_id"].astype("string"), f["sku"].astype("string")
    return usable & ~pd.MultiIndex.from_arrays([oid, sku]).isin(lines) & sku.notna().to_numpy()


def _match_in_order(f: pd.DataFrame, todo: np.ndarray, lines: pd.DataFrame) -> int:
    """The `todo` return lines whose order has exactly one line of their key (`lines`: order_id, key, sku as text;
    the key of a return line is _sku_key of its sku): their sku becomes that line's. How many changed."""
    lines = lines.dropna().drop_duplicates(["order_id", "key", "sku"])
    lines = lines[~lines.duplicated(["order_id", "key"], keep=False)]  # a key on two lines (two sizes): unknown
    lookup = pd.Series(lines["sku"].to_numpy(), index=pd.MultiIndex.from_frame(lines[["order_id", "key"]]))
    oid, sku = f["order_id"].astype("string"), f["sku"].astype("string")
    want = pd.MultiIndex.from_arrays([oid[todo].to_numpy(), _sku_key(sku[todo]).to_numpy()])
    return _write_found(f, "sku", todo, lookup.reindex(want).to_numpy())


def _skus_as_written(f: pd.DataFrame, todo: np.ndarray, lines: pd.Index) -> int:
    """Return lines (`todo`, on none of `lines` as written: _unmatched) that are one of their order's `lines`
    (order_id, sku) once case and spaces are dropped, and only one: their sku becomes that line's. How many."""
    if not todo.any() or not len(lines):
        return 0
    # only the lines of the orders concerned are keyed (all of them cost 0.9 s CPU at 1M order lines, paid by
    # every load with a single unknown return)
    near = lines.get_level_values(0).isin(f["order_id"].astype("string")[todo].dropna().unique())
    if not near.any():
        return 0
    found = lines[near].to_frame(index=False).astype("string")
    found.columns = ["order_id", "sku"]
    return _match_in_order(f, todo, found.assign(key=_sku_key(found["sku"])))


def name_for_sku(role: str, mapping: dict[str, str], columns: list[str]) -> str | None:
    """The column whose product names tell items apart in a file of order or return lines without a SKU column
    (many simple exports and returns forms), as Shopify's line name does for a line without a SKU; None when the
    file has a SKU column or no name. A returns table has no name column of its own: its product or item title is
    found as an orders file's would be."""
    if role not in ("orders", "returns", "transactions") or mapping.get("sku") in columns:
        return None
    name = mapping.get("product_name") or suggest_mapping(columns, "orders").get("product_name")
    return name if name in columns else None


def _names_as_skus(role: str, eff: dict[str, str], columns: list[str]) -> str | None:
    """eff gets sku = name_for_sku's column; the note says so (None when it has none)."""
    name = name_for_sku(role, eff, columns)
    if name is None:
        return None
    eff["sku"] = name
    return (
        f"No SKU column: items are told apart by their names ('{name}'), so sizes or colours count as one item "
        "unless the name says them. Map a SKU column if the file has one under another header."
    )


def _names_as_written(f: pd.DataFrame, todo: np.ndarray, orders: pd.DataFrame) -> int:
    """Return lines (`todo`) that name the product instead of its SKU (a returns form's product title beside an
    orders file with SKUs): when the order has exactly one line of that name (case and spaces dropped), the return
    is that line's; its sku becomes the line's. How many changed."""
    if not todo.any() or "product_name" not in orders:
        return 0
    ids = f["order_id"].astype("string")[todo].dropna().unique()
    near = orders[orders["order_id"].astype("string").isin(ids).to_numpy(dtype=bool)]
    if not len(near):
        return 0
    lines = pd.DataFrame(
        {
            "order_id": near["order_id"].astype("string").to_numpy(),
            "key": _sku_key(near["product_name"]).to_numpy(),
            "sku": near["sku"].astype("string").to_numpy(),
        }
    )
    return _match_in_order(f, todo, lines)


REFUNDS_UNRETURNED_SHARE = 0.2  # refunded orders without a return line, above which the orders file's note says so
REFUNDS_UNRETURNED_MIN = 20  # refunded orders needed before the share is said


def _order_codes_with_returns(orders: pd.DataFrame, returns: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(per order line, its order's integer code (-1: no id); per code, whether a return line names that order):
    the orders' ids are encoded once (Arrow), and only the returns' ids are looked up (1M order lines: 0.1 s
    instead of 0.9 s for matching every line's id as text)."""
    codes, uniq = pd.factorize(orders["order_id"], sort=False)
    at = pd.Index(uniq).get_indexer(pd.unique(returns["order_id"].dropna()))
    has_return = np.zeros(len(uniq) + 1, dtype=bool)  # the last entry: code -1
    has_return[at[at >= 0]] = True
    return codes, has_return


def _refunds_without_returns(
    works: list[_Work],
    orders: pd.DataFrame,
    returns: pd.DataFrame,
    coded: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """An orders export that records refunds per order (Shopify's Refunded Amount, an order status) beside a returns
    file: the rates count the returns file, and the refunds it does not hold are said on the orders file. Counted over
    the orders placed between the first and the last order the returns file returns, so a shorter returns file is not
    read as unreturned refunds: refunded orders with no line in the returns file are refunds without a return (goodwill, a
    cancellation after payment) or returns the file does not hold."""
    if not len(returns) or "order_refunded" not in orders or "order_date" not in orders:
        return
    codes, has_return = coded if coded is not None else _order_codes_with_returns(orders, returns)
    returned = has_return[codes] & (codes >= 0)
    placed = orders["order_date"]
    when = placed[returned].dropna()
    if not len(when):
        return
    refunded = (pd.to_numeric(orders["order_refunded"], errors="coerce").fillna(0) > 0).to_numpy(dtype=bool)
    inside = ((placed >= when.min()) & (placed <= when.max())).fillna(False).to_numpy(dtype=bool)
    ref = np.unique(codes[refunded & inside & (codes >= 0)])
    if len(ref) < REFUNDS_UNRETURNED_MIN:
        return
    missing = int((~has_return[ref]).sum())
    if missing < REFUNDS_UNRETURNED_SHARE * len(ref):
        return
    target = next((w for w in works if w.role == "orders" and "order_refunded" in w.mapping), None)
    if target is None:
        return
    target.notes.append(
        f"{target.mapping['order_refunded']} records a refund on {len(ref):,} orders placed in the period the returns "
        f"file covers (orders of {when.min():%d %b %Y} to {when.max():%d %b %Y}); {missing:,} of them "
        f"({missing / len(ref):.0%}) have "
        "no line in the returns file: refunds without a return (goodwill, a cancellation after payment) or returns "
        "the file does not hold. Return rates count the returns file only."
    )


RETURNS_START_GRACE_DAYS = 30  # returns of an order placed this long before the returns file starts are mostly in
# (before the file's first return); such orders that hold none at all say the file starts later than the orders
RETURNS_START_MIN_EXPECTED = 5.0  # returns those orders should hold at the later orders' rate before it counts
RETURNS_START_P = 0.01  # Poisson probability of holding so few by chance below which the file starts later


def _returns_start(
    works: list[_Work], orders: pd.DataFrame, coded: tuple[np.ndarray, np.ndarray]
) -> tuple[pd.Timestamp, str] | None:
    """(first day the returns files cover, note) when they start clearly after the orders; else None.

    A returns export often covers less time than the orders export (a returns app's last 90 days beside an
    all-time orders export): the orders placed before it are not "never returned", their returns are not in it.
    The returns files start at their first return S. Orders placed more than RETURNS_START_GRACE_DAYS before S
    would have returned most of what they return before S; at the rate of the orders placed from S (orders with a
    return / orders, those whose month has passed by the last return), they should hold E orders with a return.
    When E >= RETURNS_START_MIN_EXPECTED and they hold so few that Poisson(E) gives it less than RETURNS_START_P,
    the files start at S: the orders placed before S are set apart (a complete returns file has its first return
    soon after the first orders, and orders without any return for a while are judged by how many returns they
    should hold). coded: _order_codes_with_returns of the orders and every return line loaded."""
    dates = []
    for w in works:
        if w.role == "returns" and "return_date" in w.frame and "order_id" in w.frame:
            dates.append(w.frame.loc[w.kind.isna().to_numpy(), "return_date"])
    if not dates or not len(orders) or "order_date" not in orders:
        return None
    d = pd.concat(dates).dropna()
    if not len(d):
        return None
    first, last = d.min(), d.max()
    codes, with_return = coded
    known = codes >= 0
    per_order = orders["order_date"][known].groupby(codes[known], sort=False).min()
    has_return = with_return[per_order.index.to_numpy()]
    placed = per_order.to_numpy()
    early = placed < first - pd.Timedelta(days=RETURNS_START_GRACE_DAYS)
    later = (placed >= first) & (placed <= last - pd.Timedelta(days=RETURNS_START_GRACE_DAYS))
    if not early.any():
        return None
    if not later.any():  # a short returns file: every order placed from its start
        later = placed >= first
    if not later.any():
        return None
    rate = float(has_return[later].mean())
    expected = float(early.sum()) * rate
    held = int(has_return[early].sum())
    from scipy.special import pdtr  # P(X <= held), X ~ Poisson(expected); scipy is loaded by the analysis anyway

    if expected < RETURNS_START_MIN_EXPECTED or float(pdtr(held, expected)) >= RETURNS_START_P:
        return None
    before = int((placed < first).sum())
    note = (
        f"{RETURNS_START_LATER}: the returns file's first return is on {first:%d %b %Y}, but the orders go back to "
        f"{per_order.min():%d %b %Y}. The {int(early.sum()):,} orders placed more than "
        f"{RETURNS_START_GRACE_DAYS} days before it would hold about {expected:,.0f} orders with a return at the "
        f"rate of later orders ({rate:.1%}), and the file holds {held:,}: their returns are not in it. The "
        f"{before:,} orders placed before {first:%d %b %Y} are set apart (listed as placed before the returns "
        "file), so every rate describes the orders placed since. Export the returns of the whole period to count "
        "the earlier orders."
    )
    return first, note


def _returns_channels(orders: pd.DataFrame, coded: tuple[np.ndarray, np.ndarray]) -> tuple[list[str], str] | None:
    """(the channels the returns files do not cover, note) when some channel holds no order with a return although
    it should; else None.

    A returns export often covers one channel only (Amazon's FBA customer-returns report beside an orders export
    of web, app and marketplace orders): the other channels' orders are not "never returned", their returns are
    not in it. At the rate of the channels that have returns (orders with a return / orders), a channel with none
    should hold E orders with a return; when E >= RETURNS_START_MIN_EXPECTED and Poisson(E) gives 0 less than
    RETURNS_START_P (the test of _returns_start), its orders are set apart. Lines without a channel are kept.
    coded: _order_codes_with_returns of the orders and every return line loaded."""
    if "channel" not in orders or not len(orders):
        return None
    codes, with_return = coded
    ch = orders["channel"].astype("string")
    known = (codes >= 0) & ch.notna().to_numpy()
    if not known.any():
        return None
    per = pd.DataFrame({"code": codes[known], "channel": ch[known].to_numpy()}).drop_duplicates()
    per["held"] = with_return[per["code"].to_numpy()]
    by = per.groupby("channel", sort=True)["held"].agg(["size", "sum"])
    covered, empty = by[by["sum"] > 0], by[by["sum"] == 0]
    if covered.empty or empty.empty:
        return None
    rate = float(covered["sum"].sum()) / float(covered["size"].sum())
    expected = empty["size"].astype("float64") * rate
    from scipy.special import pdtr  # P(X <= 0), X ~ Poisson(expected); scipy is loaded by the analysis anyway

    out = empty[(expected >= RETURNS_START_MIN_EXPECTED) & (pdtr(0, expected) < RETURNS_START_P)]
    if out.empty:
        return None
    gone = [str(c) for c in out.index]
    n_gone = int(out["size"].sum())

    def words(names: list[str]) -> str:  # "App, Instagram Shop and Web"
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    kept = words([str(c) for c in covered.index])
    note = (
        f"{RETURNS_CHANNELS}: none of the returns is of an order of "
        + words([f"{c} ({int(out.loc[c, 'size']):,} orders)" for c in gone])
        + f", while {rate:.1%} of the orders of {kept} have one; at that rate {words(gone)} would hold about "
        f"{float(expected[out.index].sum()):,.0f} orders with a return. Their returns are not in the files (e.g. an Amazon returns "
        f"report beside web orders): their {n_gone:,} orders are set apart (listed as of a channel the returns do "
        f"not cover) and every rate describes {kept}. Add the returns export of {words(gone)} to count them."
    )
    return gone, note


def _one_day_order(works: list[_Work], settings: dict) -> None:
    """Dates of one upload in one day order: a file whose day/month/year-like dates could all be read either way
    (every day 12 or less) takes the order another file's dates prove ('25/01/2024': day first), not the guess
    its separator suggests ('/' month first). Done only when the files were read in different orders."""
    used = {o for w in works for o in w.date_orders.values()}
    if len(used) < 2:
        return
    proven: dict[str, tuple[str, str]] = {}  # order -> (file, column) that shows it
    unsure: list[tuple[_Work, str, str]] = []
    for w in works:
        for col, order in w.date_orders.items():
            src = w.mapping.get(col)
            if src not in w.raw.columns:
                continue
            shown = date_order_shown(w.raw[src])
            if shown is None:
                unsure.append((w, col, order))
            else:
                proven.setdefault(shown, (w.name, str(src)))
    if len(proven) != 1:  # none, or files that prove both orders: each keeps its own
        return
    ((order, (file, src)),) = proven.items()
    words = {"dmy": "day/month/year", "mdy": "month/day/year"}
    for w, col, was in unsure:
        if was == order:
            continue
        mine = str(w.mapping[col])
        text = w.raw[mine].astype("string").str.strip()
        live = w.reason.ne(FOOTER_REASON).fillna(True)  # as convert: footer rows are not read
        values, _, _ = parse_dates(text.where(text != "").where(live), order)
        w.frame[col] = values.astype(w.frame[col].dtype)
        w.date_orders[col] = order
        old = f"'{mine}' read as {words[was]} dates."
        new = (
            f"'{mine}' read as {words[order]} dates, as '{src}' of {file} shows (its dates cannot be "
            f"{words[was]}); every date here could be read either way."
        )
        w.notes = [new if n == old else n for n in w.notes]


def _read_order_status(w: _Work, text: pd.DataFrame, settings: dict) -> None:
    """Order-level refunds read off an order-status column (WooCommerce "refunded", "partially refunded"; other
    platforms' words, data.layouts.status_kinds): w.frame gets order_refunded = the order's value sold for a
    refunded order, 0 for the others (known not refunded), so that without a returns file the outcome is orders
    with a refund, as for a Shopify export. A partial refund's amount is not in the status: its order counts as
    refunded and its lines as wholly refunded, an upper bound, and the note says how many. Status values that say
    neither sold, refunded nor cancelled (data.layouts.SOLD_STATUS) are counted as sold and named in a note with
    their orders: in some systems they mean a refund (Magento's "closed") or an order never paid."""
    col = order_status_column(list(text.columns))
    if col is None or "order_id" not in w.frame:
        return
    status = order_statuses(text, col).reset_index(drop=True)
    never, full, part = status_kinds(status, list(text.columns), settings)
    f = w.frame
    oid = f["order_id"].astype("string")
    _note_unread_statuses(w, col, text[col].reset_index(drop=True), status, oid, never | full | part)
    if not (full | part).any():
        return
    units = f["quantity"].astype("float64") if "quantity" in f else pd.Series(1.0, index=f.index)
    price = f["unit_price"].astype("float64").fillna(1.0) if "unit_price" in f else pd.Series(1.0, index=f.index)
    value = (units * price).groupby(oid, sort=False).transform("sum")
    refunded = pd.Series(full | part).groupby(oid, sort=False).transform("any").to_numpy()  # a status on any line
    partly = pd.Series(part).groupby(oid, sort=False).transform("any").to_numpy()
    f["order_refunded"] = np.where(refunded, value.clip(lower=0.01), 0.0)
    n_full = int(oid[refunded & ~partly].nunique())
    n_part = int(oid[partly].nunique())
    w.mapping = {**w.mapping, "order_refunded": f"{col} (refunded)"}
    magento = is_magento(list(text.columns)) and bool((status[full] == MAGENTO_REFUNDED).any())
    w.notes.append(
        f"{col} records refunds per order: {n_full:,} refunded order(s)"
        + (" (Magento's 'closed' status is an order refunded in full)" if magento else "")
        + (
            f" and {n_part:,} partly refunded, counted as refunded with all their units (the status does not say "
            "which units or how much: an upper bound)"
            if n_part
            else ""
        )
        + ". Without a returns file the outcome is orders with a refund; add a returns file for unit return rates."
    )


def _note_unread_statuses(
    w: _Work, col: str, raw: pd.Series, status: pd.Series, oid: pd.Series, read: np.ndarray
) -> None:
    """A note naming the status values counted as sold without saying so (not SOLD_STATUS, not read as a refund or
    a cancellation), each with its orders, most first, and how to have them read otherwise."""
    other = ~read & ~status.str.fullmatch(SOLD_STATUS).fillna(False).to_numpy(dtype=bool) & status.notna().to_numpy()
    other &= (status.str.len() > 0).fillna(False).to_numpy(dtype=bool)
    if not other.any():
        return
    shown = raw.astype("string").str.strip().str.slice(0, 40)[other]
    orders = pd.DataFrame({"status": shown.to_numpy(), "order": oid[other].to_numpy()}).drop_duplicates()
    counts = orders.groupby("status", sort=False).size().sort_values(ascending=False, kind="stable")
    listed = ", ".join(f"'{k}' ({v:,} order{'s' if v != 1 else ''})" for k, v in counts.head(5).items())
    more = f" and {len(counts) - 5} other value(s)" if len(counts) > 5 else ""
    w.notes.append(
        f"{col} values counted as sold, as they name no refund or cancellation this tool knows: {listed}{more}. "
        "If one of them means refunded or cancelled in your system, add it to the reading settings "
        "(refunded statuses, cancelled statuses) or to refunded_statuses / cancelled_statuses in the mapping "
        "JSON's settings."
    )


def _set_aside_lines(works: list[_Work]) -> pd.Series:
    """The reason each order line of the orders files was set aside while loading, indexed by (order_id, sku),
    plus (order_id, "") for orders none of whose lines was loaded (cancelled, voided, exchange orders). Overlapping
    and duplicate rows are left out: their order is loaded from its other copy."""
    parts = []
    for w in works:
        if w.role != "orders" or "order_id" not in w.frame or "sku" not in w.frame:
            continue
        kind = w.kind.astype("string")
        m = (kind.notna() & ~kind.isin(_NOT_SET_ASIDE)).fillna(False).to_numpy() & w.frame[
            "order_id"
        ].notna().to_numpy()
        if not m.any():
            continue
        parts.append(
            pd.DataFrame(
                {
                    "order_id": w.frame["order_id"].astype("string")[m].to_numpy(),
                    "sku": w.frame["sku"].astype("string")[m].fillna("").to_numpy(),
                    "loaded": False,
                    "reason": w.reason.astype("string")[m].to_numpy(),
                }
            )
        )
        loaded = w.kind.isna().to_numpy() & w.frame["order_id"].notna().to_numpy()
        parts.append(
            pd.DataFrame(
                {"order_id": w.frame["order_id"].astype("string")[loaded].unique(), "sku": "", "loaded": True}
            ).assign(reason=pd.NA)
        )
    if not parts:
        return pd.Series(dtype="string", index=pd.MultiIndex.from_arrays([[], []]))
    a = pd.concat(parts, ignore_index=True)
    lines = a[~a["loaded"]].drop_duplicates(["order_id", "sku"])
    # whole orders: every line set aside and none loaded (the first line's reason speaks for the order)
    whole = lines.drop_duplicates("order_id")
    whole = whole[~whole["order_id"].isin(a.loc[a["loaded"], "order_id"])].assign(sku="")
    out = pd.concat([lines, whole], ignore_index=True).drop_duplicates(["order_id", "sku"])
    return pd.Series(
        out["reason"].to_numpy(),
        index=pd.MultiIndex.from_arrays([out["order_id"].to_numpy(), out["sku"].to_numpy()]),
        dtype="string",
    )


def _empty(table: str) -> pd.DataFrame:
    cols = {}
    for c in TABLES[table].columns:
        cols[c.name] = pd.Series(
            dtype="datetime64[ns]"
            if c.dtype == "date"
            else "int64"
            if c.dtype == "int"
            else "float64"
            if c.dtype == "float"
            else "string"
        )
    return pd.DataFrame(cols)


def _canonical(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Columns of `table` in schema order with canonical dtypes; dates normalised to midnight."""
    out = {}
    for c in TABLES[table].columns:
        if c.name in df:
            s = df[c.name]
        elif c.dtype == "str":  # an absent text column: all missing, built as such (not 500k NA objects converted)
            s = pd.Series(pd.NA, index=df.index, dtype="string")
        else:
            s = pd.Series(np.nan, index=df.index)
        if c.dtype == "date":
            s = pd.to_datetime(s).astype("datetime64[ns]").dt.normalize()
        elif c.dtype == "int":
            s = s.fillna(c.default if c.default is not None else 0).astype("int64")
        elif c.dtype == "float":
            s = s.astype("float64")
        else:
            s = s.astype("string")
        out[c.name] = s
    return pd.DataFrame(out).reset_index(drop=True)


def _raw_text(raw: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    """'col=value; col=value' for the given rows, vectorised over columns."""
    sub = raw.iloc[rows]
    if sub.empty:
        return pd.Series([], dtype="string")
    parts = [(f"{c}=" + sub[c].astype("string").fillna("")) for c in raw.columns]
    text = parts[0]
    for p in parts[1:]:
        text = text + "; " + p
    return text.reset_index(drop=True)


def load_dataset(
    files: Sequence[SourceFile],
    mapping: Mapping | None = None,
    *,
    name: str = "Uploaded data",
    progress: Callable[[float, str], None] | None = None,
    today: date | None = None,
) -> Dataset:
    """Read, map, validate and combine uploaded files into a Dataset (see module docstring).

    Raises InputError (title, message, every Problem) when a file cannot be read or mapped, or when
    no orders or transactions file is given.
    """
    mapping = mapping or Mapping()
    settings = {**Mapping().settings, **mapping.settings}
    today_ts = pd.Timestamp(today or date.today())
    report = progress or (lambda f, m: None)
    problems: list[Problem] = []
    works: list[_Work] = []
    digest = hashlib.sha256(mapping.to_json().encode())

    for i, sf in enumerate(files):
        report(0.6 * i / max(len(files), 1), f"Reading {sf.name}")
        content_hash = hashlib.sha256(sf.content)
        digest.update(sf.name.encode() + b"\0" + content_hash.digest() + str(sf.role).encode() + str(sf.sheet).encode())
        if err := _check_role(sf.role):
            problems.extend(Problem(sf.name, p.title, p.message, p.fix) for p in err.problems)
            continue
        try:
            raw, layout, frame, lnotes, kinds = _read(sf.name, sf.content, sf.sheet, sf.role)
        except InputError as exc:
            problems.extend(
                Problem(sf.name, p.title, p.message, p.fix, p.column, p.examples, p.severity) for p in exc.problems
            )
            continue
        except Exception:  # unreadable bytes of any kind: report, don't crash (details go to the log)
            log.exception("Reading %s failed", sf.name)
            problems.append(
                Problem(
                    sf.name,
                    "File cannot be read",
                    "The file is not a readable CSV, TSV or Excel workbook (it may be damaged, "
                    "password-protected or in another format).",
                    "Export the file again as CSV (UTF-8) or XLSX.",
                )
            )
            continue
        label = sf.name if raw.sheet is None or len(raw.sheets) <= 1 else f"{sf.name} [{raw.sheet}]"
        role = layout.role
        own = mapping.columns_for(sf.name, raw.sheet, role, content_hash.hexdigest()) if mapping.files else None
        if own is not None:  # the file's own columns, as chosen for it: the whole of its mapping
            eff = own
        else:  # the role's columns over the file's detected layout
            eff = dict(layout.suggested)
            for canon, src in mapping.tables.get(role, {}).items():
                if src:
                    eff[canon] = src
                else:
                    eff.pop(canon, None)
        if frame.empty and not len(frame.columns):
            problems.append(
                Problem(label, "Empty file", "The file has no header and no rows.", "Upload the export again.")
            )
            continue
        if frame.empty and role == "returns":
            problems.append(
                Problem(
                    label,
                    "No return lines",
                    "The returns file has its header but no rows, so it says nothing of what came back: it is not "
                    "read as no returns (a 0% return rate).",
                    "Export the returns again for the same period as the orders (returns apps often export the "
                    "last 30 or 90 days, or only the returns of a status you filtered on).",
                    severity="warning",
                )
            )
        name_note = _names_as_skus(role, eff, list(frame.columns))
        missing = missing_columns(label, role, eff, list(frame.columns))
        if missing:
            problems.extend(missing)
            continue
        # rows a layout sets apart (Shopify cancellations and add-on lines, Amazon cancelled orders, carrier
        # returns): known reasons first, and before conversion so their blanks raise no warnings
        lk, lr, lnotes2 = layout_rejects(Layout(layout.key, layout.label, role, eff), frame, eff, settings)
        if kinds is not None:
            sk, sr = (np.asarray(v.astype(object).where(v.notna(), None), dtype=object) for v in kinds)
            lk = np.where(pd.isna(lk), sk, lk)
            lr = np.where(pd.isna(lr), sr, lr)
        hit = pd.notna(lk) & ~raw.footer
        conv = convert(label, role, frame, eff, raw.footer | hit, settings, raw.decimal_hint)
        conv.kind[hit], conv.reason[hit] = lk[hit], lr[hit]
        lnotes = tuple(lnotes) + lnotes2 + ((name_note,) if name_note else ())
        w = _Work(
            label,
            raw.sheet,
            role,
            layout,
            frame,
            conv.frame,
            conv.kind,
            conv.reason,
            eff,
            list(conv.problems),
            list(raw.notes) + list(lnotes) + list(conv.notes),
        )
        w.date_orders = dict(conv.date_orders)
        if (
            role == "orders"
            and layout.key not in ("shopify_orders", "amazon_all_orders")
            and "order_refunded" not in eff
        ):
            _read_order_status(w, frame, settings)
        works.append(w)

    if settings.get("date_format", "auto") == "auto":
        _one_day_order(works, settings)
    for w in works:  # after the day order is settled across files
        for col in ("order_date", "return_date"):
            if col in w.frame and w.role in ("orders", "returns", "transactions"):
                w.problems += mark_future(w.name, w.frame, col, w.kind, w.reason, today_ts)

    if not any(w.role in ("orders", "transactions") for w in works) and not any(
        p.severity == "error" for p in problems
    ):
        problems.append(
            Problem(
                "(all files)",
                "No orders file",
                "Return rates need the orders (or a signed transactions export with sales and credit notes); "
                f"the files given are: {', '.join(w.name + ' (' + w.role + ')' for w in works) or 'none'}.",
                "Add the orders export, or set the role of the orders file in the upload step.",
            )
        )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        first = errors[0]
        raise InputError(
            first.title if len(errors) == 1 else "The files cannot be loaded as they are",
            first.message if len(errors) == 1 else f"{len(errors)} problems stop loading; each is listed with its fix.",
            problems,
        )

    report(0.65, "Splitting transactions and matching returns")
    notes: list[str] = []
    # ---- signed transactions: all files together (sales in one file may be returned in another)
    tx = [w for w in works if w.role == "transactions"]
    order_parts, return_parts, partials = [], [], []
    derived_collection = False
    if tx:
        skip = None
        if len(tx) == 1:
            # one file (the usual case): the split reads the file's frame as it is and leaves out the rows
            # already rejected (skip) instead of receiving a copy of the others (a take of every column of
            # 500k lines, 0.2 s CPU, before the split takes its order lines out again)
            live = tx[0].kind.isna().to_numpy()
            cat = tx[0].frame.reset_index(drop=True).assign(_w=0, _row=np.arange(len(live)))
            skip = None if live.all() else ~live
        else:
            cat = pd.concat(
                [
                    w.frame[w.kind.isna().to_numpy()].assign(_w=k, _row=np.flatnonzero(w.kind.isna().to_numpy()))
                    for k, w in enumerate(tx)
                ],
                ignore_index=True,
            )
        split = split_transactions(
            cat,
            credit_prefix=str(settings.get("credit_note_prefix") or "C"),
            extra_non_merch=settings.get("non_merchandise_skus") or (),
            skip=skip,
        )
        notes.extend(split.notes)
        for k, w in enumerate(tx):
            sel = (cat["_w"] == k).to_numpy()
            rows = cat.loc[sel, "_row"].to_numpy()
            kk, rr = split.kind[sel].to_numpy(), split.reason[sel].to_numpy()
            has = ~pd.isna(kk)
            w.kind.iloc[rows[has]] = kk[has]
            w.reason.iloc[rows[has]] = rr[has]
        # (no file-name column on the loaded lines: the canonical tables do not carry one, and a column of
        # 500k names cost 0.12 s CPU to build; rejected and partial lines name their file below)
        names = np.array([w.name for w in tx], dtype=object)
        order_parts.append(split.orders)
        rr = split.returns.copy(deep=False)  # copy on write: new columns below never reach split.returns
        rr["_row"] = cat.loc[rr.index, "_row"].to_numpy()
        return_parts.append(rr)
        if len(split.partial):
            p = split.partial.copy(deep=False)
            p["file"] = names[cat.loc[p.index, "_w"].to_numpy()]
            p["row"] = cat.loc[p.index, "_row"].to_numpy() + 1
            partials.append(p)
        derived_collection = not any("collection" in w.mapping for w in tx)
    seen_orders: dict[str, str] = {}
    for w in works:
        if w.role == "orders":
            # exports taken in pieces overlap: an order already loaded from an earlier file counts once
            ids = w.frame["order_id"].astype("string")
            dup = (w.kind.isna() & ids.isin(list(seen_orders))).fillna(False).to_numpy()
            if dup.any():
                first_file = ids[dup].map(seen_orders)
                w.kind[dup] = "overlap"
                w.reason[dup] = ("Order already loaded from " + first_file.astype(str)).to_numpy()
                w.notes.append(
                    f"{ids[dup].nunique():,} order(s) were already in an earlier file (exports that "
                    "overlap); each is counted once."
                )
            for oid in ids[w.kind.isna().to_numpy()].dropna().unique():
                seen_orders.setdefault(str(oid), w.name)
            ok = w.kind.isna().to_numpy()
            # product and size read off the SKU (no such columns in the file): a catalog's own values win
            derived = w.mapping.get("product_name") == STYLE_COL
            order_parts.append(w.frame[ok].assign(_row=np.flatnonzero(ok), _derived=derived))
    orders_all = pd.concat(order_parts, ignore_index=True) if order_parts else _empty("orders")

    # ---- catalog: fill missing attributes by SKU
    cat_frames = []
    for w in works:
        if w.role != "catalog":
            continue
        ok = w.kind.isna().to_numpy()
        dup_sku = w.frame["sku"].duplicated().to_numpy() & ok
        w.kind[dup_sku] = "duplicate"
        w.reason[dup_sku] = "SKU already listed earlier in the catalog."
        cat_frames.append(w.frame[w.kind.isna().to_numpy()])
    catalog = (
        _canonical("catalog", pd.concat(cat_frames, ignore_index=True).drop_duplicates("sku"))
        if cat_frames
        else _empty("catalog")
    )
    if len(catalog) and len(orders_all):
        c = catalog.set_index("sku")
        derived = (
            orders_all["_derived"].fillna(False).astype(bool)
            if "_derived" in orders_all
            else pd.Series(False, index=orders_all.index)
        )
        for col in ("collection", "category", "size", "unit_price", "product_name"):
            fill = orders_all["sku"].map(c[col])
            if col not in orders_all:
                orders_all[col] = fill
                continue
            orders_all[col] = orders_all[col].fillna(fill)
            if col in ("product_name", "size"):
                orders_all[col] = orders_all[col].mask(derived & fill.notna(), fill)
        notes.append(
            f"Catalog filled product attributes for {int(orders_all['sku'].isin(c.index).sum())} order line(s)."
        )
    if derived_collection and len(orders_all):
        missing = orders_all["collection"].isna()
        if missing.any():
            orders_all.loc[missing, "collection"] = family_from_description(
                orders_all.loc[missing, "product_name"].fillna(orders_all.loc[missing, "sku"])
            )
            notes.append(
                "The transactions file has no collection column: collection is derived from the product "
                "description with a keyword table of product families (bags, candles, mugs, Christmas, ...; "
                "else Other). Upload a catalog file to use your own collections."
            )

    if len(orders_all) and ("category" not in orders_all or orders_all["category"].isna().all()):
        # no category: an apparel product type read from the product names, when they carry one (sizes and
        # collections are then compared within their type: jeans with jeans, not with every tee and belt)
        typ = (
            product_type_from_name(orders_all["product_name"], orders_all.get("quantity"))
            if "product_name" in orders_all
            else None
        )
        if typ is not None:
            orders_all["category"] = typ
            counts = typ.value_counts()
            notes.append(
                "The orders have no category column: category is the product type read from the product names ("
                + ", ".join(f"{k} {v:,}" for k, v in counts.items())
                + " lines; keywords such as jean, tee, dress, jacket). Upload a catalog (or map a product type "
                "column) to use your own categories."
            )

    # ---- returns files: match to order lines
    report(0.8, "Matching returns to orders")
    # units sold per order line, for returns files only: returns split off signed transactions are
    # allocated within the quantity of the sale line they matched, so they can neither miss nor exceed it
    has_returns_files = any(w.role == "returns" for w in works)
    sold = (
        orders_all.groupby(["order_id", "sku"], sort=False)["quantity"].sum()
        if len(orders_all) and has_returns_files
        else pd.Series(dtype="int64")
    )
    known_orders = set(orders_all["order_id"].dropna().unique()) if len(orders_all) and has_returns_files else set()
    set_aside = _set_aside_lines(works) if has_returns_files else pd.Series(dtype="string")
    keyed: list[tuple[pd.Series, pd.Series]] = []
    known_index = pd.Index(list(known_orders), dtype=object)
    written = pd.Index(list(known_orders | set(set_aside.index.get_level_values(0))), dtype=object)

    def order_lookup(wanted: pd.Series) -> dict[str, str]:
        if not keyed:  # every order's key: once, and only when some return's order is not as written
            ids = pd.Series(written, dtype="string")
            keyed.append((ids, _order_key(ids)))
        return _order_key_lookup(*keyed[0], wanted)

    for w in works:
        if w.role != "returns":
            continue
        ok = w.kind.isna().to_numpy()
        f = w.frame
        if ok.any() and ("return_date" not in f or f.loc[ok, "return_date"].isna().all()):
            # without a return date the return window cannot be estimated: the default is used, silently before
            # (a 'Returned On' header not recognised moved the demo's window from 42 days to 30)
            w.problems.append(
                Problem(
                    w.name,
                    "No return date",
                    "No return line has a return date (no column is mapped as return_date, or it is empty), so "
                    "the return window - how long after an order its returns come in - cannot be estimated from "
                    "the data: the default window is used, and how long returns take is not known.",
                    "Map the column that holds the date of each return (such as 'Returned On') as return_date on "
                    "Upload & map, or set your return window in the sidebar (CLI: --window-days).",
                    column="return_date",
                    severity="warning",
                )
            )
        renamed = _order_numbers_as_written(f, ok, written, order_lookup)
        if renamed:
            w.notes.append(
                f"{renamed:,} return line(s) write their order number differently from the orders file (such as "
                "'1001' or '1001.0' for '#1001', or other case or spacing): matched on the number."
            )
        has_sku = "sku" in f and "order_id" in f
        resku = _skus_as_written(f, _unmatched(f, ok, sold.index), sold.index) if has_sku else 0
        # the lines still on no order line: where the two matches below look (none, most often: then not at all)
        left = _unmatched(f, ok, sold.index) if has_sku else np.zeros(len(f), dtype=bool)
        aside_lines = set_aside.index[set_aside.index.get_level_values(1) != ""]
        if left.any():
            # a line set aside while loading (an add-on line, a gift card) written in another case: that line's
            resku += _skus_as_written(f, _unmatched(f, left, aside_lines), aside_lines)
            left = _unmatched(f, left, aside_lines)
        if resku:
            w.notes.append(
                f"{resku:,} return line(s) write the SKU differently from their order's line (other case, "
                "spacing or leading zeros, such as 'tee-blk-m' for 'TEE-BLK-M' or '123' for '00123'): matched to "
                "that line."
            )
        byname = _names_as_written(f, left, orders_all)
        if byname:
            w.notes.append(
                f"{byname:,} return line(s) name the product instead of the SKU the orders file gives (such as "
                "'Classic Tee' for 'TEE-BLK-M'): matched to their order's only line of that name."
            )
        oid, sku = f["order_id"].astype("string"), f["sku"].astype("string")
        # examples name the order as the returns file writes it ('1760'), not as it was matched ('#1760')
        id_col = w.mapping.get("order_id")
        written_ids = w.raw[id_col].astype("string") if id_col in w.raw.columns and len(w.raw) == len(f) else oid
        key = pd.MultiIndex.from_arrays([oid, sku])
        has_line = key.isin(sold.index)
        has_order = _isin(f["order_id"], known_index)
        # an order (or line) the orders file holds but that was set aside while loading (cancelled, voided, an
        # exchange order, an add-on line): its return is not counted, and it is not an unknown order either
        why_set_aside = pd.Series(
            set_aside.reindex(pd.MultiIndex.from_arrays([oid, sku.where(has_order, "")])).to_numpy(),
            index=f.index,
            dtype="string",
        )
        aside = ok & why_set_aside.notna().to_numpy() & ~has_line
        um_order = ok & ~has_order & ~aside
        um_sku = ok & has_order & ~has_line & ~aside
        unmatched_n, usable_n = int((um_order | um_sku).sum()), int((ok & ~aside).sum())
        if unmatched_n >= 5 and unmatched_n * 2 >= usable_n:
            notes.append(
                f"{MOST_UNMATCHED} in {w.name}: {unmatched_n:,} of {usable_n:,} could not be matched to an order "
                + (
                    "line, so none of this file's returns is counted in any rate. "
                    if unmatched_n == usable_n
                    else "line, so the return rates count only the rest and understate returns. "
                )
                + "Check that the orders file "
                "covers the same period and that both files write order numbers and SKUs the same way (the load "
                "report lists the unmatched lines)."
            )
        w.kind[aside] = "set_aside_return"
        w.reason[aside] = (
            ("Its " + np.where(has_order[aside], "order line", "order"))
            + " was set aside while loading ("
            + why_set_aside[aside].str.rstrip(".").to_numpy()
            + "): a return of it is not counted."
        )
        w.kind[um_order] = "unmatched_return"
        w.reason[um_order] = "Order not found in the orders data."
        w.kind[um_sku] = "unmatched_return"
        w.reason[um_sku] = "The order exists but has no line with this SKU."
        if aside.any():
            idx = np.flatnonzero(aside)
            w.problems.append(
                Problem(
                    w.name,
                    "Returns of orders set aside",
                    f"{len(idx)} return line(s) belong to orders or lines the orders file holds but that were set "
                    "aside while loading (cancelled or voided orders, exchange orders, add-on lines): they are not "
                    "counted as returns. Each is listed with its order's reason.",
                    "Nothing to fix if those orders were indeed cancelled or replaced; otherwise check the "
                    "orders file's cancellation and tag columns.",
                    column="order_id",
                    examples=examples(idx, written_ids),
                    severity="warning",
                )
            )
        for m, title, why in (
            (um_order, "Returns for unknown orders", "their order number is not in the orders data"),
            (um_sku, "Returned SKU not in its order", "the order exists but never had this SKU"),
        ):
            if m.any():
                idx = np.flatnonzero(m)
                w.problems.append(
                    Problem(
                        w.name,
                        title,
                        f"{len(idx)} return line(s) cannot be matched: {why}. They are listed as unmatched returns.",
                        "Check that the orders file covers the same period and that order numbers "
                        "are written the same way in both files.",
                        column="order_id",
                        examples=examples(idx, written_ids),
                        severity="warning",
                    )
                )
        ok = w.kind.isna().to_numpy()
        return_parts.append(f[ok].assign(_row=np.flatnonzero(ok)))
    # the orders' codes and which of them a return line names: for both coverage checks (again after the first
    # sets orders apart)
    coded = (
        _order_codes_with_returns(
            orders_all, pd.DataFrame({"order_id": pd.concat([p["order_id"] for p in return_parts], ignore_index=True)})
        )
        if has_returns_files and return_parts and len(orders_all)
        else None
    )
    start = _returns_start(works, orders_all, coded) if coded is not None else None
    if start is not None:  # orders placed before the returns files start: their returns are not in them
        first, note = start
        notes.append(note)
        early = orders_all["order_date"] < first
        gone = set(orders_all.loc[early, "order_id"].astype(str))
        orders_all = orders_all[~early.to_numpy(dtype=bool)].reset_index(drop=True)
        return_parts = []
        for w in works:
            ok = w.kind.isna().to_numpy()
            if w.role == "orders" and "order_date" in w.frame:
                m = ok & (w.frame["order_date"] < first).fillna(False).to_numpy(dtype=bool)
                w.kind[m] = "before_returns"
                w.reason[m] = f"Placed before the returns file starts ({first:%d %b %Y}): its returns are not in it."
            elif w.role == "returns":
                m = ok & w.frame["order_id"].astype("string").isin(gone).fillna(False).to_numpy(dtype=bool)
                w.kind[m] = "set_aside_return"
                w.reason[m] = (
                    f"Its order was placed before the returns file starts ({first:%d %b %Y}) and is set apart."
                )
                ok = w.kind.isna().to_numpy()
                return_parts.append(w.frame[ok].assign(_row=np.flatnonzero(ok)))
    if start is not None:  # orders were set apart: the codes no longer describe orders_all
        coded = None
    sales_only = not any(w.role == "transactions" for w in works)  # a signed export's credit notes are its returns
    if has_returns_files and sales_only and return_parts and len(orders_all) and "channel" in orders_all:
        coded = coded or _order_codes_with_returns(
            orders_all, pd.DataFrame({"order_id": pd.concat([p["order_id"] for p in return_parts], ignore_index=True)})
        )
        uncovered = _returns_channels(orders_all, coded)
        if uncovered is not None:  # channels the returns files do not cover: their returns are not in them
            channels, note = uncovered
            notes.append(note)
            orders_all = orders_all[
                ~orders_all["channel"].astype("string").isin(channels).fillna(False).to_numpy(dtype=bool)
            ].reset_index(drop=True)
            for w in works:
                if w.role == "orders" and "channel" in w.frame:
                    m = w.kind.isna().to_numpy() & w.frame["channel"].astype("string").isin(channels).fillna(
                        False
                    ).to_numpy(dtype=bool)
                    w.kind[m] = "channel_not_in_returns"
                    w.reason[m] = "Its sales channel has no return in the returns files: its returns are not in them."
            coded = None
    returns_all = pd.concat(return_parts, ignore_index=True) if return_parts else _empty("returns")
    if len(returns_all) and len(sold):
        ret_q = returns_all.groupby(["order_id", "sku"], sort=False)["quantity"].sum()
        over = ret_q[ret_q > sold.reindex(ret_q.index).fillna(0)]
        if len(over):
            ex = tuple(
                f"order {o} SKU {s}: {int(q)} returned, {int(sold.get((o, s), 0))} sold"
                for (o, s), q in over.head(5).items()
            )
            problems.append(
                Problem(
                    "(returns)",
                    "More units returned than sold",
                    f"{len(over)} order line(s) have more returned than sold units; analysis counts at "
                    "most the units sold.",
                    "Check for duplicated return lines.",
                    column="quantity",
                    examples=ex,
                    severity="warning",
                )
            )

    # ---- interventions
    iv = [w.frame[w.kind.isna().to_numpy()] for w in works if w.role == "interventions"]
    interventions = _canonical("interventions", pd.concat(iv, ignore_index=True)) if iv else _empty("interventions")

    # ---- warnings on loaded order lines
    currencies: list[tuple[_Work, str, pd.Series]] = []  # a list: exports often share a name (orders_export_1.csv)
    for w in works:
        if w.role in ("orders", "transactions", "returns"):
            cur_col, per = currency_counts(w.raw, w.kind.isna().to_numpy())
            if cur_col is not None and len(per):
                currencies.append((w, cur_col, per))
        if w.role == "orders":
            w.problems += negative_price_problem(w.name, w.frame, w.kind.isna().to_numpy())

    mixed, currency_note = mixed_currency_problem([(w.name, col, per) for w, col, per in currencies])
    for w, prob in zip([w for w, _, per in currencies if len(per) > 1], mixed):  # one per file of several
        w.problems.append(prob)
    if currency_note:
        notes.append(currency_note)

    counts = {"orders_cancelled": 0, "non_merchandise_lines": 0, "orders_overlapping": 0}
    cancelled_ids: set = set()
    for w in works:
        if w.role in ("orders", "transactions") and "order_id" in w.frame:
            k = w.kind.astype("string")
            cancelled_ids |= set(
                w.frame.loc[k.eq("cancelled").fillna(False).to_numpy(), "order_id"].dropna().astype(str)
            )
            counts["non_merchandise_lines"] += int(k.eq("non_merchandise").fillna(False).sum())
            counts["orders_overlapping"] += int(
                w.frame.loc[k.eq("overlap").fillna(False).to_numpy(), "order_id"].nunique()
            )
    counts["orders_cancelled"] = len(cancelled_ids)

    if has_returns_files and len(returns_all) and "order_refunded" in orders_all:
        _refunds_without_returns(works, orders_all, returns_all, coded)
    report(0.9, "Building the report")
    reports, rejected_parts, excluded_parts, unmatched_parts = [], [], [], []
    for w in works:
        rej = w.kind.notna().to_numpy()
        rows = np.flatnonzero(rej)
        by_kind = w.kind[rej].value_counts().to_dict()
        reports.append(
            FileReport(
                file=w.name,
                role=w.role,
                layout=w.layout.key,
                layout_label=w.layout.label,
                rows_read=len(w.raw),
                rows_loaded=int((~rej).sum()),
                rows_rejected=int(rej.sum()),
                sheet=w.sheet,
                mapping=dict(w.mapping),
                rejected_by_kind={str(k): int(v) for k, v in by_kind.items()},
                notes=tuple(dict.fromkeys(w.notes)),
                problems=tuple(w.problems),
            )
        )
        if len(rows):
            rejected_parts.append(
                pd.DataFrame(
                    {
                        "file": w.name,
                        "row": rows + 1,
                        "kind": w.kind.iloc[rows].to_numpy(),
                        "reason": w.reason.iloc[rows].to_numpy(),
                        "data": _raw_text(w.raw, rows),
                    }
                )
            )
            canon = (
                w.frame.iloc[rows]
                .reset_index(drop=True)
                .assign(
                    file=w.name, row=rows + 1, kind=w.kind.iloc[rows].to_numpy(), reason=w.reason.iloc[rows].to_numpy()
                )
            )
            if "quantity" in canon:
                canon["quantity"] = canon["quantity"].abs()
            excluded_parts.append(canon[canon["kind"].isin(["non_merchandise", "write_off"])])
            unmatched_parts.append(canon[canon["kind"].eq("unmatched_return")])
        problems.extend(w.problems)
    rejected = (
        pd.concat(rejected_parts, ignore_index=True)
        if rejected_parts
        else pd.DataFrame(
            {
                "file": pd.Series(dtype="string"),
                "row": pd.Series(dtype="int64"),
                "kind": pd.Series(dtype="string"),
                "reason": pd.Series(dtype="string"),
                "data": pd.Series(dtype="string"),
            }
        )
    )
    rejected = rejected.astype(
        {"file": "string", "kind": "string", "reason": "string", "data": "string", "row": "int64"}
    )
    for p in partials:
        unmatched_parts.append(
            p.rename(columns={"return_id": "order_id"}).assign(
                kind="unmatched_return",
                reason="Units beyond what the matched purchase sold (rest of the line was matched).",
                partial=True,
            )
        )
    unmatched = _display(unmatched_parts)
    excluded = _display(excluded_parts)

    orders = _canonical("orders", orders_all) if len(orders_all) else _empty("orders")
    returns = _canonical("returns", returns_all) if len(returns_all) else _empty("returns")
    if orders.empty:
        # every row was rejected: say so instead of showing empty pages
        warn = [p for p in problems if p.severity != "error"]
        top = warn[0] if warn else None
        if not warn:  # nothing was rejected: the order files hold no data rows at all
            sources = [r for r in reports if r.role in ("orders", "transactions")]
            warn = [
                Problem(
                    ", ".join(r.file for r in sources) or name,
                    "No data rows",
                    "The orders file holds a header but no data rows ("
                    + ", ".join(f"{r.file}: {r.rows_read:,} rows read" for r in sources)
                    + ").",
                    "Export the orders again with a date range that holds orders.",
                )
            ]
        raise InputError(
            "No usable order lines",
            "None of the order lines could be used"
            + (f": {top.title.lower()} ({top.message})" if top else "")
            + ". Fix the problems listed, or check the column mapping and the date format.",
            warn,
        )
    report(1.0, "Done")
    return Dataset(
        name=name,
        orders=orders,
        returns=returns,
        catalog=catalog,
        interventions=interventions,
        files=tuple(reports),
        rejected=rejected,
        unmatched_returns=unmatched,
        excluded=excluded,
        notes=tuple(dict.fromkeys(notes)),
        problems=tuple(p for p in problems if p.severity != "error"),
        content_hash=digest.hexdigest(),
        counts=counts,
    )


def _display(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(
            {c: pd.Series(dtype="string") for c in ("file", "order_id", "sku", "kind", "reason")}
        ).assign(row=pd.Series(dtype="int64"), quantity=pd.Series(dtype="int64"))
    df = pd.concat(parts, ignore_index=True)
    first = ["file", "row", "kind", "reason"]
    return df[first + [c for c in df.columns if c not in first]]


__all__ = ["SourceFile", "FileInfo", "inspect_file", "load_dataset", "LAYOUT_LABELS"]
