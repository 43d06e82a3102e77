"""Sign-in settings from the secrets file's [auth] section and CXROI_AUTH_* variables."""

from __future__ import annotations

import pytest

from cxroi.auth import (
    AuthConfigError,
    check_bind,
    is_loopback,
    load_auth_settings,
    read_auth_section,
)
from cxroi.service.identity import Role

METADATA = "https://id.example.com/.well-known/openid-configuration"


def test_no_provider_means_local_mode() -> None:
    assert load_auth_settings({}, {}) is None
    assert load_auth_settings({"cookie_secret": "x", "roles_claim": "groups"}, {}) is None


def test_secrets_section_read_with_cxroi_keys(tmp_path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'''
[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "s"
client_id = "cxroi-app"
client_secret = "c"
server_metadata_url = "{METADATA}"
roles_claim = "realm_access.roles"
role_map = {{ "cx-execs" = "viewer", "cx-admins" = "Admin" }}
''')
    settings = load_auth_settings(read_auth_section(secrets), {})
    assert settings.metadata_url == METADATA
    assert settings.audience == "cxroi-app"  # defaults to the client id
    assert settings.roles_claim == "realm_access.roles"
    assert settings.role_map == {"cx-execs": Role.VIEWER, "cx-admins": Role.ADMIN}


def test_environment_wins_over_the_file() -> None:
    section = {"server_metadata_url": METADATA, "client_id": "app", "roles_claim": "roles"}
    settings = load_auth_settings(section, {"CXROI_AUTH_AUDIENCE": "cxroi-api", "CXROI_AUTH_ROLES_CLAIM": "groups",
                                            "CXROI_AUTH_ROLE_MAP": "finance-team=finance, execs=viewer"})
    assert (settings.audience, settings.roles_claim) == ("cxroi-api", "groups")
    assert settings.role_map == {"finance-team": Role.FINANCE, "execs": Role.VIEWER}


def test_unknown_roles_in_the_map_are_all_named() -> None:
    with pytest.raises(AuthConfigError, match="boss=owner, x=superuser"):
        load_auth_settings({}, {"CXROI_AUTH_ISSUER": "https://id", "CXROI_AUTH_JWKS_URL": "https://id/jwks",
                                "CXROI_AUTH_ROLE_MAP": "x=superuser,boss=owner,ok=viewer"})


def test_issuer_without_any_key_source_is_refused() -> None:
    with pytest.raises(AuthConfigError, match="jwks_url"):
        load_auth_settings({"issuer": "https://id.example.com"}, {})


def test_unreadable_secrets_file_is_a_plain_error(tmp_path) -> None:
    bad = tmp_path / "secrets.toml"
    bad.write_text("[auth\nclient_id = 1")
    with pytest.raises(AuthConfigError, match="could not be read as TOML"):
        read_auth_section(bad)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("192.168.1.5", False), ("::", False), ("example.com", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_local_mode_refuses_a_public_bind_but_signed_in_mode_allows_it() -> None:
    with pytest.raises(AuthConfigError, match=r"refusing to listen on 0\.0\.0\.0"):
        check_bind("0.0.0.0", None)
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", load_auth_settings({"server_metadata_url": METADATA}, {}))


def test_the_shipped_example_secrets_file_is_valid(repo_root) -> None:
    example = repo_root / ".streamlit" / "secrets.example.toml"
    settings = load_auth_settings(read_auth_section(example), {})
    assert settings.audience == "cxroi-api" and settings.role_map["cx-finance"] == Role.FINANCE
