"""What the store returns and raises: saved scenarios, listings, forecast runs, decision records,
audit entries, the acting user as recorded, and the store's errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cxroi.errors import CxroiError


class StoreError(CxroiError):
    """The store could not be opened, or a scenario or version does not exist."""


class NotFound(StoreError):
    """A scenario, version or decision that does not exist (or was deleted)."""


class ConflictError(StoreError):
    """A save based on ``base_version`` found ``latest_version`` (saved by ``saved_by`` at
    ``saved_at``) newer than its base: someone saved the scenario meanwhile."""

    def __init__(self, name: str, base_version: int | None, latest_version: int, saved_by: str | None,
                 saved_at: datetime) -> None:
        self.name, self.base_version, self.latest_version = name, base_version, latest_version
        self.saved_by, self.saved_at = saved_by, saved_at
        who = saved_by or "someone"
        if base_version is None:
            what = f"scenario '{name}' already exists: version {latest_version} was saved by {who}"
        else:
            what = (f"scenario '{name}' changed since version {base_version}: version {latest_version} "
                    f"was saved by {who}")
        super().__init__(f"{what} at {saved_at:%Y-%m-%d %H:%M} UTC")


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the audit trail records it: a display ``name`` and the stable
    ``subject`` of the identity."""

    name: str
    subject: str


@dataclass(frozen=True)
class SavedScenario:
    """One stored version of a scenario; ``body`` is the scenario as a JSON-ready dict;
    ``model_id`` the model it was valued on when saved (None when not recorded)."""

    name: str
    version: int
    body: dict[str, Any]
    created_at: datetime
    saved_by: str | None = None
    model_id: str | None = None


@dataclass(frozen=True)
class ScenarioListing:
    """A scenario name with its latest live version and how many live versions it has."""

    name: str
    latest_version: int
    versions: int
    updated_at: datetime


@dataclass(frozen=True)
class ForecastRun:
    """A recorded forecast: which scenario version and model, the summary, where it was written."""

    id: int
    scenario_name: str
    scenario_version: int | None
    model_id: str
    summary: dict[str, Any]
    output: str | None
    created_at: datetime
    requested_by: str | None = None
    decision_id: int | None = None


@dataclass(frozen=True)
class Decision:
    """An approved scenario version and what it was approved on: the model, its data fingerprint,
    the forecast (``forecast``: quantiles, summary by metric, per-draw NPV and ROI lists), the
    caveats, who approved it and when. ``superseded_by``: id of a newer decision of the same
    scenario, if any."""

    id: int
    scenario_name: str
    scenario_version: int
    scenario_body: dict[str, Any]
    model_id: str
    data_fingerprint: str | None
    forecast: dict[str, Any]
    caveats: list[dict[str, Any]]
    approved_by: str
    approver_subject: str
    approved_at: datetime
    superseded_by: int | None = None

    @property
    def current(self) -> bool:
        """Whether no newer decision superseded this one."""
        return self.superseded_by is None


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit trail: who (``user``, ``subject``) did ``action`` to which object when
    (``at``, UTC), with details."""

    id: int
    at: datetime
    user: str
    subject: str
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)
