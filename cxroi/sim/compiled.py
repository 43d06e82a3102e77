"""The fused scenario kernel, made ready in a background thread so that nobody waits for it.

:func:`cxroi.sim.kernel.increments` asks :data:`FUSED` for the compiled kernel of
:mod:`cxroi.sim.fused` on every call and gets None — use the numpy kernel, which gives the same
numbers — until the kernel is ready. Loading runs in a thread that imports that module (numba,
then the kernel compiled or loaded from numba's on-disk cache); the app's start and slider path
never wait for it. When numba cannot be imported or compiling fails, the numpy kernel stays, and
a warning is logged.

When loading starts: the first request in a process only notes the time, and a request 10 s or
more later starts the thread, so a process that keeps simulating (the app, the API, a long
optimisation, a test session) gets the compiled kernel, while a command that runs a scenario and
ends does not pay for it: loading takes 2–4.5 s on the 2-core machine, and an ending process
waits for a load in progress (the thread is not a daemon, so it is never torn down inside LLVM).
:meth:`BackgroundKernel.start` and :meth:`BackgroundKernel.wait` start it at once.

Why a background thread and the on-disk cache (benchmarks/bench_sim.py measures both): a cold
compile takes 7–11 s (with the other core busy, 1-minute load 4–5), far too long to make anyone
wait even once, while a load from the cache takes 2–4.5 s including numba's import; so only the
first process on a machine (or after an upgrade of the kernel or of numba) compiles, and nobody
waits for either.

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
    """A kernel produced by ``load`` in a background thread, started by a request at least
    ``start_after`` seconds after the first one (see the module docstring), or by :meth:`start`.

    ``enabled = False`` makes :meth:`get` answer None (the numpy kernel), e.g. to time both
    kernels in one process."""

    def __init__(self, load: Callable[[], Kernel], name: str, start_after: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self.name = name
        self.start_after = start_after
        self.enabled = True
        self._clock = clock
        self._first_request: float | None = None
        self._kernel: Kernel | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def get(self) -> Kernel | None:
        """The kernel when it is ready, else None; never waits."""
        if self._thread is None:
            now = self._clock()
            if self._first_request is None:
                self._first_request = now
            if now - self._first_request >= self.start_after:
                self.start()
        return self._kernel if self.enabled else None

    def wait(self, timeout: float | None = None) -> Kernel | None:
        """The kernel, after starting to load it if need be and waiting up to ``timeout``
        seconds (None: as long as it takes); None when it is not ready by then or cannot be had."""
        self.start()
        assert self._thread is not None
        self._thread.join(timeout)
        return self._kernel if self.enabled else None

    def start(self) -> None:
        """Start loading the kernel now, unless that has begun."""
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
