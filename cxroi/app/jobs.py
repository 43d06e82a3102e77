"""Background ``cxroi`` commands (retraining, model reports) run as subprocesses.

Each job has a folder ``<work_dir>/jobs/<kind>/<job_id>/`` holding ``job.json`` (command, start
time and whatever the caller records), ``output.log`` (the command's output, shown as progress)
and ``exit_code`` once finished. The subprocess runs in its own session, so page reruns, other
users' sessions and the app itself never wait for it; only that process imports the
model-fitting libraries. It runs under :mod:`cxroi.app.jobrunner` (lower CPU priority, a memory
budget, each limit named in the log).

A kind that allows one job at a time (retraining) starts through :func:`claim`: under an
``fcntl`` lock on ``<kind>/.lock`` it checks and writes ``<kind>/.active`` (the job and the pid
of its runner), so two starts from any sessions or app processes sharing ``CXROI_HOME`` give
one job and a plain :class:`JobBusy` to the other. Finished jobs' folders (their uploaded panel
included) are deleted ``CXROI_JOB_RETENTION_DAYS`` (default 7) days after they started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cxroi.app.leftovers import process_started_at
from cxroi.errors import CxroiError
from cxroi.fileio import atomic_write_text

try:
    import fcntl
except ImportError:  # not POSIX: starts are serialised within one process only
    fcntl = None

JOBS_FOLDER = "jobs"
LOG_NAME = "output.log"
ACTIVE = ".active"
DEFAULT_RETENTION_DAYS = 7.0


class JobBusy(CxroiError):
    """A job of a kind that runs one at a time is already running."""

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
        return self.folder / LOG_NAME

    @property
    def started_at(self) -> datetime:
        return datetime.fromisoformat(self.info["started_at"])

    def exit_code(self) -> int | None:
        """The process's exit code, or None while it runs (or if it was lost with a restart)."""
        process = _PROCESSES.get(self.folder)
        if process is not None and process.poll() is not None:
            if not (self.folder / "exit_code").exists():  # the runner itself was killed
                atomic_write_text(self.folder / "exit_code", f"{process.returncode}\n")
            _PROCESSES.pop(self.folder, None)
        path = self.folder / "exit_code"
        return int(path.read_text().strip()) if path.exists() else None

    def status(self) -> str:
        """'running', 'succeeded', 'failed' or 'interrupted' (the server restarted meanwhile)."""
        code = self.exit_code()
        if code is not None:
            return "succeeded" if code == 0 else "failed"
        if self.folder in _PROCESSES or _active_pid(self.folder.parent, self.folder) is not None:
            return "running"
        return "interrupted"

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


def _active_pid(kind_dir: Path, folder: Path | None = None) -> int | None:
    """The pid holding ``kind_dir``'s one-at-a-time slot (for job ``folder`` when given), or
    None when the slot is free or its holder no longer runs (killed: the slot is stale)."""
    try:
        active = json.loads((kind_dir / ACTIVE).read_text(encoding="utf-8"))
        pid, name = int(active["pid"]), str(active["job"])
        written = (kind_dir / ACTIVE).stat().st_mtime
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if folder is not None and name != folder.name:
        return None
    started = process_started_at(pid)
    if started is None or started > written + 1.0 or (kind_dir / name / "exit_code").exists():
        return None
    return pid


@contextlib.contextmanager
def _kind_lock(kind_dir: Path) -> Iterator[None]:
    """Exclusive lock on ``kind_dir/.lock`` across processes (held for milliseconds)."""
    kind_dir.mkdir(parents=True, exist_ok=True)
    with open(kind_dir / ".lock", "a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def _mark_active(folder: Path, pid: int) -> None:
    atomic_write_text(folder.parent / ACTIVE, json.dumps({"job": folder.name, "pid": pid}) + "\n")


@contextlib.contextmanager
def claim(work_dir: Path, kind: str, what: str) -> Iterator[Path]:
    """Reserve the one-at-a-time slot of ``kind`` and yield a new job folder to :func:`start` in;
    raises :class:`JobBusy` ("A {what} is already running …") when another job holds it. The
    slot is freed again if the block fails."""
    kind_dir = work_dir / JOBS_FOLDER / kind
    with _kind_lock(kind_dir):
        if _active_pid(kind_dir) is not None:
            active = json.loads((kind_dir / ACTIVE).read_text(encoding="utf-8"))["job"]
            raise JobBusy(f"A {what} is already running (job {active}); wait for it to finish, then start again.")
        folder = new_folder(work_dir, kind)
        _mark_active(folder, os.getpid())
    try:
        yield folder
    except BaseException:
        release(folder)
        shutil.rmtree(folder, ignore_errors=True)
        raise


def release(folder: Path) -> None:
    """Free the one-at-a-time slot if job ``folder`` holds it."""
    with _kind_lock(folder.parent):
        active = folder.parent / ACTIVE
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            if json.loads(active.read_text(encoding="utf-8"))["job"] == folder.name:
                active.unlink()


def start(folder: Path, command: list[str], info: dict, env: dict[str, str] | None = None) -> Job:
    """Start ``command`` in the background for the job in ``folder`` (under
    :mod:`cxroi.app.jobrunner`); ``info`` is recorded."""
    info = {**info, "command": command, "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
    atomic_write_text(folder / "job.json", json.dumps(info, indent=2) + "\n")
    env = {**os.environ, **(env or {}), "TERM": "dumb", "COLUMNS": "110", "PYTHONUNBUFFERED": "1"}
    runner = [sys.executable, "-m", "cxroi.app.jobrunner", str(folder), "--", *command]
    with open(folder / LOG_NAME, "wb") as log:
        process = subprocess.Popen(runner, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, start_new_session=True)
    _PROCESSES[folder] = process
    with _kind_lock(folder.parent), contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads((folder.parent / ACTIVE).read_text(encoding="utf-8"))["job"] == folder.name:
            _mark_active(folder, process.pid)
    return Job(folder, info)


def stop(job: Job, grace_s: float = 10.0) -> None:
    """Stop a running job with everything it started (its process group): asked to end, then
    killed after ``grace_s`` seconds. The job is one this process started, or one holding its
    kind's one-at-a-time slot (started by another app process on the same folder). A finished
    job is left as it is."""
    process = _PROCESSES.get(job.folder)
    if process is not None:
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        return
    pid = _active_pid(job.folder.parent, job.folder)
    if pid is None:
        return
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while process_started_at(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def retention() -> timedelta:
    """How long finished jobs are kept (``CXROI_JOB_RETENTION_DAYS``, default 7 days)."""
    return timedelta(days=float(os.environ.get("CXROI_JOB_RETENTION_DAYS", "").strip() or DEFAULT_RETENTION_DAYS))


def list_jobs(work_dir: Path, kind: str) -> list[Job]:
    """Every job of ``kind`` recorded under ``work_dir``, newest first."""
    root = work_dir / JOBS_FOLDER / kind
    jobs = []
    expired = datetime.now(UTC) - retention()
    for folder in sorted(root.glob("*/"), reverse=True) if root.exists() else []:
        info_path = folder / "job.json"
        if not info_path.exists():
            continue
        job = Job(folder, json.loads(info_path.read_text(encoding="utf-8")))
        if job.started_at < expired and job.status() != "running":
            shutil.rmtree(folder, ignore_errors=True)  # its uploaded panel, log and result
            continue
        jobs.append(job)
    return jobs


def running(work_dir: Path, kind: str) -> Job | None:
    """The job of ``kind`` still running, if any."""
    return next((job for job in list_jobs(work_dir, kind) if job.status() == "running"), None)
