"""How a page shows errors: the project's RIError (title, sentence, each problem with its fix), an unexpected
exception (logged, a short message), and a view that needs columns the data does not have.

User text goes through formatting.md, never unsafe_allow_html."""

from __future__ import annotations

import logging

import streamlit as st

from data.errors import RIError
from dashboard.formatting import md

log = logging.getLogger("returns_intelligence")


def show_error(err: RIError) -> None:
    """Render one of the project's errors: a short title, a sentence, and each problem with its fix."""
    st.error(f"**{md(err.title)}**  \n{md(err.message)}")
    if err.problems:
        with st.expander(f"{len(err.problems)} problem(s) found", expanded=True):
            for p in err.problems:
                where = md(p.file) + (f", column '{md(p.column)}'" if p.column else "")
                ex = f"  \nExamples: {md('; '.join(p.examples))}" if p.examples else ""
                st.markdown(f"- **{md(p.title)}** ({where}): {md(p.message)}{ex}  \n  *Fix:* {md(p.fix)}")


def show_unexpected(exc: Exception, what: str) -> None:
    log.exception("Unexpected error while %s", what)
    st.error(
        f"**Something went wrong while {what}.**  \nThe details were written to the server log. "
        "Try again, or reload the data; if it keeps happening, report it with the log."
    )


def missing(what: str, columns: str) -> None:
    st.info(
        f"**{what} is not available for this dataset.** To see it, map {columns} on the Upload & map page.",
        icon=":material/info:",
    )
