"""The HTTP API: one router that `create_app` includes, made of one router per area (and,
where members may call some of an area's routes, its `member_router` beside it)."""

from __future__ import annotations

from fastapi import APIRouter

from server.api import (
    access,
    alerts,
    audit,
    auth,
    bookings,
    calendar,
    dead_letters,
    health,
    mail,
    me,
    members,
    metrics,
    noshows,
    panels,
    policy,
    reports,
    rooms,
    staff,
    stream,
    tokens,
    users,
    waitlist,
)

router = APIRouter()
for area in (
    health,
    metrics,
    auth,
    me,
    users,
    tokens,
    mail,
    members,
    access,
    bookings,
    rooms,
    noshows,
    waitlist,
    calendar,
    panels,
    reports,
    staff,
    stream,
    alerts,
    policy,
    audit,
    dead_letters,
):
    router.include_router(area.router)
    member_router = getattr(area, "member_router", None)
    if member_router is not None:
        router.include_router(member_router)

__all__ = ["router"]
