"""The use cases of cxroi, written once and called by the CLI, the app and the API.

Every use case takes a :class:`Context` (the store and the models folder; one per process) and
the acting :class:`User`; it checks the user's permission first (:class:`PermissionDenied`
otherwise, and nothing changes) and every change it makes is written to the audit trail.
"""

from cxroi.service.audit import audit_trail, record_action, sign_in
from cxroi.service.context import Context
from cxroi.service.identity import (
    LOCAL_USER,
    ROLE_PERMISSIONS,
    Permission,
    PermissionDenied,
    Role,
    User,
    local_user,
    parse_roles,
)
from cxroi.service.models import compare_with_champion, promote_model, train_model
from cxroi.service.scenarios import (
    AlreadyApproved,
    approve_scenario,
    delete_scenario,
    get_decision,
    get_scenario,
    list_decisions,
    list_runs,
    list_scenarios,
    save_scenario,
    scenario_versions,
)
from cxroi.service.simulation import forecast, optimise, simulate, value_under_models
from cxroi.service.types import (
    ForecastExport,
    Optimisation,
    OptimiseRequest,
    PinnedValuation,
    ScenarioRef,
    Simulation,
    ValueDifference,
)
from cxroi.store import (
    AuditEntry,
    ConflictError,
    Decision,
    NotFound,
    SavedScenario,
    ScenarioListing,
    StoreError,
)

__all__ = [
    "LOCAL_USER", "ROLE_PERMISSIONS", "AlreadyApproved", "AuditEntry", "ConflictError", "Context", "Decision",
    "ForecastExport", "NotFound", "Optimisation", "OptimiseRequest", "Permission", "PermissionDenied",
    "PinnedValuation", "Role", "SavedScenario", "ScenarioListing", "ScenarioRef", "Simulation", "StoreError",
    "User", "ValueDifference", "approve_scenario", "audit_trail", "compare_with_champion", "delete_scenario",
    "forecast", "get_decision", "get_scenario", "list_decisions", "list_runs", "list_scenarios", "local_user", "optimise",
    "parse_roles", "promote_model", "record_action", "save_scenario", "scenario_versions", "sign_in", "simulate",
    "train_model", "value_under_models",
]
