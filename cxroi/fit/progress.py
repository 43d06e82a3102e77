"""How far a training has got, for whoever watches it (the app's retraining page).

A training samples the model twice — on the whole panel, then on the panel without its last
months for the backtest — and then checks and writes the artifact. :class:`ProgressLog` writes
one JSON line per update to the file named by ``CXROI_PROGRESS_FILE`` (the app sets it for a
retraining job; without it nothing is written): the share of the training done, what it is doing,
elapsed seconds, draws per second of the sampling under way and an estimate of the seconds left.
:func:`read_latest` gives the last line.

Sampling progress comes from the sampler itself: PyMC's NUTS calls back on every draw; nutpie
runs in the background and the draws its chains have finished (tuning included) are counted
every few seconds. That count reads nutpie's trace while it grows, which nutpie offers only
through its sampler object's ``inspect``; if a nutpie version changes that, sampling still runs
to the end and only the count within a fit is missing (the share then moves fit by fit).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROGRESS_FILE_ENV = "CXROI_PROGRESS_FILE"
SAMPLING_SHARE = 0.95  #: share of a training's time spent sampling; checks and writing take the rest
POLL_SECONDS = 2.0  #: shortest wait between two counts of nutpie's draws
POLL_COST_RATIO = 10.0  #: wait at least this many times as long as the last count took (≤ 10 % overhead)


@dataclass(frozen=True)
class ProgressLine:
    """One update: ``fraction`` of the whole training (0–1), ``stage`` in words, seconds elapsed
    since the training started, draws per second of the sampling under way (None outside
    sampling) and an estimate of the seconds left (None until something is done)."""

    fraction: float
    stage: str
    elapsed_s: float
    draws_per_s: float | None = None
    eta_s: float | None = None


class ProgressLog:
    """Progress of a training of ``fits`` sampling runs, written to ``path`` (None: nowhere)."""

    def __init__(self, path: Path | None, fits: int = 2, clock: Callable[[], float] = time.monotonic) -> None:
        self.path, self.fits, self._clock = path, fits, clock
        self._started = clock()
        self._fit = -1
        self._fit_started = self._started
        self._label = ""

    @classmethod
    def from_environment(cls, fits: int = 2) -> ProgressLog:
        """A log to ``CXROI_PROGRESS_FILE`` when it is set, else one that writes nothing."""
        path = os.environ.get(PROGRESS_FILE_ENV, "").strip()
        return cls(Path(path) if path else None, fits)

    def start_fit(self, label: str) -> None:
        """The next sampling run begins (``label``: what it fits, in words)."""
        self._fit = min(self._fit + 1, self.fits - 1)
        self._fit_started, self._label = self._clock(), label
        self._write(self._fit / self.fits * SAMPLING_SHARE, f"{label}: compiling and starting the sampler")

    def draws(self, done: int, total: int) -> None:
        """``done`` of the ``total`` draws (all chains, tuning included) of the current fit are finished."""
        share = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
        seconds = self._clock() - self._fit_started
        rate = done / seconds if done > 0 and seconds > 0 else None
        self._write((max(self._fit, 0) + share) / self.fits * SAMPLING_SHARE,
                    f"{self._label}: sampling, {done:,} of {total:,} draws", rate)

    def stage(self, text: str) -> None:
        """A step after sampling (checks, writing the artifact)."""
        self._write(SAMPLING_SHARE, text)

    def finished(self) -> None:
        self._write(1.0, "finished")

    def _write(self, fraction: float, stage: str, draws_per_s: float | None = None) -> None:
        if self.path is None:
            return
        elapsed = self._clock() - self._started
        eta = elapsed * (1 - fraction) / fraction if fraction > 0.01 else None
        line = ProgressLine(round(fraction, 4), stage, round(elapsed, 1),
                            None if draws_per_s is None else round(draws_per_s, 1),
                            None if eta is None else round(eta, 1))
        with contextlib.suppress(OSError), open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(line)) + "\n")


def read_latest(path: Path) -> ProgressLine | None:
    """The last complete update in a progress file, or None when there is none (yet)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for text in reversed(lines):
        with contextlib.suppress(ValueError, TypeError):
            return ProgressLine(**json.loads(text))
    return None


def finished_draws(sampler: Any) -> int | None:
    """Draws (tuning included) the chains of a nutpie background sampler have finished, or None
    when this nutpie does not let them be counted (see the module docstring)."""
    try:
        _, stats = sampler._sampler.inspect().get_arrow_trace()
        return int(sum(batch.num_rows for batch in stats))
    except Exception:  # any change inside nutpie only costs the count
        return None


def wait_counting(sampler: Any, total: int, on_draws: Callable[[int, int], None],
                  clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> Any:
    """Wait for a nutpie background sampler to finish, reporting ``on_draws(done, total)`` every
    few seconds (never more than :data:`POLL_COST_RATIO` times as often as a count costs), and
    return its result."""
    while True:
        started = clock()
        done = finished_draws(sampler)
        if done is None or done >= total:
            break
        on_draws(done, total)
        sleep(max(POLL_SECONDS, POLL_COST_RATIO * (clock() - started)))
    result = sampler.wait()
    on_draws(total, total)
    return result


def pymc_callback(total: int, on_draws: Callable[[int, int], None], every: float = 0.01) -> Callable[..., None]:
    """A ``pm.sample(callback=...)`` that reports ``on_draws(done, total)`` each time another
    ``every`` share of the ``total`` draws (all chains, tuning included) is finished."""
    step = max(1, int(total * every))
    done = 0

    def callback(trace: Any = None, draw: Any = None) -> None:
        nonlocal done
        done += 1
        if done % step == 0 or done == total:
            on_draws(done, total)

    return callback
