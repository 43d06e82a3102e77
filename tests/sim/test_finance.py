"""Finance metrics against closed forms and hand computations."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cxroi.science import clv_multiple
from cxroi.sim import finance


def test_monthly_rate_compounds_to_the_annual_rate():
    # 1.01 ** 12 = 1.12682503…, so that annual rate is exactly 1 % a month
    assert finance.monthly_rate(1.01**12 - 1) == pytest.approx(0.01, rel=1e-12)
    assert finance.monthly_rate(0.0) == 0.0


def test_present_value_of_a_level_annuity():
    # PV of C at the end of each of n months = C (1 − (1+i)^−n) / i
    c, i, n = 1_000.0, 0.008, 36
    flows = np.full((2, n), c)
    expected = c * (1 - (1 + i) ** -n) / i
    np.testing.assert_allclose(finance.present_value(flows, i), [expected, expected], rtol=1e-12)


def test_irr_of_a_loan_repaid_by_an_annuity():
    # pay P in month 1, receive A in months 2…13 with A = P·r/(1 − (1+r)^−12) at r = 1 %/month:
    # the monthly IRR is 1 %, i.e. 1.01^12 − 1 a year; a second row at r = 3 %/month.
    rows = []
    for r in (0.01, 0.03):
        annuity = 10_000 * r / (1 - (1 + r) ** -12)
        rows.append([-10_000.0, *[annuity] * 12])
    irr = finance.irr(np.array(rows))
    np.testing.assert_allclose(irr, [1.01**12 - 1, 1.03**12 - 1], rtol=1e-9)


def test_irr_is_nan_without_a_sign_change():
    flows = np.array([[-5.0, -1.0, -1.0], [1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    assert np.isnan(finance.irr(flows)).all()


def test_irr_of_a_single_period_doubling():
    # −100 at month 1 and +200 at month 2: (1 + r) = 2 per month
    assert finance.irr(np.array([-100.0, 200.0])) == pytest.approx(2.0**12 - 1, rel=1e-9)


def test_payback_simple_and_discounted_by_hand():
    flows = np.array([[-100.0, 30, 30, 30, 30, 30], [-100.0, 10, 10, 10, 10, 10], [0.0, 0, 5, -1, 2, 2]])
    # row 1 cumulative: −100, −70, −40, −10, 20, 50 → month 5; row 2 never; row 3 never below 0 → month 1
    np.testing.assert_array_equal(finance.payback_month(flows), [5.0, np.nan, 1.0])
    # at 10 %/month row 1 discounted: −90.91, +24.79, +22.54, +20.49, +18.63 (cum −4.46), +16.93 (cum 12.48)
    np.testing.assert_array_equal(finance.discounted_payback_month(flows[:1], 0.10), [6.0])


def test_no_cash_flow_has_no_payback():
    # nothing spent and nothing earned: there is nothing to pay back, not "paid back in month 1"
    assert np.isnan(finance.payback_month(np.zeros(6)))
    assert np.isnan(finance.discounted_payback_month(np.zeros((2, 6)), 0.01)).all()


def test_payback_needs_the_cumulative_to_stay_non_negative():
    # the cumulative is ≥ 0 in month 1 (nothing spent yet) and again from month 4
    flows = np.array([0.0, -50.0, 20.0, 40.0, 10.0])
    assert finance.payback_month(flows) == 4.0


def test_roi_is_npv_over_pv_spend_and_nan_without_spend():
    np.testing.assert_allclose(finance.roi(np.array([50.0, -20.0]), 100.0), [0.5, -0.2])
    assert np.isnan(finance.roi(np.array([5.0]), 0.0)).all()


def test_clv_multiple_matches_the_brief_and_the_geometric_series():
    assert clv_multiple(0.8, 0.1) == pytest.approx(8 / 3, rel=1e-12)  # 2.67
    # Σ_{k≥1} (r/(1+i))^k = r / (1 + i − r)
    r, i = 0.97, 0.0075
    series = sum((r / (1 + i)) ** k for k in range(1, 20_000))
    assert clv_multiple(r, i) == pytest.approx(series, rel=1e-9)


def test_cvar_and_probability_positive():
    values = np.arange(1.0, 101.0)  # worst 10 % are 1…10, mean 5.5
    assert finance.cvar(values, 0.10) == pytest.approx(5.5)
    assert finance.cvar(np.stack([values, -values]), 0.10, axis=-1) == pytest.approx([5.5, -95.5])
    assert finance.probability_positive(np.array([-1.0, 0.0, 2.0, np.nan])) == 0.25


def test_irr_zeroes_the_present_value_of_mixed_flows():
    # an investment then uneven returns: at the returned rate the PV must vanish
    rng = np.random.default_rng(3)
    flows = np.column_stack([-rng.uniform(500, 1_000, 50), rng.uniform(0, 120, (50, 23))])
    monthly = (1 + finance.irr(flows)) ** (1 / 12) - 1
    pv = [finance.present_value(f, r) for f, r in zip(flows, monthly, strict=True)]
    np.testing.assert_allclose(pv, 0.0, atol=1e-6 * np.abs(flows).sum(axis=1).max())


def test_irr_on_a_long_horizon_stays_finite_and_silent():
    # 1e9 paid in month 1 returns 1 in month 240: (1 + r)^239 = 1e-9, so (1 + r)^12 = 1e-9^(12/239).
    # On 240 months (1 + r)^−m reaches 100^240 at the bracket's −99 % end, beyond float64.
    flows = np.zeros((1, 240))
    flows[0, 0], flows[0, -1] = -1e9, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow would be a RuntimeWarning
        irr = finance.irr(flows)
    np.testing.assert_allclose(irr, [1e-9 ** (12 / 239) - 1], rtol=1e-9)
