"""One-page guidance briefs for fix-list items.

A brief answers four questions for one segment of the fix list (analysis.engine): what goes wrong
(return rate with its Wilson interval against the baseline, reason mix, customers' own words, sizes
involved), what to tell customers before and after purchase (guidance themes drawn from the dominant
*preventable* reasons), which alternative to offer instead of a refund (exchange targets, items that
pair well), and what to monitor (today's rate, a target that halves the excess over baseline, and the
units/orders needed to detect that change with 80 % power at two-sided alpha 0.05, from
analysis.stats.power_two_proportions = statsmodels ``NormalIndPower`` on Cohen's h, times the design
effect when the fix row carries one; METHOD 9.4).

All user text (segment names, comments, product and size names) is escaped for Markdown in
brief_markdown and for HTML (html.escape) in brief_html.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, SupportsFloat

import pandas as pd

from analysis import reasons as R
from analysis import stats
from analysis.fixlist import carrier_words
from analysis.pairs import with_pair_scope
from analysis.prepare import DIMENSION_LABELS, LINE_DIMENSIONS, Prepared
from data.reasons import category_label

if TYPE_CHECKING:  # engine imports this module
    from analysis.engine import Analysis

# When returns split evenly between too small and too large, a direction would be wrong half the time.
SIZES_BOTH_WAYS = (
    "Fit advice and size recommendation",
    "Returns go both ways (too small and too large), so a 'runs small/large' note would mislead: show garment "
    "measurements, a size recommender and fit reviews so customers pick one size.",
    "Offer a free exchange for another size before a refund.",
)

# Guidance themes per preventable reason: (theme, before purchase, after purchase).
GUIDANCE: dict[str, tuple[str, str, str]] = {
    "size_too_small": (
        "Fit advice and size recommendation",
        "Say plainly that it runs small and recommend one size up in the size picker; show garment "
        "measurements and the model's height and size.",
        "Offer a free exchange one size up before a refund; remind buyers of the size advice in the "
        "order confirmation.",
    ),
    "size_too_large": (
        "Fit advice and size recommendation",
        "Say plainly that it runs large and recommend one size down; show garment measurements and how "
        "it fits on the model.",
        "Offer a free exchange one size down before a refund.",
    ),
    "fit_other": (
        "Fit advice",
        "Describe the cut (slim, relaxed, length, stretch) with measurements and a 'fits like' comparison.",
        "Offer an exchange into another size or fit; link the fit guide in the delivery email.",
    ),
    "not_as_described": (
        "Expectation setting in photos and copy",
        "Use true-to-life photos (daylight, on model, close-ups of material), add a short video, and state "
        "dimensions, materials and what is included.",
        "Ask for a photo with the return request to learn which claim misled, then fix that claim.",
    ),
    "colour_style": (
        "Expectation setting in photos and copy",
        "Show the colour in daylight and on a neutral background, add colour-accurate swatches and name "
        "the shade precisely.",
        "Offer an exchange into another colour before a refund.",
    ),
    "quality": (
        "Expectation setting and care",
        "State fabric weight, composition and finish honestly; show close-ups; set expectations on "
        "thickness and transparency.",
        "Send care instructions after delivery; pass recurring defects to the supplier.",
    ),
    "setup_confusion": (
        "Setup steps",
        "List what is needed (compatibility, app, hub, tools) and show the setup steps and a short video "
        "on the product page.",
        "Send a quick-start guide and video the day it is delivered; put a QR code to the guide in the "
        "box; offer setup help before a return.",
    ),
}
# Customers who bracket (order the same item in several sizes) keep the size that fits: an exchange for another
# size does not apply to them; the lever is ordering one size.
BRACKETING = (
    "One size per order",
    "Recommend one size with a size recommender, garment measurements and fit reviews, and point out in the basket "
    "when the same item is there in more than one size.",
    "Ask which size fitted when the extra sizes come back, to sharpen the size recommendation for the next customer.",
)
# The theme of analysis.interventions.CHANGE_THEMES each guidance reason belongs to: a theme a logged change
# already covers is not advised again.
GUIDANCE_THEME = {
    "size_too_small": "fit",
    "size_too_large": "fit",
    "fit_other": "fit",
    "setup_confusion": "setup",
    "not_as_described": "expectation",
    "colour_style": "expectation",
    "quality": "care",
}
# Items that "pair well" are suggestions for products and collections, not for sizes or customer types.
PAIRING_DIMENSIONS = ("collection", "category", "product")

OPERATIONAL_NOTE = {
    "defective": "Defects: check the batch with quality control and the supplier.",
    "damaged_in_transit": "Transit damage: review packaging and the carrier.",
    "wrong_item": "Wrong item sent: review picking and labelling in the warehouse.",
    "late_or_not_delivered": "Late delivery: review carrier promises and dispatch times.",
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")


def md_escape(text: object) -> str:
    """Backslash-escape Markdown/HTML-significant characters of user text (CommonMark escapes)."""
    s = R.clean_comment(text, max_chars=10_000)
    return _MD_SPECIAL.sub(r"\\\1", s)


def _pct(x: SupportsFloat | str | None, digits: int = 1) -> str:
    if x is None:
        return "n/a"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{100 * v:.{digits}f}%"


def _num(x: SupportsFloat | str | None) -> float:
    if x is None:
        return math.nan
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def _money(x: SupportsFloat | str | None) -> str:
    v = _num(x)
    return "n/a" if not math.isfinite(v) else f"{v:,.0f}"


def _segment_lines(prepared: Prepared, dimension: str, segment: object) -> pd.DataFrame:
    L = prepared.mature_lines
    if dimension not in L.columns:
        return L.iloc[0:0]
    return L[(L[dimension].astype("string") == str(segment)).fillna(False)]


def segment_counts(prepared: Prepared, dimension: str, segment: object) -> tuple[float, float, float, float]:
    """(returned, sold, rest returned, rest sold) over matured data: units for line dimensions, orders
    (with any return / orders) for order-level dimensions such as journey or intent."""
    if dimension in LINE_DIMENSIONS:
        L = prepared.mature_lines
        m = (L[dimension].astype("string") == str(segment)).fillna(False)
        x, n = float(L.loc[m, "returned_units"].sum()), float(L.loc[m, "quantity"].sum())
        return x, n, float(L["returned_units"].sum()) - x, float(L["quantity"].sum()) - n
    O = prepared.mature_orders
    if dimension not in O.columns:
        return math.nan, math.nan, math.nan, math.nan
    m = (O[dimension].astype("string") == str(segment)).fillna(False)
    x, n = float(O.loc[m, "any_return"].sum()), float(m.sum())
    return x, n, float(O["any_return"].sum()) - x, float(len(O)) - n


@dataclass(frozen=True, slots=True)
class MonitorPlan:
    """What to monitor for a segment and how much data proves a change.

    metric: the rate watched; p_now: its current value; baseline: the rest-of-population rate;
    p_target: the aimed rate (baseline + half the excess; or 10 % lower when not above baseline);
    units_needed: units per period-arm for 80 % power at two-sided alpha 0.05 (x deff);
    orders_needed: the same in orders (units / units per order of the segment); months_needed: at the
    segment's matured monthly volume; deff: design effect applied.
    """

    metric: str
    p_now: float
    baseline: float
    p_target: float
    units_needed: float
    orders_needed: float
    months_needed: float
    deff: float
    alpha: float = 0.05
    power: float = 0.8


def monitoring_plan(
    fix_row: Mapping, prepared: Prepared, *, alpha: float = 0.05, power: float = 0.8, reduction: float = 0.5
) -> MonitorPlan:
    """Target = halve the excess over baseline (``reduction`` of it); sample size from
    analysis.stats.power_two_proportions(p_now, p_target, alpha, power, deff=deff)."""
    if not 0 < reduction <= 1:
        raise ValueError(f"reduction must be in (0, 1] (got {reduction}).")
    dim, seg = str(fix_row.get("dimension", "")), fix_row.get("segment")
    if dim == "combination":
        prepared = with_pair_scope(prepared, str(seg))
    seg_lines = _segment_lines(prepared, dim, seg)
    by_orders = prepared.rate_columns(dim)[1] == "order_n"  # order refunds: the rate counts orders
    if by_orders:
        units = float(seg_lines["order_id"].nunique()) if len(seg_lines) else math.nan
    else:
        units = float(seg_lines["quantity"].sum()) if len(seg_lines) else math.nan
    p_now = _num(fix_row.get("return_rate"))
    baseline = _num(fix_row.get("baseline_rate"))
    if not (math.isfinite(p_now) and math.isfinite(baseline)):
        x, n_, xr, nr = segment_counts(prepared, dim, seg)
        if not math.isfinite(p_now) and n_ > 0:
            p_now = x / n_
        if not math.isfinite(baseline) and nr > 0:
            baseline = xr / nr
    deff = _num(fix_row.get("deff", 1.0))
    deff = deff if math.isfinite(deff) and deff >= 1 else 1.0
    order_level = dim not in LINE_DIMENSIONS
    # the fix list's rate is the share of units returned for every dimension (orders are the unit of
    # analysis for order-level dimensions, not the metric), so the plan counts units for all of them
    metric = (
        "order refund rate (orders with a customer refund / orders)"
        if by_orders
        else "refund rate of units, refunds attributed to items (refunded units / units sold)"
        if prepared.outcome == "order_refund"
        else "unit return rate of these orders (returned units / units sold)"
        if order_level
        else "unit return rate (returned units / units sold)"
    )
    if math.isfinite(baseline) and math.isfinite(p_now) and p_now > baseline:
        p_target = p_now - reduction * (p_now - baseline)
    else:
        p_target = p_now * 0.9
    n = math.nan
    if 0 < p_now < 1 and 0 < p_target < 1 and p_now != p_target:
        n = stats.power_two_proportions(p_now, p_target, alpha=alpha, power=power, deff=deff)
    per_order = math.nan
    months = math.nan
    if len(seg_lines):
        n_orders = seg_lines["order_id"].nunique()
        per_order = units / n_orders
        n_months = max(seg_lines["month"].nunique(), 1)
        per_month = units / n_months
        months = n / per_month if per_month > 0 else math.nan
    orders = n / per_order if per_order and math.isfinite(per_order) else math.nan
    return MonitorPlan(metric, p_now, baseline, p_target, n, orders, months, deff, alpha, power)


def _lines(items: Iterable[str]) -> str:
    return "\n".join(items)


def brief_markdown(fix_row: Mapping, prepared: Prepared, *, analysis: Analysis | None = None) -> str:
    """One-page Markdown brief for one fix-list row (columns of analysis.engine's fix_list; only
    dimension and segment are required, the rest is recomputed when absent).

    Sections: what goes wrong; what to tell customers before and after purchase; what to offer instead
    of a refund; what to monitor (see :func:`monitoring_plan`). User text is Markdown-escaped.
    """
    if "dimension" not in fix_row or "segment" not in fix_row:
        raise ValueError("fix_row needs at least 'dimension' and 'segment'.")
    dim, seg = str(fix_row["dimension"]), fix_row["segment"]
    if dim == "combination":
        prepared = with_pair_scope(prepared, str(seg))
    dim_label = DIMENSION_LABELS.get(dim, dim)
    label = fix_row.get("label") or seg
    rank = fix_row.get("rank")
    out: list[str] = []
    head = f"# Brief {int(rank)}: " if rank is not None and math.isfinite(_num(rank)) else "# Brief: "
    out.append(head + f"{md_escape(label)} ({md_escape(dim_label)})")
    out.append("")

    # ---- what goes wrong
    out.append("## What goes wrong")
    in_place = _themes_in_place(fix_row)
    change_start = pd.to_datetime(fix_row.get("change_start"), errors="coerce") if "change_start" in fix_row else pd.NaT
    if pd.notna(change_start):
        # judged on the data after the change, like the fix list row (analysis.interventions.judge_fix_list)
        from analysis.prepare import Filters, filter_prepared

        prepared = filter_prepared(prepared, Filters(date_from=pd.Timestamp(change_start)))
        desc = str(fix_row.get("change_description") or "a change")
        out.append(
            f"- Already in place since {change_start:%d %b %Y}: {md_escape(desc)}. Everything in this brief "
            "is for the orders placed since then."
        )
    rate, base = _num(fix_row.get("return_rate")), _num(fix_row.get("baseline_rate"))
    lo, hi = _num(fix_row.get("ci_low")), _num(fix_row.get("ci_high"))
    if not (math.isfinite(rate) and math.isfinite(base)):
        x, n, xr, nr = segment_counts(prepared, dim, seg)
        if not math.isfinite(rate) and n > 0:
            rate = x / n
            lo, hi = (float(v) for v in stats.wilson_interval(x, n))
        if not math.isfinite(base) and nr > 0:
            base = xr / nr
    refunds = prepared.outcome == "order_refund"
    by_orders = prepared.rate_columns(dim)[1] == "order_n"
    rate_name = (
        ("Order refund rate" if by_orders else "Refund rate of units (attributed)") if refunds else "Return rate"
    )
    out.append(
        f"- {rate_name} **{_pct(rate)}** (95% interval {_pct(lo)} to {_pct(hi)}) against **{_pct(base)}** for the rest."
    )
    # the fix list's "why" repeats that rate and the reasons and refunds below; what it adds is the order or customer
    # that carries the row (analysis.fixlist.carried_by), whose figures the excess below leaves out
    carried = carrier_words(fix_row.get("why"))
    if carried:
        out.append(f"- {md_escape(carried[0].upper() + carried[1:])}.")
    exc, cost = _num(fix_row.get("excess_returns")), _num(fix_row.get("excess_cost"))
    if math.isfinite(exc):
        least = _num(fix_row.get("conservative_excess_cost"))
        noun = ("refunded orders" if by_orders else "refunded units") if refunds else "returns"
        out.append(
            f"- About **{exc:,.0f}** {noun} more than the baseline rate would give"
            + (f", costing about **{_money(cost)}**" if math.isfinite(cost) else "")
            + (
                f" (at least {_money(least)}, as on the Fix list)."
                if math.isfinite(least) and least > 0 and math.isfinite(cost)
                else "."
            )
        )
    q = _num(fix_row.get("q_value"))
    if math.isfinite(q):
        # plain words first; the method term (false-discovery-adjusted q) is in the Fix list's "How this was decided"
        q_text = "q < 0.0001" if q < 0.0001 else f"q = {q:.2g}"
        out.append(
            f"- Very unlikely to be chance, even allowing for every segment compared ({q_text})."
            if q < 0.01
            else f"- Unlikely to be chance once every segment compared is allowed for ({q_text})."
        )

    mix = R.reason_mix(prepared, dim, seg)
    dominant_prev = mix.dominant_preventable
    if mix.message:
        out.append(f"- Reasons: {md_escape(mix.message)}")
    else:
        vs = R.reasons_vs_rest(prepared, dim)
        rest = {}
        if len(vs):
            s = vs[vs["segment"] == str(seg)]
            rest = dict(zip(s["reason_category"], s["rest_share"]))
        out.append("")
        out.append("| Reason | Share of returns | Share elsewhere | Who can act |")
        out.append("|---|---|---|---|")
        for row in mix.table.head(6).itertuples(index=False):
            who = {
                "preventable": "guidance",
                "operational": "operations",
                "customer_choice": "customer",
                "unknown": "-",
            }.get(row.group, "-")
            out.append(f"| {row.label} | {_pct(row.share)} | {_pct(rest.get(row.reason_category))} | {who} |")
        out.append("")
        out.append(f"- {_pct(mix.preventable_share, 0)} of these returns have a reason that guidance can prevent.")
    comments = R.example_comments(prepared, dim, seg, category=dominant_prev, k=3)
    if len(comments) < 3:
        comments += [c for c in R.example_comments(prepared, dim, seg, k=5) if c not in comments][: 3 - len(comments)]
    if comments:
        out.append("")
        out.append("In customers' words:")
        out.append("")
        for c in comments:
            out.append(f"> \u201c{md_escape(c)}\u201d")
            out.append("")
    sizes = R.sizes_involved(prepared, dim, seg, k=5) if dim != "size" else pd.DataFrame()
    if len(sizes):
        parts = [
            f"{md_escape(s)} {_pct(sh, 0)} ({md_escape(category_label(str(t)))})"
            for s, sh, t in zip(sizes["size"], sizes["share"], sizes["top_reason"])
        ]
        out.append(f"- Sizes returned: {', '.join(parts)}.")
    out.append("")

    # ---- what to tell customers
    out.append("## What to tell customers")
    action = fix_row.get("suggested_action")
    if isinstance(action, str) and action.strip():
        out.append(f"- **Fix list action:** {md_escape(action)}")
    bracketing = dim == "intent" and str(seg) == "bracketing"
    prev = mix.table[mix.table["group"] == "preventable"] if len(mix.table) else mix.table
    share_of = dict(zip(mix.table["reason_category"], mix.table["share"])) if len(mix.table) else {}
    small, large = share_of.get("size_too_small", 0.0), share_of.get("size_too_large", 0.0)
    sizes_both_ways = min(small, large) >= 0.10 and max(small, large) < 1.5 * min(small, large)
    themes_done: set[str | tuple[str, str]] = set()
    shown = 0
    for row in prev.itertuples(index=False):
        if row.share < 0.10 and shown:
            break
        g = GUIDANCE.get(row.reason_category)
        if sizes_both_ways and row.reason_category in ("size_too_small", "size_too_large"):
            g = SIZES_BOTH_WAYS
        if bracketing and GUIDANCE_THEME.get(row.reason_category) == "fit":
            g = BRACKETING
        if GUIDANCE_THEME.get(row.reason_category) in in_place:
            themes_done.add(("in place", GUIDANCE_THEME[row.reason_category]))
            continue
        if g is None or g[0] in themes_done:
            continue
        themes_done.add(g[0])
        shown += 1
        out.append(f"### {g[0]} ({row.label.lower()}, {_pct(row.share, 0)} of returns)")
        out.append(f"- **Before purchase:** {g[1]}")
        out.append(f"- **After purchase:** {g[2]}")
        if shown >= 3:
            break
    for theme in sorted(in_place):
        if ("in place", theme) in themes_done:
            out.append(
                f"- {THEME_WORDS.get(theme, theme).capitalize()} is already in place (see above): not advised "
                "again here."
            )
    if not shown and mix.message:
        out.append(
            "- No return reason is recorded for these returns, so which guidance would prevent them cannot be "
            "told yet: ask for a reason in the returns form."
        )
    elif not shown and not in_place:
        out.append("- No preventable reason dominates; guidance is unlikely to be the main lever here.")
    for cat, note in OPERATIONAL_NOTE.items():
        share = (
            mix.table.loc[mix.table["reason_category"] == cat, "share"] if len(mix.table) else pd.Series(dtype=float)
        )
        if len(share) and float(share.iloc[0]) >= 0.15:
            out.append(f"- {note} ({_pct(float(share.iloc[0]), 0)} of returns)")
    out.append("")

    # ---- alternatives
    out.append("## What to offer instead of a refund")
    offered = False
    products = _products_of(prepared, dim, seg)
    ex = R.exchange_targets(prepared, top=None)
    if len(ex):
        ex = ex[ex["product"].isin(products)]
    if bracketing:
        out.append(
            "- These customers already kept the size that fitted, so an exchange offer does not apply: "
            "the saving comes from ordering one size in the first place."
        )
        ex = ex.iloc[0:0]
        offered = True
    if len(ex):
        kinds = ex.groupby("kind")["exchanges"].sum().sort_values(ascending=False)
        total = kinds.sum()
        desc = ", ".join(f"{R.EXCHANGE_KINDS[k].lower()} {_pct(v / total, 0)}" for k, v in kinds.head(3).items())
        out.append(f"- When customers exchanged these products (in any order), they chose: {desc}.")
        top = kinds.index[0]
        up, down = float(kinds.get("size_up", 0)), float(kinds.get("size_down", 0))
        if top in ("size_up", "size_down") and max(up, down) < 1.5 * min(up, down):
            out.append(
                "- Offer a one-click exchange **for another size** in the returns flow (exchanges go both ways)."
            )
        elif top == "size_up":
            out.append("- Offer a one-click exchange **one size up** in the returns flow.")
        elif top == "size_down":
            out.append("- Offer a one-click exchange **one size down** in the returns flow.")
        elif top == "other_colour":
            out.append("- Offer the **same item in another colour** in the returns flow.")
        elif top == "other_product":
            best = ex[ex["kind"] == "other_product"].groupby("target_product")["exchanges"].sum().idxmax()
            out.append(f"- Offer **{md_escape(best)}** as the alternative in the returns flow.")
        offered = True
    res = R.resolution_by_segment(prepared, dim)
    if res.empty and res.attrs.get("message"):
        out.append(f"- {md_escape(res.attrs['message'])}")
    if len(res):
        r = res[res["segment"] == str(seg)]
        if len(r):
            r = r.iloc[0]
            out.append(
                f"- Today {_pct(r['refund_share'], 0)} of these returns are refunded, "
                f"{_pct(r['exchange_share'], 0)} exchanged and {_pct(r['store_credit_share'], 0)} "
                f"kept as store credit (revenue kept: {_money(r['saved_revenue'])})."
            )
            if bool(r["refund_though_exchange_plausible"]) and not bracketing:
                out.append(
                    f"- {r['size_refunds']:,.0f} size returns were refunded although an exchange was "
                    "plausible: prompt the exchange first."
                )
            offered = True
    if dim in PAIRING_DIMENSIONS and dim in prepared.lines.columns:
        by = "collection" if prepared.has("collection") else "product"
        try:
            cs = R.complete_the_set(prepared, dim, seg, by=by)
        except ValueError:
            cs = pd.DataFrame()
        good = cs[cs["pairs_well"].astype(bool)] if len(cs) else cs
        if len(good):
            parts = [
                f"{md_escape(i)} (returns {_pct(a)} vs {_pct(b)} without)"
                for i, a, b in zip(good["item"].head(3), good["rate_with"], good["rate_without"])
            ]
            out.append(f"- Pairs well with: {'; '.join(parts)}. Suggest these as 'complete the set'.")
            offered = True
    if not offered and not res.attrs.get("message"):
        out.append("- No exchanges, resolutions or helpful pairings were found for this segment.")
    out.append("")

    # ---- monitor
    out.append("## What to monitor")
    plan = monitoring_plan(fix_row, prepared)
    out.append(f"- Metric: {plan.metric}. Today: **{_pct(plan.p_now)}**; baseline {_pct(plan.baseline)}.")
    if math.isfinite(plan.units_needed):
        # the plan counts units (orders where the outcome is the order refund; see monitoring_plan)
        unit_word = "orders" if prepared.rate_columns(dim)[1] == "order_n" else "units"
        aim = (
            "half the excess over baseline removed"
            if math.isfinite(plan.baseline) and plan.p_now > plan.baseline
            else "10% lower than today"
        )
        out.append(f"- Aim for **{_pct(plan.p_target)}** ({aim}).")
        out.append(
            "- To see that change reliably (8 times in 10, at the usual 5% level"
            + (", allowing for items of one order coming back together" if plan.deff > 1 else "")
            + f") you need about **{math.ceil(plan.units_needed):,} {unit_word}** {'placed' if unit_word == 'orders' else 'sold'} after the change"
            + (
                f" (about {math.ceil(plan.orders_needed):,} order{'s' if math.ceil(plan.orders_needed) != 1 else ''})"
                if unit_word == "units" and math.isfinite(plan.orders_needed)
                else ""
            )
            + (
                (
                    ", within a month at today's volume."
                    if plan.months_needed < 1
                    else f", roughly {plan.months_needed:.1f} months at today's volume."
                )
                if math.isfinite(plan.months_needed)
                else "."
            )
        )
    else:
        out.append("- Too little data to size a test for this segment.")
    if dominant_prev:
        out.append(
            f"- Also watch the share of '{category_label(dominant_prev).lower()}' among its returns "
            f"(today {_pct(float(mix.table.loc[mix.table['reason_category'] == dominant_prev, 'share'].iloc[0]), 0)})."
        )
    return "\n".join(out).rstrip() + "\n"


THEME_WORDS = {
    "fit": "fit and size advice",
    "setup": "setup guidance",
    "expectation": "photos and copy",
    "care": "care and quality information",
}


def _themes_in_place(fix_row: Mapping) -> frozenset[str]:
    """Guidance themes a logged change for this segment already covers (columns change_themes or
    change_description of the judged fix list, analysis.interventions.judge_fix_list)."""
    themes = fix_row.get("change_themes") if hasattr(fix_row, "get") else None
    if isinstance(themes, (tuple, list, frozenset, set)) and themes:
        return frozenset(str(t) for t in themes)
    desc = fix_row.get("change_description") if hasattr(fix_row, "get") else None
    if isinstance(desc, str) and desc.strip():
        from analysis.interventions import change_themes

        return change_themes(desc)
    return frozenset()


def _products_of(prepared: Prepared, dimension: str, segment: object) -> list[str]:
    L = prepared.lines
    if dimension not in L.columns:
        return []
    m = (L[dimension].astype("string") == str(segment)).fillna(False)
    return [str(p) for p in pd.unique(L.loc[m, "product"].dropna())]


# ---------------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------------

PRINT_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:46rem;margin:1.5rem auto;color:#222;
font-size:11pt;line-height:1.4}
h1{font-size:1.5em;margin:0 0 .5em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.2em}
h3{font-size:1em;margin:.8em 0 .3em}table{border-collapse:collapse;margin:.4em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}blockquote{margin:.3em 0 .3em 1em;color:#555;
font-style:italic}ul{padding-left:1.2em;margin:.3em 0}
@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}h2{page-break-after:avoid}}
""".strip()

