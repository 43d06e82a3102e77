"""The FastAPI application: :func:`create_app` (served by ``cxroi serve`` through uvicorn).

Everything the API does goes through :mod:`cxroi.service` with the calling user; the API adds
sign-in (OIDC bearer tokens, :mod:`cxroi.api.security`), a body size limit
(:mod:`cxroi.api.limits`) and problem+json errors (:mod:`cxroi.api.problems`). It imports no
training library: start-up takes seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from cxroi import __version__
from cxroi.api.limits import BodyLimit, max_body_bytes
from cxroi.api.problems import PROBLEM_JSON, install_problem_handlers
from cxroi.api.routes import audit, forecast, meta, models, scenarios, simulate
from cxroi.api.schemas import SCENARIO_DEFINITIONS
from cxroi.api.security import Authenticator
from cxroi.auth import AuthSettings, load_auth_settings
from cxroi.service.context import Context
from cxroi.service.identity import LOCAL_USER, User

DESCRIPTION = """CX-investment ROI forecasts for finance systems and other programs.

Send an OIDC access token from the configured identity provider as `Authorization: Bearer <token>`;
the roles in its claims decide what may be done (viewer: simulate, optimise, save drafts; finance: +
forecasts and approvals; analyst: + promote models; admin: + delete and the audit trail). Without
configured sign-in the server runs in local mode on the loopback interface only.

Every error is `application/problem+json` (RFC 9457) with a plain `detail`. Units: currency in the
model's currency, months 1-based forecast months, rates and margins as fractions."""
PROBLEM_RESPONSE = {"description": "A problem (RFC 9457)", "content": {PROBLEM_JSON: {"schema": {
    "type": "object", "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                     "status": {"type": "integer"}, "detail": {"type": "string"}}}}}}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with the scenario's schema among the components."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        document.setdefault("components", {}).setdefault("schemas", {}).update(SCENARIO_DEFINITIONS)
        app.openapi_schema = document
    return app.openapi_schema


def create_app(settings: AuthSettings | None = None, context: Context | None = None,
               local: User = LOCAL_USER) -> FastAPI:
    """The API over ``context`` (default: from the environment) with sign-in ``settings``
    (default: read from the environment and the secrets file; ``None`` there means local mode)."""
    logging.getLogger("cxroi.api").setLevel(logging.INFO)
    app = FastAPI(title="cxroi", version=__version__, description=DESCRIPTION,
                  responses={code: PROBLEM_RESPONSE for code in (401, 403, 404, 409, 413, 422, 500)})
    app.state.auth_settings = settings if settings is not None else load_auth_settings()
    app.state.authenticator = Authenticator(app.state.auth_settings, local)
    app.state.context = context or Context.from_environment()
    for module in (meta, models, simulate, forecast, scenarios, audit):  # specific paths before /scenarios/{name}
        app.include_router(module.router)
    install_problem_handlers(app)
    app.add_middleware(BodyLimit, limit=max_body_bytes())
    app.openapi = lambda: _openapi(app)
    return app
