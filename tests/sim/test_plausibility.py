"""The plausibility review: each check against hand-set thresholds, the example scenarios on the
sample model under the catalogue's costs (no flag), and scenarios built to be implausible
(flags in the CLI and in the XLSX)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from cxroi import registry
from cxroi.errors import CxroiError
from cxroi.export import export_forecast
from cxroi.manifest import Caveat
from cxroi.sim.engine import simulate
from cxroi.sim.plausibility import (
    Context,
    PlausibilityConfig,
    config_from_environment,
    flags,
    headline,
    review,
)
from cxroi.sim.scenario import Scenario, load_scenario
from cxroi.testing.artifacts import plausible_artifact, with_catalogue_costs
from tests.conftest import cli_env
from tests.export.conftest import make_result

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "data" / "scenarios").glob("*.yaml"))
#: the three-year ROI range published CX case studies report (data/README.md)
PUBLISHED_ROI = (1.0, 4.0)


def _checks(findings) -> set[str]:
    return {f.check for f in findings}


# ----------------------------------------------------------------------------- each check
def test_roi_irr_and_payback_flags_follow_their_thresholds() -> None:
    result = make_result()
    roi = np.quantile(result.roi[np.isfinite(result.roi)], 0.5)  # the summary's P50 (linear interpolation)
    assert "roi" in _checks(review(result, config=PlausibilityConfig(max_roi=roi - 1e-9)))
    assert "roi" not in _checks(review(result, config=PlausibilityConfig(max_roi=roi + 1e-9)))
    payback = result.summary((0.5,)).loc["payback_month", "p50"]
    if np.isfinite(payback):
        assert "payback" in _checks(review(result, config=PlausibilityConfig(min_payback_months=payback)))
        assert "payback" not in _checks(review(result, config=PlausibilityConfig(min_payback_months=payback - 1)))
    irr = result.summary((0.5,)).loc["irr", "p50"]
    if np.isfinite(irr):
        assert "irr" in _checks(review(result, config=PlausibilityConfig(max_irr=irr - 1e-9)))
        assert "irr" not in _checks(review(result, config=PlausibilityConfig(max_irr=irr + 1e-9)))


@pytest.mark.parametrize(("horizon", "terminal", "flagged"), [(61, True, True), (60, True, False), (120, False, False)])
def test_terminal_value_beyond_five_years_is_flagged(horizon: int, terminal: bool, flagged: bool) -> None:
    result = make_result(horizon=horizon, n_draws=20)
    body = {**result.scenario.to_dict(), "horizon_months": horizon, "terminal_value": terminal}
    body["investments"][0]["duration_months"] = 6
    result = dataclasses.replace(result, scenario=Scenario.model_validate(body))
    assert ("terminal_horizon" in _checks(review(result))) is flagged


def test_a_lift_beyond_the_history_range_is_flagged(tmp_path: Path) -> None:
    artifact = plausible_artifact(tmp_path, n_draws=10)
    state = {s: artifact.manifest.state[s].model_copy(update={"csat_min": 70.0, "csat_max": 80.0, "nps_min": 0.0,
                                                              "nps_max": 40.0}) for s in artifact.segments}
    manifest = artifact.manifest.model_copy(update={"state": state})  # CSAT 75 now, 70–80 seen: bound 82.5
    result = make_result(n_draws=20)
    within = Context({("S1", "csat"): 7.0, ("S2", "nps"): 29.0}, manifest)  # 82.0 and NPS 20 + 29 = 49 < 50
    assert "beyond_history" not in _checks(review(result, within))
    beyond = review(result, Context({("S1", "csat"): 8.0, ("S2", "csat"): 7.4}, manifest))
    (finding,) = [f for f in beyond if f.check == "beyond_history"]
    assert finding.severity == "flag" and finding.segments == ("S1",)
    assert "CSAT of S1 to 83.0 (history 70.0 to 80.0)" in finding.text
    assert finding.value == pytest.approx(0.5)  # 83.0 − 82.5 points


def test_an_unidentified_lift_is_a_review_item_unless_a_given_lift_replaces_it() -> None:
    caveat = Caveat(code="not_identified", text="the lift of the portal rests on the catalogue prior",
                    segments=("SMB-EU",), effects=("lift_csat", "lift_nps"), initiatives=("self_service_portal",))
    result = make_result(n_draws=20)
    result = dataclasses.replace(result, provenance=dataclasses.replace(result.provenance, caveats=(caveat,)))
    (finding,) = review(result)
    assert (finding.check, finding.severity) == ("unidentified", "review")
    assert finding.text.startswith("The lift of the portal")
    body = result.scenario.to_dict()
    body["investments"][0]["lift"] = {"csat": {"mean": 3, "sd": 1}, "nps": {"mean": 4, "sd": 1}}
    piloted = dataclasses.replace(result, scenario=Scenario.model_validate(body))
    assert review(piloted) == ()
    assert headline(review(result)) == "Plausibility review: 1 item to review."


def test_thresholds_come_from_the_environment_and_bad_values_are_named() -> None:
    assert config_from_environment({"CXROI_PLAUSIBLE_MAX_ROI": "8"}).max_roi == 8.0
    assert config_from_environment({}) == PlausibilityConfig()
    with pytest.raises(CxroiError, match=r"CXROI_PLAUSIBLE_MAX_IRR must be a number ≥ 0 .found 'lots'."):
        config_from_environment({"CXROI_PLAUSIBLE_MAX_IRR": "lots"})


# ----------------------------------------------------------------------------- the sample model
@pytest.fixture(scope="module")
def costed_dir(tmp_path_factory) -> Path:
    """The shipped model under the current catalogue's costs, with the sample panel's history range."""
    folder = tmp_path_factory.mktemp("costed")
    shipped = registry.load_artifact(registry.champion_id(REPO / "models"), REPO / "models")
    with_catalogue_costs(shipped, folder, REPO / "data" / "sample" / "panel.csv", model_id="costed")
    return folder


@pytest.fixture(scope="module")
def costed(costed_dir: Path) -> registry.ModelArtifact:
    return registry.load_artifact("costed", costed_dir)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_return_what_published_case_studies_report_and_raise_no_flag(path: Path, costed) -> None:
    result = simulate(load_scenario(path, costed), costed)
    roi = result.summary((0.5,)).loc["roi", "p50"]
    assert PUBLISHED_ROI[0] <= roi <= PUBLISHED_ROI[1], roi
    assert flags(result.plausibility) == ()


def _implausible(tmp_path: Path) -> dict[str, Path]:
    """Two scenarios built to be implausible: 240 months with a terminal value, and a lift far
    beyond the CSAT range of the history (+25 points in SMB-EU, whose history spans 66.5–77.8)."""
    long = tmp_path / "long.yaml"
    long.write_text("name: Twenty years\nhorizon_months: 240\nterminal_value: true\ninvestments:\n"
                    "  - initiative: proactive_success\n    segments: [MidMarket-EU]\n    duration_months: 24\n"
                    "    spend_level: 1.0\n    one_off_cost: 200000\n", encoding="utf-8")
    lifted = tmp_path / "lifted.yaml"
    lifted.write_text("name: Giant lift\ninvestments:\n  - initiative: self_service_portal\n    segments: [SMB-EU]\n"
                      "    duration_months: 24\n    spend_level: 1.0\n    lift: {csat: {mean: 25, sd: 1}}\n",
                      encoding="utf-8")
    return {"terminal_horizon": long, "beyond_history": lifted}


def _simulate_cli(scenario: Path, out: Path, models_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cxroi.cli", "simulate", "--scenario", str(scenario), "--model",
                           "costed", "--out", str(out)], capture_output=True, text=True, cwd=REPO,
                          env=cli_env(CXROI_MODELS_DIR=str(models_dir), COLUMNS="160"))


@pytest.mark.slow
def test_cli_shows_no_flag_for_the_examples_and_flags_implausible_scenarios(costed_dir: Path, tmp_path: Path) -> None:
    for path in EXAMPLES:
        done = _simulate_cli(path, tmp_path / path.stem, costed_dir)
        assert done.returncode == 0, done.stderr
        assert "FLAG" not in done.stdout and "plausibility flag" not in done.stdout, done.stdout
    for check, path in _implausible(tmp_path).items():
        done = _simulate_cli(path, tmp_path / check, costed_dir)
        assert done.returncode == 0, done.stderr
        assert "FLAG" in done.stdout and "plausibility flag" in done.stdout, done.stdout
        assert check in (tmp_path / check / "plausibility.json").read_text(encoding="utf-8")


def test_the_workbook_carries_the_flags_of_an_implausible_scenario(costed, tmp_path: Path) -> None:
    for check, path in _implausible(tmp_path).items():
        result = simulate(load_scenario(path, costed), costed)
        assert check in _checks(flags(result.plausibility))
        book_path = tmp_path / f"{check}.xlsx"
        export_forecast(result, book_path, "xlsx")
        book = openpyxl.load_workbook(book_path)
        rows = list(book["Plausibility"].iter_rows(min_row=2, values_only=True))
        assert (check, "flag") in {(row[3], row[0]) for row in rows}
        summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
        n_flags = len(flags(result.plausibility))
        assert summary["Plausibility review"].startswith(f"{n_flags} flag")


def test_the_planner_s_default_scenario_returns_within_the_published_range(costed) -> None:
    from cxroi.app.scenario_form import default_body
    from cxroi.catalogue import load_catalogue
    from cxroi.sim.scenario import parse_scenario

    result = simulate(parse_scenario(default_body(costed, load_catalogue())), costed)
    roi = result.summary((0.5,)).loc["roi", "p50"]
    assert PUBLISHED_ROI[0] <= roi <= PUBLISHED_ROI[1], roi
    assert flags(result.plausibility) == ()
