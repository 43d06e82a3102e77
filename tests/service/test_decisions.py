"""Approving a saved scenario version makes an immutable decision record; exports of the approved
version name it; a saved scenario is valued under its pinned model beside the champion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from cxroi import registry, service
from cxroi.cli import main
from cxroi.service import AlreadyApproved, Context, Role, ScenarioRef
from cxroi.sim.engine import simulate as engine_simulate
from cxroi.sim.scenario import parse_scenario
from cxroi.store import Store, StoreError
from cxroi.testing.artifacts import exact_artifact
from tests.service.conftest import CANDIDATE, CHAMPION, PLAN, USERS

VERA, FAY, AL, ADA = (USERS[r] for r in (Role.VIEWER, Role.FINANCE, Role.ANALYST, Role.ADMIN))


def test_a_decision_records_the_version_model_data_forecast_caveats_and_approver(tmp_path: Path) -> None:
    """On a model whose CX effects and lifts are all zero the investment changes nothing, so every
    draw's NPV is minus the present value of the spend and its ROI exactly -1 (by hand)."""
    models = tmp_path / "models"
    exact_artifact(models, "regression-zero", {}, n_draws=5)
    registry.promote("regression-zero", models, user="setup")
    plan = {"name": "Zero", "horizon_months": 12, "investments": [
        {"initiative": "I", "segments": ["S"], "duration_months": 6, "monthly_spend": 1_000.0}]}
    ctx_zero = Context(Store(f"sqlite:///{tmp_path / 'cxroi.db'}"), models)
    saved = service.save_scenario(ctx_zero, VERA, plan)
    decision = service.approve_scenario(ctx_zero, FAY, "Zero")
    assert (decision.scenario_name, decision.scenario_version, decision.scenario_body) == ("Zero", 1, saved.body)
    assert (decision.model_id, decision.data_fingerprint) == ("regression-zero", "sha256:test")
    assert (decision.approved_by, decision.approver_subject, decision.current) == ("Fay", "oidc|fay", True)
    forecast = decision.forecast
    pv_spend = forecast["summary"]["pv_spend"]["mean"]
    assert pv_spend > 0
    assert forecast["per_draw"]["roi"] == [-1.0] * 5
    assert forecast["per_draw"]["npv"] == pytest.approx([-pv_spend] * 5, abs=0.01)  # kept to the cent
    assert forecast["n_draws"] == 5 and forecast["horizon_months"] == 12 and forecast["prob_roi_positive"] == 0.0
    assert forecast["quantiles"] == [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]
    assert forecast["summary"]["npv"]["p50"] == pytest.approx(-pv_spend)
    assert forecast["plausibility"] == [f.as_dict() for f in service.simulate(ctx_zero, VERA, plan).result.plausibility]
    ctx_zero.close()


def test_approving_again_supersedes_and_an_approved_version_cannot_be_deleted(ctx: Context) -> None:
    service.save_scenario(ctx, VERA, PLAN)
    first = service.approve_scenario(ctx, FAY, PLAN["name"])
    with pytest.raises(AlreadyApproved, match=rf"already approved on model {CHAMPION} as decision {first.id} "
                                              r"\(by Fay\)"):
        service.approve_scenario(ctx, ADA, PLAN["name"])
    service.save_scenario(ctx, VERA, {**PLAN, "horizon_months": 36}, base_version=1)
    second = service.approve_scenario(ctx, ADA, PLAN["name"])
    records = {d.id: d for d in service.list_decisions(ctx, VERA)}
    assert records[first.id].superseded_by == second.id and records[second.id].current
    assert (records[first.id].scenario_version, records[second.id].scenario_version) == (1, 2)
    with pytest.raises(StoreError, match="cannot be deleted"):
        service.delete_scenario(ctx, ADA, PLAN["name"], 1)
    assert service.get_decision(ctx, VERA, first.id) == records[first.id]


