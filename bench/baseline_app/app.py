"""The baseline of the browser benchmark: a bare two-page Streamlit app, each page a heading, a table and a
chart (plotly, as the dashboard draws), with the same router shape as dashboard/app.py. It reads no data
and caches nothing: what a page switch costs in Streamlit itself, with the same browser and network."""

import streamlit as st

st.set_page_config(page_title="Baseline", layout="wide")
page = st.navigation(
    {
        "Pages": [
            st.Page("views/first.py", title="First", url_path="first", default=True),
            st.Page("views/second.py", title="Second", url_path="second"),
        ]
    },
    expanded=True,
)
page.run()
