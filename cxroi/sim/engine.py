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
* customers[m+1] = customers[m]·(1 − p[m]) + new[m]; churned = customers·p; revenue = ARPU ×
  (customers − churned/2 + new/2), the average active customers of the month.

Levers switched off keep that channel at the baseline. Values are expected values given each
draw, so the spread over draws is parameter uncertainty; ARPU is exp(expected log ARPU), the
median of its residual distribution (with Student-t residuals on the log scale the mean of ARPU
does not exist). The adstock
starts from zero in month 1: carry-over from past spend is already in the last observed CSAT/NPS.

Layout and speed: internally arrays are months × segments × draws (a month is one contiguous
block; per-draw parameters broadcast along the fast axis); results expose draws × segments ×
months views. Nothing loops over draws or segments in Python — only over investments, months
(the customer recursion, one vectorised step per month) and lever subsets. Only the segments a
scenario reaches are simulated; the others are the cached baseline. The CX effect multipliers
(exp of a few hundredths) are evaluated in float32, whose relative error (≈ 1e-7) is far below
the parameter uncertainty; customer paths and money stay float64.

Lever split (Shapley): with v(S) the present value of incremental gross margin (plus terminal
value) when only the levers in S carry the CX effect, each lever gets
φ_i = Σ_{S ∌ i} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)) over the n enabled levers. The shares add
up exactly to v(all enabled levers) and do not depend on an arbitrary order of the levers.

Terminal value (optional): the incremental customers left after the horizon are valued at the
baseline customer lifetime value m·r/(1+i−r) with m = last-month baseline ARPU × gross margin,
r = 1 − baseline churn and i the monthly discount rate, discounted from the horizon; their CX
advantage is assumed to end at the horizon (conservative).
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from cxroi import __version__
from cxroi.data.synth import adstock, saturation
from cxroi.params import PARAMETERS
from cxroi.registry import ModelArtifact
from cxroi.sim import finance
from cxroi.sim.result import Paths, Provenance, SimulationResult
from cxroi.sim.scenario import LEVERS, Investment, Levers, Scenario

POINTS_PER_UNIT = 10.0  # effects are per 10 survey points
EFFECT_DTYPE = np.float32


def _public(array: np.ndarray) -> np.ndarray:
    """Internal months × segments × draws (or segments × draws) → draws × segments × months
    (or draws × segments), as a view."""
    return array.T


@dataclass(frozen=True)
class Churn:
    """Monthly churn probability p with the terms the customer recursion reuses (months ×
    segments × draws, or segments × draws when constant over months)."""

    p: np.ndarray
    survival: np.ndarray  # 1 − p
    kept: np.ndarray  # 1 − p/2: average share of the month a starting customer stays active

    @classmethod
    def of(cls, p: np.ndarray) -> Churn:
        kept = p * -0.5
        kept += 1.0
        return cls(p, 1.0 - p, kept)

    def take(self, index: np.ndarray) -> Churn:
        return Churn(*(a[..., index, :] for a in (self.p, self.survival, self.kept)))


@dataclass(frozen=True)
class Acquisition:
    """Expected new customers per month (months × segments × draws) and half of them."""

    new: np.ndarray
    half: np.ndarray

    @classmethod
    def of(cls, new: np.ndarray) -> Acquisition:
        return cls(new, 0.5 * new)

    def take(self, index: np.ndarray) -> Acquisition:
        return Acquisition(self.new[:, index], self.half[:, index])


@dataclass(frozen=True)
class World:
    """Expected customer paths of one world, months × segments × draws (customers: months + 1)."""

    customers: np.ndarray
    churn: Churn
    acquisition: Acquisition
    average_active: np.ndarray  # customers − churned/2 + new/2

    def paths(self, revenue: np.ndarray) -> Paths:
        return Paths(
            customers=_public(self.customers[:-1]), churned=_public(self.customers[:-1] * self.churn.p),
            new_customers=_public(self.acquisition.new), revenue=_public(revenue),
            customers_end=_public(self.customers[-1]),
        )

    def take(self, index: np.ndarray) -> World:
        return World(self.customers[:, index], self.churn.take(index), self.acquisition.take(index),
                     self.average_active[:, index])


