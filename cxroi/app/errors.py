"""The error guard every page runs under: a plain message for the user, never a traceback or a
server path, unless the viewer is declared a local admin.

:class:`~cxroi.errors.CxroiError` messages are written for users and shown as they are, with any
absolute server path cut to its last part ("…/models"). Anything else is unexpected: the user
sees one sentence with a short reference, and the exception with its traceback goes to the
server's log under that reference. Only when ``CXROI_SHOW_ERROR_DETAILS=1`` (set it on a
machine where the app serves its own administrator, e.g. ``make app`` on a laptop) are full
messages and the traceback shown too, folded in a "Technical details" expander. Streamlit's own
control-flow signals (rerun, stop, fragment handling) pass through untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import traceback
from collections.abc import Iterator

import streamlit as st
from streamlit.errors import FragmentHandledException

from cxroi.errors import CxroiError
from cxroi.text import literal

#: the setting that declares the viewer a local admin who may see tracebacks and server paths
DETAILS_SETTING = "CXROI_SHOW_ERROR_DETAILS"
LOG = logging.getLogger("cxroi.app")
#: an absolute POSIX or Windows path (not the path part of a URL): every folder before its last part
_SERVER_PATH = re.compile(r"(?<![\w:/.~-])(?:/|[A-Za-z]:\\)(?:[^\s/\\'\"]+[/\\])+")


def show_details() -> bool:
    """Whether the viewer is a local admin (``CXROI_SHOW_ERROR_DETAILS=1``): off by default."""
    return os.environ.get(DETAILS_SETTING, "").strip() == "1"


def without_server_paths(message: str) -> str:
    """``message`` with every absolute path cut to its last part: ``/srv/cxroi/models/x`` → ``…/x``."""
    return _SERVER_PATH.sub("…/", message)


@contextlib.contextmanager
def guard(action: str) -> Iterator[None]:
    """Run the block; on failure show what went wrong while ``action`` (e.g. "loading the
    model") instead of a traceback."""
    try:
        yield
    except FragmentHandledException:
        raise
    except CxroiError as exc:
        message = str(exc) if show_details() else without_server_paths(str(exc))
        st.error(f"Problem while {action}: {literal(message)}", icon=":material/error:")
    except Exception as exc:
        reference = secrets.token_hex(3)
        LOG.error("unexpected error while %s (reference %s)", action, reference, exc_info=exc)
        st.error(
            f"Something went wrong while {action}. The rest of the app still works; if this keeps "
            f"happening, give your analytics team the reference {reference} (the details are in the "
            "server's log).",
            icon=":material/error:",
        )
        if show_details():
            with st.expander("Technical details"):
                st.code(f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}", language=None)
