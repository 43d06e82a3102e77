"""The typed artifact contract: what ``models/<model_id>/manifest.json`` holds, as frozen pydantic
models that the model families build, the registry validates on every read and write, and every
reader uses by attribute.

Every problem is reported in plain words naming the file and the field, e.g.
``…/manifest.json: state['SMB-EU'].customers must be a finite number ≥ 0 (found 'lots')``.
Artifacts of schema version 1 (the untyped manifest, without the reach of each initiative) and 2
(initiative costs a flat amount per segment, no CSAT/NPS history range) are migrated when read:
see :func:`migrate`. Standard library and pydantic only — the simulator, the
app and the API read artifacts without the training libraries.

Units: customers are counts; CSAT is % satisfied (0–100); NPS is points (−100–100); ARPU and
monthly costs are currency per month (see :class:`InitiativeSettings` for how an initiative's
cost splits into a platform share and a cost per customer reached); ``t_next`` is the month index (from
the training start) of the first forecast month; ``lag_months`` is the delay between a CX change
and its effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from cxroi.errors import ArtifactError
from cxroi.fields import Flag, Month, Names, SomeNames, Text, choice, number, shown, whole

SCHEMA_VERSION = 3
DRAWS = "draws.npz"
STATUS_ACCEPTED, STATUS_REJECTED = "accepted", "rejected"
FAMILIES = ("bayes", "regression")
SOURCES = ("history", "catalogue", "pilot")
STATE_FIELDS = ("customers", "csat", "nps", "arpu", "ref_csat", "ref_nps", "t_next")


Family = choice(FAMILIES)
Status = choice((STATUS_ACCEPTED, STATUS_REJECTED))
Source = choice(SOURCES)
Count = number(0.0)
#: largest customers count and ARPU (currency/customer/month) of a starting state, and latest first
#: forecast month (months from the training start): far beyond any real segment, and small
#: enough that a forecast of them stays finite
MAX_CUSTOMERS, MAX_ARPU, MAX_T_NEXT = 1e12, 1e9, 1200.0
Csat = number(0.0, 100.0)
Nps = number(-100.0, 100.0)


class Frozen(BaseModel):
    """Immutable, and strict about unknown fields in what the project writes itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Open(BaseModel):
    """Immutable; keeps fields it does not know (reports that may grow without a schema change)."""

    model_config = ConfigDict(frozen=True, extra="allow")


# ---------------------------------------------------------------------------- sections
class SegmentState(Frozen):
    """The last observed state of a segment, the simulator's starting point."""

    customers: number(0.0, MAX_CUSTOMERS)  #: active customers at the start of the first forecast month
    #: CSAT (%) and NPS (points) the forecast starts from: the last observed month's, or the
    #: fit's estimate of that month's true level when it corrected survey error (a month's score
    #: from a few dozen answers can sit several points from the truth)
    csat: Csat
    nps: Nps
    arpu: number(0.0, MAX_ARPU)  #: revenue per customer per month (currency)
    ref_csat: Csat  #: reference CSAT of the effects (training mean, %)
    ref_nps: Nps  #: reference NPS of the effects (training mean, points)
    t_next: number(0.0, MAX_T_NEXT)  #: month index of the first forecast month, from the training start
    #: lowest and highest monthly CSAT (%) and NPS (points) of the training window; None in
    #: artifacts written before schema 3 (the plausibility review then cannot say whether a lift
    #: leaves the range seen in the history)
    csat_min: Csat | None = None
    csat_max: Csat | None = None
    nps_min: Nps | None = None
    nps_max: Nps | None = None

    def history_range(self, kind: str) -> tuple[float, float] | None:
        """(lowest, highest) monthly ``kind`` ("csat" or "nps") seen in training, or None when
        not recorded."""
        low, high = getattr(self, f"{kind}_min"), getattr(self, f"{kind}_max")
        return None if low is None or high is None else (low, high)


