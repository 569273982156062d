"""What every portal page shares: the signed-in member (`Me`), the page's language, local
times, and saying a refusal in the member's words.

A page's handler takes `MeDep`: a browser that is not signed in as a member is sent to
the sign-in form at `/me/`. A form's handler is routed with `dependencies=[Members]`, the
API's own check of the role and of the session's CSRF token (a form's hidden
`csrf_token`), and acts for `Me.member_id` only: never for a member id from the form.

The language is `?lang=` when given, else the member's own; every link and redirect of
the portal carries it on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from server.bookings.attendees import UnknownAttendees
from server.bookings.quotas import QuotaExceeded
from server.context import ServerContext
from server.dashboard.pages import LangQuery, render, static_file
from server.dashboard.reception import refusals
from server.deps import CtxDep, Principal, get_ctx, session_principal
from server.errors import DomainError, Forbidden, Invalid
from server.notify import texts
from server.people import members

# The portal's sections, in the order of its menu: (page id, path, text key).
SECTIONS = (
    ("home", "/me/", "portal.nav.home"),
    ("rooms", "/me/rooms", "portal.nav.rooms"),
    ("bookings", "/me/bookings", "portal.nav.bookings"),
    ("waitlist", "/me/waitlist", "portal.nav.waitlist"),
    ("notifications", "/me/notifications", "portal.nav.notifications"),
    ("calendar", "/me/calendar", "portal.nav.calendar"),
    ("strikes", "/me/strikes", "portal.nav.strikes"),
)
# (the class refusing, a part of its message, the member's sentence), before the desk's
REFUSALS: tuple[tuple[type[DomainError], str, str], ...] = (
    (Forbidden, "suspended until", "portal.err.suspended"),
    (Forbidden, "may not book until", "portal.err.barred"),
    (Forbidden, "only see and act on their own", "portal.err.not_yours"),
    (Invalid, "holder is not one of its attendees", "portal.err.self_attendee"),
    (Invalid, "attendee e-mail addresses at once", "portal.err.too_many_emails"),
)


class FormError(refusals.FormError):
    """A field the page could not read (`key`: the sentence to show)."""


@dataclass(frozen=True)
class Me:
    """The member signed in, their page's language (`asked`: `?lang=` as given), and the
    server."""

    request: Request
    ctx: ServerContext
    principal: Principal
    member_id: int
    lang: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.ctx.site.site.timezone)

    @property
    def now(self) -> datetime:
        return self.ctx.clock()

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def render(self, template: str, *, status: int = 200, **values: object) -> Response:
        """A portal page (`page` names its section in the menu)."""
        return page(self.request, template, self.lang, status, **values)

    def url(self, path: str, **query: object) -> str:
        return url(path, self.lang, **query)

    def redirect(self, path: str, **query: object) -> RedirectResponse:
        """303 to a portal page (after a form), in the page's language."""
        return RedirectResponse(
            self.url(path, **query), status_code=303, headers={"Cache-Control": "no-store"}
        )

    def explain(self, exc: Exception) -> str:
        """A refusal in the member's language: what was wrong, and what to do."""
        return explain(self.lang, exc, self.ctx, self.zone)

    def refused(self, exc: DomainError) -> Response:
        """A page saying why an action on something was refused (its status: 403 for
        someone else's booking, 404 for an unknown one, 409 for one that changed)."""
        return self.render("portal/refused.html", status=exc.status, error=self.explain(exc))

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)


def page(
    request: Request, template: str, lang: str, status: int = 200, **values: object
) -> Response:
    """A portal page in `lang`: the menu (`page` names its section), the language switch,
    the site's zone and `hours(seconds)` in words."""
    values.setdefault("page", "")
    return render(
        request,
        template,
        lang,
        status,
        sections=SECTIONS,
        switch=language_links(request),
        portal_css=static_file("portal.css")[1],
        zone=ZoneInfo(get_ctx(request).site.site.timezone),
        hours=lambda seconds: refusals.hours_text(lang, seconds),
        **values,
    )


def url(path: str, lang: str, **query: object) -> str:
    """`path` with the language and the other non-empty query values."""
    values = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode({**values, 'lang': lang})}"


def language_links(request: Request) -> dict[str, str]:
    """The page itself in each language (its other query values kept)."""
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    return {code: url(request.url.path, code, **query) for code in texts.LANGS}


def explain(lang: str, exc: Exception, ctx: ServerContext, zone: ZoneInfo) -> str:
    if isinstance(exc, QuotaExceeded):
        return texts.text(
            lang,
            "portal.err.quota",
            limit=refusals.hours_text(lang, exc.limit),
            left=refusals.hours_text(lang, exc.left),
            week=exc.week,
        )
    if isinstance(exc, UnknownAttendees):
        return texts.text(lang, "portal.err.unknown_emails", emails=", ".join(exc.emails))
    if isinstance(exc, FormError) and texts.known(exc.key):
        return texts.text(lang, exc.key, max=ctx.site.bookings.max_occurrences)
    for kind, part, key in REFUSALS:
        if isinstance(exc, kind) and part in str(exc):
            return texts.text(lang, key)
    return refusals.explain(lang, exc, site=ctx.site, zone=zone)


def local_instant(value: str, zone: ZoneInfo) -> datetime:
    """A `YYYY-MM-DDTHH:MM` local time as UTC; FormError otherwise."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise FormError("portal.err.when") from None
    if at.tzinfo is not None:
        raise FormError("portal.err.when")
    return at.replace(tzinfo=zone).astimezone(UTC)


def day_and_time(day: str, at: str, zone: ZoneInfo) -> datetime:
    """A local day (`YYYY-MM-DD`) and time of day (`HH:MM`) as UTC; FormError otherwise."""
    try:
        moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(at))
    except ValueError:
        raise FormError("portal.err.when") from None
    return moment.replace(tzinfo=zone).astimezone(UTC)


def signed_in(request: Request, ctx: ServerContext, lang: str | None) -> Me | None:
    """The member signed in with the request's session (or, for a form, the caller the
    `Members` dependency found), or None."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        principal = session_principal(request, ctx)
    if principal is None or principal.member_id is None:
        return None
    chosen: str | None = lang if lang in texts.LANGS else None
    if chosen is None:
        with ctx.reads() as session:
            chosen = members.get_member(session, member_id=principal.member_id).lang
    return Me(request, ctx, principal, principal.member_id, texts.pick(chosen))


def _me(request: Request, ctx: CtxDep, lang: LangQuery = None) -> Me:
    me = signed_in(request, ctx, lang)
    if me is not None:
        return me
    if request.method == "GET":  # to the sign-in form, and back to the portal from there
        where = url("/me/", lang) if lang in texts.LANGS else "/me/"
        raise HTTPException(status_code=303, headers={"Location": where})
    raise HTTPException(status_code=403, detail="the portal is for members")


MeDep = Annotated[Me, Depends(_me)]


def week_days(today: date, count: int = 7) -> list[date]:
    """The days a member picks from: today and the next ones."""
    return [today + timedelta(days=i) for i in range(count)]
