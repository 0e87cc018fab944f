"""Read uploaded export files into all-text frames, and convert text columns to dates and numbers.

Reading keeps every cell as text (nothing is guessed at read time), so the preview shows what the
file really says and conversion happens once, vectorised, on the canonical columns only
(see data.validate). Supported: CSV/TSV/TXT (optionally gzipped) in UTF-8, UTF-8 with BOM or
cp1252/latin-1, with , ; tab or | delimiters and preamble lines before the header; XLSX/XLSM/XLS/ODS
through python-calamine (all sheets listed, default = first non-empty sheet).

Limits (``ReadLimits``, each an environment setting): a compressed upload is inflated in a stream and refused as
soon as it passes ``RI_MAX_INFLATED_MB``; a text file whose first line has no line break within
``RI_MAX_LINE_KB``, whose header line is longer than ``RI_MAX_HEADER_KB`` or has more than ``RI_MAX_COLUMNS``
columns is refused before any parsing or header matching; a workbook is checked from its zip directory
(sheet XML above ``RI_MAX_XLSX_XML_MB`` in all, or expanding more than ``RI_MAX_RATIO`` times), from the
sheet's declared dimension, and from the parsed sheet's size (``RI_MAX_CELLS``) before any cell becomes a
Python object. Each refusal is an InputError naming the file, the limit and the setting.

Speed: CSV goes through the pyarrow CSV engine with every column as string (about 0.3 s for the
500k-line real export); parsing is done with vectorised pandas string methods, never a Python
loop per row. Excel cells come out of calamine as Python objects, so they are turned to text
column by column.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import gc
import gzip
import io
import warnings
import lzma
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from data.errors import InputError, Problem

EXCEL_EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SAMPLE_BYTES = 256 * 1024
_FOOTER_RX = (
    r"(?i)^\s*(?:grand\s+)?(?:sub)?totals?\b|^\s*(?:summe|gesamt|total g[ée]n[ée]ral|totaal|totale)\b"
    # a page line of a report printed to a file: 'Page 1 of 3', 'Page 2/3', 'Seite 1 von 3', 'Page 1 sur 3'
    r"|^\s*(?:page|seite|pagina|página)\s+\d+\s*(?:of|/|von|sur|de|di)\s*\d+\s*$"
)
_FOOTER_PATTERN = re.compile(_FOOTER_RX)


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what one upload may cost, so a hostile or broken file is refused before memory is spent.

    Defaults fit the largest real exports (a 1,048,576-row x 40-column xlsx holds ~1.5 GB of sheet XML, about
    10x its zipped size); a zip bomb expands hundreds of times. Every field is an environment setting.
    """

    max_inflated_mb: float = 400.0  # RI_MAX_INFLATED_MB: a .gz/.bz2/.xz upload may expand to this (= upload limit)
    max_line_kb: float = 1024.0  # RI_MAX_LINE_KB: the first line must end within this
    max_header_kb: float = 64.0  # RI_MAX_HEADER_KB: the header line
    max_columns: int = 1000  # RI_MAX_COLUMNS
    max_xlsx_xml_mb: float = 2048.0  # RI_MAX_XLSX_XML_MB: all XML inside a workbook, uncompressed
    max_ratio: float = 100.0  # RI_MAX_RATIO: inflated / compressed size of anything inflating past 64 MB
    max_cells: int = 50_000_000  # RI_MAX_CELLS: rows x columns of one sheet

    ENV = {
        "max_inflated_mb": "RI_MAX_INFLATED_MB",
        "max_line_kb": "RI_MAX_LINE_KB",
        "max_header_kb": "RI_MAX_HEADER_KB",
        "max_columns": "RI_MAX_COLUMNS",
        "max_xlsx_xml_mb": "RI_MAX_XLSX_XML_MB",
        "max_ratio": "RI_MAX_RATIO",
        "max_cells": "RI_MAX_CELLS",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ReadLimits":
        """Defaults overridden by RI_MAX_* environment variables (a bad value is an InputError naming it).

        >>> ReadLimits.from_env({"RI_MAX_COLUMNS": "200"}).max_columns
        200
        """
        environ = os.environ if environ is None else environ
        kw: dict[str, Any] = {}
        for f, var in cls.ENV.items():
            raw = str(environ.get(var, "")).strip()
            if not raw:
                continue
            kind = type(getattr(cls, f))
            try:
                value = kind(float(raw)) if kind is int else float(raw)
            except ValueError:
                value = -1
            if not value > 0:
                raise InputError(
                    "Bad setting",
                    f"The setting {var}={raw!r} is not a positive number.",
                    [
                        Problem(
                            var,
                            "Bad setting",
                            f"{var} must be a positive number.",
                            f"Set {var} to a number such as {getattr(cls, f)}, or unset it.",
                        )
                    ],
                )
            kw[f] = value
        return cls(**kw)


def _too_big(name: str, title: str, message: str, setting: str, fix: str) -> InputError:
    """A refusal naming the file, what was found, the fix and the setting that holds the limit."""
    fix = f"{fix}. (The limit is the setting {setting}.)"
    return InputError(title, f"{name}: {message} Fix: {fix}", [Problem(name, title, message, fix)])


@dataclass(frozen=True)
class RawTable:
    """A file (or sheet) read as text: `frame` has the file's header as columns and one row per data row.

    `footer` is a boolean array marking total/footer/blank rows (reported as rejected, never loaded).
    """

    frame: pd.DataFrame
    footer: np.ndarray
    sheets: tuple[str, ...] = ()
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int = 0  # 0-based line (CSV) or row (sheet) of the header
    decimal_hint: str | None = None  # "," when the file looks European (semicolon-delimited)
    notes: tuple[str, ...] = field(default_factory=tuple)


def is_excel(name: str, content: bytes) -> bool:
    """True for spreadsheet files (by extension, or by the zip / OLE magic bytes)."""
    low = name.lower()
    if low.endswith(EXCEL_EXTENSIONS):
        return True
    if content[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(content)).namelist()
        except zipfile.BadZipFile:
            return False
        return any(n.startswith("xl/") for n in names) or "content.xml" in names
    return content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


_COMPRESSED = (  # magic bytes, suffix, opener of a file object, label
    (b"\x1f\x8b", ".gz", lambda f: gzip.GzipFile(fileobj=f), "gzip"),
    (b"BZh", ".bz2", lambda f: bz2.BZ2File(f), "bzip2"),
    (b"\xfd7zXZ\x00", ".xz", lambda f: lzma.LZMAFile(f), "xz"),
)
_CHUNK = 1 << 20
_RATIO_FLOOR = 64 * 1024 * 1024  # below this, how much a file expands does not matter


def maybe_gunzip(name: str, content: bytes, limits: ReadLimits | None = None) -> tuple[str, bytes]:
    """Decompress .gz/.bz2/.xz uploads (by magic bytes) and drop the suffix from the name.

    Inflates in 1 MB steps and stops as soon as the output passes ``limits.max_inflated_mb``: a few-MB archive
    of gigabytes of zeros is refused after at most that much memory, not after inflating it whole.
    """
    for magic, suffix, opener, label in _COMPRESSED:
        if (
            not content.startswith(magic)
            or (
                label == "bzip2"
                and not (  # "BZh" + level + block or end magic
                    content[3:4].isdigit() and content[4:10] in (b"1AY&SY", b"\x17rE8P\x90")
                )
            )
        ):
            continue
        limits = limits or ReadLimits.from_env()
        cap = int(limits.max_inflated_mb * 1024 * 1024)
        out = io.BytesIO()
        try:
            with opener(io.BytesIO(content)) as f:
                while chunk := f.read(_CHUNK):
                    out.write(chunk)
                    if out.tell() > _RATIO_FLOOR and out.tell() > limits.max_ratio * len(content):
                        raise _too_big(
                            name,
                            "Compressed file expands too much",
                            f"{len(content) / 1e6:,.2f} MB compressed has already expanded to "
                            f"{out.tell() / 1e6:,.0f} MB (more than {limits.max_ratio:,.0f} times; real "
                            "exports compress about 5 to 15 times); reading stopped there.",
                            "RI_MAX_RATIO",
                            "Check the file; upload the uncompressed CSV if it is genuine",
                        )
                    if out.tell() > cap:
                        raise _too_big(
                            name,
                            "Compressed file too large",
                            f"it expands to more than {limits.max_inflated_mb:,.0f} MB (it is "
                            f"{len(content) / 1e6:,.1f} MB compressed); reading stopped there.",
                            "RI_MAX_INFLATED_MB",
                            "Upload a smaller export (a shorter date range), or raise "
                            "the limit if the server has the memory",
                        )
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
            raise InputError(
                "Damaged compressed file",
                f"{name} looks {label}-compressed but cannot be decompressed ({exc}).",
                [
                    Problem(
                        name,
                        "Damaged compressed file",
                        f"The {suffix} file cannot be decompressed.",
                        "Upload the uncompressed CSV or re-create the archive.",
                    )
                ],
            ) from exc
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
        return name, out.getvalue()
    return name, content


def check_text_shape(name: str, data: bytes, limits: ReadLimits | None = None) -> None:
    """Refuse a text file whose first line does not end within max_line_kb (one giant line, e.g. millions of
    columns or no line breaks at all), before the delimiter sniffing, the CSV engine or any header matching
    sees it."""
    limits = limits or ReadLimits.from_env()
    cap = int(limits.max_line_kb * 1024)
    if len(data) <= cap:
        return
    head = data[: cap + 1]
    if b"\n" not in head and b"\r" not in head:
        raise _too_big(
            name,
            "Line too long",
            f"the first {limits.max_line_kb:,.0f} KB hold no line break, so this "
            "is not a table of rows (a file of one giant line, or not a text file).",
            "RI_MAX_LINE_KB",
            "Export the data as CSV with one row per line",
        )


def check_header(name: str, header: list[str], limits: ReadLimits | None = None) -> None:
    """Refuse a header line with more columns, or more text, than any real export has."""
    limits = limits or ReadLimits.from_env()
    if len(header) > limits.max_columns:
        raise _too_big(
            name,
            "Too many columns",
            f"the header has {len(header):,} columns; at most {limits.max_columns:,} are read.",
            "RI_MAX_COLUMNS",
            "Export only the columns you need (order, date, product, quantity, price ...)",
        )
    size = sum(len(str(h)) + 1 for h in header)
    if size > limits.max_header_kb * 1024:
        raise _too_big(
            name,
            "Header too long",
            f"the header line holds {size / 1024:,.0f} KB of text; at most {limits.max_header_kb:,.0f} KB is read.",
            "RI_MAX_HEADER_KB",
            "Check that the first rows are column names, and export only the columns you need",
        )


_DIMENSION_RX = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]*\$?(\d*)(?::\$?([A-Z]+)\$?(\d+))?"')


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def check_workbook(name: str, content: bytes, limits: ReadLimits | None = None) -> None:
    """Check a zipped workbook (xlsx/xlsm/ods) from its zip directory before any sheet is parsed.

    Refuses parts that expand to more than max_xlsx_xml_mb in all, a big part (over 64 MB) that expands more
    than max_ratio times, and a sheet whose declared dimension exceeds max_cells. The declared sizes are
    then confirmed by inflating each part in a stream (nothing kept): zipfile stops at the declared size and
    a part that holds more fails its CRC, so a directory that lies cannot slip a bomb through.
    """
    if content[:4] != b"PK\x03\x04":
        return
    limits = limits or ReadLimits.from_env()
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # calamine reports it as unreadable
    total = sum(i.file_size for i in infos)
    if total > limits.max_xlsx_xml_mb * 1024 * 1024:
        raise _too_big(
            name,
            "Workbook too large",
            f"its sheets expand to {total / 1e6:,.0f} MB of XML; at most {limits.max_xlsx_xml_mb:,.0f} MB is read.",
            "RI_MAX_XLSX_XML_MB",
            "Split the workbook, or export the sheet as CSV",
        )
    for i in infos:
        if i.file_size > _RATIO_FLOOR and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise _too_big(
                name,
                "Workbook expands too much",
                f"the part {i.filename} is {i.compress_size / 1e6:,.1f} "
                f"MB zipped but {i.file_size / 1e6:,.0f} MB inside ({i.file_size / max(i.compress_size, 1):,.0f}"
                f" times; real workbooks are about 10 times).",
                "RI_MAX_RATIO",
                "Open and save the workbook again in Excel, or export the sheet as CSV",
            )
    try:
        for i in infos:
            with zf.open(i) as f:
                first = f.read(4096)
                m = _DIMENSION_RX.search(first) if i.filename.startswith("xl/worksheets/") else None
                if m and m.group(2):
                    cells = int(m.group(3)) * _col_number(m.group(2).decode())
                    if cells > limits.max_cells:
                        raise _too_big(
                            name,
                            "Sheet too large",
                            f"the sheet {i.filename} declares {cells:,} cells "
                            f"({int(m.group(3)):,} rows x {_col_number(m.group(2).decode()):,} columns); "
                            f"at most {limits.max_cells:,} are read.",
                            "RI_MAX_CELLS",
                            "Delete unused rows and columns, or export the sheet as CSV",
                        )
                while f.read(_CHUNK):
                    pass
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise InputError(
            "Damaged workbook",
            f"{name}: a part of the workbook does not match its zip directory ({exc}).",
            [
                Problem(
                    name,
                    "Damaged workbook",
                    f"The workbook is damaged ({exc}).",
                    "Open and save it again in Excel, or export the sheet as CSV.",
                )
            ],
        ) from exc


