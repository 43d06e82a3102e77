"""Scenario types: what is invested, where, when, and how the result is valued.

A scenario is plain data. It round-trips through YAML and JSON (:func:`load_scenario`,
:meth:`Scenario.to_yaml`, :meth:`Scenario.to_json`) and every problem is reported as a
:class:`~cxroi.errors.ScenarioError` naming the field, e.g.
``scenario.yaml: investments[0].monthly_spend: must be ≥ 0``.

Units: costs and spend in the model's currency; an investment's monthly spend is either a
``spend_level`` (a multiple of the initiative's nominal cost in each segment it reaches: a fixed
platform share plus a cost per customer reached, see :class:`cxroi.manifest.InitiativeSettings`)
or an explicit ``monthly_spend`` (currency per segment per month, the same in each segment);
months are 1-based forecast months (month 1 is the first month after the training window);
rates and margins are fractions (0.10 = 10 %).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxroi.catalogue import LiftPrior
from cxroi.errors import ScenarioError
from cxroi.fileio import atomic_write_text
from cxroi.science import SURVEY_SCALE, saturation
from cxroi.strictload import DuplicateKeyError, load_json, load_yaml

if TYPE_CHECKING:
    from cxroi.registry import ModelArtifact

MAX_HORIZON_MONTHS = 240
LEVERS = ("retention", "arpu", "acquisition")
#: the CX effects (cxroi.params names) through which each lever acts
LEVER_EFFECTS = {"retention": ("churn_csat", "churn_nps"), "arpu": ("arpu_csat",), "acquisition": ("acq_nps",)}
#: largest amount (currency) a cost or a monthly spend may have: far above any CX budget, far
#: below where sums over segments and months lose precision or overflow
MAX_AMOUNT = 1e12
#: largest spend level (multiple of the nominal cost): far into saturation for any catalogue k
MAX_SPEND_LEVEL = 100.0
#: longest scenario, segment and initiative name, and longest description (characters)
MAX_NAME_CHARS, MAX_DESCRIPTION_CHARS = 200, 5000
#: where a scenario file may hold true or false; a boolean anywhere else (``monthly_spend: true``)
#: is refused rather than read as 1 or 0
BOOLEAN_FIELDS = ("terminal_value", "levers")
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


#: widest possible change of each survey measure, in points
SURVEY_RANGE = {kind: high - low for kind, (low, high) in SURVEY_SCALE.items()}


class LiftOverride(_Frozen):
    """Replace the model's lift draws of one investment by a normal distribution (survey points
    at full effect), e.g. from a pilot: ``{csat: {mean: 4, sd: 1}}``. Mean and sd must lie
    within the measure's range (CSAT 100 points, NPS 200)."""

    csat: LiftPrior | None = None
    nps: LiftPrior | None = None

    @model_validator(mode="after")
    def _within_the_survey_range(self) -> LiftOverride:
        for kind, widest in SURVEY_RANGE.items():
            prior = getattr(self, kind)
            if prior is not None and (abs(prior.mean) > widest or prior.sd > widest):
                raise ValueError(f"{kind} lift of mean {prior.mean:g} and sd {prior.sd:g} points is impossible: "
                                 f"{kind.upper()} moves by at most {widest:g} points")
        return self


class Investment(_Frozen):
    """Spend on one initiative in some segments over a window of forecast months."""

    initiative: str = Field(min_length=1, max_length=MAX_NAME_CHARS, description="initiative id from the model/catalogue")
    segments: tuple[Name, ...] = Field(min_length=1, description="segments reached")
    start_month: int = Field(default=1, ge=1, description="first funded forecast month (1-based)")
    duration_months: int = Field(ge=1, description="number of funded months")
    one_off_cost: float = Field(default=0.0, ge=0, le=MAX_AMOUNT, description="currency, paid in start_month")
    monthly_spend: float | None = Field(default=None, ge=0, le=MAX_AMOUNT,
                                        description="currency per segment per month (or give spend_level)")
    spend_level: float | None = Field(default=None, ge=0, le=MAX_SPEND_LEVEL,
                                      description="multiple of the nominal monthly cost in each segment (1 = nominal)")
    lift: LiftOverride | None = None

    @model_validator(mode="after")
    def _unique_segments(self) -> Investment:
        duplicated = sorted({s for s in self.segments if self.segments.count(s) > 1})
        if duplicated:
            raise ValueError(f"segments listed twice: {', '.join(duplicated)}")
        if (self.monthly_spend is None) == (self.spend_level is None):
            raise ValueError("give either monthly_spend (currency per segment per month) or spend_level "
                             "(1 = the initiative's nominal cost in each segment), not both and not neither")
        return self

    def monthly_spend_in(self, nominal: float) -> float:
        """Monthly spend (currency) in a segment whose nominal monthly cost is ``nominal``."""
        return self.monthly_spend if self.monthly_spend is not None else self.spend_level * nominal

    def level_in(self, nominal: float) -> float:
        """Spend as a multiple of a segment's ``nominal`` monthly cost (0 where nothing is nominal)."""
        if self.spend_level is not None:
            return self.spend_level
        return self.monthly_spend / nominal if nominal > 0 else 0.0

    @property
    def end_month(self) -> int:
        """Last funded forecast month (1-based, inclusive)."""
        return self.start_month + self.duration_months - 1


