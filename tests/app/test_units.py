"""Pure parts of the app: formatting, indicators, effects, the error guard, retrain jobs."""

from __future__ import annotations

import math
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cxroi.app import charts, effects, jobs, kpis, reports, retrain
from cxroi.app import formatting as fmt
from cxroi.registry import load_artifact
from tests.app.conftest import ROOT


@pytest.mark.parametrize(("value", "expected"), [
    (1234567.8, "$1,234,568"), (-1234.4, "−$1,234"), (0.0, "$0"), (float("nan"), "—"), (None, "—"),
])
def test_money(value, expected):
    assert fmt.money(value) == expected


def test_money_with_a_currency_code_and_decimals():
    assert fmt.money(1234.5, "EUR", 2) == "EUR 1,234.50"


@pytest.mark.parametrize(("value", "expected"), [
    (7_180_000, "$7.18M"), (-45_600, "−$45.6k"), (2_100_000_000, "$2.10B"), (950, "$950"), (123_456_789, "$123M"), (-248_022.2, "−$248k"),
])
def test_money_short(value, expected):
    assert fmt.money_short(value) == expected


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (0.1234, 1, "12.3%"), (-0.05, 1, "−5.0%"), (1.0, 0, "100%"), (-0.0001, 1, "0.0%"),
])
def test_percent(value, decimals, expected):
    assert fmt.percent(value, decimals) == expected


def test_ratio_drops_decimals_from_100_percent():
    assert fmt.ratio(0.554) == "55.4%" and fmt.ratio(12.394) == "1,239%" and fmt.ratio(-0.25) == "−25.0%"


def test_count_points_and_payback():
    assert fmt.count(12345.6) == "12,346"
    assert fmt.points(-3.04) == "−3.0" and fmt.points(2.0, signed=True) == "+2.0"
    assert fmt.payback(8.0, 36) == "8 mo" and fmt.payback(float("nan"), 36) == "> 36 mo"
    assert fmt.money_column_format("$") == "$%,.0f" and fmt.money_column_format("EUR", 2) == "EUR %,.2f"


def test_signed_changes_and_axis_steps():
    assert fmt.signed_change(0.031, "%") == "+3.1%"
    assert fmt.signed_change(-0.0012, "pp") == "-0.12 pp"  # a churn rate 0.12 points lower
    assert fmt.signed_change(1.25, "pts") == "+1.2 pts"  # round half to even
    assert fmt.signed_change(-0.04, "pts", minus=fmt.MINUS) == "±0"  # rounds to no change
    assert fmt.signed_change(-2.0, "pts", minus=fmt.MINUS) == "−2.0 pts"
    assert fmt.signed_change(float("nan"), "%") == fmt.MISSING
    assert charts.smallest_step(".0f") == 1 and charts.smallest_step(".1%") == pytest.approx(0.001)
    assert charts.smallest_step(",.3~s") is None


def hand_panel() -> pd.DataFrame:
    return pd.DataFrame({
        "segment": ["A", "A", "B", "B"],
        "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-01", "2024-02-01"]),
        "customers_start": [100, 105, 50, 48], "churned": [5, 10, 4, 2], "new_customers": [10, 0, 2, 4],
        "revenue": [1025.0, 1000.0, 490.0, 500.0], "csat": [70.0, 72.0, 80.0, 81.0], "nps": [10.0, 12.0, 30.0, 28.0],
    })


def test_monthly_metrics_by_hand():
    monthly = kpis.monthly_metrics(hand_panel()).set_index(["segment", "period"])
    first = monthly.loc[("A", pd.Timestamp("2024-01-01"))]
    assert first["customers"] == 105  # 100 − 5 + 10
    assert first["churn_rate"] == pytest.approx(0.05)  # 5 / 100
    assert first["arpu"] == pytest.approx(1025 / 102.5)  # revenue / ((100 + 105) / 2)


