"""Training orchestration: fit → diagnostics → backtest → health gate → artifact (→ champion)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxroi import registry
from cxroi.catalogue import DEFAULT_CATALOGUE, load_catalogue
from cxroi.data.fingerprint import panel_fingerprint
from cxroi.data.quality import (
    EFFECTS_OF_SCORE,
    SURVEY_ERROR_IGNORED,
    QualityWarning,
    no_effect_warnings,
    panel_warnings,
)
from cxroi.fit.backtest import run_backtest
from cxroi.fit.design import ARPU_NU, Design, build_design
from cxroi.fit.diagnostics import predictive_summary, sign_warnings
from cxroi.fit.health import run_gate
from cxroi.fit.identification import contraction, identification_caveats, least_identified
from cxroi.fit.pilots import load_pilots
from cxroi.fit.priors import prior_summary
from cxroi.fit.progress import ProgressLog
from cxroi.fit.result import FitResult
from cxroi.manifest import (
    FAMILIES,
    Asymmetry,
    Backtest,
    Caveat,
    Diagnostics,
    EffectPrior,
    Health,
    Manifest,
    PilotRecord,
    SamplerConfig,
    SegmentState,
)
from cxroi.params import CX_EFFECTS, EFFECT_LABELS
from cxroi.science import SURVEY_SCALE
from cxroi.seeds import DEFAULT_SEED, RandomStreams

#: posterior probability of "falls act more strongly than rises" above which an asymmetric fit
#: adds a caveat that scenarios are valued with the slope of rises (with symmetric truth this
#: probability is about uniform, so 0.9 is passed by chance 1 time in 10)
ASYMMETRY_CAVEAT_P = 0.9


@dataclass(frozen=True)
class TrainSettings:
    """What to fit and how: the model family, the root seed of every random stream
    (:mod:`cxroi.seeds`), the sampler configuration (the regression family writes
    ``sampler.kept_draws`` independent draws), the lag from CX to outcomes (months), whether the
    fit corrects survey error where response counts are given (``survey_error``: a latent level
    in the Bayesian family, regression calibration in the regression family) and fits gain/loss
    churn effects (``asymmetric``, Bayesian family only, off by default; cxroi.fit.bayes)."""

    family: str = "bayes"
    seed: int = DEFAULT_SEED
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    lag: int = 1
    progress: bool = False
    catalogue_path: Path = field(default=DEFAULT_CATALOGUE)
    survey_error: bool = True
    asymmetric: bool = False

    def model(self, on_draws: Callable[[int, int], None] | None = None):
        """A fresh, unfitted model object of the chosen family; ``on_draws(done, total)`` hears
        the sampling's progress (the regression family has none)."""
        if self.family == "regression":
            if self.asymmetric:
                raise ValueError("asymmetric (gain/loss) effects are fitted by the bayes family only")
            from cxroi.fit.regression import RegressionModel

            return RegressionModel(n_draws=self.sampler.kept_draws, seed=self.seed, survey_error=self.survey_error)
        if self.family == "bayes":
            from cxroi.fit.bayes import BayesModel

            return BayesModel(self.sampler, seed=self.seed, progress=self.progress, survey_error=self.survey_error,
                              asymmetric=self.asymmetric, on_draws=on_draws)
        raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")


@dataclass(frozen=True)
class TrainOutcome:
    """Where the artifact went, its manifest, and whether it became the champion."""

    path: Path
    manifest: Manifest
    promoted: bool


def _diagnostics(fit: FitResult, design: Design, rng: np.random.Generator) -> Diagnostics:
    """Convergence figures (independent draws for the regression family) and the predictive check."""
    convergence = fit.convergence or {
        "max_rhat": 1.0, "min_ess_bulk": float(fit.n_draws), "min_ess_tail": float(fit.n_draws), "divergences": 0,
        "method": "independent draws from the normal approximation of the estimates",
    }
    return Diagnostics.model_validate({**convergence,
                                       "predictive": predictive_summary(fit.draws, fit.seen(design), rng)})


def _caveats(fit: FitResult, design: Design, panel: pd.DataFrame, lag: int) -> list[Caveat]:
    """What the model's numbers must carry: the fit's own notes (whole model), effects of the
    unexpected sign, the panel's awkward-data findings, effects with no detectable link, the
    survey error the fit did not model and what an asymmetric fit leaves out; each once, scoped to
    its segments and effects."""
    findings = [*sign_warnings(fit.draws, design.segments), *panel_warnings(panel, lag),
                *no_effect_warnings(fit.draws, design.segments), *survey_error_ignored(fit.survey_error)]
    caveats = [Caveat(code="fit", text=text) for text in fit.warnings] + [f.caveat() for f in findings]
    caveats += asymmetry_caveats(fit.asymmetry)
    return list({caveat.text: caveat for caveat in caveats}.values())


def starting_state(fit: FitResult, design: Design) -> dict[str, SegmentState]:
    """Each segment's forecast starting point: its last observed month (Design.state), with the
    fit's estimate of that month's true CSAT/NPS for the scores whose survey error it corrected
    (within the survey scale), and the range of scores seen in training."""
    def start_scores(s: int) -> dict[str, float]:
        return {score: float(np.clip(estimate[s], *SURVEY_SCALE[score])) for score, estimate in fit.start_scores.items()}

    return {segment: SegmentState(**{**values, **start_scores(s)}, **_history_range(design, s))
            for s, (segment, values) in enumerate(design.state().items())}