class GrossMargin(_Frozen):
    """Gross margin (fraction of revenue) by segment; ``default`` for segments not listed.
    A plain number in a file means the same margin for every segment."""

    default: float = Field(default=0.7, gt=0, le=1)
    segments: dict[Name, float] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"default": value}
        return value

    @model_validator(mode="after")
    def _in_range(self) -> GrossMargin:
        bad = [f"{k}={v}" for k, v in self.segments.items() if not 0 < v <= 1]
        if bad:
            raise ValueError(f"margins must be in (0, 1]: {', '.join(bad)}")
        return self

    def for_segment(self, segment: str) -> float:
        """Margin of one segment (fraction of revenue)."""
        return self.segments.get(segment, self.default)


class Levers(_Frozen):
    """Which channels of value count: churn (retention), revenue per customer (arpu), new
    customers (acquisition). A lever switched off contributes nothing."""

    retention: bool = True
    arpu: bool = True
    acquisition: bool = True

    def enabled(self) -> tuple[str, ...]:
        return tuple(name for name in LEVERS if getattr(self, name))


class Scenario(_Frozen):
    """A proposed CX investment plan and how to value it."""

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    investments: tuple[Investment, ...] = Field(min_length=1)
    horizon_months: int = Field(default=36, ge=1, le=MAX_HORIZON_MONTHS)
    annual_discount_rate: float = Field(default=0.10, ge=0, lt=1, description="fraction per year")
    gross_margin: GrossMargin = Field(default_factory=GrossMargin)
    terminal_value: bool = Field(default=False, description="value incremental customers left at the horizon")
    levers: Levers = Field(default_factory=Levers)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        name = name.strip()
        if problem := name_problem(name):
            raise ValueError(problem)
        return name

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = _plan_messages([inv.model_dump() for inv in self.investments], self.horizon_months,
                                  bool(self.levers.enabled()))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def segments(self) -> tuple[str, ...]:
        """Segments reached by at least one investment, in first-mention order."""
        return tuple(dict.fromkeys(s for inv in self.investments for s in inv.segments))

    @property
    def initiatives(self) -> tuple[str, ...]:
        """Initiatives funded, in first-mention order."""
        return tuple(dict.fromkeys(inv.initiative for inv in self.investments))

    @property
    def effects(self) -> tuple[str, ...]:
        """The model effects (cxroi.params names) the scenario's value rests on: the initiatives'
        lifts and the CX effects of the levers it counts."""
        return ("lift_csat", "lift_nps", *(e for lever in self.levers.enabled() for e in LEVER_EFFECTS[lever]))

    def to_dict(self) -> dict:
        """Plain JSON-compatible data (what the files hold)."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write the scenario atomically, as JSON for ``*.json`` and YAML otherwise."""
        path = Path(path)
        atomic_write_text(path, self.to_json() if path.suffix.lower() == ".json" else self.to_yaml())
        return path

    def validate_for(self, artifact: ModelArtifact) -> None:
        """Check initiative and segment names against a model, then that no segment's CSAT or
        NPS would leave its scale; one error lists every problem."""
        problems = _name_messages([inv.model_dump() for inv in self.investments], self.gross_margin.segments, artifact)
        if not problems:
            problems = self._off_the_scale(artifact)
        if problems:
            raise ScenarioError(f"scenario '{self.name}' does not fit model {artifact.model_id}: "
                                + "; ".join(problems))

    def peak_lifts(self, artifact: ModelArtifact) -> dict[tuple[str, str], float]:
        """(segment, "csat" or "nps") → the investments' peak mean lift there (survey points): over
        the investments reaching the segment, the mean lift at full effect (override or model
        draws) × the saturated share at the investment's spend level in the segment, sat(level)."""
        manifest = artifact.manifest
        initiatives = artifact.initiatives
        model_mean = {kind: artifact.draws[f"lift_{kind}"].mean(axis=0) for kind in SURVEY_SCALE}  # per initiative
        peak: dict[tuple[str, str], float] = {}
        for inv in self.investments:
            setting = manifest.initiative_settings[inv.initiative]
            if inv.spend_level is not None:  # the same level, hence the same share, in every segment
                shares = [float(saturation(inv.spend_level, setting.saturation_k))] * len(inv.segments)
            else:  # the amount against each segment's nominal cost (Investment.level_in, for all at once)
                nominal = np.broadcast_to(setting.nominal_cost(np.array([manifest.state[s].customers
                                                                         for s in inv.segments])), len(inv.segments))
                levels = np.divide(inv.monthly_spend, nominal, out=np.zeros(len(inv.segments)), where=nominal > 0)
                shares = saturation(levels, setting.saturation_k).tolist()
            column = initiatives.index(inv.initiative)
            means = {kind: (getattr(inv.lift, kind).mean if inv.lift and getattr(inv.lift, kind) is not None
                            else float(model_mean[kind][column])) for kind in SURVEY_SCALE}
            for segment, share in zip(inv.segments, shares, strict=True):
                for kind, mean in means.items():
                    peak[segment, kind] = peak.get((segment, kind), 0.0) + share * mean
        return peak

    def _off_the_scale(self, artifact: ModelArtifact) -> list[str]:
        """Segments whose CSAT or NPS would leave its scale at the investments' peak mean lift:
        the current level (model state) plus, over the investments reaching the segment, the
        mean lift at full effect (override or model draws) × the saturated share at the
        scenario's spend level in the segment, sat(level)."""
        state = artifact.manifest.state
        problems = []
        for (segment, kind), lift in self.peak_lifts(artifact).items():
            level, (low, high) = getattr(state[segment], kind), SURVEY_SCALE[kind]
            if not low <= level + lift <= high:
                problems.append(f"{kind.upper()} of {segment} would move from {level:.1f} by {lift:+.1f} points to "
                                f"{level + lift:.1f}, off its {low:g} to {high:g} scale; lower the lift or the spend")
        return problems