def test_segment_snapshot_and_totals_by_hand():
    snapshot = kpis.segment_snapshot(hand_panel(), trend_months=1).set_index("segment")
    assert snapshot.at["A", "customers"] == 95  # 105 − 10 + 0
    assert snapshot.at["A", "csat_month_change"] == pytest.approx(2.0)  # 72 − 70 points
    assert snapshot.at["A", "customers_month_change"] == pytest.approx(95 / 105 - 1)  # relative
    assert np.isnan(snapshot.at["A", "csat_year_change"])  # no month a year earlier
    assert snapshot.at["B", "churn_rate_trend"] == pytest.approx([2 / 48], abs=1e-6)  # sparklines keep 6 decimals
    totals = kpis.portfolio_totals(hand_panel())
    assert totals["customers"] == 95 + 50  # B: 48 − 2 + 4
    assert totals["churn_rate"] == pytest.approx(12 / 153)
    assert totals["csat"] == pytest.approx((72 * 105 + 81 * 48) / 153)
    # January: customers at the end 105 + 48, churn 9 / 150; February against it
    assert totals["customers_month_change"] == pytest.approx(145 / 153 - 1)
    assert totals["churn_rate_month_change"] == pytest.approx(12 / 153 - 9 / 150)


def test_year_on_year_change_and_unsurveyed_segments_by_hand():
    periods = pd.date_range("2023-01-01", periods=13, freq="MS")
    panel = pd.DataFrame({
        "segment": ["A"] * 13 + ["B"] * 13, "period": list(periods) * 2,
        "customers_start": [100] * 13 + [300] * 13, "churned": [2] * 13 + [3] * 13,
        "new_customers": [2] * 13 + [3] * 13,
        "revenue": [1000.0] * 12 + [1100.0] + [3000.0] * 13,
        "csat": [70.0] * 12 + [74.0] + [80.0] * 12 + [np.nan],  # B has no survey in the last month
        "nps": [10.0] * 26,
    })
    totals = kpis.portfolio_totals(panel)
    assert totals["revenue_year_change"] == pytest.approx(4100 / 4000 - 1)  # Jan 2024 against Jan 2023
    assert totals["csat"] == pytest.approx(74.0)  # only A was surveyed in the last month
    assert totals["csat_year_change"] == pytest.approx(74.0 - (70 * 100 + 80 * 300) / 400)
    snapshot = kpis.segment_snapshot(panel).set_index("segment")
    assert snapshot.at["A", "revenue_year_change"] == pytest.approx(0.10)
    assert snapshot.at["A", "revenue_month_change"] == pytest.approx(0.10)
    assert kpis.months_between(pd.Timestamp("2024-05-01"), pd.Timestamp("2026-12-02")) == 31


def test_segment_effects_match_closed_forms(app_env):
    model = load_artifact(None, app_env / "models")
    d, s = model.draws, model.segments.index("SMB-EU")
    state = model.state["SMB-EU"]
    zc, zn = (state.csat - state.ref_csat) / 10, (state.nps - state.ref_nps) / 10
    table = effects.segment_effects(model).set_index(["parameter", "segment"])
    # draw 0 by hand: Δ churn = σ(a + b·zc + c·zn + b) − σ(a + b·zc + c·zn), in percentage points
    sigma = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    logit0 = d["churn_intercept"][:, s] + d["churn_csat"][:, s] * zc + d["churn_nps"][:, s] * zn
    by_hand = [100 * (sigma(x + b) - sigma(x)) for x, b in zip(logit0, d["churn_csat"][:, s], strict=True)]
    assert table.loc[("churn_csat", "SMB-EU"), "mean"] == pytest.approx(np.mean(by_hand), rel=1e-9)
    arpu = [math.exp(v) - 1 for v in d["arpu_csat"][:, s]]
    assert table.loc[("arpu_csat", "SMB-EU"), "low"] == pytest.approx(np.quantile(arpu, 0.1), rel=1e-9)
    assert table.loc[("acq_nps", "SMB-EU"), "source"] == "history"


