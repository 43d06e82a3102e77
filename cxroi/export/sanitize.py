"""Neutralise spreadsheet formula injection in exported text.

A spreadsheet treats a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (or strips the control character and then does). Exports put a single quote in
front of such text so it is shown as typed and never evaluated. Numbers are not text and stay as
they are (a negative amount is a number, not a formula).
"""

from __future__ import annotations

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text`` with a leading single quote when it could be read as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def neutralise_value(value: object) -> object:
    """Neutralise strings; return any other value unchanged."""
    return neutralise(value) if isinstance(value, str) else value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text column neutralised (numeric columns untouched)."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].map(neutralise_value)
    return out
