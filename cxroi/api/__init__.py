"""The HTTP API (FastAPI): models, scenarios, simulate, forecast, optimise and audit over the
service layer, with OIDC bearer tokens and problem+json errors. Served by ``cxroi serve``;
:func:`cxroi.api.app.create_app` builds it."""