class InitiativeSettings(Frozen):
    """What the simulator needs of an initiative besides its lift draws.

    Cost at nominal effort (spend level 1), per month, in a segment the initiative reaches:
    ``fixed_monthly_cost / len(segments) + cost_per_customer × customers`` (currency/month), where
    customers are the segment's active customers at the start of the forecast (the model's
    starting state) — a platform shared evenly by the segments it serves plus a cost per customer
    (or account) reached. Without ``fixed_monthly_cost`` (artifacts before schema 3) the cost is
    the flat ``monthly_cost`` in every segment. ``monthly_cost`` is the average of the nominal cost
    over the segments reached: the one figure a screen shows for "nominal monthly spend per
    segment"; the simulator charges each segment its own (:meth:`nominal_cost`)."""

    name: Text | None = None  #: display name
    #: nominal spend per segment reached, averaged over those segments (currency/month)
    monthly_cost: number(0.0, above_low=True)
    one_off_cost: number(0.0) = 0.0  #: paid once when the initiative starts (currency)
    saturation_k: number(0.0, above_low=True) = 1.0  #: k of sat(A) = A(1+k)/(A+k)
    segments: Names  #: the segments the initiative reaches
    #: platform cost of the whole initiative per month at nominal effort (currency/month), shared
    #: evenly by the segments it reaches; None: a flat ``monthly_cost`` per segment (schema ≤ 2)
    fixed_monthly_cost: number(0.0) | None = None
    #: cost per customer (or account) reached per month at nominal effort (currency/customer/month)
    cost_per_customer: number(0.0) = 0.0

    def nominal_cost(self, customers: float) -> float:
        """Nominal monthly spend (currency/month) in a reached segment of ``customers`` active
        customers: the platform's even share plus the cost per customer reached."""
        if self.fixed_monthly_cost is None:
            return self.monthly_cost
        return self.fixed_monthly_cost / max(len(self.segments), 1) + self.cost_per_customer * customers


class SamplerConfig(Frozen):
    """How the parameter draws are obtained — one object from the command line (or the app)
    through the model family into the manifest; settings given are merged over these defaults.

    ``name``: the MCMC sampler ("nutpie", "pymc") or "statsmodels" (independent draws from the
    normal approximation of the regression estimates, where the MCMC-only settings are None);
    ``draws`` per chain; ``thin`` keeps every n-th draw in the artifact (diagnostics use all)."""

    name: Text = "nutpie"
    draws: whole(1) = 1000
    tune: whole(0) | None = 1000
    chains: whole(1) = 4
    cores: whole(1) | None = 2
    thin: whole(1) = 1
    #: NUTS target acceptance: above the usual 0.8, which left an occasional divergence in the
    #: hierarchical scales of small panels
    target_accept: number(0.0, 1.0) | None = 0.9
    parameterization: Literal["centered", "noncentered"] | None = "noncentered"
    covariance: str | None = None  #: the regression family's covariance estimator

    @property
    def kept_draws(self) -> int:
        """Draws written to the artifact: draws × chains / thin."""
        return self.draws * self.chains // self.thin


class TrainingWindow(Frozen):
    """First and last month (YYYY-MM) of a window of the panel."""

    start: Month
    end: Month

    def __str__(self) -> str:
        return f"{self.start} to {self.end}"

    @model_validator(mode="after")
    def _ordered(self) -> TrainingWindow:
        if self.start > self.end:
            raise PydanticCustomError("cxroi_window", ".start {start} is after its end {end}",
                                      {"start": self.start, "end": self.end})
        return self


class PredictiveFit(Open):
    coverage_80: number(0.0, 1.0)  #: share of cells inside the 80 % predictive interval
    mape_pct: number(0.0) | None = None  #: MAPE of the predictive median (%)


class Diagnostics(Open):
    """Convergence and the in-sample predictive check; all optional for artifacts of other tools."""

    max_rhat: number() | None = None
    min_ess_bulk: number(0.0) | None = None
    min_ess_tail: number(0.0) | None = None
    divergences: whole(0) | None = None
    worst_rhat_parameter: str | None = None
    worst_ess_parameter: str | None = None
    method: str | None = None
    predictive: dict[str, PredictiveFit] = Field(default_factory=dict)


