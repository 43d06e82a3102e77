"""The immutable outcome of fitting either model family, ready for diagnostics and the artifact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cxroi.fit.design import Design
from cxroi.manifest import SamplerConfig


@dataclass(frozen=True)
class FitResult:
    """Parameter draws (name → draws × segments|initiatives, cxroi.params names), the sampler
    settings, family-specific convergence figures, effect sources and warnings."""

    family: str
    draws: dict[str, np.ndarray] = field(repr=False)
    sampler: SamplerConfig
    convergence: dict
    effect_sources: dict[str, dict[str, str]]
    warnings: list[str]
    write_posterior: Callable[[Path], None] | None = field(default=None, repr=False)
    #: survey scores ("csat", "nps") fitted as noisy measurements of a latent level
    survey_error: tuple[str, ...] = ()
    #: the manifest's Asymmetry fields when churn effects were fitted with gain/loss slopes
    asymmetry: dict | None = None
    #: score ("csat", "nps") → the fit's estimate of each segment's true level in its last
    #: observed month (points, segments,), for the scores whose survey error it corrected
    start_scores: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    #: a design as the fit's effects see it (its survey scores calibrated, say), for checks that
    #: predict outcomes from the fitted draws; None: the scores as observed
    score_view: Callable[[Design], Design] | None = field(default=None, repr=False)

    def seen(self, design: Design) -> Design:
        """``design`` with the scores the fit's effects are measured on (:attr:`score_view`)."""
        return design if self.score_view is None else self.score_view(design)

    @property
    def n_draws(self) -> int:
        return int(next(iter(self.draws.values())).shape[0])
