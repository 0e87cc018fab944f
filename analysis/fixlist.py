"""The prioritised fix list: which segments to work on first, why, and what to do.

Rows are the gated segments of every dimension (BH q <= q on the one-sided "higher" test) and the
gated item pairs, ranked by priority score = shrunk excess returns x cost per return (METHOD 6.4).

No double counting: a segment is dropped when it is only a slice of a higher-ranked listed segment,
detected from the data rather than from names. Only nested overlaps count (>= 90% of the smaller
segment's units inside the other). For a candidate S with excess E = x_S - n_S p0_S, the
residual excess after the listed segments is x_S - sum over S's lines of units x r(line), where r is
the return rate of the highest-ranked listed segment containing the line (p0_S for lines in none).
If S overlaps a listed segment and the residual is below half of E, S is "mostly explained by" that
segment and dropped (e.g. a product of a listed collection whose rate is about the collection's, a
size within a listed product, a category whose excess is its listed collection). Pairs are measured
against their parts already, so they are not dropped against single segments.

Category rows are left out of the fix list when collections/products/sizes were compared within their
category (segment_table's reference): category differences (apparel returns more than home goods)
are structure, not something a guidance change fixes; they stay in the Segments table. For the same
reason a collection/product/size that is alone in its category (so it could only be compared with
everything else) is left out of the fix list then; the pair and order-level rows still cover it.

One order or one customer holding more than half of a candidate's returned units (carried_by: a wholesale
credit note) is one decision, not a pattern guidance prevents: the candidate is listed only when the rest of it
is still clearly higher (the one-sided 95% bound of the "at least" figure above its comparison rate), and then
its excess, cost and priority are counted without that order, which its why sentence names (on the real Online
Retail II export one order of 160 cushion covers came back whole: 160 of the product's 162 extra returns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import stats
from analysis.concentration import order_ref
from analysis.pairs import pair_returns
from analysis.prepare import DIMENSION_LABELS, ORDER_DIMENSIONS, Prepared
from analysis.segments import (
    BORDERLINE_P,
    MIN_RETURNING_ORDERS,
    NOT_SET,
    ONE_ORDER_SHARE,
    ONE_ORDER_TEST,
    REFERENCE_PREFIXES,
    VERDICTS,
    cluster_codes,
    codes_of,
    dominant_reason,
    line_codes,
    mature_frames,
    reason_label,
    reason_mix,
    reference_column,
    reference_dimensions,
    reference_group,
    segment_label,
    verdicts,
)
from data.reasons import CATEGORIES

MAX_ROWS = 25
# A segment whose excess comes from fewer returning orders than analysis.segments.MIN_RETURNING_ORDERS is a
# handful of incidents (e.g. one cancelled wholesale order of 5,000 units), not a pattern guidance can fix.
EXPLAINED_SHARE = 0.5
NESTED = 0.9

FIX_COLUMNS = [
    "rank",
    "dimension",
    "segment",
    "label",
    "n",
    "returned",
    "return_rate",
    "baseline_rate",
    "ci_low",
    "ci_high",
    "shrunk_rate",
    "excess_returns",
    "excess_cost",
    "conservative_excess_cost",
    "priority_score",
    "q_value",
    "why",
    "suggested_action",
    "top_reason",
    "top_reasons",
    "reason_mix",
    "refund_share",
    "exchange_share",
    "example_comments",
    "reference",
]

ACTIONS = {
    "size": "Add fit advice and a size recommendation on the product page (e.g. 'runs small - order one size up'), "
    "with a size chart measured on the garment.",
    "size_exchange": "Offer an exchange for another size before the refund in the returns flow.",
    "setup": "Add setup guidance: a short setup video and a clearer quick-start guide (and check the app pairing).",
    "expectation": "Set expectations in imagery and copy: true-colour photos, detail and scale shots, accurate descriptions.",
    "quality": "Follow up on quality with the supplier: inspect returned units and recent batches.",
    "transit": "Review packaging and carrier handling for these items.",
    "wrong_item": "Check picking and labelling accuracy in the warehouse for these items.",
    "delivery": "Review delivery promises and carrier performance.",
    "choice": "Mostly change-of-mind returns: review the returns policy, pricing and campaign targeting.",
    "bracketing": "Reduce bracketing with a size recommendation and fit reviews so customers order one size.",
    "unknown": "Collect a return reason for these returns (a required reason in the returns form): without it, "
    "which guidance would prevent them cannot be told.",
}
# The guidance theme each action gives (analysis.interventions.CHANGE_THEMES): an action whose theme a logged
# change already covers is not advised again.
ACTION_THEMES = {"size": "fit", "bracketing": "fit", "setup": "setup", "expectation": "expectation"}
IN_PLACE_ACTION = (
    "A change covering this is already in place since {start} ({what}), and the segment still returns "
    "more than comparable items: check the change reaches every page and order of it, then look at the "
    "next reason in its brief."
)
_REASON_ACTION = {
    "size_too_small": "size",
    "size_too_large": "size",
    "fit_other": "size",
    "setup_confusion": "setup",
    "not_as_described": "expectation",
    "colour_style": "expectation",
    "quality": "quality",
    "defective": "quality",
    "damaged_in_transit": "transit",
    "wrong_item": "wrong_item",
    "late_or_not_delivered": "delivery",
    "changed_mind": "choice",
    "ordered_by_mistake": "choice",
}


# With order-level refunds only (no returns file) no reason is known: the action says what to look at for
# the kind of segment, and how to learn the reasons.
NO_REASON_ACTIONS = {
    "channel": "Compare this channel's listings (size info, photos, copy) and returns terms with your own store, and "
    "ask the channel for its return reasons.",
    "promotion": "Check what this promotion sells and to whom: deep discounts attract try-and-return buying; "
    "consider excluding high-return items.",
    "addon": "Customers who buy free-return insurance or protection plan to return more: make fit and product "
    "information prominent for them, and review the add-on's terms.",
    "country": "Check delivery times, duties and sizing conventions for this country.",
    "customer_type": "Check what this customer group is shown first (landing pages, size guidance).",
    "journey": "Check what this campaign or landing page promises against the products it sells.",
}
NO_REASON_TAIL = " Add a returns file (or a returns-app export) to learn why customers return."


def suggested_action(
    mix: dict[str, float], refund_share: float, dimension: str = "", segment: str = "", outcome: str = "line_return"
) -> str:
    """Action mapped from the dominant preventable reason (see ACTIONS); size reasons with mostly
    refunds add the exchange offer. With order-level refunds only, a segment-type action (NO_REASON_ACTIONS)."""
    if dimension == "intent" and segment == "bracketing":
        return ACTIONS["bracketing"]
    if outcome == "order_refund" and not mix:
        return (
            NO_REASON_ACTIONS.get(dimension, "Review the product page, size guidance and photos of these items.")
            + NO_REASON_TAIL
        )
    preventable = [k for k in mix if CATEGORIES.get(k, ("", ""))[1] in ("preventable", "operational")]
    top = preventable[0] if preventable else dominant_reason(mix)
    kind = _REASON_ACTION.get(top or "", "unknown")
    text = ACTIONS[kind]
    if kind == "size" and np.isfinite(refund_share) and refund_share >= 0.6:
        text = f"{text} {ACTIONS['size_exchange']}"
    return text


def action_theme(text: object) -> str | None:
    """The guidance theme (fit, setup, expectation) of a suggested action from ACTIONS, or None."""
    t = str(text or "")
    for kind, theme in ACTION_THEMES.items():
        if t.startswith(ACTIONS[kind]):
            return theme
    return None


def order_rows(fix: pd.DataFrame) -> pd.DataFrame:
    """Rank rows: those whose conservative "at least" excess cost is above 0 first, each group by priority
    score (shrunk excess cost), so an item "at least 0" never ranks above one "at least 10,662"; ranks 1..n."""
    if fix.empty:
        return fix
    pos = fix["conservative_excess_cost"].astype("float64").fillna(0.0) > 0
    out = (
        fix.assign(_pos=pos.to_numpy())
        .sort_values(["_pos", "priority_score"], ascending=[False, False], kind="stable")
        .drop(columns="_pos")
    )
    out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


def _plain(text: object, limit: int = 160) -> str:
    s = re.sub(r"[\x00-\x1f\x7f]+", " ", str(text))
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def example_comments(rets: pd.DataFrame, prefer: str | None, k: int = 3) -> list[str]:
    """Up to k distinct non-empty comments (plain text), those with the dominant reason first."""
    if not len(rets) or "comment" not in rets.columns:
        return []
    c = rets[["comment", "reason_category"]].dropna(subset=["comment"])
    c = c[c["comment"].astype("string").str.strip().str.len() > 0]
    if not len(c):
        return []
    first = c["reason_category"].astype("string").fillna("") == (prefer or "")
    ordered = pd.concat([c[first.to_numpy()], c[~first.to_numpy()]])["comment"]
    out: list[str] = []
    for v in ordered:
        t = _plain(v)
        if t and t not in out:
            out.append(t)
        if len(out) == k:
            break
    return out


def _resolution_shares(rets: pd.DataFrame) -> tuple[float, float]:
    if not len(rets):
        return float("nan"), float("nan")
    q = rets["quantity"].astype("float64")
    res = rets["resolution_category"].astype("string").fillna("unknown")
    # shares of the returns resolved as a refund, exchange or store credit, as the headline (metrics.resolution_shares)
    # and the Reasons page: unrecognised text ('other') is no outcome; none known = unknown, never "refunds 0%"
    tot = float(q[res.isin(["refund", "exchange", "store_credit"])].sum())
    if tot <= 0:
        return float("nan"), float("nan")
    return float(q[res == "refund"].sum()) / tot, float(q[res == "exchange"].sum()) / tot


def why_sentence(
    row: pd.Series, mix: dict[str, float], refund: float, comments: list[str], outcome: str = "line_return"
) -> str:
    """E.g. "returns 24% vs 14% for the rest of Tops; mostly size too small (62%); refunds 80%; e.g. 'runs small'"."""
    ref = str(row.get("reference") or "all")
    if row["dimension"] == "combination":
        versus = "expected from each item bought without the other"
    elif reference_group(ref) is not None:
        versus = f"the rest of {reference_group(ref)}"
    elif ref.startswith("within "):
        versus = f"the rest of {ref[7:]}"
    else:
        versus = "the rest"
    if outcome == "order_refund":  # every segment's rate is refunded units / units (Prepared.rate_columns)
        parts = [
            f"{row['return_rate']:.1%} of units refunded (refunds attributed to items) vs {row['baseline_rate']:.1%} "
            f"for {versus}"
        ]
    else:
        # rates with one decimal, as on every card and brief (5.6% vs 1.7%, not 6% vs 2%)
        parts = [f"returns {row['return_rate']:.1%} vs {row['baseline_rate']:.1%} for {versus}"]
    top = dominant_reason(mix)
    blank = mix.get("unknown", 0.0)
    if top is not None and top not in ("unknown",) and blank > 0.5:
        # most returns have no reason: the top reason is said of those with one ("mostly size too small (2%)"
        # read as the row's cause when 94% of its returned units had no reason)
        parts.append(
            f"no return reason recorded for {blank:.0%} of returns; of those with one, mostly "
            f"{reason_label(top).lower()} ({mix[top] / (1.0 - blank):.0%})"
        )
    elif top is not None and top not in ("unknown",):
        parts.append(f"mostly {reason_label(top).lower()} ({mix[top]:.0%})")
    elif mix:
        parts.append("no return reason recorded for most returns")
    if np.isfinite(refund):
        parts.append(f"refunds {refund:.0%}")
    carried = row.get("carried")
    if isinstance(carried, str) and carried:
        # the order that carries the row is said first, and the rate with it named as such: the card's cost counts
        # the row without it ("75.8% vs 1.7%" beside "extra returns cost at least 2" read as a contradiction)
        pron = "them" if carried.startswith("one customer") else "it"
        rate = f"{row['return_rate']:.1%}"
        parts[0] = (
            parts[0].replace(f"{rate} of units refunded", f"{rate} of units refunded with {pron}", 1)
            if outcome == "order_refund"
            else parts[0].replace(f"returns {rate} ", f"returns {rate} with {pron} ", 1)
        )
        parts.insert(0, carried)
    if comments:
        parts.append(f"e.g. '{comments[0]}'")
    return "; ".join(parts)


def carrier_words(why: object) -> str | None:
    """The sentence of a fix-list row's "why" that names the order or customer carrying the row (why_sentence puts
    it first), or None for a row no single order or customer carries."""
    text = str(why) if isinstance(why, str) else ""
    if not text.startswith(("one order (", "one customer (")):
        return None
    return "; ".join(text.split("; ")[:2])  # "... holds 160 of the 166 returned units; without it 10.2% (...) ..."


def _returns_for(prepared: Prepared, rets: pd.DataFrame, row: pd.Series, cache: dict) -> pd.DataFrame:
    if not len(rets):
        return rets
    if row["dimension"] == "combination":
        level = row.get("level") or "collection"
        a, b = row["segment"].split(" + ", 1) if pd.isna(row.get("item_a")) else (row["item_a"], row["item_b"])
        return pair_returns(prepared, rets, level, a, b)
    dim = row["dimension"]
    if dim not in cache:
        cache[dim] = codes_of(rets[dim])
    c, labels = cache[dim]
    hit = np.flatnonzero(labels == row["segment"])
    return rets[c == (hit[0] if len(hit) else -1)]


def _explained_by(
    row: pd.Series, mask: np.ndarray, kept: list, masks: list, units: np.ndarray, returned: np.ndarray
) -> tuple[str, float] | None:
    """(listed segment, residual share) when `row` is mostly a slice of (or a container of) listed
    segments; None otherwise. Only NESTED overlaps count (>= 90% of the smaller side's units inside the
    other), so cross-cutting segments (a journey and a collection) never explain each other away."""
    # the segment's lines by position: each overlap below reads only them, in the same order (the same sums as
    # the full-length masks gave, at a fraction of the cost: 24 rows x every listed segment at 1M lines)
    idx = np.flatnonzero(mask)
    u = units[idx]
    n_s = u.sum()
    if n_s <= 0:
        return None
    p0 = float(row.get("baseline_rate", np.nan))  # the rest without the segment: the excess's own baseline
    if not np.isfinite(p0):
        p0 = float(row["expected_returns"]) / float(row["n"]) if row["n"] else 0.0
    rate = np.full(len(idx), np.nan)
    first = None
    for k, m in zip(kept, masks):
        if m is None:
            continue
        sub = m[idx]
        inter = u[sub].sum()
        if inter <= 0 or inter < NESTED * min(n_s, units[m].sum()):
            continue
        fill = sub & np.isnan(rate)
        rate[fill] = float(k["return_rate"])
        first = first or f"{k['dimension']}: {k['segment']}"
    if first is None:
        return None
    r = np.where(np.isnan(rate), p0, rate)
    residual = returned[idx].sum() - (u * r).sum()
    excess = float(row["excess_returns"])
    share = residual / excess if excess > 0 else 0.0
    return (first, float(share)) if share < EXPLAINED_SHARE else None


@dataclass(frozen=True, slots=True)
class Carrier:
    """The one order (or one customer) holding most of a segment's returned units, and the segment without it.

    who: "one order (#503955)" or "one customer (13694, 3 orders)"; x / n: the segment's returned units and units;
    top_x: the carrier's returned units in the segment; rest_x / rest_n: the segment's returned units and units
    without it; rest_deff: the Rao-Scott design effect of the rest (its other orders or customers).
    """

    who: str
    x: float
    n: float
    top_x: float
    rest_x: float
    rest_n: float
    rest_deff: float


def carried_by(
    lines: pd.DataFrame,
    mask: np.ndarray,
    units: np.ndarray,
    returned: np.ndarray,
    clusters: np.ndarray | None = None,
) -> Carrier | None:
    """The order or customer holding more than ONE_ORDER_SHARE of the segment's returned units, else None.

    clusters: analysis.segments.cluster_codes per line, when the caller has them: a segment whose largest
    cluster holds no more than that share returns None without reading the ids as text (those clusters are the
    same customers, or orders, which hold at least as much as any customer key of theirs below).

    Clusters are customers where the customer is known, else orders (as the design effects cluster, METHOD 4.3):
    a wholesaler returning in five orders of 960 units is one decision as much as one order of 4,800 is. The
    segment screen (analysis.segments, ONE_ORDER_TEST) keeps such a segment off the list unless the rest alone
    is clearly higher; a listed one is then counted without it (build_fix_list).
    """
    idx = np.flatnonzero(mask)
    y_line = returned[idx]
    total = float(y_line.sum())
    if total <= 0:
        return None
    if clusters is not None:
        if not np.bincount(clusters[idx], weights=y_line).max() / total > ONE_ORDER_SHARE:
            return None
    sub = lines.iloc[idx]
    order_s = sub["order_id"].astype("string").fillna("")
    orders = order_s.to_numpy(dtype=object)
    keys = "o\x00" + order_s
    if "customer_id" in sub.columns:
        cust = sub["customer_id"].astype("string").fillna("")
        keys = keys.where(cust == "", "c\x00" + cust)
    code, uniq = pd.factorize(keys.to_numpy(dtype=object), sort=False)
    y = np.bincount(code, weights=y_line, minlength=len(uniq))
    m = np.bincount(code, weights=units[idx], minlength=len(uniq))
    top = int(np.argmax(y))
    if not y[top] / total > ONE_ORDER_SHARE:
        return None
    top_lines = code == top
    its_orders = pd.unique(orders[top_lines & (y_line > 0)])
    kind, ident = str(uniq[top]).split("\x00", 1)
    if kind == "c" and len(its_orders) > 1:
        who = f"one customer ({ident}, {len(its_orders):,} orders)"
        out = top_lines
    else:  # one returning order: the customer's other orders of the segment stay in the rest
        order = its_orders[0] if len(its_orders) else ident
        who = f"one order ({order_ref(order)})"
        out = top_lines & (orders == order)
    keep = ~out
    yr = np.bincount(code[keep], weights=y_line[keep], minlength=len(uniq))
    mr = np.bincount(code[keep], weights=units[idx][keep], minlength=len(uniq))
    rest = mr > 0
    rest_x, rest_n = float(yr[rest].sum()), float(mr[rest].sum())
    deff = 1.0
    if rest_n > 0 and rest.sum() > 1:
        d = stats.design_effect(yr[rest], mr[rest], np.zeros(int(rest.sum()), dtype="int64"))["deff"]
        deff = float(d.iloc[0]) if len(d) and np.isfinite(d.iloc[0]) else 1.0
    return Carrier(who, total, float(m.sum()), total - rest_x, rest_x, rest_n, max(deff, 1.0))


def _without_carrier(row: pd.Series, c: Carrier, outcome: str) -> tuple[pd.Series, tuple[str, float] | None]:
    """The fix-list row counted without its carrier, or (row, (ONE_ORDER, rest rate)) when the rest is not
    clearly higher (its one-sided 95% Wilson bound on effective counts - the "at least" bound - is not above the
    comparison rate).

    The rate stays the segment's (as on every page); excess returns and cost are the rest's (returned - units x
    comparison rate), "at least" uses the rest's bound, and the priority is the row's shrunk excess cost scaled
    by the share of its excess the rest carries. The why sentence names the carrier.
    """
    p0 = float(row["baseline_rate"])
    rate = c.rest_x / c.rest_n if c.rest_n > 0 else float("nan")
    low = (
        float(stats.wilson_lower_one_sided(c.rest_x / c.rest_deff, c.rest_n / c.rest_deff))
        if c.rest_n > 0
        else float("nan")
    )
    if not (np.isfinite(low) and low > p0):
        return row, (ONE_ORDER, rate)
    excess = float(row["excess_returns"])
    cost = float(row["excess_cost"]) / excess if excess > 0 else 0.0
    rest_excess = c.rest_x - c.rest_n * p0
    row = row.copy()
    row["excess_returns"] = rest_excess
    row["excess_cost"] = rest_excess * cost
    row["conservative_excess_cost"] = c.rest_n * (low - p0) * cost
    row["priority_score"] = float(row["priority_score"]) * min(1.0, rest_excess / excess) if excess > 0 else 0.0
    noun = "refunded units" if outcome == "order_refund" else "returned units"
    pron = "them" if c.who.startswith("one customer") else "it"
    extra = "refunds" if outcome == "order_refund" else "returns"
    row["carried"] = (
        f"{c.who} holds {c.top_x:,.0f} of the {c.x:,.0f} {noun}; without {pron} {rate:.1%} "
        f"({c.rest_x:,.0f} of {c.rest_n:,.0f} units), and the extra {extra} are counted without {pron}"
    )
    return row, None


def _structure_row(prepared: Prepared, lines: pd.DataFrame, row: pd.Series, kind: str) -> dict:
    """The dropped row of a clearly higher candidate that is never listed (kind STRUCTURE or NOT_SET); carrier
    holds, for STRUCTURE, the words for its group: 'the only collection of its category (Accessories)'."""
    dim, seg = str(row["dimension"]), row["segment"]
    words = ""
    ref_col = reference_column(prepared)
    if kind == STRUCTURE and ref_col is not None and dim != ref_col and dim in reference_dimensions(prepared):
        rc, rl = line_codes(prepared, ref_col)
        dc, dl = line_codes(prepared, dim)
        hit = np.flatnonzero(np.asarray(dl) == seg)
        mask = dc == (hit[0] if len(hit) else -1)
        if mask.any():
            g = int(np.bincount(rc[mask]).argmax())
            inside = np.unique(dc[rc == g])
            what = "category" if ref_col == "category" else "size system"
            words = (
                f"the only {dim} of its {what} ({rl[g]})"
                if len(inside) == 1
                else f"most of its {what}'s ({rl[g]}) units"
            )
    return {
        "dimension": dim,
        "segment": seg,
        "explained_by": kind,
        "residual_share": np.nan,
        "mix_rate": np.nan,
        "carrier": words,
        "rate": float(row["return_rate"]),
        "baseline": float(row["baseline_rate"]),
    }


def dropped_sentences(dropped: pd.DataFrame) -> list[str]:
    """One plain sentence per candidate build_fix_list left out (nothing leaves the list unsaid)."""
    out = []
    for _, d in dropped.iterrows():
        dim = str(d["dimension"])
        label = segment_label(dim, str(d["segment"]))
        why = str(d["explained_by"])
        rates = f"{float(d.get('rate', np.nan)):.1%} vs {float(d.get('baseline', np.nan)):.1%} for the rest"
        if why == STRUCTURE and d.get("carrier"):
            out.append(
                f"{label} ({DIMENSION_LABELS.get(dim, dim).lower()}): {rates}, but it is {d['carrier']}, so it can "
                "only be compared with other groups: a difference of what is sold, not something guidance fixes. "
                "Its trend over time is on Trends."
            )
        elif why == STRUCTURE:
            out.append(
                f"{label} ({DIMENSION_LABELS.get(dim, dim).lower()}): {rates}; a {dim}'s rate reflects what it "
                f"sells, not something guidance fixes: its collections, products and sizes are compared within it."
            )
        elif why == NOT_SET:
            out.append(
                f"{label} ({DIMENSION_LABELS.get(dim, dim).lower()}): the lines with no {dim} - {rates}; they are "
                f"not one {dim} (items without one, or the {dim} is missing), so they are not listed."
            )
        elif why == ONE_ORDER:
            out.append(
                f"{label} ({DIMENSION_LABELS.get(dim, dim).lower()}): {d.get('carrier') or 'one order'} holds most "
                f"of its returned units; without that, it returns {float(d['mix_rate']):.1%}, not clearly more than "
                "its comparison group."
            )
        elif why == PRODUCT_MIX:
            out.append(
                f"{label} ({DIMENSION_LABELS.get(dim, dim).lower()}): returns more than the rest, but about as much "
                f"as its products do outside it (the same products outside it return {float(d['mix_rate']):.1%}) "
                "- product mix, not the segment."
            )
        else:
            out.append(
                f"{label} ({DIMENSION_LABELS.get(dim, dim).lower()}): mostly a slice of {why}, listed above "
                f"({max(float(d['residual_share']), 0.0):.0%} of its extra returns left once that is allowed for)."
            )
    return out


MIX_ALPHA = 0.05  # one-sided level of "returns more than the same products outside the segment"
PRODUCT_MIX = "product mix"  # dropped["explained_by"] of a segment the product-mix gate left out
ONE_ORDER = "one order"  # dropped["explained_by"] of a segment one order or customer carries (carried_by)
STRUCTURE = "structure"  # dropped["explained_by"] of a clearly higher segment structural() keeps off


def product_mix(
    mask: np.ndarray,
    products: np.ndarray,
    units: np.ndarray,
    returned: np.ndarray,
    deff: float = 1.0,
    rest_deff: float = 1.0,
) -> tuple[float, float]:
    """(rate the segment's units would have at the same products' rate outside it, one-sided p-value that
    the segment returns more than that) - indirect standardisation by product.

    Expected returns E = sum over products p of n_sp * r_p, with r_p the returned / sold units of p outside
    the segment (a product sold only inside the segment takes the rest's overall rate). z = (O - E) /
    sqrt(deff * V_O + rest_deff * V_E), with V_O = sum n_sp r_p (1 - r_p) (the segment's units at the
    standardised rates, the segment's Rao-Scott design effect for its clustering) and V_E = sum n_sp^2
    r_p (1 - r_p) / n_rest,p (the estimated rates' own noise). A segment of an order-level dimension
    (a channel, an intent) that sells more of a high-return product returns more without being the reason:
    this is the check that says so. A product sold only inside the segment counts at the rest's overall rate
    (lines without a product are one product of their own, "(not set)", see line_codes). With no variance left
    (every product's rate outside is 0 or 1) p is 0 when O > E, else 1; NaN only for a segment without units.
    """
    n_s = float(units[mask].sum())
    if n_s <= 0:
        return float("nan"), float("nan")
    k = int(products.max()) + 1
    N = np.bincount(products, weights=units, minlength=k)
    X = np.bincount(products, weights=returned, minlength=k)
    ns = np.bincount(products[mask], weights=units[mask], minlength=k)
    xs = np.bincount(products[mask], weights=returned[mask], minlength=k)
    nr, xr = N - ns, X - xs
    rest_rate = float(xr.sum() / nr.sum()) if nr.sum() > 0 else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.clip(np.where(nr > 0, xr / nr, rest_rate), 0.0, 1.0)
    O, E = float(xs.sum()), float((ns * r).sum())
    v_o = float((ns * r * (1 - r)).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        v_e = float(np.where(nr > 0, ns * ns * r * (1 - r) / nr, 0.0).sum())
    var = float(np.fmax(deff, 1.0)) * v_o + float(np.fmax(rest_deff, 1.0)) * v_e  # fmax: a NaN deff counts as 1
    if not (var > 0):
        return E / n_s, (0.0 if O > E + 1e-9 else 1.0)
    return E / n_s, float(stats.norm_sf((O - E) / np.sqrt(var)))


def structural(prepared: Prepared, segments: pd.DataFrame) -> np.ndarray:
    """Rows that can never be on the fix list, whatever their p-value: structure, not a finding.

    When segments are compared within reference groups (a category; the size system without one), the
    reference column's own segments (Jeans against everything: jeans return more than tees) and segments of
    the dimensions compared within groups that are compared with everything instead (alone in their group,
    or in a group one segment dominates: analysis.segments) describe the catalogue. When no segment has a
    reference group, nothing is structural. The rule reads the data's structure only, never a test, so it can
    decide the list's false-discovery family before any test (list_wide_fdr) as well as gate the list
    (build_fix_list).
    """
    out = np.zeros(len(segments), dtype=bool)
    if not len(segments) or "reference" not in segments.columns:
        return out
    ref = segments["reference"].astype("string").fillna("")
    if ref.str.startswith(tuple(REFERENCE_PREFIXES.values())).any():
        dims = segments["dimension"]
        out |= (dims == reference_column(prepared)).to_numpy()
        out |= (dims.isin(reference_dimensions(prepared)) & (ref == "all")).to_numpy()
    return out


def family_weights(dimensions: np.ndarray, tested: np.ndarray) -> np.ndarray:
    """Weights of the fix list's weighted BH family (list_wide_fdr), from the dimensions alone.

    Headline segments weigh 1 each. A drill-down family - the pairs, and the products when the data
    also has collections (products are then slices of a collection) - shares 1 + ln(m) units among
    its m tested rows, so a few hundred products or pairs count like a handful of headline segments
    rather than drowning them, while each keeps a share. Untested rows weigh 0. The weights depend on
    which dimensions were tested and how many rows, never on a p-value (Genovese et al. 2006).

    >>> w = family_weights(np.array(["collection"] * 2 + ["product"] * 4 + ["combination"]), np.ones(7, bool))
    >>> [round(float(v), 3) for v in w]
    [1.0, 1.0, 0.597, 0.597, 0.597, 0.597, 1.0]
    """
    dims = np.asarray(dimensions, dtype=object)
    tested = np.asarray(tested, dtype=bool)
    drill = {"combination"} | ({"product"} if bool(np.any(tested & (dims == "collection"))) else set())
    w = np.where(tested, 1.0, 0.0)
    for d in drill:
        m = int(np.sum(tested & (dims == d)))
        if m:
            w[tested & (dims == d)] = (1.0 + np.log(m)) / m
    return w


def list_wide_fdr(
    segments: pd.DataFrame,
    pairs: pd.DataFrame | None,
    *,
    q: float,
    cost_per_return: float,
    structural_rows: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One weighted Benjamini-Hochberg family over every test that can put a row on the fix list (METHOD 5).

    The fix list is read as one list, so its false-discovery rate must hold for the list: the union of
    rows passing separate per-dimension (and pairs) BH families does not control it (with about nine
    families, about half of pure-null datasets put a false row on the list; bench/calibration.py).
    The family: every segment row of every dimension with a real one-sided test (rows whose "higher"
    p-value was set to 1 by a rule - fewer than MIN_RETURNING_ORDERS returning orders, orders and units
    disagreeing, one order - are not tests and get q = 1) plus every pair that passed the support gate.

    One plain BH family spent most of its error budget on the hundreds of drill-down tests (96 products
    and 120 collection pairs against 16 collections in bench/calibration.py), so a collection returning
    1.3x was missed in 1 dataset of 5. The family is therefore a weighted BH (Genovese, Roeder &
    Wasserman 2006; stats.weighted_bh_adjust) with weights fixed by the structure of the data before
    any test, see family_weights: each headline segment (a collection, size, journey, channel, ...)
    carries one unit of the budget, and each drill-down family (products when collections exist; pairs)
    carries 1 + ln(m) units shared by its m tests. The false-discovery rate of the whole list stays at
    or below q whatever the weights; they only move power toward the headline segments.

    Rows that can never be listed (structural_rows, see `structural`: the categories themselves, segments
    compared with everything instead of a reference group) are not in the list's family: their q-values come
    from the family of every test (as wide as before, so their views' verdicts are no more liberal), the list's
    rows' from the family without them. In the list's family their true rejections would raise BH's step-up threshold for every
    other row while never reaching the list: on generated null Shopify exports "Jeans" (jeans return more
    than tees) was rejected in nearly every dataset, which let a false row in at twice the level (lists
    with a false row: 13 of 80 against q = 0.10; bench/calibration_shopify.py, README "Calibration").

    q_value (higher) is replaced by the list-wide value - one q per segment, shown on every page and in
    the export - and q_lower (lower; a BH family of its own over the same segment tests) likewise; the
    verdict, direction, significant flag and gated priority score of every view are recomputed from
    them, so each view's verdicts agree with the list.

    Returns (segments, pairs) with the updated columns; inputs are not modified.
    """
    if not (0 < q < 1):
        raise ValueError("q must be a false discovery rate between 0 and 1, e.g. 0.10.")
    segs = segments.copy()
    prs = pairs.copy() if pairs is not None else None
    ps = segs["p_value"].to_numpy(dtype="float64") if len(segs) else np.array([])
    pl = segs["p_lower"].to_numpy(dtype="float64") if len(segs) else np.array([])
    ruled = (
        segs["test"]
        .astype("string")
        .fillna("")
        .isin(["fewer than 5 returning orders", "orders vs units disagree", ONE_ORDER_TEST])
        .to_numpy()
        if len(segs) and "test" in segs.columns
        else np.zeros(len(segs), dtype=bool)
    )
    seg_in = np.isfinite(ps) & ~ruled
    pp = np.array([])
    pair_in = np.array([], dtype=bool)
    if prs is not None and len(prs):
        pp = prs["p_value"].to_numpy(dtype="float64")
        pair_in = np.isfinite(pp) & prs["gate_support"].astype(bool).to_numpy()
    struct = np.zeros(len(segs), dtype=bool) if structural_rows is None else np.asarray(structural_rows, dtype=bool)
    if struct.shape != (len(segs),):
        raise ValueError("structural_rows must hold one flag per segment row.")
    dims = np.concatenate(
        [
            segs["dimension"].astype(str).to_numpy() if len(segs) else np.array([], dtype=object),
            np.full(len(pp), "combination", dtype=object),
        ]
    )
    in_list = np.concatenate([~struct, np.ones(len(pp), dtype=bool)])
    fam_all = np.concatenate([np.where(seg_in, ps, np.nan), np.where(pair_in, pp, np.nan)])

    def weighted_q(part: np.ndarray) -> np.ndarray:
        fam = np.where(part, fam_all, np.nan)
        if not np.isfinite(fam).any():
            return np.full(len(fam), np.nan)
        return stats.weighted_bh_adjust(fam, family_weights(dims, np.isfinite(fam)))

    q_hi = weighted_q(in_list)
    if struct.any():  # the structural rows: q from the family of every test, as before
        q_hi[~in_list] = weighted_q(np.ones(len(fam_all), dtype=bool))[~in_list]
    # the "lower" verdicts use their own one-sided family over the same segment tests
    q_lo = stats.bh_adjust(np.where(seg_in, pl, np.nan)) if len(segs) else np.array([])
    if len(segs):
        qs = np.where(seg_in, q_hi[: len(segs)], np.where(np.isfinite(ps), 1.0, np.nan))
        ql = np.where(seg_in, q_lo, np.where(np.isfinite(pl), 1.0, np.nan))
        segs["q_value"], segs["q_lower"] = qs, ql
        gate = np.nan_to_num(qs, nan=1.0) <= q
        segs["priority_score"] = np.where(gate, segs["shrunk_excess"].to_numpy(dtype="float64") * cost_per_return, 0.0)
        verdict, direction = verdicts(ps, qs, ql, q)
        segs["verdict"], segs["direction"] = verdict, direction
        segs["significant"] = pd.Series(direction, index=segs.index).notna().to_numpy()
    if prs is not None and len(prs):
        qp = np.where(pair_in, q_hi[len(segs) :], np.nan)
        prs["q_value"] = qp
        higher = np.nan_to_num(qp, nan=1.0) <= q
        border = ~higher & (np.nan_to_num(pp, nan=1.0) < BORDERLINE_P)
        prs["significant"] = higher
        prs["direction"] = np.where(higher, "higher", np.array(None)).astype(object)
        prs["verdict"] = np.where(higher, VERDICTS[0], np.where(border, VERDICTS[1], VERDICTS[2])).astype(object)
        prs["priority_score"] = np.where(higher, prs["shrunk_excess"].to_numpy(dtype="float64") * cost_per_return, 0.0)
    return segs, prs


def pairs_in_list_family(
    segments: pd.DataFrame, pairs: pd.DataFrame, *, q: float, cost_per_return: float, prepared: Prepared
) -> pd.DataFrame:
    """Pairs of another level than the fix list's (e.g. product pairs when the list's pairs are collections),
    with q-values, verdicts and priority from the same list-wide procedure (list_wide_fdr) - these pairs
    taking the place of the list's pair family - so the Combinations page shows one kind of q at every level.

    segments: the analysed segments (Analysis.segments; any pair rows in it are ignored).
    """
    single = segments[segments["dimension"] != "combination"] if len(segments) else segments
    out = list_wide_fdr(
        single, pairs, q=q, cost_per_return=cost_per_return, structural_rows=structural(prepared, single)
    )[1]
    return out if out is not None else pairs


def build_fix_list(
    prepared: Prepared,
    segments: pd.DataFrame,
    pairs: pd.DataFrame | None = None,
    *,
    returns: pd.DataFrame,
    q: float = 0.10,
    max_rows: int = MAX_ROWS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank gated segments and pairs into the fix list (see module docstring).

    Returns (fix_list, dropped): fix_list with FIX_COLUMNS; dropped = candidates left out, with columns
    dimension, segment, explained_by (the listed segment it is a slice of, or PRODUCT_MIX), residual_share (of
    its excess left by the slice), mix_rate (PRODUCT_MIX: the rate its products have outside it; ONE_ORDER: its rate
    without the carrier) and carrier (ONE_ORDER: who carries it, see carried_by).
    """
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1.")
    frames = [segments]
    if pairs is not None and len(pairs):
        frames.append(pairs)
    cand = (
        pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else segments.copy()
    )
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in FIX_COLUMNS})
    dropped_cols = ["dimension", "segment", "explained_by", "residual_share", "mix_rate", "carrier", "rate", "baseline"]
    if cand.empty:
        return empty, pd.DataFrame(columns=dropped_cols)
    gated = (cand["q_value"].astype("float64") <= q) & (cand["priority_score"].astype("float64") > 0)
    if "orders_returned" in cand.columns:
        gated &= cand["orders_returned"].astype("float64").fillna(MIN_RETURNING_ORDERS) >= MIN_RETURNING_ORDERS
    # the verdict agrees with the interval drawn: a listed segment's 95% interval lies above its comparison rate
    lo, base = cand["ci_low"].astype("float64"), cand["baseline_rate"].astype("float64")
    gated &= ~(lo.notna() & base.notna() & (lo <= base)).to_numpy()
    lines = mature_frames(prepared)[0]
    # clearly higher, yet never listed: structure (a category; a collection alone in its category) or the lines
    # without a value. Said in `dropped` like every other candidate left off, since the pages call them higher
    off_kind = np.where(
        (cand["segment"] == NOT_SET).to_numpy(), NOT_SET, np.where(structural(prepared, cand), STRUCTURE, "")
    )
    said_off = [
        _structure_row(prepared, lines, row, str(kind))
        for (_, row), kind, g in zip(cand.iterrows(), off_kind, gated.to_numpy())
        if g and kind
    ]
    gated &= off_kind == ""
    cand = cand[gated.to_numpy()].sort_values("priority_score", ascending=False, kind="stable")

    units = lines["quantity"].to_numpy(dtype="float64")
    returned = lines["returned_units"].to_numpy(dtype="float64")
    products = line_codes(prepared, "product")[0] if prepared.has("product") else None
    clusters = cluster_codes(prepared)
    codes: dict[str, tuple[np.ndarray, pd.Index]] = {}
    kept: list = []
    dropped: list = list(said_off)
    masks: list = []
    for _, row in cand.iterrows():
        if len(kept) >= max_rows:
            break
        dim = row["dimension"]
        mask = None
        if dim != "combination":
            if dim not in codes:
                codes[dim] = line_codes(prepared, dim)
            c, labels = codes[dim]
            hit = np.flatnonzero(labels == row["segment"])
            mask = c == (hit[0] if len(hit) else -1)
            explained = _explained_by(row, mask, kept, masks, units, returned)
            mix_rate = np.nan
            if explained is None and products is not None and dim in ORDER_DIMENSIONS:
                mix_rate, p_mix = product_mix(
                    mask, products, units, returned, float(row.get("deff", 1.0)), float(row.get("rest_deff", 1.0))
                )
                if np.isfinite(p_mix) and p_mix > MIX_ALPHA:
                    # the segment returns about what its products return outside it: product mix, not the segment
                    explained = (PRODUCT_MIX, np.nan)
            carry = carried_by(lines, mask, units, returned, clusters) if explained is None else None
            carrier = ""
            if carry is not None:
                row, explained = _without_carrier(row, carry, prepared.outcome)
                if explained is not None:  # (ONE_ORDER, the rate without the carrier)
                    carrier, mix_rate = carry.who, explained[1]
                    explained = (ONE_ORDER, np.nan)
            if explained is not None:
                dropped.append(
                    {
                        "dimension": dim,
                        "segment": row["segment"],
                        "explained_by": explained[0],
                        "residual_share": explained[1],
                        "mix_rate": mix_rate,
                        "carrier": carrier,
                    }
                )
                continue
        kept.append(row)
        masks.append(mask)
    if not kept:
        return empty, pd.DataFrame(dropped, columns=dropped_cols)
    out_rows: list = []
    rcache: dict = {}
    for rank, row in enumerate(kept, start=1):
        rr = _returns_for(prepared, returns, row, rcache)
        mix = reason_mix(rr)
        refund, exchange = _resolution_shares(rr)
        top = dominant_reason(mix)
        comments = example_comments(rr, top)
        top3 = [f"{reason_label(k)} ({v:.0%})" for k, v in list(mix.items())[:3]]
        out_rows.append(
            {
                "rank": rank,
                "dimension": row["dimension"],
                "segment": row["segment"],
                "label": row.get("label", row["segment"]),
                "n": int(row["n"]),
                "returned": int(row["returned"]),
                "return_rate": float(row["return_rate"]),
                "baseline_rate": float(row["baseline_rate"]),
                "ci_low": float(row["ci_low"]),
                "ci_high": float(row["ci_high"]),
                "shrunk_rate": float(row["shrunk_rate"]),
                "excess_returns": float(row["excess_returns"]),
                "excess_cost": float(row["excess_cost"]),
                "conservative_excess_cost": float(row["conservative_excess_cost"]),
                "priority_score": float(row["priority_score"]),
                "q_value": float(row["q_value"]),
                "why": why_sentence(row, mix, refund, comments, prepared.outcome),
                "suggested_action": suggested_action(mix, refund, row["dimension"], row["segment"], prepared.outcome),
                "top_reason": top,
                "top_reasons": top3,
                "reason_mix": mix,
                "refund_share": refund,
                "exchange_share": exchange,
                "example_comments": comments,
                "reference": row.get("reference") if row["dimension"] != "combination" else "parts",
            }
        )
    return order_rows(pd.DataFrame(out_rows, columns=FIX_COLUMNS)), pd.DataFrame(dropped, columns=dropped_cols)
