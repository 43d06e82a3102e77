"""`cxroi train --asymmetric`: gain/loss churn effects fitted by the Bayesian family on a history
whose falls of CSAT/NPS hurt three times as much as rises help, stored in the artifact (both
slopes' draws) and read back by the simulator; refused for the regression family."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi import registry
from cxroi.cli import main
from cxroi.data.synth import CX_EFFECT_MEANS
from cxroi.params import LOSS_PARAMETERS

from .conftest import synthetic_panel

LOSS_FACTOR = 3.0  # true churn slope below the base level / slope above it
#: true population difference of the CSAT → churn slopes, below minus above (logit per 10 points):
#: the generator's population mean (−0.25) × (LOSS_FACTOR − 1)
TRUE_DIFFERENCE = CX_EFFECT_MEANS["churn_csat"] * (LOSS_FACTOR - 1.0)


def test_the_regression_family_refuses_the_option_and_writes_nothing(tmp_path, capsys) -> None:
    panel, _ = synthetic_panel(3, segments=3, months=18)
    data = tmp_path / "panel.csv"
    panel.to_csv(data, index=False)
    models = tmp_path / "models"
    code = main(["train", "--data", str(data), "--family", "regression", "--asymmetric", "--models-dir", str(models)])
    assert code == 2
    assert "--asymmetric applies to the bayes family only" in capsys.readouterr().err
    assert not models.exists()


@pytest.mark.slow
def test_gain_loss_fit_stores_both_slopes_and_finds_falls_stronger(tmp_path, capsys) -> None:
    """6 segments × 36 months, churn slopes of CSAT and NPS three times as steep below each
    segment's base level as above it (survey error off: this test is about the churn slopes and
    the smaller model samples in a quarter of the time). The artifact must hold draws of both
    loss slopes, the manifest the asymmetry summary, and the posterior must find the truth: for
    CSAT → churn the true population difference of the slopes, (3 − 1) × −0.25 = −0.5 logit per
    10 points, inside its P10–P90, and P(falls act more strongly) above 0.8 (measured 0.94 with
    this seed; the prior gives 0.5)."""
    panel, _ = synthetic_panel(21, segments=4, months=30, loss_factor=LOSS_FACTOR)
    data = tmp_path / "panel.csv"
    panel.to_csv(data, index=False)
    models = tmp_path / "models"
    code = main(["train", "--data", str(data), "--asymmetric", "--draws", "200", "--tune", "200", "--chains", "2",
                 "--seed", "3", "--no-survey-error", "--no-promote", "--models-dir", str(models)])
    out = capsys.readouterr().out
    assert code in (0, 4), out  # accepted, or stored as rejected by the health gate: never an error
    (row,) = registry.list_models(models)
    artifact = registry.load_artifact(row["model_id"], models)
    asymmetry = artifact.manifest.asymmetry
    assert asymmetry is not None and set(asymmetry.effects) == {"churn_csat", "churn_nps"}
    for name in LOSS_PARAMETERS:
        assert artifact.draws[name].shape == artifact.draws["churn_csat"].shape
        assert np.all(np.isfinite(artifact.draws[name]))
    difference = asymmetry.loss_minus_gain["churn_csat"]
    assert difference["low"] <= TRUE_DIFFERENCE <= difference["high"], difference
    assert asymmetry.p_loss_stronger["churn_csat"] > 0.8, asymmetry
