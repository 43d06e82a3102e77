"""Background jobs: one retraining at a time across processes, no leftovers of killed trainings,
finished jobs kept only for their retention, and every job under a CPU priority and memory limit
named in its log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from cxroi.app import jobs, reports
from tests.app.conftest import ROOT

STARTER = textwrap.dedent("""
    import sys, time
    import pandas as pd
    from pathlib import Path
    from cxroi.app import jobs, retrain
    home, models, at = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    retrain.train_command = lambda *a: [sys.executable, "-c", "import time; time.sleep(3)"]
    time.sleep(max(0.0, at - time.time()))
    try:
        job = retrain.start_retrain(pd.DataFrame({"x": [1]}), "panel.csv", "regression", 7, home, models)
        print("started", job.job_id)
    except jobs.JobBusy as exc:
        print("busy:", exc)
""")


def _wait(job: jobs.Job, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while job.status() == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    return job.status()


def test_two_starts_100_ms_apart_from_two_processes_give_one_job(tmp_path):
    home, models = tmp_path / "home", tmp_path / "models"
    at = time.time() + 4  # both processes have imported everything by then
    starters = [subprocess.Popen([sys.executable, "-c", STARTER, str(home), str(models), str(at + delay)],
                                 cwd=ROOT, stdout=subprocess.PIPE, text=True) for delay in (0.0, 0.1)]
    outputs = [p.communicate(timeout=60)[0].strip() for p in starters]
    assert sum(o.startswith("started") for o in outputs) == 1, outputs
    busy = next(o for o in outputs if o.startswith("busy"))
    assert "A retraining is already running" in busy and "wait for it to finish" in busy
    (job,) = jobs.list_jobs(home, "retrain")
    assert job.status() == "running"  # seen as running from this third process too
    assert _wait(job) == "succeeded"
    assert not (job.folder.parent / jobs.ACTIVE).exists()  # the slot is free again


def test_a_killed_trainings_half_written_model_is_removed_by_the_next_listing(app_env, tmp_path, monkeypatch):
    models = tmp_path / "models"
    (models).mkdir()
    for item in (app_env / "models").iterdir():  # the champion, linked by copy
        subprocess.run(["cp", "-r", str(item), str(models)], check=True)
    writer = subprocess.Popen([sys.executable, "-c", (
        "import os, tempfile, time, sys; d = tempfile.mkdtemp(prefix=f'.bayes-new.{os.getpid()}.', dir=sys.argv[1]); "
        "open(os.path.join(d, 'draws.npz'), 'wb').write(b'half'); print(d, flush=True); time.sleep(60)"),
        str(models)], stdout=subprocess.PIPE, text=True)
    half = Path(writer.stdout.readline().strip())
    live = Path(os.path.join(models, f".bayes-live.{os.getpid()}.abc"))  # a writer still at work
    live.mkdir()
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    monkeypatch.setenv("CXROI_MODELS_DIR", str(models))
    at = AppTest.from_string("from cxroi.app.pages.drivers import drivers\ndrivers()", default_timeout=60).run()
    assert not at.exception and not at.error
    assert not half.exists() and live.exists()


def _finished_job(home: Path, days_ago: float) -> Path:
    folder = jobs.new_folder(home, "retrain")
    started = datetime.now(UTC) - timedelta(days=days_ago)
    (folder / "job.json").write_text(json.dumps({"started_at": started.isoformat(), "source": "p.csv",
                                                  "family": "regression"}))
    (folder / "panel.parquet").write_bytes(b"uploaded data")
    (folder / "exit_code").write_text("0\n")
    return folder


def test_finished_jobs_and_their_uploaded_panels_are_kept_only_for_the_retention(tmp_path, monkeypatch):
    old, recent = _finished_job(tmp_path, 8), _finished_job(tmp_path, 1)
    monkeypatch.setenv("CXROI_JOB_RETENTION_DAYS", "30")
    assert len(jobs.list_jobs(tmp_path, "retrain")) == 2 and old.exists()
    monkeypatch.delenv("CXROI_JOB_RETENTION_DAYS")  # the default: 7 days
    assert [j.folder for j in jobs.list_jobs(tmp_path, "retrain")] == [recent]
    assert not old.exists()


def test_a_job_runs_at_lower_priority_and_its_memory_limit_is_named_in_its_log(tmp_path, monkeypatch):
    monkeypatch.setenv("CXROI_JOB_MEMORY_MB", "300")
    greedy = "import os; print('niceness', os.nice(0), flush=True); b = bytearray(600 * 2**20); print('done')"
    monkeypatch.setattr(reports, "report_command", lambda *a: [sys.executable, "-c", greedy])
    job = reports.start_report("m", tmp_path, tmp_path / "models")
    assert _wait(job) == "failed"
    log = job.log_tail()
    assert "nice 10" in log and "memory at most 300 MB (CXROI_JOB_MEMORY_MB)" in log
    # os.nice(10) is relative: 10 steps below this process (capped at 19, e.g. when the suite itself runs under nice)
    assert f"niceness {min(os.nice(0) + 10, 19)}" in log and "done" not in log
    assert log.endswith("Stopped: the job needed more than its memory budget of 300 MB. Raise "
                        "CXROI_JOB_MEMORY_MB, or train on fewer segments or months."), log


def test_a_stopped_job_ends_with_everything_it_started(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    child = ("import subprocess, sys, time; "
             "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
             f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    job = jobs.start(jobs.new_folder(tmp_path, "retrain"), [sys.executable, "-c", child], {})
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    grandchild = int(pid_file.read_text())
    started = time.monotonic()
    jobs.stop(job)
    assert job.status() != "running" and time.monotonic() - started < 15  # asked to end, killed after 10 s at most
    time.sleep(0.5)
    assert not _running(grandchild)  # the job's own child went with it
    jobs.stop(job)  # stopping a finished job does nothing


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status