class BacktestRow(Open):
    metric: Text
    model_mape_pct: number(0.0)
    naive_last_mape_pct: number(0.0) | None = None
    seasonal_naive_mape_pct: number(0.0) | None = None
    coverage_80: number(0.0, 1.0) | None = None


class Backtest(Open):
    """Held-out months forecast by a refit on the months before them."""

    holdout_months: whole(1)
    rows: tuple[BacktestRow, ...]
    model_mape_pct: number(0.0)
    best_naive_mape_pct: number(0.0)
    excluded_segments: Names = ()
    train_window: TrainingWindow | None = None
    holdout_window: TrainingWindow | None = None
    naive_mape_pct: dict[str, float] = Field(default_factory=dict)
    refit_convergence: dict[str, Any] = Field(default_factory=dict)


Outcome = Literal["pass", "review", "fail"]


#: the health checks (cxroi.fit.health.CHECKS) in plain words, for screens and reports
CHECK_LABELS = {
    "max_rhat": "Chains agree (largest R-hat)",
    "latent_max_rhat": "Chains agree on the survey-measured levels (R-hat)",
    "min_ess_bulk": "Independent draws (smallest bulk ESS)",
    "divergences": "Divergent transitions",
    "backtest_vs_naive": "Forecast error vs a naive forecast (ratio)",
    "holdout_coverage": "Held-out months inside the 80% intervals",
    "effects_identified": "CX effects learned from the history (contraction)",
}


class HealthCheck(Frozen):
    """One check of the health gate (cxroi.fit.health): pass, review (usable, flagged
    wherever the model's numbers are shown) or fail."""

    name: Text
    value: number()
    threshold: number()
    passed: Flag  #: not failed
    rule: Literal["≤", "≥"]
    outcome: Outcome | None = None  #: absent in artifacts written before checks had three outcomes

    @property
    def verdict(self) -> str:
        return self.outcome or ("pass" if self.passed else "fail")

    @property
    def label(self) -> str:
        """The check in plain words (its name when it has none)."""
        return CHECK_LABELS.get(self.name, self.name)


class Health(Frozen):
    passed: Flag  #: no check failed
    outcome: Outcome | None = None  #: the worst outcome of the checks (absent in older artifacts)
    checks: tuple[HealthCheck, ...] = ()

    @property
    def verdict(self) -> str:
        """The worst outcome of the checks: pass, review or fail."""
        if self.outcome is not None:
            return self.outcome
        order = ("pass", "review", "fail")
        worst = max((order.index(c.verdict) for c in self.checks), default=0)
        return order[max(worst, 0 if self.passed else 2)]

    @property
    def label(self) -> str:
        """How screens and listings name the verdict."""
        return {"pass": "passed", "review": "needs review", "fail": "not passed"}[self.verdict]


class PilotRecord(Frozen):
    """A measured lift that calibrated the model: ``lift`` ± ``se`` points of ``metric``."""

    initiative: Text
    segment: Text
    metric: Literal["csat", "nps"]
    lift: number()
    se: number(0.0, above_low=True)


class Caveat(Frozen):
    """A limit of the model that a number derived from it must carry: ``code`` names the check
    (e.g. ``no_effect``, ``unexpected_sign``, ``small_segment``, ``separation``,
    ``survey_error_ignored``), ``text`` says it in plain words, ``segments``, ``effects``
    (cxroi.params names) and ``initiatives`` scope it — empty means the whole model, every effect,
    every initiative."""

    code: Text
    text: Text
    segments: Names = ()
    effects: Names = ()
    initiatives: Names = ()

    def concerns(self, segments: tuple[str, ...] | list[str], effects: tuple[str, ...] | list[str],
                 initiatives: tuple[str, ...] | list[str]) -> bool:
        """Whether a result over ``segments`` that rests on ``effects`` and funds ``initiatives``
        must carry this caveat."""
        return all(not scope or bool(set(scope) & set(used)) for scope, used in (
            (self.segments, segments), (self.effects, effects), (self.initiatives, initiatives)))


