"""Turn canonical tables into the analysis frames every view reads.

prepare(dataset) -> Prepared with
- lines: one row per order line, enriched with the order's intent, basket, customer type, the units
  returned from that line (clipped to the units sold), returned value, resolution split, the dominant
  reason category, and whether the order's return window has matured;
- orders: one row per order;
- returns: the matched returns with reason category, resolution category, days to return and the
  attributes of the line they came from.
Rows of mature orders come first in all three (each row keeps its index label; otherwise in file order), so
the mature frames are slices of them, not copies (see _mature_first).

Return-window maturity: an order placed less than `window_days` before the last order date in the
data may still be returned, so it is excluded from rates. The window is the day by which 98% of the
eventual returns have arrived, from a Kaplan-Meier estimate of days-to-return that allows for recent
orders not having had time to show late returns (analysis.maturity; rounded up, bounded to [14, 120]),
unless the caller sets it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from analysis.maturity import EMPTY_CURVE, ArrivalCurve, prepared_arrival_curve, return_window, returns_cover_end
from data.memory import trim_heap
from data.model import Dataset
from data.reasons import classify, normalize_resolution

WHOLESALE_MEDIAN_UNITS = 12  # above this median basket, consumer intents make no sense (wholesale orders)

# Dimensions that are attributes of a line vs of an order (analysed with orders as the unit).
LINE_DIMENSIONS = ("collection", "category", "product", "size")
ORDER_DIMENSIONS = ("intent", "journey", "channel", "customer_type", "promotion", "country", "addon")
OUTCOMES = {
    "line_return": "returned units / units sold (line-level returns)",
    "order_refund": "orders with a customer refund / orders for the headline, refunded units / units sold (refunds "
    "attributed to items) for segments (order-level refunds; no returns file loaded)",
}
DIMENSION_LABELS = {
    "collection": "Collection",
    "category": "Category",
    "product": "Product",
    "size": "Size",
    "intent": "Customer intent",
    "combination": "Items bought together",
    "journey": "Journey",
    "channel": "Channel",
    "customer_type": "Customer type",
    "promotion": "Promotion (discount code)",
    "country": "Shipping country",
    "addon": "Add-ons bought",
}
T = TypeVar("T")

INTENT_LABELS = {
    "single_item": "Single item",
    "bracketing": "Bracketing (several sizes)",
    "multi_item": "Multi-item",
    "full_refresh": "Full refresh (3+ collections)",
}

# The low-cardinality text attributes of the Prepared frames, held as pandas Categorical (one integer code per row,
# the distinct values once; categories sorted lexically, a missing value stays missing: code -1) instead of Arrow
# strings: at 5M lines an Arrow string column is ~60-100 MB, its codes 5 MB. Ids (order_id, customer_id, sku,
# return_id, exchange_sku) and free text (returns' raw reason, comment and resolution) stay strings. Consumers:
# a categorical keeps every category after a filter (filter_prepared), so value_counts and groupby(observed=False)
# would list absent values with 0; groupby's default (observed=True since pandas 3) lists only those present.
_REASON_CATEGORICALS = ("reason_category", "reason_group", "reason_rule", "resolution_category")
CATEGORICAL_COLUMNS = {
    "lines": ("product_name", *LINE_DIMENSIONS, *ORDER_DIMENSIONS, "reason_category"),
    "orders": ORDER_DIMENSIONS,
    "returns": (*_REASON_CATEGORICALS, *LINE_DIMENSIONS, *ORDER_DIMENSIONS),
}
# the Dataset's own columns among them (product, customer_type and reason_category are derived in prepare)
_DATASET_CATEGORICALS = tuple(
    c for c in CATEGORICAL_COLUMNS["lines"] if c not in ("product", "customer_type", "reason_category")
)


def categorical(s: pd.Series) -> pd.Series:
    """s as a pandas Categorical with string categories sorted lexically (only the values present); missing stays
    missing. A categorical s is returned as it is.

    >>> c = categorical(pd.Series(["b", None, "a", "b"], dtype="string"))
    >>> c.cat.categories.tolist(), c.cat.codes.tolist(), c.isna().tolist()
    (['a', 'b'], [1, -1, 0, 1], [False, True, False, False])
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s
    return s.astype("string").astype("category")


def _coalesce(first: pd.Series, other: pd.Series) -> pd.Series:
    """first.fillna(other) as a categorical (categorical(first) where it has a value, else other's value; missing
    where both are): fillna on a categorical cannot take values outside its categories.

    >>> a = categorical(pd.Series(["x", None, None], dtype="string"))
    >>> c = _coalesce(a, pd.Series(["q", "b", None], dtype="string"))
    >>> c.astype("string").tolist(), c.cat.categories.tolist()
    (['x', 'b', <NA>], ['b', 'x'])
    """
    first = categorical(first)
    miss = first.isna().to_numpy()
    if not miss.any():
        return first
    fill = other[miss]
    fcodes, funiq = pd.factorize(fill, sort=False)
    funiq_index = pd.Index(np.asarray(funiq, dtype=object), dtype="string")
    old = first.cat.categories
    cats = old.union(funiq_index) if len(funiq_index) else old
    codes = np.full(len(first), -1, dtype="int64")
    codes[~miss] = cats.get_indexer(old)[first.cat.codes.to_numpy()[~miss]]
    fc = np.full(len(fcodes), -1, dtype="int64")
    known = fcodes >= 0
    fc[known] = cats.get_indexer(funiq_index)[fcodes[known]]
    codes[miss] = fc
    out = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(cats))
    return pd.Series(out, index=first.index, name=first.name).cat.remove_unused_categories()