_ESC = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~&])")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(md: str) -> str:
    """Inline Markdown (our subset: backslash escapes and **bold**) to HTML; everything escaped."""
    slots: list[str] = []

    def stash(m: re.Match) -> str:
        slots.append(m.group(1))
        return f"\x00{len(slots) - 1}\x00"

    s = _ESC.sub(stash, md)
    s = html.escape(s, quote=True)
    s = _BOLD.sub(r"<strong>\1</strong>", s)
    return re.sub(r"\x00(\d+)\x00", lambda m: html.escape(slots[int(m.group(1))], quote=True), s)


def markdown_to_html(md: str) -> str:
    """Convert the Markdown subset the briefs use (#/##/### headings, '- ' lists, '> ' quotes, pipe
    tables, paragraphs) to HTML body markup. Text is html-escaped; only our own markup becomes tags."""
    out: list[str] = []
    in_list = False
    table: list[list[str]] = []

    def flush_table() -> None:
        nonlocal table
        if table:
            rows = [r for r in table if not all(re.fullmatch(r"-{3,}", c.strip()) for c in r)]
            out.append("<table>")
            for i, r in enumerate(rows):
                tag = "th" if i == 0 else "td"
                out.append("<tr>" + "".join(f"<{tag}>{_inline(c.strip())}</{tag}>" for c in r) + "</tr>")
            out.append("</table>")
            table = []

    for raw in md.splitlines():
        line = raw.rstrip()
        if line.startswith("|") and line.endswith("|") and not line.startswith("\\|"):
            if in_list:
                out.append("</ul>")
                in_list = False
            cells = re.split(r"(?<!\\)\|", line[1:-1])
            table.append(cells)
            continue
        flush_table()
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        m = re.match(r"^(#{1,3}) (.*)$", line)
        if m:
            n = len(m.group(1))
            out.append(f"<h{n}>{_inline(m.group(2))}</h{n}>")
        elif line.startswith("> "):
            out.append(f"<blockquote>{_inline(line[2:])}</blockquote>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    flush_table()
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def html_page(title: str, body_html: str, css: str = PRINT_CSS) -> str:
    """A standalone printable HTML page around already-safe body markup; the title is escaped."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head>\n<body>\n{body_html}\n</body></html>\n"
    )


def brief_html(
    brief: str | Mapping,
    prepared: Prepared | None = None,
    *,
    analysis: Analysis | None = None,
    title: str | None = None,
) -> str:
    """Printable standalone HTML page of a brief: pass the Markdown from :func:`brief_markdown`, or a
    fix-list row plus ``prepared``. All user text is html-escaped."""
    if isinstance(brief, str):
        md = brief
    else:
        if prepared is None:
            raise ValueError("brief_html needs prepared when given a fix-list row.")
        md = brief_markdown(brief, prepared, analysis=analysis)
    first = md.splitlines()[0] if md else ""
    ttl = title or _ESC.sub(r"\1", first.lstrip("# ").strip()) or "Brief"
    return html_page(ttl, markdown_to_html(md))


def briefs_for(analysis: Analysis, prepared: Prepared, *, top: int | None = None) -> dict[int, str]:
    """rank -> Markdown brief for every row of ``analysis.fix_list`` (the first ``top`` rows if given)."""
    fl = getattr(analysis, "fix_list", None)
    if fl is None or len(fl) == 0:
        return {}
    rows = fl if top is None else fl.head(top)
    out: dict[int, str] = {}
    for i, row in enumerate(rows.to_dict("records"), start=1):
        rank = row.get("rank", i)
        rank = int(rank) if rank is not None and math.isfinite(_num(rank)) else i
        out[rank] = brief_markdown(row, prepared, analysis=analysis)
    return out


def one_line(fix_row: Mapping, prepared: Prepared) -> str:
    """A one-sentence plain-text summary of a fix-list item (for the leadership summary)."""
    dim, seg = str(fix_row.get("dimension", "")), fix_row.get("segment")
    mix = R.reason_mix(prepared, dim, seg) if dim in prepared.returns.columns else None
    reason = ""
    if mix is not None and not mix.message and mix.dominant:
        share = float(mix.table.loc[mix.table["reason_category"] == mix.dominant, "share"].iloc[0])
        blank = float(mix.table.loc[mix.table["reason_category"] == "unknown", "share"].sum())
        label = category_label(mix.dominant).lower()
        # as the fix list's 'why' (fixlist.why_sentence): with most returns unexplained, the top reason is said of
        # those with one ("mostly 'size too small' (2%)" read as the cause)
        reason = (
            f"no return reason recorded for {_pct(blank, 0)} of returns; of those with one, mostly '{label}' "
            f"({_pct(share / (1.0 - blank), 0)})"
            if blank > 0.5
            else f"mostly '{label}' ({_pct(share, 0)})"
        )
        g = GUIDANCE.get(mix.dominant)
        if g:
            reason += f"; lever: {g[0].lower()}"
    rate, base = _num(fix_row.get("return_rate")), _num(fix_row.get("baseline_rate"))
    verb = (
        ("refunded" if prepared.rate_columns(dim)[1] == "order_n" else "refunded (units)")
        if prepared.outcome == "order_refund"
        else "returns"
    )
    parts = [f"{verb} {_pct(rate)} vs {_pct(base)}"]
    if reason:
        parts.append(reason)
    return "; ".join(parts) + "."


__all__ = [
    "GUIDANCE",
    "MonitorPlan",
    "monitoring_plan",
    "brief_markdown",
    "brief_html",
    "briefs_for",
    "markdown_to_html",
    "html_page",
    "md_escape",
    "one_line",
    "PRINT_CSS",
]
