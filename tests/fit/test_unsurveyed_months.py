"""A month without a survey is missing, not invalid: the panel validates with a warning naming
the rows, the month still counts for churn, revenue and acquisition, and the models train."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxroi.catalogue import load_catalogue
from cxroi.data.schema import validate_panel
from cxroi.data.synth import generate
from cxroi.fit.design import build_design
from cxroi.fit.train import TrainSettings, train
from cxroi.manifest import SamplerConfig
from tests.data.good_panel import GOOD, frame

SKIPPED = (3, 4, 10)  # months (0-based) of the panel's first segment without a CSAT survey


def with_gaps() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic panel (3 segments × 24 months) and the same panel without CSAT in SKIPPED
    months of its first segment."""
    full = generate(segments=3, months=24, seed=3).panel
    full = full.loc[:, ~full.columns.str.startswith("spend_")]
    gappy = full.copy()
    first = full["segment"] == full["segment"].iloc[0]
    gappy.loc[gappy.index[first][list(SKIPPED)], "csat"] = np.nan
    return full, gappy


def test_empty_scores_are_a_warning_naming_the_rows() -> None:
    raw = frame(GOOD)
    raw.loc[[1, 3], "nps"] = np.nan
    panel, findings = validate_panel(raw)
    assert panel is not None
    [warning] = [f for f in findings if f.column == "nps"]
    assert warning.severity == "warning" and "empty in 2 row(s) (2, 4)" in warning.problem


def test_text_out_of_range_and_never_surveyed_stay_errors() -> None:
    raw = frame(GOOD).astype({"csat": object})
    raw.loc[0, "csat"] = "good"
    raw.loc[1, "csat"] = 130
    raw.loc[[2, 3], "nps"] = np.nan  # segment B never surveyed for NPS
    panel, findings = validate_panel(raw)
    errors = {(f.row, f.column) for f in findings if f.severity == "error"}
    assert panel is None and {(1, "csat"), (2, "csat"), (None, "nps")} <= errors
    assert any("segment 'B' has no NPS in any month" in f.problem for f in findings)


def test_unsurveyed_months_keep_their_outcomes_and_take_interpolated_scores() -> None:
    full, gappy = with_gaps()
    catalogue = load_catalogue()
    complete, partial = (build_design(validate_panel(p)[0], catalogue) for p in (full, gappy))
    assert len(partial.cells().segment) == len(complete.cells().segment)  # no month dropped
    s = complete.segments.index(full["segment"].iloc[0])
    observed = complete.csat[s]
    # months 3 and 4 lie between surveyed months 2 and 5: thirds of the way; month 10 halfway
    expected = {3: observed[2] + (observed[5] - observed[2]) / 3, 4: observed[2] + 2 * (observed[5] - observed[2]) / 3,
                10: (observed[9] + observed[11]) / 2}
    for month, value in expected.items():
        assert abs(partial.csat[s, month] - value) < 1e-9
    assert any("no CSAT survey in 3 month(s)" in w for w in partial.warnings)


def test_a_panel_with_unsurveyed_months_trains(tmp_path) -> None:
    _, gappy = with_gaps()
    panel, _ = validate_panel(gappy)
    outcome = train(panel, TrainSettings(family="regression", seed=2, sampler=SamplerConfig(draws=100, chains=2)),
                    models_dir=tmp_path, promote=False)
    assert all(np.isfinite(v).all() for v in np.load(outcome.path / "draws.npz").values())
    assert any("no CSAT survey in 3 month(s)" in w for w in outcome.manifest.warnings)
