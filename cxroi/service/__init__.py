"""The use cases of cxroi, written once and called by the CLI, the app and the API.

Every use case takes a :class:`Context` (the store and the models folder) and the acting
:class:`User`; it checks the user's permission first (:class:`PermissionDenied` otherwise, nothing
changed) and writes every change to the audit trail. The public API is described in
/work/coord/service_api.md for the teams building on it; this module re-exports it.
"""

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

__all__ = [
    "LOCAL_USER",
    "ROLE_PERMISSIONS",
    "Permission",
    "PermissionDenied",
    "Role",
    "User",
    "local_user",
    "parse_roles",
]
