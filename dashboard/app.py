"""Returns Intelligence: the router. Page config and navigation only."""

import logging

import streamlit as st

from dashboard import context

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

st.set_page_config(page_title="Returns Intelligence", page_icon=":material/assignment_return:", layout="wide")

pages = {
    "Data": [
        st.Page("views/upload.py", title="Upload & map", icon=":material/upload_file:", url_path="upload"),
    ],
    "Insights": [
        st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
        st.Page("views/collections.py", title="Collections", icon=":material/category:", url_path="collections"),
        st.Page("views/intents.py", title="Intents", icon=":material/shopping_basket:", url_path="intents"),
        st.Page("views/combinations.py", title="Combinations", icon=":material/join_inner:", url_path="combinations"),
        st.Page("views/journeys.py", title="Journeys", icon=":material/route:", url_path="journeys"),
        st.Page("views/reasons.py", title="Reasons & outcomes", icon=":material/help:", url_path="reasons"),
        st.Page("views/trends.py", title="Trends", icon=":material/trending_up:", url_path="trends"),
    ],
    "Actions": [
        st.Page("views/fixlist.py", title="Fix list", icon=":material/checklist:", url_path="fixlist"),
        st.Page("views/interventions.py", title="Interventions", icon=":material/science:", url_path="interventions"),
    ],
}
page = st.navigation(pages, expanded=True)
context.shell()  # data and sidebar filters are drawn here, so they persist across pages
page.run()
