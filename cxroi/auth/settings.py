"""Sign-in settings: which OpenID Connect provider vouches for users, which audience API tokens must
carry, and how a claim of the token maps to cxroi roles.

Two sources, the environment winning over the file:

* the ``[auth]`` section of ``.streamlit/secrets.toml`` (``CXROI_SECRETS_FILE`` names another file) —
  the same section Streamlit's ``st.login`` reads (``server_metadata_url``, ``client_id``, …), with
  cxroi's own keys beside Streamlit's: ``issuer``, ``jwks_url``, ``api_audience``, ``roles_claim``
  and ``role_map`` (an inline table, claim value → role);
* ``CXROI_AUTH_METADATA_URL``, ``CXROI_AUTH_ISSUER``, ``CXROI_AUTH_JWKS_URL``,
  ``CXROI_AUTH_AUDIENCE``, ``CXROI_AUTH_ROLES_CLAIM`` and ``CXROI_AUTH_ROLE_MAP``
  (``"cx-execs=viewer,cx-finance=finance"``).

Sign-in is configured when a discovery URL or an issuer is given; otherwise cxroi runs in local
mode (one user holding every role; the API listens on the loopback interface only).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxroi.errors import CxroiError
from cxroi.service.identity import Role

SECRETS_FILE_ENV = "CXROI_SECRETS_FILE"
DEFAULT_SECRETS_FILE = Path(".streamlit") / "secrets.toml"
DEFAULT_ROLES_CLAIM = "roles"
#: environment variable → key of the ``[auth]`` section it overrides
ENV_KEYS = {
    "CXROI_AUTH_METADATA_URL": "server_metadata_url",
    "CXROI_AUTH_ISSUER": "issuer",
    "CXROI_AUTH_JWKS_URL": "jwks_url",
    "CXROI_AUTH_AUDIENCE": "api_audience",
    "CXROI_AUTH_ROLES_CLAIM": "roles_claim",
    "CXROI_AUTH_ROLE_MAP": "role_map",
}


class AuthConfigError(CxroiError):
    """The sign-in settings are incomplete or contradictory."""


@dataclass(frozen=True)
class AuthSettings:
    """Where tokens come from and what they must say.

    ``issuer``, ``jwks_url`` left empty are read from the provider's discovery document
    (``metadata_url``); ``audience`` defaults to ``client_id``. ``roles_claim`` may be a dotted
    path into nested claims (``realm_access.roles``). ``role_map`` maps claim values to roles;
    when empty, claim values that name a role (``viewer`` … ``admin``) are taken as they are.
    """

    metadata_url: str | None = None
    issuer: str | None = None
    jwks_url: str | None = None
    audience: str | None = None
    client_id: str | None = None
    roles_claim: str = DEFAULT_ROLES_CLAIM
    role_map: Mapping[str, Role] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The provider and audience in a few words, for start-up messages."""
        return f"tokens from {self.issuer or self.metadata_url}, audience '{self.audience or '(none)'}'"


def secrets_file() -> Path:
    """The secrets file cxroi reads: ``CXROI_SECRETS_FILE`` or ``.streamlit/secrets.toml``."""
    return Path(os.environ.get(SECRETS_FILE_ENV) or DEFAULT_SECRETS_FILE)


def read_auth_section(path: Path | None = None) -> dict[str, Any]:
    """The ``[auth]`` section of the secrets file (empty when the file or the section is absent)."""
    path = path or secrets_file()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AuthConfigError(f"{path} could not be read as TOML: {exc}") from None
    section = data.get("auth", {})
    if not isinstance(section, dict):
        raise AuthConfigError(f"{path}: [auth] must be a table")
    return section


def _text(section: Mapping[str, Any], key: str) -> str | None:
    value = section.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise AuthConfigError(f"[auth] {key} must be text, not {type(value).__name__}")
    return value.strip()


def parse_role_map(value: Mapping[str, Any] | str | None) -> dict[str, Role]:
    """Claim value → role from a table or from ``"claim=role,claim=role"``; every unknown role is
    reported at once."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise AuthConfigError(f"role map '{value}' must read 'claim value=role, …'")
        value = {claim.strip(): role.strip() for claim, role in pairs}
    if not isinstance(value, Mapping):
        raise AuthConfigError("[auth] role_map must be a table of claim value = role")
    known = {role.value for role in Role}
    unknown = sorted(f"{claim}={role}" for claim, role in value.items() if str(role).strip().lower() not in known)
    if unknown:
        raise AuthConfigError(f"role map names unknown roles ({', '.join(unknown)}); "
                              f"roles are {', '.join(sorted(known))}")
    return {str(claim): Role(str(role).strip().lower()) for claim, role in value.items()}


def load_auth_settings(section: Mapping[str, Any] | None = None,
                       environ: Mapping[str, str] | None = None) -> AuthSettings | None:
    """Settings from the ``[auth]`` ``section`` (read from the secrets file when not given) with
    the ``CXROI_AUTH_*`` variables of ``environ`` over it; ``None`` in local mode."""
    environ = os.environ if environ is None else environ
    merged = dict(read_auth_section() if section is None else section)
    merged.update({key: environ[var] for var, key in ENV_KEYS.items() if environ.get(var, "").strip()})
    metadata_url, issuer = _text(merged, "server_metadata_url"), _text(merged, "issuer")
    if not (metadata_url or issuer):
        return None
    jwks_url = _text(merged, "jwks_url")
    if not metadata_url and not jwks_url:
        raise AuthConfigError("sign-in names an issuer but neither server_metadata_url nor jwks_url: "
                              "set one so tokens can be checked against the provider's keys")
    client_id = _text(merged, "client_id")
    return AuthSettings(
        metadata_url=metadata_url, issuer=issuer, jwks_url=jwks_url,
        audience=_text(merged, "api_audience") or client_id, client_id=client_id,
        roles_claim=_text(merged, "roles_claim") or DEFAULT_ROLES_CLAIM,
        role_map=parse_role_map(merged.get("role_map")),
    )