READABLE_FORMATS = "CSV, TSV or TXT (also .gz, .bz2 or .xz compressed), XLSX, XLSM, XLS or ODS"
_ENCRYPTED_OLE = "EncryptedPackage".encode("utf-16-le")  # stream of a password-protected xlsx (an OLE2 file)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NOT_TABLES = (  # magic bytes, what the file is, how to get a table out of it
    (b"%PDF-", "a PDF document", "Export the report from its source system as CSV or XLSX instead of PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "Upload the export file itself, not a picture of it"),
    (b"\xff\xd8\xff", "a JPEG image", "Upload the export file itself, not a picture of it"),
    (b"GIF8", "a GIF image", "Upload the export file itself, not a picture of it"),
    (b"BM", "a BMP image", "Upload the export file itself, not a picture of it"),
    (b"II*\x00", "a TIFF image", "Upload the export file itself, not a picture of it"),
    (b"MM\x00*", "a TIFF image", "Upload the export file itself, not a picture of it"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "Unpack it and upload the CSV or XLSX inside"),
    (b"Rar!", "a RAR archive", "Unpack it and upload the CSV or XLSX inside"),
)


def _not_a_table(name: str, what: str, fix: str) -> InputError:
    msg = f"{name} is {what}; it cannot be read as a table. Readable formats: {READABLE_FORMATS}."
    return InputError("Not a readable table", msg, [Problem(name, "Not a readable table", msg, fix + ".")])


