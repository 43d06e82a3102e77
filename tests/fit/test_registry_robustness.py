"""Hand-edited or corrupted artifacts: one clear ArtifactError naming the file and the field, and
one bad artifact never breaks the listing of the others or the CLI.

The edits here re-stamp the content hash as a careful hand-editor would, so that what is checked
is the field (tests/hardening/test_registry_integrity.py checks that an edit without it is refused)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cxroi import registry
from cxroi.cli import main
from cxroi.errors import ArtifactError
from cxroi.integrity import stamped
from cxroi.testing.artifacts import plausible_artifact

GOOD, BAD = "bayes-good", "bayes-bad"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A small valid artifact (4 segments S1…S4, 2 initiatives I1, I2) written once per module."""
    models = tmp_path_factory.mktemp("pristine")
    return plausible_artifact(models, model_id=GOOD, n_draws=20).path


@pytest.fixture
def models(pristine, tmp_path) -> Path:
    """A registry holding the good artifact, promoted."""
    models = tmp_path / "models"
    shutil.copytree(pristine, models / GOOD)
    registry.promote(GOOD, models, user="tests")
    return models


def add_bad_copy(models: Path, edit) -> Path:
    """Copy the good artifact to BAD (model_id updated) and apply ``edit`` to its manifest."""
    folder = models / BAD
    shutil.copytree(models / GOOD, folder)
    manifest = json.loads((folder / registry.MANIFEST).read_text())
    manifest["model_id"] = BAD
    edit(manifest)
    (folder / registry.MANIFEST).write_text(json.dumps(stamped(manifest)))
    return folder


def setter(*keys_and_value):
    """An edit that sets manifest[k1][k2]… = value."""
    *keys, value = keys_and_value

    def edit(manifest: dict) -> None:
        target = manifest
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


