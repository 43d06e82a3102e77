"""Collect what a model report needs from the registry and the panel, then assemble it:
the panel the model was trained on, predictive checks per segment, and the backtest of the other
model family (a registered model trained on the same data, or a regression refit, which takes
seconds). Heavy imports happen only inside :mod:`cxroi.fit`, which this module calls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxroi.catalogue import DEFAULT_CATALOGUE, Initiative, load_catalogue
from cxroi.data.fingerprint import panel_fingerprint
from cxroi.data.quality import QualityWarning, panel_warnings
from cxroi.data.readers import load_panel, read_table
from cxroi.data.schema import require_valid
from cxroi.errors import CxroiError
from cxroi.manifest import Manifest
from cxroi.params import artifact_parameters
from cxroi.registry import DEFAULT_MODELS_DIR, ModelArtifact, list_models, load_artifact
from cxroi.report.content import METRIC_LABELS, PREDICTIVE_DRAWS, build_report
from cxroi.report.document import Report, Section
from cxroi.seeds import DEFAULT_SEED, RandomStreams

SAMPLE_PANEL = Path(__file__).resolve().parent.parent.parent / "data" / "sample" / "panel.csv"
PREDICTIVE_INTERVAL = 0.80


def find_panel(artifact: ModelArtifact, data: str | Path | None) -> tuple[pd.DataFrame | None, str]:
    """The panel to report on and a sentence saying how it relates to the model's training data.

    With ``data`` given it is used (and must be valid: a DataError lists every problem);
    otherwise the file recorded at training (manifest ``data_path``), then the shipped sample
    panel, is used when it still reads as valid and its fingerprint matches the model's.
    """
    expected = artifact.manifest.data_fingerprint
    if data is not None:
        panel = require_valid(read_table(data), str(data))
        same = panel_fingerprint(panel) == expected
        return panel, (f"Data: {data} ({'the model’s training data' if same else 'NOT the data this model was trained on: fingerprints differ'}).")
    recorded = artifact.manifest.data_path
    for candidate in ([Path(recorded)] if recorded else []) + [SAMPLE_PANEL]:
        if candidate.is_file():
            panel, _ = load_panel(candidate)
            if panel is not None and panel_fingerprint(panel) == expected:
                return panel, f"Data: {candidate} (the model’s training data, fingerprint {expected})."
    if recorded:
        return None, (f"Data: the training panel {recorded} is gone or has changed since training (pass --data "
                      "PANEL); data summary and predictive checks are omitted.")
    return None, ("Data: the training panel was not found (pass --data PANEL); data summary and "
                  "predictive checks are omitted.")


def training_window(panel: pd.DataFrame, manifest: Manifest) -> pd.DataFrame:
    """Rows of ``panel`` inside the model's training window (all rows when none is recorded)."""
    window = manifest.training_window
    periods = pd.to_datetime(panel["period"])
    keep = pd.Series(True, index=panel.index)
    if window is not None:
        keep &= (periods >= pd.Timestamp(window.start)) & (periods < pd.Timestamp(window.end) + pd.offsets.MonthBegin(1))
    return panel.loc[keep].reset_index(drop=True)


def _catalogue() -> dict[str, Initiative]:
    return load_catalogue(DEFAULT_CATALOGUE)


