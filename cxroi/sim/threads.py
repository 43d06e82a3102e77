"""How many threads the fused kernel uses, chosen call by call from how fast each count has been.

On a machine whose other cores are idle, two threads over the two halves of the draws nearly
halve a run; when another program keeps the second core busy they are slower than one (the
threads wait for each other at every call). Which holds changes by the minute on a shared
machine, so :class:`ThreadChooser` measures instead of guessing: it keeps, per thread count, a
moving average of the time per unit of work of recent calls, uses the count with the lowest, and
now and then (every ``explore_every`` calls) tries another so that a change of load is noticed.

Results do not depend on the choice: the kernel splits the draws among the threads and every
number it computes belongs to one draw (tests/sim/test_fused.py checks bitwise equality).
Calls below ``smallest_parallel`` units of work (segments × months × draws) always use one
thread: starting the second costs more than it saves.
"""

from __future__ import annotations

import threading


class ThreadChooser:
    """Chooses 1 … ``most`` threads for a call of ``work`` units from the measured speed of each."""

    def __init__(self, most: int, smallest_parallel: int = 500_000, explore_every: int = 8,
                 weight: float = 0.25) -> None:
        self.most = max(1, most)
        self.smallest_parallel = smallest_parallel
        self.explore_every = explore_every
        self.weight = weight  #: of the newest call in the moving average
        self.seconds_per_unit: dict[int, float] = {}
        self._calls = 0
        self._lock = threading.Lock()

    def choose(self, work: int) -> int:
        """The thread count for a call of ``work`` units: one for small calls, else each count
        once, then the fastest, and another every ``explore_every`` calls."""
        if work < self.smallest_parallel or self.most == 1:
            return 1
        with self._lock:
            untried = [n for n in range(1, self.most + 1) if n not in self.seconds_per_unit]
            if untried:
                return untried[0]
            self._calls += 1
            ranked = sorted(self.seconds_per_unit, key=self.seconds_per_unit.__getitem__)
            if self._calls % self.explore_every == 0:
                return ranked[1]
            return ranked[0]

    def record(self, threads: int, work: int, seconds: float) -> None:
        """Note that a call of ``work`` units on ``threads`` threads took ``seconds`` (wall)."""
        if work < self.smallest_parallel or self.most == 1:
            return
        with self._lock:
            latest = seconds / work
            previous = self.seconds_per_unit.get(threads)
            self.seconds_per_unit[threads] = latest if previous is None else (
                self.weight * latest + (1.0 - self.weight) * previous)
