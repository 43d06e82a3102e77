"""Page layout that holds on a laptop screen: narrower side bar and page margins below 1280 px.

Streamlit's wide layout keeps 5 rem margins and a 300 px side bar at any width, which leaves a
1024 px laptop about 560 px for charts and tables; below 1280 px the margins shrink to 1.5 rem and
the side bar to 244 px, giving about 730 px. Wider screens keep Streamlit's defaults.
"""

from __future__ import annotations

import streamlit as st

LAPTOP_MAX_WIDTH_PX = 1279
SIDEBAR_WIDTH_PX = 244

_STYLE = f"""<style>
@media (max-width: {LAPTOP_MAX_WIDTH_PX}px) {{
  [data-testid="stMainBlockContainer"] {{ padding-left: 1.5rem; padding-right: 1.5rem; padding-top: 3rem; }}
  section[data-testid="stSidebar"] {{ width: {SIDEBAR_WIDTH_PX}px !important; min-width: {SIDEBAR_WIDTH_PX}px !important; }}
}}
</style>"""


def apply_laptop_layout() -> None:
    """Add the laptop-width style to the page (a style-only element takes no space)."""
    st.html(_STYLE)
