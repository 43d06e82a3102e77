"""Roles and names from token claims, through the configurable claim and mapping."""

from __future__ import annotations

from cxroi.auth import AuthSettings, roles_from_claims, user_from_claims
from cxroi.service.identity import Permission, Role

MAPPED = AuthSettings(metadata_url="m", roles_claim="groups",
                      role_map={"cx-execs": Role.VIEWER, "cx-analysts": Role.ANALYST})


def test_role_names_taken_as_they_are_without_a_map() -> None:
    plain = AuthSettings(metadata_url="m")
    assert roles_from_claims({"roles": ["Finance", "staff"]}, plain) == {Role.FINANCE}
    assert roles_from_claims({"roles": "viewer admin"}, plain) == {Role.VIEWER, Role.ADMIN}
    assert roles_from_claims({"roles": "viewer,finance"}, plain) == {Role.VIEWER, Role.FINANCE}
    assert roles_from_claims({}, plain) == frozenset()


def test_with_a_map_only_mapped_values_grant_roles() -> None:
    # "admin" names a role but is not in the map: an identity provider group that happens to be
    # called admin must not grant cxroi's admin role when a map is configured
    assert roles_from_claims({"groups": ["cx-execs", "admin", "cx-analysts"]}, MAPPED) == {Role.VIEWER, Role.ANALYST}


def test_nested_claim_path() -> None:
    settings = AuthSettings(metadata_url="m", roles_claim="realm_access.roles")
    assert roles_from_claims({"realm_access": {"roles": ["analyst"]}}, settings) == {Role.ANALYST}
    assert roles_from_claims({"realm_access": ["analyst"]}, settings) == frozenset()


def test_user_from_claims_names_and_permissions() -> None:
    user = user_from_claims({"sub": "u-1", "email": "vera@example.com", "name": "Vera V", "groups": ["cx-execs"]},
                            MAPPED)
    assert (user.subject, user.name, user.local) == ("u-1", "vera@example.com", False)
    assert user.can(Permission.SAVE_DRAFT) and not user.can(Permission.PROMOTE)
    nameless = user_from_claims({"sub": "svc-finance-export", "groups": []}, MAPPED)
    assert nameless.name == "svc-finance-export" and nameless.roles == frozenset()
