"""Atomic export writes that also clean up after writers that were killed.

:func:`cxroi.fileio.atomic_path` writes to a hidden temporary file beside the target and renames
it into place, so the target is never partial. A process killed outright (SIGKILL, power loss)
cannot remove its temporary file, though. Here every writer holds an exclusive ``flock`` on its
temporary file while writing; the next write to the same target deletes the temporary files
nobody holds any more. SIGTERM is turned into an ordinary interruption so the temporary file is
removed on the spot (:func:`terminate_as_interrupt`).

Two processes writing the same target at the same instant are not coordinated (the last rename
wins, and a sweep could catch the other's file in the moment between its creation and its lock);
each target still only ever holds a complete file.
"""

from __future__ import annotations

import contextlib
import glob
import signal
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

from cxroi.fileio import atomic_path

try:
    import fcntl
except ImportError:  # not POSIX: no stale-file sweep, atomicity is unchanged
    fcntl = None


def _hold(path: Path) -> IO[bytes] | None:
    """Open ``path`` and take an exclusive lock; None when locking is unavailable or refused."""
    if fcntl is None:
        return None
    handle = open(path, "rb")  # noqa: SIM115 - the lock lives as long as the handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def stale_temp_files(target: str | Path) -> list[Path]:
    """Temporary files left beside ``target`` by writers that no longer run."""
    target = Path(target)
    pattern = str(target.parent / f".{glob.escape(target.name)}.*.tmp")
    stale = []
    for name in glob.glob(pattern):
        handle = _hold(Path(name))
        if handle is not None:
            handle.close()
            stale.append(Path(name))
    return stale


def remove_stale_temp_files(target: str | Path) -> None:
    """Delete the temporary files of killed writers of ``target`` (those nobody holds)."""
    for path in stale_temp_files(target):
        path.unlink(missing_ok=True)


def write_files(writers: Mapping[Path, Callable[[Path], None]]) -> None:
    """Write several files all-or-nothing: ``writer(tmp_path)`` fills a temporary file beside
    each target, and the renames onto the targets happen only once every writer has succeeded.

    The lock on each temporary file is held until after the renames, so no sweep mistakes it for
    a leftover.
    """
    for target in writers:  # a rename onto a folder would fail after others were done
        if Path(target).is_dir():
            raise IsADirectoryError(21, "a folder is in the way of the file", str(target))
    handles: list[IO[bytes] | None] = []
    try:
        with contextlib.ExitStack() as stack:
            for target, writer in writers.items():
                remove_stale_temp_files(target)
                tmp = stack.enter_context(atomic_path(target))
                handles.append(_hold(tmp))
                writer(tmp)
    finally:
        for handle in handles:
            if handle is not None:
                handle.close()


def write_atomically(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and rename the result onto ``target`` (see :func:`write_files`)."""
    write_files({Path(target): writer})


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While active, SIGTERM raises KeyboardInterrupt, so ``finally`` blocks (temporary file
    removal) run before the process exits."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