@dataclass(frozen=True)
class Baseline:
    """The no-investment world over one horizon, for some segments (segments × draws arrays)."""

    customers0: np.ndarray  # segments × 1
    odds_against: np.ndarray  # segments × draws, exp(−logit churn), float32
    arpu: np.ndarray  # months × segments × draws, currency per customer per month
    world: World
    revenue: np.ndarray  # months × segments × draws, currency per month

    def take(self, index: np.ndarray) -> Baseline:
        """The same baseline restricted to the segments at ``index``."""
        return Baseline(self.customers0[index], self.odds_against[index], self.arpu[:, index],
                        self.world.take(index), self.revenue[:, index])


@dataclass(frozen=True)
class Effects:
    """CX effects on the log scale, months × segments × draws (float32; None = lever off):
    added to logit churn, log ARPU and log expected new customers."""

    churn: np.ndarray | None
    arpu: np.ndarray | None
    acquisition: np.ndarray | None


def customer_world(customers0: np.ndarray, churn: Churn, acquisition: Acquisition) -> World:
    """Customers from c[m+1] = c[m] (1 − p[m]) + n[m], one vectorised step per month;
    ``customers0``: segments × 1."""
    horizon = acquisition.new.shape[0]
    survival, new = churn.survival, acquisition.new
    customers = np.empty((horizon + 1, *new.shape[1:]))
    customers[0] = customers0
    for m in range(horizon):
        np.multiply(customers[m], survival[m] if survival.ndim == 3 else survival, out=customers[m + 1])
        customers[m + 1] += new[m]
    average = customers[:-1] * churn.kept
    average += acquisition.half
    return World(customers, churn, acquisition, average)


def effects_from_lifts(csat: np.ndarray, nps: np.ndarray, coefficients: dict[str, np.ndarray],
                       levers: Levers) -> Effects:
    """Turn CSAT/NPS lifts (points, months × segments × draws) into log-scale effects with the
    per-point ``coefficients`` (churn_csat, churn_nps, arpu_csat, acq_nps; segments × draws)."""
    churn = None
    if levers.retention:
        churn = csat * coefficients["churn_csat"]
        churn += nps * coefficients["churn_nps"]
    arpu = csat * coefficients["arpu_csat"] if levers.arpu else None
    acquisition = nps * coefficients["acq_nps"] if levers.acquisition else None
    return Effects(churn, arpu, acquisition)


@dataclass(frozen=True)
class Channels:
    """Churn, acquisition and ARPU under a scenario's effects (the baseline's where a lever is off)."""

    churn: Churn
    acquisition: Acquisition
    arpu: np.ndarray


def channels(base: Baseline, effects: Effects) -> Channels:
    """Apply ``effects`` to the baseline, as increments so float32 effects stay precise relative
    to the change: x1 = x0 + x0·expm1(e) for ARPU and new customers, and for churn
    p1 = p0 + p0·E0·u / (1 + E0·(1 − u)) with E0 = exp(−logit p0), u = −expm1(−e) — the
    logistic of (logit p0 + e), equal to p0 exactly where e = 0.

    Operations keep the full months × segments × draws array as the first operand and convert
    float32 to float64 once: numpy is several times slower when a broadcast or mixed-precision
    operand leads."""
    churn = base.world.churn
    if effects.churn is not None:
        u = np.expm1(-effects.churn)
        np.negative(u, out=u)
        scaled = u * base.odds_against  # E0·u
        denominator = np.negative(scaled)
        denominator += 1.0 + base.odds_against  # 1 + E0·(1 − u)
        scaled /= denominator
        increment = scaled.astype(np.float64)
        increment *= churn.p
        increment += churn.p
        churn = Churn.of(increment)
    acquisition = base.world.acquisition
    if effects.acquisition is not None:
        acquisition = Acquisition.of(_grown(acquisition.new, effects.acquisition))
    arpu = base.arpu if effects.arpu is None else _grown(base.arpu, effects.arpu)
    return Channels(churn, acquisition, arpu)


