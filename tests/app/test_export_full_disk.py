"""Writers clean up: on a full disk every export writer (XLSX, CSV, Parquet) fails with a plain
message and leaves no file, temporary or not, in the output folder or the system's temp folder.

The disk is a 1 MB tmpfs filled to its last page (mounting needs root); elsewhere the same tests
run with the writers' file output patched to fail like a full disk."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter.workbook
from streamlit.testing.v1 import AppTest

from cxroi.app import state
from cxroi.export import ExportError, export_forecast, tabular
from tests.export.conftest import make_result

SEGMENTS = tuple(f"Segment-{i:02d}" for i in range(12))


def _fill(folder: Path, leave_bytes: int = 4096) -> None:
    """Fill the file system of ``folder`` until it is full, then free ``leave_bytes``."""
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        with contextlib.suppress(OSError):
            handle.close()
    os.truncate(filler, max(0, filler.stat().st_size - leave_bytes))


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _mount_tmpfs(folder: Path) -> bool:
    """Mount a 1 MB tmpfs on ``folder``; False when this machine does not allow it."""
    if os.environ.get("CXROI_TEST_NO_MOUNT"):
        return False
    try:
        return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                              capture_output=True).returncode == 0
    except OSError:
        return False


@contextlib.contextmanager
def _full_disk(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``folder`` on a full 1 MB tmpfs, or the writers patched to fail like one."""
    folder.mkdir()
    mounted = _mount_tmpfs(folder)
    try:
        if mounted:
            _fill(folder)
        else:
            monkeypatch.setattr(xlsxwriter.workbook.ZipFile, "writestr", _disk_full)
            monkeypatch.setattr(tabular.pq, "write_table", _disk_full)
            monkeypatch.setattr(pd.DataFrame, "to_csv", _disk_full)
        yield
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def system_temp(tmp_path, monkeypatch) -> Path:
    """A private folder standing in for the system's temp folder (so nothing else writes there)."""
    folder = tmp_path / "system-temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "parquet"])
def test_every_writer_fails_cleanly_on_a_full_disk(tmp_path, monkeypatch, system_temp, fmt):
    result = make_result(segments=SEGMENTS, horizon=60, n_draws=400)
    out = tmp_path / "out"
    with _full_disk(out, monkeypatch):
        before = {p.name for p in out.iterdir()}
        with pytest.raises(ExportError, match="No space left on device") as failure:
            export_forecast(result, out / f"forecast.{fmt}", fmt)
        left = {p.name for p in out.iterdir()}
    assert f"could not write the {fmt} export" in str(failure.value)
    assert left == before  # no target, no hidden temporary file or parts folder
    assert list(system_temp.iterdir()) == []


def test_the_export_page_says_plainly_when_the_disk_is_full(app_env, tmp_path, monkeypatch):
    # the app builds its downloads in the system's temp folder: here that folder is the full disk
    full = tmp_path / "full-temp"
    state.export_files.clear()  # downloads built by earlier tests in this process are cached
    with _full_disk(full, monkeypatch):
        monkeypatch.setattr(tempfile, "tempdir", str(full))
        before = {p.name for p in full.iterdir()}
        at = AppTest.from_string("from cxroi.app.pages.export import export\nexport()", default_timeout=60).run()
        left = {p.name for p in full.iterdir()}
    assert not at.exception
    messages = [e.value for e in at.error]
    assert any("No space left on device" in m and "Traceback" not in m for m in messages), messages
    assert not any(str(tmp_path) in m for m in messages)  # no server path either
    assert left == before
