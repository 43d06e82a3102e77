"""The seams between the parts: one typed manifest read by attribute, the science in one module,
benchmarks that stand on the package alone."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from cxroi import registry
from cxroi.errors import ArtifactError
from cxroi.testing.artifacts import plausible_artifact

REPO = Path(__file__).resolve().parent.parent
PRODUCT = [p for p in (REPO / "cxroi").rglob("*.py") if "testing" not in p.parts] + [REPO / "app.py"]


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _names_manifest(node: ast.AST) -> bool:
    """``manifest``, ``m`` (the usual short name) or ``<anything>.manifest``."""
    return (isinstance(node, ast.Name) and node.id in ("manifest", "m")) or (
        isinstance(node, ast.Attribute) and node.attr == "manifest")


def test_no_reader_takes_the_manifest_by_string_key() -> None:
    found = []
    for path in PRODUCT:
        if path.name == "manifest.py":
            continue
        for node in ast.walk(_tree(path)):
            by_key = isinstance(node, ast.Subscript) and _names_manifest(node.value) and isinstance(
                node.slice, ast.Constant) and isinstance(node.slice.value, str)
            by_get = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                      and _names_manifest(node.func.value))
            if by_key or by_get:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == []


def _imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_the_synthetic_generator_is_used_only_by_data_tests_and_studies() -> None:
    users = [p.relative_to(REPO).as_posix() for p in PRODUCT if "cxroi.data.synth" in _imports(p)]
    assert all(user.startswith("cxroi/data/") or user.startswith("cxroi/cli/") for user in users), users


def test_benchmarks_stand_on_the_package_alone() -> None:
    for path in (REPO / "benchmarks").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "sys.path" not in text, path.name
        assert not any(m == "tests" or m.startswith("tests.") for m in _imports(path)), path.name


def test_saturation_and_adstock_are_defined_once() -> None:
    defined = [p.relative_to(REPO).as_posix() for p in PRODUCT for node in ast.walk(_tree(p))
               if isinstance(node, ast.FunctionDef) and node.name in ("saturation", "adstock", "clv_multiple")]
    assert sorted(defined) == ["cxroi/science.py"] * 3


@pytest.fixture
def schema_one(tmp_path) -> Path:
    """A model written in the schema-1 form: no reach recorded per initiative."""
    artifact = plausible_artifact(tmp_path, model_id="bayes-old", n_draws=10, reach={"I1": ["S1", "S2"]})
    path = artifact.path / registry.MANIFEST
    raw = json.loads(path.read_text())
    raw["schema_version"] = 1
    del raw["content_hash"]  # schema 1 predates content hashes
    for settings in raw["initiative_settings"].values():
        del settings["segments"]
    path.write_text(json.dumps(raw))
    return artifact.path


def test_schema_one_is_migrated_on_read_with_a_note(schema_one) -> None:
    manifest = registry.load_artifact(schema_one).manifest
    assert manifest.schema_version == registry.SCHEMA_VERSION
    assert manifest.reach("I1") == ("S1", "S2", "S3", "S4")  # not recorded in schema 1: every segment
    assert any("schema 1" in w for w in manifest.warnings)


def test_an_unknown_schema_names_the_version(schema_one) -> None:
    path = schema_one / registry.MANIFEST
    path.write_text(json.dumps({**json.loads(path.read_text()), "schema_version": 7}))
    with pytest.raises(ArtifactError, match=r"schema version 7 is not supported .*reads 1 to 3"):
        registry.load_artifact(schema_one)


def test_reach_outside_the_model_is_named(tmp_path) -> None:
    artifact = plausible_artifact(tmp_path, model_id="bayes-reach", n_draws=10)
    path = artifact.path / registry.MANIFEST
    raw = json.loads(path.read_text())
    raw["initiative_settings"]["I2"]["segments"] = ["S1", "Mars"]
    path.write_text(json.dumps(raw))
    with pytest.raises(ArtifactError, match=r"initiative_settings\['I2'\]\.segments names segments the model "
                                            r"does not know: Mars"):
        registry.load_artifact(artifact.path)


def test_manifest_is_frozen(tmp_path) -> None:
    manifest = plausible_artifact(tmp_path, model_id="bayes-frozen", n_draws=10).manifest
    with pytest.raises(ValueError, match="frozen"):
        manifest.status = "rejected"
