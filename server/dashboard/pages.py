"""What every dashboard page shares: its templates, language, security headers and static
files, and `render`, which fills a template with the catalogue's words in the reader's
language. The dashboard's own routes (server.dashboard) and the reception desk's
(server.dashboard.reception) render through it.

    return render(request, "dashboard.html", page_lang(request, lang), board=board)
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Path as PathParam
from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from server.dashboard import i18n
from server.deps import csrf_token
from server.notify import texts
from server.occupancy.roomstate import RoomState

HERE = Path(__file__).parent
LANG_COOKIE = "spacehub_lang"
LANG_MAX_AGE = 365 * 86400
STATIC = {
    "dashboard.css": "text/css",
    "dashboard.js": "text/javascript",
    "reception.js": "text/javascript",
    "panel.css": "text/css",
    "panel.js": "text/javascript",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
STATE_ICONS = {
    RoomState.FREE: "○",
    RoomState.BOOKED_WAITING: "◔",
    RoomState.IN_USE: "●",
    RoomState.IN_USE_UNBOOKED: "⚠",
    RoomState.CHECKED_IN_UNSEEN: "◑",
    RoomState.RELEASED: "↺",
    RoomState.OVER_CAPACITY: "▲",
}
RoomIdPath = Annotated[str, PathParam(min_length=1, max_length=64)]
DeviceIdPath = Annotated[str, PathParam(min_length=1, max_length=64)]
LangQuery = Annotated[str | None, Query(max_length=8)]


@cache
def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["icons"] = STATE_ICONS
    return env


@cache
def static_file(name: str) -> tuple[bytes, str]:
    body = (HERE / "static" / name).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


def page_lang(request: Request, lang: str | None) -> str:
    """`?lang=` when given and known, else the cookie, else the site's language."""
    if lang in texts.LANGS:
        return lang  # type: ignore[return-value]
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in texts.LANGS:
        return cookie  # type: ignore[return-value]
    return request.app.state.ctx.site.site.language


def render(
    request: Request, template: str, lang: str, status: int = 200, **values: Any
) -> HTMLResponse:
    ctx = request.app.state.ctx

    def tr(key: str, **kw: object) -> str:
        return texts.text(lang, key, **kw)

    def tr_or(key: str, fallback: str) -> str:
        return texts.text(lang, key) if texts.known(key) else fallback

    html = (
        templates()
        .get_template(template)
        .render(
            lang=lang,
            tr=tr,
            tr_or=tr_or,
            site=ctx.site.site,
            # every page's <meta name="csrf-token"> and forms' hidden `csrf_token`
            # (checked by server.deps.check_form_csrf); '' signed out
            csrf_token=csrf_token(request),
            langs=texts.LANG_NAMES,
            version=static_file("dashboard.js")[1] + static_file("dashboard.css")[1],
            **values,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    # Only a page the reader opened remembers its language: a fragment still loading for
    # the page being left (it names that page's language) must not undo the choice.
    if request.query_params.get("lang") == lang and not template.startswith("fragments/"):
        response.set_cookie(
            LANG_COOKIE, lang, max_age=LANG_MAX_AGE, httponly=True, samesite="lax", path="/"
        )
    return response


def client_config(request: Request, lang: str) -> dict[str, Any]:
    """What the script reads from the page (written with `tojson`, safe inside <script>)."""
    site = request.app.state.ctx.site
    return {
        "lang": lang,
        "strings": i18n.client_strings(lang),
        "rooms": [r.id for r in site.rooms],
        # the rooms whose people count is the building's (the evacuation list shows it)
        "entrances": [r.id for r in site.rooms if r.kind == "entrance"],
        "doors": {d.door: d.room for d in site.door_devices() if d.door},
        "devices": {d.id: d.room for d in site.devices},
    }
