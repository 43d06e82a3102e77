"""A model's caveats travel with every number derived from it: scoped to the segments a scenario
reaches and the effects its value rests on, into the result, the CLI and every export."""

from __future__ import annotations

import subprocess
import sys

import openpyxl
import pandas as pd
import pytest

from cxroi.export import export_forecast
from cxroi.export.tabular import read_parquet_provenance
from cxroi.manifest import Caveat
from cxroi.sim.engine import simulate
from cxroi.sim.scenario import Scenario
from cxroi.testing.artifacts import REPO, plausible_artifact
from tests.conftest import cli_env

WHOLE_MODEL = Caveat(code="survey_error_ignored", text="survey error is not modelled")
S2_ONLY = Caveat(code="small_segment", text="segment 'S2': only 40 customers", segments=("S2",))
S1_ARPU = Caveat(code="no_effect", text="no detectable effect of CSAT on revenue per customer",
                 segments=("S1",), effects=("arpu_csat",))
S1_CHURN = Caveat(code="separation", text="segment 'S1': satisfaction separates churn months",
                  segments=("S1",), effects=("churn_csat", "churn_nps"))
I2_LIFT = Caveat(code="not_identified", text="the lift of I2 rests on the catalogue prior", effects=("lift_csat",),
                 initiatives=("I2",))  # the scenario funds I1 only


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return plausible_artifact(tmp_path_factory.mktemp("caveats"), model_id="bayes-caveats", n_draws=50,
                              caveats=(WHOLE_MODEL, S2_ONLY, S1_ARPU, S1_CHURN, I2_LIFT))


def scenario(**levers: bool) -> Scenario:
    return Scenario.model_validate({"name": "Portal in S1", "horizon_months": 12, "levers": levers,
                                    "investments": [{"initiative": "I1", "segments": ["S1"], "monthly_spend": 10_000,
                                                     "duration_months": 12}]})


@pytest.mark.parametrize(("levers", "expected"), [
    ({}, [WHOLE_MODEL, S1_ARPU, S1_CHURN]),  # S2 is not reached
    ({"arpu": False}, [WHOLE_MODEL, S1_CHURN]),  # the value no longer rests on arpu_csat
    ({"retention": False, "acquisition": False}, [WHOLE_MODEL, S1_ARPU]),
])
def test_a_result_carries_the_caveats_of_its_segments_and_effects(model, levers, expected) -> None:
    assert list(simulate(scenario(**levers), model).provenance.caveats) == expected


def test_every_export_carries_them(model, tmp_path) -> None:
    result = simulate(scenario(), model)
    export_forecast(result, tmp_path / "f.xlsx", "xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "f.xlsx", read_only=True)["Caveats"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Caveat", "Segments", "Effects", "Code")
    assert [r[0] for r in rows[1:]] == [WHOLE_MODEL.text, S1_ARPU.text, S1_CHURN.text]
    assert rows[3][1:] == ("S1", "churn_csat, churn_nps", "separation") and rows[1][1:3] == ("all", "all")
    export_forecast(result, tmp_path / "f.parquet", "parquet")
    texts = [c["text"] for c in read_parquet_provenance(tmp_path / "f.parquet")["provenance"]["caveats"]]
    assert texts == [WHOLE_MODEL.text, S1_ARPU.text, S1_CHURN.text]
    export_forecast(result, tmp_path / "f.csv", "csv")
    assert S1_CHURN.text in (tmp_path / "f.provenance.json").read_text()
    assert pd.read_csv(tmp_path / "f.csv").shape[0] > 0


def test_a_model_without_caveats_says_so_in_the_workbook(tmp_path) -> None:
    quiet = plausible_artifact(tmp_path / "m", model_id="bayes-quiet", n_draws=20)
    export_forecast(simulate(scenario(), quiet), tmp_path / "f.xlsx", "xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "f.xlsx", read_only=True)["Caveats"].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0].startswith("The model records no caveat")


def test_simulate_prints_them_beside_the_figures(model, tmp_path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(scenario().to_yaml())
    done = subprocess.run([sys.executable, "-m", "cxroi.cli", "simulate", "--scenario", str(plan), "--model",
                           str(model.path), "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          cwd=REPO, env=cli_env(COLUMNS="200"))
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert "Caveats (3)" in out and S1_CHURN.text in out and S2_ONLY.text not in out
    assert "segments: S1; effects: churn_csat, churn_nps" in out