def _ole_streams(content: bytes, wanted: tuple[str, ...], limit: int = 1 << 16) -> dict[str, bytes]:
    """The first `limit` bytes of the named streams of an OLE2 compound file (MS-CFB), by name (case as in
    `wanted`); {} when the file is not a well-formed compound file. Reads only the directory and the FAT sectors
    it needs: every index is checked, every chain bounded, so a hostile file costs at most its own length."""
    import struct

    try:
        shift = struct.unpack_from("<H", content, 30)[0]
        if shift not in (9, 12):
            return {}
        size = 1 << shift
        n_sectors = (len(content) - 512 + size - 1) // size
        difat = [x for x in struct.unpack_from("<109I", content, 76) if x < n_sectors]  # first 109 FAT sectors

        def sector(i: int) -> bytes:
            return content[512 + i * size : 512 + (i + 1) * size]

        fat: list[int] = []
        for i in difat:
            fat.extend(struct.unpack(f"<{size // 4}I", sector(i).ljust(size, b"\0")))

        def chain(start: int, max_bytes: int) -> bytes:
            out, i, seen = [], start, 0
            while 0 <= i < n_sectors and i < len(fat) and seen * size < max_bytes and seen <= n_sectors:
                out.append(sector(i))
                i, seen = fat[i], seen + 1
            return b"".join(out)

        directory = chain(struct.unpack_from("<I", content, 48)[0], 1 << 20)
        cutoff = struct.unpack_from("<I", content, 56)[0]
        low = {w.lower(): w for w in wanted}
        found: dict[str, bytes] = {}
        for off in range(0, len(directory) - 127, 128):
            length = struct.unpack_from("<H", directory, off + 64)[0]
            kind = directory[off + 66]
            if kind != 2 or not 2 <= length <= 64:
                continue
            entry_name = directory[off : off + length - 2].decode("utf-16-le", "replace").lower()
            start, stream_size = struct.unpack_from("<II", directory, off + 116)
            if entry_name in low and stream_size >= cutoff:  # small streams sit in the mini stream: not read here
                found[low[entry_name]] = chain(start, min(limit, stream_size))[: min(limit, stream_size)]
        return found
    except (struct.error, IndexError, ValueError):
        return {}


_BIFF_BOF = (0x0809, 0x0409, 0x0209, 0x0009)
_BIFF_FILEPASS, _BIFF_EOF = 0x002F, 0x000A


def _xls_encrypted(content: bytes) -> bool:
    """A legacy .xls (BIFF5/8 in an OLE2 file) with a FILEPASS record in its workbook globals: the workbook is
    encrypted with a password (MS-XLS 2.4.117; Excel writes the record right after the globals' BOF)."""
    streams = _ole_streams(content, ("Workbook", "Book"), limit=1 << 16)
    data = streams.get("Workbook") or streams.get("Book") or b""
    pos, first = 0, True
    while pos + 4 <= len(data):
        rec = int.from_bytes(data[pos : pos + 2], "little")
        length = int.from_bytes(data[pos + 2 : pos + 4], "little")
        if first and rec not in _BIFF_BOF:
            return False
        if rec == _BIFF_FILEPASS:
            return True
        if rec == _BIFF_EOF:  # end of the globals substream: no FILEPASS there
            return False
        pos, first = pos + 4 + length, False
    return False


