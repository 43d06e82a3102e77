"""Roles and permissions as DESIGN.md's "Who may do what" states them, written out by hand."""

from __future__ import annotations

import pytest

from cxroi.service import Permission, PermissionDenied, Role, User, local_user, parse_roles

P = Permission
#: the table in DESIGN.md, cumulative: viewer ⊂ finance ⊂ analyst ⊂ admin
EXPECTED = {
    Role.VIEWER: {P.VIEW, P.SAVE_DRAFT},
    Role.FINANCE: {P.VIEW, P.SAVE_DRAFT, P.EXPORT, P.APPROVE},
    Role.ANALYST: {P.VIEW, P.SAVE_DRAFT, P.EXPORT, P.APPROVE, P.UPLOAD, P.RETRAIN, P.REPORT, P.PROMOTE},
    Role.ADMIN: set(Permission),
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_grants_what_the_design_says(role: Role) -> None:
    user = User("s", "Someone", {role})
    assert user.permissions == EXPECTED[role]
    assert {p for p in Permission if user.can(p)} == EXPECTED[role]


def test_several_roles_grant_the_union_and_no_role_grants_nothing() -> None:
    assert User("s", "S", {"finance", "viewer"}).permissions == EXPECTED[Role.FINANCE]
    nobody = User("s", "Nobody")
    assert nobody.permissions == frozenset()
    with pytest.raises(PermissionDenied, match=r"Nobody may not look: it needs the viewer role or higher "
                                               r"\(roles held: none\)"):
        nobody.require(Permission.VIEW, "look")


def test_a_denial_names_the_user_the_action_and_the_role_needed() -> None:
    viewer = User("oidc|vera", "Vera", {"viewer"})
    with pytest.raises(PermissionDenied) as denied:
        viewer.require(Permission.PROMOTE, "promote a model")
    assert str(denied.value) == ("Vera may not promote a model: it needs the analyst role or higher "
                                 "(roles held: viewer)")
    assert denied.value.permission is Permission.PROMOTE and denied.value.user is viewer


def test_role_names_from_a_token_claim() -> None:
    assert parse_roles(["Finance", " ADMIN ", "cx-team", ""]) == {Role.FINANCE, Role.ADMIN}
    with pytest.raises(ValueError):
        User("s", "S", {"superuser"})  # a User holds only known roles


def test_the_local_user_has_every_role_and_is_named_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CXROI_USER", "alice")
    user = local_user()
    assert (user.subject, user.name, user.local) == ("local:alice", "alice", True)
    assert user.permissions == set(Permission)
    monkeypatch.delenv("CXROI_USER")
    monkeypatch.setattr("getpass.getuser", lambda: "oslogin")
    assert local_user().name == "oslogin"
