"""What the reception desk's forms share: the posted fields, the CSRF token a form carries
(`csrf_token`, checked in `check_csrf`, the one place), local dates and times of the site,
and the redirect after a post.

A form is application/x-www-form-urlencoded and works without JavaScript: the page posts,
the server answers with a redirect (303) to the page to show next, or with the form again,
filled in as it was sent, and the error in the reader's language."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, time
from typing import Annotated
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from server.people.sessions import COOKIE

CSRF_FIELD = "csrf_token"
MAX_FIELDS = 1000
MAX_BODY = 64 * 1024


class Form:
    """The fields of a posted form: `get` the first value of one (stripped, '' when
    absent), `getlist` every value (a group of checkboxes)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields

    def get(self, name: str) -> str:
        values = self.fields.get(name)
        return values[0].strip() if values else ""

    def getlist(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, []) if v.strip()]


async def posted(request: Request) -> Form:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(status_code=413, detail="the form is too large")
    decoded = body.decode("utf-8", errors="replace")
    return Form(parse_qs(decoded, keep_blank_values=True, max_num_fields=MAX_FIELDS))


FormDep = Annotated[Form, Depends(posted)]


def csrf_token(request: Request) -> str:
    """The token a page's forms carry as the hidden field `csrf_token`: derived from the
    browser's session cookie, so another site's page cannot know it ('' signed out)."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return ""
    return hmac.new(cookie.encode(), b"spacehub form", hashlib.sha256).hexdigest()


def check_csrf(request: Request, form: Form) -> None:
    """A form posted with the session cookie must carry its session's `csrf_token` (403
    else); a request with a bearer token needs none (no browser sends one by itself)."""
    if request.headers.get("authorization"):
        return
    expected = csrf_token(request)
    given = form.get(CSRF_FIELD).encode()
    if not expected or not hmac.compare_digest(given, expected.encode()):
        raise HTTPException(status_code=403, detail="the form is out of date; reload the page")


def site_zone(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.ctx.site.site.timezone)


def local_day(request: Request, value: str | None) -> date:
    """A `YYYY-MM-DD` day, or today in the site's zone when absent or malformed."""
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return request.app.state.ctx.clock().astimezone(site_zone(request)).date()


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def redirect(path: str, **query: object) -> RedirectResponse:
    """303 to `path` with the query (None values left out)."""
    kept = {k: str(v) for k, v in query.items() if v is not None}
    target = f"{path}?{urlencode(kept)}" if kept else path
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