def predictive_frames(artifact: ModelArtifact, panel: pd.DataFrame, seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Per segment: observed value and predictive median / 80 % interval of churned, new
    customers and revenue per month, given actual customers at start and lagged CSAT/NPS."""
    from cxroi.fit.design import build_design
    from cxroi.fit.diagnostics import interval
    from cxroi.fit.predictive import observed, predict_cells

    design = build_design(panel, _catalogue(), artifact.manifest.lag_months)
    state = artifact.state
    order = [artifact.segments.index(s) for s in design.segments]
    ref_csat = np.array([state[s].ref_csat for s in design.segments])
    ref_nps = np.array([state[s].ref_nps for s in design.segments])
    cells = design.cells(ref_csat=ref_csat, ref_nps=ref_nps)
    step = max(1, artifact.n_draws // PREDICTIVE_DRAWS)
    axes = artifact_parameters(artifact.manifest.asymmetry is not None)
    draws = {name: values[::step][:, order] if axes[name][0] == "segment" else values[::step]
             for name, values in artifact.draws.items()}
    predicted = predict_cells(draws, cells, RandomStreams(seed).generator("predictive"))
    frames: dict[str, list[pd.DataFrame]] = {s: [] for s in design.segments}
    for metric, actual in observed(cells).items():
        low, high = interval(predicted[metric], PREDICTIVE_INTERVAL)
        median = np.median(predicted[metric], axis=0)
        for s, segment in enumerate(design.segments):
            here = cells.segment == s
            frames[segment].append(pd.DataFrame({
                "period": design.periods[cells.month[here]], "metric": METRIC_LABELS.get(metric, metric),
                "observed": actual[here], "median": median[here], "low": low[here], "high": high[here],
            }))
    return {segment: pd.concat(parts, ignore_index=True) for segment, parts in frames.items()}


def _registered_backtest(family: str, fingerprint: str | None, models_dir: Path) -> tuple[dict | None, str | None]:
    """Backtest of the newest readable model of ``family`` trained on the same data."""
    for row in list_models(models_dir):
        if row.get("error") or row.get("family") != family:
            continue
        try:
            other = load_artifact(row["model_id"], models_dir)
        except CxroiError:
            continue
        if other.manifest.data_fingerprint == fingerprint and other.manifest.backtest is not None:
            return other.manifest.backtest.model_dump(), other.model_id
    return None, None


def regression_backtest(panel: pd.DataFrame, manifest: Manifest) -> dict:
    """Backtest of a regression refit of ``panel`` (same holdout and seed as the model's)."""
    from cxroi.fit.backtest import HOLDOUT_MONTHS, run_backtest
    from cxroi.fit.design import build_design
    from cxroi.fit.regression import RegressionModel

    catalogue = _catalogue()
    seed = DEFAULT_SEED if manifest.seed is None else manifest.seed
    design = build_design(panel, catalogue, manifest.lag_months)
    holdout = manifest.backtest.holdout_months if manifest.backtest else HOLDOUT_MONTHS
    return run_backtest(design, lambda d: RegressionModel(seed=seed).fit(d, catalogue),
                        RandomStreams(seed).generator("backtest"), holdout=holdout)


def comparison_backtests(artifact: ModelArtifact, panel: pd.DataFrame | None,
                         models_dir: Path) -> tuple[dict[str, dict], list[str]]:
    """Backtests by family (this model's, and the other family's when one can be had) and notes
    saying where each comes from."""
    m = artifact.manifest
    backtests: dict[str, dict] = {}
    notes: list[str] = []
    if m.backtest is not None:
        backtests[m.family] = m.backtest.model_dump()
        notes.append(f"{m.family}: this model ({artifact.model_id}).")
    other = "regression" if m.family == "bayes" else "bayes"
    found, other_id = _registered_backtest(other, m.data_fingerprint, models_dir)
    if found is not None:
        backtests[other] = found
        notes.append(f"{other}: registered model {other_id}, trained on the same data.")
    elif other == "regression" and panel is not None:
        try:
            backtests[other] = regression_backtest(panel, m)
            notes.append("regression: refitted on the same training window for this report.")
        except CxroiError as exc:
            notes.append(f"regression: could not be refitted for comparison ({exc}).")
    else:
        notes.append(f"{other}: no {other} model trained on the same data is registered "
                     f"(train one with `cxroi train --family {other}` to compare).")
    return backtests, notes


def gather(model: str | None = None, data: str | Path | None = None,
           models_dir: str | Path = DEFAULT_MODELS_DIR, seed: int = DEFAULT_SEED,
           tracking: Section | None = None) -> Report:
    """The report of ``model`` (the champion when None) on ``data`` (the training panel when
    None), with the ``tracking`` section of its decisions when given."""
    models_dir = Path(models_dir)
    artifact = load_artifact(model, models_dir)
    panel, data_note = find_panel(artifact, data)
    window = training_window(panel, artifact.manifest) if panel is not None else None
    predictive, predictive_note, data_warnings = None, "", list[QualityWarning]()
    if window is not None:
        lag = artifact.manifest.lag_months
        data_warnings = panel_warnings(window, lag)
        try:
            predictive = predictive_frames(artifact, window, seed)
        except (CxroiError, ValueError) as exc:
            predictive_note = str(exc)
    backtests, notes = comparison_backtests(artifact, window, models_dir)
    return build_report(artifact, window, backtests, predictive, data_note=data_note, backtest_notes=notes,
                        predictive_note=predictive_note, data_warnings=data_warnings, tracking=tracking)
