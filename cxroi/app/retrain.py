"""Background retraining: ``cxroi train --no-promote`` on a validated panel, as a :mod:`jobs` job.

The job folder keeps the panel it trains on (``panel.parquet``) and the model folders present
before it started, so the model it wrote can be found afterwards. ``--no-promote`` keeps the new
model out of production until an analyst promotes it, which the registry allows only for a model
that passed the health gate. One retraining at a time: training uses every core.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from cxroi.app import jobs
from cxroi.app.leftovers import remove_half_written_models
from cxroi.catalogue import Initiative
from cxroi.errors import DataError
from cxroi.fileio import atomic_write_with
from cxroi.fit.progress import PROGRESS_FILE_ENV, ProgressLine, read_latest
from cxroi.manifest import FAMILIES
from cxroi.service.identity import Permission, User

KIND = "retrain"
PROGRESS_NAME = "progress.jsonl"  #: the training's progress file in the job folder
#: draws kept in the artifact (every n-th of 4 chains × 1 000): the shipped model keeps 2 000;
#: 4 000 gives finer tails at twice the simulation cost
KEPT_DRAWS_THIN = {2_000: 2, 4_000: 1}


def train_command(data_path: Path, family: str, seed: int, models_dir: Path, thin: int = 2) -> list[str]:
    """The ``cxroi train`` command line a job runs (never promotes); ``thin`` keeps every n-th draw."""
    return [sys.executable, "-m", "cxroi.cli", "train", "--data", str(data_path), "--family", family,
            "--seed", str(seed), "--thin", str(thin), "--models-dir", str(models_dir), "--no-promote"]


def training_problem(panel: pd.DataFrame, catalogue: dict[str, Initiative]) -> str | None:
    """Why ``cxroi train`` would refuse this validated panel (too few months overall or for a
    segment), in the trainer's words, or None. Asked of the trainer's own design step with its
    default lag, so the rule lives in one place."""
    from cxroi.fit.design import build_design
    from cxroi.fit.train import TrainSettings

    try:
        build_design(panel, catalogue, lag=TrainSettings().lag)
    except DataError as exc:
        return str(exc)
    return None


def _model_folders(models_dir: Path) -> list[str]:
    if not models_dir.exists():
        return []
    return sorted(p.name for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def start_retrain(panel: pd.DataFrame, source_name: str, family: str, seed: int, work_dir: Path,
                  models_dir: Path, thin: int = 2, user: User | None = None) -> jobs.Job:
    """Write the validated ``panel`` to a new job folder and start training on it in the background;
    the training writes its progress to the job folder (:func:`progress`). With ``user`` (the
    acting user, who needs the retrain permission) the training is audited as that user."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}")
    acting: dict[str, str] = {}
    if user is not None:
        user.require(Permission.RETRAIN, "retrain a model")
        acting = {"CXROI_USER": user.name, "CXROI_USER_SUBJECT": user.subject}
    with jobs.claim(work_dir, KIND, "retraining") as folder:
        remove_half_written_models(models_dir)  # a killed training's model folder is never kept
        data_path = folder / "panel.parquet"
        atomic_write_with(data_path, lambda tmp: panel.to_parquet(tmp, index=False))
        info = {"source": source_name, "family": family, "seed": seed, "models_before": _model_folders(models_dir)}
        return jobs.start(folder, train_command(data_path, family, seed, models_dir, thin), info,
                          env={PROGRESS_FILE_ENV: str(folder / PROGRESS_NAME), **acting})


def progress(job: jobs.Job) -> ProgressLine | None:
    """The training's latest progress update, or None before its first."""
    return read_latest(job.folder / PROGRESS_NAME)


def new_models(job: jobs.Job, models_dir: Path) -> list[str]:
    """Ids of models that appeared in ``models_dir`` after ``job`` started."""
    before = set(job.info.get("models_before", []))
    return [name for name in _model_folders(models_dir) if name not in before]
