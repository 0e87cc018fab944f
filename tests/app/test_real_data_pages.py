"""Every page on the real 500k-line export (../shared/data), uploaded as a user would: no exception, no error,
and the Overview's unit return rate equals an independent computation from the loaded tables."""

import hashlib

import pytest

from tests.app.conftest import PAGES, assert_clean, run_page
from tests.conftest import REAL_DATA
from dashboard import session as S

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real():
    if not REAL_DATA.exists():
        pytest.skip(f"real export not found at {REAL_DATA}; it lives in ../shared/data and is never copied here")
    data = REAL_DATA.read_bytes()
    h = hashlib.sha256(data).hexdigest()
    spec = S.DatasetSpec(kind="upload", files=(S.UploadedRef(REAL_DATA.name, h, None, None),), name="Online Retail II")
    return spec, {h: data}


@pytest.mark.parametrize("page", PAGES)
def test_page_on_the_real_export(page, real):
    spec, contents = real
    at = run_page(page, spec, contents, timeout=300)
    assert_clean(at, page)


def test_summary_rate_matches_the_loaded_tables(real):
    from dashboard import cache

    spec, contents = real
    at = run_page("views/overview.py", spec, contents, timeout=300)
    ds = cache.dataset_for(spec, contents)
    from analysis.prepare import prepare

    p = prepare(ds)
    lines = p.lines[p.lines["mature"]]
    rate = lines["returned_units"].sum() / lines["quantity"].sum()  # independent of analysis.metrics
    summary = " ".join(m.value for m in at.markdown).replace("\\", "")  # markdown escapes removed
    assert f"Returns are {rate:.1%} of units sold" in summary
