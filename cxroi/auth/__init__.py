"""Sign-in: OpenID Connect settings, access-token checks and the acting user from a token's claims.

Without configured sign-in (:func:`load_auth_settings` returns ``None``) cxroi runs in local mode:
one user with every role (:data:`cxroi.service.identity.LOCAL_USER`), and servers bind to the
loopback interface only (:func:`check_bind`).
"""

from cxroi.auth.claims import roles_from_claims, user_from_claims
from cxroi.auth.local import LOCAL_MODE_NOTE, check_bind, is_loopback
from cxroi.auth.settings import AuthConfigError, AuthSettings, load_auth_settings, read_auth_section
from cxroi.auth.tokens import AuthenticationError, ProviderUnavailable, TokenVerifier

__all__ = [
    "LOCAL_MODE_NOTE",
    "AuthConfigError",
    "AuthSettings",
    "AuthenticationError",
    "ProviderUnavailable",
    "TokenVerifier",
    "check_bind",
    "is_loopback",
    "load_auth_settings",
    "read_auth_section",
    "roles_from_claims",
    "user_from_claims",
]
