"""Request and response bodies of the HTTP API (pydantic), and their conversions from the service's
results. Units as in the rest of cxroi: currency in the model's currency, months 1-based forecast
months, rates and margins as fractions (0.10 = 10 %), probabilities 0–1.

Scenario bodies are taken as plain JSON and checked by the service (so a bad scenario is refused
with exactly the CLI's message, naming the field); the OpenAPI document still describes them with
the scenario's own schema (``#/components/schemas/Scenario``).
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from cxroi.sim.scenario import MAX_AMOUNT, MAX_HORIZON_MONTHS, MAX_NAME_CHARS, Scenario

if TYPE_CHECKING:
    import pandas as pd

    from cxroi.service.identity import User
    from cxroi.service.types import Optimisation, Simulation
    from cxroi.store import AuditEntry, Decision, SavedScenario, ScenarioListing

#: the scenario's JSON schema with its definitions hoisted into the OpenAPI components
SCENARIO_SCHEMA: dict[str, Any] = Scenario.model_json_schema(ref_template="#/components/schemas/{model}")
SCENARIO_DEFINITIONS: dict[str, Any] = {**SCENARIO_SCHEMA.pop("$defs", {}), "Scenario": SCENARIO_SCHEMA}
ScenarioBody = Annotated[dict[str, Any], WithJsonSchema({"allOf": [{"$ref": "#/components/schemas/Scenario"}]})]
#: a model's id as the registry names its folder (never a path)
MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ModelId = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=MODEL_ID_PATTERN)]
Quantile = Annotated[float, Field(gt=0, lt=1)]
MAX_QUANTILES = 19
FORMATS = ("xlsx", "csv", "parquet")
Format = Literal["xlsx", "csv", "parquet"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SavedRef(_Body):
    """A saved scenario: its name and version (omitted: the latest)."""

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    version: int | None = Field(default=None, ge=1)


class SimulateRequest(_Body):
    """Give ``scenario`` (a scenario body) or ``saved`` (a saved one), not both."""

    scenario: ScenarioBody | None = None
    saved: SavedRef | None = None
    model_id: ModelId | None = Field(default=None, description="default: the champion")
    quantiles: list[Quantile] | None = Field(default=None, max_length=MAX_QUANTILES,
                                             description="default: 0.1, 0.5, 0.9")

    @model_validator(mode="after")
    def _one_source(self) -> SimulateRequest:
        if (self.scenario is None) == (self.saved is None):
            raise ValueError("give either scenario (a scenario body) or saved (a saved scenario's name), not both "
                             "and not neither")
        return self


class ForecastRequest(SimulateRequest):
    """A forecast export of a scenario or a saved one."""

    format: Format = "xlsx"


class SaveScenarioRequest(_Body):
    """A scenario version to save. ``base_version`` is the version the client started from
    (omitted when creating a new scenario); if someone saved a newer one meanwhile the answer is
    409 and nothing is saved."""

    scenario: ScenarioBody
    base_version: int | None = Field(default=None, ge=1)
    model_id: ModelId | None = Field(default=None, description="the model the client valued it on; "
                                                                "default: the champion")


class PromoteRequest(_Body):
    """Why the model should become the champion; ``acknowledge_shift`` confirms a candidate that
    differs from the champion beyond the promotion bound; ``force`` promotes a model that failed
    the health gate."""

    reason: str = Field(min_length=1, max_length=2000)
    acknowledge_shift: bool = False
    force: bool = False


class OptimiseRequestBody(_Body):
    """Allocate ``budget`` (currency, one-off costs included) across initiatives × segments.
    ``objective``: mean (expected NPV), cvar (CVaR at 10 %) or prob (expected NPV with
    P(ROI > 0) ≥ ``floor``)."""

    budget: float = Field(gt=0, le=MAX_AMOUNT)
    objective: Literal["mean", "cvar", "prob"] = "mean"
    floor: float = Field(default=0.8, ge=0, le=1)
    initiatives: list[Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]] = Field(
        default_factory=list, max_length=50, description="default: every initiative")
    segments: list[Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]] = Field(
        default_factory=list, max_length=100, description="default: every segment")
    horizon_months: int = Field(default=36, ge=1, le=MAX_HORIZON_MONTHS)
    annual_discount_rate: float = Field(default=0.10, ge=0, le=1)
    gross_margin: float = Field(default=0.7, gt=0, le=1)
    frontier_budgets: list[Annotated[float, Field(gt=0, le=MAX_AMOUNT)]] = Field(default_factory=list, max_length=12)
    model_id: ModelId | None = None


class UserOut(BaseModel):
    subject: str
    name: str
    roles: list[str]
    permissions: list[str]
    local: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(subject=user.subject, name=user.name, roles=[r.value for r in user.sorted_roles],
                   permissions=sorted(p.value for p in user.permissions), local=user.local)


Row = dict[str, Any]


def records(frame: pd.DataFrame) -> list[Row]:
    """A table as JSON rows (undefined values as null, dates as ISO text)."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