def name_problem(name: str) -> str | None:
    """Why a (trimmed) scenario name cannot be used, as the end of a sentence about it; None
    when it can."""
    if not name:
        return "must not be blank"
    if not name.isprintable():
        return "must be one line of printable characters (no line breaks or tabs)"
    return None


@dataclass(frozen=True)
class PlanProblem:
    """A rule broken by a plan's investments as a whole: ``after_horizon`` (an investment starts
    after the horizon), ``overlap`` (two investments fund the same initiative in the same segments
    and months) or ``no_lever`` (every value lever is off). ``investments`` are 0-based positions;
    ``segments`` the segments concerned."""

    kind: Literal["after_horizon", "overlap", "no_lever"]
    investments: tuple[int, ...] = ()
    segments: tuple[str, ...] = ()


def plan_problems(investments: Sequence[Mapping[str, Any]], horizon_months: int, any_lever: bool) -> list[PlanProblem]:
    """The rules between investments, the horizon and the levers that a plan breaks. Each
    investment is a mapping with initiative, segments, start_month and duration_months (as in a
    scenario file); the scenario and the app's form word the problems each in their own way."""
    found = [PlanProblem("after_horizon", (j,)) for j, inv in enumerate(investments)
             if inv["start_month"] > horizon_months]
    for j, a in enumerate(investments):
        for k in range(j + 1, len(investments)):
            b = investments[k]
            shared = tuple(s for s in a["segments"] if s in b["segments"])
            if a["initiative"] == b["initiative"] and shared and _months_overlap(a, b):
                found.append(PlanProblem("overlap", (j, k), shared))
    if not any_lever:
        found.append(PlanProblem("no_lever"))
    return found