@dataclass(frozen=True)
class Prepared:
    lines: pd.DataFrame
    orders: pd.DataFrame
    returns: pd.DataFrame
    window_days: int
    window_source: str  # "estimated" | "user" | "default"
    cutoff_date: pd.Timestamp | None
    immature_orders_excluded: int
    immature_lines_excluded: int
    available: frozenset = field(default_factory=frozenset)  # columns with any data
    notes: tuple[str, ...] = ()
    # "line_return": returns are known per line (a returns file, credit notes); "order_refund": only
    # order-level refunds are known (e.g. a Shopify orders export alone), see OUTCOMES and rate_columns
    outcome: str = "line_return"
    counts: dict = field(default_factory=dict)  # Dataset.counts plus refunds_attributed / refunded_orders
    # Kaplan-Meier arrival curve of returns (analysis.maturity), from the unfiltered data: the window and
    # the completion factor of recent cohorts both come from it
    arrival: ArrivalCurve = EMPTY_CURVE
    # the last day a separate returns file covers when it ends clearly before the orders (analysis.maturity.
    # returns_cover_end): maturity and the arrival curve's follow-up end there; None when the files end together
    returns_end: pd.Timestamp | None = None
    # derived values computed once per object (see memo); not an argument, not compared, not hashed, not
    # pickled, and not carried over by dataclasses.replace (a replaced or filtered copy starts empty)
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """compute() the first time `key` is asked of this Prepared, the stored value afterwards.

        The one cache below the dashboard (dashboard/cache.py describes the scheme): values live and die
        with their Prepared. The key is the qualified name of the function that computes the value, in a
        tuple with its arguments when it has any, e.g. ("analysis.segments.line_codes", column); compute
        must depend only on this Prepared and the key. Values are shared: treat them as read-only. Two
        threads asking at once may both compute; the first value stored is the one every caller gets.

        >>> p = Prepared(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), 30, "default", None, 0, 0)
        >>> calls = []
        >>> [p.memo(("doc", 1), lambda: calls.append(1) or len(calls)) for _ in range(2)], calls
        ([1, 1], [1])
        """
        try:
            return cast(T, self._memo[key])
        except KeyError:
            return cast(T, self._memo.setdefault(key, compute()))

    def memoized(self, key: Hashable) -> Any:
        """The value memo stored under `key`, None when none was computed (computes nothing)."""
        return self._memo.get(key)

    def forget(self, name: str) -> None:
        """Drop the memoized values of the function `name` (every argument), so the next call computes
        afresh: for benchmarks that time one step on an otherwise warm Prepared."""
        for key in [k for k in self._memo if k == name or (isinstance(k, tuple) and k[:1] == (name,))]:
            self._memo.pop(key, None)

    def __getstate__(self) -> dict[str, Any]:
        # a pickled (or copied) Prepared carries its data, not its memo: the copy recomputes what it needs
        return {**self.__dict__, "_memo": {}}

    def rate_columns(self, dimension: str | None = None) -> tuple[str, str]:
        """(numerator, denominator) columns of `lines` behind the outcome's rate for a dimension (None =
        the headline rate). The one place that says what a rate is:

        - line_return: returned_units / quantity for every dimension (units; order-level dimensions
          cluster by order);
        - order_refund: the headline is order_x / order_n - each order weighs 1, split over its lines by
          units, and counts as refunded or not - so the headline rate is refunded orders / orders. Every
          dimension, order-level ones (intent, channel, ...) included, uses returned_units / quantity,
          where returned_units holds the refund attributed to the line (see prepare): an order with more
          items has more chances to hold a refund, so comparing intents or channels on refunded orders /
          orders finds large baskets "worse" by arithmetic alone (on null Shopify exports, full refresh
          ~1.7x and bracketing ~1.5x: listed on 74 and 64 of 80 fix lists); per unit they compare fairly.
        """
        if self.outcome == "order_refund" and dimension is None:
            return "order_x", "order_n"
        return "returned_units", "quantity"

    @property
    def outcome_label(self) -> str:
        return "Order refund rate" if self.outcome == "order_refund" else "Return rate"

    @property
    def mature_lines(self) -> pd.DataFrame:
        """Lines of orders whose return window has closed (computed once per Prepared; never mutate)."""
        return self.memo("analysis.prepare.Prepared.mature_lines", lambda: _mature_rows(self.lines))

    @property
    def mature_orders(self) -> pd.DataFrame:
        """Orders whose return window has closed (computed once per Prepared; never mutate)."""
        return self.memo("analysis.prepare.Prepared.mature_orders", lambda: _mature_rows(self.orders))

    def has(self, column: str) -> bool:
        return column in self.available


RETURNS_LOADED = "returns.loaded"  # in Prepared.available when returns were loaded (else rates are not known)


def _mature_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """frame[frame["mature"]]. Where the mature rows come first (data in date order, as exports usually are),
    the same rows as a slice, which shares the frame's memory (copy-on-write) instead of copying every
    column: at 5M lines the mature lines' copy is 1.7 GB."""
    mature = frame["mature"].to_numpy(dtype=bool)
    k = int(np.count_nonzero(mature))
    if not mature[:k].all():
        return frame[mature]
    return frame.iloc[:k]


