"""The staff dashboard: sign-in, the one-screen page, its fragments and its two static files.

Server-rendered HTML (Jinja2) with a small script (static/dashboard.js, no build step)
that listens to `GET /api/stream` and re-fetches the fragment of whatever changed.

| route | what |
| --- | --- |
| `GET /` | the dashboard with a session, else the sign-in page |
| `/login`, `/login/link`, `/auth/magic`, `/logout` | signing in and out (server.dashboard.signin) |
| `GET /dashboard/fragments/{part}` | rooms, alerts, feed, evacuation, devices, health |
| `GET /dashboard/fragments/rooms/{id}` | one room's card (the entrance's: the building's) |
| `GET /dashboard/fragments/devices/{id}` | one row of the devices table |
| `GET /dashboard/static/{name}` | `dashboard.css`, `dashboard.js` (and the door panel's) |
| `GET /panel/{room_id}?key=...` | a room's door panel (server.dashboard.panel) |

Every page takes `?lang=pl|en|uk` (remembered in a cookie); Polish by default.
"""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from server.dashboard import panel, signin, views
from server.dashboard.health import door_path
from server.dashboard.pages import (
    STATIC,
    DeviceIdPath,
    LangQuery,
    RoomIdPath,
    client_config,
    page_lang,
    render,
    static_file,
)
from server.dashboard.reception import accesslog as reception_accesslog
from server.dashboard.reception import (
    accounts,
    cards,
    deadletters,
    members,
    memberships,
    privacy,
    strikes,
)
from server.dashboard.reception import audit as reception_audit
from server.dashboard.reception import bookings as desk_bookings
from server.dashboard.reception import gdpr as desk_gdpr
from server.dashboard.reception import mail as desk_mail
from server.dashboard.reception import panels as desk_panels
from server.dashboard.reception import reports as desk_reports
from server.dashboard.reception import waitlist as desk_waitlist
from server.deps import CtxDep, ReadSession, Staff, session_principal
from server.errors import NotFound
from server.people.accounts import WrongSite

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

# -- the page and its fragments ---------------------------------------------------------


@router.get("/")
def page(request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None) -> Response:
    """The dashboard, or the sign-in page without a session (the portal for a member)."""
    chosen = page_lang(request, lang)
    principal = session_principal(request, ctx)
    if principal is None:
        return render(request, "signin.html", chosen, error=None)
    if principal.role == "member":
        return RedirectResponse(signin.landing("member", request), status_code=303)
    board = views.dashboard(session, ctx)
    return render(
        request,
        "dashboard.html",
        chosen,
        board=board,
        health=door_path(session, getattr(request.app.state, "ingest", None), site_id=ctx.site.id),
        config=client_config(request, chosen),
    )


@router.get("/dashboard/fragments/rooms", dependencies=[Staff])
def rooms_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    return render(
        request, "fragments/rooms.html", page_lang(request, lang), rooms=views.rooms(session, ctx)
    )


@router.get("/dashboard/fragments/rooms/{room_id}", dependencies=[Staff])
def room_fragment(
    room_id: RoomIdPath, request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    room = views.rooms(session, ctx, room_id=room_id)[0]
    return render(request, "fragments/room.html", page_lang(request, lang), room=room)


@router.get("/dashboard/fragments/alerts", dependencies=[Staff])
def alerts_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    return render(
        request,
        "fragments/alerts.html",
        page_lang(request, lang),
        alerts=views.alerts(session, ctx),
    )


@router.get("/dashboard/fragments/feed", dependencies=[Staff])
def feed_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    return render(
        request, "fragments/feed.html", page_lang(request, lang), feed=views.feed(session, ctx)
    )


@router.get("/dashboard/fragments/evacuation", dependencies=[Staff])
def evacuation_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    evacuation = views.evacuation(session, ctx)
    return render(
        request, "fragments/evacuation.html", page_lang(request, lang), evacuation=evacuation
    )


@router.get("/dashboard/fragments/devices", dependencies=[Staff])
def devices_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    return render(
        request,
        "fragments/devices.html",
        page_lang(request, lang),
        devices=views.devices(session, ctx),
    )


@router.get("/dashboard/fragments/devices/{device_id}", dependencies=[Staff])
def device_fragment(
    device_id: DeviceIdPath,
    request: Request,
    ctx: CtxDep,
    session: ReadSession,
    lang: LangQuery = None,
) -> Response:
    """One row of the devices table (a `device` event names the device); 404 unknown."""
    found = [d for d in views.devices(session, ctx) if d.id == device_id]
    if not found:
        raise NotFound(f"device {device_id!r} not found")
    return render(request, "fragments/device.html", page_lang(request, lang), device=found[0])


@router.get("/dashboard/fragments/health", dependencies=[Staff])
def health_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    health = door_path(session, getattr(request.app.state, "ingest", None), site_id=ctx.site.id)
    return render(request, "fragments/health.html", page_lang(request, lang), health=health)


@router.get("/dashboard/static/{name}")
def static(name: str, request: Request) -> Response:
    """The stylesheet and the script (public, cached; the page links them by content)."""
    if name not in STATIC:
        return Response(status_code=404)
    body, etag = static_file(name)
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": "public, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=f"{STATIC[name]}; charset=utf-8", headers=headers)


# -- the sign-in link must not end up in the access log ---------------------------------

_TOKEN_IN_QUERY = re.compile(r"([?&](?:token|key)=)[^&\s]*")


class RedactTokens(logging.Filter):
    """Blanks `token=...` and `key=...` in uvicorn's access log lines (the path is their
    third arg), so `GET /login?token=...` does not write the administrator token to the
    log, nor a door panel's or a calendar feed's URL its key."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = _TOKEN_IN_QUERY.sub(r"\1[redacted]", args[2])
            record.args = (*args[:2], path, *args[3:])
        return True


def install(app: FastAPI) -> None:
    """Add the dashboard's routes to the app and keep sign-in tokens out of access logs."""
    app.include_router(signin.router)
    # before the app's DomainError handler: a page says it on the sign-in page
    app.add_exception_handler(WrongSite, signin.wrong_site)
    app.include_router(accounts.router)
    app.include_router(router)
    app.include_router(reception_accesslog.router)
    app.include_router(reception_audit.router)
    app.include_router(members.router)
    app.include_router(cards.router)
    app.include_router(memberships.router)
    app.include_router(strikes.router)
    app.include_router(deadletters.router)
    app.include_router(privacy.router)
    app.include_router(desk_bookings.router)
    app.include_router(desk_waitlist.router)
    app.include_router(desk_reports.router)
    app.include_router(desk_panels.router)
    app.include_router(panel.router)
    app.include_router(desk_mail.router)
    app.include_router(desk_gdpr.router)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())


__all__ = ["install", "router"]
