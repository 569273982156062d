"""What the bookings, waitlist and report pages share: the posted fields (several values
of a name, for a group of checkboxes), the page's language and the site's zone (`Desk`),
local times,
and the redirect after a post.

A form is application/x-www-form-urlencoded and works without JavaScript: the page posts,
the server answers with a redirect (303) to the page to show next, or with the form again,
filled in as it was sent, and the error in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from server.context import ServerContext
from server.dashboard.pages import LangQuery, page_lang, render
from server.dashboard.reception import refusals
from server.deps import CtxDep

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


@dataclass(frozen=True)
class Desk:
    """What a reception page's handler needs besides its own parameters: the request, the
    server, the page's language (`asked`: `?lang=` as given, kept across a redirect)."""

    request: Request
    ctx: ServerContext
    lang: str
    asked: str | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.ctx.site.site.timezone)

    @property
    def today(self) -> date:
        return self.ctx.clock().astimezone(self.zone).date()

    def day(self, value: str | None) -> date:
        """A `YYYY-MM-DD` day, or today in the site's zone when absent or malformed."""
        try:
            return date.fromisoformat(value or "")
        except ValueError:
            return self.today

    def render(self, template: str, *, status: int = 200, **values: object) -> Response:
        """The page (its forms carry the session's CSRF token: server.dashboard.pages)."""
        return render(self.request, template, self.lang, status, **values)

    def explain(self, exc: Exception) -> str:
        """A refusal in the page's language."""
        return refusals.explain(self.lang, exc, site=self.ctx.site, zone=self.zone)

    def redirect(self, path: str, **query: object) -> RedirectResponse:
        return redirect(path, **query, lang=self.asked)


def _desk(request: Request, ctx: CtxDep, lang: LangQuery = None) -> Desk:
    return Desk(request=request, ctx=ctx, lang=page_lang(request, lang), asked=lang)


DeskDep = Annotated[Desk, Depends(_desk)]


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def local_span(day: str, start: str, end: str, zone: ZoneInfo) -> tuple[date, datetime, datetime]:
    """A form's local day (`YYYY-MM-DD`) and its hours from and to (`HH:MM`): the day, and
    the start and end as UTC instants; refusals.FormError `desk.bk.err.when` when one is
    malformed."""
    try:
        on = date.fromisoformat(day)
        since, until = time.fromisoformat(start), time.fromisoformat(end)
    except ValueError:
        raise refusals.FormError("desk.bk.err.when") from None
    return on, local_instant(on, since, zone), local_instant(on, until, zone)


def redirect(path: str, **query: object) -> RedirectResponse:
    """303 to `path` with the query (None values left out)."""
    kept = {k: str(v) for k, v in query.items() if v is not None}
    target = f"{path}?{urlencode(kept)}" if kept else path
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
