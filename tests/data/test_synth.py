"""Synthetic data: deterministic per seed, valid, realistic and consistent with its truth."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cxroi.data.schema import validate_panel
from cxroi.data.synth import adstock, generate, saturation
from tests.conftest import cli_env


@pytest.fixture(scope="module")
def sample():
    return generate(segments=8, months=36, seed=7)


def test_same_seed_gives_byte_identical_files(tmp_path):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        subprocess.run([sys.executable, "-m", "cxroi.cli", "data", "synth", "--segments", "4", "--months", "12",
                        "--seed", "3", "--out", str(out)], check=True, env=cli_env(), capture_output=True)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {"panel.csv", "truth.json"}


def test_other_seed_differs():
    a, b = generate(segments=2, months=12, seed=1), generate(segments=2, months=12, seed=2)
    assert not a.panel.equals(b.panel)


def test_panel_is_valid_and_stock_flow_exact(sample):
    panel, findings = validate_panel(sample.panel)
    assert panel is not None
    assert [f for f in findings if f.severity != "warning" or "stock-flow" in f.problem] == []


def test_magnitudes_are_realistic(sample):
    p = sample.panel
    rate = p["churned"] / p["customers_start"]
    by_segment = rate.groupby(p["segment"]).mean()
    assert by_segment.between(0.004, 0.045).all()  # monthly churn 0.5–4 % (sampling noise allowed)
    assert p["csat"].between(55, 95).all() and p["nps"].between(-25, 75).all()
    customers = p.groupby("segment")["customers_start"].first()
    assert customers.min() >= 1_000 and customers.max() >= 100_000


def test_churn_follows_the_true_intercepts(sample):
    # Mean churn rate per segment should sit near expit(intercept): CSAT/NPS deviations average
    # ~0, and beta-binomial noise on 36 months of ≥1 000 customers keeps the mean within 25 %.
    p = sample.panel
    truth = sample.truth["segment_parameters"]
    for segment, rows in p.groupby("segment"):
        expected = 1 / (1 + np.exp(-truth[segment]["churn_intercept"]))
        observed = rows["churned"].sum() / rows["customers_start"].sum()
        assert observed == pytest.approx(expected, rel=0.25), segment


def test_csat_moves_churn_in_the_true_direction():
    # Ground truth: churn_csat < 0 in every segment (mean −0.25, sd 0.06), so months after a
    # high-CSAT month churn less. Pooled across 8 segments × 120 months the correlation of the
    # logit churn residual with lagged CSAT must be negative.
    result = generate(segments=8, months=120, seed=11)
    p = result.panel.copy()
    p["logit"] = np.log(p["churned"] / (p["customers_start"] - p["churned"]))
    p["csat_lag"] = p.groupby("segment")["csat"].shift(1)
    p = p.dropna()
    demeaned = p.groupby("segment")[["logit", "csat_lag"]].transform(lambda s: s - s.mean())
    assert np.corrcoef(demeaned["logit"], demeaned["csat_lag"])[0, 1] < -0.1


def test_no_effect_option_zeroes_population_means():
    result = generate(segments=2, months=12, seed=5, effects={"churn_csat": 0.0, "arpu_csat": 0.0})
    assert result.truth["population_means"]["churn_csat"] == 0.0


def test_adstock_and_saturation_closed_forms():
    x = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    lam = 0.5
    # A_t = λA_{t−1} + (1−λ)x_t from A_0 = 0: 0.5, 0.75, 0.875, then halves: 0.4375, 0.21875
    np.testing.assert_allclose(adstock(x, lam), [0.5, 0.75, 0.875, 0.4375, 0.21875])
    # sat(A) = A(1+k)/(A+k): 1 at A = 1; (1+k) as A → ∞; k=1, A=3 → 3·2/4 = 1.5
    assert saturation(np.array(1.0), 1.0) == pytest.approx(1.0)
    assert saturation(np.array(3.0), 1.0) == pytest.approx(1.5)