def check_readable_format(name: str, content: bytes) -> None:
    """Refuse, with a plain message, files that are no table at all or that cannot be read without help:
    password-protected workbooks (encrypted xlsx in an OLE2 file, or a legacy .xls with a password), Apple
    Numbers, PDF, images, archives, and binary data."""
    # an encrypted xlsx: its directory, which may sit anywhere in the file, names the stream EncryptedPackage
    if content.startswith(_OLE_MAGIC) and (_ENCRYPTED_OLE in content or _xls_encrypted(content)):
        fix = (
            "Open it in Excel, choose File > Info > Protect Workbook > Encrypt with Password, delete the password, "
            "save, and upload it again (or save the sheet as CSV)."
        )
        msg = f"{name} is a password-protected (encrypted) workbook, which cannot be read without the password."
        raise InputError(
            "Workbook is password-protected",
            f"{msg} {fix}",
            [Problem(name, "Workbook is password-protected", msg, fix)],
        )
    low = name.lower()
    if content.startswith(b"PK\x03\x04") or low.endswith(".numbers"):
        try:
            names = zipfile.ZipFile(io.BytesIO(content)).namelist()
        except zipfile.BadZipFile:
            names = []
        if low.endswith(".numbers") or any(n.startswith("Index/") and n.endswith(".iwa") for n in names):
            raise _not_a_table(
                name,
                "an Apple Numbers file",
                "In Numbers choose File > Export To > CSV (or Excel), then upload that file",
            )
        if names and not any(n.startswith("xl/") for n in names) and "content.xml" not in names:
            kind = (
                "a Word document"
                if any(n.startswith("word/") for n in names)
                else (
                    "a PowerPoint file"
                    if any(n.startswith("ppt/") for n in names)
                    else "a zip archive with no sheet in it"
                )
            )
            raise _not_a_table(name, kind, "Upload the CSV or XLSX export itself")
    for magic, what, fix in _NOT_TABLES:
        if content.startswith(magic):
            raise _not_a_table(name, what, fix)


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the bytes look like UTF-16 text without a byte-order mark: text of an
    export is mostly ASCII, so every other byte is zero (the odd ones for little-endian)."""
    n = len(sample) // 2 * 2
    if n < 4:
        return None
    even, odd = sample[0:n:2], sample[1:n:2]
    zeros_even, zeros_odd = even.count(0), odd.count(0)
    if zeros_odd >= 0.6 * len(odd) and zeros_even <= 0.05 * len(even):
        return "utf-16-le"
    if zeros_even >= 0.6 * len(even) and zeros_odd <= 0.05 * len(odd):
        return "utf-16-be"
    return None


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def _looks_binary(sample: bytes) -> bool:
    """More than 1% control bytes (NUL, BEL, ESC ...) in the first part of the file: no text export holds them."""
    if not sample:
        return False
    bad = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return bad >= 4 and bad > 0.01 * len(sample)


def _decode_utf16(content: bytes, encoding: str, name: str) -> bytes:
    """UTF-16 bytes -> UTF-8; an odd trailing byte (a cut file) is dropped, broken pairs become U+FFFD."""
    if len(content) % 2:
        content = content[:-1]
    return content.decode(encoding, errors="replace").encode("utf-8")


def detect_encoding(content: bytes, name: str = "the file") -> tuple[str, bytes]:
    """Return (encoding label, UTF-8 bytes without BOM).

    UTF-16 is recognised by its byte-order mark or, without one, by the zero bytes of its ASCII text.
    UTF-8 is tried strictly on the whole file; otherwise cp1252 (Excel on Windows), falling back to
    latin-1 for the five byte values cp1252 leaves undefined. The bytes are transcoded once so the
    CSV engine always reads UTF-8. Binary data (many control bytes) is refused as not a table.
    """
    if content.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", content[3:]
    if content.startswith(b"\xff\xfe"):
        return "utf-16", _decode_utf16(content[2:], "utf-16-le", name)
    if content.startswith(b"\xfe\xff"):
        return "utf-16", _decode_utf16(content[2:], "utf-16-be", name)
    sample = content[:65536]
    if enc := _utf16_without_bom(sample):
        return enc, _decode_utf16(content, enc, name)
    if _looks_binary(sample):
        raise _not_a_table(
            name,
            "binary data (it holds control bytes no text export has)",
            "Upload the CSV or XLSX export itself; if it is one, save it again as CSV (UTF-8)",
        )
    if _is_utf8(content):
        return "utf-8", content
    try:
        return "cp1252", content.decode("cp1252").encode("utf-8")
    except UnicodeDecodeError:
        return "latin-1", content.decode("latin-1").encode("utf-8")


def _is_utf8(data: bytes, step: int = 1 << 20) -> bool:
    """True when `data` decodes as strict UTF-8 (as data.decode("utf-8") would), checked 1 MB at a time so
    a 45 MB file is not turned into a 45 MB string only to be thrown away."""
    dec = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for i in range(0, len(view), step):
            dec.decode(view[i : i + step])
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sample_lines(data: bytes, limit: int = 60) -> list[str]:
    head = data[:_SAMPLE_BYTES].decode("utf-8", errors="replace")
    lines = head.splitlines()
    if len(data) > _SAMPLE_BYTES and lines:
        lines = lines[:-1]  # last line may be cut
    return lines[:limit]


def sniff_layout(lines: list[str]) -> tuple[str, int]:
    """Pick the delimiter and the header line from the first lines of a text file.

    The delimiter is the one giving the most consistent field count (>1) over the sample's later
    lines; the header is the first line that has that field count and mostly non-empty, non-numeric
    cells - lines above it (report titles, 'generated on ...') are preamble.
    """
    nonblank = [ln for ln in lines if ln.strip()]
    if not nonblank:
        return ",", 0
    best = (",", 1, -1.0)
    for d in DELIMITERS:
        counts = [len(r) for r in csv.reader(nonblank, delimiter=d)]
        tail = counts[len(counts) // 3 :] or counts
        mode = max(set(tail), key=tail.count)
        score = tail.count(mode) / len(tail) * (mode > 1) + (mode > 1) * min(mode, 50) / 1000
        if score > best[2]:
            best = (d, mode, score)
    delim, width, _ = best
    for i, row in enumerate(csv.reader(lines, delimiter=delim)):
        cells = [c.strip() for c in row]
        filled = [c for c in cells if c]
        if len(cells) >= width and len(filled) >= max(1, width // 2):
            numeric = sum(bool(re.fullmatch(r"[-+]?[\d.,]+", c)) for c in filled)
            if numeric <= len(filled) // 2:
                return delim, i
    return delim, 0


def footer_mask(frame: pd.DataFrame) -> np.ndarray:
    """Rows that are blank, whose first non-empty cell starts with Total / Grand total / Summe ... or is a page
    line ('Page 1 of 3'), or that repeat the header line (two exports pasted one after the other).

    Blank rows count wherever they are; a 'Total' row counts wherever it is too (exports put subtotals
    between groups).

    Speed: the first column is stripped once; later columns are looked at only for the rows still
    empty (usually none), and the footer pattern runs on the distinct first cells only (500k lines of a
    real export hold ~25k distinct invoice numbers), never row by row.
    """
    if frame.empty:
        return np.zeros(0, dtype=bool)
    first = frame.iloc[:, 0].astype("string").fillna("").str.strip()  # stays in Arrow: no Python string per row
    codes, uniques = pd.factorize(first)
    out = _footer_hits(uniques)[codes]
    todo = np.flatnonzero(first.eq("").to_numpy(dtype=bool))
    for j in range(1, frame.shape[1]):
        if not len(todo):
            break
        cell = frame.iloc[todo, j].astype("string").fillna("").str.strip().to_numpy(dtype=object)
        out[todo] = _footer_hits(cell)  # a row's first non-empty cell decides
        todo = todo[cell == ""]
    out[todo] = True  # blank rows
    # the header line again (exports pasted one after another): the first cell is its column's name, and so is
    # every other non-empty cell
    head = str(frame.columns[0]).strip().casefold()
    again = (
        np.flatnonzero(first.str.casefold().eq(head).to_numpy(dtype=bool) & ~out)
        if head
        else np.zeros(0, dtype=np.intp)
    )
    for i in again:
        cells = [("" if pd.isna(v) else str(v).strip()) for v in frame.iloc[i]]
        names = [str(c).strip() for c in frame.columns]
        out[i] = sum(1 for c in cells if c) >= 2 and all(
            not c or c.casefold() == n.casefold() for c, n in zip(cells, names, strict=True)
        )
    return out


def _footer_hits(texts: Iterable[str]) -> np.ndarray:
    return np.fromiter((_FOOTER_PATTERN.search(u) is not None for u in texts), dtype=bool)


def _read_csv_bytes(data: bytes, delim: str, header_row: int, name: str = "the file") -> pd.DataFrame:
    opts = dict(sep=delim, dtype=str, keep_default_na=False, skiprows=header_row)
    try:
        return pd.read_csv(io.BytesIO(data), engine="pyarrow", **opts)
    except Exception:  # ragged rows, odd quoting: the C engine copes with short rows
        pass
    # index_col=False: lines with one cell more than the header (a delimiter at the end of each data line) keep
    # their first cell as data, not as an index that shifts every column left; a line whose extra cells hold
    # text (an unquoted comma in '£1,234.50') cannot be read right, and is said
    opts["index_col"] = False
    _refuse_overflow(data, delim, header_row, name)
    try:
        with warnings.catch_warnings():  # only empty cells past the header's width are left out (_refuse_overflow)
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(io.BytesIO(data), engine="c", skip_blank_lines=True, **opts)
    except Exception:
        pass
    width: list[int] = []

    def truncate(bad: list[str]) -> list[str]:
        return bad[: width[0]]

    try:
        head = pd.read_csv(io.BytesIO(data), engine="python", nrows=0, **opts)
        width.append(len(head.columns))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(io.BytesIO(data), engine="python", on_bad_lines=truncate, **opts)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        raise _unparsable(name, delim, exc) from exc


def _refuse_overflow(data: bytes, delim: str, header_row: int, name: str) -> None:
    """InputError when data lines have more non-empty cells than the header line: their cells cannot be told apart
    (an unquoted delimiter inside a cell), and a reader would cut or shift them without a word."""
    try:
        records = csv.reader(io.StringIO(data.decode("utf-8", errors="replace")), delimiter=delim, strict=True)
        rows = iter(records)
        for _ in range(header_row):
            next(rows, None)
        width = len(next(rows, []))
        over: list[tuple[int, list[str]]] = []
        n = 0
        for i, rec in enumerate(rows, start=1):
            if len(rec) > width and any(c.strip() for c in rec[width:]):
                n += 1
                if len(over) < 3:
                    over.append((i, rec))
    except csv.Error:  # odd quoting: the readers below say what they can
        return
    if not n:
        return
    shown = DELIMITER_NAMES.get(delim, repr(delim))
    msg = (
        f"{n:,} line(s) have more cells than the header's {width} (such as row {over[0][0]}, with "
        f"{len(over[0][1])}): a cell holds a {shown} without quotes around it (such as a price written '1,234.50'), "
        "so the cells of these lines cannot be told apart; none of the file is loaded rather than read wrong."
    )
    fix = (
        f'Put quotes around cells that hold a {shown} ("1,234.50"), or export the file again from its system '
        "(CSV with quoted cells) or as XLSX."
    )
    examples = tuple(f'row {i}: "{delim.join(rec)}"'[:120] for i, rec in over)
    title = "Lines with more cells than the header"
    raise InputError(title, msg, [Problem(name, title, msg, fix, examples=examples)])


def _unparsable(name: str, delim: str, exc: Exception) -> InputError:
    msg = (
        f"{name} cannot be split into columns with the {DELIMITER_NAMES.get(delim, repr(delim))} delimiter its first "
        f"lines suggest: the quotes do not match ({exc})."
    )
    fix = "Open it in a spreadsheet and save it again as CSV (UTF-8), or check that quotes around cells are closed."
    return InputError(
        "File cannot be split into columns", msg, [Problem(name, "File cannot be split into columns", msg, fix)]
    )


def _clean_columns(frame: pd.DataFrame) -> pd.DataFrame:
    cols: list[str] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(frame.columns):
        name = str(c).strip().lstrip("\ufeff") or f"Column {i + 1}"
        if name.startswith("Unnamed: "):
            name = f"Column {i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        cols.append(name)
    frame.columns = cols
    return frame


def read_text(content: bytes, name: str = "the file", limits: ReadLimits | None = None) -> RawTable:
    """Read CSV/TSV/TXT bytes (already decompressed) as an all-text frame."""
    limits = limits or ReadLimits.from_env()
    check_text_shape(name, content, limits)
    encoding, data = detect_encoding(content, name)
    if len(data) >= csv.field_size_limit():  # one cell may be as long as the file (the default limit is 128 KB)
        csv.field_size_limit(len(data) + 1)
    lines = _sample_lines(data)
    delim, header_row = sniff_layout(lines)
    if lines:
        check_header(name, next(csv.reader(lines[header_row : header_row + 1] or [""], delimiter=delim), []), limits)
    elif len(data) > _SAMPLE_BYTES:  # not one whole line in the sample: the first line alone is over 256 KB
        check_header(name, ["x" * _SAMPLE_BYTES], limits)
    # bytes.isspace() is bytes.strip()'s whitespace, without a stripped copy of the file
    frame = _read_csv_bytes(data, delim, header_row, name) if data and not data.isspace() else pd.DataFrame()
    frame = _clean_columns(frame).astype("string").fillna("")
    notes = []
    if header_row:
        notes.append(f"Skipped {header_row} line(s) above the header row.")
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"Read as {encoding} (not UTF-8).")
    return RawTable(
        frame,
        footer_mask(frame),
        encoding=encoding,
        delimiter=delim,
        header_row=header_row,
        decimal_hint="," if delim == ";" else None,
        notes=tuple(notes),
    )


def _cells_to_text(values: np.ndarray) -> pd.Series:
    """Calamine cell values of one column -> text: integral floats without '.0', datetimes as ISO.

    Text cells (most cells of an export) are kept as they are; only the other cells go through the
    conversions below, and a float's text is worked out once per distinct value.
    """
    vals = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if not len(vals):
        return pd.Series(vals, dtype="string")
    text = _all_text(vals)
    if text is not None:
        return text
    kinds = np.fromiter(map(type, vals), dtype=object, count=len(vals))  # the cells' types, found once
    is_str = kinds == str  # noqa: E721 - elementwise numpy comparison of types
    if is_str.all():
        return pd.Series(vals, dtype="string")
    if not is_str.any():  # a column of numbers or dates: its text is built without Python strings per cell
        return _other_cells_to_text(vals, kinds)
    out = vals.copy()
    rest = ~is_str
    out[rest] = _other_cells_to_text(vals[rest], kinds[rest]).to_numpy(dtype=object)
    return pd.Series(out, dtype="string")


def _all_text(vals: np.ndarray) -> pd.Series | None:
    """A column of text and empty cells only -> its "string" Series, built by Arrow in one pass (no
    per-cell type check in Python); None when any cell is something else (Arrow stops at the first one).

    Empty cells (None) become "", as in _other_cells_to_text; the values and dtype are those of
    pd.Series(vals, dtype="string") with the empty cells filled.
    """
    import pyarrow as pa

    try:
        arr = pa.array(vals, type=pa.large_string())
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None
    if arr.null_count:
        arr = arr.fill_null("")
    return pd.Series(pd.arrays.ArrowStringArray(arr), dtype="string")


def _other_cells_to_text(values: np.ndarray, kinds: np.ndarray | None = None) -> pd.Series:
    """Non-text calamine cells -> text (numbers, dates, booleans, empty cells).

    Floats: integral ones below 1e15 as integers ("12", not "12.0"), others as repr, worked out once per
    distinct value; datetimes and dates as "YYYY-MM-DD HH:MM:SS"; empty cells ""; booleans TRUE/FALSE;
    anything else (int, time, duration) as str().
    """
    import datetime as _dt

    vals = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if not len(vals):
        return pd.Series(vals, dtype="string")
    if kinds is None:
        kinds = np.fromiter(map(type, vals), dtype=object, count=len(vals))
    out = np.empty(len(vals), dtype=object)
    is_float = kinds == float  # noqa: E721 - elementwise numpy comparison of types
    is_dt = (kinds == _dt.datetime) | (kinds == _dt.date)  # noqa: E721 - elementwise numpy comparison of types
    is_none = kinds == type(None)  # noqa: E721 - elementwise numpy comparison of types
    is_bool = kinds == bool  # noqa: E721 - elementwise numpy comparison of types
    if is_float.any():  # each distinct value's text once, spread back by its code (NaN is a value here)
        codes, uniq = pd.factorize(vals[is_float].astype("float64"), use_na_sentinel=False)
        u = np.asarray(uniq, dtype="float64")
        integral = (np.isfinite(u) & (u == np.round(u)) & (np.abs(u) < 1e15)).tolist()
        txt = np.array([str(int(x)) if ok else repr(x) for x, ok in zip(u.tolist(), integral)], dtype=object)
        if is_float.all():
            return _spread_text(txt, codes)
        out[is_float] = txt[codes]
    if is_dt.any():  # exports repeat timestamps (~5k distinct in 100k lines): formatted once each
        codes, uniq = pd.factorize(vals[is_dt], use_na_sentinel=False)
        dtxt = pd.to_datetime(pd.Series(np.asarray(uniq, dtype=object))).dt.strftime("%Y-%m-%d %H:%M:%S")
        if is_dt.all() and dtxt.notna().all():
            return _spread_text(dtxt.to_numpy(dtype=object), codes)
        out[is_dt] = dtxt.to_numpy(dtype=object)[codes]
    out[is_none] = ""
    if is_bool.any():
        out[is_bool] = np.where(vals[is_bool].astype(bool), "TRUE", "FALSE")
    rest = ~(is_float | is_dt | is_none | is_bool)
    if rest.any():
        out[rest] = [str(v) for v in vals[rest]]
    return pd.Series(out, dtype="string")


def _spread_text(texts: np.ndarray, codes: np.ndarray) -> pd.Series:
    """The "string" Series texts[codes], taken in Arrow (the distinct texts are converted once, not
    one Python string per cell); the same values and dtype as pd.Series(texts[codes], dtype="string")."""
    import pyarrow as pa

    arr = pa.array(texts, type=pa.large_string()).take(pa.array(codes, type=pa.int64()))
    return pd.Series(pd.arrays.ArrowStringArray(arr), dtype="string")


def list_sheets(content: bytes) -> tuple[str, ...]:
    from python_calamine import CalamineWorkbook

    return tuple(CalamineWorkbook.from_filelike(io.BytesIO(content)).sheet_names)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a sheet becomes Python values and then Arrow text.

    calamine's to_python allocates one list per row (tracked by the collector) and a value per cell, so
    a 100k-line sheet triggers full collections that walk every live object of the process and find
    nothing to free (rows of scalars hold no cycles): 0.10-0.13 s CPU of a 0.7 s read. Reference
    counting still frees everything; the collector is switched back on as it was found. The switch is
    process-wide: in the dashboard other sessions' threads run without cyclic collection for the length of
    a read (cycles wait for the next collection), and two reads at once leave it on when the first that
    found it on finishes.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_excel(
    content: bytes, sheet: str | None = None, name: str = "the workbook", limits: ReadLimits | None = None
) -> RawTable:
    """Read one sheet with python-calamine (default: the first sheet with any data)."""
    try:
        with _gc_paused():
            return _read_excel(content, sheet, name, limits)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        # calamine's Rust code panics on some malformed files (e.g. an OLE2 stream in a mini stream that is not
        # there); pyo3 raises that as PanicException, a BaseException no `except Exception` sees
        if type(exc).__name__ != "PanicException":
            raise
        fix = "Open and save it again in Excel, or export the sheet as CSV."
        raise InputError(
            "Unreadable spreadsheet",
            f"{name}: the workbook is damaged and cannot be opened.",
            [Problem(name, "Unreadable spreadsheet", "The workbook is damaged and cannot be opened.", fix)],
        ) from None


def _read_excel(content: bytes, sheet: str | None, name: str, limits: ReadLimits | None) -> RawTable:
    from python_calamine import CalamineWorkbook

    limits = limits or ReadLimits.from_env()
    check_workbook(name, content, limits)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
    except Exception as exc:  # calamine raises its own error types
        raise InputError(
            "Unreadable spreadsheet",
            f"The workbook cannot be opened ({exc}).",
            [Problem("", "Unreadable spreadsheet", str(exc), "Save it again as .xlsx or export a CSV.")],
        ) from exc
    sheets = tuple(wb.sheet_names)
    if sheet is not None and sheet not in sheets:
        raise InputError(
            "Sheet not found",
            f"The workbook has no sheet '{sheet}'; it has {', '.join(sheets)}.",
            [Problem("", "Sheet not found", f"No sheet '{sheet}'.", f"Pick one of: {', '.join(sheets)}.")],
        )
    rows: list[list] = []
    chosen = sheet
    for sheet_name in [sheet] if sheet else sheets:
        ws = wb.get_sheet_by_name(sheet_name)
        if ws.height * ws.width > limits.max_cells:  # checked before any cell becomes a Python object
            wb.close()
            raise _too_big(
                name,
                "Sheet too large",
                f"the sheet '{sheet_name}' has {ws.height:,} rows x {ws.width:,} "
                f"columns; at most {limits.max_cells:,} cells are read.",
                "RI_MAX_CELLS",
                "Delete unused rows and columns, or export the sheet as CSV",
            )
        if ws.width > limits.max_columns:
            wb.close()
            raise _too_big(
                name,
                "Too many columns",
                f"the sheet '{sheet_name}' has {ws.width:,} columns; at most {limits.max_columns:,} are read.",
                "RI_MAX_COLUMNS",
                "Delete unused columns, or export only the columns you need",
            )
        rows = ws.to_python(skip_empty_area=True)
        if any(any(v not in ("", None) for v in r) for r in rows):
            chosen = sheet_name
            break
    else:
        chosen = sheet or (sheets[0] if sheets else None)
    wb.close()
    lengths = set(map(len, rows))  # one pass in C (calamine's rows all have the sheet's width)
    width = max(lengths, default=0)
    # header: first row with at least half of the width filled and mostly text
    header_row = 0
    for i, r in enumerate(rows[:60]):
        filled = [v for v in r if v not in ("", None)]
        if len(filled) >= max(1, width // 2) and sum(isinstance(v, str) for v in filled) > len(filled) // 2:
            header_row = i
            break
    groups = _group_row(rows, header_row, width)
    if groups is not None:
        header_row += 1
    if not rows:
        frame = pd.DataFrame()
    else:
        header = list(rows[header_row]) + [""] * (width - len(rows[header_row]))
        if groups is not None:
            header = [_under_group(g, h) for g, h in zip(groups, header, strict=True)]
        check_header(name, ["" if h is None else str(h) for h in header], limits)
        body = rows[header_row + 1 :]
        if body and lengths == {width}:  # calamine's used range: every row has the full width
            grid = np.empty((len(body), width), dtype=object)
            grid[:] = body
            cols: list[Any] = [grid[:, i] for i in range(width)]
        else:
            cols = list(zip(*[r + [""] * (width - len(r)) for r in body])) if body else [()] * width
        frame = pd.DataFrame(
            {
                i: _cells_to_text(np.asarray(c, dtype=object) if not isinstance(c, np.ndarray) else c)
                for i, c in enumerate(cols)
            }
        )
        frame.columns = [("" if h is None else str(h)) for h in header]
        frame = _clean_columns(frame)
    notes: tuple[str, ...] = ()
    if groups is not None:
        named = ", ".join(f"'{g}'" for g in dict.fromkeys(g for g in groups if g))
        notes = (
            f"The header is on two rows: row {header_row} groups the columns ({named}) and row {header_row + 1} "
            "names them; each column is named by both (such as 'Order ID').",
        )
        if header_row > 1:
            notes += (f"Skipped {header_row - 1} row(s) above the header rows.",)
    elif header_row:
        notes = (f"Skipped {header_row} row(s) above the header row.",)
    return RawTable(frame, footer_mask(frame), sheets=sheets, sheet=chosen, header_row=header_row, notes=notes)


def _is_label(v: object) -> bool:
    """A cell that reads as a column name: text with a letter, not a date or number written as text."""
    return isinstance(v, str) and re.search(r"[^\W\d_]", v) is not None and not re.match(r"^\s*[\d#]", v)


def _group_row(rows: list[list], i: int, width: int) -> list[str] | None:
    """When row i is a row of group names over merged cells ('Order' over A:B, 'Product' over C:E) and row i+1
    the header proper, the group over each column (carried right across the merged, empty cells); else None.
    Row i+1 must name more columns than row i, each with a label, and the row after it hold data (a number or
    date, not only labels), so that a header with a blank cell over text data stays the header."""
    if i + 2 >= len(rows):
        return None
    top = list(rows[i]) + [""] * (width - len(rows[i]))
    sub = [v for v in rows[i + 1] if v not in ("", None)]
    filled = [j for j, v in enumerate(top) if v not in ("", None)]
    if not filled or len(sub) <= len(filled) or not all(_is_label(v) for v in sub):
        return None
    if not any(j + 1 < width and top[j + 1] in ("", None) for j in filled):  # no merged (empty) cell after a group
        return None
    if all(_is_label(v) for v in rows[i + 2] if v not in ("", None)):
        return None
    groups, current = [], ""
    for v in top:
        current = str(v).strip() if v not in ("", None) else current
        groups.append(current)
    return groups


def _under_group(group: str, name: object) -> str:
    """A column's name under its group: 'Order' + 'ID' -> 'Order ID'; a name that already says its group, or none,
    is kept ('Product' + 'Product name' -> 'Product name'); a column without a name below takes the group's."""
    text = "" if name is None else str(name).strip()
    if not text:
        return group
    if not group or text.casefold().startswith(group.casefold()):
        return text
    return f"{group} {text}"


