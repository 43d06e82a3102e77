"""Loading the compiled kernel in the background: never waiting for it, falling back when it fails."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from cxroi.sim import compiled
from cxroi.sim.compiled import BackgroundKernel, numba_cache_dir


def test_cache_folder_is_numba_setting_else_user_cache_else_cxroi_home(tmp_path):
    home = tmp_path / "cxroi-home"
    assert numba_cache_dir({"NUMBA_CACHE_DIR": "/numba", "CXROI_HOME": str(home)}) == Path("/numba")
    assert numba_cache_dir({"XDG_CACHE_HOME": str(tmp_path / "xdg"), "CXROI_HOME": str(home)}) == (
        tmp_path / "xdg" / "cxroi" / "numba")
    assert numba_cache_dir({"HOME": str(tmp_path / "user")}) == tmp_path / "user" / ".cache" / "cxroi" / "numba"


def test_an_unwritable_user_cache_falls_back_to_cxroi_home(tmp_path, monkeypatch):
    monkeypatch.setattr(compiled, "_writable", lambda folder: False)  # e.g. a service with a read-only home
    home = tmp_path / "cxroi-home"
    assert numba_cache_dir({"XDG_CACHE_HOME": str(tmp_path), "CXROI_HOME": str(home)}) == home / "numba-cache"
    assert numba_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "cxroi" / "numba"  # numba's own fallbacks then


def test_loading_starts_once_a_process_keeps_asking():
    now = [100.0]
    kernel = BackgroundKernel(lambda: "compiled", "test", start_after=10.0, clock=lambda: now[0])
    assert kernel.get() is None
    now[0] += 9.0
    assert kernel.get() is None and kernel._thread is None  # a short command never loads numba
    now[0] += 1.0
    kernel.get()
    assert kernel._thread is not None
    assert kernel.wait(timeout=60) == "compiled"


def test_the_kernel_is_not_awaited_and_served_once_loaded():
    release = threading.Event()
    kernel = BackgroundKernel(lambda: release.wait() and "compiled", "test", start_after=0.0)
    assert kernel.get() is None  # returns while the load is still blocked
    assert kernel.get() is None
    release.set()
    assert kernel.wait(timeout=60) == "compiled"
    assert kernel.get() == "compiled"
    kernel.enabled = False
    assert kernel.get() is None


def test_a_load_that_fails_is_logged_once_and_leaves_the_numpy_kernel(caplog):
    attempts = []

    def broken():
        attempts.append(1)
        raise RuntimeError("LLVM ran out of luck")

    kernel = BackgroundKernel(broken, "test")
    assert kernel.wait(timeout=60) is None
    assert kernel.get() is None and kernel.wait(timeout=60) is None
    assert len(attempts) == 1
    assert "failed to compile; scenarios use the numpy kernel" in caplog.text and "LLVM ran out of luck" in caplog.text


def test_without_numba_the_fused_kernel_is_unavailable(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    monkeypatch.delitem(sys.modules, "cxroi.sim.fused", raising=False)
    kernel = BackgroundKernel(compiled._load_fused, "fused")
    assert kernel.wait(timeout=60) is None
    assert "fused kernel unavailable" in caplog.text and "numba" in caplog.text
