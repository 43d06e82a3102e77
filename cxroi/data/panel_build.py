"""Steps every input shape shares on its way to the panel: progress reports, findings named by
their source, and the panel built (and validated) from the counts an engine returns."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from cxroi.data.engine import Engine, open_engine
from cxroi.data.panel_sql import COUNT_COLUMNS
from cxroi.data.schema import SURVEY_SCORES, Finding, validate_panel
from cxroi.errors import DataError

Progress = Callable[[str], None]
#: what an input shape computes on an engine: panel-count rows (None when the inputs have
#: errors), the spend columns after the counts, and the findings
Counted = tuple[list[tuple] | None, list[str], list[Finding]]
#: how often the running query's completion is reported (seconds)
PROGRESS_SECONDS = 0.25


class Steps:
    """Reports each step's text to ``report``, followed by the running query's completion
    percentage where the engine knows it (polled every PROGRESS_SECONDS)."""

    def __init__(self, engine: Engine, report: Progress | None):
        self.engine, self.report = engine, report

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        if self.report is None:
            yield
            return
        self.report(text)
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(PROGRESS_SECONDS):
                done = self.engine.progress()
                if done >= 0:  # −1 between queries or when unknown
                    self.report(f"{text} ({done:.0f} %)")

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join()


def has_errors(findings: Sequence[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def prefixed(findings: Sequence[Finding], label: str) -> list[Finding]:
    """Findings of a secondary source, their problem prefixed with the source's label."""
    return [Finding(f.severity, f.row, f.column, f"{label}: {f.problem}") for f in findings]


def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Errors first, then by row (file-level findings last) and column."""
    return sorted(findings, key=lambda f: (f.severity != "error", f.row is None, f.row or 0, f.column or ""))


def _panel_findings(raw: pd.DataFrame, findings: list[Finding]) -> list[Finding]:
    """Panel findings, their row turned into the segment and month it describes."""
    labelled = []
    for f in findings:
        if f.row is None:
            labelled.append(f)
            continue
        cell = raw.iloc[f.row - 1]
        where = f"panel {cell['segment']} {pd.Timestamp(cell['period']):%Y-%m}"
        labelled.append(Finding(f.severity, None, f.column, f"{where}: {f.problem}"))
    return labelled


def _survey_findings(raw: pd.DataFrame, answer_columns: tuple[str, str]) -> list[Finding]:
    """Segment-months without any CSAT or NPS answer, named one by one: the month still counts,
    without that score (the panel's own warning about empty scores, which names panel rows, is
    left out in favour of these)."""
    findings = []
    for column, score in zip(answer_columns, SURVEY_SCORES, strict=True):
        for cell in raw[raw[score].isna()].itertuples(index=False):
            findings.append(Finding("warning", None, column, f"panel {cell.segment} {pd.Timestamp(cell.period):%Y-%m}: "
                                                             f"no {score.upper()} answers: the month has no {score} "
                                                             "score, which the models interpolate"))
    return findings


def panel_frame(rows: list[tuple], spend_columns: list[str]) -> pd.DataFrame:
    """The panel (unvalidated) from panel-count rows (:data:`~cxroi.data.panel_sql.COUNT_COLUMNS`
    then the spend columns): revenue = cents / 100, csat = 100 · top-2-box / answers (%),
    nps = 100 · (promoters − detractors) / answers (points); empty where a month has no answers."""
    counts = pd.DataFrame(rows, columns=[*COUNT_COLUMNS, *spend_columns])
    whole = {c: counts[c].astype("int64").to_numpy() for c in COUNT_COLUMNS[2:]}
    with np.errstate(invalid="ignore", divide="ignore"):
        csat = np.where(whole["csat_responses"] > 0, 100.0 * whole["csat_top2"] / whole["csat_responses"], np.nan)
        nps = np.where(whole["nps_responses"] > 0,
                       100.0 * (whole["nps_promoters"] - whole["nps_detractors"]) / whole["nps_responses"], np.nan)
    raw = pd.DataFrame({
        "segment": counts["segment"].astype(object),
        "period": pd.to_datetime(counts["period"]).astype("datetime64[ns]"),
        "customers_start": whole["customers_start"], "churned": whole["churned"],
        "new_customers": whole["new_customers"], "revenue": whole["revenue_cents"] / 100,
        "csat": csat, "nps": nps,
        "csat_responses": whole["csat_responses"], "nps_responses": whole["nps_responses"],
        **{c: pd.to_numeric(counts[c].map(lambda v: None if v is None else float(v)), errors="coerce")
           for c in spend_columns},
    })
    return raw.sort_values(["segment", "period"], kind="stable").reset_index(drop=True)


def validated_panel(
    raw: pd.DataFrame, findings: list[Finding], answer_columns: tuple[str, str], progress: Progress | None
) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Check the survey coverage and validate the panel; (None, findings) on any error."""
    findings = findings + _survey_findings(raw, answer_columns)
    if has_errors(findings):
        return None, sorted_findings(findings)
    if progress is not None:
        progress("Validating the panel")
    panel, panel_findings = validate_panel(raw)
    panel_findings = [f for f in panel_findings
                      if not (f.severity == "warning" and f.row is None and f.column in SURVEY_SCORES)]
    return panel, sorted_findings(findings + _panel_findings(raw, panel_findings))


def aggregate_on(
    engine: str, url: str | None, progress: Progress | None, count: Callable[[Engine, Steps], Counted],
    answer_columns: tuple[str, str],
) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Open ``engine``, let ``count`` check the inputs and compute the panel counts on it, then
    build and validate the panel. Returns (panel or None on any error, sorted findings)."""
    try:
        with open_engine(engine, url) as eng:
            try:
                rows, spend_columns, findings = count(eng, Steps(eng, progress))
            except eng.errors as exc:  # the checks passed, so this is a resource problem (memory, disk)
                return None, [Finding("error", None, None, f"aggregation failed: {eng.error_text(exc)}")]
    except DataError as exc:
        return None, [Finding("error", None, None, str(exc))]
    if rows is None or has_errors(findings):
        return None, sorted_findings(findings)
    return validated_panel(panel_frame(rows, spend_columns), findings, answer_columns, progress)
