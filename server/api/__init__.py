"""The HTTP API: one router that `create_app` includes, made of one router per area."""

from __future__ import annotations

from fastapi import APIRouter

from server.api import (
    access,
    alerts,
    audit,
    bookings,
    calendar,
    dead_letters,
    health,
    members,
    noshows,
    policy,
    reports,
    rooms,
    staff,
    stream,
    waitlist,
)

router = APIRouter()
for area in (
    health,
    members,
    access,
    bookings,
    rooms,
    noshows,
    waitlist,
    calendar,
    reports,
    staff,
    stream,
    alerts,
    policy,
    audit,
    dead_letters,
):
    router.include_router(area.router)

__all__ = ["router"]
