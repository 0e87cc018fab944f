"""Issue 13 item 6: every bad file gets a plain message (or is read), through the readers, ingestion and the CLI.

Before this change: UTF-16 without BOM, random bytes, Numbers, PDF and images all said "Missing required column"
with garbage header text; a password-protected xlsx said "Cannot detect file format"; an odd-length UTF-16 file and a
200 KB field printed a traceback; a deep, binary or huge mapping JSON exited 1 with "Unexpected error".
"""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import sys
import zipfile

import pytest

from analysis.cli import main
from data.errors import InputError
from data.ingest import SourceFile, inspect_file, load_dataset
from data.mapping import MAX_MAPPING_BYTES, Mapping
from data.readers import read_table
from tests.conftest import ROOT

CSV = "Order ID,Order Date,SKU,Qty,Price\n1,2024-01-02,A,1,9.50\n2,2024-01-03,B,2,3.00\n3,2024-01-04,A,1,9.50\n"


def _encrypted_xlsx() -> bytes:
    """The shape of a password-protected xlsx: an OLE2 compound file whose directory holds the streams
    EncryptionInfo and EncryptedPackage (MS-OFFCRYPTO 2.3.4.4; Excel writes every encrypted workbook this way)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    header += b"\x00" * (512 - len(header))

    def entry(name: str, kind: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        return raw + b"\x00" * (64 - len(raw)) + len(raw).to_bytes(2, "little") + bytes([kind]) + b"\x00" * 61

    directory = entry("Root Entry", 5) + entry("EncryptionInfo", 2) + entry("EncryptedPackage", 2) + entry("", 0)
    return header + random.Random(1).randbytes(2 * 1024 * 1024) + directory  # Excel often writes the directory last


def _cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (MS-CFB version 3, 512-byte sectors) holding `streams`, written by hand from the
    specification: header, one FAT sector, one directory sector, then each stream in consecutive sectors (each padded
    to the 4,096-byte mini-stream cutoff, so every stream sits in regular sectors)."""
    end, free, fatsect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    assert len(streams) <= 3  # one directory sector: root + 3 entries
    data, fat, starts, next_sector = [], [fatsect, end], [], 2
    for content in streams.values():
        content = content.ljust(max(4096, -(-len(content) // 512) * 512), b"\0")
        n = len(content) // 512
        starts.append(next_sector)
        fat += [next_sector + k + 1 for k in range(n - 1)] + [end]
        data.append(content)
        next_sector += n
    assert len(fat) <= 128
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<109I", 0, *([free] * 108))
    )

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(raw), kind, 1, nostream, right, child)
            + b"\0" * 36
            + struct.pack("<IQ", start, size)
        )

    names = list(streams)
    dir_ = entry("Root Entry", 5, 1, nostream, end, 0)
    for k, name in enumerate(names):  # a right-leaning chain of siblings under the root
        dir_ += entry(name, 2, nostream, k + 2 if k + 1 < len(names) else nostream, starts[k], len(streams[name]))
    dir_ = dir_.ljust(512, b"\0")
    fat_sector = struct.pack(f"<{len(fat)}I", *fat) + struct.pack("<I", free) * (128 - len(fat))
    return header + fat_sector + dir_ + b"".join(data)


def _biff(rec: int, payload: bytes) -> bytes:
    return struct.pack("<HH", rec, len(payload)) + payload


def _xls_workbook_stream(password: bool) -> bytes:
    """A BIFF8 workbook globals substream (MS-XLS): BOF (0x0809, workbook globals), with a password FILEPASS (0x002F,
    RC4 encryption header of 54 bytes: type 1, version 1.1, salt, verifier, verifier hash) right after it, then
    records (as Excel encrypts them they are noise here) and EOF (0x000A)."""
    rng = random.Random(3)
    out = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x0206))
    if password:
        out += _biff(0x002F, struct.pack("<HHH", 1, 1, 1) + rng.randbytes(48))
    out += _biff(0x00E1, b"\xb0\x04") + _biff(0x005C, rng.randbytes(112)) + _biff(0x0042, b"\xe4\x04")
    out += _biff(0x000A, b"")
    return out.ljust(4096, b"\0")  # Excel writes the Workbook stream at 4,096 bytes or more (never in the mini stream)