class Provenance(Frozen):
    """Where a model's numbers come from, as every result and export carries it."""

    model_id: str
    family: str
    created_at: str | None
    cxroi_version: str | None
    data_fingerprint: str | None
    training_window: TrainingWindow | None
    seed: int | None


class EffectPrior(Frozen):
    """The prior of one segment CX effect (per +10 points on its link scale; cxroi.fit.priors):
    mean, marginal sd, P10–P90 interval, the published direction (−1 or +1) and its sources."""

    mean: number()
    sd: number(0.0, above_low=True)
    low: number()
    high: number()
    expected_sign: Literal[-1, 1]
    sources: Text


class Asymmetry(Frozen):
    """Gain/loss churn effects (a fit option, off by default). ``effects`` were fitted with one
    slope for a score above its reference and another below it; the artifact's draws of those
    effects hold the slope above the reference and its draws of ``<effect>_loss``
    (cxroi.params.LOSS_PARAMETERS) the slope below it, and the simulator applies each where the
    score lies (a lift from below the reference is valued at the loss slope until it reaches the
    reference). ``loss`` holds the posterior mean slope below the reference per effect and
    segment, ``loss_minus_gain`` the posterior mean and P10/P90 of the population difference
    (negative: falls hurt more than rises help), and ``p_loss_stronger`` the posterior
    probability of that (0–1)."""

    effects: Names = ()
    loss: dict[str, dict[str, number()]] = Field(default_factory=dict)
    loss_minus_gain: dict[str, dict[str, number()]] = Field(default_factory=dict)
    p_loss_stronger: dict[str, number(0.0, 1.0)] = Field(default_factory=dict)


