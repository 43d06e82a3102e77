"""Simulate a scenario on a model artifact's parameter draws: baseline versus scenario paths.

For every draw d, segment s and forecast month m (0-based, model month t = state t_next + m):

* baseline CSAT/NPS stay at the segment's last observed level (zc0, zn0 per 10 points from the
  reference), so the baseline churn probability p0 is constant over months;
* the scenario adds, for each investment j reaching s, ``lift_csat_j · sat(A_j)`` CSAT points and
  ``lift_nps_j · sat(A_j)`` NPS points, where A_j is the adstock of its relative spend
  (monthly_spend / catalogue monthly_cost) — it ramps up while funded and decays after — and the
  effect acts ``lag_months`` later;
* logit p = churn_intercept + churn_csat·zc + churn_nps·zn; ARPU = exp(arpu_intercept +
  arpu_trend·t + arpu_csat·zc); expected new = exp(acq_intercept + acq_trend·t + acq_nps·zn);
* customers[m+1] = customers[m]·(1 − p[m]) + new[m] (closed form with cumprod/cumsum), churned =
  customers·p, revenue = ARPU × (customers − churned/2 + new/2) (average active customers).

Internally arrays are months × segments × draws (one month is a contiguous block and per-draw
parameters broadcast along the fast axis); results expose draws × segments × months views. There is no Python loop over draws or
segments; the only loops are over investments, months of the adstock, and lever subsets.

Lever split (Shapley): with v(S) the present value of incremental gross margin (plus terminal
value) when only the levers in S carry the CX effect, each lever gets the Shapley value
φ_i = Σ_{S ∌ i} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)) over the n enabled levers. The shares add
up exactly to v(all enabled levers) and do not depend on an arbitrary order.

Terminal value (optional): the incremental customers left after the horizon are valued at the
baseline customer lifetime value m·r/(1+i−r) with m = last-month baseline ARPU × gross margin,
r = 1 − baseline churn and i the monthly discount rate, discounted from the horizon; the CX
advantage is assumed to end at the horizon (conservative).
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from cxroi import __version__
from cxroi.data.synth import adstock, saturation
from cxroi.params import PARAMETERS
from cxroi.registry import ModelArtifact
from cxroi.sim import finance
from cxroi.sim.result import Paths, Provenance, SimulationResult
from cxroi.sim.scenario import LEVERS, Investment, Scenario

POINTS_PER_UNIT = 10.0  # effects are per 10 survey points


def _public(array: np.ndarray) -> np.ndarray:
    """Internal months × segments × draws (or segments × draws) → draws × segments × months
    (or draws × segments), as a view."""
    return array.T


@dataclass(frozen=True)
class _World:
    """Expected paths of one world, arrays months × segments × draws (customers has months + 1)."""

    customers: np.ndarray
    churned: np.ndarray
    new_customers: np.ndarray
    average_active: np.ndarray

    def paths(self, revenue: np.ndarray) -> Paths:
        return Paths(
            customers=_public(self.customers[:-1]), churned=_public(self.churned),
            new_customers=_public(self.new_customers), revenue=_public(revenue),
            customers_end=_public(self.customers[-1]),
        )


@dataclass(frozen=True)
class _Baseline:
    """The cached no-investment world of one horizon."""

    logit_churn: np.ndarray  # segments × draws
    churn: np.ndarray  # segments × draws, monthly probability
    arpu: np.ndarray  # months × segments × draws, currency per customer per month
    new_customers: np.ndarray  # months × segments × draws
    world: _World
    revenue: np.ndarray  # months × segments × draws
    paths: Paths


@dataclass(frozen=True)
class Effects:
    """Scenario effects on the log scale, months × segments × draws (None = no effect):
    added to logit churn, log ARPU and log expected new customers."""

    churn: np.ndarray | None
    arpu: np.ndarray | None
    acquisition: np.ndarray | None


class Simulator:
    """Simulates scenarios on one model artifact; the baseline is computed once per horizon.

    The simulator reads only the artifact's draws and manifest, so it does not matter which
    model family wrote it.
    """

    def __init__(self, artifact: ModelArtifact) -> None:
        self.artifact = artifact
        manifest = artifact.manifest
        self.segments = tuple(artifact.segments)
        self.initiatives = tuple(artifact.initiatives)
        self.lag = int(manifest.get("lag_months", 1))
        self.seed = int(manifest.get("seed") or 0)
        #: segment parameters as segments × draws, initiative parameters as draws × initiatives
        self.params = {name: np.ascontiguousarray(np.asarray(values, dtype=float).T if axis == "segment" else values,
                                                  dtype=float)
                       for name, (axis, _) in PARAMETERS.items() for values in (artifact.draws[name],)}
        state = artifact.state
        column = [state[s] for s in self.segments]
        self.customers0 = np.array([[c["customers"]] for c in column], dtype=float)  # segments × 1
        self.zc0 = np.array([[(c["csat"] - c["ref_csat"]) / POINTS_PER_UNIT] for c in column])
        self.zn0 = np.array([[(c["nps"] - c["ref_nps"]) / POINTS_PER_UNIT] for c in column])
        self.t_next = np.array([[c["t_next"]] for c in column], dtype=float)
        self.settings = manifest.get("initiative_settings", {})
        self.first_month = _first_forecast_month(manifest)
        self._baselines: dict[int, _Baseline] = {}

    @property
    def n_draws(self) -> int:
        return self.artifact.n_draws

    # ------------------------------------------------------------------ worlds
    def customer_world(self, churn: np.ndarray, new_customers: np.ndarray) -> _World:
        """Customers, churned, new and average active from monthly churn probabilities ``churn``
        (months × segments × draws, or segments × draws when constant) and expected new customers
        (months × segments × draws): c[m+1] = c[m] (1 − p[m]) + n[m], one vectorised step per month.
        """
        horizon = new_customers.shape[0]
        survival = np.broadcast_to(1.0 - churn, new_customers.shape)
        customers = np.empty((horizon + 1, *new_customers.shape[1:]))
        customers[0] = self.customers0
        for m in range(horizon):
            np.multiply(customers[m], survival[m], out=customers[m + 1])
            customers[m + 1] += new_customers[m]
        churned = customers[:-1] * churn
        average = customers[:-1] - 0.5 * churned
        average += 0.5 * new_customers
        return _World(customers, churned, new_customers, average)

    def baseline(self, horizon: int) -> _Baseline:
        """The no-investment world over ``horizon`` months (cached)."""
        cached = self._baselines.get(horizon)
        if cached is not None:
            return cached
        p = self.params
        t = self.t_next + np.arange(horizon)[:, None, None]  # months × segments × 1
        logit = p["churn_intercept"] + p["churn_csat"] * self.zc0 + p["churn_nps"] * self.zn0
        churn = 1.0 / (1.0 + np.exp(-logit))
        arpu = np.exp(p["arpu_intercept"] + p["arpu_trend"] * t + p["arpu_csat"] * self.zc0)
        new = np.exp(p["acq_intercept"] + p["acq_trend"] * t + p["acq_nps"] * self.zn0)
        world = self.customer_world(churn, new)
        revenue = arpu * world.average_active
        baseline = _Baseline(logit, churn, arpu, new, world, revenue, world.paths(revenue))
        self._baselines[horizon] = baseline
        return baseline

    # ------------------------------------------------------------------ scenario inputs
    def months(self, horizon: int) -> pd.DatetimeIndex:
        """Start dates of the forecast months."""
        return pd.date_range(self.first_month, periods=horizon, freq="MS")

    def _lift_draws(self, investment: Investment, index: int, kind: str) -> np.ndarray:
        """Lift at full effect per draw (survey points): the model's draws or the override."""
        override = getattr(investment.lift, kind, None) if investment.lift else None
        if override is None:
            return self.params[f"lift_{kind}"][:, self.initiatives.index(investment.initiative)]
        rng = np.random.default_rng([self.seed, index, 0 if kind == "csat" else 1])
        return override.mean + override.sd * rng.standard_normal(self.n_draws)

    def lift_curves(self, investment: Investment, index: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """CSAT and NPS lift (points) of one investment as felt by customers, months × draws,
        after the model lag: lift · sat(adstock(relative spend))."""
        i = self.initiatives.index(investment.initiative)
        setting = self.settings[investment.initiative]
        relative = np.zeros(horizon)
        relative[investment.start_month - 1: investment.end_month] = (
            investment.monthly_spend / float(setting["monthly_cost"]))
        carryover = self.params["lift_carryover"][:, i]
        shape = saturation(adstock(np.broadcast_to(relative, (self.n_draws, horizon)), carryover),
                           float(setting.get("saturation_k", 1.0)))
        lagged = np.zeros((horizon, self.n_draws))
        if self.lag < horizon:
            lagged[self.lag:] = shape[:, : horizon - self.lag].T
        return (lagged * self._lift_draws(investment, index, "csat"),
                lagged * self._lift_draws(investment, index, "nps"))

    def effects(self, scenario: Scenario) -> Effects:
        """Effects of the scenario's investments on logit churn, log ARPU and log new customers,
        with switched-off levers left out."""
        horizon, p = scenario.horizon_months, self.params
        coefficient = {name: p[name] / POINTS_PER_UNIT  # per survey point, segments × draws
                       for name in ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")}
        levers = scenario.levers
        shape = (horizon, len(self.segments), self.n_draws)
        churn = np.zeros(shape) if levers.retention else None
        arpu = np.zeros(shape) if levers.arpu else None
        acquisition = np.zeros(shape) if levers.acquisition else None
        term = np.empty(shape)
        for j, investment in enumerate(scenario.investments):
            reached = np.zeros((len(self.segments), 1))
            reached[[self.segments.index(s) for s in investment.segments]] = 1.0
            csat, nps = (lift[:, None, :] for lift in self.lift_curves(investment, j, horizon))
            for target, terms in ((churn, ((csat, "churn_csat"), (nps, "churn_nps"))),
                                  (arpu, ((csat, "arpu_csat"),)), (acquisition, ((nps, "acq_nps"),))):
                for lift, name in terms if target is not None else ():
                    np.multiply(lift, coefficient[name] * reached, out=term)
                    target += term
        return Effects(churn, arpu, acquisition)

    def spend(self, scenario: Scenario) -> np.ndarray:
        """Spend per segment and month (currency): monthly spend in each reached segment while
        funded, the one-off cost split evenly over the segments in the start month."""
        spend = np.zeros((len(self.segments), scenario.horizon_months))
        for investment in scenario.investments:
            cols = [self.segments.index(s) for s in investment.segments]
            window = slice(investment.start_month - 1, min(investment.end_month, scenario.horizon_months))
            spend[cols, window] += investment.monthly_spend
            spend[cols, investment.start_month - 1] += investment.one_off_cost / len(cols)
        return spend

    def gross_margin(self, scenario: Scenario) -> np.ndarray:
        return np.array([scenario.gross_margin.for_segment(s) for s in self.segments])

    # ------------------------------------------------------------------ valuation
    def scenario_world(self, base: _Baseline, effects: Effects) -> tuple[_World, np.ndarray]:
        """Customer world and ARPU (months × segments × draws) under the given effects."""
        if effects.churn is None:
            churn = base.churn
        else:
            churn = 1.0 / (1.0 + np.exp(-(base.logit_churn + effects.churn)))
        new = base.new_customers if effects.acquisition is None else base.new_customers * np.exp(effects.acquisition)
        world = base.world if effects.churn is None and effects.acquisition is None else self.customer_world(churn, new)
        arpu = base.arpu if effects.arpu is None else base.arpu * np.exp(effects.arpu)
        return world, arpu

    def terminal_multiple(self, base: _Baseline, margin: np.ndarray, rate: float) -> np.ndarray:
        """Present value now of one extra customer left at the horizon (currency), segments × draws."""
        horizon = base.arpu.shape[0]
        clv = base.arpu[-1] * margin[:, None] * finance.clv_multiple(1.0 - base.churn, rate)
        return clv * (1.0 + rate) ** -horizon

    def run(self, scenario: Scenario) -> SimulationResult:
        """Simulate one scenario (validated against the model first)."""
        scenario.validate_for(self.artifact)
        horizon = scenario.horizon_months
        rate = finance.monthly_rate(scenario.annual_discount_rate)
        base = self.baseline(horizon)
        margin = self.gross_margin(scenario)
        discount = finance.discount_factors(rate, horizon)
        tv_per_customer = self.terminal_multiple(base, margin, rate) if scenario.terminal_value else None
        effects = self.effects(scenario)
        base_pv = _present_value(base.revenue, discount)

        worlds: dict[tuple[bool, bool], _World] = {(False, False): base.world}
        arpus: dict[bool, np.ndarray] = {False: base.arpu}
        revenues: dict[frozenset[str], np.ndarray] = {}

        def world_for(levers: frozenset[str]) -> tuple[_World, np.ndarray]:
            """Customer world and ARPU when only the levers in ``levers`` carry the effect."""
            key = ("retention" in levers, "acquisition" in levers)
            if key not in worlds:
                partial = Effects(effects.churn if key[0] else None, None, effects.acquisition if key[1] else None)
                worlds[key] = self.scenario_world(base, partial)[0]
            arpu_on = "arpu" in levers
            if arpu_on not in arpus:
                arpus[arpu_on] = base.arpu * np.exp(effects.arpu)
            return worlds[key], arpus[arpu_on]

        def value(levers: frozenset[str]) -> np.ndarray:
            """v(S): PV of incremental margin (+ terminal value) with only the levers in S."""
            if not levers:
                return np.zeros_like(base_pv)
            world, arpu = world_for(levers)
            revenue = arpu * world.average_active
            if levers == full:
                revenues[levers] = revenue
            pv = (_present_value(revenue, discount) - base_pv) * margin[:, None]
            if tv_per_customer is not None:
                pv += (world.customers[-1] - base.world.customers[-1]) * tv_per_customer
            return pv

        enabled = scenario.levers.enabled()
        full = frozenset(enabled)
        values = {frozenset(s): value(frozenset(s))
                  for r in range(len(enabled) + 1) for s in itertools.combinations(enabled, r)}
        by_lever = _shapley(values, enabled)

        world, _ = world_for(full)
        revenue = revenues[full]
        spend = self.spend(scenario)
        cash_flow = revenue - base.revenue
        cash_flow *= margin[:, None]
        cash_flow -= spend.T[:, :, None]
        terminal = np.zeros((len(self.segments), self.n_draws))
        if tv_per_customer is not None:
            terminal = (world.customers[-1] - base.world.customers[-1]) * tv_per_customer
        return SimulationResult(
            scenario=scenario, model_id=self.artifact.model_id, provenance=self.provenance(),
            segments=self.segments, months=self.months(horizon), baseline=base.paths,
            scenario_paths=world.paths(revenue), spend=spend, gross_margin=margin,
            cash_flow=_public(cash_flow), terminal_value=_public(terminal),
            value_by_lever={lever: _public(v) for lever, v in by_lever.items()},
            monthly_rate=rate,
        )

    def provenance(self) -> Provenance:
        m = self.artifact.manifest
        return Provenance(
            model_id=self.artifact.model_id, family=str(m.get("family")),
            training_window=dict(m.get("training_window") or {}), data_fingerprint=m.get("data_fingerprint"),
            diagnostics=dict(m.get("diagnostics") or {}), model_cxroi_version=m.get("cxroi_version"),
            model_created_at=m.get("created_at"), seed=m.get("seed"), cxroi_version=__version__,
            simulated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )


def _present_value(monthly: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """Σ_m discount[m] · monthly[m] for months × segments × draws → segments × draws."""
    return (discount @ monthly.reshape(monthly.shape[0], -1)).reshape(monthly.shape[1:])


def _shapley(values: dict[frozenset[str], np.ndarray], enabled: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Shapley split of v(all enabled) over the enabled levers; switched-off levers get zero."""
    n = len(enabled)
    by_lever = {lever: np.zeros_like(values[frozenset()]) for lever in LEVERS}
    for lever in enabled:
        others = [x for x in enabled if x != lever]
        for r in range(n):
            weight = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
            for subset in itertools.combinations(others, r):
                s = frozenset(subset)
                by_lever[lever] += weight * (values[s | {lever}] - values[s])
    return by_lever


def _first_forecast_month(manifest: dict) -> pd.Timestamp:
    """The month after the training window's end (or the current month when unknown)."""
    end = (manifest.get("training_window") or {}).get("end")
    if end:
        return pd.Timestamp(str(end)[:7] + "-01") + pd.offsets.MonthBegin(1)
    return pd.Timestamp.now().normalize().replace(day=1)


_SIMULATORS: OrderedDict[tuple[str, str], Simulator] = OrderedDict()
_CACHE_SIZE = 4


def simulator_for(artifact: ModelArtifact) -> Simulator:
    """A :class:`Simulator` for the artifact, reused across calls (baselines stay cached)."""
    key = (artifact.model_id, str(artifact.manifest.get("files", {}).get("draws.npz", artifact.path)))
    simulator = _SIMULATORS.get(key)
    if simulator is None:
        simulator = Simulator(artifact)
        _SIMULATORS[key] = simulator
    _SIMULATORS.move_to_end(key)
    while len(_SIMULATORS) > _CACHE_SIZE:
        _SIMULATORS.popitem(last=False)
    return simulator


def simulate(scenario: Scenario, artifact: ModelArtifact) -> SimulationResult:
    """Simulate ``scenario`` on ``artifact`` (baseline cached per model and horizon)."""
    return simulator_for(artifact).run(scenario)
