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
from cxroi.data.quality import SURVEY_ERROR_IGNORED, no_effect_warnings, panel_warnings
from cxroi.fit.backtest import run_backtest
from cxroi.fit.design import ARPU_NU, Design, build_design
from cxroi.fit.diagnostics import predictive_summary, sign_warnings
from cxroi.fit.health import run_gate
from cxroi.fit.identification import contraction, identification_caveats, least_identified
from cxroi.fit.pilots import load_pilots
from cxroi.fit.result import FitResult
from cxroi.manifest import (
    FAMILIES,
    Backtest,
    Caveat,
    Diagnostics,
    Health,
    Manifest,
    PilotRecord,
    SamplerConfig,
    SegmentState,
)
from cxroi.seeds import DEFAULT_SEED, RandomStreams


@dataclass(frozen=True)
class TrainSettings:
    """What to fit and how: the model family, the root seed of every random stream
    (:mod:`cxroi.seeds`), the sampler configuration (the regression family writes
    ``sampler.kept_draws`` independent draws), the lag from CX to outcomes (months)."""

    family: str = "bayes"
    seed: int = DEFAULT_SEED
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    lag: int = 1
    progress: bool = False
    catalogue_path: Path = field(default=DEFAULT_CATALOGUE)

    def model(self):
        """A fresh, unfitted model object of the chosen family."""
        if self.family == "regression":
            from cxroi.fit.regression import RegressionModel

            return RegressionModel(n_draws=self.sampler.kept_draws, seed=self.seed)
        if self.family == "bayes":
            from cxroi.fit.bayes import BayesModel

            return BayesModel(self.sampler, seed=self.seed, progress=self.progress)
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
    return Diagnostics.model_validate({**convergence, "predictive": predictive_summary(fit.draws, design, rng)})


def _caveats(fit: FitResult, design: Design, panel: pd.DataFrame, lag: int) -> list[Caveat]:
    """What the model's numbers must carry: the fit's own notes (whole model), effects of the
    unexpected sign, the panel's awkward-data findings, effects with no detectable link, and the
    survey error the models do not yet account for; each once, scoped to its segments and effects."""
    findings = [*sign_warnings(fit.draws, design.segments), *panel_warnings(panel, lag),
                *no_effect_warnings(fit.draws, design.segments), SURVEY_ERROR_IGNORED]
    caveats = [Caveat(code="fit", text=text) for text in fit.warnings] + [f.caveat() for f in findings]
    return list({caveat.text: caveat for caveat in caveats}.values())


def _history_range(design: Design, s: int) -> dict[str, float]:
    """Lowest and highest monthly CSAT (%) and NPS (points) of segment ``s`` over its observed
    training months (SegmentState.csat_min … nps_max)."""
    observed = design.observed[s]
    return {f"{kind}_{end}": float(reduce(getattr(design, kind)[s][observed]))
            for kind in ("csat", "nps") for end, reduce in (("min", np.nanmin), ("max", np.nanmax))}


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

    report(f"fitting the {settings.family} model on {design.n_segments} segments × {design.n_months} months")
    model = settings.model()
    fit = model.fit(design, catalogue, pilots)
    streams = RandomStreams(settings.seed)
    diagnostics = _diagnostics(fit, design, streams.generator("predictive"))
    report("backtest: refitting without the last months")
    backtest = Backtest.model_validate(run_backtest(design, lambda short: model.fit(short, catalogue, pilots),
                                                    streams.generator("backtest")))
    identified = contraction(fit.draws, design.segments, catalogue)
    health = Health.model_validate(run_gate(settings.family, diagnostics.model_dump(), backtest.model_dump(),
                                            {"least_identified": least_identified(identified)}))
    reach = {i.id: i.reach(design.segments) for i in catalogue.values()}
    state = {segment: SegmentState(**values, **_history_range(design, s))
             for s, (segment, values) in enumerate(design.state().items())}
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
    path = registry.save_artifact(manifest, fit.draws, models_dir, write_posterior=fit.write_posterior)
    promoted = promote and manifest.accepted
    if promoted:
        registry.promote(model_id, models_dir, reason="accepted by the health gate at training")
    return TrainOutcome(path, registry.read_manifest(path), promoted)
