"""Local mode: without configured sign-in there is one user holding every role, so a server must
not be reachable from other machines."""

from __future__ import annotations

import ipaddress

from cxroi.auth.settings import AuthConfigError, AuthSettings

LOCAL_MODE_NOTE = ("Local mode: sign-in is not configured, so everyone who can reach this server acts as "
                   "{user} with every role.")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is on the loopback interface only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, settings: AuthSettings | None) -> None:
    """Refuse to listen on ``host`` beyond the loopback interface when sign-in is not configured."""
    if settings is None and not is_loopback(host):
        raise AuthConfigError(
            f"refusing to listen on {host}: sign-in is not configured, so anyone reaching the server "
            "would act with every role. Configure [auth] in .streamlit/secrets.toml (or CXROI_AUTH_*), "
            "or listen on 127.0.0.1.")
