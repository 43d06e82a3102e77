"""``cxroi serve``: the HTTP API under uvicorn.

Without configured sign-in the server runs in local mode and listens on the loopback interface
only; a non-loopback ``--host`` is then refused. Behind a reverse proxy, set
``FORWARDED_ALLOW_IPS`` to the proxy's address so client addresses and https are taken from its
``X-Forwarded-*`` headers.
"""

from __future__ import annotations

import os

import click

from cxroi.auth import LOCAL_MODE_NOTE, check_bind, load_auth_settings
from cxroi.service.identity import LOCAL_USER


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (each loads models on first use; all share the store and models folder).")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the HTTP API (OpenAPI at /docs and /openapi.json)."""
    import uvicorn

    settings = load_auth_settings()
    check_bind(host, settings)
    if settings is None:
        click.echo(LOCAL_MODE_NOTE.format(user=LOCAL_USER.name))
        click.echo(f"Listening on {host} only (loopback); configure [auth] in .streamlit/secrets.toml or "
                   "CXROI_AUTH_* to serve other machines.")
    else:
        click.echo(f"Sign-in: {settings.summary}; roles from the '{settings.roles_claim}' claim.")
    click.echo(f"API on http://{host}:{port} (documentation at /docs), {workers} worker(s).")
    uvicorn.run("cxroi.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
                server_header=False, log_level=os.environ.get("CXROI_LOG_LEVEL", "info"))
