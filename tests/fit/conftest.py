"""Fixtures of the model tests: synthetic panels with known truth and session-scoped fits.

Bayesian fits share one model object (:func:`bayes_model`) so that nutpie compiles the model once
for every panel with the same segments and no spend history (recovery, no-effect, separation,
reproducibility); each further fit only samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxroi.catalogue import load_catalogue
from cxroi.data.schema import require_valid
from cxroi.data.synth import generate
from cxroi.fit.design import build_design

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "panel.csv"
#: the cheaper recovery configuration run in the suite (the full one is in benchmarks/bench_fit.py)
RECOVERY_SEGMENTS, RECOVERY_MONTHS, RECOVERY_SEEDS = 6, 36, (11, 12, 13)
DRAWS, TUNE, CHAINS = 500, 500, 2


def synthetic_panel(seed: int, segments: int = RECOVERY_SEGMENTS, months: int = RECOVERY_MONTHS,
                    spend: bool = False, **kwargs) -> tuple[pd.DataFrame, dict]:
    """A validated synthetic panel and its truth; without spend columns unless ``spend``."""
    result = generate(segments=segments, months=months, seed=seed, **kwargs)
    raw = result.panel if spend else result.panel.loc[:, ~result.panel.columns.str.startswith("spend_")]
    return require_valid(raw, f"synthetic seed {seed}"), result.truth


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="session")
def bayes_model():
    from cxroi.fit.bayes import BayesModel

    # both chains at once where a core is free: nutpie seeds each chain on its own, so the draws
    # are the same whatever ``cores`` is
    return BayesModel(draws=DRAWS, tune=TUNE, chains=CHAINS, seed=5, cores=CHAINS)


@pytest.fixture(scope="session")
def recovery_fits(bayes_model, catalogue):
    """(truth, design, FitResult) for each recovery seed."""
    fits = []
    for seed in RECOVERY_SEEDS:
        panel, truth = synthetic_panel(seed)
        design = build_design(panel, catalogue)
        fits.append((truth, design, bayes_model.fit(design, catalogue)))
    return fits


def null_panel(seed: int = 21) -> pd.DataFrame:
    """A panel whose outcomes do not depend on CSAT/NPS at all: outcomes of one synthetic draw
    (population effects 0) with the survey columns of an independent draw, so every segment's
    true effect is exactly 0."""
    zero = {"churn_csat": 0.0, "churn_nps": 0.0, "arpu_csat": 0.0, "acq_nps": 0.0}
    outcomes, _ = synthetic_panel(seed, effects=zero)
    surveys, _ = synthetic_panel(seed + 1)
    columns = ["csat", "nps", "csat_responses", "nps_responses"]
    return outcomes.assign(**{c: surveys[c].to_numpy() for c in columns})


@pytest.fixture(scope="session")
def no_effect_fit(bayes_model, catalogue):
    design = build_design(null_panel(), catalogue)
    return design, bayes_model.fit(design, catalogue)


def separated_panel(seed: int = 31) -> pd.DataFrame:
    """A synthetic panel in which one segment loses no customer in any month after a month of
    above-average CSAT: satisfaction then separates churn-free months from the others."""
    panel, _ = synthetic_panel(seed)
    segment = sorted(panel["segment"].unique())[0]
    rows = panel.index[panel["segment"] == segment]
    csat = panel.loc[rows, "csat"].to_numpy()
    good_last_month = np.r_[False, csat[:-1] > csat.mean()]
    panel.loc[rows[good_last_month], "churned"] = 0
    return panel


@pytest.fixture(scope="session")
def separated_fit(bayes_model, catalogue):
    design = build_design(separated_panel(), catalogue)
    return design, bayes_model.fit(design, catalogue)


@pytest.fixture(scope="session")
def regression_artifact(tmp_path_factory) -> Path:
    """A regression model trained on data/sample through the training pipeline."""
    from cxroi.data.readers import load_panel
    from cxroi.fit.train import TrainSettings, train
    from cxroi.manifest import SamplerConfig

    panel, _ = load_panel(SAMPLE)
    models_dir = tmp_path_factory.mktemp("models")
    outcome = train(panel, TrainSettings(family="regression", seed=3, sampler=SamplerConfig(draws=250, chains=4)), models_dir=models_dir)
    return outcome.path
