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
import math
import os
import re
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
FAMILIES = ("bayes", "regression")
#: starting-state field -> (lowest, highest) allowed value: customers (count), CSAT (%), NPS (points),
#: ARPU (currency/customer/month), t_next (month index)
STATE_RANGES = {
    "customers": (0.0, math.inf), "csat": (0.0, 100.0), "nps": (-100.0, 100.0), "arpu": (0.0, math.inf),
    "ref_csat": (0.0, 100.0), "ref_nps": (-100.0, 100.0), "t_next": (0.0, math.inf),
}
_POSITIVE_DRAWS = ("churn_concentration", "acq_alpha")  # dispersions, > 0 (cxroi.params)
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


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
            raise ArtifactError(f"{where}: '{name}' holds non-finite values (NaN or infinity)")
        if name in _POSITIVE_DRAWS and np.any(array <= 0):
            raise ArtifactError(f"{where}: '{name}' must be > 0 in every draw (found {array.min():g})")
        if name == "lift_carryover" and np.any((array < 0) | (array >= 1)):
            raise ArtifactError(f"{where}: 'lift_carryover' must lie in [0, 1) in every draw "
                                f"(found {array.min():g} to {array.max():g})")


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
        text = json.dumps(stamped, indent=2, sort_keys=True, default=_json_default) + "\n"
        _check_manifest(json.loads(text), target / MANIFEST, target)  # exactly what will be read back
        (tmp / MANIFEST).write_text(text)
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
        raise ArtifactError(f"model '{model}' not found in {models_dir}")
    return path


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bad(where: Path, name: str, rule: str, value: object) -> ArtifactError:
    return ArtifactError(f"{where}: {name} must be {rule} (found {_shown(value)})")


