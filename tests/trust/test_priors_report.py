"""Prior vs posterior of every CX effect, as the Drivers page and the report show them."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi import registry
from cxroi.app.effects import PRIOR_ROW, prior_posterior
from cxroi.fit.priors import prior_summary
from cxroi.manifest import EffectPrior
from cxroi.params import CX_EFFECTS
from cxroi.report.content import priors_section
from cxroi.testing.artifacts import plausible_artifact


@pytest.fixture
def with_priors(tmp_path):
    base = plausible_artifact(tmp_path, model_id="bayes-base")
    manifest = base.manifest.model_copy(update={
        "model_id": "bayes-priors", "files": {}, "content_hash": None, "survey_error": ("csat",),
        "priors": {e: EffectPrior(**prior_summary(e)) for e in CX_EFFECTS},
        "identification": {e: {s: 0.75 for s in base.segments} for e in CX_EFFECTS}})
    registry.save_artifact(manifest, base.draws, tmp_path)
    return base, registry.load_artifact("bayes-priors", tmp_path)


def test_frame_has_the_prior_then_each_segments_posterior(with_priors) -> None:
    base, artifact = with_priors
    frame = prior_posterior(artifact)
    assert len(frame) == len(CX_EFFECTS) * (1 + len(artifact.segments))
    churn = frame[frame["parameter"] == "churn_csat"]
    prior = churn.iloc[0]
    assert prior["segment"] == PRIOR_ROW and prior["mean"] == -0.25 and np.isnan(prior["contraction"])
    s1 = churn[churn["segment"] == "S1"].iloc[0]
    draws = artifact.draws["churn_csat"][:, 0]
    assert s1["mean"] == pytest.approx(draws.mean()) and s1["low"] == pytest.approx(np.quantile(draws, 0.1))
    assert s1["contraction"] == 0.75
    assert prior_posterior(base).empty  # no priors recorded: nothing to show


def test_report_section_names_sources_and_survey_error(with_priors) -> None:
    base, artifact = with_priors
    from cxroi.report.document import Table

    blocks = priors_section(artifact).blocks
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert "Anderson & Sullivan 1993" in " ".join(table.frame["direction from"])
    assert "Survey error modelled for CSAT" in str(blocks)
    assert "recorded no priors" in str(priors_section(base).blocks)
