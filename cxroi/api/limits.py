"""Request body size limit (``CXROI_API_MAX_BODY_MB``, default 1 MB: a scenario is a few
kilobytes). A larger body is refused with 413 as soon as its declared length or the bytes
received pass the limit, before anything is parsed."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxroi.api.problems import problem
from cxroi.errors import CxroiError
from cxroi.fileio import megabytes_setting

MAX_BODY_ENV = "CXROI_API_MAX_BODY_MB"
DEFAULT_MAX_BODY_MB = 1.0


def max_body_bytes() -> int:
    """The body limit in bytes, from :data:`MAX_BODY_ENV`."""
    return megabytes_setting(MAX_BODY_ENV, DEFAULT_MAX_BODY_MB, CxroiError)


class RequestTooLarge(HTTPException):
    """A request body over the limit (an HTTP exception, so body parsing passes it on untouched)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the API accepts ({limit / 2**20:g} MB; "
                              f"{MAX_BODY_ENV} sets the limit).")


class BodyLimit:
    """ASGI middleware enforcing the body limit on every HTTP request."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            too_large = RequestTooLarge(self.limit)
            await problem(too_large.status_code, too_large.detail)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise RequestTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)
