"""The regression family (statsmodels): binomial GLM for churn, OLS with month-clustered errors
for log ARPU, negative-binomial GLM for new customers, each with segment interactions (one
intercept and slope per segment), and draws from the multivariate normal of the estimates.

Where the panel gives response counts, CSAT and NPS enter by regression calibration (their
survey sampling error corrected; cxroi.fit.survey.calibrated), otherwise as observed.

Dispersion parameters come from residuals: churn_concentration from the Pearson dispersion of the
binomial fit, arpu_sigma from residual spread (converted to the Student-t scale), acq_alpha from a
moment estimate; each gets scaled-χ² draws for its estimation uncertainty.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from cxroi.catalogue import Initiative
from cxroi.fit.design import ARPU_NU, Cells, Design
from cxroi.fit.lifts import history_lift_estimates, lift_draws
from cxroi.fit.pilots import Pilot
from cxroi.fit.result import FitResult
from cxroi.fit.survey import calibrated
from cxroi.manifest import SamplerConfig
from cxroi.science import logistic
from cxroi.seeds import DEFAULT_SEED, RandomStreams

#: prior sd of the penalised churn fit used under separation: logit intercept, effects per 10 points
SEPARATION_PRIOR_SD = {"intercept": 5.0, "effect": 1.0}
#: largest |logit coefficient| accepted from the unpenalised fit before separation is assumed
MAX_PLAIN_COEF = 15.0
#: cap on dispersion-derived concentrations (≈ no overdispersion)
MAX_CONCENTRATION = 1e6
#: sd of the mean-zero normal used for a coefficient the data cannot identify because its
#: covariate never varies in a segment (e.g. constant CSAT); per 10 points on each outcome's link
#: scale, the same scales as the Bayesian family's population priors (cxroi.fit.bayes.POOLED_SCALES)
UNIDENTIFIED_SD = {"churn": 0.5, "arpu": 0.1, "acquisition": 0.3}


def _interactions(cells: Cells, n_segments: int, covariates: list[np.ndarray]) -> np.ndarray:
    """Design matrix: for each covariate (the first is the intercept) one column per segment."""
    onehot = np.eye(n_segments)[cells.segment]
    return np.column_stack([onehot * c[:, None] for c in covariates])


def _varying(exog: np.ndarray) -> np.ndarray:
    """Columns of a design matrix that the data can identify (boolean mask): not identically
    zero and, taken in order, not a linear combination of the columns kept before them (relative
    tolerance 1e-8 on the singular values). Such a column arises when a covariate never varies in
    a segment, or when regression calibration finds a segment's true CSAT and NPS moving as one
    (then only the first of the two effects is estimated there)."""
    keep = np.zeros(exog.shape[1], dtype=bool)
    scale = np.linalg.norm(exog, axis=0)
    for j in np.flatnonzero(scale > 0):
        trial = keep.copy()
        trial[j] = True
        columns = exog[:, trial] / scale[trial]
        singular = np.linalg.svd(columns, compute_uv=False)
        keep[j] = singular[-1] > 1e-8 * singular[0]
    return keep


def _expand(params: np.ndarray, cov: np.ndarray, keep: np.ndarray, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Estimates of the kept columns, with 0 ± ``sd`` (independent) for the dropped ones."""
    full = np.zeros(len(keep))
    full[keep] = params
    full_cov = np.diag(np.where(keep, 0.0, sd**2))
    full_cov[np.ix_(keep, keep)] = cov
    return full, full_cov


