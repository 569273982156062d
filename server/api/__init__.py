"""The HTTP API: one router that `create_app` includes, made of one router per area."""

from __future__ import annotations

from fastapi import APIRouter

from server.api import access, health, members

router = APIRouter()
router.include_router(health.router)
router.include_router(members.router)
router.include_router(access.router)

__all__ = ["router"]