# ---------------------------------------------------------------------------- the manifest
class Manifest(Frozen):
    """Everything the registry, the simulator and the reports read of a model artifact."""

    schema_version: Literal[3] = SCHEMA_VERSION
    model_id: Text
    family: Family
    status: Status = STATUS_ACCEPTED
    created_at: str | None = None
    cxroi_version: str | None = None
    data_fingerprint: str | None = None
    data_path: str | None = None  #: the file the model was trained on, for its report
    training_window: TrainingWindow | None = None
    seed: whole(0) | None = None  #: root of every random stream of the training run
    segments: SomeNames
    initiatives: Names
    initiative_settings: dict[str, InitiativeSettings] = Field(default_factory=dict)
    lag_months: whole(0) = 1
    arpu_nu: number(0.0, above_low=True) | None = None  #: Student-t degrees of freedom of log ARPU
    sampler: SamplerConfig | None = None
    n_draws: whole(1) | None = None
    state: dict[str, SegmentState]
    diagnostics: Diagnostics = Field(default_factory=Diagnostics)
    backtest: Backtest | None = None
    health: Health = Field(default_factory=lambda: Health(passed=True))
    effect_sources: dict[str, dict[str, Source]] = Field(default_factory=dict)
    pilots: tuple[PilotRecord, ...] = ()
    caveats: tuple[Caveat, ...] = ()
    #: prior → posterior contraction (0–1) per effect and segment or initiative (cxroi.fit.identification)
    identification: dict[str, dict[str, number(0.0, 1.0)]] = Field(default_factory=dict)
    #: the prior of each segment CX effect (absent in artifacts written before priors were recorded)
    priors: dict[str, EffectPrior] = Field(default_factory=dict)
    #: survey scores ("csat", "nps") the fit treated as noisy measurements of a latent level
    survey_error: Names = ()
    #: gain/loss churn effects, when the fit used them
    asymmetry: Asymmetry | None = None
    files: dict[str, str] = Field(default_factory=dict)  #: file name → SHA-256 hex digest
    #: SHA-256 of the canonical manifest (cxroi.integrity); None in artifacts written before it
    #: existed, which cannot be verified
    content_hash: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        for segment in self.segments:
            if segment not in self.state:
                raise PydanticCustomError("cxroi_state", "state lacks the starting state of segment '{segment}'",
                                          {"segment": segment})
        for initiative in self.initiatives:
            if initiative not in self.initiative_settings:
                raise PydanticCustomError("cxroi_settings", "initiative_settings lacks the settings of initiative '{initiative}'",
                                          {"initiative": initiative})
            unknown = [s for s in self.initiative_settings[initiative].segments if s not in self.segments]
            if unknown:
                raise PydanticCustomError(
                    "cxroi_reach", "initiative_settings['{initiative}'].segments names segments the model does not know: "
                    "{unknown}",
                    {"initiative": initiative, "unknown": ", ".join(unknown)})
        return self

    @property
    def accepted(self) -> bool:
        return self.status == STATUS_ACCEPTED

    @property
    def warnings(self) -> tuple[str, ...]:
        """The caveats' texts, in order."""
        return tuple(caveat.text for caveat in self.caveats)

    @property
    def provenance(self) -> Provenance:
        return Provenance(model_id=self.model_id, family=self.family, created_at=self.created_at,
                          cxroi_version=self.cxroi_version, data_fingerprint=self.data_fingerprint,
                          training_window=self.training_window, seed=self.seed)

    def nominal_monthly_cost(self, initiative: str, segment: str) -> float:
        """Nominal monthly spend (currency/month) of ``initiative`` in ``segment`` at spend level 1:
        :meth:`InitiativeSettings.nominal_cost` of the segment's starting customers."""
        return self.initiative_settings[initiative].nominal_cost(self.state[segment].customers)

    def reach(self, initiative: str) -> tuple[str, ...]:
        """The segments ``initiative`` reaches, in the model's segment order."""
        reached = set(self.initiative_settings[initiative].segments)
        return tuple(s for s in self.segments if s in reached)

    def initiative_name(self, initiative: str) -> str:
        """The initiative's display name (its id when none is recorded)."""
        return self.initiative_settings[initiative].name or initiative

    def effect_source(self, parameter: str, key: str) -> str:
        """Where the effect ``parameter`` of a segment or initiative ``key`` comes from (history,
        catalogue, pilot), or "not recorded"."""
        return self.effect_sources.get(parameter, {}).get(key, "not recorded")

    def first_forecast_month(self) -> str | None:
        """YYYY-MM of the month after the training window, or None when the window is unknown."""
        if self.training_window is None:
            return None
        year, month = (int(part) for part in self.training_window.end.split("-"))
        return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


# ---------------------------------------------------------------------------- reading
def _where(location: tuple) -> str:
    """('state', 'S2', 'customers') → "state['S2'].customers"."""
    text = ""
    for j, part in enumerate(location):
        if isinstance(part, int):
            text += f"[{part}]"
        elif j > 0 and isinstance(location[j - 1], str) and location[j - 1] in _KEYED:
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else str(part)
    return text


#: sections keyed by a segment, initiative, parameter or file name
_KEYED = {"state", "initiative_settings", "effect_sources", "files", "predictive", "naive_mape_pct"}
_TYPE_RULES = {"dict_type": "an object", "model_type": "an object", "list_type": "a list", "tuple_type": "a list",
               "string_type": "a text", "bool_type": "true or false", "literal_error": "one of the allowed values",
               "float_type": "a number", "int_type": "a whole number"}


def _sentence(error: Mapping[str, Any]) -> str:
    location = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    kind, where = error["type"], _where(location)
    if kind == "missing":
        parent, field = _where(location[:-1]), location[-1]
        return f"{parent} lacks {field}" if parent else f"required field '{field}' is missing"
    if kind == "extra_forbidden":
        return f"{where} is not a field of this schema"
    if kind.startswith("cxroi_"):  # rules of a whole section name their own fields
        message = error["msg"]
        return where + message if message.startswith(".") else f"{where} {message}".strip()
    rule = _TYPE_RULES.get(kind, error["msg"].lower())
    return f"{where} must be {rule} (found {shown(error.get('input'))})"


