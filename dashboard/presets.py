"""Access to the persistent store of user-entered state (mapping presets, interventions)."""
import streamlit as st

from data.state import StateStore


@st.cache_resource(show_spinner=False)
def preset_store() -> StateStore:
    """One store per server process; it writes JSON files under RI_STATE_DIR (default ~/.returns-intelligence)."""
    return StateStore()
