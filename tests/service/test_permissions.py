"""The roles matrix through the service layer: every use case that a role may not use raises
PermissionDenied and changes nothing (scenarios, decisions, runs, audit trail, champion); the
roles that may use it succeed. Who may do what is written out by hand from DESIGN.md."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from cxroi import registry, service
from cxroi.service import Context, PermissionDenied, Role, ScenarioRef
from tests.service.conftest import CANDIDATE, PLAN, USERS

#: use case → the lowest role that may run it (DESIGN.md, "Who may do what")
LOWEST = {
    "simulate": Role.VIEWER, "list_scenarios": Role.VIEWER, "save_scenario": Role.VIEWER,
    "list_decisions": Role.VIEWER, "value_under_models": Role.VIEWER,
    "forecast": Role.FINANCE, "approve_scenario": Role.FINANCE,
    "promote_model": Role.ANALYST, "train_model": Role.ANALYST,
    "delete_scenario": Role.ADMIN, "audit_trail": Role.ADMIN,
}
ORDER = [Role.VIEWER, Role.FINANCE, Role.ANALYST, Role.ADMIN]


@dataclass(frozen=True)
class _Outcome:
    """Shaped like cxroi.fit.train.TrainOutcome (which imports the sampler)."""

    path: Path
    manifest: SimpleNamespace
    promoted: bool


def _fake_training(monkeypatch: pytest.MonkeyPatch, models: Path) -> _Outcome:
    """Training replaced by a stand-in that writes nothing (the sampler is not what is tested)."""
    manifest = SimpleNamespace(model_id="bayes-trained", family="bayes", status="accepted", accepted=True)
    outcome = _Outcome(path=models / "bayes-trained", manifest=manifest, promoted=False)
    monkeypatch.setitem(sys.modules, "cxroi.fit.train", SimpleNamespace(train=lambda *a, **k: outcome))
    return outcome


CALLS: dict[str, Callable[[Context, service.User], object]] = {
    "simulate": lambda ctx, user: service.simulate(ctx, user, PLAN),
    "list_scenarios": lambda ctx, user: service.list_scenarios(ctx, user),
    "save_scenario": lambda ctx, user: service.save_scenario(ctx, user, PLAN, base_version=1),
    "list_decisions": lambda ctx, user: service.list_decisions(ctx, user),
    "value_under_models": lambda ctx, user: service.value_under_models(ctx, user, ScenarioRef(PLAN["name"])),
    "forecast": lambda ctx, user: service.forecast(ctx, user, ScenarioRef(PLAN["name"]), "csv"),
    "approve_scenario": lambda ctx, user: service.approve_scenario(ctx, user, PLAN["name"]),
    "promote_model": lambda ctx, user: service.promote_model(ctx, user, CANDIDATE, "newer data",
                                                             acknowledge_shift=True),
    "train_model": lambda ctx, user: service.train_model(ctx, user, None, SimpleNamespace(seed=7), promote=False),
    "delete_scenario": lambda ctx, user: service.delete_scenario(ctx, user, PLAN["name"]),
    "audit_trail": lambda ctx, user: service.audit_trail(ctx, user),
}


def _snapshot(ctx: Context) -> tuple:
    """Everything a use case could change."""
    store = ctx.store
    return ([(s.name, s.version) for s in store.versions(PLAN["name"])], store.list_decisions(), store.list_runs(),
            store.audit_entries(), ctx.champion_id(), (ctx.models_dir / registry.PROMOTION_LOG).read_text())


@pytest.mark.parametrize("use_case", list(LOWEST))
@pytest.mark.parametrize("role", ORDER)
def test_roles_matrix(ctx: Context, monkeypatch: pytest.MonkeyPatch, role: Role, use_case: str) -> None:
    _fake_training(monkeypatch, ctx.models_dir)
    service.save_scenario(ctx, USERS[Role.ADMIN], PLAN)
    before = _snapshot(ctx)
    allowed = ORDER.index(role) >= ORDER.index(LOWEST[use_case])
    if allowed:
        CALLS[use_case](ctx, USERS[role])
    else:
        with pytest.raises(PermissionDenied, match=rf"^{USERS[role].name} may not .*: it needs the "
                                                   rf"{LOWEST[use_case].value} role or higher"):
            CALLS[use_case](ctx, USERS[role])
        assert _snapshot(ctx) == before  # nothing changed, nothing recorded


def test_a_viewer_cannot_promote_approve_export_or_delete(ctx: Context) -> None:
    """The brief's cases spelled out: the viewer is told, the champion, the decisions, the runs and
    the saved versions stay as they were."""
    viewer = USERS[Role.VIEWER]
    service.save_scenario(ctx, viewer, PLAN)  # viewers may save drafts
    before = _snapshot(ctx)
    for use_case in ("promote_model", "approve_scenario", "forecast", "delete_scenario"):
        with pytest.raises(PermissionDenied, match=r"^Vera may not"):
            CALLS[use_case](ctx, viewer)
    assert _snapshot(ctx) == before
    assert ctx.champion_id() == "bayes-a" and ctx.store.get_scenario(PLAN["name"]).saved_by == "Vera"
    assert [e.action for e in ctx.store.audit_entries(since=datetime(2000, 1, 1, tzinfo=UTC))] == ["save"]
