"""Separated churn data (no churner at all, or CSAT splitting months with and without churners)
give finite regression estimates with a warning — never a crash."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import expit

from cxroi.catalogue import load_catalogue
from cxroi.data.schema import require_valid
from cxroi.fit.design import build_design
from cxroi.fit.regression import SEPARATION_PRIOR_SD, RegressionModel, _penalised_binomial
from tests.trust import awkward


def never_churns(panel, rows) -> None:
    panel.loc[rows, "churned"] = 0


def churns_only_after_low_csat(panel, rows) -> None:
    csat = panel.loc[rows, "csat"].to_numpy()
    low_before = np.concatenate([[False], csat[:-1] < np.median(csat)])
    panel.loc[rows, "churned"] = np.where(low_before, (panel.loc[rows, "customers_start"] * 0.05).round(), 0)


@pytest.mark.parametrize(("edit", "phrase"), [
    (never_churns, "quasi-complete separation"),
    (churns_only_after_low_csat, "perfectly splits months with churners"),
])
def test_separated_segments_give_finite_draws_and_a_warning(edit, phrase) -> None:
    panel = awkward.base().sort_values(["segment", "period"]).reset_index(drop=True)
    edit(panel, panel.index[panel["segment"] == awkward.AFFECTED])
    catalogue = load_catalogue()
    design = build_design(require_valid(awkward._restock(panel)), catalogue)
    fit = RegressionModel(n_draws=300, seed=4).fit(design, catalogue)
    assert all(np.isfinite(values).all() for values in fit.draws.values())
    assert any(phrase in w for w in fit.warnings), fit.warnings


def test_penalised_fit_of_a_segment_without_churners_solves_its_own_equation() -> None:
    """One intercept b, no churner in 12 months of 10 000 customers, prior N(0, 5²): the MAP solves
    −N·expit(b) − b/25 = 0 (N = 120 000 trials); found here by a bracketing root search."""
    trials = np.full(12, 10_000.0)
    params, cov = _penalised_binomial(np.ones((12, 1)), np.zeros(12), trials, n_segments=1)
    prior_var = SEPARATION_PRIOR_SD["intercept"] ** 2
    expected = brentq(lambda b: -trials.sum() * expit(b) - b / prior_var, -50.0, 0.0)
    # the optimiser stops once the gradient is ~1e-6; 1e-4 on the logit is far inside the estimate's sd
    assert params[0] == pytest.approx(expected, abs=1e-4)
    assert np.isfinite(cov).all() and cov[0, 0] > 0
