"""Placeholder."""

import streamlit as st


def drivers() -> None:
    st.title("drivers")
