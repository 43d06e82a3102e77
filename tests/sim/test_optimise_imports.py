"""The optimiser reaches the simulator only through its public value function and run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cxroi.sim.optimise

PACKAGE = Path(cxroi.sim.optimise.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_the_package_has_its_modules():
    assert {m.stem for m in MODULES} >= {"__init__", "problem", "objectives", "search", "frontier"}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_nothing_private_and_no_kernel_is_imported(module):
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported: list[tuple[str, str]] = []  # (module, name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported += [(node.module or "", alias.name) for alias in node.names]
    assert imported, "no imports found: the test would pass for nothing"
    for source, name in imported:
        assert not source.startswith("cxroi.sim.kernel"), f"{module.name} imports the kernel"
        assert not any(_private(part) for part in source.split(".")), f"{module.name} imports {source}"
        assert not _private(name), f"{module.name} imports {name} from {source}"
    private = [node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and _private(node.attr)]
    assert not private, f"{module.name} reads private attributes {private}"


def test_the_simulator_is_used_only_through_plan_values_and_run():
    """Every use of the simulator is ``simulator_for(artifact).plan_values(…)`` or ``….run(…)``."""
    uses = []
    for module in MODULES:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "cxroi.sim.engine":
                assert [a.name for a in node.names] == ["simulator_for"], f"{module.name} imports more of the engine"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call) \
                    and getattr(node.value.func, "id", None) == "simulator_for":
                uses.append(node.attr)
    calls = sum(source.read_text(encoding="utf-8").count("simulator_for(") for source in MODULES)
    assert sorted(set(uses)) == ["plan_values", "run"] and len(uses) == calls
