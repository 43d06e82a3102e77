"""One seed, named random streams. A training run's seed is the root of a
:class:`numpy.random.SeedSequence` spawned into one independent stream per use, so that changing
how many numbers one use draws never shifts another's, and the same data and seed give the same
draws and forecasts. The seed is recorded in the model's manifest."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the seed used when none is given, by the command line and the app alike
DEFAULT_SEED = 7
#: the uses of randomness in a training run, in spawn order (append only: the order fixes the streams)
STREAMS = ("sampler", "catalogue", "predictive", "backtest")


@dataclass(frozen=True)
class RandomStreams:
    """The named streams of one root ``seed``."""

    seed: int = DEFAULT_SEED

    def _child(self, stream: str) -> np.random.SeedSequence:
        if stream not in STREAMS:
            raise ValueError(f"unknown random stream {stream!r}; known: {', '.join(STREAMS)}")
        return np.random.SeedSequence(self.seed).spawn(len(STREAMS))[STREAMS.index(stream)]

    def generator(self, stream: str) -> np.random.Generator:
        """A fresh generator of ``stream`` (the same numbers on every call)."""
        return np.random.default_rng(self._child(stream))

    def integer(self, stream: str) -> int:
        """A 32-bit seed of ``stream`` for libraries that take an integer (the MCMC samplers)."""
        return int(self._child(stream).generate_state(1)[0])
