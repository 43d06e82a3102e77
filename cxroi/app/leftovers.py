"""Half-written model folders of killed writers, removed so no later run keeps them.

:func:`cxroi.registry.write_artifact` builds a model in a hidden folder ``.<model id>.<pid>.<random>``
beside its final place and renames it when complete. A writer killed outright (SIGKILL, out of
memory) leaves that folder behind. It is a leftover when its process no longer runs, or when the
process now holding that pid started after the folder was made (the pid was reused).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

#: ".<model id>.<pid>.<random>" as the registry names a model folder being written
_WRITING = re.compile(r"^\.(?P<model_id>.+)\.(?P<pid>\d+)\.[^.]+$")


def process_started_at(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch); None when it does not run.
    Linux reads /proc; elsewhere a running process counts as started at the epoch."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # runs, under another user
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def half_written_models(models_dir: str | Path) -> list[Path]:
    """Hidden model folders in ``models_dir`` whose writer no longer runs."""
    models_dir = Path(models_dir)
    found = []
    for path in models_dir.glob(".*") if models_dir.is_dir() else []:
        match = _WRITING.match(path.name)
        if match is None or not path.is_dir() or path.is_symlink():
            continue
        started = process_started_at(int(match["pid"]))
        if started is None or started > path.stat().st_mtime + 1.0:  # 1 s: clock-tick rounding
            found.append(path)
    return found


def remove_half_written_models(models_dir: str | Path) -> list[str]:
    """Delete the half-written model folders of killed writers; returns their names."""
    removed = []
    for path in half_written_models(models_dir):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed
