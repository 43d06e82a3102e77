"""Promotion compares before it trusts: a model whose revenue is ten times the champion's (a
poisoned panel) cannot become the champion — from the CLI or the app — until the shift is
acknowledged, and the acknowledgement is recorded with the promotion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cxroi import registry
from cxroi.cli import main
from cxroi.testing.artifacts import truth_champion

POISONED = "bayes-20260301-000000-poisoned"


@pytest.fixture
def models(tmp_path) -> Path:
    """A champion and a candidate trained on revenue ×10 (otherwise identical, accepted)."""
    folder = tmp_path / "models"
    champion = registry.load_artifact(truth_champion(folder), folder)
    state = {s: v.model_copy(update={"arpu": 10 * v.arpu}) for s, v in champion.manifest.state.items()}
    manifest = champion.manifest.model_copy(update={"model_id": POISONED, "state": state, "created_at": None})
    draws = {**champion.draws, "arpu_intercept": champion.draws["arpu_intercept"] + np.log(10.0)}
    registry.save_artifact(manifest, draws, folder)
    return folder


def _log(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / registry.PROMOTION_LOG).read_text().splitlines()]


def test_the_cli_refuses_a_shifted_model_until_acknowledged(models, capsys):
    champion, logged = registry.champion_id(models), _log(models)
    code = main(["models", "promote", POISONED, "--models-dir", str(models), "--reason", "retrained on new data"])
    said = " ".join(capsys.readouterr())
    assert code != 0
    assert "revenue per customer" in said and "reference scenario NPV" in said and "--acknowledge-shift" in said
    assert "Traceback" not in said
    assert registry.champion_id(models) == champion and _log(models) == logged  # nothing written

    assert main(["models", "promote", POISONED, "--models-dir", str(models), "--acknowledge-shift",
                 "--reason", "revenue restated"]) == 0
    assert registry.champion_id(models) == POISONED
    entry = _log(models)[-1]
    assert entry["shift"]["acknowledged"] is True and entry["shift"]["champion"] == champion
    npv = entry["shift"]["reference_npv"]
    assert npv["candidate"] > 5 * npv["champion"] > 0


PROMOTE_TAB = "from cxroi.app.pages.drivers import drivers\ndrivers()"


def test_the_apps_promote_form_needs_confirmation_a_reason_and_the_acknowledgement(models, app_env, monkeypatch):
    monkeypatch.setenv("CXROI_MODELS_DIR", str(models))
    champion = registry.champion_id(models)
    at = AppTest.from_string(PROMOTE_TAB, default_timeout=60).run()
    choice = next(s for s in at.selectbox if s.label == "Model")
    choice.set_value(POISONED).run()
    assert any("differs from the champion" in w.value and "revenue per customer" in w.value for w in at.warning)

    def submit(reason: str = "", confirm: bool = False, acknowledge: bool = False) -> None:
        next(a for a in at.text_area if a.label.startswith("Reason for the promotion")).input(reason)
        next(c for c in at.checkbox if c.label.startswith("I confirm")).set_value(confirm)
        next(c for c in at.checkbox if c.label.startswith("I have checked the shift")).set_value(acknowledge)
        next(b for b in at.button if b.label == "Promote").click().run()  # ticked and submitted together

    submit(reason="revenue restated")
    assert any("Tick the confirmation" in e.value for e in at.error), [e.value for e in at.error]
    submit(confirm=True)
    assert any("Give the reason" in e.value for e in at.error), [e.value for e in at.error]
    submit(reason="revenue restated", confirm=True)
    assert any("--acknowledge-shift" in e.value for e in at.error), [e.value for e in at.error]
    assert registry.champion_id(models) == champion
    submit(reason="revenue restated", confirm=True, acknowledge=True)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert registry.champion_id(models) == POISONED
    entry = _log(models)[-1]
    assert entry["shift"]["acknowledged"] is True and entry["reason"] == "revenue restated"
