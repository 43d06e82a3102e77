"""The optimiser's objectives on hand-made NPV draws."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.errors import ScenarioError
from cxroi.sim.optimise import CVaR, ExpectedNPV, FlooredExpectedNPV, objective_named

NPV = np.array([[-40.0, 10.0, 20.0, 30.0, -10.0, 50.0, 60.0, 0.0],   # 5 of 8 draws above 0
                [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]])       # every draw above 0


def test_expected_npv_is_the_mean_and_has_no_floor():
    value, met = ExpectedNPV().score(NPV)
    np.testing.assert_allclose(value, [120.0 / 8, 68.0 / 8])
    assert met.tolist() == [True, True]


def test_cvar_is_the_mean_of_the_worst_share_of_draws():
    # 25 % of 8 draws: the two worst, −40 and −10, and 5 and 6
    value, met = CVaR(alpha=0.25).score(NPV)
    np.testing.assert_allclose(value, [-25.0, 5.5])
    assert met.all()
    # fewer draws than one in the tail: the single worst
    np.testing.assert_allclose(CVaR(alpha=0.01).value(NPV), [-40.0, 5.0])


def test_the_floor_counts_the_share_of_draws_with_positive_npv():
    _, met = FlooredExpectedNPV(floor=0.7).score(NPV)
    assert met.tolist() == [False, True]  # 5/8 = 0.625 < 0.7
    _, met = FlooredExpectedNPV(floor=0.625).score(NPV)
    assert met.tolist() == [True, True]


@pytest.mark.parametrize("objective", [ExpectedNPV(), CVaR(alpha=0.25), FlooredExpectedNPV()])
def test_draw_weights_give_the_objective_and_add_up_to_one(objective):
    for npv in NPV:
        weights = objective.draw_weights(npv)
        assert weights.sum() == pytest.approx(1.0)
        assert weights @ npv == pytest.approx(objective.value(npv))


def test_objectives_by_name():
    assert objective_named("mean") == ExpectedNPV()
    assert objective_named("cvar", alpha=0.2) == CVaR(alpha=0.2)
    assert objective_named("prob", floor=0.9) == FlooredExpectedNPV(floor=0.9)
    with pytest.raises(ScenarioError, match="objective must be one of mean, cvar, prob"):
        objective_named("median")
    with pytest.raises(ScenarioError, match="between 0 and 1"):
        FlooredExpectedNPV(floor=1.5)
    with pytest.raises(ScenarioError, match=r"\(0, 1\]"):
        CVaR(alpha=0.0)
