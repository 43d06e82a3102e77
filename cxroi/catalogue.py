"""The initiative catalogue (data/initiatives.yaml): costs, reach and prior CX lifts.

Costs scale like real programmes: at nominal effort an initiative costs, per month, a fixed
platform amount (shared evenly by the segments it reaches) plus an amount per customer (or
account) reached, and once a one-off amount when it starts. All in the panel's currency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cxroi.errors import DataError
from cxroi.manifest import InitiativeSettings

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "initiatives.yaml"


class LiftPrior(BaseModel):
    """A normal prior on a lift at full effect, in survey points."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    mean: float
    sd: float = Field(gt=0)


class Initiative(BaseModel):
    """One CX initiative. Costs in currency: ``fixed_monthly_cost`` per month for the whole
    initiative (platform, licences, a team of fixed size), ``cost_per_customer`` per customer (or
    account) reached per month, ``one_off_cost`` once at the start; at nominal effort."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    id: str
    name: str
    description: str = ""
    one_off_cost: float = Field(ge=0)
    fixed_monthly_cost: float = Field(ge=0)
    cost_per_customer: float = Field(ge=0)
    csat_lift: LiftPrior
    nps_lift: LiftPrior
    ramp_up_months: float = Field(gt=0, le=60)
    saturation_k: float = Field(default=1.0, gt=0)
    segments: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _costs_something(self) -> Initiative:
        if self.fixed_monthly_cost <= 0 and self.cost_per_customer <= 0:
            raise ValueError("fixed_monthly_cost or cost_per_customer must be above 0 (nominal spend drives the lift)")
        return self

    def reach(self, segments: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        """The ones of ``segments`` this initiative is offered to: those it lists, or all when it
        lists none."""
        return tuple(s for s in segments if not self.segments or s in self.segments)

    def nominal_cost(self, customers: np.ndarray | float, n_reached: int) -> np.ndarray | float:
        """Nominal monthly spend (currency/month) in a segment of ``customers`` active customers,
        when the initiative reaches ``n_reached`` segments: fixed share + cost per customer ×
        customers (the rule of :class:`cxroi.manifest.InitiativeSettings`)."""
        return self.fixed_monthly_cost / max(n_reached, 1) + self.cost_per_customer * np.asarray(customers)

    def settings(self, segments: list[str] | tuple[str, ...], customers: Mapping[str, float]) -> InitiativeSettings:
        """What a model artifact records of this initiative, for a model of ``segments`` whose
        starting customers are ``customers`` (segment → count)."""
        reached = self.reach(segments)
        total = self.fixed_monthly_cost + self.cost_per_customer * sum(customers[s] for s in reached)
        return InitiativeSettings(name=self.name, monthly_cost=max(total / max(len(reached), 1), 1e-9),
                                  one_off_cost=self.one_off_cost, saturation_k=self.saturation_k,
                                  segments=reached, fixed_monthly_cost=self.fixed_monthly_cost,
                                  cost_per_customer=self.cost_per_customer)

    @property
    def carryover(self) -> float:
        """Monthly carry-over λ such that continuous spend reaches 90 % of full effect after
        ``ramp_up_months`` (λ**ramp = 0.1)."""
        return math.pow(0.1, 1.0 / self.ramp_up_months)


def load_catalogue(path: str | Path = DEFAULT_CATALOGUE) -> dict[str, Initiative]:
    """Read and validate an initiative catalogue; returns initiatives keyed by id, in file order."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(f"{path}: initiative catalogue not found") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("initiatives"), dict):
        raise DataError(f"{path}: expected a mapping 'initiatives:' of initiative id -> fields")
    catalogue: dict[str, Initiative] = {}
    problems: list[str] = []
    for key, fields in raw["initiatives"].items():
        try:
            catalogue[str(key)] = Initiative(id=str(key), **(fields or {}))
        except (ValidationError, TypeError) as exc:
            problems.append(f"initiative '{key}': {exc}")
    if problems:
        raise DataError(f"{path}: " + "; ".join(problems))
    return catalogue
