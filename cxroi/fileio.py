"""Atomic file writing: write to a temporary file in the target folder, then rename over it.

A failure or a killed process part-way leaves the previous file (or nothing), never a partial one.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed onto ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        tmp.chmod(0o666 & ~_umask())  # a normal new file's mode, not mkstemp's private 0600
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(target: str | Path, data: bytes) -> None:
    """Write bytes to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | Path, text: str) -> None:
    """Write UTF-8 text to ``target`` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_with(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and rename the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)


def megabytes_setting(name: str, default: float, error: type[Exception]) -> int:
    """A size limit in bytes from the environment variable ``name``, given in megabytes
    (``default`` when unset), read when called; a setting that is not a positive number raises
    ``error`` naming the variable."""
    setting = os.environ.get(name, str(default))
    try:
        megabytes = float(setting)
    except ValueError:
        megabytes = math.nan
    if not (math.isfinite(megabytes) and megabytes > 0):
        raise error(f"{name} must be a positive number of megabytes, not '{setting}'")
    return int(megabytes * 2**20)
