"""Model artifacts: write, read, list and promote ``models/<model_id>/``.

Layout of one artifact (DESIGN.md "Model artifacts"):

* ``manifest.json`` — schema version, family, provenance, segments, initiatives, starting state,
  diagnostics, backtest, health, status, and the SHA-256 of every other file;
* ``draws.npz`` — one float64 array per name in :data:`cxroi.params.PARAMETERS`, shape
  ``(draws, segments | initiatives)``, read with ``allow_pickle=False``;
* ``posterior.nc`` — optional full posterior (NetCDF) for analysts; never read by the simulator.

Reading imports only numpy and the standard library. Writing is atomic: the artifact is built in
a temporary folder beside its target and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from cxroi import __version__
from cxroi.errors import ArtifactError
from cxroi.fileio import atomic_write_text
from cxroi.params import PARAMETERS

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
DRAWS = "draws.npz"
POSTERIOR = "posterior.nc"
CHAMPION_FILE = "CHAMPION"
PROMOTION_LOG = "promotions.jsonl"
STATUS_ACCEPTED, STATUS_REJECTED = "accepted", "rejected"
DEFAULT_MODELS_DIR = Path(os.environ.get("CXROI_MODELS_DIR", Path(__file__).resolve().parent.parent / "models"))
STATE_FIELDS = ("customers", "csat", "nps", "arpu", "ref_csat", "ref_nps", "t_next")


@dataclass(frozen=True)
class ModelArtifact:
    """A loaded model: its manifest and its parameter draws (name → array draws × axis)."""

    model_id: str
    path: Path
    manifest: dict
    draws: dict[str, np.ndarray] = field(repr=False)

    @property
    def segments(self) -> list[str]:
        return list(self.manifest["segments"])

    @property
    def initiatives(self) -> list[str]:
        return list(self.manifest["initiatives"])

    @property
    def n_draws(self) -> int:
        return int(next(iter(self.draws.values())).shape[0])

    @property
    def state(self) -> dict[str, dict[str, float]]:
        """Starting state per segment: customers, csat, nps, arpu (currency/customer/month),
        ref_csat, ref_nps (training means) and t_next (month index of the first forecast month)."""
        return self.manifest["state"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def new_model_id(family: str, now: datetime | None = None) -> str:
    """A sortable, readable id such as ``bayes-20261123-101500-3f2a``."""
    now = now or datetime.now(UTC)
    return f"{family}-{now:%Y%m%d-%H%M%S}-{os.urandom(2).hex()}"


def _check_draws(draws: dict[str, np.ndarray], n_segments: int, n_initiatives: int, where: str) -> None:
    missing = sorted(set(PARAMETERS) - set(draws))
    if missing:
        raise ArtifactError(f"{where}: parameter draws missing: {', '.join(missing)}")
    n_draws = None
    for name, (axis, _) in PARAMETERS.items():
        array = draws[name]
        width = n_segments if axis == "segment" else n_initiatives
        if array.ndim != 2 or array.shape[1] != width:
            raise ArtifactError(f"{where}: '{name}' has shape {array.shape}, expected (draws, {width})")
        if n_draws is None:
            n_draws = array.shape[0]
        if array.shape[0] != n_draws or n_draws == 0:
            raise ArtifactError(f"{where}: '{name}' has {array.shape[0]} draws, expected {n_draws} (> 0)")
        if not np.all(np.isfinite(array)):
            raise ArtifactError(f"{where}: '{name}' holds non-finite values")


def save_artifact(
    manifest: dict,
    draws: dict[str, np.ndarray],
    models_dir: str | Path = DEFAULT_MODELS_DIR,
    write_posterior: Callable[[Path], None] | None = None,
) -> Path:
    """Write an artifact atomically to ``models_dir/<manifest['model_id']>`` and return its path.

    ``manifest`` must hold model_id, family, segments, initiatives and state; the schema version,
    package version, created_at and file hashes are stamped here. ``write_posterior(path)``
    optionally writes the NetCDF posterior.
    """
    models_dir = Path(models_dir)
    model_id = manifest["model_id"]
    _check_draws(draws, len(manifest["segments"]), len(manifest["initiatives"]), model_id)
    target = models_dir / model_id
    if target.exists():
        raise ArtifactError(f"{target}: a model with this id already exists")
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{model_id}.", dir=models_dir))
    try:
        np.savez_compressed(tmp / DRAWS, **{k: np.asarray(draws[k], dtype=np.float64) for k in PARAMETERS})
        if write_posterior is not None:
            write_posterior(tmp / POSTERIOR)
        stamped = {
            "schema_version": SCHEMA_VERSION,
            "cxroi_version": __version__,
            "created_at": manifest.get("created_at") or datetime.now(UTC).isoformat(timespec="seconds"),
            **manifest,
            "files": {p.name: _sha256(p) for p in sorted(tmp.iterdir())},
        }
        (tmp / MANIFEST).write_text(json.dumps(stamped, indent=2, sort_keys=True, default=_json_default) + "\n")
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def resolve_model_path(model: str | Path | None = None, models_dir: str | Path = DEFAULT_MODELS_DIR) -> Path:
    """Path of a model given its id, its folder, or None for the champion."""
    models_dir = Path(models_dir)
    if model is None:
        model = champion_id(models_dir)
        if model is None:
            raise ArtifactError(f"{models_dir}: no champion model; train one with `cxroi train` or promote one")
    path = Path(model)
    if not (path / MANIFEST).exists() and (models_dir / str(model)).exists():
        path = models_dir / str(model)
    if not path.is_dir():
        raise ArtifactError(f"model '{model}' not found in {models_dir}")
    return path


def read_manifest(path: Path) -> dict:
    """Read and check a manifest (schema version and required keys)."""
    manifest_path = path / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(f"{path}: manifest.json is missing — not a model artifact") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{manifest_path}: corrupt manifest (not valid JSON: {exc})") from exc
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{manifest_path}: corrupt manifest (expected a JSON object)")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ArtifactError(
            f"{manifest_path}: artifact schema version {version!r} is not supported by this cxroi "
            f"(expects {SCHEMA_VERSION}); retrain the model"
        )
    for key in ("model_id", "family", "segments", "initiatives", "state", "files"):
        if key not in manifest:
            raise ArtifactError(f"{manifest_path}: required field '{key}' is missing")
    for segment in manifest["segments"]:
        missing = [f for f in STATE_FIELDS if f not in manifest["state"].get(segment, {})]
        if missing:
            raise ArtifactError(f"{manifest_path}: starting state of segment '{segment}' lacks {', '.join(missing)}")
    return manifest


def load_artifact(model: str | Path | None = None, models_dir: str | Path = DEFAULT_MODELS_DIR) -> ModelArtifact:
    """Load a model (champion when ``model`` is None), verifying file hashes, names and shapes.

    Raises :class:`ArtifactError` naming the file and the problem for a missing, truncated,
    edited or incompatible artifact.
    """
    path = resolve_model_path(model, models_dir)
    manifest = read_manifest(path)
    for name, expected in manifest["files"].items():
        file_path = path / name
        if not file_path.exists():
            raise ArtifactError(f"{file_path}: file listed in the manifest is missing")
        if name == DRAWS and _sha256(file_path) != expected:
            raise ArtifactError(f"{file_path}: checksum mismatch — the file was truncated or edited")
    try:
        with np.load(path / DRAWS, allow_pickle=False) as npz:
            draws = {name: npz[name] for name in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ArtifactError(f"{path / DRAWS}: unreadable parameter draws ({exc})") from exc
    _check_draws(draws, len(manifest["segments"]), len(manifest["initiatives"]), str(path / DRAWS))
    return ModelArtifact(manifest["model_id"], path, manifest, draws)


def list_models(models_dir: str | Path = DEFAULT_MODELS_DIR) -> list[dict]:
    """One summary dict per artifact folder (newest first); unreadable ones are listed with an
    ``error`` instead of failing the listing."""
    models_dir = Path(models_dir)
    champion = champion_id(models_dir)
    rows = []
    for path in sorted(models_dir.glob("*/"), reverse=True):
        if path.name.startswith(".") or not path.is_dir():
            continue
        try:
            m = read_manifest(path)
            rows.append({
                "model_id": m["model_id"], "family": m["family"], "created_at": m.get("created_at"),
                "status": m.get("status"), "champion": m["model_id"] == champion,
                "training_window": m.get("training_window"), "health": m.get("health", {}).get("passed"),
                "error": None,
            })
        except ArtifactError as exc:
            rows.append({"model_id": path.name, "champion": False, "error": str(exc)})
    return rows


def champion_id(models_dir: str | Path = DEFAULT_MODELS_DIR) -> str | None:
    """Id of the champion model, or None when none is promoted."""
    pointer = Path(models_dir) / CHAMPION_FILE
    if not pointer.exists():
        return None
    return pointer.read_text(encoding="utf-8").strip() or None


def promote(model_id: str, models_dir: str | Path = DEFAULT_MODELS_DIR, force: bool = False,
            reason: str | None = None, user: str | None = None) -> dict:
    """Make ``model_id`` the champion. A rejected model needs ``force=True`` and a ``reason``;
    every promotion is appended to ``promotions.jsonl``. Returns the log entry."""
    models_dir = Path(models_dir)
    artifact = load_artifact(model_id, models_dir)
    status = artifact.manifest.get("status")
    if status != STATUS_ACCEPTED:
        if not force:
            raise ArtifactError(
                f"model '{model_id}' has status '{status}' (failed the health gate); "
                "promote it only with --force and --reason"
            )
        if not reason or not reason.strip():
            raise ArtifactError("forcing the promotion of a rejected model needs a --reason")
    entry = {
        "model_id": artifact.model_id, "previous": champion_id(models_dir), "forced": status != STATUS_ACCEPTED,
        "reason": reason, "user": user or os.environ.get("USER", "unknown"),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with open(models_dir / PROMOTION_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    atomic_write_text(models_dir / CHAMPION_FILE, artifact.model_id + "\n")
    return entry
