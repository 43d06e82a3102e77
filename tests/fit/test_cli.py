"""`cxroi train` and `cxroi models list | show | promote` through the click entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cxroi import registry
from cxroi.cli import main

from .conftest import SAMPLE, synthetic_panel


def test_regression_training_becomes_champion_and_is_listed(tmp_path, capsys) -> None:
    models = tmp_path / "models"
    code = main(["train", "--data", str(SAMPLE), "--family", "regression", "--seed", "4",
                 "--draws", "100", "--chains", "2", "--models-dir", str(models)])
    out = capsys.readouterr().out
    assert code == 0, out
    champion = registry.champion_id(models)
    assert champion and champion.startswith("regression-")
    for part in ("Backtest", "naive last", "Health gate: passed", "champion"):
        assert part in out
    assert main(["models", "list", "--models-dir", str(models)]) == 0
    assert champion in capsys.readouterr().out
    assert main(["models", "show", champion, "--models-dir", str(models)]) == 0
    shown = capsys.readouterr().out
    assert "churn_csat" in shown and "catalogue" in shown


def test_no_promote_keeps_the_champion(tmp_path, capsys) -> None:
    models = tmp_path / "models"
    args = ["train", "--data", str(SAMPLE), "--family", "regression", "--draws", "100", "--chains", "1",
            "--models-dir", str(models)]
    assert main(args) == 0
    first = registry.champion_id(models)
    assert main([*args, "--no-promote"]) == 0
    assert registry.champion_id(models) == first
    assert len(registry.list_models(models)) == 2


def test_invalid_panel_lists_every_problem_and_writes_nothing(tmp_path, capsys) -> None:
    panel = pd.read_csv(SAMPLE)
    panel.loc[2, "churned"] = -5
    panel.loc[7, "csat"] = 140
    panel.loc[9, "period"] = "soon"
    bad = tmp_path / "bad.csv"
    panel.to_csv(bad, index=False)
    models = tmp_path / "models"
    code = main(["train", "--data", str(bad), "--family", "regression", "--models-dir", str(models)])
    out = capsys.readouterr().out
    assert code == 1
    for fragment in ("churned", "csat", "'soon' is not a date", "3 error(s)"):
        assert fragment in out
    assert not models.exists()


def test_bad_pilot_file_is_a_plain_error(tmp_path, capsys) -> None:
    pilots = tmp_path / "p.csv"
    pilots.write_text("initiative,segment,metric,lift,se\nteleport,SMB-EU,csat,4,1\n")
    code = main(["train", "--data", str(SAMPLE), "--family", "regression", "--pilots", str(pilots),
                 "--models-dir", str(tmp_path / "m")])
    assert code == 2
    assert "initiative 'teleport' is not in the catalogue" in capsys.readouterr().err


@pytest.mark.slow
def test_rejected_bayes_model_is_never_promoted_unless_forced(tmp_path, capsys) -> None:
    """Too few draws to reach bulk ESS 400: stored as rejected, promotion needs --force and a reason.
    The panel has spend history and a pilot, so the lift sub-model and its pilot term are sampled."""
    panel, _ = synthetic_panel(8, segments=4, months=24, spend=True)
    data = tmp_path / "panel.csv"
    panel.to_csv(data, index=False)
    pilots = tmp_path / "pilots.yaml"
    initiative = next(c.removeprefix("spend_") for c in panel.columns if c.startswith("spend_"))
    pilots.write_text(f"pilots:\n  - {{initiative: {initiative}, segment: {panel['segment'].iloc[0]}, "
                      "metric: nps, lift: 5, se: 0.5}\n")
    models = tmp_path / "models"
    code = main(["train", "--data", str(data), "--seed", "2", "--draws", "100", "--tune", "150",  # survey error off:
                 "--chains", "2", "--pilots", str(pilots), "--no-survey-error",  # a quarter of the compile
                 "--models-dir", str(models)])
    out = capsys.readouterr().out
    assert code == 4, out
    assert registry.champion_id(models) is None
    (model_id,) = [r["model_id"] for r in registry.list_models(models)]
    manifest = registry.load_artifact(model_id, models).manifest
    assert manifest.status == "rejected" and not manifest.health.passed
    assert manifest.effect_sources["lift_nps"][initiative] == "pilot"
    assert (Path(models) / model_id / registry.POSTERIOR).stat().st_size > 0
    assert main(["models", "promote", model_id, "--reason", "audit", "--models-dir", str(models)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["models", "promote", model_id, "--force", "--reason", "audit", "--models-dir", str(models)]) == 0
    assert registry.champion_id(models) == model_id
    log = [json.loads(line) for line in (models / registry.PROMOTION_LOG).read_text().splitlines()]
    assert log[-1]["forced"] and log[-1]["reason"] == "audit"