def _number(where: Path, name: str, value: object, low: float = -math.inf, high: float = math.inf,
            above_low: bool = False) -> None:
    """Require a finite number in [low, high] (in (low, high] when ``above_low``)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (is_number and math.isfinite(value) and low <= value <= high and not (above_low and value == low)):
        if high < math.inf:
            rule = f"a finite number between {low:g} and {high:g}"
        elif low > -math.inf:
            rule = f"a finite number {'>' if above_low else '≥'} {low:g}"
        else:
            rule = "a finite number"
        raise _bad(where, name, rule, value)


def _integer(where: Path, name: str, value: object, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _bad(where, name, f"a whole number ≥ {low}", value)


def _typed(where: Path, name: str, value: object, kind: type) -> None:
    if not isinstance(value, kind):
        raise _bad(where, name, {dict: "an object", list: "a list", str: "a text"}[kind], value)


def _names(where: Path, name: str, value: object, allow_empty: bool) -> list[str]:
    """A list of distinct, non-empty texts (segment or initiative ids, in draw-column order)."""
    rule = "a list of distinct, non-empty names" + ("" if allow_empty else " (at least one)")
    if not isinstance(value, list) or not (value or allow_empty):
        raise _bad(where, name, rule, value)
    for j, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _bad(where, f"{name}[{j}]", "a non-empty name", item)
    if len(set(value)) != len(value):
        raise _bad(where, name, rule, value)
    return value


def _check_state(where: Path, state: object, segments: list[str]) -> None:
    _typed(where, "state", state, dict)
    for segment in segments:
        entry = state.get(segment)
        if entry is None:
            raise ArtifactError(f"{where}: state lacks the starting state of segment '{segment}'")
        _typed(where, f"state[{segment!r}]", entry, dict)
        missing = [f for f in STATE_FIELDS if f not in entry]
        if missing:
            raise ArtifactError(f"{where}: starting state of segment '{segment}' lacks {', '.join(missing)}")
        for name, (low, high) in STATE_RANGES.items():
            _number(where, f"state[{segment!r}].{name}", entry[name], low, high)


def _check_settings(where: Path, settings: object) -> None:
    """initiative_settings: per initiative a monthly_cost > 0 (currency per segment per month at
    nominal effort), optionally one_off_cost ≥ 0, saturation_k > 0, a name and segments reached."""
    _typed(where, "initiative_settings", settings, dict)
    for initiative, entry in settings.items():
        name = f"initiative_settings[{initiative!r}]"
        _typed(where, name, entry, dict)
        if "monthly_cost" not in entry:
            raise ArtifactError(f"{where}: {name} lacks monthly_cost")
        _number(where, f"{name}.monthly_cost", entry["monthly_cost"], 0.0, above_low=True)
        if "one_off_cost" in entry:
            _number(where, f"{name}.one_off_cost", entry["one_off_cost"], 0.0)
        if "saturation_k" in entry:
            _number(where, f"{name}.saturation_k", entry["saturation_k"], 0.0, above_low=True)
        if "name" in entry:
            _typed(where, f"{name}.name", entry["name"], str)
        if entry.get("segments") is not None:
            _names(where, f"{name}.segments", entry["segments"], allow_empty=True)


def _check_window(where: Path, window: object) -> None:
    _typed(where, "training_window", window, dict)
    for end in ("start", "end"):
        value = window.get(end)
        if not isinstance(value, str) or not _MONTH.fullmatch(value):
            raise _bad(where, f"training_window.{end}", "a month written YYYY-MM", value)
    if window["start"] > window["end"]:
        raise ArtifactError(f"{where}: training_window.start {window['start']} is after its end {window['end']}")


def _check_reports(where: Path, manifest: dict) -> None:
    """Types of the sections that are only displayed (provenance, diagnostics, backtest, health)."""
    for name, kind in (("created_at", str), ("cxroi_version", str), ("data_fingerprint", str), ("data_path", str),
                       ("sampler", dict), ("diagnostics", dict), ("backtest", dict), ("health", dict),
                       ("effect_sources", dict), ("warnings", list), ("pilots", list)):
        if manifest.get(name) is not None:
            _typed(where, name, manifest[name], kind)
    nested = (("diagnostics", "predictive", dict), ("backtest", "rows", list), ("health", "checks", list))
    for section, name, kind in nested:
        value = (manifest.get(section) or {}).get(name)
        if value is not None:
            _typed(where, f"{section}.{name}", value, kind)
            items = value.items() if kind is dict else enumerate(value)
            for key, item in items:
                _typed(where, f"{section}.{name}[{key!r}]", item, dict)
    health = manifest.get("health") or {}
    if "passed" in health and not isinstance(health["passed"], bool):
        raise _bad(where, "health.passed", "true or false", health["passed"])
    for param, sources in (manifest.get("effect_sources") or {}).items():
        _typed(where, f"effect_sources[{param!r}]", sources, dict)
    for j, warning in enumerate(manifest.get("warnings") or []):
        _typed(where, f"warnings[{j}]", warning, str)


def _check_manifest(manifest: dict, where: Path, folder: Path) -> None:
    """Types, value ranges and consistency of every field the registry, simulator and reports
    read; raises :class:`ArtifactError` naming the manifest and the field."""
    for key in ("model_id", "family", "segments", "initiatives", "state", "files"):
        if key not in manifest:
            raise ArtifactError(f"{where}: required field '{key}' is missing")
    model_id = manifest["model_id"]
    if not isinstance(model_id, str) or not model_id.strip():
        raise _bad(where, "model_id", "a non-empty text", model_id)
    if model_id != folder.name:
        raise ArtifactError(
            f"{where}: model_id '{model_id}' differs from the folder name '{folder.name}'; a model is "
            f"known by its folder, so rename the folder to '{model_id}' or set model_id to '{folder.name}'"
        )
    if manifest["family"] not in FAMILIES:
        raise _bad(where, "family", " or ".join(repr(f) for f in FAMILIES), manifest["family"])
    segments = _names(where, "segments", manifest["segments"], allow_empty=False)
    _names(where, "initiatives", manifest["initiatives"], allow_empty=True)
    _check_state(where, manifest["state"], segments)
    files = manifest["files"]
    _typed(where, "files", files, dict)
    if DRAWS not in files:
        raise ArtifactError(f"{where}: files must list '{DRAWS}' with its SHA-256")
    for name, digest in files.items():
        if not isinstance(digest, str):
            raise _bad(where, f"files[{name!r}]", "a SHA-256 hex digest", digest)
    if "initiative_settings" in manifest:
        _check_settings(where, manifest["initiative_settings"])
    if "lag_months" in manifest:
        _integer(where, "lag_months", manifest["lag_months"], 0)
    for name, low in (("seed", 0), ("n_draws", 1)):
        if manifest.get(name) is not None:
            _integer(where, name, manifest[name], low)
    if manifest.get("training_window") is not None:
        _check_window(where, manifest["training_window"])
    if "status" in manifest and manifest["status"] not in (STATUS_ACCEPTED, STATUS_REJECTED):
        raise _bad(where, "status", f"'{STATUS_ACCEPTED}' or '{STATUS_REJECTED}'", manifest["status"])
    _check_reports(where, manifest)


def read_manifest(path: Path) -> dict:
    """Read a manifest and check its schema version, fields, types and value ranges, and that
    its model_id is the name of its folder."""
    path = Path(path)
    manifest_path = path / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(f"{path}: manifest.json is missing — not a model artifact") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{manifest_path}: corrupt manifest (not valid JSON: {exc})") from exc
    except OSError as exc:
        raise ArtifactError(f"{manifest_path}: cannot be read ({exc.strerror or exc})") from exc
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{manifest_path}: corrupt manifest (expected a JSON object)")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ArtifactError(
            f"{manifest_path}: artifact schema version {version!r} is not supported by this cxroi "
            f"(expects {SCHEMA_VERSION}); retrain the model"
        )
    _check_manifest(manifest, manifest_path, path.resolve())
    return manifest


def load_artifact(model: str | Path | None = None, models_dir: str | Path = DEFAULT_MODELS_DIR) -> ModelArtifact:
    """Load a model (champion when ``model`` is None), verifying the manifest, the draws' hash,
    names, shapes and values. Only ``draws.npz`` is needed: other listed files (the optional
    posterior) may be absent.

    Raises :class:`ArtifactError` naming the file and the problem for a missing, truncated,
    edited or incompatible artifact.
    """
    path = resolve_model_path(model, models_dir)
    manifest = read_manifest(path)
    draws_path = path / DRAWS
    try:
        matches = _sha256(draws_path) == manifest["files"][DRAWS]
    except FileNotFoundError as exc:
        raise ArtifactError(f"{draws_path}: file listed in the manifest is missing") from exc
    except OSError as exc:
        raise ArtifactError(f"{draws_path}: cannot be read ({exc.strerror or exc})") from exc
    if not matches:
        raise ArtifactError(f"{draws_path}: checksum mismatch — the file was truncated or edited")
    try:
        with np.load(draws_path, allow_pickle=False) as npz:
            draws = {name: npz[name] for name in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ArtifactError(f"{draws_path}: unreadable parameter draws ({exc})") from exc
    _check_draws(draws, len(manifest["segments"]), len(manifest["initiatives"]), str(draws_path))
    return ModelArtifact(manifest["model_id"], path, manifest, draws)


def list_models(models_dir: str | Path = DEFAULT_MODELS_DIR) -> list[dict]:
    """One summary dict per artifact folder (newest first), keyed by the folder name; unreadable
    ones are listed with an ``error`` instead of failing the listing."""
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
            rows.append({
                "model_id": path.name, "family": m["family"], "created_at": m.get("created_at"),
                "status": m.get("status"), "champion": path.name == champion,
                "training_window": m.get("training_window"), "health": (m.get("health") or {}).get("passed"),
                "error": None,
            })
        except ArtifactError as exc:
            rows.append({"model_id": path.name, "champion": path.name == champion, "error": str(exc)})
    return rows


def champion_id(models_dir: str | Path = DEFAULT_MODELS_DIR) -> str | None:
    """Id of the champion model (the text of ``models_dir/CHAMPION``), or None when none is
    promoted. Raises :class:`ArtifactError` when that file cannot be read or holds no plain id."""
    pointer = Path(models_dir) / CHAMPION_FILE
    if not pointer.exists():
        return None
    fix = "remove it and promote a model with `cxroi models promote <model id>`"
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
