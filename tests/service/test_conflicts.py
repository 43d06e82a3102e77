"""Two clients saving the same scenario from the same base version: the first save wins, the
second is told who saved what (ConflictError through the service, exit code 1 and the two ways on
through the CLI) and nothing of it is stored until the user chooses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cxroi.cli import main
from cxroi.service import ConflictError, Context, Role, ScenarioRef, save_scenario, simulate
from cxroi.store import Store
from tests.service.conftest import PLAN, USERS

VERA, FAY = USERS[Role.VIEWER], USERS[Role.FINANCE]

pytestmark = pytest.mark.xdist_group("store")  # the PostgreSQL server is started once per worker


def test_two_clients_from_one_base_version_one_wins_one_is_told(backend_ctx: Context, database_url: str) -> None:
    ours = backend_ctx
    with Context(Store(database_url), ours.models_dir) as theirs:  # a second process on the same store
        save_scenario(ours, VERA, PLAN)
        base = ours.store.get_scenario(PLAN["name"]).version
        assert base == theirs.store.get_scenario(PLAN["name"]).version == 1  # both opened version 1

        vera_edit = {**PLAN, "horizon_months": 36}
        fay_edit = {**PLAN, "description": "Fay's numbers"}
        assert save_scenario(ours, VERA, vera_edit, base_version=base).version == 2
        with pytest.raises(ConflictError) as raised:
            save_scenario(theirs, FAY, fay_edit, base_version=base)
        conflict = raised.value
        assert (conflict.latest_version, conflict.saved_by) == (2, "Vera")
        assert str(conflict).startswith("scenario 'Portal plan' changed since version 1: version 2 was saved by Vera")
        assert [s.version for s in theirs.store.versions(PLAN["name"])] == [1, 2]

        # the two ways on: reload (read version 2) or save on top of it
        assert theirs.store.get_scenario(PLAN["name"], conflict.latest_version).body["horizon_months"] == 36
        on_top = save_scenario(theirs, FAY, fay_edit, base_version=conflict.latest_version)
        assert (on_top.version, on_top.saved_by) == (3, "Fay")
    saves = [(e.user, e.object_id) for e in reversed(ours.store.audit_entries(action="save"))]
    assert saves == [("Vera", "Portal plan v1"), ("Vera", "Portal plan v2"), ("Fay", "Portal plan v3")]


def test_a_new_scenario_under_a_taken_name_is_a_conflict_too(ctx: Context) -> None:
    save_scenario(ctx, VERA, PLAN)
    with pytest.raises(ConflictError, match="'Portal plan' already exists: version 1 was saved by Vera"):
        save_scenario(ctx, FAY, PLAN)  # no base version: "I am saving a new scenario"


def test_a_saved_scenario_is_pinned_to_the_model_it_was_valued_on(ctx: Context) -> None:
    saved = save_scenario(ctx, VERA, PLAN)
    assert saved.model_id == "bayes-a"  # the champion when saved
    assert save_scenario(ctx, VERA, PLAN, base_version=1, model_id="bayes-b").model_id == "bayes-b"
    assert simulate(ctx, VERA, ScenarioRef(PLAN["name"], 1)).saved.model_id == "bayes-a"


def test_the_cli_refuses_the_second_save_from_one_base(capsys, monkeypatch, tmp_path: Path, models: Path) -> None:
    monkeypatch.setenv("CXROI_MODELS_DIR", str(models))
    first, second = tmp_path / "ann.yaml", tmp_path / "bob.yaml"
    first.write_text(yaml.safe_dump({**PLAN, "horizon_months": 36}), encoding="utf-8")
    second.write_text(yaml.safe_dump({**PLAN, "description": "Bob's"}), encoding="utf-8")
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(PLAN), encoding="utf-8")
    monkeypatch.setenv("CXROI_USER", "ann")
    assert main(["scenarios", "save", str(plan)]) == 0
    assert main(["scenarios", "save", str(first), "--base-version", "1"]) == 0
    capsys.readouterr()

    monkeypatch.setenv("CXROI_USER", "bob")
    assert main(["scenarios", "save", str(second), "--name", "Portal plan", "--base-version", "1"]) == 1
    said = capsys.readouterr()
    assert said.out == ""
    message = " ".join(said.err.split())
    assert "scenario 'Portal plan' changed since version 1: version 2 was saved by ann" in message
    assert "Nothing was saved" in message and "Traceback" not in message
    assert f"cxroi scenarios save {second} --name 'Portal plan' --base-version 2" in message
    assert "cxroi scenarios show 'Portal plan' --version 2" in message
    with Store() as store:
        assert [(s.version, s.saved_by) for s in store.versions("Portal plan")] == [(1, "ann"), (2, "ann")]

    assert main(["scenarios", "save", str(second), "--name", "Portal plan", "--base-version", "2"]) == 0
    assert "saved scenario 'Portal plan' as version 3" in capsys.readouterr().out
    with Store() as store:
        assert store.get_scenario("Portal plan").saved_by == "bob"
