"""cxroi Streamlit app: ``streamlit run app.py`` (or ``make app``). Navigation over the pages in
:mod:`cxroi.app.pages`; each page renders under its own error guard.

A page's module is imported when the page is first shown, so start-up pays only for the page
that opens (the Overview) and never for the optimiser's or the store's libraries; the panel checks'
library (pandera) is imported without pandas-on-Spark, which the app never uses.
"""

import importlib
from collections.abc import Callable

import streamlit as st

from cxroi.app.layout import apply_laptop_layout
from cxroi.app.pandera_import import import_pandera_without_spark


def lazy_page(name: str) -> Callable[[], None]:
    """The page function ``cxroi.app.pages.<name>.<name>``, imported on first call."""

    def page() -> None:
        getattr(importlib.import_module(f"cxroi.app.pages.{name}"), name)()

    page.__name__ = name
    return page


import_pandera_without_spark()  # before any page imports the panel checks
st.set_page_config(page_title="cxroi — CX investment ROI", page_icon=":material/insights:", layout="wide")
apply_laptop_layout()

pages = {
    "Decide": [
        st.Page(lazy_page("overview"), title="Overview", icon=":material/dashboard:", url_path="overview",
                default=True),
        st.Page(lazy_page("planner"), title="Scenario planner", icon=":material/tune:", url_path="planner"),
        st.Page(lazy_page("compare"), title="Compare", icon=":material/compare_arrows:", url_path="compare"),
        st.Page(lazy_page("optimiser"), title="Optimiser", icon=":material/auto_graph:", url_path="optimiser"),
    ],
    "Finance": [
        st.Page(lazy_page("export"), title="Export", icon=":material/download:", url_path="export"),
    ],
    "Analysts": [
        st.Page(lazy_page("drivers"), title="Drivers & model health", icon=":material/monitoring:",
                url_path="drivers"),
        st.Page(lazy_page("data_retrain"), title="Data & retrain", icon=":material/upload_file:", url_path="data"),
    ],
}
st.navigation(pages).run()
