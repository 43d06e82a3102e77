"""Placeholder."""

import streamlit as st


def compare() -> None:
    st.title("compare")
