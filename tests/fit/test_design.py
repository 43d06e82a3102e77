"""Panel → arrays: hand-computed ARPU, lagged deviations, starting state and grid checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxroi.data.schema import require_valid
from cxroi.errors import DataError
from cxroi.fit.design import build_design


def tiny_panel(months: int = 14, spend: bool = False) -> pd.DataFrame:
    rows = []
    for s, segment in enumerate(("A", "B")):
        for t in range(months):
            row = {"segment": segment, "period": f"{2024 + t // 12}-{t % 12 + 1:02d}-01",
                   "customers_start": 1000 + 10 * s, "churned": 20, "new_customers": 40,
                   "revenue": 10_300.0, "csat": 70.0 + t, "nps": 10.0 - t}
            if spend:
                row["spend_self_service_portal"] = 6000.0 if t >= 5 else 0.0
                row["spend_unknown_thing"] = 1.0
            rows.append(row)
    return require_valid(pd.DataFrame(rows))


def test_arpu_uses_average_active_customers(catalogue) -> None:
    design = build_design(tiny_panel(), catalogue)
    # segment A: 1000 − 20/2 + 40/2 = 1010 average active customers; 10 300 / 1010
    assert design.arpu[0, 0] == pytest.approx(10_300 / 1010)


def test_deviations_are_lagged_per_10_points_from_the_training_mean(catalogue) -> None:
    design = build_design(tiny_panel(), catalogue, lag=1)
    zc, zn = design.z()
    assert design.ref_csat[0] == pytest.approx(70 + 6.5)  # mean of 70..83
    assert np.isnan(zc[0, 0])
    assert zc[0, 1] == pytest.approx((70 - 76.5) / 10)  # month 1 uses month 0's CSAT
    assert zn[0, 5] == pytest.approx(((10 - 4) - (10 - 6.5)) / 10)
    cells = design.cells()
    assert len(cells) == 2 * 13 and cells.month.min() == 1


def test_state_is_the_month_after_the_window(catalogue) -> None:
    state = build_design(tiny_panel(), catalogue).state()["B"]
    assert state["customers"] == 1010 - 20 + 40
    assert state["t_next"] == 14 and state["csat"] == 83.0 and state["nps"] == 10 - 13


def test_relative_spend_and_unknown_initiatives(catalogue) -> None:
    design = build_design(tiny_panel(spend=True), catalogue)
    assert list(design.relative_spend) == ["self_service_portal"]
    # nominal cost of segment A (1000 customers; the portal reaches neither A nor B, so the whole
    # platform cost counts once): 40 000 + 0.25 × 1000 = 40 250 a month; 6000 / 40 250
    assert design.relative_spend["self_service_portal"][0, 5] == pytest.approx(6000 / 40_250)
    assert any("unknown_thing" in w for w in design.warnings)


def test_truncated_window_recomputes_references(catalogue) -> None:
    design = build_design(tiny_panel(), catalogue)
    short = design.truncated(10)
    assert short.n_months == 10 and short.ref_csat[0] == pytest.approx(74.5)


def test_gaps_are_left_out_and_short_panels_are_refused(catalogue) -> None:
    panel = tiny_panel()
    design = build_design(panel.drop(index=3).reset_index(drop=True), catalogue)
    cells = design.cells()
    # segment A lost month 3 (no cell) and month 4 (no lagged CSAT): 13 − 2 cells; B keeps 13
    assert np.sum(cells.segment == 0) == 11 and np.sum(cells.segment == 1) == 13
    with pytest.raises(DataError, match="fewer than 6 months"):
        build_design(panel[(panel["segment"] == "B") | (panel["period"] < "2024-06-01")], catalogue)
    with pytest.raises(DataError, match="at least 13"):
        build_design(tiny_panel(months=12), catalogue)
