"""Checking OIDC access tokens (JWT): signature against the provider's published keys (JWKS),
issuer, audience and expiry — with PyJWT.

The provider's discovery document and key set are fetched once and cached; a token signed with a
key the cache does not know makes one refetch (at most once a minute, so forged key ids cannot make
cxroi hammer the provider), which is how a provider's key rotation is picked up.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import jwt

from cxroi.auth.claims import user_from_claims
from cxroi.auth.settings import AuthSettings
from cxroi.errors import CxroiError
from cxroi.service.identity import User

#: signature algorithms accepted; symmetric ones (HS*) and "none" never are
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
KEYS_LIFETIME_S = 300.0
REFETCH_INTERVAL_S = 60.0
FETCH_TIMEOUT_S = 5.0
#: clock difference tolerated between the provider and this machine, in seconds
LEEWAY_S = 30
MAX_DOCUMENT_BYTES = 1_000_000


class AuthenticationError(CxroiError):
    """A request carries no usable token: missing, unreadable, expired, or not from our provider."""


class ProviderUnavailable(CxroiError):
    """The identity provider's discovery document or keys could not be fetched."""


def fetch_json(url: str, timeout_s: float = FETCH_TIMEOUT_S) -> dict[str, Any]:
    """A JSON object from ``url`` (the provider's discovery document or key set)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            document = json.loads(response.read(MAX_DOCUMENT_BYTES))
    except (OSError, ValueError) as exc:
        raise ProviderUnavailable(f"the identity provider could not be reached at {url}: {exc}") from None
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{url} did not answer with a JSON object")
    return document


class TokenVerifier:
    """Verifies access tokens for :class:`AuthSettings` and names their user; thread-safe.

    ``fetch`` (a URL → JSON object function) and ``clock`` (seconds) are replaceable for tests.
    """

    def __init__(self, settings: AuthSettings, fetch: Callable[[str], dict[str, Any]] = fetch_json,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._endpoints: tuple[str, str] | None = None  # issuer, jwks_uri
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_at = -float("inf")

    def endpoints(self) -> tuple[str, str]:
        """The expected issuer and the key-set URL: from the settings, the rest from discovery."""
        if self._endpoints is None:
            issuer, jwks_url = self.settings.issuer, self.settings.jwks_url
            if not (issuer and jwks_url):
                document = self._fetch(self.settings.metadata_url or "")
                issuer = issuer or document.get("issuer")
                jwks_url = jwks_url or document.get("jwks_uri")
                if not (isinstance(issuer, str) and isinstance(jwks_url, str)):
                    raise ProviderUnavailable(f"the discovery document at {self.settings.metadata_url} "
                                              "names no issuer or no jwks_uri")
            self._endpoints = (issuer, jwks_url)
        return self._endpoints

    def _refresh_keys(self) -> None:
        document = self._fetch(self.endpoints()[1])
        try:
            key_set = jwt.PyJWKSet.from_dict(document)
        except jwt.PyJWTError as exc:
            raise ProviderUnavailable(f"the identity provider's key set is unusable: {exc}") from None
        self._keys = {key.key_id or "": key for key in key_set.keys}
        self._keys_at = self._clock()

    def signing_key(self, key_id: str | None) -> jwt.PyJWK:
        """The provider's key ``key_id`` (a token without one may name none when the provider
        publishes a single key); refetched when stale or unknown (at most once a minute)."""
        with self._lock:
            age = self._clock() - self._keys_at
            if age > KEYS_LIFETIME_S or (key_id not in self._keys and age > REFETCH_INTERVAL_S):
                self._refresh_keys()
            if key_id is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
            key = self._keys.get(key_id or "")
        if key is None:
            raise AuthenticationError("The access token is signed with a key the identity provider "
                                      "does not publish.")
        return key

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; :class:`AuthenticationError` saying what is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError("The access token is not a readable JWT.") from None
        key = self.signing_key(header.get("kid"))
        issuer = self.endpoints()[0]
        try:
            return jwt.decode(token, key=key, algorithms=ALGORITHMS, audience=self.settings.audience,
                              issuer=issuer, leeway=LEEWAY_S,
                              options={"require": ["exp", "iss", "sub", "aud"]})
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("The access token has expired: get a new one from the identity "
                                      "provider.") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError(f"The access token is meant for another audience, not this API "
                                      f"(expected '{self.settings.audience}').") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationError(f"The access token was issued by another identity provider "
                                      f"(expected '{issuer}').") from None
        except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError, jwt.InvalidKeyError):
            raise AuthenticationError("The access token's signature does not match the identity "
                                      "provider's keys.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthenticationError(f"The access token lacks the '{exc.claim}' claim.") from None
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"The access token is not valid: {exc}.") from None

    def user(self, token: str) -> User:
        """The user a valid ``token`` names, with roles from its claims."""
        return user_from_claims(self.claims(token), self.settings)