def _grown(baseline: np.ndarray, log_effect: np.ndarray) -> np.ndarray:
    """baseline · exp(log_effect), computed as baseline + baseline · expm1(log_effect)."""
    grown = np.expm1(log_effect).astype(np.float64)
    grown *= baseline
    grown += baseline
    return grown


def world_with(base: Baseline, scenario: Channels, levers: frozenset[str],
               cache: dict[tuple[bool, bool], World] | None = None) -> World:
    """Customer world when only ``levers`` carry the scenario's effect; memoised in ``cache``
    by (retention on, acquisition on)."""
    key = ("retention" in levers, "acquisition" in levers)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = base.world if key == (False, False) else customer_world(
            base.customers0, scenario.churn if key[0] else base.world.churn,
            scenario.acquisition if key[1] else base.world.acquisition)
    return cache[key]


def discounted_revenue(arpu: np.ndarray, average_active: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """Present value of revenue = ARPU × average active customers, segments × draws (currency)."""
    return np.einsum("msd,msd,m->sd", arpu, average_active, discount, optimize=False)


def terminal_per_customer(base: Baseline, margin: np.ndarray, rate: float) -> np.ndarray:
    """Present value now of one extra customer left at the horizon (currency), segments × draws:
    baseline CLV m·r/(1+i−r) discounted over the horizon."""
    horizon = base.arpu.shape[0]
    clv = base.arpu[-1] * margin[:, None] * finance.clv_multiple(base.world.churn.survival, rate)
    return clv * (1.0 + rate) ** -horizon


def shapley(values: dict[frozenset[str], np.ndarray], enabled: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Shapley split of v(all enabled) − v(∅) over the enabled levers; the others get zero."""
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


class Simulator:
    """Simulates scenarios on one model artifact; the baseline is computed once per horizon.

    It reads only the artifact's draws and manifest, so it does not matter which model family
    wrote it. ``draw_index`` optionally selects (or repeats) draws, e.g. a subsample for search.
    """

    def __init__(self, artifact: ModelArtifact, draw_index: np.ndarray | None = None) -> None:
        self.artifact = artifact
        manifest = artifact.manifest
        self.segments = tuple(artifact.segments)
        self.initiatives = tuple(artifact.initiatives)
        self.lag = int(manifest.get("lag_months", 1))
        self.seed = int(manifest.get("seed") or 0)
        self.draw_index = None if draw_index is None else np.asarray(draw_index, dtype=int)
        self.params: dict[str, np.ndarray] = {}
        for name, (axis, _) in PARAMETERS.items():  # segment parameters as segments × draws
            values = np.asarray(artifact.draws[name], dtype=float)
            values = values if self.draw_index is None else values[self.draw_index]
            self.params[name] = np.ascontiguousarray(values.T if axis == "segment" else values)
        column = [artifact.state[s] for s in self.segments]
        self.customers0 = np.array([[c["customers"]] for c in column], dtype=float)  # segments × 1
        self.zc0 = np.array([[(c["csat"] - c["ref_csat"]) / POINTS_PER_UNIT] for c in column])
        self.zn0 = np.array([[(c["nps"] - c["ref_nps"]) / POINTS_PER_UNIT] for c in column])
        self.t_next = np.array([[c["t_next"]] for c in column], dtype=float)
        self.settings = manifest.get("initiative_settings", {})
        self.first_month = _first_forecast_month(manifest)
        self.coefficients = {name: (self.params[name] / POINTS_PER_UNIT).astype(EFFECT_DTYPE)
                             for name in ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")}
        self._baselines: dict[int, Baseline] = {}
        self._baseline_paths: dict[int, Paths] = {}
        self._adstocks: dict[tuple[str, int, int, int], np.ndarray] = {}
        self._baseline_values: dict[tuple[int, float], np.ndarray] = {}

    @property
    def n_draws(self) -> int:
        return int(self.params["churn_intercept"].shape[1])

    def segment_index(self, names) -> np.ndarray:
        return np.array([self.segments.index(s) for s in names], dtype=int)

    def baseline(self, horizon: int) -> Baseline:
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
        world = customer_world(self.customers0, Churn.of(churn), Acquisition.of(new))
        odds_against = np.minimum(np.exp(-logit), 1e30).astype(EFFECT_DTYPE)  # float32-safe; p ≥ 1e-30
        baseline = Baseline(self.customers0, odds_against, arpu, world,
                            arpu * world.average_active)
        _read_only(churn, arpu, new, baseline.odds_against, baseline.revenue, world.customers,
                   world.average_active, *vars(world.churn).values(), *vars(world.acquisition).values())
        self._baselines[horizon] = baseline
        return baseline

    def months(self, horizon: int) -> pd.DatetimeIndex:
        """Start dates of the forecast months."""
        return pd.date_range(self.first_month, periods=horizon, freq="MS")

    # ------------------------------------------------------------------ CX lifts
    def unit_adstock(self, initiative: str, start_month: int, duration_months: int, horizon: int) -> np.ndarray:
        """Adstock A of relative spend 1 (the catalogue monthly cost) from ``start_month`` for
        ``duration_months``, with each draw's carry-over, as felt by customers after the model
        lag: months × draws (cached). Adstock is linear, so spend x gives x · A."""
        key = (initiative, start_month, duration_months, horizon)
        if key not in self._adstocks:
            relative = np.zeros(horizon)
            relative[start_month - 1: start_month - 1 + duration_months] = 1.0
            level = adstock(np.broadcast_to(relative, (self.n_draws, horizon)),
                            self.params["lift_carryover"][:, self.initiatives.index(initiative)])
            lagged = np.zeros((horizon, self.n_draws))
            if self.lag < horizon:
                lagged[self.lag:] = level[:, : horizon - self.lag].T
            self._adstocks[key] = lagged
        return self._adstocks[key]

    def saturation_k(self, initiative: str) -> float:
        return float(self.settings[initiative].get("saturation_k", 1.0))

    def lift_draws(self, investment: Investment, index: int, kind: str) -> np.ndarray:
        """Lift at full effect per draw (survey points): the model's draws or the override,
        drawn reproducibly from the model seed and the investment's position."""
        override = getattr(investment.lift, kind) if investment.lift else None
        if override is None:
            return self.params[f"lift_{kind}"][:, self.initiatives.index(investment.initiative)]
        rng = np.random.default_rng([self.seed, index, 0 if kind == "csat" else 1])
        draws = rng.standard_normal(self.artifact.n_draws)
        return override.mean + override.sd * (draws if self.draw_index is None else draws[self.draw_index])

    def scenario_lifts(self, scenario: Scenario, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CSAT and NPS lift (points, float32) felt in the segments at ``index``, months ×
        segments × draws: Σ_j lift_j · sat(x_j · A_j) over the investments j reaching the
        segment. Segments reached by the same investments share one sum (no BLAS call, whose
        threads stall when the machine is oversubscribed)."""
        horizon, n_inv = scenario.horizon_months, len(scenario.investments)
        csat_curves = np.empty((horizon, n_inv, self.n_draws), dtype=EFFECT_DTYPE)
        nps_curves = np.empty_like(csat_curves)
        for j, inv in enumerate(scenario.investments):
            relative = inv.monthly_spend / float(self.settings[inv.initiative]["monthly_cost"])
            level = relative * self.unit_adstock(inv.initiative, inv.start_month, inv.duration_months, horizon)
            shape = saturation(level, self.saturation_k(inv.initiative))
            csat_curves[:, j] = shape * self.lift_draws(inv, j, "csat")
            nps_curves[:, j] = shape * self.lift_draws(inv, j, "nps")
        groups: dict[tuple[int, ...], list[int]] = {}
        for position, s in enumerate(index):
            members = tuple(j for j, inv in enumerate(scenario.investments) if self.segments[s] in inv.segments)
            groups.setdefault(members, []).append(position)
        csat = np.empty((horizon, len(index), self.n_draws), dtype=EFFECT_DTYPE)
        nps = np.empty_like(csat)
        for members, positions in groups.items():
            csat[:, positions] = csat_curves[:, list(members)].sum(axis=1)[:, None, :]
            nps[:, positions] = nps_curves[:, list(members)].sum(axis=1)[:, None, :]
        return csat, nps

    def coefficients_at(self, index: np.ndarray) -> dict[str, np.ndarray]:
        return {name: c[index] for name, c in self.coefficients.items()}

    # ------------------------------------------------------------------ money
    def spend(self, scenario: Scenario) -> np.ndarray:
        """Spend per segment and month (currency): monthly spend in each reached segment while
        funded (within the horizon), the one-off cost split evenly over its segments in the
        start month."""
        spend = np.zeros((len(self.segments), scenario.horizon_months))
        for inv in scenario.investments:
            cols = self.segment_index(inv.segments)
            spend[cols, inv.start_month - 1: inv.end_month] += inv.monthly_spend
            spend[cols, inv.start_month - 1] += inv.one_off_cost / len(cols)
        return spend

    def gross_margin(self, scenario: Scenario) -> np.ndarray:
        return np.array([scenario.gross_margin.for_segment(s) for s in self.segments])

    # ------------------------------------------------------------------ run
    def run(self, scenario: Scenario) -> SimulationResult:
        """Simulate one scenario (validated against the model first)."""
        scenario.validate_for(self.artifact)
        horizon, n_segments = scenario.horizon_months, len(self.segments)
        rate = finance.monthly_rate(scenario.annual_discount_rate)
        discount = finance.discount_factors(rate, horizon)
        full_base = self.baseline(horizon)
        index = np.sort(self.segment_index(scenario.segments))
        reached_all = len(index) == n_segments
        base = full_base if reached_all else full_base.take(index)
        margin = self.gross_margin(scenario)[index]
        terminal = terminal_per_customer(base, margin, rate) if scenario.terminal_value else None
        csat, nps = self.scenario_lifts(scenario, index)
        effects = effects_from_lifts(csat, nps, self.coefficients_at(index), scenario.levers)

        scenario_channels = channels(base, effects)
        del csat, nps, effects  # free memory before the worlds are built
        enabled = scenario.levers.enabled()
        full = frozenset(enabled)
        base_value = self.baseline_value(horizon, scenario.annual_discount_rate)[index]
        worlds: dict[tuple[bool, bool], World] = {}
        values = {frozenset(): np.zeros((len(index), self.n_draws))}
        for size in range(1, len(enabled) + 1):
            for subset in map(frozenset, itertools.combinations(enabled, size)):
                world = world_with(base, scenario_channels, subset, worlds)
                arpu = scenario_channels.arpu if "arpu" in subset else base.arpu
                value = discounted_revenue(arpu, world.average_active, discount) - base_value
                value *= margin[:, None]
                if terminal is not None:
                    value += (world.customers[-1] - base.world.customers[-1]) * terminal
                values[subset] = value
        world = world_with(base, scenario_channels, full, worlds)
        worlds.clear()  # the partial worlds are no longer needed
        revenue = scenario_channels.arpu * world.average_active
        by_lever = shapley(values, enabled)

        cash_flow = revenue - base.revenue
        cash_flow *= margin[:, None]
        spend = self.spend(scenario)
        cash_flow -= spend[index].T[:, :, None]
        paths = world.paths(revenue)
        tv = np.zeros((len(index), self.n_draws)) if terminal is None else (
            (world.customers[-1] - base.world.customers[-1]) * terminal)
        if not reached_all:
            paths = _embed_paths(self.baseline_paths(horizon), paths, index)
            cash_flow = _embed(np.zeros((horizon, n_segments, self.n_draws)), cash_flow, index, axis=1)
            tv = _embed(np.zeros((n_segments, self.n_draws)), tv, index, axis=0)
            by_lever = {k: _embed(np.zeros((n_segments, self.n_draws)), v, index, axis=0) for k, v in by_lever.items()}
        return SimulationResult(
            scenario=scenario, model_id=self.artifact.model_id, provenance=self.provenance(),
            segments=self.segments, months=self.months(horizon), baseline=self.baseline_paths(horizon),
            scenario_paths=paths, spend=spend, gross_margin=self.gross_margin(scenario),
            cash_flow=_public(cash_flow), terminal_value=_public(tv),
            value_by_lever={lever: _public(v) for lever, v in by_lever.items()}, monthly_rate=rate,
        )

    def baseline_value(self, horizon: int, annual_discount_rate: float) -> np.ndarray:
        """Present value of baseline revenue, segments × draws (currency), cached."""
        key = (horizon, annual_discount_rate)
        if key not in self._baseline_values:
            base = self.baseline(horizon)
            discount = finance.discount_factors(finance.monthly_rate(annual_discount_rate), horizon)
            self._baseline_values[key] = discounted_revenue(base.arpu, base.world.average_active, discount)
        return self._baseline_values[key]

    def baseline_paths(self, horizon: int) -> Paths:
        """Baseline paths in the public layout (draws × segments × months), cached."""
        if horizon not in self._baseline_paths:
            base = self.baseline(horizon)
            paths = base.world.paths(base.revenue)
            _read_only(*vars(paths).values())
            self._baseline_paths[horizon] = paths
        return self._baseline_paths[horizon]

    def provenance(self) -> Provenance:
        m = self.artifact.manifest
        return Provenance(
            model_id=self.artifact.model_id, family=str(m.get("family")),
            training_window=dict(m.get("training_window") or {}), data_fingerprint=m.get("data_fingerprint"),
            diagnostics=dict(m.get("diagnostics") or {}), model_cxroi_version=m.get("cxroi_version"),
            model_created_at=m.get("created_at"), seed=m.get("seed"), cxroi_version=__version__,
            simulated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )


def _read_only(*arrays: np.ndarray) -> None:
    """Mark cached arrays read-only: every result shares them, so none may change them."""
    for array in arrays:
        array.flags.writeable = False


def _embed(target: np.ndarray, values: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
    """Write ``values`` into ``target`` at ``index`` along ``axis`` (the segment axis)."""
    slicer = [slice(None)] * target.ndim
    slicer[axis] = index
    target[tuple(slicer)] = values
    return target


def _embed_paths(full: Paths, reached: Paths, index: np.ndarray) -> Paths:
    """Baseline paths with the reached segments replaced by the scenario's. Works on the
    contiguous internal layout (the public arrays are its transposed views), so the copies are
    plain memory copies."""
    fields = {}
    for name in ("customers", "churned", "new_customers", "revenue", "customers_end"):
        internal = getattr(full, name).T.copy()  # months × segments × draws (or segments × draws)
        internal[..., index, :] = getattr(reached, name).T
        fields[name] = internal.T
    return replace(full, **fields)


def _first_forecast_month(manifest: dict) -> pd.Timestamp:
    """The month after the training window's end (or the current month when unknown)."""
    end = (manifest.get("training_window") or {}).get("end")
    if end:
        return pd.Timestamp(str(end)[:7] + "-01") + pd.offsets.MonthBegin(1)
    return pd.Timestamp.now().normalize().replace(day=1)


_SIMULATORS: OrderedDict[tuple[str, str], Simulator] = OrderedDict()
_CACHE_SIZE = 4


def simulator_for(artifact: ModelArtifact) -> Simulator:
    """A :class:`Simulator` for the artifact, reused across calls so baselines stay cached."""
    key = (artifact.model_id, str(artifact.manifest.get("files", {}).get("draws.npz", artifact.path)))
    simulator = _SIMULATORS.get(key)
    if simulator is None:
        simulator = _SIMULATORS[key] = Simulator(artifact)
    _SIMULATORS.move_to_end(key)
    while len(_SIMULATORS) > _CACHE_SIZE:
        _SIMULATORS.popitem(last=False)
    return simulator


def simulate(scenario: Scenario, artifact: ModelArtifact) -> SimulationResult:
    """Simulate ``scenario`` on ``artifact`` (baseline cached per model and horizon)."""
    return simulator_for(artifact).run(scenario)
