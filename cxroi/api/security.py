"""Who is calling: the user of a valid OIDC access token (``Authorization: Bearer …``), or the
local-mode user when sign-in is not configured."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cxroi.auth import AuthenticationError, AuthSettings, TokenVerifier
from cxroi.service.identity import LOCAL_USER, User

bearer = HTTPBearer(auto_error=False, description="An OIDC access token (JWT) from the configured identity provider. "
                                                  "Not needed in local mode.")


class Authenticator:
    """Turns a request's bearer token into the acting user (local mode: always ``local``)."""

    def __init__(self, settings: AuthSettings | None, local: User = LOCAL_USER) -> None:
        self.settings = settings
        self.local = local
        self.verifier = TokenVerifier(settings) if settings else None

    def user(self, credentials: HTTPAuthorizationCredentials | None) -> User:
        """The acting user; :class:`AuthenticationError` without a valid token when sign-in is on."""
        if self.verifier is None:
            return self.local
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
            raise AuthenticationError("Sign-in required: send an access token from the identity provider as "
                                      "'Authorization: Bearer <token>'.")
        return self.verifier.user(credentials.credentials)


def current_user(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    """FastAPI dependency: the acting user of this request."""
    return request.app.state.authenticator.user(credentials)


#: a route parameter receiving the acting user
CurrentUser = Annotated[User, Depends(current_user)]
