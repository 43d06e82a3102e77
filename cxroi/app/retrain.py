"""Background retraining: each job is a ``cxroi train`` subprocess with its own folder.

A job folder ``<work_dir>/retrain/<job_id>/`` holds the validated panel it trains on
(``panel.parquet``), ``job.json`` (command, start time, models present before it started),
``train.log`` (the command's output, shown as progress) and ``exit_code`` once finished. The
subprocess runs in its own session, so page reruns, other users' sessions and the app itself
never wait for it; only that process imports the model-fitting libraries. ``--no-promote`` keeps
the new model out of production until an analyst promotes it, which the registry allows only for
a model that passed the health gate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cxroi.fileio import atomic_write_text, atomic_write_with

JOBS_FOLDER = "retrain"
FAMILIES = ("bayes", "regression")

#: processes started by this server, by job id (their exit codes are collected here)
_PROCESSES: dict[str, subprocess.Popen] = {}


@dataclass(frozen=True)
class RetrainJob:
    """A retrain job's folder and the facts recorded when it started."""

    job_id: str
    folder: Path
    info: dict

    @property
    def log_path(self) -> Path:
        return self.folder / "train.log"

    @property
    def started_at(self) -> datetime:
        return datetime.fromisoformat(self.info["started_at"])

    def exit_code(self) -> int | None:
        """The process's exit code, or None while it runs (or if it was lost with a restart)."""
        process = _PROCESSES.get(self.job_id)
        if process is not None and process.poll() is not None:
            atomic_write_text(self.folder / "exit_code", f"{process.returncode}\n")
            _PROCESSES.pop(self.job_id, None)
        path = self.folder / "exit_code"
        return int(path.read_text().strip()) if path.exists() else None

    def status(self) -> str:
        """'running', 'succeeded', 'failed' or 'interrupted' (the server restarted meanwhile)."""
        code = self.exit_code()
        if code is not None:
            return "succeeded" if code == 0 else "failed"
        return "running" if self.job_id in _PROCESSES else "interrupted"

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the command's output."""
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
        return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])

    def new_models(self, models_dir: Path) -> list[str]:
        """Ids of models that appeared in ``models_dir`` after this job started."""
        before = set(self.info.get("models_before", []))
        return sorted(p.name for p in models_dir.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and p.name not in before)


def _model_folders(models_dir: Path) -> list[str]:
    if not models_dir.exists():
        return []
    return sorted(p.name for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def train_command(data_path: Path, family: str, seed: int) -> list[str]:
    """The ``cxroi train`` command line a job runs (never promotes)."""
    return [sys.executable, "-m", "cxroi.cli", "train", "--data", str(data_path), "--family", family,
            "--seed", str(seed), "--no-promote"]


def start_job(panel: pd.DataFrame, source_name: str, family: str, seed: int, work_dir: Path,
              models_dir: Path) -> RetrainJob:
    """Write the validated ``panel`` to a new job folder and start training on it in the background."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}")
    now = datetime.now(UTC)
    job_id = f"{now:%Y%m%d-%H%M%S}-{os.urandom(2).hex()}"
    folder = work_dir / JOBS_FOLDER / job_id
    folder.mkdir(parents=True)
    data_path = folder / "panel.parquet"
    atomic_write_with(data_path, lambda tmp: panel.to_parquet(tmp, index=False))
    command = train_command(data_path, family, seed)
    info = {"job_id": job_id, "source": source_name, "family": family, "seed": seed, "command": command,
            "started_at": now.isoformat(timespec="seconds"), "models_before": _model_folders(models_dir)}
    atomic_write_text(folder / "job.json", json.dumps(info, indent=2) + "\n")
    env = {**os.environ, "CXROI_MODELS_DIR": str(models_dir), "TERM": "dumb", "COLUMNS": "110",
           "PYTHONUNBUFFERED": "1"}
    with open(folder / "train.log", "wb") as log:
        _PROCESSES[job_id] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    return RetrainJob(job_id, folder, info)


def list_jobs(work_dir: Path) -> list[RetrainJob]:
    """Every job recorded under ``work_dir``, newest first."""
    root = work_dir / JOBS_FOLDER
    jobs = []
    for folder in sorted(root.glob("*/"), reverse=True) if root.exists() else []:
        info_path = folder / "job.json"
        if info_path.exists():
            jobs.append(RetrainJob(folder.name, folder, json.loads(info_path.read_text(encoding="utf-8"))))
    return jobs


def running_job(work_dir: Path) -> RetrainJob | None:
    """The job still running, if any (one at a time: training uses every core)."""
    return next((job for job in list_jobs(work_dir) if job.status() == "running"), None)
