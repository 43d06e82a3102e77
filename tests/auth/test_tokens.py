"""Access tokens checked against a real OpenID Connect provider started by the test session."""

from __future__ import annotations

import time

import jwt
import pytest

from cxroi.auth import AuthenticationError, TokenVerifier, load_auth_settings
from cxroi.auth.tokens import fetch_json
from cxroi.service.identity import Role
from tests.oidc_provider import foreign_key


@pytest.fixture(scope="module")
def verifier(oidc_provider) -> TokenVerifier:
    return TokenVerifier(load_auth_settings({}, oidc_provider.auth_environment()))


def test_token_from_the_provider_names_the_user_and_role(oidc_provider, verifier) -> None:
    user = verifier.user(oidc_provider.token("ana.analyst"))
    assert (user.subject, user.name, user.roles) == ("ana.analyst", "ana.analyst", {Role.ANALYST})


@pytest.mark.parametrize(("claims", "message"), [
    ({"exp": int(time.time()) - 300}, "has expired"),
    ({"aud": "another-api"}, "another audience"),
    ({"iss": "https://impostor.example.com"}, "another identity provider"),
])
def test_tokens_signed_by_the_provider_but_wrong_are_refused(oidc_provider, verifier, claims, message) -> None:
    with pytest.raises(AuthenticationError, match=message):
        verifier.claims(oidc_provider.sign(oidc_provider.claims_for("ana.analyst", **claims)))


def test_token_signed_by_another_key_is_refused(oidc_provider, verifier) -> None:
    forged = oidc_provider.sign(oidc_provider.claims_for("adam.admin"), key=foreign_key())
    with pytest.raises(AuthenticationError, match="signature does not match"):
        verifier.claims(forged)


def test_unsigned_and_symmetric_tokens_are_refused(oidc_provider, verifier) -> None:
    claims = oidc_provider.claims_for("adam.admin")
    for token in (jwt.encode(claims, None, algorithm="none"), jwt.encode(claims, "s" * 32, algorithm="HS256")):
        with pytest.raises(AuthenticationError):
            verifier.claims(token)
    with pytest.raises(AuthenticationError, match="not a readable JWT"):
        verifier.claims("not.a.token")


def test_keys_are_cached_and_unknown_key_ids_refetch_at_most_once_a_minute(oidc_provider) -> None:
    fetched: list[str] = []
    now = [1000.0]

    def counting_fetch(url: str) -> dict:
        fetched.append(url)
        return fetch_json(url)

    verifier = TokenVerifier(load_auth_settings({}, oidc_provider.auth_environment()), fetch=counting_fetch,
                             clock=lambda: now[0])
    jwks = f"{oidc_provider.issuer}/jwks"
    for _ in range(3):
        verifier.claims(oidc_provider.sign(oidc_provider.claims_for("vera.viewer")))
    assert fetched == [oidc_provider.metadata_url, jwks]

    stranger = foreign_key()
    unknown_kid = jwt.encode(oidc_provider.claims_for("vera.viewer"), stranger.key, algorithm="RS256",
                             headers={"kid": "rotated-key"})
    for _ in range(3):  # within a minute of the last fetch: refused from the cache
        with pytest.raises(AuthenticationError, match="does not publish"):
            verifier.claims(unknown_kid)
    assert fetched == [oidc_provider.metadata_url, jwks]
    now[0] += 61  # a minute on: one refetch (a rotated key would be found), then the cache again
    for _ in range(3):
        with pytest.raises(AuthenticationError, match="does not publish"):
            verifier.claims(unknown_kid)
    assert fetched == [oidc_provider.metadata_url, jwks, jwks]
