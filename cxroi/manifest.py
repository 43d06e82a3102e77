"""The checks of a model manifest: structure, types and value ranges of every field the registry,
the simulator and the reports read. Each problem is an :class:`ArtifactError` naming the file
and the field, e.g. ``…/manifest.json: state['SMB-EU'].customers must be a finite number ≥ 0
(found 'lots')``. Standard library only.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from cxroi.errors import ArtifactError

DRAWS = "draws.npz"
STATUS_ACCEPTED, STATUS_REJECTED = "accepted", "rejected"
STATE_FIELDS = ("customers", "csat", "nps", "arpu", "ref_csat", "ref_nps", "t_next")
FAMILIES = ("bayes", "regression")
#: starting-state field -> (lowest, highest) allowed value: customers (count), CSAT (%), NPS (points),
#: ARPU (currency/customer/month), t_next (month index)
STATE_RANGES = {
    "customers": (0.0, math.inf), "csat": (0.0, 100.0), "nps": (-100.0, 100.0), "arpu": (0.0, math.inf),
    "ref_csat": (0.0, 100.0), "ref_nps": (-100.0, 100.0), "t_next": (0.0, math.inf),
}
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


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


def check_manifest(manifest: dict, where: Path, folder: Path) -> None:
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
