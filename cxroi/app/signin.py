"""Who uses the app: Streamlit's own sign-in (``st.login`` / ``st.user`` over OpenID Connect, set up
by ``[auth]`` in ``.streamlit/secrets.toml``) or, without it, local mode (one user with every role,
said in the side bar). The signed-in user is kept in ``st.session_state["cxroi.user"]`` for
:func:`cxroi.app.state.current_user`, and each sign-in is written once to the audit trail.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from cxroi.auth import (
    LOCAL_MODE_NOTE,
    AuthConfigError,
    AuthSettings,
    load_auth_settings,
    user_from_claims,
)
from cxroi.errors import CxroiError
from cxroi.service.identity import LOCAL_USER, User
from cxroi.text import literal

USER_KEY = "cxroi.user"
RECORDED_KEY = "cxroi.sign_in_recorded"  #: (subject, token issue time) this session has written to the audit trail
#: keys Streamlit's st.login needs in [auth]
STREAMLIT_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


def _auth_section() -> dict[str, Any]:
    """The ``[auth]`` section of the app's secrets (empty without a secrets file)."""
    try:
        section = st.secrets.get("auth")
    except (FileNotFoundError, OSError, KeyError):
        return {}
    if section is None:
        return {}
    return section.to_dict() if hasattr(section, "to_dict") else dict(section)


def app_auth_settings() -> AuthSettings | None:
    """The app's sign-in settings (None: local mode); a plain error when sign-in is configured but
    Streamlit lacks what it needs to sign users in."""
    section = _auth_section()
    settings = load_auth_settings(section)
    if settings is not None:
        missing = [key for key in STREAMLIT_KEYS if not section.get(key)]
        if missing:
            raise AuthConfigError(f"sign-in is configured but [auth] in .streamlit/secrets.toml lacks "
                                  f"{', '.join(missing)}: the app needs them to sign users in")
    return settings


def _sign_in_screen() -> None:
    st.title("cxroi — CX investment ROI")
    st.markdown("Sign in with your company account to see forecasts and plans.")
    st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)


@st.cache_resource(show_spinner=False)
def _recorded_sign_ins() -> set[tuple[str, object]]:
    """Sign-ins this app process has written to the audit trail: (subject, token issue time)."""
    return set()


def _record_sign_in(user: User, issued_at: object = None) -> None:
    """Write a sign-in to the audit trail once per identity token (its ``iat``), however often the
    page is reloaded or opened in new tabs."""
    key = (user.subject, issued_at)
    recorded = _recorded_sign_ins()
    if st.session_state.get(RECORDED_KEY) == key or key in recorded:
        return
    from cxroi.app import state
    from cxroi.service.audit import sign_in

    try:
        sign_in(state.context(), user, {"via": "app"})
    except CxroiError as exc:  # an unrecorded sign-in would leave the session's changes unattributed
        st.error(f"Your sign-in could not be recorded in the audit trail, so the app cannot be used now: "
                 f"{literal(str(exc))}", icon=":material/error:")
        st.stop()
    recorded.add(key)
    st.session_state[RECORDED_KEY] = key


def _who(user: User) -> None:
    """The side bar's note on who is acting."""
    roles = ", ".join(role.value for role in user.sorted_roles) or "no role"
    if user.local:
        st.sidebar.caption(":material/person: " + literal(LOCAL_MODE_NOTE.format(user=user.name)))
        return
    st.sidebar.caption(f":material/person: Signed in as **{literal(user.name)}** ({literal(roles)})")
    st.sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout, key="cxroi_sign_out")


def acting_user() -> User:
    """The user of this session. Shows the sign-in screen (and stops the run) when sign-in is
    configured and nobody is signed in, and a plain notice (and stops) for a user without a role."""
    try:
        settings = app_auth_settings()
    except AuthConfigError as exc:
        st.error(literal(str(exc)), icon=":material/error:")
        st.stop()
    issued_at = None
    if settings is None:
        user = LOCAL_USER
    elif not st.user.is_logged_in:
        _sign_in_screen()
        st.stop()
    else:
        claims = st.user.to_dict()
        user, issued_at = user_from_claims(claims, settings), claims.get("iat")
    st.session_state[USER_KEY] = user
    _who(user)
    if not user.local:  # local mode has no sign-in to record (its changes are audited as the local user)
        _record_sign_in(user, issued_at)
    if not user.roles:
        st.warning(f"{literal(user.name)} is signed in but holds no cxroi role. Ask an administrator to add the "
                   f"account to a group that the '{literal(settings.roles_claim)}' claim maps to a role.",
                   icon=":material/block:")
        st.stop()
    return user