def _history_range(design: Design, s: int) -> dict[str, float]:
    """Lowest and highest monthly CSAT (%) and NPS (points) of segment ``s`` over its observed
    training months (SegmentState.csat_min … nps_max)."""
    observed = design.observed[s]
    return {f"{kind}_{end}": float(reduce(getattr(design, kind)[s][observed]))
            for kind in ("csat", "nps") for end, reduce in (("min", np.nanmin), ("max", np.nanmax))}


def survey_error_ignored(modelled: tuple[str, ...]) -> list[QualityWarning]:
    """The "survey error ignored" finding for the scores whose sampling error the fit did not
    model (no response counts, the regression family, or the option off): none when both were
    modelled, the general one when neither was, else one scoped to the effects of the other score."""
    missing = [score for score in EFFECTS_OF_SCORE if score not in modelled]
    if len(missing) != 1:
        return [SURVEY_ERROR_IGNORED] if missing else []
    score = missing[0]
    return [QualityWarning(
        SURVEY_ERROR_IGNORED.code, None,
        f"{score.upper()} is taken as exact: its survey sampling error is not modelled (no {score}_responses), which "
        "biases the estimated effects of " + " and ".join(EFFECT_LABELS[e] for e in EFFECTS_OF_SCORE[score])
        + " toward zero when few customers answer each month", EFFECTS_OF_SCORE[score])]


def asymmetry_caveats(asymmetry: dict | None) -> list[Caveat]:
    """A caveat per churn effect whose falls the history says act more strongly than its rises
    (posterior probability ≥ :data:`ASYMMETRY_CAVEAT_P`): forecasts use the steeper slope below
    each segment's reference, so where a segment starts matters to what a lift is worth."""
    if not asymmetry:
        return []
    return [Caveat(code="asymmetric_effect", effects=(effect,), text=(
        f"falls act more strongly than rises for {EFFECT_LABELS[effect]} (probability {p:.0%} from the history); "
        "forecasts value the part of a score below its segment's reference with the steeper slope of falls, so "
        "lifting a segment that sits below it is worth more per point, and letting a score fall costs more than "
        "a rise of the same size gains"))
        for effect, p in asymmetry["p_loss_stronger"].items() if p >= ASYMMETRY_CAVEAT_P]


def train(
    panel: pd.DataFrame,
    settings: TrainSettings,
    models_dir: str | Path = registry.DEFAULT_MODELS_DIR,
    pilots_path: str | Path | None = None,
    promote: bool = True,
    report: Callable[[str], None] = lambda message: None,
    data_path: str | Path | None = None,
) -> TrainOutcome:
    """Train on a validated panel and write the artifact; an accepted model becomes the champion
    unless ``promote`` is False, a rejected one never. ``report`` receives progress messages;
    ``data_path`` (the file the panel was read from) is recorded so that the model's report can
    find its training data again."""
    catalogue = load_catalogue(settings.catalogue_path)
    design = build_design(panel, catalogue, lag=settings.lag)
    pilots = load_pilots(pilots_path, catalogue, design.segments) if pilots_path else []
    model_id = registry.new_model_id(settings.family)

    progress = ProgressLog.from_environment(fits=2)
    report(f"fitting the {settings.family} model on {design.n_segments} segments × {design.n_months} months")
    model = settings.model(on_draws=progress.draws)
    progress.start_fit("fitting the model")
    fit = model.fit(design, catalogue, pilots)
    streams = RandomStreams(settings.seed)
    diagnostics = _diagnostics(fit, design, streams.generator("predictive"))
    report("backtest: refitting without the last months")
    progress.start_fit("backtest: refitting without the last months")
    backtest = Backtest.model_validate(run_backtest(design, lambda short: model.fit(short, catalogue, pilots),
                                                    streams.generator("backtest")))
    identified = contraction(fit.draws, design.segments, catalogue)
    health = Health.model_validate(run_gate(settings.family, diagnostics.model_dump(), backtest.model_dump(),
                                            {"least_identified": least_identified(identified)}))
    reach = {i.id: i.reach(design.segments) for i in catalogue.values()}
    state = starting_state(fit, design)
    customers = {segment: values.customers for segment, values in state.items()}
    manifest = Manifest(
        model_id=model_id,
        family=settings.family,
        status=registry.STATUS_ACCEPTED if health.passed else registry.STATUS_REJECTED,
        data_fingerprint=panel_fingerprint(panel),
        data_path=str(Path(data_path).resolve()) if data_path is not None else None,
        training_window=design.window(),
        seed=settings.seed,
        segments=design.segments,
        initiatives=list(catalogue),
        initiative_settings={i.id: i.settings(design.segments, customers) for i in catalogue.values()},
        identification=identified,
        priors={effect: EffectPrior(**prior_summary(effect)) for effect in CX_EFFECTS} if settings.family == "bayes"
        else {},
        survey_error=fit.survey_error,
        asymmetry=Asymmetry(**fit.asymmetry) if fit.asymmetry else None,
        lag_months=settings.lag,
        arpu_nu=ARPU_NU,
        sampler=fit.sampler,
        n_draws=fit.n_draws,
        state=state,
        diagnostics=diagnostics,
        backtest=backtest,
        health=health,
        effect_sources=fit.effect_sources,
        pilots=[PilotRecord(**p.__dict__) for p in pilots],
        caveats=_caveats(fit, design, panel, settings.lag) + identification_caveats(identified, catalogue, reach,
                                                                                  state),
    )
    report("writing the artifact")
    progress.stage("writing the artifact")
    path = registry.save_artifact(manifest, fit.draws, models_dir, write_posterior=fit.write_posterior)
    promoted = promote and manifest.accepted
    if promoted:
        registry.promote(model_id, models_dir, reason="accepted by the health gate at training")
    progress.finished()
    return TrainOutcome(path, registry.read_manifest(path), promoted)
