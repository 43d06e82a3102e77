"""Survey sampling error of CSAT and NPS (cxroi.fit.survey), the response grids of the design and
the "survey error ignored" caveat, which appears only for scores the fit did not model."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.data.quality import EFFECTS_OF_SCORE, SURVEY_ERROR_IGNORED
from cxroi.fit.design import build_design
from cxroi.fit.survey import PASSIVE_SHARE, csat_se, measurements, nps_se
from cxroi.fit.train import survey_error_ignored
from tests.fit.conftest import synthetic_panel


def test_csat_standard_error_by_hand() -> None:
    # 80 % top-2-box of 100 answers: p = (80 + 1)/(100 + 2) = 0.794118, se = 100·√(p(1 − p)/100)
    # = 10·√(0.794118 × 0.205882) = 10 × 0.404345 = 4.0435 points
    assert csat_se(np.array(80.0), np.array(100)) == pytest.approx(4.0435, abs=1e-3)


def test_nps_standard_error_by_hand() -> None:
    # NPS 20 of 100 answers: d = 0.2 × 100/102 = 0.196078, q = max(|d|, 0.7) = 0.7,
    # se = 100·√((0.7 − 0.038447)/100) = 100 × 0.081336 = 8.1336 points
    assert nps_se(np.array(20.0), np.array(100)) == pytest.approx(8.1336, abs=1e-3)
    # all promoters: q = |d| would give zero variance; the smoothed floor keeps it positive
    assert nps_se(np.array(100.0), np.array(50)) > 0


def test_nps_bound_matches_the_sampling_spread_of_surveys_with_typical_passives() -> None:
    """200 000 simulated surveys of 50 answers (45 % promoters, 30 % passives, 25 % detractors,
    NPS 20): the spread of their NPS is the exact 100·√((p₊ + p₋ − (p₊ − p₋)²)/n) = 11.49
    points; the bound from the score alone differs from it by the smoothing only (< 2 %)."""
    rng = np.random.default_rng(3)
    votes = rng.multinomial(50, [0.45, PASSIVE_SHARE, 0.25], size=200_000)
    spread = (100.0 * (votes[:, 0] - votes[:, 2]) / 50).std()
    assert spread == pytest.approx(100 * np.sqrt((0.70 - 0.04) / 50), rel=0.01)  # Monte Carlo error ≈ 0.2 %
    assert nps_se(np.array(20.0), np.array(50)) == pytest.approx(spread, rel=0.02)


def test_months_without_answers_are_not_measurements() -> None:
    values = np.array([[70.0, 72.0, 71.0], [60.0, 61.0, 62.0]])
    responses = np.array([[100, 0, 50], [0, 0, 400]])
    m = measurements("csat", values, responses)
    assert m["segment"].tolist() == [0, 0, 1] and m["month"].tolist() == [0, 2, 2]
    assert m["value"].tolist() == [70.0, 71.0, 62.0]
    assert m["se"][2] == pytest.approx(csat_se(np.array(62.0), np.array(400)))


def test_design_keeps_response_counts_and_marks_unsurveyed_months(catalogue) -> None:
    panel, _ = synthetic_panel(11, segments=3, months=18)
    unsurveyed = panel.index[(panel["segment"] == panel["segment"].iloc[0])][5]
    panel.loc[unsurveyed, ["csat", "csat_responses"]] = np.nan
    design = build_design(panel, catalogue)
    assert design.csat_responses[0, 5] == 0 and np.isfinite(design.csat[0, 5])  # interpolated for other uses
    assert (design.nps_responses > 0).all()
    assert build_design(panel.drop(columns=["csat_responses"]), catalogue).responses("csat") is None


def test_survey_error_caveat_only_for_scores_not_modelled() -> None:
    assert survey_error_ignored(("csat", "nps")) == []
    assert survey_error_ignored(()) == [SURVEY_ERROR_IGNORED]
    (only_nps,) = survey_error_ignored(("csat",))
    assert only_nps.code == SURVEY_ERROR_IGNORED.code and only_nps.effects == EFFECTS_OF_SCORE["nps"]
    assert "NPS" in only_nps.message and "CSAT" not in only_nps.message.replace("NPS", "")


def test_response_counts_missing_in_a_surveyed_month_turn_the_error_model_off(catalogue) -> None:
    panel, _ = synthetic_panel(12, segments=3, months=18)
    panel.loc[panel.index[3], "nps_responses"] = np.nan
    design = build_design(panel, catalogue)
    assert design.responses("nps") is None and design.responses("csat") is not None
