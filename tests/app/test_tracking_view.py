"""What the Track decisions page shows of a tracking, checked on the exact model of the tracking
tests (tests/track/conftest.py): zero-noise outcomes made with the assumed lift."""

from __future__ import annotations

import numpy as np
import pytest

from cxroi.app import tracking_view
from cxroi.testing.artifacts import exact_artifact
from cxroi.track import track
from tests.track.conftest import VALUES, csat_lift, decision, exact_panel


@pytest.fixture
def kept(tmp_path):
    model = exact_artifact(tmp_path, "exact-view", VALUES, customers=10_000.0, lag=1)
    return track(decision(model.model_id), model, exact_panel(3), noise=False)


def test_fan_frame_has_the_promise_and_the_outcome_for_every_month(kept):
    frame = tracking_view.fan_frame(kept, "incremental_revenue")
    assert list(frame["series"].unique()) == list(tracking_view.SERIES_COLORS)
    assert [f"{m:%Y-%m}" for m in frame["month"][:3]] == ["2026-01", "2026-02", "2026-03"]
    promised, realised = frame.iloc[:3], frame.iloc[3:]
    # zero noise and the promise kept: the realised median is the promised one (float32 promise)
    np.testing.assert_allclose(realised["p50"].to_numpy(), promised["p50"].to_numpy(), rtol=1e-4, atol=1e-3)


def test_lift_frame_puts_the_assumption_first_then_each_measurement(kept):
    frame = tracking_view.lift_frame(kept)
    csat = frame[frame["score"] == "CSAT"]
    assert list(csat["estimate"]) == ["Assumed by the decision", "Realised vs own level before"]
    assert csat["mid"].iloc[1] == pytest.approx(np.mean([csat_lift(m) for m in (1, 2, 3)]), rel=1e-9)


def test_status_sentence_and_table(kept):
    assert tracking_view.status_sentence(kept).startswith("**On track** after 3 month(s) (P(behind) 0%, "
                                                          "P(on track) 100%, P(ahead) 0%;")
    table = tracking_view.summary_table(kept, "EUR").set_index("Measure")
    customers = table.loc["Incremental customers (end of month)"]
    assert "EUR" not in customers["Realised mean"]  # customers are counted, not priced
    assert table.loc["NPV to date", "Realised mean"].startswith(("EUR", "−EUR"))