def test_the_export_of_an_approved_version_names_its_decision_and_uses_its_model(ctx: Context,
                                                                                  tmp_path: Path) -> None:
    service.save_scenario(ctx, VERA, PLAN)
    decision = service.approve_scenario(ctx, FAY, PLAN["name"])
    service.promote_model(ctx, AL, CANDIDATE, "newer data", acknowledge_shift=True)  # the champion changes

    csv = service.forecast(ctx, FAY, ScenarioRef(PLAN["name"]), "csv")
    assert csv.decision_id == decision.id and csv.simulation.model_id == CHAMPION  # the decision's model
    provenance = json.loads(csv.files["Portal_plan-v1.provenance.json"])["provenance"]
    assert provenance["decision"] == {
        "id": decision.id, "scenario": "Portal plan", "version": 1, "approved_by": "Fay",
        "approved_at": decision.approved_at.isoformat(timespec="seconds"), "model_id": CHAMPION,
        "superseded_by": None, "same_model": True}
    assert csv.simulation.result.npv.mean() == pytest.approx(decision.forecast["summary"]["npv"]["mean"])

    out = tmp_path / "plan.xlsx"
    service.forecast(ctx, FAY, parse_scenario(PLAN), "xlsx", out=out)  # the same plan from a file
    sheet = openpyxl.load_workbook(out)["Provenance"]
    fields = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row[0]}
    assert fields["decision.id"] == decision.id and fields["decision.approved_by"] == "Fay"
    runs = ctx.store.list_runs()
    assert [(r.decision_id, r.requested_by) for r in runs] == [(decision.id, "Fay")] * 2


def test_a_saved_scenario_valued_under_its_pinned_model_and_the_new_champion(ctx: Context) -> None:
    service.save_scenario(ctx, VERA, PLAN)
    same = service.value_under_models(ctx, VERA, ScenarioRef(PLAN["name"]))
    assert not same.champion_changed and same.difference is None and same.pinned.model_id == CHAMPION

    service.promote_model(ctx, AL, CANDIDATE, "newer data", acknowledge_shift=True)
    valued = service.value_under_models(ctx, VERA, ScenarioRef(PLAN["name"]))
    assert valued.champion_changed
    assert (valued.pinned.model_id, valued.champion.model_id) == (CHAMPION, CANDIDATE)
    scenario = parse_scenario(PLAN)  # reference: the engine run directly on each model
    old = engine_simulate(scenario, registry.load_artifact(CHAMPION, ctx.models_dir))
    new = engine_simulate(scenario, registry.load_artifact(CANDIDATE, ctx.models_dir))
    assert valued.difference.npv_mean == pytest.approx(new.npv.mean() - old.npv.mean())
    assert valued.difference.npv_p50 == pytest.approx(np.median(new.npv) - np.median(old.npv))
    assert valued.difference.prob_roi_positive == pytest.approx(new.prob_roi_positive - old.prob_roi_positive)
    assert valued.difference.npv_mean != 0


def test_a_pinned_model_that_is_gone_is_reported_not_raised(ctx: Context) -> None:
    service.save_scenario(ctx, VERA, PLAN, model_id="bayes-deleted")
    valued = service.value_under_models(ctx, VERA, ScenarioRef(PLAN["name"]))
    assert valued.pinned is None and "bayes-deleted" in valued.pinned_problem
    assert valued.champion.model_id == CHAMPION


def test_decisions_through_the_cli_can_be_shown_but_not_changed(capsys, monkeypatch, models: Path,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("CXROI_MODELS_DIR", str(models))
    monkeypatch.setenv("CXROI_USER", "fay")
    plan = tmp_path / "plan.yaml"
    plan.write_text(json.dumps(PLAN), encoding="utf-8")
    assert main(["scenarios", "save", str(plan)]) == 0
    assert main(["scenarios", "approve", "Portal plan"]) == 0
    out = capsys.readouterr().out
    assert "approved scenario 'Portal plan' version 1 as decision 1 on model bayes-a" in out
    with Store() as store:
        recorded = store.get_decision(1)
    assert main(["decisions", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["approved_by"] == "fay" and shown["forecast"] == recorded.forecast
    assert main(["decisions", "list"]) == 0 and "current" in capsys.readouterr().out
    out = tmp_path / "approved.csv"
    assert main(["forecast", "--scenario", "Portal plan", "--out", str(out)]) == 0
    assert "approved as decision 1 by fay" in capsys.readouterr().out
    sidecar = json.loads((tmp_path / "approved.provenance.json").read_text(encoding="utf-8"))
    assert sidecar["provenance"]["decision"]["id"] == 1 and sidecar["provenance"]["decision"]["same_model"]

    for attempt in (["decisions", "delete", "1"], ["decisions", "edit", "1"], ["decisions", "show", "1", "--set", "x"]):
        assert main(attempt) == 2  # no such command or option
    assert main(["scenarios", "delete", "Portal plan"]) == 2
    assert "cannot be deleted" in capsys.readouterr().err
    with Store() as store:
        assert store.get_decision(1) == recorded and store.get_scenario("Portal plan").version == 1
    assert main(["audit", "--user", "fay"]) == 0
    listing = capsys.readouterr().out
    assert "approve" in listing and "save" in listing
