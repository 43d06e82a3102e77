"""The Bayesian family: one PyMC model on the aggregated segment × month panel.

Likelihood per cell (its cost does not grow with the number of customers):

* churned ~ BetaBinomial(customers_start, p·κ_s, (1−p)·κ_s),
  logit p = churn_intercept_s + churn_csat_s·zc + churn_nps_s·zn
* log ARPU ~ StudentT(ν = 6, arpu_intercept_s + arpu_trend_s·t + arpu_csat_s·zc, arpu_sigma_s)
* new_customers ~ NegativeBinomial(exp(acq_intercept_s + acq_trend_s·t + acq_nps_s·zn), acq_alpha_s)
* lift sub-model, for initiatives with spend history: CSAT_st (NPS_st) = level_s
  + Σ_i lift_i · sat(adstock(relative spend, λ_i), k_i) + AR(1) noise; catalogue priors on
  lift_i, a Beta prior on λ_i centred on the catalogue ramp-up; pilots add Normal likelihoods.
* survey error, for a score whose response counts the panel gives: the same level (+ lifts)
  + AR(1) deviation is a latent path per segment × month, each surveyed month measures it with
  the survey's sampling error (cxroi.fit.survey), and zc / zn above are taken from the latent
  path instead of the observed score (errors-in-variables: taking noisy scores as exact
  attenuates every effect toward zero; validation/attenuation.py).
* optionally (``asymmetric``), churn gets a second slope of each score for falls below its
  reference: b·max(z, 0) + b_loss·min(z, 0).

The four CX effects are partially pooled across segments (b_s ~ Normal(μ_b, σ_b)), μ_b leaning
toward the published direction (cxroi.fit.priors: sources, units, how weakly). Trends get
independent Normal(0, 0.02) priors: each is pinned down by every month of data, and pooling them
only added a funnel (σ → 0) that cost ESS in either parameterisation. Segment levels
(intercepts) are not pooled — tiers differ by orders of magnitude — but centred on the segment's
own data (empirical logit churn, mean log ARPU, log mean new customers) with unit-scale priors.
Time is centred inside the model (t − t̄) to decorrelate intercept and trend; the stored
intercepts are converted back to t = 0.

Parameterisation: NON-CENTRED by default (b_s = μ_b + σ_b·z_s). Measured on data/sample with
benchmarks/bench_fit.py (4 chains × 1000 draws): non-centred reaches min bulk ESS ≈ 1000 with no
divergences, centred ≈ 400 with dozens of divergences, under both nutpie and PyMC NUTS — the
segment effects are only weakly identified by ~35 months, so the centred form sits in a funnel
(figures in benchmarks/README.md). ``parameterization="centered"`` is kept for that comparison.

Sampler: nutpie by default — about twice PyMC NUTS's ESS per second of wall time, compile
included (benchmarks/README.md).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cxroi.catalogue import Initiative
from cxroi.fit.design import ARPU_NU, Design
from cxroi.fit.diagnostics import mcmc_convergence
from cxroi.fit.lifts import METRICS, lift_draws, pilot_measurements, prior, source_of
from cxroi.fit.pilots import Pilot
from cxroi.fit.priors import EFFECT_PRIORS, EXPECTED_SIGN, POOLED_SCALES
from cxroi.fit.progress import pymc_callback, wait_counting
from cxroi.fit.result import FitResult
from cxroi.fit.survey import measurements
from cxroi.manifest import SamplerConfig
from cxroi.science import saturation
from cxroi.seeds import DEFAULT_SEED, RandomStreams

SAMPLERS = ("nutpie", "pymc")

__all__ = ["POOLED_SCALES", "BayesModel"]  # POOLED_SCALES: the priors' scales (cxroi.fit.priors)
#: prior sd of the monthly trends of log ARPU and log new customers (per month, not pooled)
TREND_SCALE = 0.02
#: smallest month-to-month noise of observed CSAT / NPS in the lift model (points)
NOISE_FLOOR = {"csat": 0.5, "nps": 1.0}
#: concentration of the Beta prior on each carry-over λ around the catalogue value
CARRYOVER_PRIOR_STRENGTH = 10.0
#: the effects that get a separate slope for falls of the score when the fit is asymmetric
ASYMMETRIC_EFFECTS = ("churn_csat", "churn_nps")
#: per segment × month grids of the survey error model, left out of the stored posterior (each is
#: draws × segments × months: 4.7 MB per grid for 4 000 draws of 8 segments × 37 months)
LATENT_GRIDS = ("_innovation", "_deviation", "_latent")
#: compiled models of different structures (latent forms, window lengths) one model object keeps:
#: histories that alternate between structures (a study's variants) then compile each once
COMPILED_KEPT = 4
#: share of a score's within-segment variance that must be true movement (not survey sampling
#: error) for its latent path to be sampled centred (see BayesModel._scores)
CENTRED_RELIABILITY = 0.5


def _pooled(pm, name: str, mean: float, scale: float, parameterization: str):
    """Segment effects b_s ~ Normal(μ, σ), centred or non-centred, μ ~ Normal(mean, scale)
    leaning toward the published direction (cxroi.fit.priors). σ has a boundary-avoiding
    Gamma(2, ·) prior with mean scale/2: it keeps the sampler out of the σ → 0 funnel neck
    (divergences) while allowing strong pooling."""
    mu = pm.Normal(f"{name}_mu", mean, scale)
    sigma = pm.Gamma(f"{name}_sigma", alpha=2.0, beta=4.0 / scale)
    if parameterization == "centered":
        return pm.Normal(name, mu, sigma, dims="segment")
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims="segment")
    return pm.Deterministic(name, mu + sigma * z, dims="segment")


def _observed_entries(grid: np.ndarray) -> dict[str, np.ndarray]:
    """Segment index, month index and value of each observed (finite) entry of a grid, with the
    previous month's value where that is observed too (for the AR(1) errors of the lift model):
    ``has_previous`` 1/0, ``previous`` (0 where absent) and ``previous_month`` (the entry's own
    month where absent, so indexing stays valid)."""
    seg, month = np.nonzero(np.isfinite(grid))
    before = np.maximum(month - 1, 0)
    has_previous = (month > 0) & np.isfinite(grid[seg, before])
    return {
        "segment": seg, "month": month, "value": grid[seg, month],
        "has_previous": has_previous.astype(float),
        "previous": np.where(has_previous, grid[seg, before], 0.0),
        "previous_month": np.where(has_previous, before, month),
    }


def _ar1_weights(pt, months, phi):
    """(months × months) matrix W with dev = W·ε a stationary AR(1) path of unit innovations:
    W[t, j] = φ^(t−j) for 1 ≤ j ≤ t, W[t, 0] = φ^t / √(1 − φ²), 0 above the diagonal."""
    lag = months[:, None] - months[None, :]
    weights = pt.switch(lag >= 0, phi ** pt.maximum(lag, 0), 0.0)
    return pt.set_subtensor(weights[:, 0], phi**months / pt.sqrt(1 - phi**2))


def _adstock_share(pt, relative, carryover, k: float):
    """sat(adstock(x, λ), k) for a (segments × months) spend tensor and a scalar λ tensor."""
    months = pt.arange(relative.shape[1])
    lag = months[:, None] - months[None, :]  # t − j
    weights = pt.switch(lag >= 0, (1 - carryover) * carryover ** pt.maximum(lag, 0), 0.0)
    level = pt.dot(relative, weights.T)
    return saturation(level, k)


class BayesModel:
    """Settings of a Bayesian fit; :meth:`fit` samples and returns a :class:`FitResult`.

    ``survey_error`` (default on): a score whose response counts the panel gives is a noisy
    measurement of a latent level (see :meth:`_scores`); off reproduces the earlier model form
    (benchmarks/bench_fit.py compares the two). ``asymmetric`` (default off): churn gets one slope
    of each score for rises above the reference and another for falls below it."""

    family = "bayes"

    def __init__(self, config: SamplerConfig | None = None, seed: int = DEFAULT_SEED, progress: bool = False,
                 survey_error: bool = True, asymmetric: bool = False,
                 on_draws: Callable[[int, int], None] | None = None, **settings):
        """``settings`` (draws, tune, chains, cores, thin, name, parameterization, target_accept)
        are merged over ``config`` (default: :class:`SamplerConfig`'s defaults); ``on_draws(done,
        total)`` hears how many draws of all chains (tuning included) are finished while sampling."""
        base = (config or SamplerConfig()).model_dump(exclude_none=True)
        self.config = SamplerConfig(**{**base, **settings})
        if self.config.name not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}")
        self.streams, self.progress = RandomStreams(seed), progress
        self.survey_error, self.asymmetric = survey_error, asymmetric
        #: structure key → nutpie compiled model, the last COMPILED_KEPT used, reused across fits
        self._compiled: OrderedDict[tuple, object] = OrderedDict()
        self.on_draws = on_draws

    def latent_forms(self, design: Design) -> dict[str, str]:
        """"centered" or "noncentered" for each surveyed score's latent path: centred when the
        surveys measure the level well — reliability 1 − mean(se²) / (within-segment variance
        of the observed score) at least :data:`CENTRED_RELIABILITY` — non-centred otherwise."""
        forms = {}
        for metric in self.surveyed(design):
            grid, responses = (design.csat if metric == "csat" else design.nps), design.responses(metric)
            measured = measurements(metric, grid, responses)
            segment = measured["segment"]
            spread = np.nanmean([np.var(measured["value"][segment == s]) for s in np.unique(segment)])
            reliability = 1.0 - np.mean(measured["se"] ** 2) / max(spread, 1e-9)
            forms[metric] = "centered" if reliability >= CENTRED_RELIABILITY else "noncentered"
        return forms

    def surveyed(self, design: Design) -> tuple[str, ...]:
        """The scores modelled with survey error: those whose response counts the design has."""
        if not self.survey_error:
            return ()
        return tuple(score for score in METRICS if design.responses(score) is not None)

    def data(self, design: Design) -> dict[str, np.ndarray]:
        """Every data array of the model (the values of its ``pm.Data`` containers). Swapping them
        for another window's lets the backtest reuse the compiled model."""
        cells = design.cells()
        s = cells.segment
        S = design.n_segments
        t_mean = float(cells.month.mean())
        rate = np.array([cells.churned[s == i].sum() / cells.customers_start[s == i].sum() for i in range(S)])
        rate = np.clip(rate, 0.5 / cells.customers_start.max(), 1 - 1e-6)
        data = {
            "segment_index": s, "zc": cells.zc, "zn": cells.zn, "month_centred": cells.month - t_mean,
            "t_mean": np.array(t_mean), "customers_start": cells.customers_start,
            "churned_count": cells.churned, "log_arpu_value": cells.log_arpu, "new_count": cells.new_customers,
            "churn_center": np.log(rate / (1 - rate)),
            "arpu_center": np.array([cells.log_arpu[s == i].mean() for i in range(S)]),
            "acq_center": np.log(np.array([max(cells.new_customers[s == i].mean(), 0.5) for i in range(S)])),
        }
        surveyed = self.surveyed(design)
        if design.relative_spend or surveyed:
            data.update({"ref_csat": design.ref_csat, "ref_nps": design.ref_nps,
                         "survey_months": np.arange(design.n_months, dtype=float),
                         "cell_source_month": cells.month - design.lag})
        for metric in surveyed:  # survey measurements of the latent levels
            grid = design.csat if metric == "csat" else design.nps
            data.update({f"{metric}_measured_{key}": value
                         for key, value in measurements(metric, grid, design.responses(metric)).items()})
        if design.relative_spend:  # the lift sub-model's data
            for metric in METRICS:
                if metric not in surveyed:
                    grid = design.csat if metric == "csat" else design.nps
                    data.update({f"{metric}_{key}": value for key, value in _observed_entries(grid).items()})
            data.update({f"spend_{i}": x for i, x in design.relative_spend.items()})
        return data

    def build(self, design: Design, catalogue: dict[str, Initiative], pilots: list[Pilot]):
        """The PyMC model of ``design`` (not yet sampled)."""
        import pymc as pm
        import pytensor.tensor as pt

        history = list(design.relative_spend)
        surveyed = self.surveyed(design)
        coords = {"segment": design.segments, "initiative_history": history,
                  "month": [f"{p:%Y-%m}" for p in design.periods]}
        with pm.Model(coords=coords) as model:
            d = {name: pm.Data(name, value) for name, value in self.data(design).items()}
            s, tc = d["segment_index"], d["month_centred"]
            pooled = dict(EFFECT_PRIORS)
            if self.asymmetric:
                pooled.update({f"{name}_loss": EFFECT_PRIORS[name] for name in ASYMMETRIC_EFFECTS})
            effects = {name: _pooled(pm, name, mean, scale, self.config.parameterization)
                       for name, (mean, scale) in pooled.items()}
            effects.update({name: pm.Normal(name, 0.0, TREND_SCALE, dims="segment")
                            for name in ("arpu_trend", "acq_trend")})
            levels = {key: d[f"{key}_center"] + pm.Normal(f"{key}_offset", 0.0, 1.0, dims="segment")
                      for key in ("churn", "arpu", "acq")}
            latent = (self._scores(pm, pt, d, catalogue, pilots, history, self.latent_forms(design))
                      if history or surveyed else {})
            z = {metric: d[f"z{metric[0]}"] for metric in METRICS}
            for metric, grid in latent.items():  # lagged deviation of the latent level, per 10 points
                z[metric] = (grid[s, d["cell_source_month"]] - d[f"ref_{metric}"][s]) / 10.0

            pm.Deterministic("churn_intercept", levels["churn"], dims="segment")
            kappa = pm.Deterministic("churn_concentration",
                                     pm.math.exp(pm.Normal("churn_log_concentration", 7.0, 1.5, dims="segment")),
                                     dims="segment")
            churn_logit = levels["churn"][s]
            for name, metric in (("churn_csat", "csat"), ("churn_nps", "nps")):
                if self.asymmetric:  # rises above the reference and falls below it, each its own slope
                    churn_logit += (effects[name][s] * pt.maximum(z[metric], 0.0)
                                    + effects[f"{name}_loss"][s] * pt.minimum(z[metric], 0.0))
                else:
                    churn_logit += effects[name][s] * z[metric]
            p = pm.math.invlogit(churn_logit)
            pm.BetaBinomial("churned", n=d["customers_start"], alpha=p * kappa[s], beta=(1 - p) * kappa[s],
                            observed=d["churned_count"], shape=s.shape)

            pm.Deterministic("arpu_intercept", levels["arpu"] - effects["arpu_trend"] * d["t_mean"], dims="segment")
            sigma = pm.HalfNormal("arpu_sigma", 0.2, dims="segment")
            pm.StudentT("log_arpu", nu=ARPU_NU, mu=levels["arpu"][s] + effects["arpu_trend"][s] * tc
                        + effects["arpu_csat"][s] * z["csat"], sigma=sigma[s], observed=d["log_arpu_value"],
                        shape=s.shape)

            pm.Deterministic("acq_intercept", levels["acq"] - effects["acq_trend"] * d["t_mean"], dims="segment")
            alpha = pm.Deterministic("acq_alpha", pm.math.exp(pm.Normal("acq_log_alpha", 4.0, 1.5, dims="segment")),
                                     dims="segment")
            mu_new = pm.math.exp(levels["acq"][s] + effects["acq_trend"][s] * tc + effects["acq_nps"][s] * z["nps"])
            pm.NegativeBinomial("new_customers", mu=mu_new, alpha=alpha[s], observed=d["new_count"], shape=s.shape)
        return model

    @staticmethod
    def _scores(pm, pt, d: dict, catalogue: dict[str, Initiative], pilots: list[Pilot], history: list[str],
                surveyed: dict[str, str]) -> dict:
        """CSAT/NPS = segment level + Σ lift · share(λ) (initiatives with spend history, catalogue
        priors, pilots) + AR(1) deviation. Returns the latent (segments × months) level of each
        surveyed score, which the outcome links then use instead of the observed score.

        * A **surveyed** score (response counts given; ``surveyed`` maps it to its
          parameterisation) is a latent level with an AR(1) deviation; each surveyed month
          measures it, observed ~ Normal(level, se) with se from the survey's size
          (cxroi.fit.survey); a month without a survey has no measurement, its level is latent.
          The parameterisation is chosen per score by what samples best (:meth:`latent_forms`):
          with thousands of answers a month (data/sample, se ≈ 1 point against month-to-month
          moves of ≈ 3) the data pin each month's level and the CENTRED path samples ~4× faster
          than the non-centred one (whose innovations are then tightly coupled through the AR(1)
          weights); with ~20 answers (se ≈ 10 points) the centred path sits in a funnel of the
          innovation scale (R-hat 1.9 in a 2-chain test) and the NON-CENTRED form (path = scale ·
          W·ε, unit innovations ε) samples well. Measured in benchmarks/README.md ("Survey error").
        * A score **without** counts keeps the earlier form (only with spend history): its
          residuals around the lift curve are AR(1), conditional on the previous month where
          observed, and the outcome links use the observed score as exact."""
        shares = []
        if history:
            carry = []
            for initiative in history:
                mean = catalogue[initiative].carryover
                carry.append(pm.Beta(f"lift_carryover_{initiative}", alpha=mean * CARRYOVER_PRIOR_STRENGTH,
                                     beta=(1 - mean) * CARRYOVER_PRIOR_STRENGTH))
            pm.Deterministic("lift_carryover", pt.stack(carry), dims="initiative_history")
            shares = [_adstock_share(pt, d[f"spend_{i}"], lam, catalogue[i].saturation_k)
                      for i, lam in zip(history, carry, strict=True)]
        latent = {}
        for metric, noise in (("csat", 5.0), ("nps", 10.0)):
            if metric not in surveyed and not history:
                continue
            level = d[f"ref_{metric}"] + noise * pm.Normal(f"{metric}_level_offset", 0.0, 1.0, dims="segment")
            expected = level[:, None] + pt.zeros((1, d["survey_months"].shape[0]))
            if history:
                means = np.array([prior(catalogue[i], metric)[0] for i in history])
                sds = np.array([prior(catalogue[i], metric)[1] for i in history])
                lift = pm.Normal(f"lift_{metric}", means, sds, dims="initiative_history")
                expected = expected + sum(lift[j] * shares[j] for j in range(len(history)))
                for j, initiative in enumerate(history):
                    measured = pilot_measurements(pilots, initiative, metric)
                    if measured:
                        lifts, ses = np.array(measured).T
                        pm.Normal(f"pilot_{metric}_{initiative}", lift[j], ses, observed=lifts)
            # Month-to-month CSAT/NPS deviations persist, so they are AR(1). Independent errors
            # overstate what a spend history says about the lift (calibration: 90 % lift intervals
            # covered ~70 %).
            phi = pm.Beta(f"{metric}_autocorrelation", 2.0, 2.0)
            if metric in surveyed:
                scale = pm.HalfNormal(f"{metric}_noise", noise, dims="segment")
                if surveyed[metric] == "centered":
                    deviation = pm.Flat(f"{metric}_deviation", dims=("segment", "month"))
                    stationary = pm.logp(pm.Normal.dist(0.0, scale / pt.sqrt(1 - phi**2)), deviation[:, 0])
                    steps = pm.logp(pm.Normal.dist(phi * deviation[:, :-1], scale[:, None]), deviation[:, 1:])
                    pm.Potential(f"{metric}_ar1", stationary.sum() + steps.sum())
                else:
                    innovation = pm.Normal(f"{metric}_innovation", 0.0, 1.0, dims=("segment", "month"))
                    deviation = scale[:, None] * pt.dot(innovation, _ar1_weights(pt, d["survey_months"], phi).T)
                grid = pm.Deterministic(f"{metric}_latent", expected + deviation, dims=("segment", "month"))
                seg, month = d[f"{metric}_measured_segment"], d[f"{metric}_measured_month"]
                pm.Normal(f"{metric}_measured", grid[seg, month], d[f"{metric}_measured_se"],
                          observed=d[f"{metric}_measured_value"], shape=seg.shape)
                latent[metric] = grid
                continue
            # The floor (survey sampling error of ≥ 1 000 answers, points) keeps a constant series
            # from collapsing the scale to zero.
            scale = NOISE_FLOOR[metric] + pm.HalfNormal(f"{metric}_noise", noise, dims="segment")
            seg, month, values = d[f"{metric}_segment"], d[f"{metric}_month"], d[f"{metric}_value"]
            has_previous = d[f"{metric}_has_previous"]
            previous_residual = d[f"{metric}_previous"] - expected[seg, d[f"{metric}_previous_month"]]
            mu = expected[seg, month] + phi * has_previous * previous_residual
            sigma = scale[seg] * (has_previous + (1 - has_previous) / pt.sqrt(1 - phi**2))
            pm.Normal(f"{metric}_observed", mu, sigma, observed=values, shape=values.shape)
        return latent

    def sample(self, design: Design, catalogue: dict[str, Initiative], pilots: list[Pilot]):
        """Build and sample the model of ``design``; returns ArviZ InferenceData. With nutpie, a
        model already compiled for the same segments, initiatives and pilots is reused with the
        new data (the backtest refit then skips the compile)."""
        c, seed = self.config, self.streams.integer("sampler")
        if c.name == "nutpie":
            import nutpie

            # a latent score path has one parameter per month: a window of another length recompiles
            months = design.n_months if self.surveyed(design) else None
            key = (tuple(design.segments), tuple(design.relative_spend), tuple(pilots), id(catalogue), months,
                   tuple(self.latent_forms(design).items()))
            if key not in self._compiled:
                self._compiled[key] = nutpie.compile_pymc_model(self.build(design, catalogue, pilots))
                while len(self._compiled) > COMPILED_KEPT:
                    self._compiled.popitem(last=False)
            self._compiled.move_to_end(key)
            compiled = self._compiled[key]  # data the model does not use (e.g. zc of a surveyed CSAT) is pruned
            compiled = compiled.with_data(**{k: v for k, v in self.data(design).items() if k in compiled.shared_data})
            options = {"draws": c.draws, "tune": c.tune, "chains": c.chains, "cores": c.cores, "seed": seed,
                       "save_warmup": False, "target_accept": c.target_accept}
            if "centered" in self.latent_forms(design).values():
                # A centred latent path leaves a ridge between each segment's level and its monthly
                # deviations that a diagonal mass matrix crosses slowly: on data/sample (4 × 1000)
                # csat_level_offset had R-hat 1.015, min ESS 453, 458 s; with nutpie's low-rank
                # modified mass matrix R-hat 1.005, min ESS 956, 219 s (benchmarks/README.md).
                options["low_rank_modified_mass_matrix"] = True
            if self.on_draws is None:
                return nutpie.sample(compiled, progress_bar=self.progress, **options)
            # in the background, counted as it goes; the draws are the same as when blocking
            background = nutpie.sample(compiled, progress_bar=False, blocking=False, **options)
            return wait_counting(background, c.chains * (c.draws + c.tune), self.on_draws)
        import pymc as pm

        callback = None if self.on_draws is None else pymc_callback(c.chains * (c.draws + c.tune), self.on_draws)
        with self.build(design, catalogue, pilots):
            return pm.sample(draws=c.draws, tune=c.tune, chains=c.chains, cores=c.cores,
                             random_seed=seed, progressbar=self.progress, target_accept=c.target_accept,
                             compute_convergence_checks=False, return_inferencedata=True, callback=callback)

    def fit(self, design: Design, catalogue: dict[str, Initiative], pilots: list[Pilot] | None = None) -> FitResult:
        pilots = pilots or []
        with warnings.catch_warnings():  # PyTensor's notice about its C backend's BLAS: not actionable
            warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
            idata = self.sample(design, catalogue, pilots)
        # The per-month latent survey grids (hundreds of entries) are checked apart: the gate holds
        # the model's parameters to R-hat ≤ 1.01 and sends a grid above it to review (cxroi.fit.health)
        names = [v for v in idata.posterior.data_vars if not v.endswith("__")]
        convergence = mcmc_convergence(idata, [v for v in names if not v.endswith(LATENT_GRIDS)])
        grids = [v for v in names if v.endswith(LATENT_GRIDS)]
        if grids:
            convergence["latent_max_rhat"] = mcmc_convergence(idata, grids)["max_rhat"]
        posterior = idata.posterior.isel(draw=slice(None, None, self.config.thin))
        n = posterior.sizes["chain"] * posterior.sizes["draw"]

        def flat(name: str) -> np.ndarray:
            values = posterior[name].values
            return values.reshape(n, *values.shape[2:])

        segment_names = ("churn_intercept", "churn_csat", "churn_nps", "churn_concentration", "arpu_intercept",
                         "arpu_trend", "arpu_csat", "arpu_sigma", "acq_intercept", "acq_trend", "acq_nps", "acq_alpha")
        if self.asymmetric:
            segment_names += tuple(f"{name}_loss" for name in ASYMMETRIC_EFFECTS)
        draws = {name: flat(name) for name in segment_names}
        history = list(design.relative_spend)
        rng = self.streams.generator("catalogue")
        lifts, sources = lift_draws(catalogue, pilots, {}, n, rng)
        for j, initiative in enumerate(catalogue):
            if initiative in history:
                k = history.index(initiative)
                for name in ("lift_csat", "lift_nps", "lift_carryover"):
                    lifts[name][:, j] = flat(name)[:, k]
                for metric in METRICS:
                    measured = bool(pilot_measurements(pilots, initiative, metric))
                    sources[f"lift_{metric}"][initiative] = source_of(True, measured)
        draws.update(lifts)
        effects = {name: dict.fromkeys(design.segments, "history")
                   for name in ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")}
        asymmetry = None
        if self.asymmetric:
            asymmetry = _asymmetry_summary(posterior, design.segments)
        last = design.last_observed
        start_scores = {metric: posterior[f"{metric}_latent"].mean(("chain", "draw")).values[np.arange(len(last)), last]
                        for metric in self.surveyed(design)}

        def write_posterior(path: Path) -> None:
            """The posterior on the model's own scale (no unconstrained duplicates, no warm-up,
            no sample stats, no latent survey grids), float32, compressed NetCDF-4."""
            kept = posterior[[v for v in posterior.data_vars if not v.endswith(("__", *LATENT_GRIDS))]]
            encoding = {name: {"zlib": True, "complevel": 4, "dtype": "float32"} for name in kept.data_vars}
            kept.to_netcdf(path, engine="h5netcdf", encoding=encoding)

        return FitResult(
            family=self.family, draws=draws,
            sampler=self.config,
            convergence=convergence, effect_sources={**effects, **sources},
            warnings=list(design.warnings), write_posterior=write_posterior,
            survey_error=self.surveyed(design), asymmetry=asymmetry, start_scores=start_scores,
        )


def _asymmetry_summary(posterior, segments: list[str]) -> dict:
    """The manifest's :class:`cxroi.manifest.Asymmetry` of a posterior with loss slopes: mean
    loss slope per effect and segment, the population difference μ_loss − μ_gain (mean, P10,
    P90) and P(falls act more strongly than rises) = P(expected sign · (μ_loss − μ_gain) > 0)."""
    loss, difference, stronger = {}, {}, {}
    for name in ASYMMETRIC_EFFECTS:
        values = posterior[f"{name}_loss"].values.reshape(-1, len(segments))
        loss[name] = dict(zip(segments, map(float, values.mean(axis=0)), strict=True))
        delta = (posterior[f"{name}_loss_mu"].values - posterior[f"{name}_mu"].values).ravel()
        low, high = np.quantile(delta, [0.1, 0.9])
        difference[name] = {"mean": float(delta.mean()), "low": float(low), "high": float(high)}
        stronger[name] = float(np.mean(EXPECTED_SIGN[name] * delta > 0))
    return {"effects": ASYMMETRIC_EFFECTS, "loss": loss, "loss_minus_gain": difference,
            "p_loss_stronger": stronger}
