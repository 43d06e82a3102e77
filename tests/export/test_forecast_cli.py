"""``cxroi forecast`` and ``cxroi scenarios`` end to end on a real model artifact and the real
simulation engine; the store lives in the per-test CXROI_HOME set by tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from cxroi import registry
from cxroi.cli import main
from cxroi.sim.engine import simulate
from cxroi.sim.scenario import load_scenario
from cxroi.store import Store

SCENARIO = {
    "name": "Portal pilot",
    "investments": [{"initiative": "I1", "segments": ["S1", "S2"], "duration_months": 12,
                     "monthly_spend": 10_000, "one_off_cost": 50_000}],
    "horizon_months": 24,
}


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "portal.yaml"
    path.write_text(yaml.safe_dump(SCENARIO), encoding="utf-8")
    return path


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_forecast_writes_every_format_from_the_champion(capsys, tmp_path: Path, models_dir: Path,
                                                        scenario_file: Path) -> None:
    out = tmp_path / "out"
    for fmt in ("xlsx", "csv", "parquet"):
        code, stdout, stderr = _run(capsys, "forecast", "--scenario", str(scenario_file), "--format", fmt,
                                    "--out", str(out / f"f.{fmt}"), "--models-dir", str(models_dir))
        assert code == 0, stderr
        assert f"wrote {out / f'f.{fmt}'}" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["f.csv", "f.parquet", "f.provenance.json", "f.xlsx"]
    expected = simulate(load_scenario(scenario_file), registry.load_artifact(None, models_dir))
    summary = openpyxl.load_workbook(out / "f.xlsx")["Summary"]
    npv_row = next(r for r in summary.iter_rows(min_row=8, values_only=True) if r[0] == "NPV")
    assert npv_row[3] == pytest.approx(np.quantile(expected.npv, 0.5))
    long = pd.read_parquet(out / "f.parquet")
    assert set(long["segment"]) == {"S1", "S2", "S3", "S4", "all"} and long["model_id"].eq("bayes-export-test").all()
    runs = Store().list_runs("Portal pilot")
    assert len(runs) == 3 and {r.model_id for r in runs} == {"bayes-export-test"}
    assert runs[0].scenario_version is None  # the file was never saved
    assert runs[0].summary["npv"]["p50"] == pytest.approx(np.quantile(expected.npv, 0.5))


def test_save_list_show_forecast_by_name_and_delete(capsys, tmp_path: Path, models_dir: Path,
                                                    scenario_file: Path) -> None:
    assert _run(capsys, "scenarios", "save", str(scenario_file))[1].strip() == \
        "saved scenario 'Portal pilot' as version 1"
    changed = {**SCENARIO, "horizon_months": 12}
    scenario_file.write_text(yaml.safe_dump(changed), encoding="utf-8")
    assert "as version 2" in _run(capsys, "scenarios", "save", str(scenario_file), "--base-version", "1")[1]
    code, stdout, _ = _run(capsys, "scenarios", "list")
    assert code == 0 and "Portal pilot" in stdout
    code, stdout, _ = _run(capsys, "scenarios", "show", "Portal pilot", "--version", "1")
    assert code == 0 and yaml.safe_load(stdout)["horizon_months"] == 24

    target = tmp_path / "by-name.parquet"
    code, _, stderr = _run(capsys, "forecast", "--scenario", "Portal pilot", "--version", "1", "--out", str(target),
                           "--models-dir", str(models_dir))
    assert code == 0, stderr
    assert pd.read_parquet(target)["forecast_month"].max() == 24  # version 1, not the latest
    code, _, _ = _run(capsys, "forecast", "--scenario", str(scenario_file), "--out", str(tmp_path / "f.csv"),
                      "--models-dir", str(models_dir))
    assert code == 0
    assert [r.scenario_version for r in Store().list_runs()] == [2, 1]  # the file equals saved version 2

    assert "deleted version 1" in _run(capsys, "scenarios", "delete", "Portal pilot", "--version", "1")[1]
    code, _, stderr = _run(capsys, "scenarios", "show", "Portal pilot", "--version", "1")
    assert code == 2 and "no version 1 (saved versions: 2)" in stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--scenario", "missing.yaml", "--out", "x.csv"], "missing.yaml: scenario file not found"),
    (["--scenario", "Nobody saved this", "--out", "x.csv"], "no saved scenario named 'Nobody saved this'"),
    (["--scenario", "{scenario}", "--out", "x.pdf"], "cannot tell the format from the file name"),
    (["--scenario", "{scenario}", "--out", "x.xlsx", "--format", "csv"], "--format csv does not match the file's .xlsx"),
    (["--scenario", "{scenario}", "--out", "x.csv", "--model", "no-such-model"], "model 'no-such-model' not found"),
    (["--scenario", "{bad_segment}", "--out", "x.csv"], "unknown segment(s) Atlantis"),
])
def test_user_errors_are_one_plain_line(capsys, tmp_path: Path, models_dir: Path, scenario_file: Path,
                                        args: list[str], message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**SCENARIO, "investments": [
        {**SCENARIO["investments"][0], "segments": ["S1", "Atlantis"]}]}), encoding="utf-8")
    args = [a.format(scenario=scenario_file, bad_segment=bad) for a in args]
    code, _, stderr = _run(capsys, "forecast", *args, "--models-dir", str(models_dir))
    assert code == 2
    assert message in stderr and "Traceback" not in stderr
    assert not list(Path.cwd().glob("x.*"))


def test_scenario_store_errors_are_plain(capsys, tmp_path: Path) -> None:
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(yaml.safe_dump({**SCENARIO, "investments": [
        {**SCENARIO["investments"][0], "monthly_spend": -5}]}), encoding="utf-8")
    code, _, stderr = _run(capsys, "scenarios", "save", str(invalid))
    assert code == 2 and "investments[0].monthly_spend" in stderr and "Traceback" not in stderr
    assert Store().list_scenarios() == []  # nothing saved
    code, _, stderr = _run(capsys, "scenarios", "delete", "ghost")
    assert code == 2 and "no saved scenario named 'ghost'" in stderr
    code, stdout, _ = _run(capsys, "scenarios", "list")
    assert code == 0 and "no saved scenarios" in stdout


def test_a_name_given_on_the_command_line_is_checked_like_one_in_the_file(capsys, scenario_file: Path) -> None:
    code, _, stderr = _run(capsys, "scenarios", "save", str(scenario_file), "--name", "Q3\nplan")
    assert code == 2 and "name: must be one line" in stderr and "Traceback" not in stderr
