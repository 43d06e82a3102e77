"""Every error as ``application/problem+json`` (RFC 9457): ``type``, ``title``, ``status`` and a
``detail`` with the same plain message the CLI prints; never a traceback.

An unexpected exception is logged on the server with a reference and answered with a 500 naming
only that reference.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxroi.auth import AuthenticationError, ProviderUnavailable
from cxroi.errors import CxroiError, ModelNotFound
from cxroi.promotion import ShiftNotAcknowledged
from cxroi.service.identity import PermissionDenied
from cxroi.service.scenarios import AlreadyApproved
from cxroi.store import ConflictError, NotFound

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("cxroi.api")

#: error class → HTTP status, most specific first; any other CxroiError is a 422
ERROR_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (ModelNotFound, 404),
    (ConflictError, 409),
    (AlreadyApproved, 409),
    (ShiftNotAcknowledged, 409),
    (ProviderUnavailable, 503),
)


def status_of(exc: CxroiError) -> int:
    """The HTTP status that answers ``exc``."""
    for kind, status in ERROR_STATUS:
        if isinstance(exc, kind):
            return status
    return 422


def problem(status: int, detail: str, headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    """A problem+json response; ``extensions`` are added as members (RFC 9457 §3.2)."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail,
            **extensions}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _location(loc: Sequence[str | int]) -> str:
    """``body.investments.0.segments`` → ``investments[0].segments`` (as the CLI names fields)."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    if not parts:
        return "request body" if "body" in loc else "request"
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validation_messages(exc: RequestValidationError) -> list[str]:
    """One plain line per problem: ``<where>: <what>``."""
    return [f"{_location(error.get('loc', ()))}: {str(error.get('msg', 'is invalid')).removeprefix('Value error, ')}"
            for error in exc.errors()]


async def _cxroi_error(_request: Request, exc: CxroiError) -> JSONResponse:
    status = status_of(exc)
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else None
    extensions: dict[str, Any] = {}
    if isinstance(exc, ConflictError):
        extensions = {"latest_version": exc.latest_version, "saved_by": exc.saved_by}
    return problem(status, str(exc), headers=headers, **extensions)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    messages = validation_messages(exc)
    return problem(422, "; ".join(messages), errors=messages)


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    reference = secrets.token_hex(6)
    logger.error("unexpected error %s on %s %s", reference, request.method, request.url.path, exc_info=exc)
    return problem(500, f"Internal error: the request could not be completed (reference {reference}, "
                        "in the server's log).")


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with problem+json."""
    app.add_exception_handler(CxroiError, _cxroi_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
