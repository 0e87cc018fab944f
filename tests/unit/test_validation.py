"""One small bad file per failure mode (tests/data/), one parametrized test on the Problem's title and words,
and the reconciliation rows_read == rows_loaded + rows_rejected for every fixture."""

from datetime import date
from pathlib import Path

import pytest

from data.errors import InputError
from data.ingest import SourceFile, load_dataset
from data.mapping import Mapping

DATA = Path(__file__).resolve().parents[1] / "data"
TODAY = date(2025, 1, 1)
OK = "orders_ok.csv"


def _src(name, role=None):
    return SourceFile(name, (DATA / name).read_bytes(), role=role)


def _load(files, mapping=None):
    return load_dataset([_src(f, r) for f, r in files], mapping, today=TODAY)


# (files with roles, expected title, words in message/examples, raises InputError)
CASES = [
    (
        [("missing_required_column.csv", "orders")],
        "Missing required column 'order_date'",
        ["Columns found: Order ID, SKU, Quantity", "mapping editor"],
        True,
    ),
    ([("empty.csv", "orders")], "Empty file", ["no header"], True),
    ([("returns_over_sold.csv", None)], "No orders file", ["returns_over_sold.csv (returns)"], True),
    (
        [("bad_dates.csv", None)],
        "Unreadable date in 'Order Date'",
        ["2 row(s)", 'row 2: "not a date"', 'row 3: "2024-13-45"'],
        False,
    ),
    (
        [("bad_numbers.csv", None)],
        "Unreadable number in 'Quantity'",
        ["2 row(s)", 'row 1: "one"', 'row 2: "1.5"'],
        False,
    ),
    ([("duplicates.csv", None)], "Duplicate lines", ["1 line(s)", "row 2"], False),
    ([("future_dates.csv", None)], "Dates in the future", ["after 2025-01-01", 'row 2: "2031-01-06"'], False),
    ([("negative_prices.csv", None)], "Negative prices", ["1 line(s)", 'row 1: "-4.0"'], False),
    (
        [(OK, None), ("returns_unknown_order.csv", None)],
        "Returns for unknown orders",
        ["1 return line(s)", 'row 2: "9999"'],
        False,
    ),
    (
        [(OK, None), ("returns_unknown_order.csv", None)],
        "Returned SKU not in its order",
        ["1 return line(s)", 'row 3: "1002"'],
        False,
    ),
    (
        [(OK, None), ("returns_over_sold.csv", None)],
        "More units returned than sold",
        ["order 1002 SKU B: 3 returned, 2 sold"],
        False,
    ),
]


@pytest.mark.parametrize("files,title,words,raises", CASES, ids=[c[1] for c in CASES])
def test_each_failure_mode_reports_its_problem(files, title, words, raises):
    if raises:
        with pytest.raises(InputError) as err:
            _load(files)
        problems = err.value.problems
    else:
        ds = _load(files)
        problems = ds.problems
    hit = [p for p in problems if p.title == title]
    assert hit, f"no problem titled {title!r} in {[p.title for p in problems]}"
    text = hit[0].text()
    for w in words:
        assert w in text
    assert hit[0].fix


@pytest.mark.parametrize(
    "name,title,words",
    [
        (
            "mapping_bad.json",
            "Mapping file has problems",
            ["'order_no' is not a column of orders", "date_format is 'yyyy'"],
        ),
        ("mapping_not_json.json", "Mapping file is not valid JSON", ["not valid JSON"]),
    ],
)
def test_bad_mapping_files(name, title, words):
    with pytest.raises(InputError) as err:
        Mapping.from_json((DATA / name).read_text())
    assert err.value.title == title
    text = " ".join(p.text() for p in err.value.problems)
    for w in words:
        assert w in text


def test_mapping_json_round_trip_and_override():
    m = Mapping(
        tables={"orders": {"order_date": "Order Date", "quantity": "Quantity"}},
        settings={"credit_note_prefix": "CN", "non_merchandise_skus": ["WRAP"], "date_format": "dmy", "decimal": ","},
        reason_overrides={"TOO_SMALL": "size_too_small"},
    )
    back = Mapping.from_json(m.to_json())
    assert back.tables["orders"] == m.tables["orders"] and back.settings == m.settings
    assert back.reason_overrides == m.reason_overrides


def test_mapping_names_a_missing_column():
    m = Mapping(tables={"orders": {"order_date": "Datum"}})
    with pytest.raises(InputError) as err:
        _load([(OK, None)], m)
    assert [p.title for p in err.value.problems] == ["Mapped column 'Datum' not found"]


def test_every_problem_collected_before_raising():
    with pytest.raises(InputError) as err:
        _load([("missing_required_column.csv", "orders"), ("empty.csv", "orders")])
    assert {p.file for p in err.value.problems} == {"missing_required_column.csv", "empty.csv"}