def read_table(name: str, content: bytes, sheet: str | None = None, limits: ReadLimits | None = None) -> RawTable:
    """Read any supported upload (CSV/TSV/TXT, .gz/.bz2/.xz of those, XLSX/XLSM/XLS/ODS) as text, within limits."""
    limits = limits or ReadLimits.from_env()
    shown = name
    name, content = maybe_gunzip(name, content, limits)
    check_readable_format(shown, content)
    if is_excel(name, content):
        return read_excel(content, sheet, name=shown, limits=limits)
    return read_text(content, name=shown, limits=limits)


# ---------------------------------------------------------------- conversion of text columns
_CURRENCY_RX = r"[£$€¥₹₽]|\b(?:GBP|USD|EUR|CHF|SEK|NOK|DKK|PLN|CZK|JPY|AUD|CAD|NZD|INR|Fr|kr|zł)\b\.?"
_SPACES_RX = r"[\s\u00a0\u202f']"


def _on_uniques(func: Callable[..., Any], text: pd.Series, *args: object) -> Any:
    """Run a text parser on the distinct values only and spread the result back (exports repeat
    prices and timestamps a lot: 500k lines hold ~25k distinct timestamps)."""
    codes, uniques = pd.factorize(text.astype("string"), use_na_sentinel=True)
    if len(uniques) > len(text) // 2:
        return func(text, *args)
    u = pd.Series(uniques, dtype="string")
    values, bad, used = func(u, *args)
    v = values.to_numpy()
    take = np.where(codes >= 0, codes, 0)
    missing = codes < 0
    out_v = v[take] if len(v) else np.full(len(codes), np.nan, dtype=v.dtype)
    if len(v):
        out_v = out_v.copy()
        out_v[missing] = np.datetime64("NaT") if out_v.dtype.kind == "M" else np.nan
    out_b = np.where(missing, False, bad.to_numpy()[take] if len(v) else False)
    return (
        pd.Series(out_v, index=text.index, dtype=values.dtype),
        pd.Series(out_b.astype(bool), index=text.index),
        used,
    )


