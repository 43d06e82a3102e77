"""Placeholder."""

import streamlit as st


def export() -> None:
    st.title("export")
