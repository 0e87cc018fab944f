"""AppTest: hostile files dropped on Upload & map give a plain message naming the file and the limit, never an
exception (issue 13, findings 2 and 3). The bombs are built in memory from a few hundred KB."""

from __future__ import annotations

import gzip
import io

from dashboard import session as S
from tests.app.conftest import run_page


def _gzip_of_zeros(n_mb: int) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as g:
        for _ in range(n_mb):
            g.write(b"\0" * 1024 * 1024)
    return buf.getvalue()


def _messages(at) -> str:
    return " ".join(e.value for e in list(at.error) + list(at.warning)).replace("\\", "")  # markdown escapes removed


def test_gzip_bomb_and_giant_line_get_plain_messages():
    at = run_page("views/upload.py")
    files = [
        ("bomb.csv.gz", _gzip_of_zeros(100), "application/gzip"),
        ("oneline.csv", b"x" * (3 * 1024 * 1024), "text/csv"),
    ]
    at.file_uploader(key=S.U_FILES).set_value(files).run()
    assert not at.exception, [e.value for e in at.exception]
    text = _messages(at)
    assert "bomb.csv.gz" in text and "RI_MAX_RATIO" in text, text
    assert "oneline.csv" in text and "RI_MAX_LINE_KB" in text, text
