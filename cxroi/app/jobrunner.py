"""Run one background job's command under the job limits: ``python -m cxroi.app.jobrunner FOLDER -- COMMAND…``.

The runner lowers its CPU priority (``os.nice``, ``CXROI_JOB_NICE``, default 10) and caps the
memory the job can write to — its private data, heap and anonymous mappings (``RLIMIT_DATA`` from
``CXROI_JOB_MEMORY_MB``, default half of this machine's memory; not the address space, which the
chart renderer's JavaScript engine and the compilers reserve by gigabytes without using it) — says so in the job's log (its standard output), runs the command,
records its exit code in ``FOLDER/exit_code`` and, when the command ran out of its memory budget
or was killed, adds a plain sentence saying which limit stopped it. It then releases the job
kind's start lock (:func:`cxroi.app.jobs.release`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from cxroi.fileio import atomic_write_text

DEFAULT_NICE = 10


def memory_budget_mb() -> int:
    """The memory budget of a job in MB (``CXROI_JOB_MEMORY_MB``; default half the machine's memory)."""
    configured = os.environ.get("CXROI_JOB_MEMORY_MB", "").strip()
    if configured:
        return max(64, int(configured))
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(1024, total // 2**21)


def _apply_limits() -> list[str]:
    """Lower the priority and cap the job's writable memory; returns the log lines that say so."""
    import resource

    niceness = int(os.environ.get("CXROI_JOB_NICE", "").strip() or DEFAULT_NICE)
    os.nice(niceness)
    budget = memory_budget_mb()
    resource.setrlimit(resource.RLIMIT_DATA, (budget * 2**20, budget * 2**20))
    return [f"Limits: lower CPU priority (nice {niceness}, CXROI_JOB_NICE) so the app stays responsive; "
            f"memory at most {budget:,} MB (CXROI_JOB_MEMORY_MB)."]


def _verdict(code: int, log: Path) -> str | None:
    """A plain sentence on the limit that stopped the command, or None."""
    tail = log.read_text(encoding="utf-8", errors="replace")[-20_000:] if log.exists() else ""
    budget = memory_budget_mb()
    if code != 0 and ("MemoryError" in tail or "Unable to allocate" in tail or "bad_alloc" in tail):
        return (f"Stopped: the job needed more than its memory budget of {budget:,} MB. Raise "
                "CXROI_JOB_MEMORY_MB, or train on fewer segments or months.")
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return f"Stopped: the job was killed by signal {name} (by an operator or the system's memory guard)."
    return None


def run(folder: Path, command: list[str]) -> int:
    """Run ``command`` for the job in ``folder`` under the limits; returns its exit code."""
    from cxroi.app import jobs

    try:
        for line in _apply_limits():
            print(line, flush=True)
        code = subprocess.call(command, stdin=subprocess.DEVNULL)
    except OSError as exc:
        print(f"Stopped: the job could not start ({exc.strerror or exc}).", flush=True)
        code = 127
    if (sentence := _verdict(code, folder / jobs.LOG_NAME)) is not None:
        print(sentence, flush=True)
    atomic_write_text(folder / "exit_code", f"{code}\n")
    jobs.release(folder)
    return code


def main(argv: list[str]) -> int:
    """Entry point: ``FOLDER -- COMMAND…``."""
    folder, separator, *command = argv
    if separator != "--" or not command:
        print("usage: python -m cxroi.app.jobrunner FOLDER -- COMMAND…", file=sys.stderr)
        return 2
    return run(Path(folder), command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
