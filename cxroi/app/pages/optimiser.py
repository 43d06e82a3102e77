"""Placeholder."""

import streamlit as st


def optimiser() -> None:
    st.title("optimiser")
