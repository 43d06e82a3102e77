"""Use cases on models: compare a candidate with the champion, promote, train."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cxroi.errors import ArtifactError
from cxroi.service.audit import actor
from cxroi.service.context import Context
from cxroi.service.identity import Permission, User
from cxroi.service.types import Effect, ModelSummary

TRAINING_REASON = "accepted by the health gate at training"

if TYPE_CHECKING:
    import pandas as pd

    from cxroi.fit.train import TrainOutcome, TrainSettings
    from cxroi.promotion import Comparison
    from cxroi.registry import ModelArtifact


def list_models(ctx: Context, user: User) -> list[dict]:
    """Every stored model, newest first (:func:`cxroi.registry.list_models`: id, family, created,
    status, champion, training window, health, or the error that makes it unusable). Needs VIEW."""
    from cxroi import registry

    user.require(Permission.VIEW, "list models")
    return registry.list_models(ctx.models_dir)


def model_effects(artifact: ModelArtifact) -> tuple[Effect, ...]:
    """Each CX effect and lift of ``artifact`` per segment or initiative: median and 90 % interval
    over the draws, and its source."""
    import numpy as np

    from cxroi.params import EFFECT_PARAMETERS, PARAMETERS

    effects = []
    for name in EFFECT_PARAMETERS:
        labels = artifact.segments if PARAMETERS[name][0] == "segment" else artifact.initiatives
        low, median, high = np.quantile(artifact.draws[name], [0.05, 0.5, 0.95], axis=0)
        effects += [Effect(name, label, float(median[j]), float(low[j]), float(high[j]),
                           artifact.manifest.effect_source(name, label)) for j, label in enumerate(labels)]
    return tuple(effects)


def show_model(ctx: Context, user: User, model_id: str | None = None) -> ModelSummary:
    """One model (default: the champion) with its manifest and effects. Needs VIEW."""
    user.require(Permission.VIEW, "read a model")
    artifact = ctx.load_model(model_id)
    try:
        champion = ctx.champion_id() == artifact.model_id
    except ArtifactError:
        champion = False
    return ModelSummary(artifact.model_id, champion, artifact.manifest.model_dump(mode="json"),
                        model_effects(artifact))


def compare_with_champion(ctx: Context, user: User, model_id: str) -> Comparison | None:
    """The candidate ``model_id`` beside the current champion (segments, scale, survey levels, a
    reference scenario's value; :mod:`cxroi.promotion`); None without a champion or when the
    candidate is the champion. For the promotion dialog. Needs VIEW."""
    from cxroi.promotion import compare

    user.require(Permission.VIEW, "compare models")
    champion_id = ctx.champion_id()
    if champion_id is None or champion_id == model_id:
        return None
    return compare(ctx.load_model(model_id), ctx.load_model(champion_id))


def promote_model(ctx: Context, user: User, model_id: str, reason: str, force: bool = False,
                  acknowledge_shift: bool = False) -> dict:
    """Make ``model_id`` the champion, with the user's ``reason`` (required). A model that failed
    the health gate needs ``force``; one that differs from the champion beyond the bound needs
    ``acknowledge_shift`` (:mod:`cxroi.promotion`). Returns the promotion log entry.
    Needs PROMOTE; audited."""
    from cxroi import registry

    user.require(Permission.PROMOTE, "promote a model")
    if not (reason or "").strip():
        raise ArtifactError("promoting a model needs a reason (why this model should become the champion)")
    entry = registry.promote(model_id, ctx.models_dir, force=force, reason=reason.strip(), user=user.label,
                             acknowledge_shift=acknowledge_shift)
    ctx.store.append_audit(actor(user), "promote", "model", entry["model_id"],
                           {"previous": entry["previous"], "reason": entry["reason"], "forced": entry["forced"],
                            "shift": entry["shift"]})
    return entry


def train_model(ctx: Context, user: User, panel: pd.DataFrame, settings: TrainSettings,
                pilots_path: str | Path | None = None, promote: bool = True,
                report: Callable[[str], None] = lambda message: None,
                data_path: str | Path | None = None) -> TrainOutcome:
    """Train a model on a validated ``panel`` (:func:`cxroi.fit.train.train`); an accepted model
    becomes the champion when ``promote`` (which then needs PROMOTE too). Needs RETRAIN; the
    training, and a promotion it makes, are audited."""
    import dataclasses

    from cxroi import registry
    from cxroi.fit.train import train

    user.require(Permission.RETRAIN, "train a model")
    if promote:
        user.require(Permission.PROMOTE, "promote the model a training makes")
    outcome = train(panel, settings, models_dir=ctx.models_dir, pilots_path=pilots_path, promote=False,
                    report=report, data_path=data_path)
    manifest = outcome.manifest
    if promote and manifest.accepted:  # promoted here, so that the promotion log names the user
        registry.promote(manifest.model_id, ctx.models_dir, reason=TRAINING_REASON, user=user.label)
        outcome = dataclasses.replace(outcome, promoted=True)
    ctx.store.append_audit(actor(user), "retrain", "model", manifest.model_id,
                           {"family": manifest.family, "status": manifest.status, "promoted": outcome.promoted,
                            "data": str(data_path) if data_path else None, "seed": settings.seed})
    if outcome.promoted:
        ctx.store.append_audit(actor(user), "promote", "model", manifest.model_id, {"reason": TRAINING_REASON})
    return outcome
