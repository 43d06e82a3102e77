"""The variance decomposition against closed forms on an exact artifact whose draws differ only
in the CSAT → revenue-per-customer effect d and the initiative's CSAT lift L.

Same world as tests/sim/test_response.py: N customers who neither churn nor arrive, ARPU A0, only
the ARPU lever moving, no carry-over, no lag, every month funded at nominal spend (sat = 1), so
per draw NPV = D · (g·N·A0·(exp(d·L/10) − 1) − c). The four draws are a 2 × 2 design,
d = d̄(1 ± a) and L = L̄(1 ± b), so the two parameters are exactly uncorrelated over the draws.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cxroi.sim import finance
from cxroi.sim.attribution import GROUPS, uncertainty_shares
from cxroi.sim.scenario import parse_scenario
from cxroi.testing.artifacts import exact_artifact

N, A0, COST, MARGIN, HORIZON = 10_000.0, 10.0, 1_000.0, 0.7, 24
D_MEAN, L_MEAN, A, B = 0.2, 5.0, 0.1, 0.3
D_DRAWS = D_MEAN * (1 + A * np.array([-1.0, 1.0, -1.0, 1.0]))
L_DRAWS = L_MEAN * (1 + B * np.array([-1.0, -1.0, 1.0, 1.0]))
SCENARIO = parse_scenario({"name": "nominal", "horizon_months": HORIZON, "gross_margin": MARGIN, "investments": [
    {"initiative": "I", "segments": ["S"], "duration_months": HORIZON, "monthly_spend": COST}]})


def npv(d, lift):
    discount = finance.discount_factors(finance.monthly_rate(0.10), HORIZON).sum()
    return discount * (MARGIN * N * A0 * np.expm1(d * lift / 10) - COST)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    values = {"churn_intercept": -60.0, "acq_intercept": -60.0, "arpu_intercept": float(np.log(A0)),
              "arpu_csat": D_MEAN, "lift_csat": L_MEAN, "lift_nps": 0.0, "lift_carryover": 0.0}
    exact = exact_artifact(tmp_path_factory.mktemp("attribution"), "attribution-exact", values, n_draws=4,
                           customers=N, lag=0, monthly_cost=COST)
    return replace(exact, draws={**exact.draws, "arpu_csat": D_DRAWS[:, None], "lift_csat": L_DRAWS[:, None]})


def test_shares_are_the_variance_removed_by_fixing_each_parameter(artifact):
    table = uncertainty_shares(artifact, SCENARIO).set_index("group")
    total = npv(D_DRAWS, L_DRAWS).var()
    expected_d = 1 - npv(D_MEAN, L_DRAWS).var() / total  # d fixed at its mean, L keeps its draws
    expected_l = 1 - npv(D_DRAWS, L_MEAN).var() / total
    # float32 kernel: NPVs of ~1e6 to about 1e-6 relative, their variances to ~1e-5
    assert table.loc["arpu_csat", "variance_share"] == pytest.approx(expected_d, abs=1e-4)
    assert table.loc["lift_csat", "variance_share"] == pytest.approx(expected_l, abs=1e-4)
    # L varies three times as much as d: about a²/(a² + b²) = 10 % of the variance is d's, 90 % L's
    assert expected_l > 0.8 and expected_d < 0.2
    for group in set(GROUPS) - {"arpu_csat", "lift_csat"}:  # the others do not vary: nothing to remove
        assert table.loc[group, "variance_share"] == pytest.approx(0.0, abs=1e-4)
    assert table.index[0] == "lift_csat"
    assert table.attrs["npv_sd"] == pytest.approx(np.sqrt(total), rel=1e-4)


def test_a_scenario_that_does_not_vary_has_no_shares(artifact):
    fixed = replace(artifact, draws={**artifact.draws, "arpu_csat": np.full((4, 1), D_MEAN),
                                     "lift_csat": np.full((4, 1), L_MEAN)})
    table = uncertainty_shares(fixed, SCENARIO)
    assert (table["variance_share"] == 0).all() and table.attrs["npv_sd"] == pytest.approx(0.0, abs=1e-6)
