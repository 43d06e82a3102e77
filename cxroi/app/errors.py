"""The error guard every page runs under: a plain message for the user, details in an expander.

:class:`~cxroi.errors.CxroiError` messages are written for users and shown as they are. Anything
else is unexpected: the user sees one sentence, and the exception type, message and traceback go
into a collapsed expander for whoever supports them. Streamlit's own control-flow signals
(rerun, stop, fragment handling) pass through untouched.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator

import streamlit as st
from streamlit.errors import FragmentHandledException

from cxroi.errors import CxroiError
from cxroi.text import literal


@contextlib.contextmanager
def guard(action: str) -> Iterator[None]:
    """Run the block; on failure show what went wrong while ``action`` (e.g. "loading the
    model") instead of a traceback."""
    try:
        yield
    except FragmentHandledException:
        raise
    except CxroiError as exc:
        st.error(f"Problem while {action}: {literal(exc)}", icon=":material/error:")
    except Exception as exc:
        st.error(
            f"Something went wrong while {action}. The rest of the app still works; "
            "if this keeps happening, send the details below to your analytics team.",
            icon=":material/error:",
        )
        with st.expander("Technical details"):
            st.code(f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}", language=None)
