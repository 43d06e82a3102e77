"""A history in which CSAT and NPS move nothing: the leaning priors must not manufacture an effect.

The posterior of every CX effect averaged over segments must contain 0 in its 90 % interval (so
the training flags "no detectable effect" for each), and a catalogue scenario, whose true ROI is
−100 % (costs, no benefit), must not be called profitable with confidence."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.data.quality import no_effect_warnings
from cxroi.params import CX_EFFECTS
from cxroi.sim.engine import Simulator
from validation.calibration import StudySettings, fitted_artifact, fixed_scenario

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bayes-fits")]  # shares conftest.py's fits

#: stated P(ROI > 0) above which a scenario counts as "confidently profitable"
CONFIDENT = 0.8


def test_no_effect_history_is_flagged_for_every_effect(no_effect_fit) -> None:
    design, fit = no_effect_fit
    flagged = {w.effects[0] for w in no_effect_warnings(fit.draws, design.segments)}
    # Every true effect is exactly 0 and the 4 averages are tested at 90 %: a calibrated model
    # misses ≈ 0.4 of them; the seed is fixed (null_panel(21), model seed 5), so this is
    # deterministic, and a prior strong enough to pull an average off 0 would fail it.
    assert flagged == set(CX_EFFECTS)


def test_no_effect_history_does_not_make_a_scenario_confidently_profitable(no_effect_fit, catalogue) -> None:
    design, fit = no_effect_fit
    settings = StudySettings(scenario_months=12, horizon_months=24)
    run = Simulator(fitted_artifact(fit, design, catalogue)).run(fixed_scenario(design.segments, catalogue, settings))
    # True ROI is −100 %. With effects centred on 0, the benefit is as likely below 0 as above and
    # the costs are certain, so a calibrated P(ROI > 0) sits below 0.5; 0.8 is where the planner's
    # wording turns confident — the failure the leaning priors could cause if they outweighed the
    # history (the issue saw 0.84 on such data).
    assert run.prob_roi_positive < CONFIDENT, run.prob_roi_positive
    assert np.median(run.roi) < 0
