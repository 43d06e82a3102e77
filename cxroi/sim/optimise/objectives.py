"""What an allocation maximises, computed on the plan's NPV per draw (currency).

Every objective has one interface: :meth:`Objective.score` gives the objective and whether a
plan meets the objective's floor, for plans' NPV per draw; :meth:`Objective.draw_weights` gives
the weight of each draw's NPV in the objective near a plan (the objective's gradient with
respect to the NPV of each draw), which the search turns into a gradient in the spend;
``floor`` is the lowest share of draws with NPV > 0 — P(ROI > 0) — a plan must reach, or None.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from cxroi.errors import ScenarioError
from cxroi.sim import finance


class Objective(ABC):
    """An objective on plans' NPV per draw (currency)."""

    name: ClassVar[str]  #: how the command line and the app call it
    floor: float | None = None  #: lowest P(ROI > 0) a plan must reach (fraction); None = no floor

    @abstractmethod
    def value(self, npv: np.ndarray) -> np.ndarray:
        """The objective (currency) of plans' NPV per draw (… × draws)."""

    @abstractmethod
    def draw_weights(self, npv: np.ndarray) -> np.ndarray:
        """Weight of each draw's NPV (1-D ``npv``) in the objective at this plan; they add up to 1."""

    def score(self, npv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(objective in currency, floor met) of plans' NPV per draw (… × draws)."""
        npv = np.asarray(npv, dtype=float)
        value = self.value(npv)
        if self.floor is None:
            return value, np.ones(np.shape(value), dtype=bool)
        return value, (npv > 0).mean(axis=-1) >= self.floor


@dataclass(frozen=True)
class ExpectedNPV(Objective):
    """Expected NPV: the mean over draws."""

    name: ClassVar[str] = "mean"

    def value(self, npv: np.ndarray) -> np.ndarray:
        return np.mean(npv, axis=-1)

    def draw_weights(self, npv: np.ndarray) -> np.ndarray:
        return np.full(npv.size, 1.0 / npv.size)


@dataclass(frozen=True)
class FlooredExpectedNPV(ExpectedNPV):
    """Expected NPV of plans whose P(ROI > 0) is at least ``floor``."""

    name: ClassVar[str] = "prob"
    floor: float = 0.8

    def __post_init__(self) -> None:
        if not 0.0 <= self.floor <= 1.0:
            raise ScenarioError(f"the floor on P(ROI > 0) must be between 0 and 1, not {self.floor:g}")


@dataclass(frozen=True)
class CVaR(Objective):
    """Conditional value at risk: the mean NPV of the worst ``alpha`` share of draws (at least one)."""

    name: ClassVar[str] = "cvar"
    alpha: float = 0.10  #: share of draws in the tail (fraction)

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha <= 1.0:
            raise ScenarioError(f"the CVaR tail share must be in (0, 1], not {self.alpha:g}")

    def value(self, npv: np.ndarray) -> np.ndarray:
        return finance.cvar(npv, self.alpha)

    def draw_weights(self, npv: np.ndarray) -> np.ndarray:
        tail = np.argsort(npv)[: max(1, int(np.floor(self.alpha * npv.size)))]
        weights = np.zeros(npv.size)
        weights[tail] = 1.0 / tail.size
        return weights


#: the objectives by name, as the command line and the app offer them
OBJECTIVES: tuple[str, ...] = (ExpectedNPV.name, CVaR.name, FlooredExpectedNPV.name)


def objective_named(name: str, alpha: float = 0.10, floor: float = 0.8) -> Objective:
    """The objective called ``name`` ('mean', 'cvar' or 'prob'); ``alpha`` is the CVaR tail
    share and ``floor`` the lowest P(ROI > 0) of 'prob' (fractions, each used only there)."""
    if name == CVaR.name:
        return CVaR(alpha=alpha)
    if name == FlooredExpectedNPV.name:
        return FlooredExpectedNPV(floor=floor)
    if name == ExpectedNPV.name:
        return ExpectedNPV()
    raise ScenarioError(f"objective must be one of {', '.join(OBJECTIVES)}, not '{name}'")
