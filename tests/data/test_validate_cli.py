"""`cxroi data validate` lists every fault, exits non-zero and never prints a traceback."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import cli_env

FAULTY = """segment,period,customers_start,churned,new_customers,revenue,nps
SMB,2024-01-01,1000,10,20,5000,30
SMB,2024-02-01,1010,2000,15,12k,140
SMB,2024-02-01,1010,12,15,5100,31
"""


def run_cli(*args: str):
    return subprocess.run([sys.executable, "-m", "cxroi.cli", *args], capture_output=True, text=True,
                          env=cli_env(COLUMNS="200"), timeout=120)


def test_validate_lists_all_faults(tmp_path):
    path = tmp_path / "faulty.csv"
    path.write_text(FAULTY)
    result = run_cli("data", "validate", str(path))
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Traceback" not in out
    assert "required column is missing" in out and "csat" in out  # missing column
    assert "'12k' is not a number" in out  # text in a number column
    assert "churned must not exceed customers_start" in out
    assert "between -100 and 100" in out  # NPS 140
    assert "duplicated segment × period" in out
    assert "5 error(s)" in out or "6 error(s)" in out  # 2 duplicate rows may count separately


def test_validate_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    result = run_cli("data", "validate", str(path))
    assert result.returncode == 1
    assert "empty" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_validate_sample_passes(repo_root):
    result = run_cli("data", "validate", str(repo_root / "data" / "sample" / "panel.csv"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "288 rows, 8 segments" in result.stdout
