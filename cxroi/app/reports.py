"""Model reports (``cxroi report``) built in the background as :mod:`jobs` jobs: the report
compares model families and may refit the regression model, which the app process must not do."""

from __future__ import annotations

import sys
from pathlib import Path

from cxroi.app import jobs

KIND = "report"


def report_command(model_id: str, out: Path, models_dir: Path) -> list[str]:
    """The ``cxroi report`` command line for one model."""
    return [sys.executable, "-m", "cxroi.cli", "report", "--model", model_id, "--out", str(out),
            "--models-dir", str(models_dir)]


def start_report(model_id: str, work_dir: Path, models_dir: Path) -> jobs.Job:
    """Start building the report of ``model_id``; it lands in the job folder's ``report/``."""
    folder = jobs.new_folder(work_dir, KIND)
    return jobs.start(folder, report_command(model_id, folder / "report", models_dir), {"model_id": model_id})


def latest_report(model_id: str, work_dir: Path) -> tuple[jobs.Job | None, Path | None]:
    """The newest report job of ``model_id`` and its HTML file once it exists."""
    job = next((j for j in jobs.list_jobs(work_dir, KIND) if j.info.get("model_id") == model_id), None)
    html = job.folder / "report" / "report.html" if job else None
    return job, html if html is not None and html.exists() else None
