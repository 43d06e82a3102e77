"""The model report's "Tracked decisions" section: every decision approved on the model, tracked
against a newer panel, with its status, revenue to date against the promise and the lift
realised against the one assumed; a decision that cannot be tracked is named with the reason."""

from __future__ import annotations

import numpy as np

from cxroi.cli import main
from cxroi.report.content import tracking_section
from cxroi.report.document import Bullets, Chart, Table
from cxroi.track import track
from tests.track.conftest import csat_lift, decision, exact_panel


def test_section_of_a_kept_promise_and_of_a_decision_not_yet_started(exact):
    """Zero-noise outcomes made with the assumed lift: on track with certainty, the realised CSAT
    lift the mean of the lift shown over the six months; a decision starting in month 9 cannot
    be tracked with six months and is listed with the reason."""
    kept = decision(exact.model_id)
    later = decision(exact.model_id, start_month=9, decision_id=8)
    panel = exact_panel(6)
    section = tracking_section([(kept, track(kept, exact, panel, noise=False)), (later, "starts after the panel")],
                               "newer.csv")
    table = next(b for b in section.blocks if isinstance(b, Table)).frame
    row = table.iloc[0]
    assert row["Decision"] == "7" and row["Months"] == "6 (2026-01 to 2026-06)" and row["Status"] == "on track"
    assert row["P(behind / on track / ahead)"] == "0% / 100% / 0%"
    expected_lift = np.mean([csat_lift(m) for m in range(1, 7)])
    assert row["CX lift realised vs assumed (points)"].startswith(f"CSAT {expected_lift:+.2f} vs {expected_lift:+.2f}")
    assert [b.name for b in section.blocks if isinstance(b, Chart)] == ["tracking-7"]
    bullets = next(b for b in section.blocks if isinstance(b, Bullets)).items
    assert bullets == ["decision 8 (Portal): starts after the panel"]


def test_report_command_tracks_the_decisions_of_its_model(approved, capsys):
    """`cxroi report --track-data` on the model of an approved decision writes the section; a
    panel with errors is refused before anything is written."""
    decision_id, folder = approved
    counts = ["customers_start", "churned", "new_customers"]
    exact_panel(4).round(dict.fromkeys(counts, 0)).astype(dict.fromkeys(counts, int)).to_csv(folder / "newer.csv",
                                                                                           index=False)
    models = folder / "models"
    model_id = next(p.name for p in models.iterdir() if p.is_dir())
    code = main(["report", "--model", model_id, "--models-dir", str(models), "--out", str(folder / "out"),
                 "--track-data", str(folder / "newer.csv")])
    text = capsys.readouterr()
    assert code == 0, text
    markdown = (folder / "out" / "report.md").read_text()
    section = markdown.split("## Tracked decisions", 1)[1].split("\n## ", 1)[0]
    assert f"| {decision_id} | Portal | 4 (2026-01 to 2026-04) |" in section
    assert (folder / "out" / "charts" / f"tracking-{decision_id}.svg").exists()
    (folder / "bad.csv").write_text("segment,period\nS,not a month\n")
    code = main(["report", "--model", model_id, "--models-dir", str(models), "--out", str(folder / "out2"),
                 "--track-data", str(folder / "bad.csv")])
    assert code == 2 and not (folder / "out2").exists()
