"""The initiative catalogue (data/initiatives.yaml): costs, reach and prior CX lifts."""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cxroi.errors import DataError
from cxroi.manifest import InitiativeSettings

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "initiatives.yaml"


class LiftPrior(BaseModel):
    """A normal prior on a lift at full effect, in survey points."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    mean: float
    sd: float = Field(gt=0)


class Initiative(BaseModel):
    """One CX initiative. Costs in currency; ``monthly_cost`` is per segment reached per month."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    id: str
    name: str
    description: str = ""
    one_off_cost: float = Field(ge=0)
    monthly_cost: float = Field(gt=0)
    csat_lift: LiftPrior
    nps_lift: LiftPrior
    ramp_up_months: float = Field(gt=0, le=60)
    saturation_k: float = Field(default=1.0, gt=0)
    segments: tuple[str, ...] = ()

    def reach(self, segments: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        """The ones of ``segments`` this initiative is offered to: those it lists, or all when it
        lists none."""
        return tuple(s for s in segments if not self.segments or s in self.segments)

    def settings(self, segments: list[str] | tuple[str, ...]) -> InitiativeSettings:
        """What a model artifact records of this initiative, for a model of ``segments``."""
        return InitiativeSettings(name=self.name, monthly_cost=self.monthly_cost, one_off_cost=self.one_off_cost,
                                  saturation_k=self.saturation_k, segments=self.reach(segments))

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
