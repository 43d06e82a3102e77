"""The Streamlit app: one module per page under :mod:`cxroi.app.pages`, plus chart builders,
number formatting, cached loading and the error guard shared by every page."""
