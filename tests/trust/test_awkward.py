"""Awkward data end to end: every awkward panel trains to finite draws without a crash, and its
specific warning reaches the `cxroi train` output, the manifest and the model report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxroi.registry import load_artifact
from tests.trust import awkward
from tests.trust.conftest import flat

#: what each case must say (a phrase of its warning) — written from the case's construction
EXPECTED = {
    "perfect_separation": f"segment '{awkward.AFFECTED}': satisfaction perfectly separates months with churners",
    "no_effect": "no detectable effect of CSAT on churn (churn_csat)",
    "unexpected_sign": "churn_csat has the unexpected sign",
    "small_segment": f"segment '{awkward.TINY}': only 22 customers (fewer than 50)",
    "missing_months": f"segment '{awkward.AFFECTED}': 3 missing month(s)",
    "constant_csat": f"segment '{awkward.AFFECTED}': CSAT is constant (75.0) in every month",
    "late_segment": f"segment '{awkward.AFFECTED}' appears only in the last 8 of {awkward.MONTHS} months",
}
CASES = sorted(EXPECTED)

#: one worker builds the module's shared fits (with --dist loadgroup)
pytestmark = pytest.mark.xdist_group("trust-awkward")


def test_every_case_has_an_expectation():
    assert set(EXPECTED) == set(awkward.CASES)


@pytest.mark.parametrize("case", CASES)
def test_training_never_crashes(awkward_runs, case):
    run = awkward_runs[case]
    # 0 = accepted, 4 = stored but rejected by the health gate; 2 (user error) or 3 (internal
    # error) would mean the awkward panel broke training
    assert run.train.code in (0, 4), run.train.output
    assert run.manifest.status in ("accepted", "rejected")


@pytest.mark.parametrize("case", CASES)
def test_draws_and_backtest_are_finite(awkward_runs, case):
    run = awkward_runs[case]
    artifact = load_artifact(run.model_dir)
    for name, values in artifact.draws.items():
        assert np.isfinite(values).all(), name
    assert all(np.isfinite(r.model_mape_pct) for r in run.manifest.backtest.rows)
    for segment, state in run.manifest.state.items():
        assert all(np.isfinite(v) for v in state.model_dump().values()), segment


@pytest.mark.parametrize("case", CASES)
def test_warning_reaches_manifest_cli_and_report(awkward_runs, case):
    run = awkward_runs[case]
    phrase = EXPECTED[case]
    assert any(phrase in w for w in run.manifest.warnings), run.manifest.warnings
    assert phrase in run.train.output
    assert run.report.code == 0, run.report.output
    assert phrase in flat((run.report_dir / "report.md").read_text())
    assert phrase.replace("'", "&#x27;") in flat((run.report_dir / "report.html").read_text())


def test_unexpected_sign_is_reported_not_clipped(awkward_runs):
    """The data were built with churn rising by 0.5 logit per +10 CSAT points (population mean):
    the stored draws keep that positive sign in every segment."""
    artifact = load_artifact(awkward_runs["unexpected_sign"].model_dir)
    assert (np.median(artifact.draws["churn_csat"], axis=0) > 0).all()


def test_late_segment_is_forecast_from_its_last_month(awkward_runs):
    run = awkward_runs["late_segment"]
    panel = awkward.late_segment()
    last = panel[panel["segment"] == awkward.AFFECTED].sort_values("period").iloc[-1]
    state = run.manifest.state[awkward.AFFECTED]
    assert state.customers == last["customers_start"] - last["churned"] + last["new_customers"]
    # the forecast starts from the regression calibration of that month's CSAT: with thousands of
    # answers (sampling sd ≈ 0.8 points, reliability ≈ 0.93) it moves the score by well under a
    # point toward the segment's mean, never to the mean itself
    segment_mean = panel.loc[panel["segment"] == awkward.AFFECTED, "csat"].mean()
    assert abs(state.csat - last["csat"]) < 1.0
    assert abs(state.csat - segment_mean) > 0.5 * abs(last["csat"] - segment_mean)
    assert awkward.AFFECTED in run.manifest.backtest.excluded_segments


def test_clean_data_gives_no_data_warning(awkward_runs):
    """Only the awkward segment is named: the other segments of the same panels stay quiet."""
    run = awkward_runs["constant_csat"]
    data_warnings = [w for w in run.manifest.warnings if w.startswith("segment '")]
    assert data_warnings and all(w.startswith(f"segment '{awkward.AFFECTED}'") for w in data_warnings)


@pytest.mark.slow
def test_bayesian_fit_with_gaps_and_a_late_segment_is_finite():
    """Both gap kinds in one panel, through the Bayesian family (masked cells in the outcome
    likelihoods and in the CSAT/NPS lift sub-model): finite draws and a usable starting state."""
    from cxroi.catalogue import load_catalogue
    from cxroi.data.schema import require_valid
    from cxroi.fit.bayes import BayesModel
    from cxroi.fit.design import build_design

    late = awkward.late_segment()
    gaps = awkward.missing_months()
    other = gaps["segment"] == "MidMarket-EU"  # give a second segment the gaps of AFFECTED
    periods = set(gaps.loc[gaps["segment"] == awkward.AFFECTED, "period"])
    panel = pd.concat([late[late["segment"] != "MidMarket-EU"],
                       gaps[other & gaps["period"].isin(periods)]], ignore_index=True)
    design = build_design(require_valid(panel), load_catalogue(), 1)
    fit = BayesModel(draws=100, tune=150, chains=2, seed=1).fit(design, load_catalogue())
    for name, values in fit.draws.items():
        assert np.isfinite(values).all(), name
    assert all(np.isfinite(v) for state in design.state().values() for v in state.values())