class SimulationOut(BaseModel):
    """A scenario's result: ``summary`` (metric → unit, mean, quantiles), value by ``levers`` and
    ``segments``, and the model's ``caveats`` that concern it."""

    scenario: str
    version: int | None = Field(description="the saved version simulated (null for an unsaved scenario)")
    model_id: str
    decision_id: int | None = Field(description="the decision record of this saved version, if approved")
    horizon_months: int
    n_draws: int
    summary: dict[str, dict[str, Any]]
    levers: list[Row]
    segments: list[Row]
    caveats: list[Row]

    @classmethod
    def of(cls, simulation: Simulation, quantiles: list[float] | None = None) -> SimulationOut:
        from cxroi.sim.result import DEFAULT_QUANTILES

        chosen = tuple(sorted(set(quantiles))) if quantiles else tuple(DEFAULT_QUANTILES)
        result = simulation.result
        return cls(scenario=simulation.scenario.name, version=simulation.version, model_id=simulation.model_id,
                   decision_id=simulation.decision.id if simulation.decision else None,
                   horizon_months=result.horizon, n_draws=result.n_draws,
                   summary=simulation.summary_json(chosen), levers=records(result.levers_table(chosen)),
                   segments=records(result.segments_table(chosen)),
                   caveats=[c.model_dump(mode="json") for c in simulation.caveats])


class _BodyCache:
    """The last few response bodies by the result they were built from: the service keeps a
    simulated result per model and scenario, so asking again for the same saved version reuses
    the body instead of recomputing its tables (the result object itself is kept, so an id is
    never mistaken for a newer object's)."""

    def __init__(self, size: int = 32) -> None:
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get_or_make(self, simulation: Simulation, quantiles: list[float] | None) -> SimulationOut:
        key = (id(simulation.result), simulation.version, simulation.decision.id if simulation.decision else None,
               tuple(quantiles or ()))
        with self._lock:
            kept = self._items.get(key)
            if kept is not None and kept[0] is simulation.result:
                self._items.move_to_end(key)
                return kept[1]
        body = SimulationOut.of(simulation, quantiles)
        with self._lock:
            self._items[key] = (simulation.result, body)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return body


simulation_bodies = _BodyCache()


class SavedScenarioOut(BaseModel):
    name: str
    version: int
    created_at: datetime
    saved_by: str | None
    model_id: str | None = Field(description="the model it was valued on when saved")
    scenario: dict[str, Any]

    @classmethod
    def of(cls, saved: SavedScenario) -> SavedScenarioOut:
        return cls(name=saved.name, version=saved.version, created_at=saved.created_at, saved_by=saved.saved_by,
                   model_id=saved.model_id, scenario=saved.body)


class ScenarioListingOut(BaseModel):
    name: str
    latest_version: int
    versions: int
    updated_at: datetime

    @classmethod
    def of(cls, listing: ScenarioListing) -> ScenarioListingOut:
        return cls(name=listing.name, latest_version=listing.latest_version, versions=listing.versions,
                   updated_at=listing.updated_at)


class DecisionOut(BaseModel):
    id: int
    scenario: str
    version: int
    model_id: str
    data_fingerprint: str | None
    approved_by: str
    approved_at: datetime
    superseded_by: int | None
    summary: dict[str, Any]
    caveats: list[Row]

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls(id=decision.id, scenario=decision.scenario_name, version=decision.scenario_version,
                   model_id=decision.model_id, data_fingerprint=decision.data_fingerprint,
                   approved_by=decision.approved_by, approved_at=decision.approved_at,
                   superseded_by=decision.superseded_by, summary=decision.forecast.get("summary", {}),
                   caveats=decision.caveats)


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    user: str
    subject: str
    action: str
    object_type: str
    object_id: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(id=entry.id, at=entry.at, user=entry.user, subject=entry.subject, action=entry.action,
                   object_type=entry.object_type, object_id=entry.object_id, detail=entry.detail)


class OptimisationOut(BaseModel):
    """The best allocation: its lines (initiative, segment, monthly and total spend, share), what
    it spends, the objective's value and whether the P(ROI > 0) floor was met, its result's
    summary, and the efficient frontier when budgets were given."""

    model_id: str
    objective: str
    budget: float
    spent: float
    objective_value: float | None
    feasible: bool
    lines: list[Row]
    summary: dict[str, dict[str, Any]]
    frontier: list[Row] | None

    @classmethod
    def of(cls, optimisation: Optimisation) -> OptimisationOut:
        allocation = optimisation.allocation
        summary = records(allocation.result.summary().reset_index(names="metric"))
        return cls(model_id=optimisation.model_id, objective=allocation.objective, budget=allocation.budget,
                   spent=allocation.spent, objective_value=_finite(float(allocation.objective_value)),
                   feasible=bool(allocation.feasible), lines=records(allocation.table()),
                   summary={row.pop("metric"): row for row in summary},
                   frontier=None if optimisation.frontier is None else records(optimisation.frontier))