def _encrypted_xls() -> bytes:
    """A password-protected legacy .xls: the Workbook stream's globals carry a FILEPASS record."""
    return _cfb({"Workbook": _xls_workbook_stream(True), "\x05SummaryInformation": random.Random(4).randbytes(4096)})


def _numbers() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # an Apple Numbers document is a zip of .iwa protobuf archives
        zf.writestr("Index/Document.iwa", bytes(range(256)))
        zf.writestr("Metadata/Properties.plist", "<plist/>")
    return buf.getvalue()


RANDOM = random.Random(7).randbytes(20000)
REFUSED = {  # file name, bytes, problem title, words the message must hold
    "encrypted": ("orders.xlsx", _encrypted_xlsx(), "Workbook is password-protected", "Encrypt with Password"),
    "encrypted_xls": ("orders.xls", _encrypted_xls(), "Workbook is password-protected", "Encrypt with Password"),
    "encrypted_xlsx_cfb": (
        "orders.xlsx",
        _cfb(
            {"EncryptionInfo": random.Random(5).randbytes(4096), "EncryptedPackage": random.Random(6).randbytes(5000)}
        ),
        "Workbook is password-protected",
        "Encrypt with Password",
    ),
    "numbers": ("orders.numbers", _numbers(), "Not a readable table", "Apple Numbers"),
    "numbers_renamed": ("orders.xlsx", _numbers(), "Not a readable table", "Apple Numbers"),
    "pdf": (
        "orders.pdf",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + RANDOM[:500],
        "Not a readable table",
        "PDF",
    ),
    "png": ("orders.png", b"\x89PNG\r\n\x1a\n" + RANDOM[:500], "Not a readable table", "PNG image"),
    "jpeg": ("orders.jpg", b"\xff\xd8\xff\xe0" + RANDOM[:500], "Not a readable table", "JPEG image"),
    "random_bytes": ("orders.csv", RANDOM, "Not a readable table", "binary data"),
    "docx": ("orders.docx", None, "Not a readable table", "Word document"),
}


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def _case(key):
    name, content, title, words = REFUSED[key]
    return name, (_docx() if content is None else content), title, words


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_refused_with_plain_message_through_readers_and_ingest(key):
    name, content, title, words = _case(key)
    for call in (lambda: read_table(name, content), lambda: inspect_file(name, content)):
        with pytest.raises(InputError) as exc:
            call()
        assert exc.value.title == title and words in exc.value.message and name in exc.value.message
        assert "Missing required column" not in str(exc.value)
    with pytest.raises(InputError) as exc:
        load_dataset([SourceFile(name, content, "orders")])
    titles = {p.title for p in exc.value.problems}
    assert titles == {title}, titles
    assert all(p.file == name for p in exc.value.problems)
    if title == "Not a readable table":
        assert "XLSX" in exc.value.problems[0].message and "CSV" in exc.value.problems[0].message  # formats named


def test_xls_without_password_is_not_called_password_protected():
    """The same hand-written .xls without its FILEPASS record: the check reads the record, not the file type."""
    from data.readers import _xls_encrypted, check_readable_format

    plain = _cfb({"Workbook": _xls_workbook_stream(False)})
    assert not _xls_encrypted(plain) and _xls_encrypted(_encrypted_xls())
    check_readable_format("orders.xls", plain)  # passes on to the spreadsheet reader
    read_table("orders.xls", plain)  # a workbook with no sheet: read as an empty table


def test_workbook_that_makes_calamine_panic_is_a_plain_message():
    """A Workbook stream under the mini-stream cutoff with no mini stream: calamine 0.37 panics (index out of bounds,
    cfb.rs), which pyo3 raises as PanicException, a BaseException that escaped every `except Exception` before."""
    small = _cfb({"Workbook": _xls_workbook_stream(False)[:200]})
    with pytest.raises(InputError) as exc:
        read_table("orders.xls", small)
    assert exc.value.title == "Unreadable spreadsheet" and "orders.xls" in exc.value.message


