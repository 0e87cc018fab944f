"""One segment-column spec (analysis.columns) for the dashboard tables and the workbook's Segments sheet."""

from __future__ import annotations

import io

import openpyxl
import pytest

from analysis.columns import KINDS, SEGMENT_COLUMNS, page_columns, sheet_columns
from analysis.engine import analyse
from analysis.export import fixlist_xlsx
from analysis.prepare import prepare
from data.demo import generate_dataset


@pytest.fixture(scope="module")
def analysis():
    return analyse(prepare(generate_dataset(seed=3, n_orders=3000)), briefs=False)


def test_spec_is_well_formed():
    keys = [c.key for c in SEGMENT_COLUMNS]
    assert len(keys) == len(set(keys))
    assert all(c.kind in KINDS and (c.page or c.export) for c in SEGMENT_COLUMNS)


def test_every_described_column_is_produced(analysis):
    # noise_reason is added for display (analysis.concentration.agree_with_interval), the rest by analyse()
    missing = {c.key for c in SEGMENT_COLUMNS} - set(analysis.segments.columns) - {"noise_reason"}
    assert not missing, missing


def test_workbook_headers_come_from_the_spec(analysis):
    wb = openpyxl.load_workbook(io.BytesIO(fixlist_xlsx(analysis)), read_only=True)
    header = [c.value for c in next(wb["Segments"].iter_rows(max_row=1))]
    assert header == [h for k, h, _ in sheet_columns() if k in analysis.segments.columns]


def test_page_config_comes_from_the_spec():
    from dashboard.segment_views import SEGMENT_COLUMNS as PAGE

    assert list(PAGE) == [c.page_key or c.key for c in page_columns()]
    assert [PAGE[c.page_key or c.key]["label"] for c in page_columns()] == [c.header for c in page_columns()]
