"""Exports and the store belong to the simulation side: they never import the training stack."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pymc", "pytensor", "arviz", "statsmodels")


def test_export_store_and_their_commands_import_no_training_stack() -> None:
    code = (
        "import sys\n"
        "import cxroi.cli.export_cmd, cxroi.export.workbook, cxroi.export.tabular, cxroi.store\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
