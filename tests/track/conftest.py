"""Shared pieces of the tracking tests: an exact model, a decision on it, and a zero-noise panel
built by hand from the model's equations (cxroi.params) with a known CSAT lift."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from cxroi.service import Context, approve_scenario, local_user, save_scenario
from cxroi.store.records import Decision
from cxroi.testing.artifacts import exact_artifact

CHURN, ARPU, NEW, CUSTOMERS = 0.02, 100.0, 200.0, 10_000.0
LIFT, CARRY = 4.0, 0.5  # CSAT points at full effect; monthly carry-over of the adstock
VALUES = {"churn_intercept": math.log(CHURN / (1 - CHURN)), "churn_csat": -0.25, "arpu_intercept": math.log(ARPU),
          "arpu_csat": 0.02, "acq_intercept": math.log(NEW), "lift_csat": LIFT, "lift_carryover": CARRY}
TRAINING = pd.date_range("2025-07-01", "2025-12-01", freq="MS")  # the exact artifact trains to 2025-12


@pytest.fixture
def exact(tmp_path):
    return exact_artifact(tmp_path, "exact-track", VALUES, customers=CUSTOMERS, lag=1)


def decision(model_id: str, start_month: int = 1, horizon: int = 12, decision_id: int = 7) -> Decision:
    body = {"name": "Portal", "horizon_months": horizon, "gross_margin": 0.7,
            "investments": [{"initiative": "I", "segments": ["S"], "start_month": start_month,
                             "duration_months": horizon - start_month + 1, "spend_level": 1.0}]}
    return Decision(decision_id, "Portal", 1, body, model_id, None, {}, [], "Ann", "local:ann",
                    datetime(2026, 1, 5, tzinfo=UTC))


def csat_lift(month: int) -> float:
    """Lift in CSAT points the survey shows in forecast month ``month`` (≥ 1), funded from month 1
    at nominal spend: LIFT · sat(A) with A = 1 − CARRY^month, sat(A) = 2A / (A + 1) (k = 1)."""
    a = 1 - CARRY**month
    return LIFT * 2 * a / (a + 1)


def exact_panel(months: int, lift: bool = True, start: int = 1) -> pd.DataFrame:
    """Six training months at the reference (CSAT 70, NPS 10, the model's state) then ``months``
    months whose outcomes are the model's expected values with CSAT raised by ``csat_lift`` from
    forecast month ``start`` (one month of lag), fractional counts allowed."""
    rows = [{"segment": "S", "period": p, "customers_start": CUSTOMERS, "churned": CUSTOMERS * CHURN,
             "new_customers": NEW, "revenue": ARPU * CUSTOMERS, "csat": 70.0, "nps": 10.0} for p in TRAINING]
    def shown(month: int) -> float:
        return csat_lift(month - start + 1) if lift and month >= start else 0.0

    customers = CUSTOMERS
    for m in range(1, months + 1):
        acting = shown(m - 1)  # the lift of the month before
        logit = VALUES["churn_intercept"] - 0.25 * acting / 10
        churned = customers / (1 + math.exp(-logit))
        revenue = ARPU * math.exp(0.02 * acting / 10) * (customers - churned / 2 + NEW / 2)
        rows.append({"segment": "S", "period": TRAINING[-1] + pd.DateOffset(months=m), "customers_start": customers,
                     "churned": churned, "new_customers": NEW, "revenue": revenue,
                     "csat": 70.0 + shown(m), "nps": 10.0})
        customers = customers - churned + NEW
    return pd.DataFrame(rows)


@pytest.fixture
def approved(tmp_path, monkeypatch):
    """A decision approved through the service on an exact model, and a newer panel on disk."""
    models = tmp_path / "models"
    artifact = exact_artifact(models, "exact-cli", VALUES, customers=10_000.0, lag=1)
    monkeypatch.setenv("CXROI_MODELS_DIR", str(models))
    with Context.from_environment() as ctx:
        user = local_user("Ann")
        save_scenario(ctx, user, decision(artifact.model_id).scenario_body, model_id=artifact.model_id)
        record = approve_scenario(ctx, user, "Portal", model_id=artifact.model_id)
    return record.id, tmp_path
