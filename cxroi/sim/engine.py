"""Simulate a scenario on a model artifact's parameter draws: baseline versus scenario.

For every draw d, segment s and forecast month m (0-based, model month t = state t_next + m):

* baseline CSAT/NPS stay at the segment's last observed level (zc0, zn0 per 10 points from the
  reference), so the baseline churn probability p0 is constant over months;
* the scenario adds, for each investment j reaching s, ``lift_csat_j · sat(A_js)`` CSAT points and
  ``lift_nps_j · sat(A_js)`` NPS points, where A_js is the adstock of its spend level in s (spend
  in s / the initiative's nominal monthly cost in s) — it ramps up while funded and decays after —
  and the effect acts ``lag_months`` later;
* logit p = churn_intercept + churn_csat·zc + churn_nps·zn (a gain/loss fit: churn_csat·max(zc, 0)
  + churn_csat_loss·min(zc, 0), the same for NPS, so a lift from below the reference is valued
  at the slope below it until the score passes the reference); ARPU = exp(arpu_intercept +
  arpu_trend·t + arpu_csat·zc); expected new = exp(acq_intercept + acq_trend·t + acq_nps·zn);
* customers[m+1] = customers[m]·(1 − p[m]) + new[m]; churned = customers·p; revenue = ARPU ×
  (customers[m] + customers[m+1]) / 2, the average active customers of the month
  (= customers − churned/2 + new/2).

Levers switched off keep that channel at the baseline. Values are expected values given each
draw, so the spread over draws is parameter uncertainty; ARPU is exp(expected log ARPU), the
median of its residual distribution (with Student-t residuals on the log scale the mean of ARPU
does not exist). The adstock starts from zero in month 1: carry-over from past spend is already
in the last observed CSAT/NPS.

Spend: an investment's spend in segment s each funded month is its spend level × the nominal
cost of s, ``fixed_monthly_cost / segments reached + cost_per_customer × customers`` with the
customers of s at the start of the forecast (the model's starting state, constant over the
horizon), or its explicit monthly spend; its one-off cost is split evenly over its segments in its
start month (currency; :meth:`Simulator.spend`).

How it is computed: the baseline (float64) is cached per model and horizon; a scenario is its
increment over that baseline, computed month by month by :mod:`cxroi.sim.kernel` for the
segments it reaches only. A run computes what every view needs — per-draw NPV by segment, the
monthly cash flow of all segments per draw, incremental revenue, terminal value; the monthly
paths per segment and the split by lever are computed the first time they are asked for.

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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from cxroi import __version__
from cxroi.errors import ScenarioError
from cxroi.manifest import DRAWS, Manifest
from cxroi.params import artifact_parameters
from cxroi.registry import ModelArtifact
from cxroi.science import (
    POINTS_PER_UNIT,
    adstock,
    clv_multiple,
    logistic,
    per_ten_points,
    saturation,
    score_effect,
)
from cxroi.sim import finance
from cxroi.sim.assumptions import used
from cxroi.sim.compiled import Kernel
from cxroi.sim.kernel import (
    FLOAT,
    BaselinePack,
    Coefficients,
    Increments,
    Lifts,
    MonthlyBaseline,
    chosen_kernel,
    increments,
)
from cxroi.sim.plan import PlanSpec
from cxroi.sim.plausibility import Reviewer
from cxroi.sim.result import Detail, Paths, Provenance, SimulationResult
from cxroi.sim.scenario import LEVERS, Investment, Scenario

_SEGMENT_SETS_KEPT = 4  # float32 baselines, coefficients and summed lift curves of the last few, per simulator
#: CSAT and NPS lift curves of investments kept per simulator (2 × months × draws float32 each:
#: 1.9 MB at 4 000 draws × 60 months)
_LIFT_CURVES_KEPT = 16
#: simulators of plans side by side (plan_values) kept per simulator, at most this many draws × segments
#: in all (about 50 bytes each per month of horizon: ≈ 95 MB at 36 months)
_STACKS_KEPT_SIZE = 50_000


def _public(array: np.ndarray) -> np.ndarray:
    """Internal months × segments × draws (or segments × draws) → draws × segments × months
    (or draws × segments), as a view."""
    return array.T


@dataclass(frozen=True)
class Baseline:
    """The no-investment world over one horizon, float64, months × segments × draws."""

    customers: np.ndarray  #: start of each month, and after the last (months + 1)
    churn: np.ndarray  #: monthly churn probability, segments × draws (constant over months)
    new: np.ndarray  #: expected new customers per month
    arpu: np.ndarray  #: currency per customer per month
    revenue: np.ndarray  #: currency per month

    def paths(self) -> Paths:
        return Paths(customers=_public(self.customers[:-1]), churned=_public(self.customers[:-1] * self.churn),
                     new_customers=_public(self.new), revenue=_public(self.revenue),
                     customers_end=_public(self.customers[-1]))


def _by_segment(reached: np.ndarray, index: np.ndarray, n_segments: int) -> np.ndarray:
    """Values of the simulated segments at ``index`` (segments × draws) placed among all
    segments (zero elsewhere), in the public draws × segments layout."""
    if len(index) == n_segments:  # every segment (index is sorted and unique): a plain float64 copy
        return _public(np.array(reached, dtype=float))
    full = np.zeros((n_segments, reached.shape[-1]))
    full[index] = reached
    return _public(full)


def terminal_reached(change: Increments, per_customer: np.ndarray | None) -> np.ndarray | None:
    """Terminal value of the increment (currency, present value), segments × draws: extra
    customers at the horizon × value per customer (``per_customer``, already discounted);
    None when there is no terminal value."""
    return None if per_customer is None else change.customers_end * per_customer


def scenario_value(change: Increments, margin: np.ndarray, terminal: np.ndarray | None) -> np.ndarray:
    """Present value of the incremental gross margin plus terminal value (currency), segments ×
    draws: margin × PV(Δrevenue) + ``terminal`` (:func:`terminal_reached`; None = none)."""
    value = change.revenue_pv * margin[:, None]
    if terminal is not None:
        value += terminal
    return value


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


@dataclass(frozen=True)
class _Run:
    """What the detail of one run needs to be computed later: the simulated segments and their
    inputs, the value of all enabled levers (segments × draws) and the full-segment context."""

    simulator: Simulator
    scenario: Scenario
    index: np.ndarray
    lifts: Lifts
    value: np.ndarray
    discount: np.ndarray
    margin: np.ndarray  #: all segments
    spend: np.ndarray  #: segments × months
    per_customer: np.ndarray | None
    kernel: Kernel  #: the kernel of the run's values, so its detail and lever split agree with them

    def _increments(self, levers: frozenset[str], keep: bool = False) -> Increments:
        sim, horizon, i = self.simulator, self.scenario.horizon_months, self.index
        return self.kernel(sim.pack(horizon, i), self.lifts, sim.coefficients(i), levers, self.discount,
                           self.margin[i], keep)

    def detail(self) -> Detail:
        """Monthly scenario paths, incremental revenue and cash flow of every segment (float64,
        draws × segments × months)."""
        change = self._increments(frozenset(self.scenario.levers.enabled()), keep=True)
        base = self.simulator.baseline(self.scenario.horizon_months)
        # the simulated segments; a slice when they are all of them (no gather/scatter copies)
        i = slice(None) if len(self.index) == len(self.simulator.segments) else self.index
        customers = base.customers.copy()
        customers[:, i] += change.customers
        churned = customers[:-1] * base.churn
        if change.survival_gain is not None:
            churned[:, i] -= customers[:-1, i] * change.survival_gain
        new = base.new.copy()
        if change.new is not None:
            new[:, i] += change.new
        incremental = np.zeros(base.revenue.shape)
        incremental[:, i] = change.revenue
        cash_flow = incremental * self.margin[:, None]
        cash_flow -= self.spend.T[:, :, None]
        paths = Paths(customers=_public(customers[:-1]), churned=_public(churned), new_customers=_public(new),
                      revenue=_public(base.revenue + incremental), customers_end=_public(customers[-1]))
        return Detail(paths, _public(incremental), _public(cash_flow))

    def value_by_lever(self) -> dict[str, np.ndarray]:
        """Shapley value of each lever, draws × segments (currency, present value)."""
        enabled = self.scenario.levers.enabled()
        values = {frozenset(): np.zeros_like(self.value), frozenset(enabled): self.value}
        for size in range(1, len(enabled)):
            for subset in map(frozenset, itertools.combinations(enabled, size)):
                change = self._increments(subset)
                values[subset] = scenario_value(change, self.margin[self.index],
                                                terminal_reached(change, self.per_customer))
        n_segments = len(self.simulator.segments)
        return {lever: _by_segment(value, self.index, n_segments) for lever, value in shapley(values, enabled).items()}


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
        self.lag = manifest.lag_months
        self.seed = manifest.seed or 0
        self.draw_index = None if draw_index is None else np.asarray(draw_index, dtype=int)
        self.params: dict[str, np.ndarray] = {}
        parameters = artifact_parameters(manifest.asymmetry is not None)
        for name, (axis, _) in parameters.items():  # segment parameters as segments × draws
            values = np.asarray(artifact.draws[name], dtype=float)
            values = values if self.draw_index is None else values[self.draw_index]
            self.params[name] = np.ascontiguousarray(values.T if axis == "segment" else values)
        column = [artifact.state[s] for s in self.segments]
        self.customers0 = np.array([[c.customers] for c in column], dtype=float)  # segments × 1
        self.zc0 = np.array([[per_ten_points(c.csat, c.ref_csat)] for c in column])
        self.zn0 = np.array([[per_ten_points(c.nps, c.ref_nps)] for c in column])
        self.t_next = np.array([[c.t_next] for c in column], dtype=float)
        self.settings = manifest.initiative_settings
        self.first_month = _first_forecast_month(manifest)
        self._baselines: dict[int, Baseline] = {}
        self._baseline_paths: dict[int, Paths] = {}
        self._packs: OrderedDict[tuple[int, bytes], BaselinePack] = OrderedDict()
        self._coefficients: OrderedDict[bytes, Coefficients] = OrderedDict()
        self._adstocks: dict[tuple[str, int, int, int], np.ndarray] = {}
        self._nominal: dict[str, np.ndarray] = {}
        self._indices: dict[tuple[str, ...], np.ndarray] = {}
        self._levels: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lift_curves: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lifts: OrderedDict[tuple, Lifts] = OrderedDict()
        self._terminal: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._months: dict[int, pd.DatetimeIndex] = {}
        self._stacks: OrderedDict[tuple[bytes, int], Simulator] = OrderedDict()
        self._validated: OrderedDict[str, bool] = OrderedDict()

    @property
    def n_draws(self) -> int:
        return int(self.params["churn_intercept"].shape[1])

    def segment_index(self, names) -> np.ndarray:
        """Positions of the segments ``names`` among the model's (read-only; cached per list of names)."""
        names = tuple(names)
        index = self._indices.get(names)
        if index is None:
            index = self._indices[names] = np.array([self.segments.index(s) for s in names], dtype=int)
            _read_only(index)
        return index

    # ------------------------------------------------------------------ baseline
    def baseline(self, horizon: int) -> Baseline:
        """The no-investment world over ``horizon`` months (cached)."""
        cached = self._baselines.get(horizon)
        if cached is not None:
            return cached
        churn, arpu, new = self._rates(np.arange(horizon))
        customers = np.empty((horizon + 1, *churn.shape))
        customers[0] = self.customers0
        survival = 1.0 - churn
        for m in range(horizon):  # one vectorised step per month
            np.multiply(customers[m], survival, out=customers[m + 1])
            customers[m + 1] += new[m]
        revenue = arpu * (customers[:-1] + customers[1:])
        revenue *= 0.5
        baseline = Baseline(customers, churn, new, arpu, revenue)
        _read_only(*vars(baseline).values())
        self._baselines[horizon] = baseline
        return baseline

    def _rates(self, months: np.ndarray, index: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, ...]:
        """Baseline churn probability (segments × draws) and ARPU and expected new customers
        (len(months) × segments × draws) of the segments at ``index`` in the forecast ``months``
        (0-based). The same arithmetic for any selection, so a segment's numbers do not depend
        on which others are computed with it."""
        p, i = self.params, index
        t = self.t_next[i] + months[:, None, None]  # months × segments × 1
        churn = logistic(p["churn_intercept"][i]
                         + score_effect(self.zc0[i], p["churn_csat"][i], self._loss_slope("churn_csat", i))
                         + score_effect(self.zn0[i], p["churn_nps"][i], self._loss_slope("churn_nps", i)))
        arpu = np.exp(p["arpu_intercept"][i] + p["arpu_trend"][i] * t + p["arpu_csat"][i] * self.zc0[i])
        new = np.exp(p["acq_intercept"][i] + p["acq_trend"][i] * t + p["acq_nps"][i] * self.zn0[i])
        return churn, arpu, new

    def _loss_slope(self, effect: str, index: np.ndarray | slice) -> np.ndarray | None:
        """The draws of ``effect``'s slope below the reference (segments × draws) for a gain/loss
        model, None for a symmetric one."""
        loss = self.params.get(f"{effect}_loss")
        return None if loss is None else loss[index]

    def baseline_paths(self, horizon: int) -> Paths:
        """Baseline paths in the public layout (draws × segments × months), cached."""
        if horizon not in self._baseline_paths:
            paths = self.baseline(horizon).paths()
            _read_only(*vars(paths).values())
            self._baseline_paths[horizon] = paths
        return self._baseline_paths[horizon]

    def pack(self, horizon: int, index: np.ndarray) -> BaselinePack:
        """The baseline of the segments at ``index`` in the kernels' form (cached for the last few
        segment sets): what it grows from, and its months for the numpy kernel on first use."""
        def monthly() -> MonthlyBaseline:
            base = self.baseline(horizon)
            return MonthlyBaseline.of(base.customers[:, index], base.new[:, index], base.arpu[:, index])

        def make() -> BaselinePack:
            churn, arpu, new = self._rates(np.zeros(1), index)
            growth = np.exp(self.params["acq_trend"][index]), np.exp(self.params["arpu_trend"][index])
            return BaselinePack.of(horizon, self.customers0[index], churn, new[0], growth[0], arpu[0], growth[1],
                                   monthly)

        return _recent(self._packs, (horizon, np.asarray(index, dtype=np.int64).tobytes()), make)

    def coefficients(self, index: np.ndarray) -> Coefficients:
        """Per-point CX effects of the segments at ``index`` (cached for the last few segment sets)."""
        return _recent(self._coefficients, np.asarray(index, dtype=np.int64).tobytes(),
                       lambda: Coefficients.of(self.params, index, csat_position=self.zc0[index] * POINTS_PER_UNIT,
                                               nps_position=self.zn0[index] * POINTS_PER_UNIT))

    def months(self, horizon: int) -> pd.DatetimeIndex:
        """Start dates of the forecast months (cached)."""
        if horizon not in self._months:
            self._months[horizon] = pd.date_range(self.first_month, periods=horizon, freq="MS")
        return self._months[horizon]

    # ------------------------------------------------------------------ CX lifts
    def unit_adstock(self, initiative: str, start_month: int, duration_months: int, horizon: int) -> np.ndarray:
        """Adstock A of relative spend 1 (the catalogue monthly cost) from ``start_month`` for
        ``duration_months``, with each draw's carry-over, as felt by customers after the model
        lag: months × draws, float32 (cached). Adstock is linear, so spend x gives x · A."""
        key = (initiative, start_month, duration_months, horizon)
        if key not in self._adstocks:
            relative = np.zeros(horizon)
            relative[start_month - 1: start_month - 1 + duration_months] = 1.0
            level = adstock(np.broadcast_to(relative, (self.n_draws, horizon)),
                            self.params["lift_carryover"][:, self.initiatives.index(initiative)])
            lagged = np.zeros((horizon, self.n_draws), dtype=FLOAT)
            if self.lag < horizon:
                lagged[self.lag:] = level[:, : horizon - self.lag].T
            self._adstocks[key] = lagged
        return self._adstocks[key]

    def saturation_k(self, initiative: str) -> float:
        return self.settings[initiative].saturation_k

    def nominal_costs(self, initiative: str) -> np.ndarray:
        """Nominal monthly cost (currency/month) of ``initiative`` in every model segment, at spend
        level 1: fixed share + cost per customer × starting customers (cached)."""
        if initiative not in self._nominal:
            setting = self.settings[initiative]
            self._nominal[initiative] = np.array([setting.nominal_cost(c) for c in self.customers0[:, 0]])
            _read_only(self._nominal[initiative])
        return self._nominal[initiative]

    def spend_levels(self, investment: Investment) -> np.ndarray:
        """The investment's spend level (multiple of the nominal cost) in each segment it reaches
        (read-only; cached for the most recently used investments)."""
        def make() -> np.ndarray:
            nominal = self.nominal_costs(investment.initiative)[self.segment_index(investment.segments)]
            if investment.spend_level is not None:
                levels = np.full(nominal.shape, investment.spend_level)
            else:
                levels = np.divide(investment.monthly_spend, nominal, out=np.zeros_like(nominal), where=nominal > 0)
            _read_only(levels)
            return levels

        inv = investment
        key = (inv.initiative, inv.segments, inv.spend_level, inv.monthly_spend)
        return _recent(self._levels, key, make, keep=_LIFT_CURVES_KEPT)

    def response(self, initiative: str, level: float | np.ndarray, start_month: int, duration_months: int,
                 horizon: int) -> np.ndarray:
        """Share of the initiative's full lift felt each month, sat(x · A), at spend level x (a
        multiple of the nominal monthly cost) from ``start_month`` for ``duration_months``: for one
        level, months × draws; for levels per segment and draw (segments × draws),
        months × segments × draws. float32."""
        relative = np.asarray(level).astype(FLOAT)
        unit = self.unit_adstock(initiative, start_month, duration_months, horizon)
        level = relative * (unit if relative.ndim == 0 else unit[:, None, :])
        return saturation(level, FLOAT(self.saturation_k(initiative)))

    def lift_draws(self, investment: Investment, index: int, kind: str) -> np.ndarray:
        """Lift at full effect per draw (survey points): the model's draws or the override,
        drawn reproducibly from the model seed and the investment's position."""
        override = getattr(investment.lift, kind) if investment.lift else None
        if override is None:
            return self.params[f"lift_{kind}"][:, self.initiatives.index(investment.initiative)]
        rng = np.random.default_rng([self.seed, index, 0 if kind == "csat" else 1])
        draws = rng.standard_normal(self.artifact.n_draws)
        return override.mean + override.sd * (draws if self.draw_index is None else draws[self.draw_index])

    @staticmethod
    def _curve_key(investment: Investment, level: float, position: int, horizon: int) -> tuple:
        """What an investment's lift curves at spend ``level`` depend on; the position only for
        an override, whose draws are seeded by it."""
        inv = investment
        return (inv.initiative, float(level), inv.start_month, inv.duration_months, horizon, inv.lift,
                position if inv.lift else None)

    def lift_curves(self, investment: Investment, level: float, position: int,
                    horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """CSAT and NPS lifts (survey points) felt from ``investment``, the ``position``-th of its
        scenario, in a segment where it spends ``level`` × the nominal cost: lift · sat(level · A),
        months × draws each, float32, read-only. Cached for the most recently used investments (a
        slider that moves one investment recomputes only its curves)."""
        inv = investment

        def make() -> tuple[np.ndarray, np.ndarray]:
            shape = self.response(inv.initiative, level, inv.start_month, inv.duration_months, horizon)
            curves = (shape * self.lift_draws(inv, position, "csat").astype(FLOAT),
                      shape * self.lift_draws(inv, position, "nps").astype(FLOAT))
            _read_only(*curves)
            return curves

        return _recent(self._lift_curves, self._curve_key(inv, level, position, horizon), make,
                       keep=_LIFT_CURVES_KEPT)

    def scenario_lifts(self, scenario: Scenario, index: np.ndarray) -> Lifts:
        """CSAT and NPS lifts (points) felt in the segments at ``index``: Σ_j lift_j · sat(x_js · A_j)
        over the investments j reaching a segment s at spend level x_js, one curve per set of
        segments reached by the same investments at the same levels (read-only; cached for the
        last few scenarios, so a run repeated or changed in its money terms only does not sum them
        again)."""
        horizon, investments = scenario.horizon_months, scenario.investments
        levels = [dict(zip(inv.segments, self.spend_levels(inv).tolist(), strict=True)) for inv in investments]
        groups: dict[tuple[tuple[int, float], ...], int] = {}
        group_of = np.empty(len(index), dtype=np.intp)
        for position, s in enumerate(index):
            segment = self.segments[s]
            members = tuple((j, levels[j][segment]) for j, inv in enumerate(investments) if segment in inv.segments)
            group_of[position] = groups.setdefault(members, len(groups))
        _read_only(group_of)
        key = (tuple(self._curve_key(inv, 0.0, j, horizon) for j, inv in enumerate(investments)), tuple(groups),
               group_of.tobytes())

        def make() -> Lifts:
            csat = np.empty((horizon, len(groups), self.n_draws), dtype=FLOAT)
            nps = np.empty_like(csat)
            for members, g in groups.items():
                for kind, total in enumerate((csat[:, g], nps[:, g])):
                    j, level = members[0]
                    total[...] = self.lift_curves(investments[j], level, j, horizon)[kind]
                    for j, level in members[1:]:
                        total += self.lift_curves(investments[j], level, j, horizon)[kind]
            _read_only(csat, nps)
            return Lifts(csat, nps, group_of)

        return _recent(self._lifts, key, make)

    # ------------------------------------------------------------------ money
    def spend(self, scenario: Scenario) -> np.ndarray:
        """Spend per segment and month (currency): in each reached segment while funded (within
        the horizon), the spend level × the segment's nominal cost (fixed share + cost per
        customer × starting customers) or the explicit monthly spend; the one-off cost split
        evenly over its segments in the start month."""
        spend = np.zeros((len(self.segments), scenario.horizon_months))
        for inv in scenario.investments:
            cols = self.segment_index(inv.segments)
            monthly = (np.full(len(cols), inv.monthly_spend) if inv.monthly_spend is not None  # as given
                       else inv.spend_level * self.nominal_costs(inv.initiative)[cols])
            spend[cols, inv.start_month - 1: inv.end_month] += monthly[:, None]
            spend[cols, inv.start_month - 1] += inv.one_off_cost / len(cols)
        return spend

    def gross_margin(self, scenario: Scenario) -> np.ndarray:
        return np.array([scenario.gross_margin.for_segment(s) for s in self.segments])

    def terminal_per_customer(self, horizon: int, index: np.ndarray, margin: np.ndarray, rate: float) -> np.ndarray:
        """Present value now of one extra customer left at the horizon (currency), segments ×
        draws for the segments at ``index`` (``margin`` per segment at ``index``): baseline CLV
        m·r/(1+i−r) discounted over the horizon (read-only, cached for the last few)."""
        def make() -> np.ndarray:
            churn, arpu, _ = self._rates(np.array([horizon - 1]), index)
            clv = arpu[0] * margin[:, None] * clv_multiple(1.0 - churn, rate)
            value = clv * (1.0 + rate) ** -horizon
            _read_only(value)
            return value

        key = (horizon, np.asarray(index, dtype=np.int64).tobytes(), np.asarray(margin, dtype=float).tobytes(), rate)
        return _recent(self._terminal, key, make)

    # ------------------------------------------------------------------ run
    def run(self, scenario: Scenario) -> SimulationResult:
        """Simulate one scenario (validated against the model first)."""
        self.validate(scenario)
        horizon, n_segments = scenario.horizon_months, len(self.segments)
        rate = finance.monthly_rate(scenario.annual_discount_rate)
        discount = finance.discount_factors(rate, horizon)
        index = np.sort(self.segment_index(scenario.segments))
        margin = self.gross_margin(scenario)
        per_customer = (self.terminal_per_customer(horizon, index, margin[index], rate)
                        if scenario.terminal_value else None)
        lifts = self.scenario_lifts(scenario, index)
        kernel_name, kernel = chosen_kernel()
        change = kernel(self.pack(horizon, index), lifts, self.coefficients(index),
                        frozenset(scenario.levers.enabled()), discount, margin[index])
        terminal = terminal_reached(change, per_customer)
        value = scenario_value(change, margin[index], terminal)
        spend = self.spend(scenario)

        def by_segment(reached: np.ndarray) -> np.ndarray:
            return _by_segment(reached, index, n_segments)

        # draws × months, all segments: a transposed view of months × draws (no strided copy); cast
        # first, then subtract in place (a mixed-precision subtract is half as fast)
        cash_flow = change.margin_by_month.astype(float)
        cash_flow -= spend.sum(axis=0)[:, None]
        cash_flow = cash_flow.T
        run = _Run(self, scenario, index, lifts, value, discount, margin, spend, per_customer, kernel)
        return SimulationResult(
            scenario=scenario, model_id=self.artifact.model_id, provenance=self.provenance(scenario, kernel_name),
            segments=self.segments, months=self.months(horizon), baseline=self.baseline_paths(horizon),
            spend=spend, gross_margin=margin, monthly_rate=rate,
            npv_by_segment=by_segment(value) - finance.present_value(spend, rate), total_cash_flow=cash_flow,
            incremental_revenue_by_segment=by_segment(change.revenue_total),
            incremental_revenue_by_month=change.revenue_by_month.astype(float).T,
            incremental_customers_end=by_segment(change.customers_end),
            terminal_value=by_segment(np.zeros(change.customers_end.shape) if terminal is None else terminal),
            detail_source=run.detail, levers_source=run.value_by_lever, plausibility_source=Reviewer(self.artifact),
            assumptions_source=lambda: used(scenario, self.artifact.manifest, self.params, self.segments,
                                            self.lift_draws, self.nominal_costs),
        )

    def validate(self, scenario: Scenario) -> None:
        """:meth:`Scenario.validate_for` this model; a scenario that passed (the same in every
        field) is not checked again while among the last few (its check reads the lift draws)."""
        key = scenario.model_dump_json()
        if key not in self._validated:
            scenario.validate_for(self.artifact)
        _recent(self._validated, key, lambda: True, keep=_LIFT_CURVES_KEPT)

    # ------------------------------------------------------------------ many plans at once
    def plan_values(self, plan: PlanSpec, monthly_spend: np.ndarray) -> np.ndarray:
        """NPV (currency) of many plans sharing ``plan``'s terms, one-off costs excluded:
        ``monthly_spend`` (plans × cells, currency per month, ≥ 0) → plans × draws × segments,
        on ``plan.draws`` and every segment of the model. A plan's value is what :meth:`run` gives
        as ``npv_by_segment`` for ``plan.scenario(spend, …)`` plus the present value of that
        scenario's one-off costs; names are checked, the survey scales are left to the run of the
        plan chosen.

        The plans are valued in one pass of the kernel: on a simulator holding the plan's draws
        once per plan side by side, each reached segment its own group of lifts."""
        spend = np.atleast_2d(np.asarray(monthly_spend, dtype=float))
        if spend.ndim != 2 or spend.shape[1] != len(plan.cells):
            raise ValueError(f"monthly_spend must be plans × {len(plan.cells)} cells, not {spend.shape}")
        self._check_plan(plan)
        n_plans, horizon = spend.shape[0], plan.horizon_months
        stacked = self._stacked(plan.draws, n_plans)
        n_draws = stacked.n_draws // n_plans
        cell_segment = self.segment_index(s for _, s in plan.cells)
        index = np.unique(cell_segment)  # the segments reached, in model order
        position = np.searchsorted(index, cell_segment)
        csat = np.zeros((horizon, len(index), stacked.n_draws), dtype=FLOAT)
        nps, scratch = np.zeros_like(csat), np.empty_like(csat)
        for initiative in dict.fromkeys(i for i, _ in plan.cells):
            mine = np.array([i == initiative for i, _ in plan.cells])
            by_segment = np.zeros((len(index), n_plans))
            by_segment[position[mine]] = spend[:, mine].T
            nominal = self.nominal_costs(initiative)[index]
            level = np.divide(by_segment, nominal[:, None], out=np.zeros_like(by_segment), where=nominal[:, None] > 0)
            share = stacked.response(initiative, np.repeat(level, n_draws, axis=1), plan.start_month,
                                     plan.duration_months, horizon)
            column = self.initiatives.index(initiative)
            nps += np.multiply(share, stacked.params["lift_nps"][:, column].astype(FLOAT), out=scratch)
            share *= stacked.params["lift_csat"][:, column].astype(FLOAT)  # a new array: changed in place
            csat += share
        margin = np.array([plan.gross_margin.for_segment(self.segments[s]) for s in index])
        rate = plan.monthly_rate
        change = increments(stacked.pack(horizon, index), Lifts(csat, nps, np.arange(len(index))),
                            stacked.coefficients(index), frozenset(plan.levers.enabled()),
                            finance.discount_factors(rate, horizon), margin)
        per_customer = stacked.terminal_per_customer(horizon, index, margin, rate) if plan.terminal_value else None
        value = np.zeros((n_plans, n_draws, len(self.segments)))
        reached = scenario_value(change, margin, terminal_reached(change, per_customer))
        value[:, :, index] = reached.reshape(len(index), n_plans, n_draws).transpose(1, 2, 0)
        spend_by_segment = np.zeros((len(self.segments), n_plans))
        np.add.at(spend_by_segment, cell_segment, spend.T)
        return value - (spend_by_segment.T * plan.pv_per_monthly_unit)[:, None, :]

    def _check_plan(self, plan: PlanSpec) -> None:
        """The plan's initiatives, segments and draws must be this model's."""
        unknown = [i for i in dict.fromkeys(i for i, _ in plan.cells) if i not in self.initiatives]
        unknown += [s for s in dict.fromkeys([*(s for _, s in plan.cells), *plan.gross_margin.segments])
                    if s not in self.segments]
        if unknown:
            raise ScenarioError(f"plan does not fit model {self.artifact.model_id}: unknown initiative(s) or "
                                f"segment(s) {', '.join(unknown)}")
        if plan.draws is not None and not (plan.draws and min(plan.draws) >= 0 and max(plan.draws) < self.n_draws):
            raise ScenarioError(f"plan draws must be positions 0 to {self.n_draws - 1} (at least one)")

    def _stacked(self, draws: tuple[int, ...] | None, n_plans: int) -> Simulator:
        """A simulator of this model whose draws are ``draws`` (positions among this simulator's;
        None = all) repeated ``n_plans`` times, plan after plan; the most recently used are kept up
        to a total size (a search asks for the same few stacks many times)."""
        if draws is None and n_plans == 1:
            return self
        chosen = np.arange(self.n_draws) if draws is None else np.asarray(draws, dtype=int)
        if self.draw_index is not None:
            chosen = self.draw_index[chosen]
        key = (chosen.tobytes(), n_plans)
        stacked = self._stacks.get(key) or Simulator(self.artifact, np.tile(chosen, n_plans))
        self._stacks[key] = stacked
        self._stacks.move_to_end(key)
        while sum(s.n_draws for s in self._stacks.values()) * len(self.segments) > _STACKS_KEPT_SIZE:
            self._stacks.popitem(last=False)  # the least recently used, this one last when it alone is too large
        return stacked

    def provenance(self, scenario: Scenario, kernel: str) -> Provenance:
        """Where a run of ``scenario`` comes from, with the model's caveats that concern the
        segments it reaches and the effects its value rests on, and the ``kernel`` that computed it."""
        m = self.artifact.manifest
        return Provenance(
            kernel=kernel,
            caveats=tuple(c for c in m.caveats
                          if c.concerns(scenario.segments, scenario.effects, scenario.initiatives)),
            model_id=self.artifact.model_id, family=m.family,
            training_window=m.training_window.model_dump() if m.training_window else {},
            data_fingerprint=m.data_fingerprint, diagnostics=m.diagnostics.model_dump(exclude_none=True),
            model_cxroi_version=m.cxroi_version, model_created_at=m.created_at, seed=m.seed, cxroi_version=__version__,
            simulated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )


def _recent(cache: OrderedDict, key, make: Callable[[], object], keep: int = _SEGMENT_SETS_KEPT):
    """``cache[key]``, made by ``make()`` when missing; only the ``keep`` most recently used
    entries stay."""
    value = cache.get(key)
    if value is None:
        value = cache[key] = make()
    cache.move_to_end(key)
    while len(cache) > keep:
        cache.popitem(last=False)
    return value


def _read_only(*arrays: np.ndarray) -> None:
    """Mark cached arrays read-only: every result shares them, so none may change them."""
    for array in arrays:
        array.flags.writeable = False


def _first_forecast_month(manifest: Manifest) -> pd.Timestamp:
    """The month after the training window's end (or the current month when unknown)."""
    month = manifest.first_forecast_month()
    return pd.Timestamp(f"{month}-01") if month else pd.Timestamp.now().normalize().replace(day=1)


_SIMULATORS: OrderedDict[tuple[str, str], Simulator] = OrderedDict()
_SIMULATORS_KEPT = 4


def simulator_for(artifact: ModelArtifact) -> Simulator:
    """A :class:`Simulator` for the artifact, reused across calls so baselines stay cached."""
    key = (artifact.model_id, artifact.manifest.files.get(DRAWS, str(artifact.path)))
    return _recent(_SIMULATORS, key, lambda: Simulator(artifact), keep=_SIMULATORS_KEPT)


def simulate(scenario: Scenario, artifact: ModelArtifact) -> SimulationResult:
    """Simulate ``scenario`` on ``artifact`` (baseline cached per model and horizon)."""
    return simulator_for(artifact).run(scenario)
