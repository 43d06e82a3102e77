"""`cxroi simulate` says where the NPV's uncertainty comes from: uncertainty.csv and a table.

An artifact whose draws differ only in the CSAT lift (every other parameter held at its mean):
fixing the lift at its mean removes all of the NPV's variance, fixing anything else none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxroi import registry
from cxroi.testing.artifacts import plausible_artifact
from tests.trust.conftest import run_cli


def test_only_the_lift_varies_so_it_is_all_of_the_uncertainty(tmp_path):
    models = tmp_path / "models"
    plausible_artifact(tmp_path / "source", model_id="varied", n_draws=60, n_segments=2, n_initiatives=1)
    varied = registry.load_artifact("varied", tmp_path / "source")
    draws = {name: (values if name == "lift_csat" else np.broadcast_to(values.mean(axis=0), values.shape).copy())
             for name, values in varied.draws.items()}
    registry.save_artifact(varied.manifest.model_copy(update={"model_id": "lift-only"}), draws, models)
    scenario = tmp_path / "plan.yaml"
    scenario.write_text("name: Portal\nhorizon_months: 24\ninvestments:\n  - initiative: I1\n"
                        "    segments: [S1, S2]\n    duration_months: 12\n    monthly_spend: 8000\n")
    done = run_cli("simulate", "--scenario", str(scenario), "--model", "lift-only", "--models-dir", str(models),
                   "--out", str(tmp_path / "out"))
    assert done.code == 0, done.output
    assert "Where the NPV's uncertainty comes from" in done.output
    shares = pd.read_csv(tmp_path / "out" / "uncertainty.csv").set_index("group")["variance_share"]
    assert shares["lift_csat"] == pytest.approx(1.0, abs=1e-9)
    assert shares.drop("lift_csat").abs().max() == pytest.approx(0.0, abs=1e-9)