def parse_numbers(text: pd.Series, decimal: str = "auto", hint: str | None = None) -> tuple[pd.Series, pd.Series, str]:
    return _on_uniques(_parse_numbers, text, decimal, hint)


def _parse_numbers(text: pd.Series, decimal: str = "auto", hint: str | None = None) -> tuple[pd.Series, pd.Series, str]:
    """Text -> float64. Returns (values, bad mask, decimal used).

    Handles currency symbols and codes (£ $ € GBP ...), thousands separators (, . space ' ),
    decimal comma, parentheses and trailing-minus negatives. decimal="auto" decides per column:
    a comma is the decimal mark when a value has a comma after the last dot, or a comma followed by
    other than exactly three digits (e.g. 12,5 or 1.234,50); otherwise the dot is.
    `hint` ("," for semicolon-delimited files) decides when no value settles it.
    Empty cells are missing (NaN), not bad.
    """
    s = text.astype("string").str.strip()
    empty = (s.isna() | s.eq("")).fillna(True).astype(bool)
    t = s.str.replace(_CURRENCY_RX, "", regex=True).str.replace(_SPACES_RX, "", regex=True)
    neg_paren = t.str.fullmatch(r"\(.*\)").fillna(False)
    t = t.where(~neg_paren, "-" + t.str.slice(1, -1))
    neg_trail = t.str.fullmatch(r"[\d.,]+-").fillna(False)
    t = t.where(~neg_trail, "-" + t.str.slice(0, -1))
    if decimal == "auto":
        sample = t[~empty]
        comma_dec = sample.str.contains(r"\.\d*,\d+$|,(?:\d{1,2}|\d{4,})$", regex=True).fillna(False)
        dot_dec = sample.str.contains(r",\d*\.\d+$|\.(?:\d{1,2}|\d{4,})$", regex=True).fillna(False)
        nc, nd = int(comma_dec.sum()), int(dot_dec.sum())
        decimal = "," if nc > nd else "." if nd > nc or hint is None else hint
    # a mark repeated as in 1,000,000 or 1.000.000 can only be a thousands separator, whatever the column's decimal
    multi_comma = t.str.fullmatch(r"-?\d{1,3}(?:,\d{3}){2,}").fillna(False).astype(bool)
    multi_dot = t.str.fullmatch(r"-?\d{1,3}(?:\.\d{3}){2,}").fillna(False).astype(bool)
    if decimal == ",":
        t = (
            t.str.replace(".", "", regex=False)
            .str.replace(",", ".", regex=False)
            .where(~multi_comma, t.str.replace(",", "", regex=False))
        )
    else:
        t = t.str.replace(",", "", regex=False).where(~multi_dot, t.str.replace(".", "", regex=False))
    values = _num(t.where(~empty))
    bad = (~empty & values.isna()).fillna(False).astype(bool)
    return values, bad, decimal


