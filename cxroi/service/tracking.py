"""Use case: track an approved decision against a newer panel (promised versus realised).

Reading only: tracking changes nothing in the store or the models folder, so it needs VIEW and
is not audited; the pilot results it proposes are returned, never applied."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxroi.service.context import Context
from cxroi.service.identity import Permission, User

if TYPE_CHECKING:
    import pandas as pd

    from cxroi.store import Decision
    from cxroi.track import Tracking


def track_decision(ctx: Context, user: User, decision_id: int, panel: pd.DataFrame, source: str = "panel",
                   seed: int | None = None) -> Tracking:
    """Track decision ``decision_id`` on its own model with ``panel`` (validated, extending the
    model's training panel; ``source`` names it in error messages). ``seed`` seeds the
    counterfactual's outcome noise (default: the decision id, so the same inputs give the same
    numbers). Raises NotFound for an unknown decision, ArtifactError for a model that is gone, DataError for a panel that does
    not extend the decision's. Needs VIEW."""
    from cxroi.track import track

    user.require(Permission.VIEW, "track a decision")
    decision = ctx.store.get_decision(decision_id)
    artifact = ctx.load_model(decision.model_id)
    return track(decision, artifact, panel, source=source, seed=seed)


def track_model_decisions(ctx: Context, user: User, model_id: str, panel: pd.DataFrame,
                          source: str = "panel") -> list[tuple[Decision, Tracking | str]]:
    """Every decision approved on model ``model_id``, oldest first, with its tracking against
    ``panel`` — or, for a decision that cannot be tracked with it (it starts after the panel's
    last month, say), the reason in words. Needs VIEW."""
    from cxroi.errors import CxroiError
    from cxroi.track import track

    user.require(Permission.VIEW, "track decisions")
    decisions = [d for d in reversed(ctx.store.list_decisions()) if d.model_id == model_id]
    if not decisions:
        return []
    artifact = ctx.load_model(model_id)
    tracked: list[tuple[Decision, Tracking | str]] = []
    for decision in decisions:
        try:
            tracked.append((decision, track(decision, artifact, panel, source=source)))
        except CxroiError as exc:
            tracked.append((decision, str(exc)))
    return tracked
