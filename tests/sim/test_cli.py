"""``cxroi simulate`` and ``cxroi optimize`` end to end (subprocess, as a user runs them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cxroi.testing.artifacts import plausible_artifact
from tests.conftest import cli_env

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args, models_dir):
    return subprocess.run([sys.executable, "-m", "cxroi.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env=cli_env(CXROI_MODELS_DIR=str(models_dir), COLUMNS="160"))


@pytest.fixture(scope="module")
def cli_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-models")
    plausible_artifact(folder, model_id="cli-model", n_draws=80, n_segments=3, n_initiatives=2)
    return folder


def test_simulate_writes_tables_and_prints_them(tmp_path, cli_models):
    scenario = tmp_path / "plan.yaml"
    scenario.write_text("name: Portal pilot\nhorizon_months: 24\ninvestments:\n  - initiative: I1\n"
                        "    segments: [S1, S2]\n    duration_months: 12\n    monthly_spend: 8000\n")
    out = tmp_path / "out"
    done = run_cli("simulate", "--scenario", scenario, "--model", "cli-model", "--out", out, models_dir=cli_models)
    assert done.returncode == 0, done.stderr
    assert "Portal pilot" in done.stdout and "npv" in done.stdout and "Value by lever" in done.stdout
    summary = pd.read_csv(out / "summary.csv")
    per_draw = pd.read_csv(out / "per_draw.csv")
    assert len(per_draw) == 80
    npv = summary.set_index("metric").loc["npv"]
    assert npv["p50"] == pytest.approx(per_draw["npv"].quantile(0.5), rel=1e-9)
    for name in ("levers.csv", "segments.csv", "monthly.csv", "provenance.json", "scenario.yaml"):
        assert (out / name).exists()


@pytest.mark.parametrize(("content", "expected"), [
    ("name: x\ninvestments:\n  - initiative: I1\n    segments: [S1]\n    duration_months: 3\n    monthly_spend: -1\n",
     "investments[0].monthly_spend"),
    ("name: x\ninvestments: [\n", "not valid YAML"),
    ("name: x\ninvestments:\n  - initiative: nope\n    segments: [S1]\n    duration_months: 3\n    monthly_spend: 1\n",
     "unknown initiative 'nope'"),
])
def test_bad_scenario_files_fail_with_one_message(tmp_path, cli_models, content, expected):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(content)
    done = run_cli("simulate", "--scenario", scenario, "--model", "cli-model", "--out", tmp_path / "o",
                   models_dir=cli_models)
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "o").exists()


def test_optimize_prints_an_allocation(tmp_path, cli_models):
    done = run_cli("optimize", "--budget", 1_200_000, "--model", "cli-model", "--horizon", 24, "--out",
                   tmp_path / "opt", models_dir=cli_models)
    assert done.returncode == 0, done.stderr
    allocation = pd.read_csv(tmp_path / "opt" / "allocation.csv")
    # here every initiative pays: one-off costs 2 × 50 000 + 1.1 M of running spend over 24 months
    assert allocation["one_off_cost"].sum() == pytest.approx(100_000)
    assert allocation["monthly_spend"].sum() * 24 == pytest.approx(1_100_000, rel=1e-6)
    assert allocation["total_spend"].sum() == pytest.approx(1_200_000, rel=1e-6)
    assert "spends 1,200,000 of the budget of 1,200,000" in done.stdout


def test_simulate_writes_all_its_files_or_none(tmp_path, cli_models):
    """A second run that cannot write one of its files (a folder is in its way) must leave the
    first run's files as they were, not a mix of the two runs."""
    out = tmp_path / "out"
    plans = {}
    for spend in (8000, 16000):
        plans[spend] = tmp_path / f"plan-{spend}.yaml"
        plans[spend].write_text(f"name: Plan {spend}\nhorizon_months: 12\ninvestments:\n  - initiative: I1\n"
                                f"    segments: [S1]\n    duration_months: 6\n    monthly_spend: {spend}\n")
    first = run_cli("simulate", "--scenario", plans[8000], "--model", "cli-model", "--out", out, models_dir=cli_models)
    assert first.returncode == 0, first.stderr
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    (out / "monthly.csv").unlink()
    (out / "monthly.csv").mkdir()
    second = run_cli("simulate", "--scenario", plans[16000], "--model", "cli-model", "--out", out, models_dir=cli_models)
    assert second.returncode == 2 and "could not write the results into" in second.stderr
    assert "Traceback" not in second.stderr + second.stdout
    after = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    assert after == {name: data for name, data in before.items() if name != "monthly.csv"}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_one_quantile_and_a_bad_budget_are_handled(tmp_path, cli_models):
    scenario = tmp_path / "plan.yaml"
    scenario.write_text("name: One quantile\nhorizon_months: 12\ninvestments:\n  - initiative: I1\n"
                        "    segments: [S1]\n    duration_months: 6\n    monthly_spend: 8000\n")
    done = run_cli("simulate", "--scenario", scenario, "--model", "cli-model", "--out", tmp_path / "q",
                   "--quantiles", "0.5,0.5", models_dir=cli_models)
    assert done.returncode == 0, done.stderr
    assert list(pd.read_csv(tmp_path / "q" / "summary.csv").columns).count("p50") == 1
    for budget in ("nan", "inf", "-5"):
        done = run_cli("optimize", "--budget", budget, "--model", "cli-model", models_dir=cli_models)
        assert done.returncode == 2 and "--budget must be a positive amount" in done.stderr, done.stderr


def test_a_scenario_file_with_several_problems_lists_them_all(tmp_path, cli_models):
    """A field error (an impossible lift) used to hide the rest: the start after the horizon, the
    unknown initiative and the unknown segment are named in the same message."""
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: Many problems\nhorizon_months: 24\ninvestments:\n"
                        "  - initiative: I1\n    segments: [S1]\n    start_month: 30\n    duration_months: 6\n"
                        "    monthly_spend: 100\n    lift: {csat: {mean: 500, sd: 1}}\n"
                        "  - initiative: teleport\n    segments: [Atlantis]\n    duration_months: 6\n"
                        "    monthly_spend: 100\n")
    done = run_cli("simulate", "--scenario", scenario, "--model", "cli-model", "--out", tmp_path / "o",
                   models_dir=cli_models)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    message = " ".join(done.stderr.split())
    for expected in ("investments[0].lift: csat lift of mean 500", "investments[0].start_month 30 is after the horizon",
                     "investments[1].initiative: unknown initiative 'teleport'",
                     "investments[1].segments: unknown segment(s) Atlantis"):
        assert expected in message, message