def test_lift_curve_is_zero_without_spend_and_the_mean_lift_at_nominal(app_env):
    model = load_artifact(None, app_env / "models")
    curves = effects.lift_curves(model, "csat")
    portal = curves[curves["initiative"] == "Self-service portal"].set_index("spend_multiple")["lift"]
    mean_lift = model.draws["lift_csat"][:, model.initiatives.index("self_service_portal")].mean()
    assert portal.loc[0.0] == 0.0
    assert portal.loc[1.0] == pytest.approx(mean_lift)  # sat(1) = 1·(1+k)/(1+k) = 1
    assert portal.loc[3.0] == pytest.approx(mean_lift * 3 * 2 / 4)  # k = 1: 3·2/(3+1)


GUARD_APP = """
import streamlit as st
from cxroi.app.errors import guard
from cxroi.errors import DataError
with guard("reading the file"):
    raise DataError("panel.csv: row 3, column churned: 'abc' is not a number")
with guard("drawing the chart"):
    raise KeyError("segment")
st.write("still running")
"""


def test_guard_shows_a_local_admin_the_technical_details(monkeypatch):
    monkeypatch.setenv("CXROI_SHOW_ERROR_DETAILS", "1")
    at = AppTest.from_string(GUARD_APP).run()
    assert not at.exception
    assert at.error[0].value == "Problem while reading the file: panel.csv: row 3, column churned: 'abc' is not a number"
    assert at.error[1].value.startswith("Something went wrong while drawing the chart.")
    assert "Traceback" not in at.error[1].value
    assert at.expander[0].label == "Technical details"
    assert "KeyError" in at.expander[0].code[0].value
    assert at.markdown[-1].value == "still running"


def test_retrain_job_runs_in_the_background_and_finds_its_model(tmp_path, monkeypatch):
    models = tmp_path / "models"
    (models / "old-model").mkdir(parents=True)
    script = ("import pathlib, time; print('sampling 50%', flush=True); time.sleep(0.5); "
              f"pathlib.Path({str(models)!r}, 'new-model').mkdir(); print('done')")
    monkeypatch.setattr(retrain, "train_command", lambda *args: [sys.executable, "-c", script])
    home = tmp_path / "home"
    started = time.monotonic()
    job = retrain.start_retrain(pd.DataFrame({"x": [1]}), "panel.csv", "regression", 7, home, models)
    assert time.monotonic() - started < 0.5  # returns at once; training happens in the background
    assert job.status() == "running" and jobs.running(home, retrain.KIND).job_id == job.job_id
    deadline = time.monotonic() + 30
    while job.status() == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.status() == "succeeded" and jobs.running(home, retrain.KIND) is None
    assert "sampling 50%" in job.log_tail() and job.log_tail().endswith("done")
    assert retrain.new_models(job, models) == ["new-model"]
    assert pd.read_parquet(job.folder / "panel.parquet")["x"].tolist() == [1]
    assert jobs.list_jobs(home, retrain.KIND)[0].status() == "succeeded"


def test_a_failing_job_is_reported_as_failed(tmp_path):
    folder = jobs.new_folder(tmp_path, "report")
    job = jobs.start(folder, [sys.executable, "-c", "import sys; print('no such model'); sys.exit(2)"], {})
    deadline = time.monotonic() + 30
    while job.status() == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.status() == "failed" and job.exit_code() == 2 and job.log_tail().endswith("\nno such model")


def test_background_commands_never_promote_and_name_their_model():
    train = retrain.train_command(ROOT / "panel.parquet", "bayes", 3, ROOT / "models")
    assert train[1:4] == ["-m", "cxroi.cli", "train"] and "--no-promote" in train
    report = reports.report_command("bayes-1", ROOT / "out", ROOT / "models")
    assert report[3] == "report" and report[report.index("--model") + 1] == "bayes-1"


