"""Track one approved decision against a newer panel: promised versus realised.

Status (at the last observed month, on the cumulative incremental revenue of the reached
segments since the decision's start — the outcome the investment was to move; cash flow adds
spend, which is the decision's to control rather than a result, and is reported beside it): with [P10, P90] the promised band (quantiles over the
decision model's draws of its forecast) and R_d the realised increment of counterfactual draw d,
P(behind) = share of draws with R_d < P10, P(ahead) = share with R_d > P90, P(on track) = the
rest. The status is the one of the three whose probability is at least 90 % (STATUS_PROBABILITY);
when none is, it is "too early to tell" — a few months of revenue are often noisier than the
promised increment itself — and the three probabilities are reported either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxroi.errors import DataError
from cxroi.registry import ModelArtifact
from cxroi.science import adstock, per_ten_points, saturation
from cxroi.sim import finance
from cxroi.sim.engine import Simulator
from cxroi.sim.scenario import SURVEY_RANGE, LiftOverride, Scenario, parse_scenario
from cxroi.store.records import Decision
from cxroi.track import counterfactual, lift
from cxroi.track.window import Observed, observed_window

QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)
METRICS = ("incremental_revenue", "incremental_cash_flow", "incremental_customers")
#: metric → how people read it (cumulative from the decision's start to the last observed month)
METRIC_LABELS = {"incremental_revenue": "Incremental revenue (cumulative)",
                 "incremental_cash_flow": "Incremental cash flow (cumulative)",
                 "incremental_customers": "Incremental customers (end of month)", "npv_to_date": "NPV to date",
                 "npv_horizon": "NPV over the horizon (updated)"}
UNITS = {"incremental_revenue": "currency", "incremental_cash_flow": "currency", "incremental_customers": "customers"}
ON_TRACK, BEHIND, AHEAD, TOO_EARLY = "on track", "behind", "ahead", "too early to tell"
STATUS_PROBABILITY = 0.9
#: an assumed average lift smaller than this (survey points) is too small to rescale by the
#: realised one: the rest of the horizon keeps the assumed lift of that score
MIN_ASSUMED_LIFT = 0.1


@dataclass(frozen=True)
class Tracking:
    """What a decision promised and what happened (see the module docstring for the status)."""

    decision_id: int
    scenario_name: str
    model_id: str
    first_month: pd.Timestamp  #: the decision's first funded month
    last_month: pd.Timestamp  #: the last observed month
    months_tracked: int
    reached: tuple[str, ...]
    untreated: tuple[str, ...]
    status: str
    probabilities: dict[str, float]  #: P(behind), P(on track), P(ahead)
    likeliest: str  #: the most probable of behind / on track / ahead
    monthly: pd.DataFrame  #: per month: promised band and realised quantiles, cumulative to date
    summary: pd.DataFrame  #: to date: realised mean and quantiles, promised P10/P50/P90, per metric
    lift: pd.DataFrame  #: realised CSAT/NPS lift by method vs the assumed lift
    pilots: pd.DataFrame  #: proposed pilot results (initiative, segment, metric, lift, se) + how
    lift_ratios: dict[str, float] = field(default_factory=dict)  #: realised / assumed lift used for the rest
    caveats: tuple[str, ...] = field(default=())


def _assumed_lift(sim: Simulator, scenario: Scenario, n_months: int, kind: str) -> np.ndarray:
    """The decision's assumed CX lift (points) as the survey would show it in each forecast
    month: Σ_j lift_j · sat(level · adstock), segments × months × draws (not lagged)."""
    out = np.zeros((len(sim.segments), n_months, sim.n_draws))
    for j, inv in enumerate(scenario.investments):
        relative = np.zeros(n_months)
        relative[inv.start_month - 1: min(inv.end_month, n_months)] = 1.0
        carry = sim.params["lift_carryover"][:, sim.initiatives.index(inv.initiative)]
        level = adstock(np.broadcast_to(relative, (sim.n_draws, n_months)), carry)  # draws × months
        draws = sim.lift_draws(inv, j, kind)
        for s, x in zip(sim.segment_index(inv.segments), sim.spend_levels(inv), strict=True):
            out[s] += (saturation(x * level, sim.saturation_k(inv.initiative)) * draws[:, None]).T
    return out


def _quantile_columns(values: np.ndarray, prefix: str = "") -> dict[str, np.ndarray]:
    """Mean and QUANTILES over the last axis."""
    qs = np.quantile(values, QUANTILES, axis=-1)
    return {f"{prefix}mean": values.mean(axis=-1),
            **{f"{prefix}p{round(100 * q)}": qs[i] for i, q in enumerate(QUANTILES)}}


def _lift_rows(kind: str, estimates: list[lift.LiftEstimate], assumed: np.ndarray) -> list[dict]:
    """Rows of the lift table: each estimate with its 80 % and 90 % intervals beside the
    assumed average lift (mean and P5–P95 over draws)."""
    rows = []
    for e in estimates:
        lo80, hi80 = e.interval(0.8)
        lo90, hi90 = e.interval(0.9)
        rows.append({"metric": kind, "method": e.method, "realised": e.estimate, "se": e.se,
                     "p5": lo90, "p10": lo80, "p90": hi80, "p95": hi90, "assumed_mean": float(assumed.mean()),
                     "assumed_p5": float(np.quantile(assumed, 0.05)),
                     "assumed_p95": float(np.quantile(assumed, 0.95))})
    return rows


def track(decision: Decision, artifact: ModelArtifact, panel: pd.DataFrame, source: str = "panel",
          seed: int | None = None, noise: bool = True) -> Tracking:
    """Track ``decision`` (on its model ``artifact``) with the newer ``panel`` (validated).
    ``noise`` False gives expected-value counterfactuals (for checks by hand)."""
    if artifact.model_id != decision.model_id:
        raise ValueError(f"decision {decision.id} was approved on model {decision.model_id}, not {artifact.model_id}")
    scenario = parse_scenario(decision.scenario_body, f"decision {decision.id}", artifact)
    sim = Simulator(artifact)
    start = min(inv.start_month for inv in scenario.investments)
    obs = observed_window(panel, artifact.manifest, start, scenario.horizon_months, source)
    n_fc, n_pre, lag = obs.n_forecast, obs.n_pre, sim.lag
    reached = np.sort(sim.segment_index(scenario.segments))
    treated = np.zeros(len(sim.segments), dtype=bool)
    treated[reached] = True
    rng = np.random.default_rng([seed if seed is not None else decision.id, 2026]) if noise else None
    caveats: list[str] = []
    post = slice(n_pre + start - 1, None)
    tracked = slice(start - 1, n_fc)  # forecast months from the start (0-based)

    # realised CX lift and the no-investment CX path
    state = artifact.manifest.state
    z_cf = {}
    lift_rows, pilots = [], []
    estimates_used = {}
    for kind, scores in (("csat", obs.csat), ("nps", obs.nps)):
        assumed = _assumed_lift(sim, scenario, n_fc, kind)  # segments × months × draws
        changes = lift.segment_changes(scores, n_pre, post)
        n_post = n_fc - start + 1
        found = [e for e in (lift.did(changes, treated), lift.pre_level(changes, treated, scores, n_pre, n_post)) if e]
        assumed_avg = assumed[treated][:, tracked].mean(axis=(0, 1))  # per draw
        lift_rows += _lift_rows(kind, found, assumed_avg)
        chosen = found[0] if found else lift.LiftEstimate(lift.PRE_LEVEL, 0.0, float("nan"), 1.0)
        if not found:
            caveats.append(f"no {kind.upper()} survey in the treated segments before and after the start: "
                           "the counterfactual keeps the observed scores")
        estimates_used[kind] = (chosen if found else None, float(assumed_avg.mean()))
        shape = assumed.mean(axis=2)
        shape[~treated] = 0.0
        shape[:, : start - 1] = 0.0
        mean_shape = shape[treated][:, tracked].mean()
        weight = shape / mean_shape if mean_shape > 1e-9 else np.where(treated[:, None], 1.0, 0.0) * (
            np.arange(n_fc) >= start - 1)
        realised = chosen.draws(rng, sim.n_draws) if rng is not None else np.full(sim.n_draws, chosen.estimate)
        # scores of every observed month (missing surveys carried forward, else the model's state)
        filled = pd.DataFrame(scores.T).ffill().to_numpy().T
        last_known = np.array([getattr(state[s], kind) for s in sim.segments])
        filled = np.where(np.isfinite(filled), filled, last_known[:, None])
        path = np.repeat(filled[:, :, None], sim.n_draws, axis=2)  # segments × months × draws
        path[:, n_pre:] -= weight[:, :, None] * realised[None, None, :]
        ref = np.array([getattr(state[s], f"ref_{kind}") for s in sim.segments])
        z = per_ten_points(path, ref[:, None, None])
        # CX acting on forecast month m is that of month m − L (index n_pre + m − 1 − L)
        positions = n_pre + np.arange(start - 1, n_fc) - lag
        if positions.min() < 0:
            raise DataError(f"{source}: holds {n_pre} training month(s) before the decision; the model's CSAT/NPS "
                            f"act {lag} month(s) later, so at least {-positions.min()} more "
                            "training month(s) are needed")
        z_cf[kind] = z[reached][:, positions].transpose(1, 0, 2)  # months × segments × draws
        if found:
            pilots += _pilot_rows(scenario, sim, kind, changes, treated, scores, n_pre, n_post, shape, tracked)

    params = {k: v[reached] for k, v in sim.params.items() if v.shape[0] == len(sim.segments)}
    t0 = np.array([state[sim.segments[s]].t_next for s in reached]) + start - 1
    world = counterfactual.run(params, obs.customers_start[reached, n_pre + start - 1], t0,
                               z_cf["csat"], z_cf["nps"], artifact.manifest.arpu_nu, rng)

    # realised increments per draw (months × draws, reached segments summed)
    obs_rev = obs.revenue[reached, n_pre + start - 1:].T  # months × segments
    obs_end = obs.customers_end[reached, n_pre + start - 1:].T
    margin = sim.gross_margin(scenario)[reached]
    inc_rev_seg = obs_rev[:, :, None] - world.revenue  # months × segments × draws
    spend, spend_note = _spend(sim, scenario, obs, start)
    spend = spend.sum(axis=0)  # months (all segments)
    realised = {
        "incremental_revenue": np.cumsum(inc_rev_seg.sum(axis=1), axis=0),
        "incremental_cash_flow": np.cumsum((inc_rev_seg * margin[None, :, None]).sum(axis=1) - spend[:, None], axis=0),
        "incremental_customers": (obs_end[:, :, None] - world.customers_end).sum(axis=1),
    }

    # promised: the decision's own forecast, recomputed on its model (same draws ⇒ same numbers)
    result = sim.run(scenario)
    detail = result.detail
    base = result.baseline
    ends = np.concatenate([detail.scenario_paths.customers[:, :, 1:], detail.scenario_paths.customers_end[:, :, None]], 2)
    base_ends = np.concatenate([base.customers[:, :, 1:], base.customers_end[:, :, None]], 2)
    promised = {
        "incremental_revenue": np.cumsum(detail.incremental_revenue[:, reached, tracked].sum(axis=1), axis=1).T,
        "incremental_cash_flow": np.cumsum(detail.cash_flow[:, :, tracked].sum(axis=1), axis=1).T,
        "incremental_customers": (ends - base_ends)[:, reached, tracked].sum(axis=1).T,
    }
    months = pd.date_range(sim.first_month + pd.DateOffset(months=start - 1), periods=n_fc - start + 1, freq="MS")
    monthly = []
    for metric in METRICS:
        band = np.quantile(promised[metric], (0.1, 0.5, 0.9), axis=1)
        frame = pd.DataFrame({"metric": metric, "unit": UNITS[metric], "month": months.strftime("%Y-%m"),
                              "forecast_month": np.arange(start, n_fc + 1),
                              "promised_p10": band[0], "promised_p50": band[1], "promised_p90": band[2],
                              **_quantile_columns(realised[metric], "realised_")})
        monthly.append(frame)
    monthly_frame = pd.concat(monthly, ignore_index=True)
    summary = monthly_frame.groupby("metric", sort=False).tail(1).drop(columns=["month", "forecast_month"])

    # discounted to the first forecast month, as the decision's NPV
    rate = finance.monthly_rate(scenario.annual_discount_rate)
    factors = finance.discount_factors(rate, n_fc)[tracked]
    cash_real = np.diff(realised["incremental_cash_flow"], axis=0, prepend=0.0)
    cash_promised = np.diff(promised["incremental_cash_flow"], axis=0, prepend=0.0)
    npv_real, npv_prom = factors @ cash_real, factors @ cash_promised
    band = np.quantile(npv_prom, (0.1, 0.5, 0.9))
    summary = pd.concat([summary, pd.DataFrame([{"metric": "npv_to_date", "unit": "currency", "promised_p10": band[0],
                                                 "promised_p50": band[1], "promised_p90": band[2],
                                                 **_quantile_columns(npv_real, "realised_")}])], ignore_index=True)

    rest, ratios, rest_notes = _rest_of_horizon(sim, scenario, estimates_used, n_fc)
    caveats += rest_notes
    band = np.quantile(result.npv, (0.1, 0.5, 0.9))
    summary = pd.concat([summary, pd.DataFrame([{"metric": "npv_horizon", "unit": "currency", "promised_p10": band[0],
                                                 "promised_p50": band[1], "promised_p90": band[2],
                                                 **_quantile_columns(npv_real + rest, "realised_")}])],
                        ignore_index=True)

    last = realised["incremental_revenue"][-1]
    low, high = np.quantile(promised["incremental_revenue"][-1], (0.1, 0.9))
    # the promise comes from the simulator's float32 kernel: realised values within its rounding
    # (a millionth of the revenue tracked) of the band count as inside it
    tol = 1e-6 * float(np.abs(obs_rev).sum())
    probabilities = {BEHIND: float(np.mean(last < low - tol)), AHEAD: float(np.mean(last > high + tol))}
    probabilities[ON_TRACK] = 1.0 - probabilities[BEHIND] - probabilities[AHEAD]
    likeliest = max((BEHIND, ON_TRACK, AHEAD), key=lambda k: probabilities[k])
    status = likeliest if probabilities[likeliest] >= STATUS_PROBABILITY else TOO_EARLY
    if obs.extra_segments:
        caveats.append(f"segments the model does not know were ignored: {', '.join(obs.extra_segments)}")
    caveats.append(spend_note)
    caveats += [c.text for c in result.provenance.caveats]
    untreated = tuple(s for i, s in enumerate(sim.segments) if not treated[i])
    return Tracking(decision.id, decision.scenario_name, artifact.model_id, months[0], months[-1], len(months),
                    tuple(sim.segments[i] for i in reached), untreated, status, probabilities, likeliest, monthly_frame,
                    summary.reset_index(drop=True), pd.DataFrame(lift_rows), pd.DataFrame(pilots), ratios, tuple(caveats))


def _rest_of_horizon(sim: Simulator, scenario: Scenario, estimates: dict[str, tuple[lift.LiftEstimate | None, float]],
                     n_observed: int) -> tuple[np.ndarray, dict[str, float], list[str]]:
    """Present value (currency, discounted to forecast month 0) per draw of the months after the
    last observed one, terminal value included: the decision's forecast on its own model with the
    lift it assumed rescaled to the realised one.

    For each score with a realised estimate L (± se) and an assumed average lift A over the same
    segments and months (A ≥ MIN_ASSUMED_LIFT points), every investment's lift at full effect
    becomes a normal with mean m·L/A and sd |m|·se/|A| (m: its assumed mean at full effect) —
    the realised share of the promise, carried forward. A score without an estimate keeps the
    assumed lift. The rest of the path is the model's forecast from its training state, not from
    the observed months (the customers gained or lost so far are counted in the NPV to date)."""
    ratios, notes = {}, []
    overrides: list[dict[str, object]] = [{} for _ in scenario.investments]
    for kind, (estimate, assumed) in estimates.items():
        if estimate is None or not np.isfinite(estimate.se) or abs(assumed) < MIN_ASSUMED_LIFT:
            continue
        ratios[kind] = estimate.estimate / assumed
        for j, inv in enumerate(scenario.investments):
            full = float(np.mean(sim.lift_draws(inv, j, kind)))
            widest = SURVEY_RANGE[kind]
            overrides[j][kind] = {"mean": float(np.clip(full * ratios[kind], -widest, widest)),
                                  "sd": float(np.clip(abs(full) * estimate.se / abs(assumed), 1e-6, widest))}
    horizon = scenario.horizon_months
    if n_observed >= horizon:
        return np.zeros(sim.n_draws), ratios, notes
    investments = [inv.model_copy(update={"lift": LiftOverride(**{**(inv.lift.model_dump() if inv.lift else {}),
                                                                   **override})})
                   if override else inv for inv, override in zip(scenario.investments, overrides, strict=True)]
    updated = sim.run(scenario.model_copy(update={"investments": tuple(investments)}))
    factors = finance.discount_factors(updated.monthly_rate, horizon)[n_observed:]
    rest = updated.total_cash_flow[:, n_observed:] @ factors + updated.terminal_value.sum(axis=1)
    described = ", ".join(f"{kind.upper()} × {ratio:.2f}" for kind, ratio in ratios.items()) or "none measured"
    notes.append(f"updated NPV over the horizon: the NPV to date plus months {n_observed + 1}–{horizon} forecast on "
                 f"the decision's model with its assumed lift rescaled to the realised one ({described})")
    return rest, ratios, notes


def _spend(sim: Simulator, scenario: Scenario, obs: Observed, start: int) -> tuple[np.ndarray, str]:
    """Spend per segment and tracked month (currency): the panel's actual spend_<initiative> in
    the segments each funded initiative reaches (a missing value counts as 0) plus the planned
    one-off costs, when the panel has a spend column for every funded initiative; else the
    decision's planned spend. With a note saying which."""
    planned = sim.spend(scenario)[:, start - 1: obs.n_forecast]
    if not all(i in obs.spend for i in scenario.initiatives):
        return planned, ("spend is the decision's planned spend: the panel has no spend_<initiative> column for "
                         + ", ".join(i for i in scenario.initiatives if i not in obs.spend))
    actual = np.zeros_like(planned)
    for inv in scenario.investments:
        cols = sim.segment_index(inv.segments)
        if inv.start_month >= start and inv.start_month - start < actual.shape[1]:
            actual[cols, inv.start_month - start] += inv.one_off_cost / len(cols)
    for initiative in scenario.initiatives:
        reached = np.unique(np.concatenate([sim.segment_index(inv.segments) for inv in scenario.investments
                                            if inv.initiative == initiative]))
        actual[reached] += np.nan_to_num(obs.spend[initiative][reached, obs.n_pre + start - 1:])
    return actual, ("spend is the panel's actual spend (spend_<initiative> columns, segments reached) plus the "
                    "decision's one-off costs; the promised band uses the planned spend")


