"""The acting user from the claims of a verified identity or access token."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cxroi.auth.settings import AuthSettings
from cxroi.service.identity import Role, User, parse_roles

#: claims tried in order for the name screens and the audit trail show
NAME_CLAIMS = ("preferred_username", "email", "name")


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a claim path: ``roles``, or ``realm_access.roles`` into nested objects; a
    claim whose own name contains the dots wins. ``None`` when absent."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def claim_values(value: Any) -> list[str]:
    """The values of a roles claim: a list of texts, or one text separated by spaces or commas."""
    if isinstance(value, str):
        return [item for item in re.split(r"[\s,]+", value) if item]
    if isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        return [item for item in value if isinstance(item, str)]
    return []


def roles_from_claims(claims: Mapping[str, Any], settings: AuthSettings) -> frozenset[Role]:
    """The roles granted by the settings' roles claim: through the role map when one is set (an
    unmapped value grants nothing), else the values naming a role."""
    values = claim_values(claim_at(claims, settings.roles_claim))
    if settings.role_map:
        return frozenset(settings.role_map[v] for v in values if v in settings.role_map)
    return parse_roles(values)


def user_from_claims(claims: Mapping[str, Any], settings: AuthSettings) -> User:
    """The user a verified token names: ``sub`` as subject, the first of :data:`NAME_CLAIMS`
    present as name (else the subject), roles from :func:`roles_from_claims`."""
    subject = str(claims.get("sub") or "").strip()
    name = next((str(claims[c]).strip() for c in NAME_CLAIMS if str(claims.get(c) or "").strip()), subject)
    return User(subject=subject, name=name, roles=roles_from_claims(claims, settings))