HEAVY = ("pymc", "pytensor", "arviz", "statsmodels")
NO_HEAVY_IMPORTS = f"""
import sys
from streamlit.testing.v1 import AppTest
for page in ("overview", "planner", "compare", "drivers", "export", "data_retrain"):
    at = AppTest.from_string(f"from cxroi.app.pages.{{page}} import {{page}}\\n{{page}}()", default_timeout=60).run()
    assert not at.exception, (page, at.exception)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print(loaded)
sys.exit(1 if loaded else 0)
"""


def test_pages_never_import_the_model_fitting_libraries(app_env):
    done = subprocess.run([sys.executable, "-c", NO_HEAVY_IMPORTS], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


#: libraries the app's first page (the Overview) has no use for; pyspark would come with pandera
NOT_ON_THE_FIRST_PAGE = ("pyspark", "numba", "duckdb", "sqlalchemy", "scipy")
FIRST_PAGE = f"""
import importlib.util, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=60).run()
assert not at.exception, at.exception
assert at.metric[0].value, "the Overview shows no figures"
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {NOT_ON_THE_FIRST_PAGE!r})
assert not loaded, loaded
if importlib.util.find_spec("pyspark") is not None:
    import pyspark  # hidden only while pandera was imported
"""


def test_the_first_page_imports_neither_spark_nor_the_simulation_libraries(app_env):
    done = subprocess.run([sys.executable, "-c", FIRST_PAGE], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


def test_fan_frames_agree_with_the_results_own_monthly_table(app_env):
    from cxroi.app import results, scenario_form
    from cxroi.catalogue import load_catalogue
    from cxroi.sim.engine import simulate
    from cxroi.sim.scenario import parse_scenario

    model = load_artifact(None, app_env / "models")
    result = simulate(parse_scenario(scenario_form.default_body(model, load_catalogue())), model)
    table = result.monthly_quantiles()
    for metric in ("incremental_revenue", "cumulative_cash_flow"):
        fan = results.fan_frame(result, metric)
        for q, column in ((0.1, "p10"), (0.5, "p50"), (0.9, "p90")):
            expected = table[(table["segment"] == "all") & (table["metric"] == metric) & (table["quantile"] == q)]
            # the fan reads the run's monthly cash flow of all segments, summed in float32 by the
            # engine; the table sums the per-segment cash flows in float64: float32 rounding apart
            scale = np.abs(expected["value"].to_numpy()).max()
            np.testing.assert_allclose(fan[column].to_numpy(), expected["value"].to_numpy(), rtol=1e-6,
                                       atol=1e-6 * scale)


JOB_PROGRESS_APP = """
from datetime import datetime
from cxroi.app.widgets import job_progress

class RunningJob:  # what job_progress reads of a job that is still training
    started_at = datetime(2026, 1, 5, 9, 30)
    def status(self): return "running"
    def log_tail(self): return "sampling 10%"

job_progress(RunningJob(), "Training:", polling=False)
"""


def test_a_running_job_shows_as_running_not_complete():
    at = AppTest.from_string(JOB_PROGRESS_APP).run()
    assert not at.exception
    status = at._tree.children[0].children[0].proto  # the st.status block
    assert status.label == "Training: running… — started 2026-01-05 09:30 UTC"
    assert status.state == status.State.RUNNING and status.icon == "spinner"


def test_waterfall_total_is_the_expected_npv_and_each_step_has_its_own_row():
    from cxroi.app import charts

    steps = pd.DataFrame({"label": ["Retention", "ARPU", "Investment"], "value": [300.0, 50.0, -120.0]})
    spec = charts.waterfall(steps, "Present value ($)").to_dict()
    rows = spec["datasets"][next(iter(spec["datasets"]))]
    total = rows[-1]
    # the total is the sum of the steps, 300 + 50 − 120 = 230: the mean NPV, not the median
    assert total["label"] == "Expected NPV (mean)" and total["value"] == 230.0
    assert [(r["start"], r["end"]) for r in rows] == [(0, 300), (300, 350), (350, 230), (0, 230)]
    bars, labels = spec["layer"]
    # steps are rows (labels on the y axis), so value labels of neighbouring steps cannot overlap
    assert bars["encoding"]["y"]["field"] == "label" and labels["encoding"]["y"]["field"] == "label"


def test_lever_steps_add_up_to_the_mean_npv(app_env):
    from cxroi.app import results, scenario_form
    from cxroi.catalogue import load_catalogue
    from cxroi.sim.engine import simulate
    from cxroi.sim.scenario import parse_scenario

    model = load_artifact(None, app_env / "models")
    result = simulate(parse_scenario(scenario_form.default_body(model, load_catalogue())), model)
    steps = results.lever_steps(result)
    # NPV = Σ lever present values − PV of spend in every draw, so their means add up the same way
    assert steps["value"].sum() == pytest.approx(float(np.mean(result.npv)), rel=1e-6)
    assert steps["value"].sum() != pytest.approx(float(np.median(result.npv)), rel=1e-3)


@pytest.mark.parametrize(("months", "step"), [(6, 1), (8, 1), (12, 2), (24, 3), (36, 6), (120, 24)])
def test_fan_chart_ticks_fall_on_whole_months(months, step):
    from cxroi.app import charts

    frame = pd.DataFrame({"month": pd.date_range("2026-01-01", periods=months, freq="MS"),
                          "p10": 0.0, "p50": 1.0, "p90": 2.0})
    spec = charts.fan_chart(frame, "Revenue ($)").to_dict()
    axis = spec["layer"][0]["encoding"]["x"]["axis"]
    # one tick per `step` month starts: 6 months → Jan … Jun once each, never "Mar, Mar"; at most 8 ticks
    assert axis["tickCount"] == {"interval": "month", "step": step}
    assert math.ceil(months / step) <= 8


def test_comparison_row_shows_the_valuation_terms_and_quantiles_in_order(app_env):
    from cxroi.app import results, scenario_form
    from cxroi.catalogue import load_catalogue
    from cxroi.sim.engine import simulate
    from cxroi.sim.scenario import parse_scenario

    model = load_artifact(None, app_env / "models")
    body = {**scenario_form.default_body(model, load_catalogue()), "annual_discount_rate": 0.08,
            "gross_margin": {"default": 0.6, "segments": {}}, "terminal_value": True,
            "levers": {"retention": True, "arpu": False, "acquisition": False}}
    result = simulate(parse_scenario(body), model)
    row = results.comparison_row("Plan (v1)", result, "$")
    npv_columns = [c for c in row if c.startswith("NPV P")]
    assert npv_columns == ["NPV P10 ($)", "NPV P50 ($)", "NPV P90 ($)"]
    assert row["NPV P10 ($)"] == pytest.approx(np.quantile(result.npv, 0.1))
    roi = float(np.median(result.roi))
    # as on the planner: no decimals from 100 % on ("1,092%"), one below
    assert row["ROI (P50)"] == (f"{100 * roi:,.0f}%" if abs(roi) >= 1 else f"{100 * roi:.1f}%".replace("-", "−"))
    assert (row["Discount rate (per year)"], row["Gross margin"], row["Terminal value"], row["Value levers"]) == (
        "8.0%", "60%", "included", "Retention")


def test_several_distributions_are_drawn_as_lines_not_blended_bars():
    from cxroi.app import charts

    draws = pd.DataFrame({"value": [1.0, 2.0, 2.0, 3.0], "scenario": ["A", "A", "B", "B"]})
    spec = charts.distribution(draws, "NPV ($)", group="scenario").to_dict()
    assert spec["mark"]["type"] == "line" and spec["encoding"]["color"]["field"] == "scenario"
    assert charts.distribution(draws, "NPV ($)").to_dict()["mark"]["type"] == "bar"  # one distribution: bars


def test_diagnostics_are_tables_not_python_dicts():
    from cxroi.app.pages.drivers import diagnostic_frames

    scalars, predictive = diagnostic_frames({
        "max_rhat": 1.0051934966023386, "divergences": 0, "worst_ess_parameter": "acq_nps_mu",
        "predictive": {"churned": {"coverage_80": 0.84, "mape_pct": 12.77},
                       "revenue": {"coverage_80": 0.81, "mape_pct": 1.5}}})
    assert scalars.to_dict("records") == [
        {"Diagnostic": "Largest R-hat (1.00 = chains agree)", "Value": "1.005"},
        {"Diagnostic": "Divergent transitions", "Value": "0"},
        {"Diagnostic": "Parameter with the smallest ESS", "Value": "acq_nps_mu"}]
    assert predictive.to_dict("records") == [
        {"Forecast of": "Churned customers", "Mean absolute % error": "12.8%", "80% interval coverage": "84%"},
        {"Forecast of": "Revenue", "Mean absolute % error": "1.5%", "80% interval coverage": "81%"}]
    assert not any("{" in value for value in scalars["Value"])


def test_segment_colours_do_not_depend_on_which_segments_a_plan_funds():
    from cxroi.app import charts

    segments = ["Consumer-EU", "Enterprise-EU", "SMB-EU"]
    one = pd.DataFrame({"initiative": ["Portal"], "segment": ["SMB-EU"], "amount": [1.0]})
    two = pd.DataFrame({"initiative": ["Portal", "Portal"], "segment": ["Consumer-EU", "SMB-EU"], "amount": [1.0, 2.0]})
    scales = [charts.allocation_chart(plan, "Spend ($)", segments).to_dict()["encoding"]["color"]["scale"]
              for plan in (one, two)]
    # SMB-EU is the third segment of the model in both plans, so it gets the third colour in both
    assert scales[0] == scales[1] and scales[0]["domain"] == segments
    assert scales[0]["range"][segments.index("SMB-EU")] == charts.SEGMENT_COLORS[2]


def test_each_segment_trend_has_its_own_chart_and_scale():
    from cxroi.app import charts

    monthly = kpis.monthly_metrics(hand_panel())  # A: 105 → 95 customers, B: 48 → 50
    panels = charts.trend_panels(monthly, "customers", "Customers")
    assert list(panels) == ["A", "B"]
    for segment, chart in panels.items():
        spec = chart.to_dict()
        rows = spec["datasets"][next(iter(spec["datasets"]))]
        # only its own months in each chart, so B's 48-50 is not drawn against A's 95-105
        assert {r["segment"] for r in rows} == {segment} and len(rows) == 2
        assert spec["encoding"]["y"]["scale"] == {"zero": False}


def test_every_health_check_has_plain_words_and_a_format():
    from cxroi.fit.health import CHECKS
    from cxroi.manifest import CHECK_LABELS

    names = {check.name for check in CHECKS}
    assert names == set(CHECK_LABELS) == set(fmt.CHECK_VALUE_FORMATS)
    assert all("_" not in label for label in CHECK_LABELS.values())  # no developer key on screen


def test_progress_text_reads_share_stage_speed_and_times():
    from cxroi.app.widgets import progress_text
    from cxroi.fit.progress import ProgressLine

    line = ProgressLine(0.125, "fitting the model: sampling, 1,000 of 8,000 draws", 130.0, 52.4, 910.0)
    assert progress_text(line) == ("12% · fitting the model: sampling, 1,000 of 8,000 draws · 52 draws/s · "
                                   "2 min 10 s elapsed · about 15 min 10 s left")
    assert progress_text(ProgressLine(1.0, "finished", 42.0)) == "100% · finished · 42 s elapsed"
