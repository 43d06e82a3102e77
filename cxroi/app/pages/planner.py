"""Placeholder."""

import streamlit as st


def planner() -> None:
    st.title("planner")
