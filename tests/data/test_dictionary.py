"""The data dictionary and the upload template agree with the panel's validation."""

from __future__ import annotations

import io

import pandas as pd

from cxroi.data.dictionary import TEMPLATE_CSV, dictionary_frame
from cxroi.data.schema import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, validate_panel


def test_the_template_is_a_valid_panel_with_one_unsurveyed_month():
    panel, findings = validate_panel(pd.read_csv(io.StringIO(TEMPLATE_CSV)))
    assert panel is not None
    assert len(panel) == 4 and set(panel["segment"]) == {"SMB-EU", "Enterprise-EU"}
    assert all(f.severity == "warning" for f in findings)


def test_the_dictionary_documents_every_column_and_which_are_required():
    table = dictionary_frame().set_index("column")
    assert set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS) <= set(table.index)
    assert set(table.index[table["required"] == "yes"]) == set(REQUIRED_COLUMNS)
    template_columns = pd.read_csv(io.StringIO(TEMPLATE_CSV)).columns
    assert list(template_columns) == list(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
