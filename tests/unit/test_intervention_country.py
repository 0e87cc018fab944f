"""Interventions logged on "channel" for a country: until a Country column had a role of its own, header matching
read it as the channel, so a change logged then for "Germany" said dimension channel. Such a row is evaluated by
country, says so in its caveats, and gives the numbers of the same row logged under country."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from analysis.interventions import evaluate_all
from analysis.prepare import prepare
from data.demo import generate_dataset


@pytest.fixture(scope="module")
def prepared():
    # the demo's channels become countries, and the data has no channel: a UCI-style export
    ds = generate_dataset(seed=3, n_orders=6000)
    names = {"Web": "Germany", "App": "France", "Marketplace": "Spain"}
    orders = ds.orders.assign(country=ds.orders["channel"].map(names).fillna("Italy"), channel=pd.NA)
    return prepare(dataclasses.replace(ds, orders=orders))


def _log(prepared, dimension: str) -> pd.DataFrame:
    start = prepared.lines["order_date"].quantile(0.4).normalize()  # matured orders on both sides
    return pd.DataFrame({"dimension": [dimension], "segment": ["Germany"], "start_date": [start]})


def test_a_country_logged_as_a_channel_is_evaluated_by_country(prepared):
    assert "channel" not in prepared.lines.columns or prepared.lines["channel"].isna().all()
    (old,) = evaluate_all(prepared, _log(prepared, "channel"))
    (new,) = evaluate_all(prepared, _log(prepared, "country"))
    assert not old["verdict"].startswith(("Unknown", "Cannot"))
    assert any("evaluated by country" in c for c in old["caveats"])
    assert not any("evaluated by country" in c for c in new["caveats"])
    for k in ("rate_before", "rate_after", "diff", "p_value", "did_estimate", "comparison_segments"):
        assert old[k] == new[k], k


def test_a_value_that_is_no_country_either_is_still_unknown(prepared):
    (row,) = evaluate_all(prepared, _log(prepared, "channel").assign(segment=["Nowhere"]))
    assert row["verdict"].startswith("Unknown segment: 'Nowhere' does not occur in channel")
