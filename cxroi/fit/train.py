"""Training orchestration: fit → diagnostics → backtest → health gate → artifact (→ champion)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cxroi import registry
from cxroi.catalogue import DEFAULT_CATALOGUE, load_catalogue
from cxroi.data.fingerprint import panel_fingerprint
from cxroi.data.quality import no_effect_warnings, panel_warnings, warning_texts
from cxroi.fit.backtest import run_backtest
from cxroi.fit.design import ARPU_NU, Design, build_design
from cxroi.fit.diagnostics import predictive_summary, sign_warnings
from cxroi.fit.health import run_gate
from cxroi.fit.pilots import load_pilots
from cxroi.fit.result import FitResult
from cxroi.manifest import FAMILIES


@dataclass(frozen=True)
class TrainSettings:
    """What to fit and how; ``draws`` is per chain (the regression family writes draws × chains)."""

    family: str = "bayes"
    seed: int = 0
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    sampler: str | None = None
    parameterization: str | None = None
    lag: int = 1
    cores: int = 2
    thin: int = 1
    progress: bool = False
    catalogue_path: Path = field(default=DEFAULT_CATALOGUE)

    def model(self):
        """A fresh, unfitted model object of the chosen family."""
        if self.family == "regression":
            from cxroi.fit.regression import RegressionModel

            return RegressionModel(n_draws=self.draws * self.chains // self.thin, seed=self.seed)
        if self.family == "bayes":
            from cxroi.fit import bayes

            return bayes.BayesModel(
                draws=self.draws, tune=self.tune, chains=self.chains, seed=self.seed,
                sampler=self.sampler or bayes.DEFAULT_SAMPLER,
                parameterization=self.parameterization or bayes.DEFAULT_PARAMETERIZATION,
                cores=self.cores, progress=self.progress, thin=self.thin,
            )
        raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")


@dataclass(frozen=True)
class TrainOutcome:
    """Where the artifact went, its manifest, and whether it became the champion."""

    path: Path
    manifest: dict
    promoted: bool


def _diagnostics(fit: FitResult, design: Design, seed: int) -> dict:
    """Convergence figures (independent draws for the regression family) and the predictive check."""
    convergence = fit.convergence or {
        "max_rhat": 1.0, "min_ess_bulk": float(fit.n_draws), "min_ess_tail": float(fit.n_draws), "divergences": 0,
        "method": "independent draws from the normal approximation of the estimates",
    }
    return {**convergence, "predictive": predictive_summary(fit.draws, design, seed)}


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
    diagnostics = _diagnostics(fit, design, settings.seed)
    report("backtest: refitting without the last months")
    backtest = run_backtest(design, lambda short: model.fit(short, catalogue, pilots), settings.seed)
    health = run_gate(settings.family, diagnostics, backtest)
    status = registry.STATUS_ACCEPTED if health["passed"] else registry.STATUS_REJECTED
    manifest = {
        "model_id": model_id,
        "family": settings.family,
        "data_fingerprint": panel_fingerprint(panel),
        "data_path": str(Path(data_path).resolve()) if data_path is not None else None,
        "training_window": design.window(),
        "segments": design.segments,
        "initiatives": list(catalogue),
        "initiative_settings": {
            i.id: {"name": i.name, "monthly_cost": i.monthly_cost, "one_off_cost": i.one_off_cost,
                   "saturation_k": i.saturation_k}
            for i in catalogue.values()
        },
        "lag_months": settings.lag,
        "arpu_nu": ARPU_NU,
        "seed": settings.seed,
        "sampler": fit.sampler,
        "n_draws": fit.n_draws,
        "state": design.state(),
        "diagnostics": diagnostics,
        "backtest": backtest,
        "health": health,
        "status": status,
        "effect_sources": fit.effect_sources,
        "pilots": [p.__dict__ for p in pilots],
        "warnings": fit.warnings + sign_warnings(fit.draws, design.segments) + warning_texts(
            panel_warnings(panel, settings.lag) + no_effect_warnings(fit.draws, design.segments)),
    }
    report("writing the artifact")
    path = registry.save_artifact(manifest, fit.draws, models_dir, write_posterior=fit.write_posterior)
    promoted = promote and status == registry.STATUS_ACCEPTED
    if promoted:
        registry.promote(model_id, models_dir, reason="accepted by the health gate at training")
    return TrainOutcome(path, registry.read_manifest(path), promoted)
