"""Who is acting: users, roles and the permissions each role grants.

Roles are cumulative (DESIGN.md, "Who may do what"): a *finance* user may do everything a *viewer*
may, an *analyst* everything *finance* may, an *admin* everything. Use cases check a
:class:`Permission`, never a role, so the mapping lives in one place (:data:`ROLE_PERMISSIONS`).

Without configured sign-in cxroi runs in local mode: the acting user is :func:`local_user` (named
from ``CXROI_USER`` or the operating-system login) and holds every role.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from cxroi.errors import CxroiError

USER_ENV = "CXROI_USER"


class Permission(StrEnum):
    """One thing a user may do; checked by the service layer before a use case runs."""

    VIEW = "view"  # overview, planner, compare, optimiser, simulate, list and read scenarios/decisions
    SAVE_DRAFT = "save_draft"  # save a scenario version
    EXPORT = "export"  # forecast exports (XLSX, CSV, Parquet) and recorded forecast runs
    APPROVE = "approve"  # approve a saved scenario version into a decision record
    UPLOAD = "upload"  # upload a panel
    RETRAIN = "retrain"  # train a model
    REPORT = "report"  # model report
    PROMOTE = "promote"  # make a model the champion
    DELETE = "delete"  # delete saved scenario versions
    AUDIT = "audit"  # read the audit trail


class Role(StrEnum):
    """A role from the identity provider's claim; cumulative, lowest first."""

    VIEWER = "viewer"
    FINANCE = "finance"
    ANALYST = "analyst"
    ADMIN = "admin"


_GRANTED_BY: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW, Permission.SAVE_DRAFT}),
    Role.FINANCE: frozenset({Permission.EXPORT, Permission.APPROVE}),
    Role.ANALYST: frozenset({Permission.UPLOAD, Permission.RETRAIN, Permission.REPORT, Permission.PROMOTE}),
    Role.ADMIN: frozenset({Permission.DELETE, Permission.AUDIT}),
}


def _cumulative() -> dict[Role, frozenset[Permission]]:
    granted: set[Permission] = set()
    table = {}
    for role in Role:  # declaration order is the hierarchy
        granted |= _GRANTED_BY[role]
        table[role] = frozenset(granted)
    return table


#: role → every permission it grants (its own and those of the roles below it)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = _cumulative()


class PermissionDenied(CxroiError):
    """The acting user's roles do not grant the permission a use case needs."""

    def __init__(self, user: User, permission: Permission, action: str) -> None:
        self.user = user
        self.permission = permission
        self.action = action
        needed = lowest_role_with(permission)
        roles = ", ".join(r.value for r in user.sorted_roles) or "none"
        super().__init__(f"{user.name} may not {action}: it needs the {needed.value} role or higher "
                         f"(roles held: {roles})")


def lowest_role_with(permission: Permission) -> Role:
    """The lowest role granting ``permission``."""
    return next(role for role in Role if permission in ROLE_PERMISSIONS[role])


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Roles from their names (case and surrounding space ignored); unknown names are skipped, so
    an identity provider's unrelated groups grant nothing."""
    known = {role.value: role for role in Role}
    return frozenset(known[n.strip().lower()] for n in names if n and n.strip().lower() in known)


@dataclass(frozen=True)
class User:
    """An acting user: ``subject`` is the stable identifier (OIDC ``sub`` or ``local:<login>``),
    ``name`` what screens and the audit trail show, ``roles`` what it may do."""

    subject: str
    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    local: bool = False  # local mode: no sign-in configured

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", frozenset(Role(r) for r in self.roles))
        if not self.subject.strip():
            raise ValueError("a user needs a non-empty subject")

    @property
    def permissions(self) -> frozenset[Permission]:
        """Every permission the user's roles grant."""
        return frozenset().union(*(ROLE_PERMISSIONS[r] for r in self.roles))

    @property
    def sorted_roles(self) -> tuple[Role, ...]:
        """The roles, lowest first."""
        return tuple(r for r in Role if r in self.roles)

    def can(self, permission: Permission) -> bool:
        """Whether the user's roles grant ``permission``."""
        return permission in self.permissions

    def require(self, permission: Permission, action: str) -> None:
        """Raise :class:`PermissionDenied` (saying ``action``, e.g. "promote a model") unless the
        user may ``permission``."""
        if not self.can(permission):
            raise PermissionDenied(self, permission, action)

    @property
    def label(self) -> str:
        """How the audit trail names the user: the name, and the subject when it differs."""
        return self.name if self.name == self.subject else f"{self.name} <{self.subject}>"


def local_user(name: str | None = None) -> User:
    """The local-mode user (every role): ``name``, else ``CXROI_USER``, else the OS login."""
    name = (name or os.environ.get(USER_ENV, "").strip() or _login()).strip()
    return User(subject=f"local:{name}", name=name, roles=frozenset(Role), local=True)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "local"


#: the local-mode user as the process started it (CXROI_USER or the OS login, every role)
LOCAL_USER = local_user()
