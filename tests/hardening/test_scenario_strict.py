"""Scenario files are read strictly: no booleans for numbers, no repeated keys, bounded texts —
attacked through ``cxroi simulate`` (plain message, exit 2, nothing written)."""

from __future__ import annotations

import pytest

from cxroi.cli import main
from cxroi.sim.scenario import load_scenario
from cxroi.testing.artifacts import plausible_artifact

PLAN = ("name: Portal pilot\nhorizon_months: 12\ninvestments:\n  - initiative: I1\n"
        "    segments: [S1, S2]\n    duration_months: 6\n    monthly_spend: {spend}\n{extra}")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("strict-models")
    plausible_artifact(folder, model_id="m1", n_draws=20, n_segments=2, n_initiatives=1)
    return folder


def simulate(tmp_path, models, text, suffix=".yaml"):
    scenario = tmp_path / f"plan{suffix}"
    scenario.write_text(text)
    out = tmp_path / "out"
    code = main(["simulate", "--scenario", str(scenario), "--model", "m1", "--models-dir", str(models),
                 "--out", str(out)])
    return code, out


def test_a_valid_plan_runs(tmp_path, models):
    code, out = simulate(tmp_path, models, PLAN.format(spend=8000, extra="terminal_value: true\n"))
    assert code == 0 and out.exists()


@pytest.mark.parametrize(("spend", "extra", "message"), [
    ("true", "", "investments[0].monthly_spend: must be a number or text, not true"),
    ("8000", "annual_discount_rate: false\n", "annual_discount_rate: must be a number or text, not false"),
    ("8000", "gross_margin: {default: 0.5, segments: {S1: true}}\n",
     "gross_margin.segments.S1: must be a number or text, not true"),
    ("8000", "description: " + "x" * 5001 + "\n", "description: String should have at most 5000 characters"),
    ("8000", "name: " + "n" * 201 + "\n", "line 8: key 'name' is given twice in the same mapping (first on line 1)"),
])
def test_hostile_fields_are_refused_with_a_plain_message(tmp_path, models, capsys, spend, extra, message):
    code, out = simulate(tmp_path, models, PLAN.format(spend=spend, extra=extra))
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not out.exists()


def test_overlong_names_are_refused(tmp_path, models, capsys):
    long = "S" * 201
    text = PLAN.format(spend=8000, extra="").replace("[S1, S2]", f"[S1, {long}]").replace(
        "Portal pilot", "P" * 201)
    code, out = simulate(tmp_path, models, text)
    err = capsys.readouterr().err
    assert code == 2 and "investments[0].segments[1]: String should have at most 200 characters" in err
    assert "name: String should have at most 200 characters" in err and not out.exists()


def test_a_key_repeated_in_a_nested_mapping_names_key_and_line(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN.format(spend=8000, extra="").replace("    monthly_spend", "    duration_months: 7\n"
                                                                                    "    monthly_spend"))
    with pytest.raises(Exception, match=r"line 7: key 'duration_months' is given twice .*first on line 6"):
        load_scenario(path)


def test_a_key_repeated_in_json_is_refused(tmp_path, models, capsys):
    text = ('{"name": "a", "name": "b", "investments": [{"initiative": "I1", "segments": ["S1"], '
            '"duration_months": 3, "monthly_spend": 1}]}')
    code, out = simulate(tmp_path, models, text, suffix=".json")
    err = capsys.readouterr().err
    assert code == 2 and "key 'name' is given twice in the same object" in err and not out.exists()
