"""One module per page, each exposing one page function called by ``st.navigation``."""
