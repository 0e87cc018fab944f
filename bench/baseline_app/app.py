"""The baseline of the browser benchmark: a bare Streamlit app with one page per dashboard page (same titles),
each drawing a heading and the same number of plotly charts and dataframes as that dashboard page, of similar
sizes (views/page.py). Same router shape as dashboard/app.py; it reads no data and caches nothing: what a
page switch costs in Streamlit itself for that much drawing, with the same browser and network."""

import re
import sys
from functools import partial
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).parent / "views"))
from page import draw, pages  # noqa: E402

st.set_page_config(page_title="Baseline", layout="wide")
specs = pages()
nav = [
    st.Page(
        partial(draw, title, spec, i),
        title=title,
        url_path=re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or f"page-{i}",
        default=i == 0,
    )
    for i, (title, spec) in enumerate(specs.items())
]
st.navigation({"Pages": nav}, expanded=True).run()