def _months_overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two investments are funded in at least one common month (windows inclusive)."""
    return (a["start_month"] <= b["start_month"] + b["duration_months"] - 1
            and b["start_month"] <= a["start_month"] + a["duration_months"] - 1)


def _plan_messages(investments: Sequence[Mapping[str, Any]], horizon_months: int, any_lever: bool) -> list[str]:
    """:func:`plan_problems` worded for a scenario file (fields named as in the file)."""
    messages = []
    for problem in plan_problems(investments, horizon_months, any_lever):
        if problem.kind == "after_horizon":
            (j,) = problem.investments
            messages.append(f"investments[{j}].start_month {investments[j]['start_month']} is after the "
                            f"horizon ({horizon_months} months)")
        elif problem.kind == "overlap":
            j, k = problem.investments
            messages.append(f"investments[{j}] and investments[{k}] both fund '{investments[j]['initiative']}' "
                            f"in {', '.join(problem.segments)} in overlapping months; merge them")
        else:
            messages.append("levers: at least one lever must be on")
    return messages


def _name_messages(investments: Sequence[Mapping[str, Any]], margin_segments: Iterable[str],
                   artifact: ModelArtifact) -> list[str]:
    """Initiatives and segments of a scenario file that ``artifact`` does not know."""
    messages = []
    for j, inv in enumerate(investments):
        if inv["initiative"] not in artifact.initiatives:
            messages.append(f"investments[{j}].initiative: unknown initiative '{inv['initiative']}' "
                            f"(model {artifact.model_id} knows {', '.join(artifact.initiatives)})")
        unknown = [s for s in inv["segments"] if s not in artifact.segments]
        if unknown:
            messages.append(f"investments[{j}].segments: unknown segment(s) {', '.join(unknown)} "
                            f"(model {artifact.model_id} knows {', '.join(artifact.segments)})")
    unknown_margin = [s for s in margin_segments if s not in artifact.segments]
    if unknown_margin:
        messages.append(f"gross_margin.segments: unknown segment(s) {', '.join(unknown_margin)}")
    return messages


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _readable_investments(data: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The file's investments with what the rules between them need (initiative, segments,
    start and duration), when every one has those well-formed; None otherwise."""
    investments = data.get("investments")
    if not isinstance(investments, list):
        return None
    readable = []
    for inv in investments:
        if not (isinstance(inv, dict) and isinstance(inv.get("initiative"), str)
                and isinstance(inv.get("segments"), list) and all(isinstance(x, str) for x in inv["segments"])
                and _whole(inv.get("start_month", 1)) and _whole(inv.get("duration_months"))):
            return None
        readable.append({**inv, "start_month": inv.get("start_month", 1)})
    return readable


def _cross_field_messages(data: Mapping[str, Any], artifact: ModelArtifact | None) -> list[str]:
    """For a file whose fields have errors: the rules between fields (and, with ``artifact``,
    the names the model does not know) that can still be checked on its raw data, so that one
    error lists every problem."""
    investments = _readable_investments(data)
    if investments is None:
        return []
    messages = []
    horizon, levers = data.get("horizon_months", Scenario.model_fields["horizon_months"].default), data.get("levers")
    if _whole(horizon):
        any_lever = not isinstance(levers, dict) or any(levers.get(name, True) is not False for name in LEVERS)
        messages += _plan_messages(investments, horizon, any_lever)
    margin = data.get("gross_margin")
    margin_segments = (margin.get("segments") or {}) if isinstance(margin, dict) else {}
    if artifact is not None and isinstance(margin_segments, dict):
        messages += _name_messages(investments, margin_segments, artifact)
    return messages


def _field_path(location: tuple) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "scenario"


def _boolean_messages(data: Any, location: tuple = ()) -> list[str]:
    """A message for every true/false in ``data`` outside :data:`BOOLEAN_FIELDS` (YAML and JSON
    booleans would otherwise be read as the numbers 1 and 0)."""
    if location and location[0] in BOOLEAN_FIELDS:
        return []
    if isinstance(data, bool):
        return [f"{_field_path(location)}: must be a number or text, not {str(data).lower()}"]
    if isinstance(data, dict):
        return [m for key, value in data.items() for m in _boolean_messages(value, (*location, key))]
    if isinstance(data, list | tuple):
        return [m for j, value in enumerate(data) for m in _boolean_messages(value, (*location, j))]
    return []


def parse_scenario(data: Any, source: str = "scenario", artifact: ModelArtifact | None = None) -> Scenario:
    """Build a :class:`Scenario` from plain data; every invalid field is named in one error, with
    the rules between fields that can still be checked (and, given the model ``artifact``, the
    names it does not know)."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping of scenario fields, got {type(data).__name__}")
    booleans = _boolean_messages(data)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        locations = [tuple(e["loc"]) for e in errors]
        lines = []
        for error in errors:
            loc = tuple(error["loc"])
            if any(other[: len(loc)] == loc and other != loc for other in locations):
                continue  # a container error caused by the item errors reported below it
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{_field_path(tuple(error['loc']))}: {message}")
        if all(locations):  # field errors: the checks between fields did not run, so run them here
            lines += _cross_field_messages(data, artifact)
        raise ScenarioError(f"{source}: invalid scenario — " + "; ".join(booleans + lines)) from None
    if booleans:
        raise ScenarioError(f"{source}: invalid scenario — " + "; ".join(booleans))
    return scenario


def load_scenario(path: str | Path, artifact: ModelArtifact | None = None) -> Scenario:
    """Read a scenario from a YAML or JSON file (see :func:`parse_scenario` for ``artifact``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: scenario file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc})") from None
    try:
        data = load_json(text) if path.suffix.lower() == ".json" else load_yaml(text)
    except DuplicateKeyError as exc:
        raise ScenarioError(f"{path}: {exc}; keep one") from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise ScenarioError(f"{path}: not valid {kind} ({exc})".replace("\n", " ")) from None
    return parse_scenario(data, str(path), artifact)
