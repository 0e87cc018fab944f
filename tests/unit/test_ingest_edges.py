"""Edge cases found in review: signs and sizes of quantities, and files where nothing is usable.

Expected counts are read off the small files written here."""

import pytest

from data.errors import InputError
from data.ingest import SourceFile, load_dataset

ORDERS = """order_id,order_date,sku,quantity,unit_price
O1,2024-01-01,A,1,10
O2,2024-01-02,B,2,5
O3,2024-01-03,C,0,5
O4,2024-01-04,D,-3,5
O5,2024-01-05,E,1e400,5
O6,2024-01-06,F,99999999999999999999999,5
O7,2024-01-07,G,3,5
"""


def _files(orders: str, returns: str | None = None):
    files = [SourceFile("orders.csv", orders.encode(), "orders")]
    if returns is not None:
        files.append(SourceFile("returns.csv", returns.encode(), "returns"))
    return files


def test_unusable_quantities_are_rejected_with_reasons_and_counts_reconcile():
    ds = load_dataset(_files(ORDERS))
    f = ds.files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (7, 3, 4)
    assert set(ds.orders["order_id"]) == {"O1", "O2", "O7"}
    reasons = dict(zip(ds.rejected["row"], ds.rejected["reason"]))
    assert "zero or negative" in reasons[3] and "zero or negative" in reasons[4]
    assert "Unreadable number" in reasons[5] and "Unreadable number" in reasons[6]
    titles = " ".join(p.title for p in ds.problems)
    assert "Zero or negative quantity in 'quantity'" in titles


def test_negative_return_quantities_count_as_returned_units():
    returns = "order_id,sku,quantity\nO2,B,-2\nO7,G,-1\n"
    ds = load_dataset(_files(ORDERS, returns))
    assert ds.returns.set_index("order_id")["quantity"].to_dict() == {"O2": 2, "O7": 1}
    assert any("Negative quantities" in n for n in ds.notes + tuple(n for f in ds.files for n in f.notes))


def test_a_file_with_no_usable_order_line_is_an_error_not_an_empty_dashboard():
    bad = "order_id,order_date,sku\nO1,not a date,A\nO2,sometime,B\n"
    with pytest.raises(InputError) as e:
        load_dataset(_files(bad))
    assert e.value.title == "No usable order lines"
    assert "date" in e.value.message.lower()
    assert e.value.problems and e.value.problems[0].column == "order_date"