def test_footer_rows_are_rejected_with_reason():
    ds = _load([("footer_total.csv", None)])
    f = ds.files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_rejected) == (4, 2, 2)
    assert ds.rejected["reason"].tolist() == ["footer/total row"] * 2
    assert ds.rejected["row"].tolist() == [3, 4]
    # said as what they are, not as unreadable rows (the CLI read "Rows not used 2: 2 unreadable rows")
    assert ds.rejected["kind"].tolist() == ["not_data"] * 2
    from data.model import rejected_sentence

    assert rejected_sentence(f.rejected_by_kind) == "2 total or footer lines"


LOADABLE = [
    "orders_ok.csv",
    "bad_dates.csv",
    "bad_numbers.csv",
    "duplicates.csv",
    "future_dates.csv",
    "negative_prices.csv",
    "footer_total.csv",
]


@pytest.mark.parametrize("name", LOADABLE)
def test_rows_reconcile_for_every_fixture(name):
    files = [(name, None)] + (
        [(OK, None), ("returns_unknown_order.csv", None), ("returns_over_sold.csv", None)] if name == OK else []
    )
    ds = _load(files)
    for f in ds.files:
        assert f.reconciles, f
        # independent count: data lines in the file (header excluded)
        lines = [ln for ln in (DATA / f.file).read_text().splitlines()[1:] if ln.strip()]
        assert f.rows_read == len(lines)
        assert f.rows_rejected == sum(f.rejected_by_kind.values())
        same = [g for g in ds.files if g.file == f.file]  # the same file given twice: its reports together
        assert sum(g.rows_rejected for g in same) == int((ds.rejected["file"] == f.file).sum())
    if name == OK:  # the second copy of the same orders: every order already loaded, so counted once
        second = [f for f in ds.files if f.file == OK][1]
        assert second.rejected_by_kind == {"overlap": second.rows_read}
    assert len(ds.orders) == sum(f.rows_loaded for f in ds.files if f.role == "orders")


def test_rows_without_a_quantity_count_as_one_unit_and_say_so():
    orders = b"Order,Date,SKU,Qty\nA1,2024-03-01,TEE,2\nA2,2024-03-02,CAP,\nA3,2024-03-03,CAP,1\n"
    returns = b"Order,Date,SKU\nA1,2024-03-10,TEE\nA3,2024-03-11,CAP\n"
    ds = load_dataset([SourceFile("o.csv", orders, "orders"), SourceFile("r.csv", returns, "returns")])
    o, r = ds.files
    # by hand: A2's blank quantity counts 1 (4 units sold); the returns file has no quantity column: 2 units
    assert int(ds.orders["quantity"].sum()) == 4 and int(ds.returns["quantity"].sum()) == 2
    assert "1 row(s) with no 'Qty' count as 1 unit each." in o.notes
    assert "No quantity column: each row counts as 1 unit. Map a quantity column if there is one." in r.notes


def test_duplicate_returns_fix_speaks_of_returns_and_keeps_them():
    # review: a returns file with 40 repeated lines was told 'Remove the repeated lines if they are real separate
    # sales' - of a returns file, and the opposite of the fix for real repeats
    from data.ingest import SourceFile, load_dataset

    orders = b"Order,Date,SKU,Qty,Price\n" + b"".join(
        f"O{i},2024-01-0{1 + i % 9},TEE,2,10\n".encode() for i in range(9)
    )
    returns = b"Order,Return Date,SKU,Qty\nO1,2024-02-01,TEE,1\nO1,2024-02-01,TEE,1\nO2,2024-02-02,TEE,1\n"
    ds = load_dataset([SourceFile("o.csv", orders, "orders"), SourceFile("r.csv", returns, "returns")])
    (p,) = [p for p in ds.problems if p.file == "r.csv" and p.title == "Duplicate lines"]
    assert "separate returns" in p.fix and "sales" not in p.fix and not p.fix.startswith("Remove")


def test_a_returns_file_without_return_dates_says_so_and_what_to_map():
    # review: the demo's returns.csv with 'Return Date' renamed 'Returned On' (dates 14/05/2025): the header was not
    # recognised, nothing said so, and the return window silently fell from 42 days (estimated) to the 30-day
    # default, which moved 58 orders into the rates
    from data.ingest import SourceFile, inspect_file, load_dataset

    assert inspect_file("r.csv", b"Order,SKU,Qty,Returned On\nO1,TEE,1,14/05/2025\n").suggested.get("return_date") == (
        "Returned On"
    )
    orders = b"Order,Date,SKU,Qty,Price\n" + b"".join(
        f"O{i},2024-01-0{1 + i % 9},TEE,2,10\n".encode() for i in range(9)
    )
    returns = b"Order,When,SKU,Qty\nO1,whenever,TEE,1\nO2,,TEE,1\n"
    ds = load_dataset([SourceFile("o.csv", orders, "orders"), SourceFile("r.csv", returns, "returns")])
    (p,) = [p for p in ds.problems if p.file == "r.csv" and p.title == "No return date"]
    assert "return_date" in p.fix and "default" in p.message