def _fit_identified(fit_once: Callable[[np.ndarray], tuple], keep: np.ndarray, sd: float,
                    effect_columns: int) -> tuple[np.ndarray, np.ndarray, object]:
    """``fit_once(keep)`` → (params, cov, extra) of the kept columns, expanded to all columns
    (:func:`_expand`); fitted once more without every CX-effect column (the last
    ``effect_columns``) whose estimate came out less certain than 0 ± ``sd``: the history then
    says less about that effect than the reference prior does (a segment of a few dozen customers
    whose calibrated scores barely move, say), and the near-constant column would only blur the
    segment's other estimates. Such an effect gets 0 ± ``sd``, like a covariate that never moves."""
    params, cov, extra = fit_once(keep)
    full, full_cov = _expand(params, cov, keep, sd)
    effects = np.arange(len(keep) - effect_columns, len(keep))
    weak = effects[keep[effects] & (np.diag(full_cov)[effects] > sd**2)]
    if weak.size:
        keep = keep.copy()
        keep[weak] = False
        params, cov, extra = fit_once(keep)
        full, full_cov = _expand(params, cov, keep, sd)
    return full, full_cov, extra


def _scaled_chi2(estimate: np.ndarray, df: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draws (n × len(estimate)) of a variance estimate's sampling distribution: est·df/χ²_df."""
    return estimate[None, :] * df / rng.chisquare(df, size=(n, len(estimate)))


def _penalised_binomial(exog: np.ndarray, churned: np.ndarray, trials: np.ndarray, n_segments: int):
    """MAP of the binomial GLM under independent normal priors (SEPARATION_PRIOR_SD: the first
    ``n_segments`` columns are intercepts, the rest effects); returns (params, cov) with cov the
    inverse of the penalised information. The log-likelihood is evaluated as
    Σ y·η − n·log(1 + e^η) with log-sum-exp, so it stays finite however far the data push η."""
    from scipy.optimize import minimize
    from scipy.special import expit

    k = exog.shape[1]
    sd = np.where(np.arange(k) < n_segments, SEPARATION_PRIOR_SD["intercept"], SEPARATION_PRIOR_SD["effect"])
    prec = 1.0 / sd**2

    def objective(b: np.ndarray) -> float:
        eta = exog @ b
        return -float(churned @ eta - trials @ np.logaddexp(0.0, eta)) + 0.5 * float(np.sum(prec * b**2))

    def gradient(b: np.ndarray) -> np.ndarray:
        return -exog.T @ (churned - trials * expit(exog @ b)) + prec * b

    def information(b: np.ndarray) -> np.ndarray:
        p = expit(exog @ b)
        return (exog * (trials * p * (1.0 - p))[:, None]).T @ exog + np.diag(prec)

    opt = minimize(objective, np.zeros(k), jac=gradient, hess=information, method="trust-exact")
    return opt.x, np.linalg.inv(information(opt.x))


def _separating(cells: Cells, n_segments: int) -> bool:
    """Whether, in some segment, lagged CSAT or NPS perfectly splits months with churners from
    months without: the likelihood then drives that effect to ±∞ while the fit may stop early
    with a large estimate and a deceptively small standard error."""
    for s in range(n_segments):
        here = cells.segment == s
        some = cells.churned[here] > 0
        if some.all() or not some.any():
            continue
        for z in (cells.zc[here], cells.zn[here]):
            if z[some].max() < z[~some].min() or z[some].min() > z[~some].max():
                return True
    return False


def fit_churn(cells: Cells, n_segments: int, warn: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binomial GLM of churned out of customers_start; (params, cov, pearson dispersion per segment)."""
    exog = _interactions(cells, n_segments, [np.ones(len(cells)), cells.zc, cells.zn])
    notes: list[str] = []
    params, cov, _ = _fit_identified(lambda keep: (*_churn_estimates(cells, exog[:, keep], n_segments, notes), None),
                                     _varying(exog), UNIDENTIFIED_SD["churn"], 2 * n_segments)
    warn += list(dict.fromkeys(notes))
    p = logistic(exog @ params)
    n = cells.customers_start
    pearson = (cells.churned - n * p) ** 2 / np.maximum(n * p * (1 - p), 1e-12)
    dispersion = np.array([pearson[cells.segment == s].sum() for s in range(n_segments)])
    return params, cov, dispersion


def _churn_estimates(cells: Cells, exog: np.ndarray, n_segments: int, warn: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(params, cov) of the binomial GLM on the columns of ``exog``: the plain fit with
    month-clustered errors, or the penalised one under separation (noted in ``warn``)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    endog = np.column_stack([cells.churned, cells.customers_start - cells.churned])
    model = sm.GLM(endog, exog, family=sm.families.Binomial())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(cov_type="cluster", cov_kwds={"groups": cells.month})
    trials = cells.customers_start
    months = np.bincount(cells.segment, minlength=n_segments)
    extreme = np.bincount(cells.segment, (cells.churned == 0) | (cells.churned == trials), n_segments)
    separated = (any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
                 or np.any((months > 0) & (extreme == months))  # a segment at 0 % or 100 % churn throughout
                 or not np.all(np.isfinite(result.params)) or np.abs(result.params).max() > MAX_PLAIN_COEF
                 or not np.all(np.isfinite(result.cov_params())))
    if separated:
        warn.append("churn: quasi-complete separation in the regression fit; estimates are penalised "
                    f"(normal priors, sd {SEPARATION_PRIOR_SD}) with model-based covariance")
        return _penalised_binomial(exog, cells.churned, trials, n_segments)
    if _separating(cells, n_segments):
        warn.append("churn: lagged CSAT or NPS perfectly splits months with churners from months without in "
                    "some segment; its churn effects are pushed toward the extreme and less certain than "
                    "their intervals say")
    return result.params, result.cov_params()


def fit_arpu(cells: Cells, n_segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS of log ARPU with month-clustered errors; (params, cov, residual sum of squares per segment)."""
    import statsmodels.api as sm

    exog = _interactions(cells, n_segments, [np.ones(len(cells)), cells.month.astype(float), cells.zc])

    def fit_once(keep: np.ndarray) -> tuple:
        result = sm.OLS(cells.log_arpu, exog[:, keep]).fit(cov_type="cluster", cov_kwds={"groups": cells.month})
        rss = np.array([np.sum(result.resid[cells.segment == s] ** 2) for s in range(n_segments)])
        return result.params, result.cov_params(), rss

    return _fit_identified(fit_once, _varying(exog), UNIDENTIFIED_SD["arpu"], n_segments)


def fit_acquisition(cells: Cells, n_segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Negative-binomial GLM of new customers; (params, cov, moment estimate of 1/acq_alpha per segment)."""
    import statsmodels.api as sm

    exog = _interactions(cells, n_segments, [np.ones(len(cells)), cells.month.astype(float), cells.zn])
    y = cells.new_customers

    def fit_once(keep: np.ndarray) -> tuple:
        kept = exog[:, keep]
        mu = sm.GLM(y, kept, family=sm.families.Poisson()).fit().fittedvalues
        inverse_alpha = np.array([
            max(np.sum((y - mu)[cells.segment == s] ** 2 - y[cells.segment == s]) / np.sum(mu[cells.segment == s] ** 2),
                1e-6)
            for s in range(n_segments)
        ])
        family = sm.families.NegativeBinomial(alpha=float(np.median(inverse_alpha)))
        result = sm.GLM(y, kept, family=family).fit(cov_type="cluster", cov_kwds={"groups": cells.month})
        return result.params, result.cov_params(), inverse_alpha

    return _fit_identified(fit_once, _varying(exog), UNIDENTIFIED_SD["acquisition"], n_segments)


class RegressionModel:
    """Settings of a regression fit; :meth:`fit` returns a :class:`FitResult`."""

    family = "regression"

    def __init__(self, n_draws: int = 2000, seed: int = DEFAULT_SEED, survey_error: bool = True):
        self.n_draws = n_draws
        self.streams = RandomStreams(seed)
        self.survey_error = survey_error

    def fit(self, design: Design, catalogue: dict[str, Initiative], pilots: list[Pilot] | None = None) -> FitResult:
        pilots = pilots or []
        rng = self.streams.generator("sampler")
        S, n = design.n_segments, self.n_draws
        warn = list(design.warnings)
        corrected = _surveyed(design) if self.survey_error else ()
        calibrated_scores = calibrated_design(design, corrected, warn)
        cells = calibrated_scores.cells()
        per_segment = np.bincount(cells.segment, minlength=S)

        churn, churn_cov, dispersion = fit_churn(cells, S, warn)
        arpu, arpu_cov, rss = fit_arpu(cells, S)
        acq, acq_cov, inverse_alpha = fit_acquisition(cells, S)
        draws: dict[str, np.ndarray] = {}
        for names, mean, cov in (
            (("churn_intercept", "churn_csat", "churn_nps"), churn, churn_cov),
            (("arpu_intercept", "arpu_trend", "arpu_csat"), arpu, arpu_cov),
            (("acq_intercept", "acq_trend", "acq_nps"), acq, acq_cov),
        ):
            sample = rng.multivariate_normal(mean, cov, size=n, method="eigh")
            for j, name in enumerate(names):
                draws[name] = sample[:, j * S:(j + 1) * S]

        df = per_segment - 3
        phi = np.maximum(_scaled_chi2(dispersion / df, int(df.min()), n, rng), 1.0 + 1e-9)
        mean_n = np.array([cells.customers_start[cells.segment == s].mean() for s in range(S)])
        draws["churn_concentration"] = np.minimum((mean_n - 1) / (phi - 1) - 1, MAX_CONCENTRATION).clip(1.0)
        variance = _scaled_chi2(rss / df, int(df.min()), n, rng)
        draws["arpu_sigma"] = np.sqrt(variance * (ARPU_NU - 2) / ARPU_NU)
        draws["acq_alpha"] = 1.0 / _scaled_chi2(inverse_alpha, int(df.min()), n, rng)

        history = history_lift_estimates(design, catalogue)
        lifts, lift_sources = lift_draws(catalogue, pilots, history, n, self.streams.generator("catalogue"))
        draws.update(lifts)
        sources = {name: dict.fromkeys(design.segments, "history")
                   for name in ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")}
        return FitResult(
            family=self.family, draws=draws,
            sampler=SamplerConfig(name="statsmodels", draws=n, chains=1, tune=None, cores=None, target_accept=None,
                                  parameterization=None,
                                  covariance="cluster-robust by month; lifts: AR(1) feasible GLS"),
            convergence={}, effect_sources={**sources, **lift_sources}, warnings=warn, survey_error=corrected,
            start_scores={score: getattr(calibrated_scores, score)[np.arange(S), design.last_observed]
                          for score in corrected},
            score_view=(lambda seen: calibrated_design(seen, corrected, [])) if corrected else None,
        )


def _surveyed(design: Design) -> tuple[str, ...]:
    """The scores whose response counts the design has (their survey error can be corrected)."""
    return tuple(score for score in ("csat", "nps") if design.responses(score) is not None)


def calibrated_design(design: Design, scores: tuple[str, ...], warn: list[str]) -> Design:
    """``design`` with the grids of ``scores`` replaced by their joint regression calibration
    (cxroi.fit.survey.calibrated; references unchanged); a note in ``warn`` for a score whose
    movement is all survey noise (its effects then rest on the unidentified prior)."""
    if not scores:
        return design
    grids, reliability = calibrated({score: getattr(design, score) for score in ("csat", "nps")},
                                    {score: design.responses(score) for score in scores}, design.observed,
                                    {score: getattr(design, f"ref_{score}") for score in scores})
    warn += [f"{score.upper()}: its month-to-month movement is no more than its survey noise explains; its "
             "effects are not estimated from the history" for score, r in zip(scores, reliability, strict=True)
             if r < 1e-9]
    return replace(design, **grids)
