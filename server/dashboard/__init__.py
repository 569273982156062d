"""The staff dashboard: sign-in, the one-screen page, its fragments and its two static files.

Server-rendered HTML (Jinja2) with a small script (static/dashboard.js, no build step)
that listens to `GET /api/stream` and re-fetches the fragment of whatever changed.

| route | what |
| --- | --- |
| `GET /` | the dashboard with a session, else the sign-in page |
| `GET /login?token=...` | sign in with the administrator token: session cookie, to `/` |
| `POST /login` | the same from the sign-in form (`token=...`), keeping it out of the URL |
| `POST /logout` | sign out |
| `GET /dashboard/fragments/{part}` | rooms, alerts, feed, evacuation, devices, health |
| `GET /dashboard/fragments/rooms/{id}` | one room's card (the entrance's: the building's) |
| `GET /dashboard/fragments/devices/{id}` | one row of the devices table |
| `GET /dashboard/static/{name}` | `dashboard.css`, `dashboard.js` |

Every page takes `?lang=pl|en|uk` (remembered in a cookie); Polish by default.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response

from server.dashboard import views
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
from server.dashboard.reception import audit as reception_audit
from server.dashboard.reception import bookings as desk_bookings
from server.dashboard.reception import cards, members, memberships, privacy, strikes
from server.dashboard.reception import reports as desk_reports
from server.dashboard.reception import waitlist as desk_waitlist
from server.deps import Admin, CtxDep, ReadSession, get_sessions, has_session, token_role
from server.errors import NotFound
from server.notify import texts
from server.people.sessions import COOKIE

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

# -- sign-in ----------------------------------------------------------------------------


def _sign_in(request: Request, token: str | None) -> Response:
    ctx = request.app.state.ctx
    lang = page_lang(request, request.query_params.get("lang"))
    sessions = get_sessions(request)
    if not sessions.enabled:
        return render(
            request, "signin.html", lang, status=401, error=texts.text(lang, "signin.disabled")
        )
    if token_role(token, ctx) != "admin":
        log.warning(
            "dashboard sign-in refused from %s", request.client.host if request.client else "?"
        )
        return render(
            request, "signin.html", lang, status=401, error=texts.text(lang, "signin.bad")
        )
    chosen = request.query_params.get("lang")
    target = f"/?lang={chosen}" if chosen in texts.LANGS else "/"
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        sessions.issue(ctx.clock()),
        max_age=int(sessions.ttl.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    log.info("dashboard: signed in from %s", request.client.host if request.client else "?")
    return response


@router.get("/login")
def login(request: Request, token: Annotated[str | None, Query(max_length=512)] = None) -> Response:
    """Sign a browser in with the administrator token (the link the demo prints)."""
    if token is None:
        return RedirectResponse("/", status_code=303)
    return _sign_in(request, token)


@router.post("/login")
async def login_form(request: Request) -> Response:
    """The sign-in form: `token=...` as application/x-www-form-urlencoded."""
    body = (await request.body()).decode("utf-8", errors="replace")
    token = parse_qs(body, max_num_fields=4).get("token", [None])[0]
    return _sign_in(request, token.strip() if token else None)


@router.post("/logout")
def logout(request: Request) -> Response:
    """Sign out: the session is revoked and its cookie cleared. (A page of another site
    cannot sign anyone out: the SameSite=Strict cookie does not go with its requests.)"""
    ctx = request.app.state.ctx
    get_sessions(request).revoke(request.cookies.get(COOKIE), ctx.clock())
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


# -- the page and its fragments ---------------------------------------------------------


@router.get("/")
def page(request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None) -> Response:
    """The dashboard, or the sign-in page without a session."""
    chosen = page_lang(request, lang)
    if not has_session(request, ctx):
        return render(request, "signin.html", chosen, error=None)
    board = views.dashboard(session, ctx)
    return render(
        request,
        "dashboard.html",
        chosen,
        board=board,
        health=door_path(session, getattr(request.app.state, "ingest", None)),
        config=client_config(request, chosen),
    )


@router.get("/dashboard/fragments/rooms", dependencies=[Admin])
def rooms_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    return render(
        request, "fragments/rooms.html", page_lang(request, lang), rooms=views.rooms(session, ctx)
    )


@router.get("/dashboard/fragments/rooms/{room_id}", dependencies=[Admin])
def room_fragment(
    room_id: RoomIdPath, request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    room = views.rooms(session, ctx, room_id=room_id)[0]
    return render(request, "fragments/room.html", page_lang(request, lang), room=room)


@router.get("/dashboard/fragments/alerts", dependencies=[Admin])
def alerts_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    return render(
        request,
        "fragments/alerts.html",
        page_lang(request, lang),
        alerts=views.alerts(session, ctx),
    )


@router.get("/dashboard/fragments/feed", dependencies=[Admin])
def feed_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    return render(
        request, "fragments/feed.html", page_lang(request, lang), feed=views.feed(session, ctx)
    )


@router.get("/dashboard/fragments/evacuation", dependencies=[Admin])
def evacuation_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    evacuation = views.evacuation(session, ctx)
    return render(
        request, "fragments/evacuation.html", page_lang(request, lang), evacuation=evacuation
    )


@router.get("/dashboard/fragments/devices", dependencies=[Admin])
def devices_fragment(
    request: Request, ctx: CtxDep, session: ReadSession, lang: LangQuery = None
) -> Response:
    return render(
        request,
        "fragments/devices.html",
        page_lang(request, lang),
        devices=views.devices(session, ctx),
    )


@router.get("/dashboard/fragments/devices/{device_id}", dependencies=[Admin])
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


@router.get("/dashboard/fragments/health", dependencies=[Admin])
def health_fragment(request: Request, session: ReadSession, lang: LangQuery = None) -> Response:
    health = door_path(session, getattr(request.app.state, "ingest", None))
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

_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s]*")


class RedactTokens(logging.Filter):
    """Blanks `token=...` in uvicorn's access log lines (the path is their third arg), so
    `GET /login?token=...` does not write the administrator token to the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = _TOKEN_IN_QUERY.sub(r"\1[redacted]", args[2])
            record.args = (*args[:2], path, *args[3:])
        return True


def install(app: FastAPI) -> None:
    """Add the dashboard's routes to the app and keep sign-in tokens out of access logs."""
    app.include_router(router)
    app.include_router(reception_accesslog.router)
    app.include_router(reception_audit.router)
    app.include_router(members.router)
    app.include_router(cards.router)
    app.include_router(memberships.router)
    app.include_router(strikes.router)
    app.include_router(privacy.router)
    app.include_router(desk_bookings.router)
    app.include_router(desk_waitlist.router)
    app.include_router(desk_reports.router)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())


__all__ = ["install", "router"]
