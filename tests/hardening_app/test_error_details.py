"""Failure without leaks: visitors see a plain message with a reference, never a traceback or a
server path; only a viewer declared a local admin (CXROI_SHOW_ERROR_DETAILS=1) sees the details."""

from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

FAILING_APP = """
from cxroi.app.errors import guard
from cxroi.errors import ArtifactError
with guard("loading the model"):
    raise ArtifactError("model 'x' not found in /srv/cxroi/secret-models")
with guard("drawing the chart"):
    open("/srv/cxroi/secret-models/missing.json")
"""


def page_text(at: AppTest) -> str:
    """Every message, expander label and code block the run rendered."""
    parts = [e.value for e in at.error] + [x.label for x in at.expander] + [c.value for c in at.code]
    return "\n".join(parts)


@pytest.mark.parametrize("setting", [None, "0", "yes"])
def test_a_visitor_sees_no_traceback_and_no_server_path(monkeypatch, caplog, setting):
    if setting is None:
        monkeypatch.delenv("CXROI_SHOW_ERROR_DETAILS", raising=False)
    else:
        monkeypatch.setenv("CXROI_SHOW_ERROR_DETAILS", setting)
    with caplog.at_level(logging.ERROR, logger="cxroi.app"):
        at = AppTest.from_string(FAILING_APP).run()
    assert not at.exception
    shown = page_text(at)
    assert "Traceback" not in shown and "/srv" not in shown and "FileNotFoundError" not in shown, shown
    assert not at.expander and not at.code
    assert at.error[0].value == "Problem while loading the model: model 'x' not found in …/secret-models"
    message = at.error[1].value
    assert message.startswith("Something went wrong while drawing the chart.")
    reference = message.split("the reference ")[1].split(" ")[0]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the details are in the server's log


def test_a_local_admin_sees_the_traceback_and_full_paths(monkeypatch):
    monkeypatch.setenv("CXROI_SHOW_ERROR_DETAILS", "1")
    at = AppTest.from_string(FAILING_APP).run()
    assert "/srv/cxroi/secret-models" in at.error[0].value
    assert at.expander[0].label == "Technical details"
    assert "FileNotFoundError" in at.code[0].value and "Traceback" in at.code[0].value
