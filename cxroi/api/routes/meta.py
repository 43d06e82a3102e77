"""Liveness and the calling user."""

from __future__ import annotations

from fastapi import APIRouter

from cxroi.api.schemas import UserOut
from cxroi.api.security import CurrentUser

router = APIRouter(tags=["service"])


@router.get("/health", summary="Liveness: the server answers (no sign-in needed)")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/me", summary="The calling user, their roles and what they may do")
def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)