@pytest.mark.parametrize("cut", [0, 100, 512, 1024, 1536, 3000])
def test_truncated_or_damaged_ole_files_never_crash_the_check(cut):
    """The compound-file reader bounds every index and chain: a cut or scrambled file never raises. The Workbook
    stream starts at byte 1,536 (header 512 + FAT + directory sectors), so only a file cut after it still shows the
    FILEPASS record."""
    from data.readers import _xls_encrypted

    whole = _encrypted_xls()
    assert _xls_encrypted(whole[:cut]) is (cut > 1536 + 100)
    scrambled = bytearray(whole)
    scrambled[512:1024] = random.Random(cut).randbytes(512)  # the FAT sector: chains point anywhere
    assert _xls_encrypted(bytes(scrambled)) in (True, False)


def test_gzipped_pdf_is_named_too():
    import gzip

    with pytest.raises(InputError, match="PDF"):
        read_table("orders.csv.gz", gzip.compress(b"%PDF-1.4\n" + RANDOM[:300]))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_read(encoding):
    content = CSV.encode(encoding)
    raw = read_table("orders.csv", content)
    assert list(raw.frame.columns) == ["Order ID", "Order Date", "SKU", "Qty", "Price"]
    assert raw.frame["Price"].tolist() == ["9.50", "3.00", "9.50"]
    assert raw.encoding == encoding
    ds = load_dataset([SourceFile("orders.csv", content, "orders")])
    assert len(ds.orders) == 3 and ds.orders["quantity"].sum() == 4  # 1 + 2 + 1 units in CSV above


def test_utf16_with_non_ascii_and_no_bom_is_read():
    text = CSV.replace("A,1", "Größe,1") + "4,2024-01-05,Café,1,1.00\n"
    raw = read_table("orders.csv", text.encode("utf-16-le"))
    assert "Größe" in raw.frame["SKU"].tolist() and "Café" in raw.frame["SKU"].tolist()


@pytest.mark.parametrize("bom", [b"\xff\xfe", b""])
def test_odd_length_utf16_is_read_without_its_cut_last_byte(bom):
    content = bom + CSV.encode("utf-16-le") + b"A"  # a file cut in the middle of a character
    raw = read_table("orders.csv", content)
    assert len(raw.frame) == 3 and raw.frame["Order ID"].tolist() == ["1", "2", "3"]
    ds = load_dataset([SourceFile("orders.csv", content, "orders")])
    assert len(ds.orders) == 3


def test_field_over_csv_module_limit_is_read():
    big = "x" * 200_000  # Python's csv module stops at 131,072 characters per field by default
    content = f'Order ID,Order Date,SKU,Qty,Note\n1,2024-01-02,A,1,"{big}"\n2,2024-01-03,B,1,ok\n'.encode()
    raw = read_table("orders.csv", content)
    assert len(raw.frame) == 2 and len(raw.frame["Note"].iloc[0]) == 200_000
    info = inspect_file("orders.csv", content)
    assert info.suggested["order_id"] == "Order ID"
    ds = load_dataset([SourceFile("orders.csv", content, "orders")])
    assert len(ds.orders) == 2


def test_big_field_in_the_header_sample_with_multiline_quotes():
    big = "y\n" * 80_000  # 160 KB field with line breaks inside quotes
    content = f'Order ID;Order Date;SKU;Qty;Note\n1;2024-01-02;A;1;"{big}"\n2;2024-01-03;B;1;ok\n'.encode()
    raw = read_table("orders.csv", content)
    assert raw.delimiter == ";" and raw.frame["SKU"].tolist() == ["A", "B"]


# ------------------------------------------------------------------ mapping JSON
@pytest.mark.parametrize(
    "text, title",
    [
        ("[" * 100_000 + "]" * 100_000, "Mapping file has the wrong shape"),
        ('{"orders": ' * 50_000 + "{}" + "}" * 50_000, "Mapping file has the wrong shape"),
        (RANDOM[:3000], "Mapping file is not valid JSON"),
        (b" " * (MAX_MAPPING_BYTES + 1) + b"{}", "Mapping file too large"),
    ],
)
def test_mapping_from_json_refuses_deep_binary_and_huge(text, title):
    with pytest.raises(InputError) as exc:
        Mapping.from_json(text)
    assert exc.value.title == title


