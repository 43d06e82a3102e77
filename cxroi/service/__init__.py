"""The use cases of cxroi, written once and called by the CLI, the app and the API.

Every use case takes a :class:`Context` (the store and the models folder; one per process) and
the acting :class:`User`; it checks the user's permission first (:class:`PermissionDenied`
otherwise, and nothing changes) and every change it makes is written to the audit trail.

The names below are imported on first use (so ``cxroi.service.identity`` stays as light as it
is for the app's first page).
"""

from __future__ import annotations

import importlib

#: public name → module it lives in
_EXPORTS = {
    **dict.fromkeys(("audit_trail", "record_action", "sign_in"), "cxroi.service.audit"),
    "Context": "cxroi.service.context",
    **dict.fromkeys(("LOCAL_USER", "ROLE_PERMISSIONS", "Permission", "PermissionDenied", "Role", "User",
                     "local_user", "lowest_role_with", "parse_roles"), "cxroi.service.identity"),
    **dict.fromkeys(("compare_with_champion", "list_models", "model_effects", "show_model", "promote_model",
                     "train_model"),
                    "cxroi.service.models"),
    **dict.fromkeys(("AlreadyApproved", "approve_scenario", "delete_scenario", "get_decision", "get_scenario",
                     "list_decisions", "list_runs", "list_scenarios", "save_scenario", "scenario_versions"),
                    "cxroi.service.scenarios"),
    **dict.fromkeys(("forecast", "optimise", "simulate", "value_under_models"), "cxroi.service.simulation"),
    **dict.fromkeys(("track_decision", "track_model_decisions"), "cxroi.service.tracking"),
    **dict.fromkeys(("Effect", "ForecastExport", "ModelSummary", "Optimisation", "OptimiseRequest", "PinnedValuation",
                     "ScenarioRef", "Simulation", "ValueDifference"), "cxroi.service.types"),
    **dict.fromkeys(("AuditEntry", "ConflictError", "Decision", "ForecastRun", "NotFound", "SavedScenario",
                     "ScenarioListing", "StoreError"), "cxroi.store"),
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cxroi.service' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

