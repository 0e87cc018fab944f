"""The leadership summary renders to a real PDF where a renderer (headless Chromium) is installed."""

import pytest

from analysis.engine import analyse
from analysis.prepare import prepare
from analysis.summary import leadership_summary, pdf_available
from data.demo import generate_dataset


def test_summary_pdf_when_a_renderer_exists():
    if not pdf_available():
        pytest.skip("no PDF renderer (Chromium or WeasyPrint) on this machine: the summary is offered as HTML")
    p = prepare(generate_dataset(seed=2, n_orders=3000))
    doc = leadership_summary(analyse(p, briefs=False), p)
    assert doc.pdf is not None and doc.pdf.startswith(b"%PDF"), doc.pdf_message
    assert len(doc.pdf) > 5_000
    assert "<script" not in doc.html.lower()
