"""Scenario simulation, finance and budget optimisation on model parameter draws (numpy, numba).

Nothing here imports the training stack (PyMC, PyTensor, ArviZ, statsmodels): a scenario
re-evaluates in milliseconds on the draws stored in a model artifact.
"""

from cxroi.sim.result import Paths, Provenance, SimulationResult
from cxroi.sim.scenario import Investment, Levers, Scenario, load_scenario, parse_scenario

__all__ = [
    "Investment", "Levers", "Paths", "Provenance", "Scenario", "SimulationResult", "load_scenario",
    "parse_scenario",
]
