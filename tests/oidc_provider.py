"""A real OpenID Connect provider for the sign-in and API tests, started once per test session
(per xdist worker) in a thread of the test process on a free port of ``localhost``.

It is ``oidc-provider-mock`` (a Flask app on Authlib): discovery document, JWKS, a login page
with one button per predefined user, authorization-code flow and token endpoint. Access tokens are
issued as signed JWTs (RFC 9068: issuer, audience :data:`API_AUDIENCE`, expiry, the user's
claims) with the provider's own RSA key — the kind of access token production providers issue for
an API — so the API checks them against the provider's published keys exactly as in production.

Users carry their groups in the ``groups`` claim; :data:`ROLE_MAP` maps groups to cxroi roles, so
the tests exercise the configurable claim name and mapping too.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import urllib.parse
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import authlib.deprecate  # noqa: F401 - imported first: importing it turns its warnings on
import flask
import httpx
import jwt
import pytest
import werkzeug.serving
from cryptography.hazmat.primitives.asymmetric import rsa

with warnings.catch_warnings():  # the provider still uses Authlib's older modules, which say so
    warnings.simplefilter("ignore")
    import oidc_provider_mock

API_AUDIENCE = "cxroi-api"
CLIENT_ID = "cxroi-tests"
CLIENT_SECRET = "not-a-secret"
REDIRECT_URI = "http://localhost/callback"  # never followed: the code is read from the redirect
ROLES_CLAIM = "groups"
ROLE_MAP = {"cx-execs": "viewer", "cx-finance": "finance", "cx-analysts": "analyst", "cx-admins": "admin"}
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
#: sub → claims of the provider's predefined users (buttons on its login page)
USERS = {
    "vera.viewer": {"email": "vera@example.com", "preferred_username": "vera.viewer", "groups": ["cx-execs"]},
    "fin.finance": {"email": "fin@example.com", "preferred_username": "fin.finance", "groups": ["cx-finance"]},
    "ana.analyst": {"email": "ana@example.com", "preferred_username": "ana.analyst",
                    "groups": ["cx-analysts", "staff"]},
    "adam.admin": {"email": "adam@example.com", "preferred_username": "adam.admin", "groups": ["cx-admins"]},
    "nora.norole": {"email": "nora@example.com", "preferred_username": "nora.norole", "groups": ["staff"]},
}


def _signing_jwk() -> dict[str, Any]:
    """The provider's private signing key as a JWK (inside one of its requests)."""
    return flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True)


def _jwt_access_token(client, grant_type: str, user, scope: str) -> str:
    """An RFC 9068 access token for ``user``, signed with the provider's key."""
    key = jwt.PyJWK(_signing_jwk())
    now = int(time.time())
    claims = {**user.claims, "iss": flask.request.host_url.rstrip("/"), "sub": user.sub, "aud": API_AUDIENCE,
              "client_id": client.get_client_id(), "scope": scope or "", "iat": now,
              "exp": now + int(ACCESS_TOKEN_LIFETIME.total_seconds()), "jti": secrets.token_hex(8)}
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": key.key_id, "typ": "at+jwt"})


def provider_app() -> flask.Flask:
    """The provider's Flask app, issuing JWT access tokens."""
    app = flask.Flask(oidc_provider_mock.__name__)  # the package folder holds the login page templates
    app.secret_key = secrets.token_bytes(16)
    app.config["OAUTH2_ACCESS_TOKEN_GENERATOR"] = _jwt_access_token
    oidc_provider_mock.init_app(app, access_token_max_age=ACCESS_TOKEN_LIFETIME,
                                user_claims=[oidc_provider_mock.User(sub=s, claims=c) for s, c in USERS.items()])
    return app


@dataclass
class Provider:
    """A running provider: its issuer URL, its signing key, and ways to get tokens from it."""

    issuer: str
    signing_key: jwt.PyJWK

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def auth_environment(self) -> dict[str, str]:
        """``CXROI_AUTH_*`` variables that point a cxroi server at this provider."""
        return {"CXROI_AUTH_METADATA_URL": self.metadata_url, "CXROI_AUTH_AUDIENCE": API_AUDIENCE,
                "CXROI_AUTH_ROLES_CLAIM": ROLES_CLAIM,
                "CXROI_AUTH_ROLE_MAP": ",".join(f"{k}={v}" for k, v in ROLE_MAP.items())}

    def token(self, sub: str) -> str:
        """An access token for user ``sub`` through the provider's own endpoints: the login form
        posted as that user, then the authorization code exchanged at the token endpoint."""
        query = urllib.parse.urlencode({"response_type": "code", "client_id": CLIENT_ID, "scope": "openid email",
                                        "redirect_uri": REDIRECT_URI, "state": secrets.token_hex(4)})
        with httpx.Client(base_url=self.issuer, timeout=10) as client:
            login = client.post(f"/oauth2/authorize?{query}", data={"sub": sub})
            assert login.status_code == 302, login.text
            code = urllib.parse.parse_qs(urllib.parse.urlsplit(login.headers["location"]).query)["code"][0]
            answer = client.post("/oauth2/token", auth=(CLIENT_ID, CLIENT_SECRET), data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
            assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def sign(self, claims: dict[str, Any], key: jwt.PyJWK | None = None) -> str:
        """A JWT with ``claims`` signed by the provider's key (or ``key``, under the provider's key id)."""
        key = key or self.signing_key
        return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": self.signing_key.key_id})

    def claims_for(self, sub: str, **overrides: Any) -> dict[str, Any]:
        """Access-token claims as the provider would issue them now for ``sub``, with ``overrides``."""
        now = int(time.time())
        return {**USERS[sub], "iss": self.issuer, "sub": sub, "aud": API_AUDIENCE, "iat": now,
                "exp": now + 3600, **overrides}


def foreign_key() -> jwt.PyJWK:
    """A freshly made RSA key the provider has never published."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.PyJWK.from_dict({**jwt.algorithms.RSAAlgorithm.to_jwk(private, as_dict=True), "alg": "RS256"})


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    """A running OpenID Connect provider (see the module docstring), stopped after the session."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the test output
    app = provider_app()
    with app.test_request_context():
        app.preprocess_request()  # the provider's per-request setup exposes its key store
        key = jwt.PyJWK(_signing_jwk())
    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Provider(issuer=f"http://localhost:{server.server_port}", signing_key=key)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