def _pilot_rows(scenario: Scenario, sim: Simulator, kind: str, changes: np.ndarray, treated: np.ndarray,
                scores: np.ndarray, n_pre: int, n_post: int, shape: np.ndarray, tracked: slice) -> list[dict]:
    """Proposed pilot results: each treated segment reached by one initiative, its realised lift
    at full effect = its average realised lift / the average share of the full effect the
    decision assumed over the same months (and its standard error likewise)."""
    rows = []
    for s, estimate in lift.per_segment(changes, treated, scores, n_pre, n_post).items():
        segment = sim.segments[s]
        initiatives = {inv.initiative for inv in scenario.investments if segment in inv.segments}
        if len(initiatives) != 1 or not np.isfinite(estimate.se) or estimate.se <= 0:
            continue
        initiative = initiatives.pop()
        inv_index = next(j for j, inv in enumerate(scenario.investments) if inv.initiative == initiative)
        full = float(np.mean(sim.lift_draws(scenario.investments[inv_index], inv_index, kind)))
        share = shape[s, tracked].mean() / full if abs(full) > 1e-9 else float("nan")
        if not (np.isfinite(share) and share > 0.2):
            continue  # too little of the full effect assumed so far to scale it up
        rows.append({"initiative": initiative, "segment": segment, "metric": kind,
                     "lift": estimate.estimate / share, "se": estimate.se / share, "method": estimate.method,
                     "share_of_full_effect": share})
    return rows


def observed(decision: Decision, artifact: ModelArtifact, panel: pd.DataFrame, source: str = "panel") -> Observed:
    """The checked panel window of a decision (raises DataError on a panel that does not extend it)."""
    scenario = parse_scenario(decision.scenario_body, f"decision {decision.id}", artifact)
    start = min(inv.start_month for inv in scenario.investments)
    return observed_window(panel, artifact.manifest, start, scenario.horizon_months, source)