CORRUPTIONS = {
    "state as a list": (setter("state", [1, 2]), r"state must be an object \(found \[1, 2\]\)"),
    "files as a list": (setter("files", ["draws.npz"]), r"files must be an object"),
    "files without draws": (setter("files", {}), r"files must list 'draws\.npz'"),
    "customers as text": (setter("state", "S2", "customers", "lots"),
                          r"state\['S2'\]\.customers must be a finite number between 0 and 1e\+12 \(found 'lots'\)"),
    "customers NaN": (setter("state", "S2", "customers", float("nan")),
                      r"state\['S2'\]\.customers must be a finite number between 0 and 1e\+12 \(found nan\)"),
    "negative customers": (setter("state", "S1", "customers", -5), r"state\['S1'\]\.customers must be"),
    "CSAT above 100": (setter("state", "S3", "csat", 150.0),
                       r"state\['S3'\]\.csat must be a finite number between 0 and 100 \(found 150\.0\)"),
    "state of a segment missing": (lambda m: m["state"].pop("S4"), r"state lacks the starting state of segment 'S4'"),
    "zero monthly cost": (setter("initiative_settings", "I1", "monthly_cost", 0),
                          r"initiative_settings\['I1'\]\.monthly_cost must be a finite number > 0 \(found 0\)"),
    "no monthly cost": (lambda m: m["initiative_settings"]["I2"].pop("monthly_cost"),
                        r"initiative_settings\['I2'\] lacks monthly_cost"),
    "negative saturation": (setter("initiative_settings", "I2", "saturation_k", -1.0),
                            r"initiative_settings\['I2'\]\.saturation_k must be a finite number > 0"),
    "negative lag": (setter("lag_months", -3), r"lag_months must be a whole number ≥ 0 \(found -3\)"),
    "fractional lag": (setter("lag_months", 1.5), r"lag_months must be a whole number"),
    "garbage window end": (setter("training_window", "end", "garbage"),
                           r"training_window\.end must be a month written YYYY-MM \(found 'garbage'\)"),
    "window backwards": (setter("training_window", {"start": "2025-12", "end": "2023-01"}),
                         r"training_window\.start 2025-12 is after its end 2023-01"),
    "segments as text": (setter("segments", "S1"), r"segments must be a list of distinct, non-empty names"),
    "duplicate segment": (setter("segments", ["S1", "S1", "S2", "S3"]), r"segments must be a list of distinct"),
    "unknown family": (setter("family", "neural"), r"family must be 'bayes' or 'regression' \(found 'neural'\)"),
    "status in capitals": (setter("status", "ACCEPTED"), r"status must be 'accepted' or 'rejected'"),
    "health as a list": (setter("health", [True]), r"health must be an object"),
    "health verdict as text": (setter("health", "passed", "yes"), r"health\.passed must be true or false"),
    "seed as text": (setter("seed", "five"), r"seed must be a whole number ≥ 0"),
    "effect sources as a list": (setter("effect_sources", []), r"effect_sources must be an object"),
    "empty model id": (setter("model_id", ""), r"model_id must be a non-empty text"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupt_manifest_field_is_named_and_the_others_stay_listed(models, case, capsys) -> None:
    edit, message = CORRUPTIONS[case]
    bad = add_bad_copy(models, edit)
    expected = rf"{bad / registry.MANIFEST}: {message}"
    with pytest.raises(ArtifactError, match=expected):
        registry.load_artifact(BAD, models)
    rows = {r["model_id"]: r for r in registry.list_models(models)}
    assert rows[GOOD]["error"] is None and rows[GOOD]["champion"]
    assert "manifest.json" in rows[BAD]["error"]
    assert main(["models", "list", "--models-dir", str(models)]) == 0
    assert GOOD in capsys.readouterr().out
    for command in (["models", "show", BAD], ["models", "promote", BAD, "--reason", "check"]):
        assert main([*command, "--models-dir", str(models)]) == 2  # a user error, not an internal one (3)
        assert "manifest.json" in capsys.readouterr().err
    assert registry.champion_id(models) == GOOD


def _rewrite_draws(folder: Path, name: str, change) -> None:
    """Edit one parameter's draws and fix up the manifest's hash, as a careful hand-editor would."""
    with np.load(folder / registry.DRAWS, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays[name])
    np.savez_compressed(folder / registry.DRAWS, **arrays)
    manifest = json.loads((folder / registry.MANIFEST).read_text())
    manifest["files"][registry.DRAWS] = registry._sha256(folder / registry.DRAWS)
    (folder / registry.MANIFEST).write_text(json.dumps(stamped(manifest)))


@pytest.mark.parametrize(("name", "value", "message"), [
    ("acq_nps", np.nan, r"'acq_nps' holds non-finite values"),  # guards the finiteness check already there
    ("churn_csat", np.inf, r"'churn_csat' holds non-finite values"),
    ("lift_carryover", 1.5, r"'lift_carryover' must lie in \[0, 1\) in every draw"),
    ("churn_concentration", -2.0, r"'churn_concentration' must lie in \(0, 1e\+09\] in every draw \(found -2 to"),
    ("arpu_trend", 1e300, r"'arpu_trend' must lie in \[-5, 0\.1\] in every draw \(found .* to 1e\+300\)"),
])
def test_out_of_range_draws_name_the_parameter(models, name, value, message) -> None:
    bad = add_bad_copy(models, lambda m: None)

    def change(array: np.ndarray) -> None:
        array[3, 0] = value

    _rewrite_draws(bad, name, change)
    with pytest.raises(ArtifactError, match=rf"{bad / registry.DRAWS}: {message}"):
        registry.load_artifact(BAD, models)


def test_a_renamed_folder_is_refused_everywhere_and_never_promoted(models, capsys) -> None:
    shutil.copytree(models / GOOD, models / "my-copy")
    differs = r"model_id 'bayes-good' differs from the folder name 'my-copy'"
    with pytest.raises(ArtifactError, match=differs):
        registry.load_artifact("my-copy", models)
    with pytest.raises(ArtifactError, match=differs):
        registry.promote("my-copy", models)
    assert registry.champion_id(models) == GOOD  # CHAMPION still names a folder that resolves
    rows = {r["model_id"]: r for r in registry.list_models(models)}
    assert "differs from the folder name" in rows["my-copy"]["error"] and rows[GOOD]["error"] is None
    assert main(["models", "promote", "my-copy", "--reason", "copy", "--models-dir", str(models)]) == 2
    assert "differs from the folder name" in capsys.readouterr().err


def test_champion_naming_a_missing_model_points_at_the_champion_file(models, capsys) -> None:
    (models / registry.CHAMPION_FILE).write_text("bayes-gone\n")
    with pytest.raises(ArtifactError, match=r"CHAMPION names model 'bayes-gone', which is not in"):
        registry.load_artifact(None, models)
    assert "CHAMPION names model 'bayes-gone'" in registry.champion_problem(models)
    assert main(["models", "list", "--models-dir", str(models)]) == 0
    out = capsys.readouterr().out
    assert GOOD in out and "warning" in out and "bayes-gone" in out


def test_champion_file_that_is_a_folder_is_a_clear_error(models, capsys) -> None:
    (models / registry.CHAMPION_FILE).unlink()
    (models / registry.CHAMPION_FILE).mkdir()
    with pytest.raises(ArtifactError, match=r"CHAMPION: is a folder, not the file naming the champion"):
        registry.load_artifact(None, models)
    assert [r["model_id"] for r in registry.list_models(models)] == [GOOD]
    assert main(["models", "list", "--models-dir", str(models)]) == 0
    assert "is a folder" in capsys.readouterr().out
    assert main(["models", "show", GOOD, "--models-dir", str(models)]) == 0


def test_unusable_champion_is_warned_about_in_the_listing(models, capsys) -> None:
    manifest = json.loads((models / GOOD / registry.MANIFEST).read_text())
    manifest["state"]["S1"]["arpu"] = "cheap"
    (models / GOOD / registry.MANIFEST).write_text(json.dumps(manifest))
    assert main(["models", "list", "--models-dir", str(models)]) == 0
    out = capsys.readouterr().out
    assert "warning" in out and "champion 'bayes-good' cannot be used" in out


def test_an_empty_model_id_is_named_as_such(models) -> None:
    with pytest.raises(ArtifactError, match="an empty model id was given"):
        registry.load_artifact("", models)


def test_missing_optional_posterior_does_not_block_loading(pristine, tmp_path) -> None:
    manifest = json.loads((pristine / registry.MANIFEST).read_text())
    keep = {k: v for k, v in manifest.items() if k not in ("files", "schema_version", "cxroi_version")}
    with np.load(pristine / registry.DRAWS, allow_pickle=False) as npz:
        draws = {k: npz[k] for k in npz.files}
    path = registry.save_artifact(keep, draws, tmp_path, write_posterior=lambda p: p.write_bytes(b"netcdf"))
    assert registry.POSTERIOR in json.loads((path / registry.MANIFEST).read_text())["files"]
    (path / registry.POSTERIOR).unlink()
    assert registry.load_artifact(GOOD, tmp_path).n_draws == 20
    (path / registry.DRAWS).unlink()
    with pytest.raises(ArtifactError, match=r"draws\.npz: file listed in the manifest is missing"):
        registry.load_artifact(GOOD, tmp_path)


def test_saving_an_invalid_manifest_writes_nothing(pristine, tmp_path) -> None:
    manifest = json.loads((pristine / registry.MANIFEST).read_text())
    manifest = {k: v for k, v in manifest.items() if k != "files"}
    manifest["initiative_settings"]["I1"]["monthly_cost"] = 0.0
    with np.load(pristine / registry.DRAWS, allow_pickle=False) as npz:
        draws = {k: npz[k] for k in npz.files}
    with pytest.raises(ArtifactError, match=r"monthly_cost must be a finite number > 0"):
        registry.save_artifact(manifest, draws, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_show_works_for_an_artifact_without_training_reports(models, capsys) -> None:
    """Artifacts written by other tools may lack backtest, sampler and predictive checks."""
    assert main(["models", "show", GOOD, "--models-dir", str(models)]) == 0
    out = capsys.readouterr().out
    assert "churn_csat" in out and "Backtest" not in out
