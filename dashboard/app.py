"""Returns Intelligence: the router. Page config and navigation only."""
import logging

import streamlit as st

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

st.set_page_config(page_title="Returns Intelligence", page_icon=":material/assignment_return:", layout="wide")

pages = {
    "Data": [
        st.Page("pages/upload.py", title="Upload & map", icon=":material/upload_file:", url_path="upload"),
    ],
    "Insights": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
        st.Page("pages/collections.py", title="Collections", icon=":material/category:", url_path="collections"),
        st.Page("pages/intents.py", title="Intents", icon=":material/shopping_basket:", url_path="intents"),
        st.Page("pages/combinations.py", title="Combinations", icon=":material/join_inner:", url_path="combinations"),
        st.Page("pages/journeys.py", title="Journeys", icon=":material/route:", url_path="journeys"),
        st.Page("pages/reasons.py", title="Reasons & outcomes", icon=":material/help:", url_path="reasons"),
        st.Page("pages/trends.py", title="Trends", icon=":material/trending_up:", url_path="trends"),
    ],
    "Actions": [
        st.Page("pages/fixlist.py", title="Fix list", icon=":material/checklist:", url_path="fix-list"),
        st.Page("pages/interventions.py", title="Interventions", icon=":material/science:", url_path="interventions"),
    ],
}
st.navigation(pages, expanded=True).run()
