"""Tamper evidence and hostile files in the registry, attacked through the registry API and the
``cxroi`` command: a plain message naming the artifact, exit 2 for a user's command, nothing
written, and a broken champion never listed as usable."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cxroi import registry
from cxroi.cli import main
from cxroi.errors import ArtifactError
from cxroi.integrity import HASH_FIELD, content_hash, stamped
from cxroi.testing.artifacts import plausible_artifact

GOOD = "bayes-good"
PLAN = ("name: Plan\nhorizon_months: 12\ninvestments:\n  - initiative: I1\n    segments: [S1]\n"
        "    duration_months: 6\n    monthly_spend: 8000\n")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return plausible_artifact(tmp_path_factory.mktemp("pristine"), model_id=GOOD, n_draws=20,
                              n_segments=2, n_initiatives=1).path


@pytest.fixture
def models(pristine, tmp_path) -> Path:
    models = tmp_path / "models"
    shutil.copytree(pristine, models / GOOD)
    registry.promote(GOOD, models, user="tests")
    return models


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / registry.MANIFEST).read_text())


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / registry.MANIFEST).write_text(json.dumps(manifest))


def listing(models: Path, capsys) -> str:
    """The listing's text with line wraps undone."""
    assert main(["models", "list", "--models-dir", str(models)]) == 0
    return " ".join(capsys.readouterr().out.split())


def simulate(models: Path, tmp_path: Path, capsys) -> tuple[int, str, Path]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    out = tmp_path / "out"
    code = main(["simulate", "--scenario", str(plan), "--models-dir", str(models), "--out", str(out)])
    return code, capsys.readouterr().err, out


def test_saved_models_carry_a_hash_that_the_promotion_log_records(models) -> None:
    manifest = manifest_of(models / GOOD)
    assert manifest[HASH_FIELD] == content_hash(manifest)
    entry = json.loads((models / registry.PROMOTION_LOG).read_text().splitlines()[-1])
    assert entry["content_hash"] == manifest[HASH_FIELD]


@pytest.mark.parametrize("edit", [
    lambda m: m["state"]["S1"].update(customers=m["state"]["S1"]["customers"] * 10),
    lambda m: m.update(status="rejected"),
    lambda m: m.update(content_hash="0" * 64),
])
def test_a_hand_edited_manifest_is_refused_and_flagged(models, tmp_path, capsys, edit) -> None:
    manifest = manifest_of(models / GOOD)
    edit(manifest)
    write_manifest(models / GOOD, manifest)
    message = f"model '{GOOD}' no longer matches the content hash recorded when it was saved"
    with pytest.raises(ArtifactError, match=message):
        registry.load_artifact(GOOD, models)
    out = listing(models, capsys)
    assert "UNUSABLE" in out and "* │ bayes-good" in out and "accepted │" not in out
    assert f"champion '{GOOD}' cannot be used" in out
    code, err, out_dir = simulate(models, tmp_path, capsys)
    assert code == 2 and message in err.replace("\n", " ") and not out_dir.exists()
    assert main(["models", "promote", GOOD, "--reason", "again", "--models-dir", str(models)]) == 2


def test_an_edited_file_is_refused_and_flagged(models, capsys) -> None:
    with open(models / GOOD / registry.DRAWS, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match=r"draws\.npz: checksum mismatch"):
        registry.load_artifact(GOOD, models)
    assert "UNUSABLE" in listing(models, capsys)


def test_an_artifact_without_a_hash_loads_but_is_shown_not_verifiable(models, capsys) -> None:
    manifest = manifest_of(models / GOOD)
    del manifest[HASH_FIELD]
    write_manifest(models / GOOD, manifest)
    assert registry.load_artifact(GOOD, models).manifest.content_hash is None
    assert "not verifiable" in listing(models, capsys)


def restamp(folder: Path) -> None:
    """Fix up the draws' hash and the content hash, as a careful hand-editor (or an attacker) would."""
    manifest = manifest_of(folder)
    manifest["files"][registry.DRAWS] = registry._sha256(folder / registry.DRAWS)
    write_manifest(folder, stamped(manifest))


def add_member(folder: Path, name: str, payload: bytes) -> None:
    with zipfile.ZipFile(folder / registry.DRAWS, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, payload)
    restamp(folder)


def test_an_unexpected_member_of_the_draws_is_refused(models) -> None:
    add_member(models / GOOD, "extra.npy", b"\0" * 50_000_000)  # 50 MB declared, never decompressed
    with pytest.raises(ArtifactError, match=r"draws\.npz: holds unexpected member\(s\) extra\.npy; .*not loaded"):
        registry.load_artifact(GOOD, models)


def test_a_member_claiming_a_huge_array_is_refused_before_allocation(models) -> None:
    folder = models / GOOD
    with np.load(folder / registry.DRAWS, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**9, 2)}
    np.lib.format.write_array_header_1_0(buffer, header)
    with zipfile.ZipFile(folder / registry.DRAWS, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            if name == "churn_csat":
                archive.writestr(f"{name}.npy", buffer.getvalue() + array.tobytes())
            else:
                with archive.open(f"{name}.npy", "w") as member:
                    np.lib.format.write_array(member, array)
    restamp(folder)
    with pytest.raises(ArtifactError, match=r"member churn_csat\.npy declares|member churn_csat\.npy claims shape"):
        registry.load_artifact(GOOD, models)


def test_draws_that_are_a_link_to_an_endless_device_are_refused_at_once(models, capsys) -> None:
    draws = models / GOOD / registry.DRAWS
    draws.unlink()
    os.symlink("/dev/zero", draws)
    started = time.monotonic()
    with pytest.raises(ArtifactError, match=r"draws\.npz: is a symbolic link"):
        registry.load_artifact(GOOD, models)
    assert "is a symbolic link" in listing(models, capsys)
    assert time.monotonic() - started < 5


def test_a_model_folder_that_is_a_link_is_refused_and_listed_as_such(models, tmp_path, capsys) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.move(models / GOOD, elsewhere)
    os.symlink(elsewhere, models / GOOD)
    with pytest.raises(ArtifactError, match=rf"{GOOD}: is a symbolic link; a model folder must be a real folder"):
        registry.load_artifact(GOOD, models)
    with pytest.raises(ArtifactError, match="is a symbolic link"):
        registry.load_artifact(None, models)
    assert "is a symbolic link" in listing(models, capsys)


def test_a_manifest_or_champion_that_is_a_link_is_refused(models, tmp_path) -> None:
    real = tmp_path / "manifest.json"
    shutil.move(models / GOOD / registry.MANIFEST, real)
    os.symlink(real, models / GOOD / registry.MANIFEST)
    with pytest.raises(ArtifactError, match=r"manifest\.json: is a symbolic link"):
        registry.load_artifact(GOOD, models)
    champion = models / registry.CHAMPION_FILE
    shutil.move(champion, tmp_path / "CHAMPION")
    os.symlink(tmp_path / "CHAMPION", champion)
    with pytest.raises(ArtifactError, match=r"CHAMPION: is a symbolic link"):
        registry.load_artifact(None, models)


def test_draws_that_would_overflow_a_forecast_are_refused_naming_the_parameter(models, tmp_path, capsys) -> None:
    folder = models / GOOD
    with np.load(folder / registry.DRAWS, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["acq_intercept"][0, 0] = 1e300
    np.savez_compressed(folder / registry.DRAWS, **arrays)
    restamp(folder)
    code, err, out = simulate(models, tmp_path, capsys)
    assert code == 2 and "'acq_intercept' must lie in [-100, 20] in every draw" in err and not out.exists()
