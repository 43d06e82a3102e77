"""`cxroi report`: both files written, every section present, figures equal to the manifest's,
one predictive-check chart per segment, and a page that needs no network."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from cxroi.data.synth import generate
from cxroi.registry import champion_id
from tests.conftest import SAMPLE_PANEL
from tests.trust.conftest import flat, run_cli

#: one worker builds the module's shared fits (with --dist loadgroup)
pytestmark = pytest.mark.xdist_group("trust-report")

SECTIONS = {
    "summary": "Model", "data": "Data", "diagnostics": "Diagnostics and health gate",
    "predictive": "Posterior predictive checks", "backtest": "Backtest: model families vs naive forecasts",
    "effects": "Effect estimates and where they come from", "warnings": "Warnings",
}


def slug(segment: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", segment.lower()).strip("-")


def md_table(markdown: str, caption: str) -> pd.DataFrame:
    """The Markdown table under ``**caption**`` as strings."""
    lines = markdown.split(f"**{caption}**\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
    return pd.DataFrame(cells[2:], columns=cells[0])


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    """A regression champion trained on data/sample and its report (champion, panel found by
    its fingerprint — no --model, no --data)."""
    folder = tmp_path_factory.mktemp("sample-report")
    models = folder / "models"
    train = run_cli("train", "--data", str(SAMPLE_PANEL), "--family", "regression", "--seed", "1",
                    "--models-dir", str(models))
    assert train.code == 0, train.output
    manifest = json.loads((models / champion_id(models) / "manifest.json").read_text())
    report = run_cli("report", "--models-dir", str(models), "--out", str(folder / "out"))
    assert report.code == 0, report.output
    out = folder / "out"
    return manifest, (out / "report.md").read_text(), (out / "report.html").read_text(), out, models


def test_both_files_and_every_section(sample_report):
    manifest, markdown, html, *_ = sample_report
    for anchor, title in SECTIONS.items():
        assert f"## {title}\n" in markdown
        assert f'<section id="{anchor}"><h2>{title}</h2>' in html
    assert manifest["model_id"] in markdown.splitlines()[0]


def test_one_predictive_chart_per_segment(sample_report):
    manifest, markdown, html, out, _ = sample_report
    for segment in manifest["segments"]:
        name = f"ppc-{slug(segment)}"
        assert html.count(f'<figure id="chart-{name}">') == 1
        assert f"(charts/{name}.svg)" in markdown
        assert (out / "charts" / f"{name}.svg").read_text().lstrip().startswith("<svg")
    assert html.count('<figure id="chart-ppc-') == len(manifest["segments"])


def test_page_is_self_contained(sample_report):
    _, _, html, *_ = sample_report
    assert "<script" not in html and "src=\"http" not in html and "href=\"http" not in html
    assert html.count("src=\"data:image/svg+xml;base64,") >= 3


def test_diagnostics_equal_the_manifest(sample_report):
    manifest, markdown, *_ = sample_report
    table = md_table(markdown, "Diagnostics").set_index("diagnostic")["value"]
    d = manifest["diagnostics"]
    assert table["max_rhat"] == f"{d['max_rhat']:.4g}"
    assert table["min_ess_bulk"] == f"{d['min_ess_bulk']:.4g}"
    assert table["divergences"] == str(d["divergences"])
    for metric, values in d["predictive"].items():
        assert table[f"predictive.{metric}.coverage_80"] == f"{values['coverage_80']:.4g}"
    health = md_table(markdown, "Health gate").set_index("check")
    for check in manifest["health"]["checks"]:
        assert health.loc[check["name"], "value"] == f"{check['value']:.4g}"
        assert health.loc[check["name"], "passed"] == ("yes" if check["passed"] else "NO")


def test_backtest_equals_the_manifest(sample_report):
    manifest, markdown, *_ = sample_report
    table = md_table(markdown, "Held-out months: MAPE and interval coverage").set_index("metric")
    labels = {"churned": "Churned customers", "revenue": "Revenue", "new_customers": "New customers"}
    for row in manifest["backtest"]["rows"]:
        shown = table.loc[labels[row["metric"]]]
        assert shown["Regression model MAPE %"] == f"{row['model_mape_pct']:.2f}"
        assert shown["Naive last value MAPE %"] == f"{row['naive_last_mape_pct']:.2f}"
        assert shown["Seasonal naive MAPE %"] == f"{row['seasonal_naive_mape_pct']:.2f}"
        assert shown["Regression model 80 % coverage"] == f"{100 * row['coverage_80']:.1f} %"
    assert table.loc["Mean over metrics", "Regression model MAPE %"] == f"{manifest['backtest']['model_mape_pct']:.2f}"
    assert "no bayes model trained on the same data is registered" in markdown


def test_effects_carry_their_source(sample_report):
    manifest, markdown, *_ = sample_report
    table = md_table(markdown, "Effects: posterior mean and 90 % interval")
    for _, row in table.iterrows():
        assert row["source"] == manifest["effect_sources"][row["effect"]][row["segment / initiative"]]
    # 4 segment effects × segments + 2 lifts × initiatives
    assert len(table) == 4 * len(manifest["segments"]) + 2 * len(manifest["initiatives"])
    assert set(table["source"]) >= {"history", "catalogue"}


def test_unknown_model_is_a_clear_error(tmp_path):
    run = run_cli("report", "--model", "nope", "--models-dir", str(tmp_path), "--out", str(tmp_path / "o"))
    assert run.code == 2 and "model 'nope' not found" in run.output


def test_invalid_panel_is_a_clear_error(sample_report, tmp_path):
    *_, models = sample_report
    bad = tmp_path / "bad.csv"
    bad.write_text("segment,period\nA,not-a-date\n")
    run = run_cli("report", "--data", str(bad), "--models-dir", str(models), "--out", str(tmp_path / "o"))
    assert run.code == 2 and "problem(s) found" in run.output and "'not-a-date' is not a date" in run.output
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_report_compares_both_families(tmp_path):
    """A small Bayesian model and a regression model on the same panel: the report of the
    Bayesian one shows both families' backtests, each equal to its own manifest."""
    panel = tmp_path / "panel.csv"
    frame = generate(segments=3, months=20, seed=5).panel
    frame.loc[:, ~frame.columns.str.startswith("spend_")].to_csv(panel, index=False)  # compiles once
    models = tmp_path / "models"
    manifests = {}
    # survey error off: the latent survey paths quadruple the compile and have nothing to do with this report
    bayes = ["--draws", "100", "--tune", "100", "--chains", "2", "--no-survey-error"]
    for family, extra in (("regression", []), ("bayes", bayes)):
        run = run_cli("train", "--data", str(panel), "--family", family, "--models-dir", str(models),
                      "--no-promote", *extra)
        assert run.code in (0, 4), run.output
        (path,) = [p for p in models.iterdir() if p.is_dir() and p.name.startswith(family)]
        manifests[family] = json.loads((path / "manifest.json").read_text())
    out = tmp_path / "out"
    run = run_cli("report", "--model", manifests["bayes"]["model_id"], "--data", str(panel),
                  "--models-dir", str(models), "--out", str(out))
    assert run.code == 0, run.output
    markdown = (out / "report.md").read_text()
    table = md_table(markdown, "Held-out months: MAPE and interval coverage").set_index("metric")
    for family, label in (("bayes", "Bayesian model"), ("regression", "Regression model")):
        assert table.loc["Mean over metrics", f"{label} MAPE %"] == f"{manifests[family]['backtest']['model_mape_pct']:.2f}"
    assert f"registered model {manifests['regression']['model_id']}" in flat(markdown)


def test_report_finds_the_recorded_training_panel(tmp_path):
    """Trained on a panel outside data/sample, the report finds it again through the path the
    manifest recorded — and says so plainly once that file has changed."""
    panel = tmp_path / "history" / "panel.csv"
    panel.parent.mkdir()
    generate(segments=3, months=20, seed=8).panel.to_csv(panel, index=False)
    models = tmp_path / "models"
    train = run_cli("train", "--data", str(panel), "--family", "regression", "--models-dir", str(models))
    assert train.code == 0, train.output
    report = run_cli("report", "--models-dir", str(models), "--out", str(tmp_path / "found"))
    assert report.code == 0, report.output
    assert f"Data: {panel.resolve()} (the model’s training data" in flat((tmp_path / "found" / "report.md").read_text())

    generate(segments=3, months=20, seed=9).panel.to_csv(panel, index=False)
    report = run_cli("report", "--models-dir", str(models), "--out", str(tmp_path / "changed"))
    assert report.code == 0, report.output
    markdown = flat((tmp_path / "changed" / "report.md").read_text())
    assert f"the training panel {panel.resolve()} is gone or has changed since training" in markdown
