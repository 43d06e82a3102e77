"""Awkward-data checks on panels: each problem gives its own specific warning, clean data none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxroi.data.quality import (
    MIN_CUSTOMERS,
    no_effect_warnings,
    panel_warnings,
    warning_texts,
)
from cxroi.data.schema import validate_panel
from tests.trust import awkward


def _codes(panel: pd.DataFrame) -> set[tuple[str, str | None]]:
    valid, findings = validate_panel(panel)
    assert valid is not None, [f.problem for f in findings if f.severity == "error"]
    return {(w.code, w.segment) for w in panel_warnings(valid)}


def test_clean_panel_has_no_warning():
    assert _codes(awkward.base()) == set()


@pytest.mark.parametrize("case", [c for c in awkward.CASES if awkward.CASES[c][1] not in ("no_effect", "unexpected_sign")])
def test_each_awkward_panel_gives_exactly_its_warning(case):
    builder, code, segment = awkward.CASES[case]
    assert _codes(builder()) == {(code, segment)}


def _panel(segment_rows: dict[str, list[tuple[float, int, int]]]) -> pd.DataFrame:
    """A hand-made panel: per segment a list of (csat, customers_start, churned) months."""
    rows = []
    for segment, months in segment_rows.items():
        for t, (csat, customers, churned) in enumerate(months):
            rows.append({"segment": segment, "period": pd.Timestamp("2024-01-01") + pd.DateOffset(months=t),
                         "customers_start": customers, "churned": churned, "new_customers": churned,
                         "revenue": 1000.0, "csat": csat, "nps": 10.0 + t})
    return pd.DataFrame(rows)


def test_separation_is_judged_on_the_lagged_csat():
    # churn in month t follows CSAT of month t−1: CSAT 80 → no churn next month, CSAT 70 → churn.
    csat = [80, 70, 80, 70, 80, 70]
    churned = [3, 0, 4, 0, 5, 0]  # month 0's churn has no lagged CSAT and does not count
    assert _codes(_panel({"A": list(zip(csat, [500] * 6, churned, strict=True))})) == {("separation", "A")}
    # here months after CSAT 80 have 3, 0 and 2 churners, months after CSAT 70 have 4 and 5:
    # churn months and churn-free months overlap in CSAT, so nothing is separated
    mixed = [0, 3, 4, 0, 5, 2]
    assert _codes(_panel({"A": list(zip(csat, [500] * 6, mixed, strict=True))})) == set()


def test_separation_in_the_unexpected_direction_is_reported_too():
    csat = [80, 70, 80, 70, 80, 70]
    churned = [0, 3, 0, 4, 0, 5]  # churn only after CSAT 80: separated, in the other direction
    assert _codes(_panel({"A": list(zip(csat, [500] * 6, churned, strict=True))})) == {("separation", "A")}


def test_no_churn_at_all_is_reported_as_not_identified():
    panel = _panel({"A": [(70 + t, 500, 0) for t in range(6)]})
    (warning,) = panel_warnings(validate_panel(panel)[0])
    assert warning.code == "separation" and "no customer churned" in warning.message


def test_small_segment_threshold_is_strict():
    at = _panel({"A": [(70 + t % 3, MIN_CUSTOMERS, 1 + t % 2) for t in range(6)]})
    below = _panel({"A": [(70 + t % 3, MIN_CUSTOMERS - 1, 1 + t % 2) for t in range(6)]})
    assert _codes(at) == set()
    assert _codes(below) == {("small_segment", "A")}


def test_missing_months_are_listed_by_month():
    panel = awkward.missing_months()
    (warning,) = [w for w in panel_warnings(validate_panel(panel)[0]) if w.code == "missing_months"]
    periods = sorted(awkward.base()["period"].unique())
    for m in (9, 10, 15):
        assert f"{pd.Timestamp(periods[m]):%Y-%m}" in warning.message
    assert "3 missing month(s)" in warning.message


def test_late_segment_says_how_many_months():
    (warning,) = panel_warnings(validate_panel(awkward.late_segment(last=8))[0])
    assert f"last 8 of {awkward.MONTHS} months" in warning.message


def test_no_effect_warning_from_draws():
    rng = np.random.default_rng(0)
    segments = ["A", "B", "C"]
    # centred on 0 with sd 0.1 per segment: the average's 90 % interval contains 0
    flat = {"churn_csat": rng.normal(0.0, 0.1, (2000, 3))}
    # clearly negative everywhere: the average's 90 % interval is about −0.3 ± 0.1, excluding 0
    strong = {"churn_csat": rng.normal(-0.3, 0.1, (2000, 3))}
    (warning,) = no_effect_warnings(flat, segments)
    assert warning.code == "no_effect" and "churn_csat" in warning.message
    assert no_effect_warnings(strong, segments) == []


def test_warning_texts_are_unique_and_ordered():
    panel = awkward.constant_csat()
    warnings = panel_warnings(validate_panel(panel)[0])
    texts = warning_texts(warnings + warnings)
    assert texts == [str(w) for w in warnings]
