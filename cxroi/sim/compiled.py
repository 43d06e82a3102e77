"""The fused scenario kernel, made ready in a background thread so that nobody waits for it.

:func:`cxroi.sim.kernel.increments` asks :data:`FUSED` for the compiled kernel of
:mod:`cxroi.sim.fused` on every call. The first request starts a thread that imports that module
(which compiles the kernel or loads it from numba's on-disk cache) and returns None at once;
until the thread is done, and for good when numba cannot be imported or compiling fails (logged
as a warning), the caller uses the numpy kernel, which gives the same numbers. So the app's start
and its slider path never wait for a compile.

Why both a background thread and the on-disk cache (figures from benchmarks/README.md, 2-core
machine): a cold compile takes several seconds — far too long to make anyone wait, even once —
while loading from the cache takes a fraction of a second, so only the first process on a machine
(or after an upgrade of the kernel or of numba) runs the numpy kernel for a while. The thread is
not a daemon: a short process such as one CLI command that ends during a cold compile waits for
it to finish, rather than being torn down inside LLVM, and leaves a warm cache behind.

The cache folder is numba's ``NUMBA_CACHE_DIR`` when set; otherwise ``cxroi/numba`` in the
user's cache folder (``XDG_CACHE_HOME`` or ``~/.cache``), where compiled code for this machine
belongs and outlives any one ``CXROI_HOME`` (tests give each their own); and ``numba-cache`` under
``CXROI_HOME`` when the user's cache folder cannot be written. Never the package folder, which
may be read-only.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Kernel = Callable[..., Any]  #: a function with the signature of cxroi.sim.kernel.increments


def numba_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder numba caches compiled functions in (see the module docstring). The user's
    cache folder is created to find out whether it can be written."""
    if environ.get("NUMBA_CACHE_DIR"):
        return Path(environ["NUMBA_CACHE_DIR"])
    user_cache = environ.get("XDG_CACHE_HOME") or Path(environ.get("HOME") or Path.home()) / ".cache"
    folder = Path(user_cache) / "cxroi" / "numba"
    if environ.get("CXROI_HOME") and not _writable(folder):
        return Path(environ["CXROI_HOME"]) / "numba-cache"
    return folder


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


class BackgroundKernel:
    """A kernel produced by ``load`` in a background thread, started by the first :meth:`get`.

    ``enabled = False`` makes :meth:`get` answer None (the numpy kernel), e.g. to time both
    kernels in one process."""

    def __init__(self, load: Callable[[], Kernel], name: str) -> None:
        self._load = load
        self.name = name
        self.enabled = True
        self._kernel: Kernel | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def get(self) -> Kernel | None:
        """The kernel when it is ready, else None (starting to load it if nobody has)."""
        if self._kernel is None and self._thread is None:
            self._start()
        return self._kernel if self.enabled else None

    def wait(self, timeout: float | None = None) -> Kernel | None:
        """The kernel, after waiting up to ``timeout`` seconds for it (None: as long as it takes);
        None when it is not ready by then or cannot be had."""
        self.get()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self._kernel if self.enabled else None

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"cxroi-load-{self.name}")
                self._thread.start()

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            kernel = self._load()
        except ImportError as error:
            log.warning("%s kernel unavailable (%s); scenarios use the numpy kernel", self.name, error)
        except Exception:
            log.warning("%s kernel failed to compile; scenarios use the numpy kernel", self.name, exc_info=True)
        else:
            self._kernel = kernel
            log.info("%s kernel ready after %.1f s", self.name, time.perf_counter() - started)


def _load_fused() -> Kernel:
    from cxroi.sim.fused import fused_increments  # importing compiles, or loads from the cache

    return fused_increments


FUSED = BackgroundKernel(_load_fused, "fused")
