"""Hostile uploads are refused with a plain message before memory is spent (issue 13, findings 2 and 3).

The bombs are built in memory from a few hundred KB: a gzip of 100 MB of zeros, one giant line, a header of
thousands of columns, an xlsx whose sheet XML expands hundreds of times, a sheet larger than the cell limit.
Each refusal names the file, the limit and the RI_MAX_* setting that sets it."""

from __future__ import annotations

import gzip
import io
import re
import tracemalloc
import zipfile

import pytest
import xlsxwriter

from data.errors import InputError
from data.ingest import inspect_file
from data.readers import ReadLimits, check_workbook, read_table

MB = 1024 * 1024


def _gzip_of_zeros(n_mb: int) -> bytes:
    """n_mb MB of zero bytes, gzipped chunk by chunk (never held inflated): ~100 KB for 100 MB."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as g:
        chunk = b"\0" * MB
        for _ in range(n_mb):
            g.write(chunk)
    return buf.getvalue()


def test_gzip_bomb_is_refused_with_bounded_memory(monkeypatch):
    monkeypatch.setenv("RI_MAX_INFLATED_MB", "16")
    bomb = _gzip_of_zeros(100)
    assert len(bomb) < 1 * MB
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as e:
            read_table("orders.csv.gz", bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # before: gzip.decompress inflated all 100 MB in memory; now reading stops just past the 16 MB cap
    assert peak < 40 * MB
    assert e.value.title == "Compressed file too large"
    assert "orders.csv.gz" in e.value.message and "16 MB" in e.value.message
    assert "RI_MAX_INFLATED_MB" in e.value.problems[0].fix


def test_gzip_bomb_is_refused_by_its_expansion_with_default_settings():
    # 100 MB of zeros from ~100 KB is ~1000x; real exports compress 5-15x (the real Online Retail II file: ~6x)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as e:
            read_table("orders.csv.gz", _gzip_of_zeros(100))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.value.title == "Compressed file expands too much" and "RI_MAX_RATIO" in e.value.problems[0].fix
    assert peak < 100 * MB  # before: the whole 100 MB was inflated (and copied) first


def test_gzip_under_the_limit_still_reads(monkeypatch):
    monkeypatch.setenv("RI_MAX_INFLATED_MB", "1")
    t = read_table("x.csv.gz", gzip.compress(b"order,sku\n1,A\n2,B\n"))
    assert t.frame["sku"].tolist() == ["A", "B"]


@pytest.mark.parametrize("compress", ["bz2", "xz"])
def test_other_compressions_are_read_and_capped(compress, monkeypatch):
    import bz2
    import lzma

    pack = {"bz2": bz2.compress, "xz": lzma.compress}[compress]
    t = read_table(f"x.csv.{compress}", pack(b"order,sku\n1,A\n2,B\n"))
    assert t.frame["sku"].tolist() == ["A", "B"]
    monkeypatch.setenv("RI_MAX_INFLATED_MB", "2")
    with pytest.raises(InputError, match="Compressed file too large"):
        read_table(f"x.csv.{compress}", pack(b"\0" * (3 * MB)))


def test_text_that_merely_starts_like_bzip2_is_read_as_text():
    assert read_table("x.csv", b"BZh1,b\n1,2\n").frame.columns.tolist() == ["BZh1", "b"]


def test_damaged_gzip_says_so():
    with pytest.raises(InputError, match="Damaged compressed file"):
        read_table("x.csv.gz", gzip.compress(b"a,b\n1,2\n" * 1000)[:-30])


def test_one_giant_line_is_refused_before_header_matching(monkeypatch):
    # before: a 50 MB line spent ~50 s per MB in suggest_mapping; now it never reaches it
    import data.mapping

    def never(*a, **k):
        raise AssertionError("suggest_mapping reached")

    monkeypatch.setattr(data.mapping, "suggest_mapping", never, raising=False)
    blob = b"x" * (3 * MB)
    with pytest.raises(InputError) as e:
        inspect_file("dump.csv", blob)
    assert e.value.title == "Line too long" and "dump.csv" in e.value.message
    assert "RI_MAX_LINE_KB" in e.value.problems[0].fix


def test_line_of_a_million_columns_is_refused():
    with pytest.raises(InputError, match="Line too long"):
        read_table("wide.csv", b",".join([b"c"] * 1_000_000) + b"\n1\n")


def test_too_many_columns_and_too_long_header(monkeypatch):
    header = ",".join(f"col{i}" for i in range(5000)).encode()
    with pytest.raises(InputError) as e:
        read_table("wide.csv", header + b"\n" + b",".join([b"1"] * 5000) + b"\n")
    assert e.value.title == "Too many columns" and "5,000 columns" in e.value.message
    long_header = ",".join("h" * 20_000 + str(i) for i in range(5)).encode()
    with pytest.raises(InputError, match="Header too long"):
        read_table("long.csv", long_header + b"\n1,2,3,4,5\n")
    # a header line that alone fills the 256 KB sample (so no whole line is seen) is refused as well
    with pytest.raises(InputError, match="Header too long"):
        read_table("long.csv", b"a" * 400_000 + b"\n1\n")
    monkeypatch.setenv("RI_MAX_COLUMNS", "3")
    with pytest.raises(InputError, match="Too many columns"):
        read_table("x.csv", b"a,b,c,d\n1,2,3,4\n")


def test_real_shaped_files_pass_the_checks():
    header = ",".join(f"Column name number {i}" for i in range(300))
    t = read_table("ok.csv", (header + "\n" + ",".join(["1"] * 300) + "\n").encode())
    assert t.frame.shape == (1, 300)


def _xlsx(rows: int, cols: int) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Orders")
    for c in range(cols):
        ws.write_string(0, c, f"h{c}")
    for r in range(1, rows):
        for c in range(cols):
            ws.write_number(r, c, r * c)
    wb.close()
    return buf.getvalue()


def _replace_sheet(xlsx: bytes, write_sheet) -> bytes:
    """The same workbook with xl/worksheets/sheet1.xml streamed from write_sheet(file) (never held whole)."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                zi = zipfile.ZipInfo(info.filename)
                zi.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(zi, "w", force_zip64=True) as f:
                    write_sheet(f)
            else:
                dst.writestr(info.filename, src.read(info.filename), zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _huge_sheet(n_rows: int):
    def write(f):
        f.write(
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
            b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        )
        row = b"<row>" + b"<c><v>1</v></c>" * 100 + b"</row>"
        block = row * 1000
        for _ in range(n_rows // 1000):
            f.write(block)
        f.write(b"</sheetData></worksheet>")

    return write


class _NoCalamine:
    """Stands in for CalamineWorkbook: the refusal must come before any sheet is parsed."""

    @staticmethod
    def from_filelike(*a, **k):
        raise AssertionError("the workbook was opened")


def test_xlsx_bomb_is_refused_from_the_zip_directory(monkeypatch):
    import python_calamine

    bomb = _replace_sheet(_xlsx(2, 2), _huge_sheet(70_000))  # 70,000 rows x 100 cells: ~107 MB of XML
    assert len(bomb) < 2 * MB
    monkeypatch.setattr(python_calamine, "CalamineWorkbook", _NoCalamine)
    with pytest.raises(InputError) as e:
        read_table("bomb.xlsx", bomb)
    assert e.value.title == "Workbook expands too much"
    assert "bomb.xlsx" in e.value.message and "xl/worksheets/sheet1.xml" in e.value.message
    assert "RI_MAX_RATIO" in e.value.problems[0].fix
    monkeypatch.setenv("RI_MAX_XLSX_XML_MB", "50")
    with pytest.raises(InputError, match="Workbook too large"):
        read_table("bomb.xlsx", bomb)


def test_sheet_over_the_cell_limit_is_refused_before_cells_are_read(monkeypatch):
    monkeypatch.setenv("RI_MAX_CELLS", "500")
    book = _xlsx(100, 10)  # 1,000 cells; xlsxwriter declares <dimension ref="A1:J100"/>
    with pytest.raises(InputError) as e:
        read_table("big.xlsx", book)
    assert e.value.title == "Sheet too large" and "1,000 cells" in e.value.message
    # without the declared dimension, the parsed sheet's size is checked before to_python()
    src = zipfile.ZipFile(io.BytesIO(book))
    sheet = re.sub(rb"<dimension [^>]*/>", b"", src.read("xl/worksheets/sheet1.xml"))
    undeclared = _replace_sheet(book, lambda f: f.write(sheet))
    with pytest.raises(InputError) as e:
        read_table("big.xlsx", undeclared)
    assert e.value.title == "Sheet too large" and "100 rows x 10 columns" in e.value.message
    monkeypatch.delenv("RI_MAX_CELLS")
    assert read_table("big.xlsx", undeclared).frame.shape == (99, 10)


def test_zip_directory_that_lies_about_sizes_is_caught():
    book = _xlsx(200, 20)
    src = zipfile.ZipFile(io.BytesIO(book))
    info = src.getinfo("xl/worksheets/sheet1.xml")
    real = info.file_size
    data = bytearray(book)
    # shrink the declared uncompressed size in the local header and the central directory
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = -1
        while (pos := data.find(sig, pos + 1)) >= 0:
            name_off = 30 if sig == b"PK\x03\x04" else 46
            nlen = int.from_bytes(data[pos + (26 if sig == b"PK\x03\x04" else 28) :][:2], "little")
            if bytes(data[pos + name_off : pos + name_off + nlen]) == b"xl/worksheets/sheet1.xml":
                assert int.from_bytes(data[pos + off : pos + off + 4], "little") == real
                data[pos + off : pos + off + 4] = (1000).to_bytes(4, "little")
    with pytest.raises(InputError, match="Damaged workbook"):
        check_workbook("liar.xlsx", bytes(data), ReadLimits())


def test_limits_are_settings():
    lim = ReadLimits.from_env({"RI_MAX_INFLATED_MB": "12.5", "RI_MAX_CELLS": "1e6"})
    assert lim.max_inflated_mb == 12.5 and lim.max_cells == 1_000_000 and lim.max_columns == 1000
    with pytest.raises(InputError, match="RI_MAX_COLUMNS"):
        ReadLimits.from_env({"RI_MAX_COLUMNS": "lots"})
    with pytest.raises(InputError, match="RI_MAX_CELLS"):
        ReadLimits.from_env({"RI_MAX_CELLS": "-5"})


def test_every_limit_is_documented_in_the_readme_with_its_default():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    defaults = ReadLimits()
    for field, var in ReadLimits.ENV.items():
        row = next((ln for ln in readme.splitlines() if ln.startswith(f"| `{var}`")), None)
        assert row is not None, var
        assert float(row.split("|")[2]) == getattr(defaults, field), var