def _migrated_settings(raw: dict) -> dict:
    """Schema 1 recorded no reach: every initiative is taken to reach every segment, which is what
    a schema-1 scenario could ask of it (its reach was only checked against the catalogue)."""
    settings = raw.get("initiative_settings") or {}
    segments = raw.get("segments") if isinstance(raw.get("segments"), list) else []
    return {i: ({"segments": list(segments), **entry} if isinstance(entry, dict) else entry)
            for i, entry in settings.items()} if isinstance(settings, dict) else settings


#: the caveat a schema-2 artifact carries once migrated
SCHEMA_2_CAVEAT = {
    "code": "schema_2", "text": "artifact of schema 2: each initiative's cost was recorded as a flat amount per "
                                "segment reached, so costs do not grow with the customers reached, and the CSAT/NPS "
                                "range of the history was not recorded; retrain for costs that scale with reach"}


def migrate(raw: dict) -> dict:
    """An older manifest in the current schema's form. Schema 2 → 3: the costs stay a flat
    ``monthly_cost`` per segment (no ``fixed_monthly_cost``), the history range stays unknown, and
    :data:`SCHEMA_2_CAVEAT` says so. Schema 1 → 2 first: reach added to each initiative's settings
    (all segments, see :func:`_migrated_settings`), the sampler's settings merged over the
    defaults, each warning text a caveat of the whole model and the migration itself noted as one.
    Other versions are returned as they are."""
    if raw.get("schema_version") == 2:
        caveats = raw.get("caveats") if isinstance(raw.get("caveats"), list) else []
        return {**raw, "schema_version": SCHEMA_VERSION, "caveats": [*caveats, SCHEMA_2_CAVEAT]}
    if raw.get("schema_version") != 1:
        return raw
    migrated = {key: value for key, value in raw.items() if key != "warnings"}
    migrated |= {"schema_version": 2, "initiative_settings": _migrated_settings(raw)}
    sampler = raw.get("sampler")
    if isinstance(sampler, dict):
        known = set(SamplerConfig.model_fields)
        migrated["sampler"] = {k: v for k, v in sampler.items() if k in known}
    texts = raw.get("warnings") if isinstance(raw.get("warnings"), list) else []
    migrated["caveats"] = [*({"code": "model", "text": text} for text in texts), {
        "code": "schema_1", "text": "artifact of schema 1: the segments each initiative reaches were not "
                                    "recorded, so every initiative is taken to reach every segment"}]
    return migrate(migrated)


def parse_manifest(raw: object, where: Path) -> Manifest:
    """Validate a manifest read from ``where`` (a JSON object), migrating schema 1; raises
    :class:`ArtifactError` naming the file and every field in error (up to five)."""
    if not isinstance(raw, dict):
        raise ArtifactError(f"{where}: corrupt manifest (expected a JSON object)")
    version = raw.get("schema_version")
    if version not in (1, 2, SCHEMA_VERSION):
        raise ArtifactError(
            f"{where}: artifact schema version {version!r} is not supported by this cxroi "
            f"(reads 1 to {SCHEMA_VERSION}); retrain the model"
        )
    try:
        return Manifest.model_validate(migrate(raw))
    except ValidationError as exc:
        problems = [_sentence(error) for error in exc.errors()]
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ArtifactError(f"{where}: {shown}") from None


def check_folder(manifest: Manifest, where: Path, folder: Path) -> None:
    """A model is known by its folder: its model_id must be the folder's name, and it must list
    its parameter draws."""
    if manifest.model_id != folder.name:
        raise ArtifactError(
            f"{where}: model_id '{manifest.model_id}' differs from the folder name '{folder.name}'; a model is "
            f"known by its folder, so rename the folder to '{manifest.model_id}' or set model_id to '{folder.name}'"
        )
    if DRAWS not in manifest.files:
        raise ArtifactError(f"{where}: files must list '{DRAWS}' with its SHA-256")