_DMY_RX = (
    r"^(?P<a>\d{1,2})(?P<sep>[./\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{2}|\d{4})"
    r"(?:[ T,]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[AaPp][Mm])?)?$"
)
_ISO_RX = r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_TZ_RX = r"(?<=:\d\d)(?:\.\d+)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$"
_SERIAL_MIN, _SERIAL_MAX = 20_000, 80_000  # 1954 .. 2119 as Excel serial days


def _num(x: pd.Series) -> pd.Series:
    """Text -> float64 with NaN for missing/bad (never a nullable dtype, so masks stay plain bool)."""
    return pd.to_numeric(x, errors="coerce").astype("float64")


def _from_parts(
    y: pd.Series,
    m: pd.Series,
    d: pd.Series,
    hh: pd.Series | None = None,
    mm: pd.Series | None = None,
    ss: pd.Series | None = None,
) -> pd.Series:
    parts = pd.DataFrame({"year": y, "month": m, "day": d})
    if hh is not None:
        parts["hour"], parts["minute"], parts["second"] = hh, mm, ss
    parts = parts.astype("float64")
    ok = parts.notna().all(axis=1)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(parts[ok].astype("int64"), errors="coerce")
    return out


def parse_dates(text: pd.Series, date_format: str = "auto") -> tuple[pd.Series, pd.Series, str]:
    return _on_uniques(_parse_dates, text, date_format)


