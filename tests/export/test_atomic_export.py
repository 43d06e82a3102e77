"""A write that fails half-way — an error inside a writer, or a killed process — leaves no partial
file at the target, keeps any previous file intact, and leaves no temporary files behind."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cxroi.export import ExportError, export_forecast, tabular, workbook
from cxroi.export.atomic import _hold, stale_temp_files
from cxroi.sim.result import SimulationResult

REPO = Path(__file__).resolve().parents[2]


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _half_then_fail(path, *_args, **_kwargs) -> None:
    """Write the first bytes of a file, then fail like a full disk."""
    Path(path).write_bytes(b"PAR1 half a file")
    _disk_full()


@pytest.mark.parametrize(("fmt", "module", "attribute", "replacement"), [
    ("xlsx", workbook, "_assumptions", _disk_full),  # after Summary and Monthly forecast were written
    ("parquet", tabular.pq, "write_table", lambda table, path, **kw: _half_then_fail(path)),
    ("csv", pd.DataFrame, "to_csv", lambda frame, path, **kw: _half_then_fail(path)),
])
def test_failure_half_way_leaves_nothing(monkeypatch, result: SimulationResult, tmp_path: Path, fmt: str,
                                         module, attribute: str, replacement) -> None:
    monkeypatch.setattr(module, attribute, replacement)
    target = tmp_path / f"forecast.{fmt}"
    with pytest.raises(ExportError, match="No space left on device"):
        export_forecast(result, target, fmt)
    assert list(tmp_path.iterdir()) == []  # no target, no sidecar, no temporary file


def test_failure_keeps_the_previous_export(monkeypatch, result: SimulationResult, tmp_path: Path) -> None:
    target = tmp_path / "forecast.csv"
    export_forecast(result, target, "csv")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    monkeypatch.setattr(tabular, "_provenance_json", _disk_full)  # the sidecar fails after the CSV body
    with pytest.raises(ExportError):
        export_forecast(result, target, "csv")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # both files as they were


def test_a_file_in_use_is_not_stale_and_an_abandoned_one_is(tmp_path: Path) -> None:
    target = tmp_path / "f.xlsx"
    temp = tmp_path / ".f.xlsx.abc123.tmp"
    temp.write_bytes(b"partial")
    handle = _hold(temp)
    assert handle is not None
    assert stale_temp_files(target) == []
    handle.close()
    assert stale_temp_files(target) == [temp]


_CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from cxroi.export import export_forecast, workbook
    from cxroi.export.atomic import terminate_as_interrupt
    from tests.export.conftest import make_result

    target, ready = Path(sys.argv[1]), Path(sys.argv[2])

    def stall(*args):  # half-way through the workbook: signal the parent, then hang
        ready.touch()
        time.sleep(120)

    workbook._assumptions = stall
    result = make_result(n_draws=50)
    with terminate_as_interrupt():
        export_forecast(result, target, "xlsx")
""")


def _start_stalled_writer(tmp_path: Path) -> tuple[subprocess.Popen, Path, Path]:
    out = tmp_path / "out"
    out.mkdir()
    target, ready = out / "forecast.xlsx", tmp_path / "ready"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(target), str(ready)], cwd=REPO,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert child.poll() is None, "the writer exited before reaching the middle of the workbook"
        assert time.monotonic() < deadline, "the writer never reached the middle of the workbook"
        time.sleep(0.02)
    return child, out, target


def test_killed_writer_leaves_no_target_and_its_leftover_is_swept(result: SimulationResult,
                                                                  tmp_path: Path) -> None:
    child, out, target = _start_stalled_writer(tmp_path)
    assert stale_temp_files(target) == []  # the running writer holds its temporary file
    assert [p.name.startswith(".forecast.xlsx.") for p in out.iterdir()] == [True]
    child.kill()
    child.wait(timeout=30)
    assert not target.exists()
    assert len(stale_temp_files(target)) == 1  # SIGKILL gives no chance to clean up ...
    export_forecast(result, target, "xlsx")  # ... so the next write to the target sweeps it
    assert list(out.iterdir()) == [target]
    assert openpyxl.load_workbook(target).sheetnames[0] == "Summary"


def test_terminated_writer_cleans_up_itself(tmp_path: Path) -> None:
    child, out, _ = _start_stalled_writer(tmp_path)
    child.terminate()
    assert child.wait(timeout=30) != 0
    assert list(out.iterdir()) == []


def test_exports_get_ordinary_file_permissions(result: SimulationResult, tmp_path: Path) -> None:
    target = tmp_path / "f.parquet"
    export_forecast(result, target, "parquet")
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
