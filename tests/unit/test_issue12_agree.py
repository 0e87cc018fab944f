"""Fix list, briefs and interventions agree (issue 12): a segment with a logged change is judged on the orders
placed since it, briefs never advise what is already in place or what does not fit the segment type, and the
"at least" ordering is consistent."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import briefs as B
from analysis.engine import Settings, analyse
from analysis.fixlist import ACTIONS, order_rows
from analysis.interventions import change_themes, evaluate_all, judge_fix_list, with_changes_judged
from analysis.prepare import Filters, filter_prepared, prepare
from analysis.segments import segment_table
from data.demo import generate_dataset


@pytest.fixture(scope="module")
def demo():
    ds = generate_dataset(seed=7)  # the dashboard's demo
    p = prepare(ds)
    return ds, p, analyse(p, Settings(), briefs=False)


def test_hiking_jackets_is_judged_after_its_fit_guide_and_taken_off(demo):
    ds, p, an = demo
    assert "Hiking Jackets" in set(an.fix_list["segment"])  # on all data it returns more (the premise)
    judged = with_changes_judged(an, p, ds.interventions)
    assert "Hiking Jackets" not in set(judged.fix_list["segment"])
    assert list(judged.fix_list["rank"]) == list(range(1, len(judged.fix_list) + 1))
    a = judged.addressed.set_index("segment").loc["Hiking Jackets"]
    # independent: the same comparison on the orders placed since 01 Apr 2026
    after = (
        segment_table(
            filter_prepared(p, Filters(date_from=pd.Timestamp("2026-04-01"))),
            "collection",
            cost_per_return=an.cost_per_return,
        )
        .set_index("segment")
        .loc["Hiking Jackets"]
    )
    assert a["after_rate"] == pytest.approx(after["return_rate"]) and a["after_verdict"] == after["verdict"]
    assert a["sentence"].startswith(
        "Since 01 Apr 2026 (Fit guide video and size advice on product pages), "
        f"Hiking Jackets returns {after['return_rate']:.1%} vs {after['baseline_rate']:.1%}"
    )
    # the Interventions page's own verdict travels with it
    ev = [r for r in evaluate_all(p, ds.interventions) if r["segment"] == "Hiking Jackets"][0]
    assert a["intervention_verdict"] == ev["verdict"] and "fell" in ev["verdict"]
    assert a["sentence"] in judged.notes


def test_a_change_already_in_place_is_not_advised_again(demo):
    ds, p, an = demo
    # a size-advice change for Linen Shirts early in the data: Linen Shirts still runs small after it
    iv = pd.DataFrame(
        {
            "dimension": ["collection"],
            "segment": ["Linen Shirts"],
            "start_date": ["2025-07-01"],
            "description": ["Size advice on the product page"],
        }
    )
    j = judge_fix_list(p, an.fix_list, iv, cost_per_return=an.cost_per_return)
    row = j.fix_list.set_index("segment").loc["Linen Shirts"]
    assert row["why"].startswith("Since 01 Jul 2025 (Size advice on the product page): still returns")
    assert row["suggested_action"].startswith("A change covering this is already in place since 01 Jul 2025")
    assert not row["suggested_action"].startswith(ACTIONS["size"])
    md = B.brief_markdown({**row.to_dict(), "segment": "Linen Shirts"}, p)
    assert "Already in place since 01 Jul 2025" in md
    assert "### Fit advice" not in md and "Fit and size advice is already in place" in md


def test_change_themes_from_descriptions():
    assert change_themes("Fit guide video and size advice on product pages") == {"fit"}
    assert change_themes("Quick-start guide in the box") == {"setup"}
    assert change_themes("New true-colour photos") == {"expectation"}
    assert change_themes(None) == frozenset()


def test_briefs_fit_the_segment_type(demo):
    ds, p, an = demo
    row = an.fix_list[an.fix_list["segment"] == "bracketing"].iloc[0].to_dict()
    md = B.brief_markdown(row, p)
    # customers who bracket kept one size: no exchange for another size, no "complete the set" for an intent
    assert "exchange for another size" not in md and "exchange **for another size**" not in md
    assert "Pairs well with" not in md and "complete the set" not in md
    md = B.brief_markdown({"dimension": "customer_type", "segment": "first"}, p)
    assert "Pairs well with" not in md and "complete the set" not in md
    # a collection still gets its pairing suggestion
    assert "Pairs well with" in B.brief_markdown({"dimension": "collection", "segment": "Linen Shirts"}, p)


def test_brief_and_action_agree_when_no_reason_is_recorded():
    from tests.unit.test_reasons_analysis import dataset_from_rows, shop_rows
    from analysis.fixlist import suggested_action

    o, r = shop_rows(with_reasons=False)
    bare = prepare(dataset_from_rows(o, r))
    action = suggested_action({}, float("nan"), "collection", "Linen Shirts")
    assert "product page" not in action and action.startswith("Collect a return reason")
    md = B.brief_markdown({"dimension": "collection", "segment": "Linen Shirts", "suggested_action": action}, bare)
    assert "guidance is unlikely to be the main lever" not in md
    assert "No return reason is recorded for these returns" in md
    assert "**Fix list action:** Collect a return reason" in md


def test_at_least_zero_never_ranks_above_a_positive_at_least():
    fl = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "segment": ["a", "b", "c"],
            "priority_score": [900.0, 500.0, 100.0],
            "conservative_excess_cost": [0.0, 10_662.0, 50.0],
        }
    )
    out = order_rows(fl)
    assert list(out["segment"]) == ["b", "c", "a"] and list(out["rank"]) == [1, 2, 3]


def test_demo_fix_list_at_least_is_ordered(demo):
    _, _, an = demo
    pos = (an.fix_list["conservative_excess_cost"] > 0).to_list()
    assert pos == sorted(pos, reverse=True)  # every positive "at least" before any zero
    assert (an.fix_list["ci_low"] > an.fix_list["baseline_rate"]).all()  # intervals clear the comparison


def test_brief_states_the_same_at_least_as_the_fix_list(demo):
    _, p, an = demo
    row = an.fix_list.iloc[0].to_dict()
    md = B.brief_markdown(row, p)
    assert f"(at least {row['conservative_excess_cost']:,.0f}, as on the Fix list)" in md
