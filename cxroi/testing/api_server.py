"""Start ``cxroi serve`` on a free port in a subprocess and wait until it answers; shared by the API
tests (``tests/api``) and ``benchmarks/bench_api.py``. Stop it with
:func:`cxroi.testing.browser.stop_server`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

API_START_TIMEOUT_S = 120  # a loaded 2-core machine imports the API's libraries slowly


def start_api(env_extra: dict[str, str], port: int, workers: int = 1, log: Path | None = None,
              cwd: Path | None = None) -> subprocess.Popen:
    """``cxroi serve --port <port> --workers <workers>`` on 127.0.0.1 with ``env_extra`` added to
    the environment (output to ``log`` when given), from ``cwd``; returns once ``/health``
    answers (at most :data:`API_START_TIMEOUT_S` seconds)."""
    env = {**os.environ, **env_extra}
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [sys.executable, "-m", "cxroi.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)], env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + API_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"cxroi serve exited with code {process.returncode}"
                               + (f" (see {log})" if log else ""))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    process.wait()
    raise RuntimeError(f"cxroi serve did not answer /health within {API_START_TIMEOUT_S} s")
