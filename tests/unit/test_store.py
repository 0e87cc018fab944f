"""Store: isolation between instances, named queries, identifier quoting, readable errors."""

import pandas as pd
import pytest

from data.errors import StoreError
from data.store import Store, quote_ident

LINES = pd.DataFrame(
    {
        "order_id": ["1", "1", "2", "3"],
        "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-20", "2024-02-03"]),
        "quantity": [1, 2, 3, 4],
        "returned_units": [0, 1, 0, 2],
        'size "EU"': ["M", None, "L", "M"],
    }
)


def test_two_stores_never_see_each_others_tables():
    a, b = Store(), Store()
    a.load("lines", LINES)
    assert a.tables() == ["lines"] and b.tables() == []
    with pytest.raises(StoreError) as err:
        b.query("summary", table="lines")
    assert err.value.title == "Table or column not found"


def test_named_queries_match_pandas():
    s = Store()
    s.load("lines", LINES)
    summ = s.query("summary", table="lines").iloc[0]
    # independent: plain pandas on the same frame
    assert (summ["rows"], summ["orders"], summ["units"]) == (
        len(LINES),
        LINES["order_id"].nunique(),
        LINES["quantity"].sum(),
    )
    assert summ["first_date"] == LINES["order_date"].min() and summ["last_date"] == LINES["order_date"].max()
    m = s.query("monthly_units", table="lines")
    exp = LINES.groupby(LINES["order_date"].dt.to_period("M").dt.start_time)[["quantity", "returned_units"]].sum()
    assert (
        m["units"].tolist() == exp["quantity"].tolist()
        and m["returned_units"].tolist() == exp["returned_units"].tolist()
    )
    assert s.query("distinct_values", table="lines", column='size "EU"')["value"].tolist() == ["L", "M"]
    got = s.query("rows_between", table="lines", start=pd.Timestamp("2024-01-15"), end=pd.Timestamp("2024-02-01"))
    assert got["order_id"].tolist() == ["2"]


def test_quote_ident_and_bad_arguments():
    assert quote_ident('a"b') == '"a""b"'
    with pytest.raises(ValueError):
        quote_ident("")
    s = Store()
    with pytest.raises(ValueError, match="Unknown query"):
        s.query("drop everything")
    with pytest.raises(ValueError, match="needs identifier"):
        s.query("summary")
    # an injected name is just a (missing) table name, never SQL
    with pytest.raises(StoreError):
        s.query("summary", table='x"; DROP TABLE lines; --')
