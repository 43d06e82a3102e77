"""The app's background retraining runs as the user who started it: the app checks the retrain
permission first, and the job's command acts as that user (its audit rows name them)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cxroi.app import jobs, retrain
from cxroi.service import PermissionDenied, Role
from tests.service.conftest import USERS

#: stands in for `cxroi train`: prints who the command line would act as
WHO = "from cxroi.cli.acting import cli_user; u = cli_user(); print(u.name, u.subject)"


def _finish(job: jobs.Job) -> None:
    deadline = time.monotonic() + 60
    while job.status() == "running" and time.monotonic() < deadline:
        time.sleep(0.1)


def test_the_job_acts_as_the_signed_in_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retrain, "train_command", lambda *args: [sys.executable, "-c", WHO])
    job = retrain.start_retrain(pd.DataFrame({"x": [1]}), "panel.csv", "regression", 7, tmp_path / "home",
                                tmp_path / "models", user=USERS[Role.ANALYST])
    _finish(job)
    assert job.status() == "succeeded" and job.log_tail().endswith("Al oidc|al")


def test_a_viewer_cannot_start_a_retraining(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retrain, "train_command", lambda *args: [sys.executable, "-c", WHO])
    with pytest.raises(PermissionDenied, match="Vera may not retrain a model"):
        retrain.start_retrain(pd.DataFrame({"x": [1]}), "panel.csv", "regression", 7, tmp_path / "home",
                              tmp_path / "models", user=USERS[Role.VIEWER])
    assert jobs.list_jobs(tmp_path / "home", retrain.KIND) == []
