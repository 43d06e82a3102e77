"""Placeholder."""

import streamlit as st


def data_retrain() -> None:
    st.title("data_retrain")
