"""Artifacts written by training: layout, integrity errors, light loading, no pickle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cxroi import registry
from cxroi.errors import ArtifactError
from cxroi.integrity import stamped
from cxroi.params import PARAMETERS

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("pymc", "pytensor", "arviz", "statsmodels")
MANIFEST_FIELDS = (
    "model_id", "family", "created_at", "cxroi_version", "schema_version", "data_fingerprint", "training_window",
    "segments", "initiatives", "initiative_settings", "lag_months", "seed", "sampler", "n_draws", "state",
    "diagnostics", "backtest", "health", "status", "effect_sources", "warnings",
)


def test_manifest_carries_every_agreed_field(regression_artifact) -> None:
    manifest = registry.load_artifact(regression_artifact).manifest
    assert [f for f in MANIFEST_FIELDS if getattr(manifest, f) is None] == []
    diagnostics = manifest.diagnostics
    assert None not in (diagnostics.max_rhat, diagnostics.min_ess_bulk, diagnostics.min_ess_tail, diagnostics.divergences)
    assert {r.metric for r in manifest.backtest.rows} == {"churned", "revenue", "new_customers"}
    assert set(manifest.effect_sources) >= {"churn_csat", "churn_nps", "arpu_csat", "acq_nps", "lift_csat"}


def test_loading_draws_imports_no_training_stack(regression_artifact) -> None:
    code = (
        "import sys\n"
        "from cxroi.registry import load_artifact\n"
        f"a = load_artifact({str(regression_artifact)!r})\n"
        "assert a.draws['churn_csat'].shape[0] == a.n_draws\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def copy_of(regression_artifact, tmp_path):
    import shutil

    target = tmp_path / "models" / regression_artifact.name
    shutil.copytree(regression_artifact, target)
    return target


def test_truncated_draws_name_the_file(copy_of) -> None:
    draws = copy_of / registry.DRAWS
    draws.write_bytes(draws.read_bytes()[: draws.stat().st_size // 2])
    with pytest.raises(ArtifactError, match=r"draws\.npz: checksum mismatch"):
        registry.load_artifact(copy_of)


def test_edited_draws_with_a_fixed_up_hash_are_still_checked(copy_of) -> None:
    with np.load(copy_of / registry.DRAWS, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["churn_csat"] = arrays["churn_csat"][:, :-1]  # one segment column removed
    np.savez_compressed(copy_of / registry.DRAWS, **arrays)
    manifest = json.loads((copy_of / registry.MANIFEST).read_text())
    manifest["files"][registry.DRAWS] = registry._sha256(copy_of / registry.DRAWS)
    (copy_of / registry.MANIFEST).write_text(json.dumps(stamped(manifest)))  # hashes fixed up by hand
    with pytest.raises(ArtifactError, match="'churn_csat' has shape"):
        registry.load_artifact(copy_of)


def test_edited_manifest_and_wrong_schema_are_clear_errors(copy_of) -> None:
    path = copy_of / registry.MANIFEST
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ArtifactError, match="corrupt manifest"):
        registry.load_artifact(copy_of)
    manifest = json.loads(text)
    manifest["schema_version"] = registry.SCHEMA_VERSION + 1
    path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="schema version"):
        registry.load_artifact(copy_of)


def test_draws_are_plain_arrays_and_no_pickle_is_used(regression_artifact) -> None:
    with np.load(regression_artifact / registry.DRAWS, allow_pickle=False) as npz:
        assert set(npz.files) == set(PARAMETERS)
        assert all(npz[k].dtype == np.float64 for k in npz.files)
    for path in [*(REPO / "cxroi" / "fit").glob("*.py"), REPO / "cxroi" / "cli" / "models_cmd.py"]:
        source = path.read_text()
        assert "pickle" not in source.replace("allow_pickle=False", ""), path
