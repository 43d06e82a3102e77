"""``cxroi audit``: the trail filtered by time, user and action; a bad date is a plain error."""

from __future__ import annotations

import json
from pathlib import Path

from cxroi.cli import main
from tests.service.conftest import PLAN


def test_cxroi_audit_filters_and_explains_bad_dates(capsys, monkeypatch, tmp_path: Path, models: Path) -> None:
    monkeypatch.setenv("CXROI_MODELS_DIR", str(models))
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN), encoding="utf-8")
    monkeypatch.setenv("CXROI_USER", "ann")
    assert main(["scenarios", "save", str(plan)]) == 0
    monkeypatch.setenv("CXROI_USER", "bob")
    assert main(["models", "promote", "bayes-b", "--reason", "newer data", "--acknowledge-shift",
                 "--models-dir", str(models)]) == 0
    capsys.readouterr()

    assert main(["audit", "--user", "ann"]) == 0
    out = capsys.readouterr().out
    assert "save" in out and "Portal plan v1" in out and "promote" not in out
    assert main(["audit", "--action", "promote"]) == 0
    out = capsys.readouterr().out
    assert "bob" in out and "bayes-b" in out and "newer data" in out and "ann" not in out
    assert main(["audit", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out.strip() == "no audit entries match"
    assert main(["audit", "--since", "last tuesday"]) == 2
    err = capsys.readouterr().err
    assert "--since: expected a date like 2026-12-01" in err and "Traceback" not in err
