"""Model artifacts: write, read, list and promote ``models/<model_id>/``.

Layout of one artifact (DESIGN.md "Model artifacts"):

* ``manifest.json`` — the typed contract of :mod:`cxroi.manifest` (schema version, family,
  provenance, segments, initiatives with their reach and costs, starting state, diagnostics,
  backtest, health, status), the SHA-256 of every other file and one content hash over all of it
  (:mod:`cxroi.integrity`), so that a hand edit of the manifest or of any file is detected;
* ``draws.npz`` — one float64 array per name in :func:`cxroi.params.artifact_parameters`, shape
  ``(draws, segments | initiatives)``, read with ``allow_pickle=False``;
* ``posterior.nc`` — optional full posterior (NetCDF) for analysts; never read by the simulator.

Nothing in the registry may be a symbolic link (a model folder, a file in it, or CHAMPION): such
an entry is refused when loaded or listed. Reading imports only numpy, pydantic and the standard library. Writing is atomic: the artifact is built in
a temporary folder beside its target and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from cxroi import __version__
from cxroi.drawsfile import read_draws, require_regular_file
from cxroi.errors import ArtifactError, ModelNotFound
from cxroi.fileio import atomic_write_text
from cxroi.integrity import HASH_FIELD, content_hash, stamped
from cxroi.manifest import (  # the manifest's names are part of the registry's API too
    DRAWS,
    FAMILIES,  # noqa: F401
    SCHEMA_VERSION,
    STATE_FIELDS,  # noqa: F401
    STATUS_ACCEPTED,
    STATUS_REJECTED,  # noqa: F401
    Manifest,
    SegmentState,
    check_folder,
    parse_manifest,
)
from cxroi.params import artifact_parameters

MANIFEST = "manifest.json"
POSTERIOR = "posterior.nc"
CHAMPION_FILE = "CHAMPION"
PROMOTION_LOG = "promotions.jsonl"
#: the physically meaningful range of each parameter's draws (units in cxroi.params):
#: (low, high, low excluded, high excluded). Far wider than any fitted model, and narrow enough
#: that a forecast over 240 months from any starting state the manifest allows stays finite
#: (low intercepts only drive a rate to zero, so they are bounded loosely).
DRAW_BOUNDS: dict[str, tuple[float, float, bool, bool]] = {
    "churn_intercept": (-100.0, 100.0, False, False),  # logit of monthly churn (±100: churn 0 or 1)
    "churn_csat": (-10.0, 10.0, False, False),  # logit per 10 points
    "churn_nps": (-10.0, 10.0, False, False),
    "churn_concentration": (0.0, 1e9, True, False),  # beta-binomial concentration, > 0
    "arpu_intercept": (-100.0, 20.0, False, False),  # log currency/customer/month: up to 4.9e8
    "arpu_trend": (-5.0, 0.1, False, False),  # log per month: up to +10.5 % a month (a fall only tends to 0)
    "arpu_csat": (-5.0, 5.0, False, False),  # log per 10 points
    "arpu_sigma": (0.0, 10.0, False, False),  # residual scale of log ARPU
    "acq_intercept": (-100.0, 20.0, False, False),  # log new customers/month: up to 4.9e8 (-100: none)
    "acq_trend": (-5.0, 0.1, False, False),  # as arpu_trend: tiny segments' new customers may fall steeply
    "acq_nps": (-5.0, 5.0, False, False),
    "acq_alpha": (0.0, 1e9, True, False),  # negative-binomial dispersion, > 0
    "lift_csat": (-100.0, 100.0, False, False),  # CSAT points
    "lift_nps": (-200.0, 200.0, False, False),  # NPS points
    "lift_carryover": (0.0, 1.0, False, True),  # monthly carry-over λ in [0, 1)
    "churn_csat_loss": (-10.0, 10.0, False, False),  # logit per 10 points below the reference
    "churn_nps_loss": (-10.0, 10.0, False, False),
}
DEFAULT_MODELS_DIR = Path(os.environ.get("CXROI_MODELS_DIR", Path(__file__).resolve().parent.parent / "models"))


@dataclass(frozen=True)
class ModelArtifact:
    """A loaded model: its manifest and its parameter draws (name → array draws × axis)."""

    model_id: str
    path: Path
    manifest: Manifest
    draws: dict[str, np.ndarray] = field(repr=False)

    @property
    def segments(self) -> list[str]:
        return list(self.manifest.segments)

    @property
    def initiatives(self) -> list[str]:
        return list(self.manifest.initiatives)

    @property
    def n_draws(self) -> int:
        return int(next(iter(self.draws.values())).shape[0])

    @property
    def state(self) -> dict[str, SegmentState]:
        """Starting state per segment: customers, csat, nps, arpu (currency/customer/month),
        ref_csat, ref_nps (training means) and t_next (month index of the first forecast month)."""
        return self.manifest.state


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


def _check_draws(draws: dict[str, np.ndarray], manifest: Manifest, where: str) -> None:
    """The draws of every parameter the manifest's model has (cxroi.params.artifact_parameters),
    of the right shapes, finite and within :data:`DRAW_BOUNDS`; no draws of parameters it lacks."""
    parameters = artifact_parameters(manifest.asymmetry is not None)
    missing = sorted(set(parameters) - set(draws))
    if missing:
        raise ArtifactError(f"{where}: parameter draws missing: {', '.join(missing)}")
    unexpected = sorted(set(draws) - set(parameters))
    if unexpected:
        raise ArtifactError(f"{where}: draws of {', '.join(unexpected)} belong to a model with gain/loss churn "
                            "effects, but the manifest records no asymmetry")
    n_segments, n_initiatives = len(manifest.segments), len(manifest.initiatives)
    n_draws = None
    for name, (axis, _) in parameters.items():
        array = draws[name]
        width = n_segments if axis == "segment" else n_initiatives
        if array.ndim != 2 or array.shape[1] != width:
            raise ArtifactError(f"{where}: '{name}' has shape {array.shape}, expected (draws, {width})")
        if n_draws is None:
            n_draws = array.shape[0]
        if array.shape[0] != n_draws or n_draws == 0:
            raise ArtifactError(f"{where}: '{name}' has {array.shape[0]} draws, expected {n_draws} (> 0)")
        if not np.all(np.isfinite(array)):
            raise ArtifactError(f"{where}: '{name}' holds non-finite values (NaN or infinity)")
        low, high, low_open, high_open = DRAW_BOUNDS[name]
        below = array <= low if low_open else array < low
        above = array >= high if high_open else array > high
        if np.any(below | above):
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise ArtifactError(f"{where}: '{name}' must lie in {interval} in every draw "
                                f"(found {array.min():g} to {array.max():g}); the model cannot give finite forecasts")


def save_artifact(
    manifest: Manifest | Mapping[str, Any],
    draws: dict[str, np.ndarray],
    models_dir: str | Path = DEFAULT_MODELS_DIR,
    write_posterior: Callable[[Path], None] | None = None,
) -> Path:
    """Write an artifact atomically to ``models_dir/<manifest.model_id>`` and return its path.

    A manifest given as a mapping (e.g. edited by hand) is validated like one read from disk.
    The package version, created_at (unless set) and file hashes are stamped here, and the
    manifest is validated again exactly as it will be read back. ``write_posterior(path)``
    optionally writes the NetCDF posterior.
    """
    models_dir = Path(models_dir)
    if not isinstance(manifest, Manifest):
        manifest = _typed(manifest, models_dir)
    model_id = manifest.model_id
    _check_draws(draws, manifest, model_id)
    target = models_dir / model_id
    if target.exists():
        raise ArtifactError(f"{target}: a model with this id already exists")
    models_dir.mkdir(parents=True, exist_ok=True)
    # the writer's pid in the name lets a later run tell a killed writer's leftover (cxroi.app.leftovers)
    tmp = Path(tempfile.mkdtemp(prefix=f".{model_id}.{os.getpid()}.", dir=models_dir))
    try:
        np.savez_compressed(tmp / DRAWS, **{k: np.asarray(v, dtype=np.float64) for k, v in draws.items()})
        if write_posterior is not None:
            write_posterior(tmp / POSTERIOR)
        body = {
            **manifest.model_dump(mode="json", exclude={HASH_FIELD}),
            "schema_version": SCHEMA_VERSION,
            "cxroi_version": __version__,
            "created_at": manifest.created_at or datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {p.name: _sha256(p) for p in sorted(tmp.iterdir())},
        }
        text = json.dumps(stamped(body), indent=2, sort_keys=True) + "\n"
        check_folder(parse_manifest(json.loads(text), target / MANIFEST), target / MANIFEST, target)
        (tmp / MANIFEST).write_text(text)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _typed(raw: Mapping[str, Any], models_dir: Path) -> Manifest:
    """A manifest given as a mapping, validated like one read from disk (current schema unless stated)."""
    where = models_dir / str(raw.get("model_id", "<new model>")) / MANIFEST
    return parse_manifest({"schema_version": SCHEMA_VERSION, **raw}, where)


def _missing_champion(models_dir: Path, model_id: str) -> ArtifactError:
    return ArtifactError(
        f"{models_dir / CHAMPION_FILE} names model '{model_id}', which is not in {models_dir}; "
        "promote an existing model with `cxroi models promote <model id>`"
    )


def resolve_model_path(model: str | Path | None = None, models_dir: str | Path = DEFAULT_MODELS_DIR) -> Path:
    """Path of a model given its id, its folder, or None for the champion."""
    models_dir = Path(models_dir)
    if model is None:
        model = champion_id(models_dir)
        if model is None:
            raise ArtifactError(f"{models_dir}: no champion model; train one with `cxroi train` or promote one")
        if not (models_dir / model).is_dir():
            raise _missing_champion(models_dir, model)
        return models_dir / model
    if isinstance(model, str) and not model.strip():
        raise ArtifactError("an empty model id was given; name a model shown by `cxroi models list`, "
                            "or leave the model out to use the champion")
    path = Path(model)
    if not (path / MANIFEST).exists() and (models_dir / str(model)).exists():
        path = models_dir / str(model)
    if not path.is_dir():
        raise ModelNotFound(f"model '{model}' not found in {models_dir}")
    _refuse_link(path)
    return path


def _refuse_link(path: Path) -> None:
    """Refuse a model folder (or CHAMPION) that is a symbolic link: a model lives inside the registry."""
    if path.is_symlink():
        raise ArtifactError(f"{path}: is a symbolic link; a model folder must be a real folder inside the "
                            "registry (copy the model in instead)")


def read_manifest(path: Path) -> Manifest:
    """Read a manifest and check its schema version (migrating schema 1), fields, types and value
    ranges, that its model_id is the name of its folder and that it matches its content hash (when
    recorded). Neither the folder nor the manifest may be a symbolic link."""
    path = Path(path)
    manifest_path = path / MANIFEST
    _refuse_link(path)
    try:
        require_regular_file(manifest_path)
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(f"{path}: manifest.json is missing — not a model artifact") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{manifest_path}: corrupt manifest (not valid JSON: {exc})") from exc
    except OSError as exc:
        raise ArtifactError(f"{manifest_path}: cannot be read ({exc.strerror or exc})") from exc
    typed = parse_manifest(raw, manifest_path)
    check_folder(typed, manifest_path, path.resolve())
    recorded = raw.get(HASH_FIELD)
    if recorded is not None and recorded != content_hash(raw):
        raise ArtifactError(f"{manifest_path}: model '{typed.model_id}' no longer matches the content hash recorded "
                            "when it was saved — the manifest was edited or damaged; retrain the model or restore "
                            "its folder")
    return typed


def verify_files(path: Path, manifest: Manifest) -> None:
    """Check every file the manifest lists that is present (the draws must be): a regular file, not a
    link, whose SHA-256 is the one recorded. Raises :class:`ArtifactError` naming the file."""
    for name, digest in sorted(manifest.files.items()):
        file = path / name
        if Path(name).name != name:
            raise ArtifactError(f"{path / MANIFEST}: files lists {name!r}, which is not a file of the model folder")
        try:
            require_regular_file(file)
            matches = _sha256(file) == digest
        except FileNotFoundError as exc:
            if name != DRAWS:
                continue  # the optional posterior may be left out
            raise ArtifactError(f"{file}: file listed in the manifest is missing") from exc
        except OSError as exc:
            raise ArtifactError(f"{file}: cannot be read ({exc.strerror or exc})") from exc
        if not matches:
            raise ArtifactError(f"{file}: checksum mismatch — the file was truncated or edited")


def load_artifact(model: str | Path | None = None, models_dir: str | Path = DEFAULT_MODELS_DIR) -> ModelArtifact:
    """Load a model (champion when ``model`` is None), verifying the manifest, its content hash,
    the hash of every listed file present, and the draws' members, names, shapes and ranges. Only
    ``draws.npz`` is needed: other listed files (the optional posterior) may be absent.

    Raises :class:`ArtifactError` naming the file and the problem for a missing, truncated,
    edited or incompatible artifact.
    """
    path = resolve_model_path(model, models_dir)
    manifest = read_manifest(path)
    verify_files(path, manifest)
    draws_path = path / DRAWS
    widths = {name: len(manifest.segments if axis == "segment" else manifest.initiatives)
              for name, (axis, _) in artifact_parameters(manifest.asymmetry is not None).items()}
    draws = read_draws(draws_path, widths, manifest.n_draws)
    _check_draws(draws, manifest, str(draws_path))
    return ModelArtifact(manifest.model_id, path, manifest, draws)


def list_models(models_dir: str | Path = DEFAULT_MODELS_DIR) -> list[dict]:
    """One summary dict per artifact folder (newest first), keyed by the folder name; unreadable,
    edited or linked ones are listed with an ``error`` instead of failing the listing.
    ``verifiable`` is False for an artifact saved before content hashes existed."""
    models_dir = Path(models_dir)
    try:
        champion = champion_id(models_dir)
    except ArtifactError:
        champion = None  # reported by champion_problem()
    rows = []
    for path in sorted(models_dir.glob("*/"), reverse=True):
        if path.name.startswith(".") or path.name == CHAMPION_FILE or not path.is_dir():
            continue  # CHAMPION as a folder is reported by champion_problem()
        try:
            m = read_manifest(path)
            verify_files(path, m)
            rows.append({
                "model_id": path.name, "family": m.family, "created_at": m.created_at,
                "status": m.status, "champion": path.name == champion,
                "training_window": m.training_window.model_dump() if m.training_window else None,
                "health": m.health.passed, "verifiable": m.content_hash is not None,
                "error": None,
            })
        except ArtifactError as exc:
            rows.append({"model_id": path.name, "champion": path.name == champion, "error": str(exc)})
    return rows


def champion_id(models_dir: str | Path = DEFAULT_MODELS_DIR) -> str | None:
    """Id of the champion model (the text of ``models_dir/CHAMPION``), or None when none is
    promoted. Raises :class:`ArtifactError` when that file cannot be read or holds no plain id."""
    pointer = Path(models_dir) / CHAMPION_FILE
    fix = "remove it and promote a model with `cxroi models promote <model id>`"
    if pointer.is_symlink():
        raise ArtifactError(f"{pointer}: is a symbolic link, not the file naming the champion model; {fix}")
    if not pointer.exists():
        return None
    if pointer.is_dir():
        raise ArtifactError(f"{pointer}: is a folder, not the file naming the champion model; {fix}")
    try:
        model_id = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{pointer}: cannot read the champion's model id ({exc}); {fix}") from exc
    if model_id and (Path(model_id).name != model_id or model_id in (".", "..")):
        raise ArtifactError(f"{pointer}: holds {model_id!r}, which is not a model id; {fix}")
    return model_id or None


def champion_problem(models_dir: str | Path = DEFAULT_MODELS_DIR, rows: list[dict] | None = None) -> str | None:
    """Why the champion cannot be used — unreadable CHAMPION file, missing or unreadable model —
    or None when it can (or none is promoted). ``rows`` reuses a :func:`list_models` result."""
    models_dir = Path(models_dir)
    try:
        champion = champion_id(models_dir)
    except ArtifactError as exc:
        return str(exc)
    if champion is None:
        return None
    rows = list_models(models_dir) if rows is None else rows
    row = next((r for r in rows if r["model_id"] == champion), None)
    if row is None:
        return str(_missing_champion(models_dir, champion))
    if row["error"]:
        return f"the champion '{champion}' cannot be used: {row['error']}"
    return None


def promote(model_id: str, models_dir: str | Path = DEFAULT_MODELS_DIR, force: bool = False,
            reason: str | None = None, user: str | None = None, acknowledge_shift: bool = False) -> dict:
    """Make ``model_id`` the champion. A rejected model needs ``force=True`` and a ``reason``; a
    model that differs from the champion beyond the bound needs ``acknowledge_shift``
    (:mod:`cxroi.promotion`); every promotion is appended to ``promotions.jsonl`` with that
    comparison. Returns the log entry."""
    models_dir = Path(models_dir)
    artifact = load_artifact(model_id, models_dir)
    status = artifact.manifest.status
    if status != STATUS_ACCEPTED:
        if not force:
            raise ArtifactError(
                f"model '{model_id}' has status '{status}' (failed the health gate); "
                "promote it only with --force and --reason"
            )
        if not reason or not reason.strip():
            raise ArtifactError("forcing the promotion of a rejected model needs a --reason")
    from cxroi.promotion import check_promotion  # it simulates: imported only when promoting

    try:
        champion = load_artifact(None, models_dir) if champion_id(models_dir) else None
    except ArtifactError:
        champion = None  # a broken champion is replaced without a comparison
    shift = check_promotion(artifact, champion, acknowledge_shift)
    entry = {
        "model_id": artifact.model_id, "previous": champion_id(models_dir), "forced": status != STATUS_ACCEPTED,
        "shift": shift,
        "reason": reason, "user": user or os.environ.get("USER", "unknown"),
        "content_hash": artifact.manifest.content_hash,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with open(models_dir / PROMOTION_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    atomic_write_text(models_dir / CHAMPION_FILE, artifact.model_id + "\n")
    return entry