def date_order_shown(text: pd.Series) -> str | None:
    """The day order that day/month/year-like values prove by themselves: "dmy" when a first part is above 12,
    "mdy" when a second part is; None when every value could be read either way (or none is of that form).

    >>> date_order_shown(pd.Series(["02/01/2024", "25/01/2024"])), date_order_shown(pd.Series(["10/01/2024"]))
    ('dmy', None)
    """
    s = pd.Series(text.dropna().astype("string").str.strip().unique(), dtype="string")
    ex = s.str.extract(_DMY_RX)
    hit = ex["a"].notna().to_numpy(dtype=bool)
    if not hit.any():
        return None
    if (_num(ex["a"])[hit] > 12).any():
        return "dmy"
    if (_num(ex["b"])[hit] > 12).any():
        return "mdy"
    return None


def _ns_or_nat(value: Any) -> pd.Timestamp:
    try:
        return pd.Timestamp(value).as_unit("ns")
    except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError, TypeError):
        return pd.NaT


def _parse_dates(text: pd.Series, date_format: str = "auto") -> tuple[pd.Series, pd.Series, str]:
    """Text -> datetime64[ns] (time kept). Returns (values, bad mask, order used: "ymd"|"dmy"|"mdy").

    Accepts ISO (2010-12-01 07:45:00, with T or timezone suffix - the local time is kept),
    DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY, DD-MM-YYYY (2- or 4-digit years, optional time and AM/PM),
    Excel serial day numbers (origin 1899-12-30), and other spelled-out forms through pandas'
    mixed parser as a last resort. Day-first vs month-first is decided per column from the values
    (a first part above 12 means day-first, a second part above 12 month-first); when every value is
    ambiguous, settings decide, else '.' and '-' mean day-first and '/' month-first (US exports).
    """
    s = text.astype("string").str.strip()
    empty = (s.isna() | s.eq("")).fillna(True).astype(bool)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    order = "ymd"
    todo = ~empty
    # ISO first
    iso = todo & s.str.match(_ISO_RX + "|" + _ISO_RX[:-1] + r"\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$").fillna(False)
    if iso.any():
        t = s[iso].str.replace(_TZ_RX, "", regex=True).str.replace(r"[/.]", "-", regex=True)
        out[iso] = pd.to_datetime(t, format="ISO8601", errors="coerce").astype("datetime64[ns]")
        todo &= ~iso
    # day/month/year or month/day/year
    if todo.any():
        ex = s[todo].str.extract(_DMY_RX)
        hit = ex["a"].notna().astype(bool)
        if hit.any():
            a = _num(ex["a"])
            b = _num(ex["b"])
            if date_format in ("dmy", "mdy"):
                order = date_format
            elif (a[hit] > 12).any():
                order = "dmy"
            elif (b[hit] > 12).any():
                order = "mdy"
            else:
                sep = ex.loc[hit, "sep"].mode().iloc[0]
                order = "mdy" if sep == "/" else "dmy"
            y = _num(ex["y"])
            y = y.where(y >= 100, np.where(y < 70, 2000 + y, 1900 + y))
            day, month = (a, b) if order == "dmy" else (b, a)
            hh = _num(ex["H"]).fillna(0)
            pm = ex["ampm"].str.lower().eq("pm").fillna(False)
            am = ex["ampm"].str.lower().eq("am").fillna(False)
            hh = hh.where(~(pm & (hh < 12)), hh + 12).where(~(am & (hh == 12)), 0)
            vals = _from_parts(y, month, day, hh, _num(ex["M"]).fillna(0), _num(ex["S"]).fillna(0))
            idx = vals.index[hit.to_numpy()]
            out[idx] = vals[idx]
            todo[idx] = False
    # Excel serial numbers
    if todo.any():
        num = _num(s[todo])
        serial = num.between(_SERIAL_MIN, _SERIAL_MAX)
        if serial.any():
            idx = serial.index[serial.to_numpy()]
            out[idx] = (pd.Timestamp("1899-12-30") + pd.to_timedelta(num[idx], unit="D")).dt.round("s")
            todo[idx] = False
    # last resort, on the few leftovers only (e.g. "1 Dec 2010", "Dec 1, 2010 7:45 AM")
    if todo.any():
        rest = s[todo]
        if rest.str.contains(r"[A-Za-z]{3}", regex=True).any():
            try:
                parsed = pd.to_datetime(rest, format="mixed", dayfirst=(order == "dmy"), errors="coerce", utc=False)
            except (ValueError, TypeError):
                parsed = pd.Series(pd.NaT, index=rest.index)
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_localize(None)
            try:
                parsed = parsed.astype("datetime64[ns]")
            except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError, TypeError):  # e.g. year -8: not a date
                parsed = pd.Series([_ns_or_nat(v) for v in parsed], index=rest.index, dtype="datetime64[ns]")
            out[rest.index] = parsed
    bad = (~empty & out.isna()).fillna(False).astype(bool)
    return out, bad, order
