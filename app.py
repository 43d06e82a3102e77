"""cxroi Streamlit app: ``streamlit run app.py`` (or ``make app``). Navigation over the pages in
:mod:`cxroi.app.pages` that the acting user's roles allow; each page renders under its own error
guard.

Sign-in is Streamlit's own (``st.login`` over OpenID Connect) when ``[auth]`` is configured in
``.streamlit/secrets.toml``; otherwise the app runs in local mode (:mod:`cxroi.app.signin`).

A page's module is imported when the page is first shown, so start-up pays only for the page
that opens (the Overview) and never for the optimiser's or the store's libraries; the panel checks'
library (pandera) is imported without pandas-on-Spark, which the app never uses.
"""

import importlib
from collections.abc import Callable

import streamlit as st

from cxroi.app.layout import apply_laptop_layout
from cxroi.app.pandera_import import import_pandera_without_spark
from cxroi.app.signin import acting_user
from cxroi.service.identity import Permission


def lazy_page(name: str) -> Callable[[], None]:
    """The page function ``cxroi.app.pages.<name>.<name>``, imported on first call."""

    def page() -> None:
        getattr(importlib.import_module(f"cxroi.app.pages.{name}"), name)()

    page.__name__ = name
    return page


#: group → (module, title, icon, url path, permission needed to be offered the page)
PAGES = {
    "Decide": [
        ("overview", "Overview", ":material/dashboard:", "overview", Permission.VIEW),
        ("planner", "Scenario planner", ":material/tune:", "planner", Permission.VIEW),
        ("compare", "Compare", ":material/compare_arrows:", "compare", Permission.VIEW),
        ("optimiser", "Optimiser", ":material/auto_graph:", "optimiser", Permission.VIEW),
        ("decisions", "Decisions", ":material/gavel:", "decisions", Permission.VIEW),
        ("track", "Track decisions", ":material/track_changes:", "track", Permission.VIEW),
    ],
    "Finance": [
        ("export", "Export", ":material/download:", "export", Permission.EXPORT),
    ],
    "Analysts": [
        ("drivers", "Drivers & model health", ":material/monitoring:", "drivers", Permission.REPORT),
        ("data_retrain", "Data & retrain", ":material/upload_file:", "data", Permission.RETRAIN),
    ],
    "Admin": [
        ("audit", "Audit trail", ":material/policy:", "audit", Permission.AUDIT),
    ],
}

import_pandera_without_spark()  # before any page imports the panel checks
st.set_page_config(page_title="cxroi — CX investment ROI", page_icon=":material/insights:", layout="wide")
apply_laptop_layout()
user = acting_user()
offered = {
    group: [st.Page(lazy_page(name), title=title, icon=icon, url_path=path, default=path == "overview")
            for name, title, icon, path, permission in pages if user.can(permission)]
    for group, pages in PAGES.items()
}
st.navigation({group: pages for group, pages in offered.items() if pages}).run()
