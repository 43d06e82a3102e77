"""Bad input gets a plain error and writes nothing: a panel that does not extend the decision's
(other segments, earlier months only, a gap), an unknown decision, no month after the start."""

from __future__ import annotations

import pandas as pd
import pytest

from cxroi.cli import main
from cxroi.errors import DataError
from cxroi.testing.artifacts import exact_artifact
from cxroi.track import track
from tests.track.conftest import VALUES, decision, exact_panel


def test_panel_of_other_segments(exact):
    panel = exact_panel(3).assign(segment="Other")
    with pytest.raises(DataError, match="segment\\(s\\) S of the model are missing"):
        track(decision(exact.model_id), exact, panel)


def test_panel_with_earlier_months_only(exact):
    panel = exact_panel(3)
    panel = panel[panel["period"] <= "2025-12-01"]
    with pytest.raises(DataError, match="ends in 2025-12, not after the model's training window"):
        track(decision(exact.model_id), exact, panel)


def test_panel_with_a_gap(exact):
    panel = exact_panel(4)
    panel = panel[panel["period"] != pd.Timestamp("2026-02-01")]
    with pytest.raises(DataError, match="segment S has a gap: no row for 2026-02"):
        track(decision(exact.model_id), exact, panel)


def test_panel_without_the_last_training_month(exact):
    panel = exact_panel(3)
    panel = panel[panel["period"] != pd.Timestamp("2025-12-01")]
    with pytest.raises(DataError, match="lacks the model's last training month 2025-12"):
        track(decision(exact.model_id), exact, panel)


def test_fewer_than_one_month_after_the_start(exact):
    """The decision starts in forecast month 3 (2026-03); the panel reaches 2026-02."""
    with pytest.raises(DataError, match="starts in forecast month 3 \\(2026-03\\): at least one month"):
        track(decision(exact.model_id, start_month=3), exact, exact_panel(2))


def _run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_cli_unknown_decision_writes_nothing(approved, capsys):
    decision_id, folder = approved
    panel = folder / "newer.csv"
    exact_panel(3).to_csv(panel, index=False)
    code, text = _run(["track", str(decision_id + 100), "--data", str(panel), "--out", str(folder / "out")], capsys)
    assert code == 2 and "Error:" in text and str(decision_id + 100) in text and "Traceback" not in text
    assert not (folder / "out").exists()


def test_cli_panel_with_a_gap_writes_nothing(approved, capsys):
    decision_id, folder = approved
    panel = exact_panel(4)
    panel[panel["period"] != pd.Timestamp("2026-02-01")].to_csv(folder / "gap.csv", index=False)
    code, text = _run(["track", str(decision_id), "--data", str(folder / "gap.csv"), "--out", str(folder / "out"),
                       "--propose-pilots", str(folder / "pilots.csv")], capsys)
    assert code == 2 and "gap" in text and "Traceback" not in text
    assert not (folder / "out").exists() and not (folder / "pilots.csv").exists()


def test_cli_tracks_and_writes_files(approved, capsys):
    """A good panel (expected values with the assumed lift, counts rounded as a panel needs them):
    tables, files, and the status."""
    decision_id, folder = approved
    counts = ["customers_start", "churned", "new_customers"]
    exact_panel(4).round(dict.fromkeys(counts, 0)).astype(dict.fromkeys(counts, int)).to_csv(folder / "newer.csv",
                                                                                           index=False)
    code, text = _run(["track", str(decision_id), "--data", str(folder / "newer.csv"), "--out", str(folder / "out")],
                      capsys)
    assert code == 0, text
    assert "Status:" in text and "Realised CX lift" in text
    assert sorted(p.name for p in (folder / "out").iterdir()) == ["lift.csv", "monthly.csv", "summary.csv",
                                                                 "tracking.json", "tracking.xlsx"]
    monthly = pd.read_csv(folder / "out" / "monthly.csv")
    assert list(monthly["month"].unique()) == ["2026-01", "2026-02", "2026-03", "2026-04"]
    # the workbook read back: the decision and status above the to-date table, every sheet present
    book = pd.read_excel(folder / "out" / "tracking.xlsx", sheet_name=None, header=None)
    assert list(book) == ["Summary", "Monthly", "CX lift", "Proposed pilots", "Caveats"]
    summary = book["Summary"]
    fields = dict(zip(summary[0], summary[1], strict=True))
    assert fields["Decision"] == decision_id and fields["Scenario"] == "Portal" and fields["Status"] in text
    measures = list(summary[0])
    assert measures[measures.index("Measure") + 1:] == ["Incremental revenue (cumulative)",
                                                        "Incremental cash flow (cumulative)",
                                                        "Incremental customers (end of month)", "NPV to date",
                                                        "NPV over the horizon (updated)"]
    # 4 months × 3 metrics below the header
    assert len(book["Monthly"]) == 1 + 4 * 3 and set(book["Monthly"][0][1:]) == set(monthly["month"])
    assert "CSAT" in set(book["CX lift"][0])


def test_cli_proposes_pilots_only_where_asked(approved, capsys):
    """Without --propose-pilots nothing but --out is written; with it, the pilot file."""
    decision_id, folder = approved
    counts = ["customers_start", "churned", "new_customers"]
    exact_panel(4).round(dict.fromkeys(counts, 0)).astype(dict.fromkeys(counts, int)).to_csv(folder / "newer.csv",
                                                                                           index=False)
    before = sorted(p.name for p in folder.iterdir())
    code, _ = _run(["track", str(decision_id), "--data", str(folder / "newer.csv")], capsys)
    assert code == 0 and sorted(p.name for p in folder.iterdir()) == before
    code, text = _run(["track", str(decision_id), "--data", str(folder / "newer.csv"), "--propose-pilots",
                       str(folder / "proposed.csv")], capsys)
    assert code == 0 and "not applied" in text
    assert pd.read_csv(folder / "proposed.csv").columns[:5].tolist() == ["initiative", "segment", "metric", "lift", "se"]


def test_cli_data_continue(tmp_path, capsys):
    """`cxroi data continue` writes the longer panel and the truth; a wrong segment is a plain error."""
    assert main(["data", "synth", "--segments", "4", "--months", "12", "--seed", "3", "--out", str(tmp_path / "s")]) == 0
    code, text = _run(["data", "continue", str(tmp_path / "s"), "--months", "3", "--initiative", "onboarding_program",
                       "--segments", "SMB-EU", "--lift-csat", "2", "--out", str(tmp_path / "c")], capsys)
    assert code == 0, text
    panel = pd.read_csv(tmp_path / "c" / "panel.csv")
    assert panel["period"].nunique() == 15
    code, text = _run(["data", "continue", str(tmp_path / "s"), "--months", "3", "--initiative", "onboarding_program",
                       "--segments", "Mars", "--out", str(tmp_path / "d")], capsys)
    assert code == 2 and "Mars" in text and not (tmp_path / "d").exists()


def test_too_few_training_months_for_the_lag(tmp_path):
    """Lag 2 needs the CSAT of two months before the first tracked one: a panel holding only the
    last training month is refused in plain words."""
    artifact = exact_artifact(tmp_path, "exact-lag2", VALUES, customers=10_000.0, lag=2)
    panel = exact_panel(3)
    panel = panel[panel["period"] >= "2025-12-01"]
    with pytest.raises(DataError, match=r"holds 1 training month\(s\).*at least 1 more training month"):
        track(decision(artifact.model_id), artifact, panel)
