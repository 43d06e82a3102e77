"""Small display pieces used by more than one page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import pandas as pd
import streamlit as st

from cxroi.app import formatting as fmt
from cxroi.app.jobs import Job
from cxroi.data.schema import Finding, findings_frame
from cxroi.fit.progress import ProgressLine
from cxroi.manifest import Health


class Tile(NamedTuple):
    """One headline figure: label, formatted value, hover help, a small note below it, and an
    optional change shown under the value (``delta_color`` "normal": a rise is good news and
    green, "inverse": a rise is bad news and red)."""

    label: str
    value: str
    help: str | None = None
    note: str | None = None
    delta: str | None = None
    delta_color: str = "normal"


#: width (px) of one tile in a group: fits values such as "−$15.3M" or "> 120 mo" at metric size
TILE_WIDTH = 170
TILE_GAP = 16  # px, Streamlit's "small" gap


def metric_tiles(tiles: Sequence[Tile], group: int = 1) -> None:
    """Headline figures in a row that wraps onto more lines on narrow screens instead of cutting
    values off. ``group`` > 1 keeps that many tiles together in a fixed-width block (four tiles
    in groups of two show as one row, or 2 × 2 on a laptop); single tiles stretch to share the
    row and wrap one by one."""
    row = st.container(horizontal=True, gap="small")
    for start in range(0, len(tiles), group):
        members = tiles[start:start + group]
        block = row if group == 1 else row.container(
            horizontal=True, wrap=False, gap="small", width=len(members) * TILE_WIDTH + (len(members) - 1) * TILE_GAP)
        for tile in members:
            box = block.container()
            box.metric(tile.label, tile.value, delta=tile.delta, delta_color=tile.delta_color, help=tile.help)
            if tile.note:
                box.caption(tile.note)


def findings_table(findings: list[Finding]) -> None:
    """Every validation finding in one table (errors first), with a count line above it."""
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    st.markdown(f"**{errors} error(s), {warnings} warning(s)**")
    frame = findings_frame(findings)
    # file- and column-level findings have no row: a dash, not "None"
    frame["row"] = [fmt.MISSING if pd.isna(row) else f"{int(row):,}" for row in frame["row"]]
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "severity": st.column_config.TextColumn("Severity"),
            "row": st.column_config.TextColumn("Row", help="1-based data row (header excluded)"),
            "column": st.column_config.TextColumn("Column"),
            "problem": st.column_config.TextColumn("Problem", width="large"),
        },
    )


#: how a health verdict (pass, review, fail) is shown
VERDICT_BADGES = {"pass": ":green[passed]", "review": ":orange[needs review]", "fail": ":red[not passed]"}


def health_table(health: Health) -> None:
    """The health-gate checks of a model in plain words: check, value and threshold in the
    check's own format, outcome (pass, review, fail)."""
    if not health.checks:
        st.caption("No health checks recorded for this model.")
        return

    rows = [{"Check": check.label, "Value": fmt.check_value(check.name, check.value),
             "Rule": f"{check.rule} {fmt.check_value(check.name, check.threshold)}",
             "Outcome": check.verdict.capitalize()}
            for check in health.checks]
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "Outcome": st.column_config.TextColumn("Outcome", help="Pass; Review (usable, flagged wherever the "
                                                                "model's numbers are shown); Fail")})


JOB_LABELS = {"running": "running…", "succeeded": "finished", "failed": "failed",
              "interrupted": "interrupted (the app restarted)"}


def progress_text(line: ProgressLine) -> str:
    """A progress update in words: share done, what is happening, speed, elapsed and left."""
    parts = [f"{line.fraction:.0%}", line.stage]
    if line.draws_per_s:
        parts.append(f"{line.draws_per_s:,.0f} draws/s")
    parts.append(f"{fmt.duration(line.elapsed_s)} elapsed")
    if line.eta_s is not None and line.fraction < 1:
        parts.append(f"about {fmt.duration(line.eta_s)} left")
    return " · ".join(parts)


def job_progress(job: Job, title: str, polling: bool, progress: ProgressLine | None = None) -> str:
    """A background job's state, its latest ``progress`` update as a bar (when it reports one)
    and the tail of its output; returns its status. While ``polling`` (the caller refreshes as a
    fragment), the whole page reruns once the job ends."""
    status = job.status()
    if polling and status != "running":
        st.rerun()
    state = {"running": "running", "succeeded": "complete"}.get(status, "error")
    # not used as a `with` block: leaving one marks a running status complete
    box = st.status(f"{title} {JOB_LABELS[status]} — started {job.started_at:%Y-%m-%d %H:%M} UTC", state=state,
                    expanded=status != "succeeded")
    if progress is not None and status == "running":
        box.progress(min(max(progress.fraction, 0.0), 1.0), text=progress_text(progress))
    box.code(job.log_tail() or "waiting for output…", language=None)
    return status


def refreshing(render: Callable[[bool], None], polling: bool) -> None:
    """Call ``render(polling)`` as a fragment that refreshes every 2 s while ``polling``."""
    st.fragment(render, run_every=2.0 if polling else None)(polling)
