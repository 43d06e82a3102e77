"""Fixtures of the trust tests: the real ``cxroi`` command line run in-process on awkward panels
(regression family — fast; the point is the data handling, not the sampler)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from cxroi.cli import main
from cxroi.manifest import Manifest
from cxroi.registry import read_manifest
from tests.trust import awkward


@dataclass(frozen=True)
class CliRun:
    code: int
    output: str  # stdout and stderr, whitespace collapsed (rich wraps long lines)


def run_cli(*argv: str) -> CliRun:
    """Run ``cxroi argv`` in this process and capture what it prints."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        code = main(list(argv))
    return CliRun(code, " ".join(buffer.getvalue().split()))


def flat(text: str) -> str:
    """``text`` with whitespace collapsed, to compare against CLI output."""
    return " ".join(text.split())


@dataclass(frozen=True)
class AwkwardRun:
    """One awkward panel trained and reported on through the CLI."""

    panel_path: Path
    train: CliRun
    manifest: Manifest
    model_dir: Path
    report: CliRun
    report_dir: Path


@pytest.fixture(scope="session")
def awkward_runs(tmp_path_factory) -> dict[str, AwkwardRun]:
    """``cxroi train --family regression`` then ``cxroi report`` on every awkward panel."""
    runs = {}
    for name, (builder, _, _) in awkward.CASES.items():
        folder = tmp_path_factory.mktemp(name)
        panel_path, models_dir = folder / "panel.csv", folder / "models"
        builder().to_csv(panel_path, index=False)
        train = run_cli("train", "--data", str(panel_path), "--family", "regression", "--seed", "3",
                        "--models-dir", str(models_dir), "--no-promote")
        (model_dir,) = [p for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
        manifest = read_manifest(model_dir)
        report = run_cli("report", "--model", manifest.model_id, "--data", str(panel_path),
                         "--models-dir", str(models_dir), "--out", str(folder / "report"))
        runs[name] = AwkwardRun(panel_path, train, manifest, model_dir, report, folder / "report")
    return runs
