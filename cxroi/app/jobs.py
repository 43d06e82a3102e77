"""Background ``cxroi`` commands (retraining, model reports) run as subprocesses.

Each job has a folder ``<work_dir>/jobs/<kind>/<job_id>/`` holding ``job.json`` (command, start
time and whatever the caller records), ``output.log`` (the command's output, shown as progress)
and ``exit_code`` once finished. The subprocess runs in its own session, so page reruns, other
users' sessions and the app itself never wait for it; only that process imports the
model-fitting libraries.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cxroi.fileio import atomic_write_text

JOBS_FOLDER = "jobs"

#: processes started by this server, by job folder (their exit codes are collected here)
_PROCESSES: dict[Path, subprocess.Popen] = {}


@dataclass(frozen=True)
class Job:
    """A job's folder and the facts recorded when it started."""

    folder: Path
    info: dict

    @property
    def job_id(self) -> str:
        return self.folder.name

    @property
    def log_path(self) -> Path:
        return self.folder / "output.log"

    @property
    def started_at(self) -> datetime:
        return datetime.fromisoformat(self.info["started_at"])

    def exit_code(self) -> int | None:
        """The process's exit code, or None while it runs (or if it was lost with a restart)."""
        process = _PROCESSES.get(self.folder)
        if process is not None and process.poll() is not None:
            atomic_write_text(self.folder / "exit_code", f"{process.returncode}\n")
            _PROCESSES.pop(self.folder, None)
        path = self.folder / "exit_code"
        return int(path.read_text().strip()) if path.exists() else None

    def status(self) -> str:
        """'running', 'succeeded', 'failed' or 'interrupted' (the server restarted meanwhile)."""
        code = self.exit_code()
        if code is not None:
            return "succeeded" if code == 0 else "failed"
        return "running" if self.folder in _PROCESSES else "interrupted"

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` non-empty lines of the command's output."""
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
        return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


def new_folder(work_dir: Path, kind: str) -> Path:
    """A fresh, time-ordered job folder for ``kind``."""
    now = datetime.now(UTC)
    folder = work_dir / JOBS_FOLDER / kind / f"{now:%Y%m%d-%H%M%S}-{os.urandom(2).hex()}"
    folder.mkdir(parents=True)
    return folder


def start(folder: Path, command: list[str], info: dict, env: dict[str, str] | None = None) -> Job:
    """Start ``command`` in the background for the job in ``folder``; ``info`` is recorded."""
    info = {**info, "command": command, "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    atomic_write_text(folder / "job.json", json.dumps(info, indent=2) + "\n")
    env = {**os.environ, **(env or {}), "TERM": "dumb", "COLUMNS": "110", "PYTHONUNBUFFERED": "1"}
    with open(folder / "output.log", "wb") as log:
        _PROCESSES[folder] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    return Job(folder, info)


def list_jobs(work_dir: Path, kind: str) -> list[Job]:
    """Every job of ``kind`` recorded under ``work_dir``, newest first."""
    root = work_dir / JOBS_FOLDER / kind
    jobs = []
    for folder in sorted(root.glob("*/"), reverse=True) if root.exists() else []:
        info_path = folder / "job.json"
        if info_path.exists():
            jobs.append(Job(folder, json.loads(info_path.read_text(encoding="utf-8"))))
    return jobs


def running(work_dir: Path, kind: str) -> Job | None:
    """The job of ``kind`` still running, if any."""
    return next((job for job in list_jobs(work_dir, kind) if job.status() == "running"), None)
