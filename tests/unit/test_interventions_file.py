"""An uploaded interventions log is read by data.readers like any upload (data.state.read_interventions_file)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from data.errors import InputError
from data.state import StateStore, read_interventions_file

ROW = ("collection", "Linen Shirts", "2024-03-01", "Size advice")


def test_semicolon_csv_and_workbook_read_alike(tmp_path):
    csv = b"dimension;segment;start_date;description\r\n" + ";".join(ROW).encode("cp1252") + b"\r\n"
    buf = io.BytesIO()
    pd.DataFrame([ROW], columns=["dimension", "segment", "start_date", "description"]).to_excel(
        buf, index=False, engine="xlsxwriter"
    )
    for name, content in (("log.csv", csv), ("log.xlsx", buf.getvalue())):
        df = read_interventions_file(name, content)
        assert list(df.columns) == ["dimension", "segment", "start_date", "description"], name
        assert tuple(df.iloc[0].astype(str)) == ROW, name
    added = StateStore(tmp_path).import_interventions("ws", read_interventions_file("log.csv", csv))
    assert added == 1


@pytest.mark.parametrize(
    "content,title",
    [
        (b"", "Empty file"),
        (b"  \n", "Empty file"),
        (b"dimension,segment,start_date\n", "No rows"),
        (b"\x00\x01\x02garbage" * 40, "Not a text file"),
    ],
)
def test_bad_files_name_the_file_and_the_fix(content, title):
    with pytest.raises(InputError) as e:
        read_interventions_file("changes.csv", content)
    assert str(e.value).startswith(title) and "'changes.csv'" in str(e.value)
    assert e.value.problems[0].file == "changes.csv"