def test_mapping_from_json_reads_bytes_with_bom():
    m = Mapping.from_json(b"\xef\xbb\xbf" + Mapping(tables={"orders": {"order_id": "Nr"}}).to_json().encode())
    assert m.tables["orders"]["order_id"] == "Nr"


# ------------------------------------------------------------------ CLI
def _cli(capsys, *args) -> tuple[int, str]:
    code = main(["report", *map(str, args)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_cli_refuses_bad_file_with_exit_2(key, tmp_path, capsys):
    name, content, title, words = _case(key)
    f = tmp_path / name
    f.write_bytes(content)
    code, err = _cli(capsys, "--orders", f)
    assert code == 2 and title in err and words in err
    assert "Traceback" not in err and "Unexpected error" not in err


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError before
        RANDOM[:3000],  # UnicodeDecodeError before
        b" " * (MAX_MAPPING_BYTES + 10) + b"{}",  # accepted before
    ],
    ids=["deep", "binary", "huge"],
)
def test_cli_bad_mapping_exits_2(content, tmp_path, capsys):
    orders, mapping = tmp_path / "orders.csv", tmp_path / "mapping.json"
    orders.write_text(CSV)
    mapping.write_bytes(content)
    code, err = _cli(capsys, "--orders", orders, "--mapping", mapping)
    assert code == 2 and err.startswith("Error: Mapping file") and "Unexpected error" not in err


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "analysis", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_cli_subprocess_odd_utf16_and_big_field_print_no_traceback(tmp_path):
    """Both printed a logged traceback to stderr before (the reader raised; ingest logged it)."""
    odd, big = tmp_path / "odd.csv", tmp_path / "big.csv"
    odd.write_bytes(b"\xff\xfe" + CSV.encode("utf-16-le") + b"A")
    big.write_text(f'Order ID,Order Date,SKU,Qty,Note\n1,2024-01-02,A,1,"{"x" * 200_000}"\n2,2024-01-03,B,1,ok\n')
    for f in (odd, big):
        res = _run("report", "--orders", f)
        assert res.returncode == 0, res.stderr
        assert "Traceback" not in res.stderr and "Orders " in res.stdout


def test_cli_subprocess_random_bytes_exit_2(tmp_path):
    f = tmp_path / "orders.csv"
    f.write_bytes(RANDOM)
    res = _run("report", "--orders", f)
    assert res.returncode == 2 and "binary data" in res.stderr and "Traceback" not in res.stderr


# ------------------------------------------------------------------ found by the fuzz tests (test_fuzz_ingest.py)
def test_text_date_out_of_pandas_range_is_a_bad_date_not_a_crash():
    import pandas as pd

    from data.readers import parse_dates

    # "Dec -8" parses (format="mixed") as year 1, outside datetime64[ns]: OutOfBoundsDatetime before
    out, bad, _ = parse_dates(pd.Series(["2024-01-02", "Dec -8"], dtype="string"))
    assert out.iloc[0] == pd.Timestamp("2024-01-02") and pd.isna(out.iloc[1]) and bad.tolist() == [False, True]


def test_unclosed_quotes_under_a_misread_delimiter_is_a_plain_message():
    content = b'"Price";"Order ID";"SKU";"Quantity"\n"0.00";"";"";"0"\n"0.00";"1";",";"0"\n"0.00"\n"0.00"\n'
    with pytest.raises(InputError) as exc:  # pandas' python engine raised ParserError before
        read_table("orders.csv", content)
    assert exc.value.title == "File cannot be split into columns" and "orders.csv" in exc.value.message


def test_header_only_orders_file_names_the_file():
    with pytest.raises(InputError) as exc:  # an InputError with no problem (nothing naming the file) before
        load_dataset([SourceFile("orders.csv", b"Order ID,Order Date,SKU,Quantity\n", "orders")])
    assert [p.title for p in exc.value.problems] == ["No data rows"]
    assert exc.value.problems[0].file == "orders.csv" and "0 rows read" in exc.value.problems[0].message
