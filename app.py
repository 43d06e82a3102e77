"""cxroi Streamlit app: ``streamlit run app.py`` (or ``make app``). Navigation over the pages in
:mod:`cxroi.app.pages`; each page renders under its own error guard."""

import streamlit as st

from cxroi.app.pages.compare import compare
from cxroi.app.pages.data_retrain import data_retrain
from cxroi.app.pages.drivers import drivers
from cxroi.app.pages.export import export
from cxroi.app.pages.optimiser import optimiser
from cxroi.app.pages.overview import overview
from cxroi.app.pages.planner import planner

st.set_page_config(page_title="cxroi — CX investment ROI", page_icon=":material/insights:", layout="wide")

pages = {
    "Decide": [
        st.Page(overview, title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
        st.Page(planner, title="Scenario planner", icon=":material/tune:", url_path="planner"),
        st.Page(compare, title="Compare", icon=":material/compare_arrows:", url_path="compare"),
        st.Page(optimiser, title="Optimiser", icon=":material/auto_graph:", url_path="optimiser"),
    ],
    "Finance": [
        st.Page(export, title="Export", icon=":material/download:", url_path="export"),
    ],
    "Analysts": [
        st.Page(drivers, title="Drivers & model health", icon=":material/monitoring:", url_path="drivers"),
        st.Page(data_retrain, title="Data & retrain", icon=":material/upload_file:", url_path="data"),
    ],
}
st.navigation(pages).run()
