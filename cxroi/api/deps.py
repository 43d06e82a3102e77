"""Shared route dependencies: the process's service context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cxroi.service.context import Context


def context(request: Request) -> Context:
    """The service context the app was created with (one per process)."""
    return request.app.state.context


#: a route parameter receiving the service context
Ctx = Annotated[Context, Depends(context)]