def _mature_first(
    lines: pd.DataFrame, orders: pd.DataFrame, returns: pd.DataFrame, order: np.ndarray, ret_order: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The lines and orders with the rows of mature orders first (a stable partition; each row keeps its index
    label), so that Prepared.mature_lines / mature_orders are slices sharing these frames' memory, not copies
    of them (at 5M lines the two copies held 2.2 GB). Within the mature rows, and within the others, the order
    is the one the rows had, so the mature frames are, row for row and label for label, what frame[mature]
    gave: every count, code numbering and first occurrence read from them is unchanged. Lines are moved with
    their order (order: the lines' order codes, the positions of `orders`' rows), so an order's lines keep
    their relative order even when its dates straddle the cutoff (then mature_lines falls back to the copy).
    The returns (ret_order: their order codes) are partitioned the same way, for segments.mature_frames.

    >>> l = pd.DataFrame({"order_id": ["a", "b", "a", "c"], "mature": [False, True, False, True]})
    >>> o = pd.DataFrame({"order_id": ["a", "b", "c"], "mature": [False, True, True]})
    >>> r = pd.DataFrame({"order_id": ["a", "c"]})
    >>> l2, o2, r2 = _mature_first(l, o, r, np.array([0, 1, 0, 2]), np.array([0, 2]))
    >>> l2.index.tolist(), l2["order_id"].tolist(), o2.index.tolist(), r2["order_id"].tolist()
    ([1, 3, 0, 2], ['b', 'c', 'a', 'a'], [1, 2, 0], ['c', 'a'])
    """
    om = orders["mature"].to_numpy(dtype=bool)
    k = int(np.count_nonzero(om))
    if om[:k].all():  # already mature first (data in date order), or all / none mature: nothing moves
        return lines, orders, returns
    lines = _take_rows(lines, np.argsort(~om[order], kind="stable"))
    orders = _take_rows(orders, np.argsort(~om, kind="stable"))
    rm = om[ret_order]
    if not rm[: int(np.count_nonzero(rm))].all():
        returns = _take_rows(returns, np.argsort(~rm, kind="stable"))
    return lines, orders, returns


def _take_rows(frame: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """frame.take(at), one column at a time, each column of `frame` released as soon as it is moved (the frame
    is emptied), so the rows are never held twice in full; index labels move with their rows. Columns that
    shared one buffer (units and quantity, product and product_name when no name is missing) still share
    one after the take (as pandas Series: copy-on-write keeps a write to one from reaching the other)."""
    out = pd.DataFrame(index=frame.index.take(at))
    moved: dict[tuple, pd.Series] = {}
    for c in list(frame.columns):
        s = frame.pop(c)
        key = _buffer_key(s)
        t = moved.get(key) if key is not None else None
        if t is None:
            values = s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array
            t = pd.Series(values.take(at), index=out.index, copy=False)
            if key is not None:
                moved[key] = t
        out[c] = t
    return out


def _buffer_key(s: pd.Series) -> tuple | None:
    """What identifies the memory behind a column (dtype, length and buffer addresses; for a column with no
    value at all, its dtype: moved columns of one dtype that are entirely missing, such as the optional
    columns no file provided, share one array); None when unknown."""
    if isinstance(s.dtype, np.dtype):
        a = s.to_numpy()
        if a.dtype.kind == "f" and len(a) and np.isnan(a).all():
            return (str(a.dtype), a.shape, "missing")
        return (str(a.dtype), a.shape, a.strides, a.__array_interface__["data"][0])
    if isinstance(s.dtype, pd.CategoricalDtype):  # its integer codes, and its categories (a few values)
        codes = s.array.codes
        cats = (str(s.cat.categories.dtype), tuple(s.cat.categories))
        if len(codes) and (codes < 0).all():
            return ("category", cats, len(s), "missing")
        return ("category", cats, codes.shape, codes.strides, codes.__array_interface__["data"][0])
    chunked = getattr(s.array, "_pa_array", None)  # Arrow-backed arrays (pandas' string dtype)
    if chunked is None:
        return None
    if len(s) and chunked.null_count == len(s):
        return (str(s.dtype), len(s), "missing")
    addresses = tuple(b.address if b is not None else 0 for ch in chunked.chunks for b in ch.buffers())
    return (str(s.dtype), len(s), tuple(ch.offset for ch in chunked.chunks), addresses)


def _has_data(s: pd.Series) -> bool:
    return bool(s.notna().any())


def shared_codes(*columns: pd.Series) -> list[np.ndarray]:
    """Integer codes of several columns in one code space (one factorize of their concatenation), numbered in
    order of first appearance: codes of equal values are equal across the columns; a missing value is a value
    of its own (as in a merge). Encoding the string ids once and grouping on the codes is what makes prepare
    cheap: pandas re-factorizes Arrow strings in every groupby and merge."""
    sizes = np.cumsum([0] + [len(c) for c in columns])
    joined = pd.concat(list(columns), ignore_index=True) if len(columns) > 1 else columns[0]
    codes, _ = pd.factorize(joined, sort=False, use_na_sentinel=False)
    codes = codes.astype("int64")
    return [codes[sizes[i] : sizes[i + 1]] for i in range(len(columns))]


def isin_values(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """values.isin(pool) as a numpy bool array (missing matches missing), through integer codes: pandas' isin on
    Arrow strings builds a Python object per value of the pool (2.7 s of CPU for 500k order ids).

    >>> isin_values(pd.Series(["a", "b", None], dtype="string"), pd.Series(["b", None], dtype="string")).tolist()
    [False, True, True]
    """
    v, p = shared_codes(values, pool)
    seen = np.zeros(int(max(v.max(initial=-1), p.max(initial=-1))) + 1, dtype=bool)
    seen[p] = True
    return seen[v]


def per_code(sums: pd.Series, n_codes: int, fill: float = np.nan) -> np.ndarray:
    """A per-code float array from a groupby result indexed by integer codes 0..n_codes-1 (codes without a
    group get `fill`): what .reindex(range(n_codes)) gives, without hashing the index again."""
    out = np.full(n_codes, fill, dtype="float64")
    out[sums.index.to_numpy(dtype="int64")] = sums.to_numpy(dtype="float64")
    return out


def _first_rows(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Per code, the position of its first row (-1 where no row has it).

    Codes numbered in order of first appearance (shared_codes) have their first rows where the running maximum
    rises, found without hashing (a hash table of 5M codes grew 10x for 5x the rows); other codes are hashed.

    >>> _first_rows(np.array([0, 1, 0, 2, 1]), 4).tolist(), _first_rows(np.array([1, 0, 1]), 2).tolist()
    ([0, 1, 3, -1], [1, 0])
    """
    first = np.full(n_codes, -1, dtype="int64")
    if len(codes) == 0:
        return first
    rise = np.empty(len(codes), dtype=bool)
    rise[0] = True
    rise[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
    pos = np.flatnonzero(rise)
    if codes[0] == 0 and np.array_equal(codes[pos], np.arange(len(pos))):  # first appearance numbering
        first[: len(pos)] = pos
        return first
    pos = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy())
    first[codes[pos]] = pos
    return first


INTENT_CHUNK_LINES = 1 << 19  # lines per pass of _derive_intent's hash tables (whole orders; see _order_ranges)


def _order_ranges(order: np.ndarray, chunk: int | None = None) -> list[tuple[int, int]]:
    """Ranges [start, end) of line positions, each of about `chunk` lines or more, that hold whole orders: no order
    has lines in two ranges (order: the lines' order codes, numbered in order of first appearance, so the orders of
    a range are the codes order[start]..order[end - 1]'s max, contiguous). A cut is placed only where every line
    after it belongs to an order not seen before it; data whose orders interleave gives one range.

    >>> _order_ranges(np.array([0, 0, 1, 2, 1, 3, 3, 4]), chunk=2)
    [(0, 2), (2, 5), (5, 7), (7, 8)]
    """
    n = len(order)
    chunk = chunk or INTENT_CHUNK_LINES
    if n <= chunk:
        return [(0, n)]
    prefmax = np.maximum.accumulate(order)
    sufmin = np.minimum.accumulate(order[::-1])[::-1]
    valid = np.flatnonzero(prefmax[:-1] < sufmin[1:]) + 1  # cut before these positions
    if not len(valid):
        return [(0, n)]
    cuts = np.unique(valid[np.searchsorted(valid, np.arange(chunk, n, chunk)).clip(max=len(valid) - 1)])
    bounds = [0, *(int(b) for b in cuts if 0 < b < n), n]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _derive_intent(
    lines: pd.DataFrame,
    product: pd.Series,
    order: np.ndarray,
    n_orders: int,
    has_size: bool,
    has_collection: bool,
    has_category: bool,
    ranges: list[tuple[int, int]] | None = None,
) -> np.ndarray:
    """Per-order intent (order codes 0..n_orders-1): bracketing > single_item > full_refresh > multi_item
    (see module doc). The distinct (order, collection) and (order, product, variant) keys are hashed range by
    range of whole orders (_order_ranges), so the hash tables stay the size of a range, not of the data (at 5M
    lines one table of every line grew the step 11x for 5x the lines)."""
    units = np.bincount(order, weights=lines["quantity"].to_numpy(dtype="float64"), minlength=n_orders)
    intent = np.full(n_orders, "multi_item", dtype=object)
    ranges = ranges or _order_ranges(order)
    if has_collection or has_category:
        # distinct known collections (else categories) per order
        ncoll = _distinct_per_order(lines["collection" if has_collection else "category"], order, n_orders, ranges)
        intent[ncoll >= 3] = "full_refresh"
    intent[units <= 1] = "single_item"
    if has_size:
        # bracketing = one product in several sizes: without a size (or variant) column it cannot be told apart
        # from buying two different items that share a description, so it is not claimed
        product_key = product if _has_data(lines["product_name"]) else lines["sku"]  # product: name, else sku
        p_all = pd.factorize(product_key, sort=False)[0]
        v_all = pd.factorize(_coalesce(lines["size"], lines["sku"]), sort=False, use_na_sentinel=False)[0]
        pm = int(p_all.max()) + 1
        vm = int(v_all.max()) + 1
        for s, e in ranges:
            p = p_all[s:e]
            known = p >= 0
            ok = order[s:e][known]
            op = pd.factorize(ok * pm + p[known], sort=False)[0]
            variants = pd.unique(op.astype("int64") * vm + v_all[s:e][known])
            nvar = np.bincount(variants // vm, minlength=int(op.max()) + 1 if len(op) else 0)
            order_of_op = np.zeros(len(nvar), dtype="int64")
            order_of_op[op] = ok
            intent[np.unique(order_of_op[nvar >= 2])] = "bracketing"
    return intent


def _distinct_per_order(
    values: pd.Series, order: np.ndarray, n_orders: int, ranges: list[tuple[int, int]]
) -> np.ndarray:
    """Per order code, the number of distinct non-missing values (groupby(order)[values].nunique(), as int64),
    hashed range by range of whole orders (_order_ranges)."""
    c = pd.factorize(values, sort=False)[0]
    m = int(c.max(initial=-1)) + 1
    out = np.zeros(n_orders, dtype="int64")
    for s, e in ranges:
        cs = c[s:e]
        known = cs >= 0
        _add_counts(out, pd.unique(order[s:e][known] * m + cs[known]) // m)
    return out


def _add_counts(out: np.ndarray, codes: np.ndarray) -> None:
    """out += np.bincount(codes, minlength=len(out)), counting only over the codes' own range (one range of
    orders), without an array of len(out) per call."""
    if len(codes):
        lo = int(codes.min())
        out[lo : int(codes.max()) + 1] += np.bincount(codes - lo)


def _pair_codes(
    l_key: np.ndarray, r_key: np.ndarray, l_order: np.ndarray, r_order: np.ndarray, ranges: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """shared_codes of the lines' and the returns' (order, sku) keys (l_key, r_key: integers), hashed range by range
    of whole orders (_order_ranges): a key of one range's orders is in no other range, so the codes of range k are
    its own factorize's plus the number of keys before it, in order of first appearance as over all the lines; a
    return is looked up in its order's range, and the returns' keys that no line has are numbered after the lines'
    in their order of first appearance, as shared_codes numbers them. One hash table of every key grew 11x for 5x
    the lines (5M lines: 0.69 s CPU).

    >>> lo, ro = np.array([0, 0, 1, 2, 2]), np.array([2, 0, 3, 3, 1])
    >>> lk, rk = lo * 10 + np.array([5, 6, 5, 7, 7]), ro * 10 + np.array([7, 9, 1, 1, 5])
    >>> [c.tolist() for c in _pair_codes(lk, rk, lo, ro, [(0, 2), (2, 3), (3, 5)])]
    [[0, 1, 2, 3, 3], [3, 4, 5, 5, 2]]
    >>> [c.tolist() for c in shared_codes(pd.Series(lk), pd.Series(rk))]
    [[0, 1, 2, 3, 3], [3, 4, 5, 5, 2]]
    """
    if len(ranges) <= 1:
        a, b = shared_codes(pd.Series(l_key), pd.Series(r_key))
        return a, b
    l_pair = np.empty(len(l_key), dtype="int64")
    r_pair = np.full(len(r_key), -1, dtype="int64")
    starts = np.array([s for s, _ in ranges])
    # the range of each return's order (its lowest order code is its first line's); -1: an order no line has
    n_orders = int(l_order.max()) + 1
    r_range = np.searchsorted(l_order[starts], r_order, side="right") - 1
    r_range[r_order >= n_orders] = -1
    by_range = np.argsort(r_range, kind="stable")
    bounds = np.searchsorted(r_range[by_range], np.arange(-1, len(ranges) + 1))
    offset = 0
    for k, (s, e) in enumerate(ranges):
        at = by_range[bounds[k + 1] : bounds[k + 2]]  # this range's returns, in their order
        codes, uniq = pd.factorize(np.concatenate([l_key[s:e], r_key[at]]), sort=False)
        n_k = int(codes[: e - s].max()) + 1
        l_pair[s:e] = codes[: e - s] + offset
        rc = codes[e - s :]
        r_pair[at[rc < n_k]] = rc[rc < n_k] + offset
        offset += n_k
    missing = np.flatnonzero(r_pair < 0)  # keys no line has, in the returns' order
    if len(missing):
        r_pair[missing] = pd.factorize(r_key[missing], sort=False)[0] + offset
    return l_pair, r_pair


def prepare(
    dataset: Dataset, window_days: int | None = None, reason_overrides: dict[str, str] | None = None
) -> Prepared:
    """Build the analysis frames from a loaded Dataset.

    reason_overrides: the user's corrections of the reason taxonomy (raw reason -> category), which
    win over the built-in rules (see data.reasons.classify).

    Order ids and (order, sku) keys are encoded once as integers shared by lines and returns; every
    per-order and per-(order, sku) step below groups on those codes, and attributes reach the lines by
    position (no merge rebuilding the wide lines frame).

    >>> from data.demo import generate_dataset
    >>> p = prepare(generate_dataset(seed=1, n_orders=2000))
    >>> bool((p.lines["returned_units"] <= p.lines["quantity"]).all())
    True
    """
    notes: list[str] = []
    orders_in = dataset.orders
    sold = (orders_in["quantity"] > 0).to_numpy(dtype=bool)
    # with every quantity positive the lines start as the dataset's own columns (copy-on-write: shared until
    # written, and prepare only adds columns), not as a copy of them: one copy fewer of the widest frame
    lines = (orders_in if sold.all() else orders_in[sold]).reset_index(drop=True)
    rets = dataset.returns.copy(deep=False)  # columns are added, never changed in place (copy-on-write)
    for c in _DATASET_CATEGORICALS:  # low-cardinality text attributes as categoricals, once (CATEGORICAL_COLUMNS)
        if c in lines:
            lines[c] = categorical(lines[c])
    lines["line_no"] = np.arange(len(lines))
    lines["line_value"] = lines["quantity"] * lines["unit_price"]

    available = {c for c in lines.columns if _has_data(lines[c])}
    available |= {f"returns.{c}" for c in rets.columns if _has_data(rets[c])}

    # ---- ids encoded once: orders (lines first, so codes 0..n_orders-1 are the lines' orders in order of
    # first appearance) and (order, sku) pairs, shared by lines and returns
    n_lines = len(lines)
    l_order, r_order = shared_codes(lines["order_id"], rets["order_id"])
    l_sku, r_sku = shared_codes(lines["sku"], rets["sku"])
    n_orders = int(l_order.max()) + 1 if n_lines else 0
    n_skus = int(max(l_sku.max(initial=-1), r_sku.max(initial=-1))) + 1
    ranges = _order_ranges(l_order)  # whole orders per range, for the hash tables of (order, x) keys
    l_pair, r_pair = _pair_codes(l_order * n_skus + l_sku, r_order * n_skus + r_sku, l_order, r_order, ranges)
    n_pairs = int(max(l_pair.max(initial=-1), r_pair.max(initial=-1))) + 1

    # ---- returns: categorise once
    if len(rets):
        cls = classify(rets["reason"], rets["comment"], overrides=reason_overrides or None)
        rets["reason_category"] = cls["category"]
        rets["reason_group"] = cls["group"]
        rets["reason_rule"] = cls["rule"]
        rets["resolution_category"] = normalize_resolution(rets["resolution"])
    else:
        for c in ("reason_category", "reason_group", "reason_rule", "resolution_category"):
            rets[c] = pd.Series(dtype="string")

    # ---- allocate returned units to lines (same order, same sku), clipped to units sold
    ret_q = per_code(rets["quantity"].groupby(r_pair, sort=False).sum(), n_pairs, 0).astype("int64")[l_pair]
    quantity = lines["quantity"]
    before = quantity.groupby(l_pair, sort=False).cumsum() - quantity
    returned = (ret_q - before).clip(lower=0)
    lines["returned_units"] = np.minimum(returned, quantity).astype("int64")

    # ---- per (order, sku) return attributes: refund value, resolution split, dominant reason
    if len(rets):
        r = rets.assign(
            refund_units=np.where(rets["resolution_category"] == "refund", rets["quantity"], 0),
            exchange_units=np.where(rets["resolution_category"] == "exchange", rets["quantity"], 0),
            store_credit_units=np.where(rets["resolution_category"] == "store_credit", rets["quantity"], 0),
        )
        by_pair = r.groupby(r_pair, sort=False)
        all_units = per_code(by_pair["quantity"].sum(), n_pairs)[l_pair]
        share = np.where(all_units > 0, lines["returned_units"].to_numpy() / np.where(all_units > 0, all_units, 1), 0.0)
        for c in ("refund_units", "exchange_units", "store_credit_units"):
            lines[c] = per_code(by_pair[c].sum(), n_pairs, 0.0)[l_pair] * share
        # dominant reason per pair: the category with the most units (ties: the order a quicksort of the
        # per-(pair, category) sums leaves them in, as before)
        dom = (
            r["quantity"]
            .groupby([pd.Series(r_pair, index=r.index, name="pair"), r["reason_category"]], sort=False)
            .sum()
            .reset_index()
            .sort_values("quantity", ascending=False)
            .drop_duplicates("pair")
            .set_index("pair")["reason_category"]
        )
        refund_amount = per_code(by_pair["refund_amount"].sum(min_count=1), n_pairs)
        refund_amount = refund_amount[l_pair]
        price_value = (lines["returned_units"] * lines["unit_price"]).to_numpy(dtype="float64")
        dom_at = np.full(n_pairs, -1, dtype="int64")
        dom_at[dom.index.to_numpy(dtype="int64")] = np.arange(len(dom))
        dom_cat = categorical(dom.astype("string")).array
        lines["reason_category"] = pd.Series(dom_cat.take(dom_at[l_pair], allow_fill=True), index=lines.index)
        lines["returned_value"] = np.where(np.isnan(refund_amount), price_value, refund_amount * share)
        del r, by_pair, all_units, share, dom, dom_cat, refund_amount, price_value, dom_at  # line-sized: not held
    else:
        for c in ("refund_units", "exchange_units", "store_credit_units"):
            lines[c] = 0.0
        lines["returned_value"] = np.where(lines["unit_price"].notna(), 0.0, np.nan)
        lines["reason_category"] = categorical(pd.Series(pd.NA, index=lines.index, dtype="string"))
    # only the categories present (a dominant reason of a pair with no line is no category of the lines)
    lines["reason_category"] = categorical(lines["reason_category"]).cat.remove_unused_categories()

    # ---- order-level attributes
    has_size = "size" in available
    # the product: its name, else its sku (a categorical; shared with product_name when no name is missing)
    product = _coalesce(lines["product_name"], lines["sku"])
    per_order = categorical(
        pd.Series(
            _derive_intent(
                lines,
                product,
                l_order,
                n_orders,
                has_size,
                "collection" in available,
                "category" in available,
                ranges,
            )
            if n_lines
            else np.array([], dtype=object),
            dtype="string",
        )
    ).array
    intent_derived = pd.Series(per_order.take(l_order), index=lines.index)
    if "intent" in available:
        lines["intent"] = _coalesce(lines["intent"], intent_derived)
    else:
        lines["intent"] = intent_derived
    order_units = np.bincount(l_order, weights=lines["quantity"].to_numpy(dtype="float64"), minlength=n_orders)
    lines["basket_units"] = order_units[l_order].astype("int64")
    lines["basket_lines"] = np.bincount(l_order, minlength=n_orders)[l_order].astype("int64")
    lines["product"] = product

    if "customer_id" in available:
        (customer,) = shared_codes(lines["customer_id"])
        first = lines["order_date"].groupby(customer, sort=False).transform("min")
        ctype = np.where(lines["customer_id"].isna(), 2, np.where(lines["order_date"] <= first, 0, 1)).astype("int8")
        types = pd.Categorical.from_codes(ctype, categories=pd.Index(["first", "repeat", "unknown"], dtype="string"))
        lines["customer_type"] = pd.Series(types, index=lines.index).cat.remove_unused_categories()
        del customer, first, ctype
        if any(f.role == "transactions" for f in dataset.files):
            # credit notes are matched to a customer's earlier purchase, so guests' lines cannot have returns by
            # construction: a first-vs-repeat difference would be made by the matching rule, not by customers
            notes.append(
                "First vs repeat customers is not tested on signed transactions: credit notes can only be "
                "matched to purchases of identified customers, so the difference would come from the "
                "matching rule rather than from customers."
            )
        else:
            available.add("customer_type")
    else:
        lines["customer_type"] = categorical(pd.Series(pd.NA, index=lines.index, dtype="string"))
    median_units = float(pd.Series(order_units).median()) if n_lines else 0.0
    if "intent" in available or median_units <= WHOLESALE_MEDIAN_UNITS:
        available.add("intent")
    else:
        notes.append(
            f"Customer intents (single item, bracketing, multi-item, full refresh) describe a shopper's basket; "
            f"here the median order holds {median_units:,.0f} units, as in wholesale, so intents are not shown."
        )
    available.add("product")

    # ---- the outcome: line-level returns, or order-level refunds when that is all the data holds
    lines["units"] = lines["quantity"]
    counts = dict(getattr(dataset, "counts", {}) or {})
    # a returns file without a single row (an export of the wrong period) says nothing of returns: not a 0% rate
    # nor does one none of whose lines matches an order (another store's or period's, Amazon order ids beside a
    # Shopify export): those returns say nothing of these orders
    unmatched = int(dataset.returns_matching_nothing) if not len(rets) else 0
    returns_known = len(rets) > 0 or any(
        f.role == "transactions" or (f.role == "returns" and f.rows_read > 0 and not unmatched) for f in dataset.files
    )
    if returns_known:  # a returns file or credit notes were loaded: a return rate of 0 would mean none came back
        available.add(RETURNS_LOADED)
    elif unmatched:
        counts["returns_matching_nothing"] = unmatched
    outcome = "order_refund" if (not returns_known and "order_refunded" in available) else "line_return"
    if outcome == "order_refund":
        lines, attrib_note, attrib = _order_refund_outcome(lines, l_order)
        counts.update(attrib)
        notes.append(attrib_note)
    else:
        lines["order_n"] = lines["quantity"].astype("float64")
        lines["order_x"] = lines["returned_units"].astype("float64")

    # ---- maturity
    line_at = _first_rows(l_pair, n_pairs)[r_pair]
    rets_m = _matched_returns(rets, lines, line_at)
    for c in ("reason_category", "reason_group", "reason_rule", "resolution_category"):  # of the matched returns
        rets_m[c] = categorical(rets_m[c])
    rets_m["days_to_return"] = (rets_m["return_date"] - rets_m["order_date"]).dt.days
    pairs = (l_pair, r_pair[line_at >= 0])  # the codes of rets_m's rows (the matched returns, in their order)
    # a returns file that ends before the orders: orders are followed, and mature, only up to its end
    separate = not any(f.role == "transactions" for f in dataset.files)  # credit notes share the sales' dates
    cover_end = (
        returns_cover_end(lines["order_date"], lines["returned_units"].to_numpy() > 0, rets_m["return_date"])
        if separate and len(rets_m) and not lines.empty
        else None
    )
    arrival = prepared_arrival_curve(lines, rets_m, pairs, cover_end) if not lines.empty else EMPTY_CURVE
    if window_days is not None:
        window, source = int(window_days), "user"
    else:
        n_dated = int((pd.to_numeric(rets_m["days_to_return"], errors="coerce") >= 0).sum())
        window, source = return_window(arrival, n_dated)
    if lines.empty:
        cutoff = None
        lines["mature"] = pd.Series(dtype=bool)
    else:
        end = cover_end if cover_end is not None else lines["order_date"].max()
        cutoff = end - pd.Timedelta(days=window)
        lines["mature"] = lines["order_date"] <= cutoff
        if not lines["mature"].any():
            # too short a history to wait for the window: keep everything, and say so
            lines["mature"] = True
            notes.append(
                f"The data spans less than the {window}-day return window, so no orders were "
                "excluded as too recent; recent rates may still rise."
            )
            cutoff = lines["order_date"].max()
    lines["month"] = lines["order_date"].dt.to_period("M").dt.start_time

    # line-sized intermediates go before the orders' grouping and the move of the rows (they held ~0.5 GB at 5M)
    ret_order = r_order[line_at >= 0]
    del l_sku, r_sku, l_pair, r_pair, pairs, ret_q, before, returned, per_order, intent_derived, line_at, r_order
    del product
    trim_heap()
    o = _orders_frame(lines, l_order, n_orders, ranges)
    immature_orders = int((~o["mature"]).sum())
    immature_lines = int((~lines["mature"]).sum())
    trim_heap()
    lines, o, rets_m = _mature_first(lines, o, rets_m, l_order, ret_order)
    trim_heap()

    return Prepared(
        lines=lines,
        orders=o,
        returns=rets_m,
        window_days=window,
        window_source=source,
        cutoff_date=cutoff,
        immature_orders_excluded=immature_orders,
        immature_lines_excluded=immature_lines,
        available=frozenset(available),
        notes=tuple(notes) + tuple(dataset.notes),
        outcome=outcome,
        counts=counts,
        arrival=arrival,
        returns_end=cover_end,
    )


# the line attributes each matched return carries (Prepared.returns)
RETURN_LINE_COLUMNS = (
    "order_date",
    "collection",
    "category",
    "product",
    "size",
    "channel",
    "journey",
    "intent",
    "customer_type",
    "unit_price",
    "promotion",
    "country",
    "addon",
)


def _matched_returns(rets: pd.DataFrame, lines: pd.DataFrame, line_at: np.ndarray) -> pd.DataFrame:
    """The returns whose (order, sku) was sold, in their own order, with the attributes of the first line of
    that (order, sku): what an inner merge with the lines' first rows per (order, sku) gives, by position.
    line_at: per return, the position of that first line (-1: not sold)."""
    if set(RETURN_LINE_COLUMNS) & set(rets.columns):  # a returns column named like a line attribute: merge's suffixes
        first = lines.drop_duplicates(["order_id", "sku"])[["order_id", "sku", *RETURN_LINE_COLUMNS]]
        return rets.merge(first, how="inner", on=["order_id", "sku"])
    hit = line_at >= 0
    out = rets[hit].reset_index(drop=True) if not hit.all() else rets.reset_index(drop=True)
    at = line_at[hit]
    for c in RETURN_LINE_COLUMNS:
        out[c] = lines[c].array.take(at)
    return out


def _orders_frame(
    lines: pd.DataFrame, order: np.ndarray, n_orders: int, ranges: list[tuple[int, int]] | None = None
) -> pd.DataFrame:
    """One row per order (in order of first appearance), grouped on the order codes (numbered in order of first
    appearance); the distinct collections per order are counted range by range of whole orders (ranges)."""
    g = lines.groupby(order, sort=False)
    o = g.agg(
        order_date=("order_date", "first"),
        customer_id=("customer_id", "first"),
        channel=("channel", "first"),
        journey=("journey", "first"),
        intent=("intent", "first"),
        customer_type=("customer_type", "first"),
        promotion=("promotion", "first"),
        country=("country", "first"),
        addon=("addon", "first"),
        units=("units", "sum"),
        lines=("sku", "size"),
        returned_units=("returned_units", "sum"),
        order_refunded=("order_refunded", "first"),
        mature=("mature", "first"),
        month=("month", "first"),
    )
    o.insert(
        o.columns.get_loc("lines") + 1,
        "n_collections",
        _distinct_per_order(lines["collection"], order, n_orders, ranges or _order_ranges(order)),
    )
    # min_count=1 keeps "no prices at all" as missing rather than 0
    o["order_value"] = g["line_value"].sum(min_count=1)
    o["returned_value"] = g["returned_value"].sum(min_count=1)
    any_return = g["order_x"].sum().to_numpy() > 0
    o.index = pd.Index(lines["order_id"].array.take(_first_rows(order, n_orders)), name="order_id")
    o = o.reset_index()
    o["any_return"] = any_return if len(o) else o["returned_units"] > 0
    return o


def _order_refund_outcome(lines: pd.DataFrame, order: np.ndarray) -> tuple[pd.DataFrame, str, dict]:
    """The order-refund outcome on the lines (see Prepared.rate_columns).

    order_n = the line's share of its order's units (each order weighs 1); order_x = order_n if the order
    had a customer refund (order_refunded > 0; cancellations were set apart at loading). returned_units
    holds the refund attributed to the line: where the export says which lines were refunded
    (line_refunded, see data.shopify.attribute_refunds) those lines' units; otherwise the line's units
    times the refunded share of the order's value (refunded amount / value sold, at most 1), so the
    refund is spread over the order's lines in proportion. returned_value = the refunded amount spread
    the same way. Resolution (exchange, store credit) is not known: those columns are missing.
    """
    q = lines["quantity"].astype("float64")
    oid = pd.Series(order, index=lines.index)  # the order codes (see prepare)
    order_units = q.groupby(oid, sort=False).transform("sum")
    refunded_amt = lines["order_refunded"].groupby(oid, sort=False).transform("first").fillna(0.0)
    flag = (refunded_amt > 0).astype("float64")
    lines["order_n"] = (q / order_units).where(order_units > 0, 0.0)
    lines["order_x"] = lines["order_n"] * flag
    known = (
        lines["line_refunded"].astype("float64") if "line_refunded" in lines else pd.Series(np.nan, index=lines.index)
    )
    order_known = known.notna().groupby(oid, sort=False).transform("any") & (flag > 0)
    known_hit = (known.fillna(0) > 0).groupby(oid, sort=False).transform("any")
    value = lines["line_value"].astype("float64")
    order_value = value.fillna(0.0).groupby(oid, sort=False).transform("sum")
    share = (refunded_amt / order_value).clip(upper=1.0).where(order_value > 0, 1.0).fillna(1.0)
    use_known = order_known & known_hit  # an attribution that names at least one refunded line
    ret = np.where(use_known, q * (known.fillna(0) > 0), q * share * flag)
    lines["returned_units"] = ret.astype("float64")
    w = lines["returned_units"] * lines["unit_price"].fillna(1.0)
    wsum = w.groupby(oid, sort=False).transform("sum")
    lines["returned_value"] = (refunded_amt * w / wsum).where(wsum > 0, 0.0)
    lines["refund_units"] = lines["returned_units"]
    lines["exchange_units"] = np.nan
    lines["store_credit_units"] = np.nan
    refunded_orders = int(flag[~oid.duplicated()].sum())
    attributed = int((use_known & ~oid.duplicated()).sum())
    pct = attributed / refunded_orders if refunded_orders else float("nan")
    note = (
        (
            f"Only order-level refunds are known (no returns file): the headline rate is orders with a customer refund "
            f"/ orders; segments (collections, sizes, intents, channels ...) compare refunded units / units sold. "
            f"The refund is attributed to lines where the export says which "
            f"({attributed:,} of {refunded_orders:,} refunded orders, {pct:.0%}: single-line orders, restocked lines, "
            "line amounts that add up to the refund); in the other refunded orders it is spread over the lines in "
            "proportion to the share refunded. Add a returns file for line-level return rates."
        )
        if refunded_orders
        else ("Only order-level refunds are known (no returns file), and no order has a refund.")
    )
    return lines, note, {"refunded_orders": refunded_orders, "refunds_attributed": attributed}


@dataclass(frozen=True, slots=True)
class Filters:
    """Global dashboard filters; empty tuples mean 'all'. The value filters are FILTER_COLUMNS (column -> field)."""

    date_from: pd.Timestamp | None = None
    date_to: pd.Timestamp | None = None
    channels: tuple[str, ...] = ()
    journeys: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    def chosen(self) -> dict[str, tuple[str, ...]]:
        """{line column: the values kept} for every value filter with a choice."""
        return {col: getattr(self, field) for col, field in FILTER_COLUMNS.items() if getattr(self, field)}

    @property
    def active(self) -> bool:
        return bool(self.date_from is not None or self.date_to is not None or self.chosen())


# the sidebar's value filters: the line column each keeps values of -> its Filters field, in the sidebar's order
FILTER_COLUMNS = {"channel": "channels", "journey": "journeys", "country": "countries", "collection": "collections"}


def order_codes(prepared: Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer order codes of (lines, orders, returns) in one code space (shared_codes), computed once per
    Prepared: filter_prepared picks a filter's orders and returns through them."""

    def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b, c = shared_codes(prepared.lines["order_id"], prepared.orders["order_id"], prepared.returns["order_id"])
        return a, b, c

    return prepared.memo("analysis.prepare.order_codes", compute)


def filter_prepared(prepared: Prepared, filters: Filters) -> Prepared:
    """Restrict every frame to the orders (and, for collections, the lines) that pass the filters.

    Date, channel, journey and country filters select whole orders; a collection filter selects the lines of
    those collections (and the orders that contain them, whose units and returns are then those of the
    selected lines), so unit and order rates both describe those collections.
    Maturity flags and the window are kept from the unfiltered data.
    """
    if not filters.active:
        return prepared
    lines = prepared.lines
    keep = pd.Series(True, index=lines.index)
    if filters.date_from is not None:
        keep &= lines["order_date"] >= pd.Timestamp(filters.date_from)
    if filters.date_to is not None:
        keep &= lines["order_date"] <= pd.Timestamp(filters.date_to)
    for column, values in filters.chosen().items():
        keep &= lines[column].isin(list(values)).fillna(False).astype(bool)
    new_lines = lines[keep]
    # orders and returns are picked through integer order codes shared by the three frames (encoded once per
    # Prepared): pandas' isin on Arrow strings builds a Python string per order id (2.7 s of CPU for the 490k
    # orders of one channel at 1M lines, most of a new filter's copy)
    lcodes, ocodes, rcodes = order_codes(prepared)
    kept = keep.to_numpy(dtype=bool)
    picked = np.zeros(int(max(lcodes.max(initial=-1), ocodes.max(initial=-1), rcodes.max(initial=-1))) + 1, bool)
    picked[lcodes[kept]] = True
    orders = prepared.orders[picked[ocodes]]
    if filters.collections:
        # the orders' outcomes are those of the selected collections' lines only (grouped on the order codes:
        # the same sums, in the same order, as grouping on the ids)
        g = new_lines.groupby(lcodes[kept], sort=False)
        at = pd.Index(ocodes[picked[ocodes]])
        o = orders.set_index("order_id")
        o = o.assign(
            units=g["quantity"].sum().reindex(at).to_numpy(),
            lines=g.size().reindex(at).to_numpy(),
            returned_units=g["returned_units"].sum().reindex(at).to_numpy(),
            order_value=g["line_value"].sum(min_count=1).reindex(at).to_numpy(),
            returned_value=g["returned_value"].sum(min_count=1).reindex(at).to_numpy(),
        )
        o["any_return"] = o["returned_units"] > 0
        orders = o.reset_index()
    rets = prepared.returns
    rkeep = picked[rcodes]
    if filters.collections:
        rkeep &= rets["collection"].isin(list(filters.collections)).fillna(False).to_numpy(dtype=bool)
    out = Prepared(
        lines=new_lines,
        orders=orders,
        returns=rets[rkeep],
        window_days=prepared.window_days,
        window_source=prepared.window_source,
        cutoff_date=prepared.cutoff_date,
        immature_orders_excluded=int((~orders["mature"]).sum()),
        immature_lines_excluded=int((~new_lines["mature"]).sum()),
        available=prepared.available,
        notes=prepared.notes,
        outcome=prepared.outcome,
        counts=prepared.counts,
        arrival=prepared.arrival,
        returns_end=prepared.returns_end,
    )
    # the filtered lines are rows of the unfiltered ones: the per-line codes the parent has computed
    # (analysis.segments.line_codes) are picked and renumbered for them now, instead of a new factorize of every
    # text column later (issue 14: codes computed once on the full data); nothing refers back to the parent
    from analysis.segments import pick_codes  # (analysis.segments imports this module)

    pick_codes(out, prepared, kept)
    # and its order codes are the parent's (one code space still; filter_prepared only compares them), for a
    # filter of the filtered data (judging the fix list on logged changes filters it again by date)
    out.memo("analysis.prepare.order_codes", lambda: (lcodes[kept], ocodes[picked[ocodes]], rcodes[rkeep]))
    return out
