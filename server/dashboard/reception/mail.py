"""The reception's list of mail (`GET /reception/mail`, staff): every mail to members and
staff, newest first, a page at a time, with its state (waiting, sent, failed), attempts
and last error, filtered by state. The mail comes from server.notify.outbox."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.dashboard.pages import page_lang
from server.dashboard.reception.listing import Filters, cursor, list_texts, refuse, show
from server.deps import CtxDep, ReadSession, Staff
from server.errors import Invalid
from server.notify import outbox

router = APIRouter(include_in_schema=False, dependencies=[Staff])

PAGE = 50
LIST = list_texts("mailq", "/reception/mail")


@dataclass(frozen=True)
class Form(Filters):
    state: str = ""


@dataclass(frozen=True)
class Line:
    created: str
    iso: str
    to: str
    subject: str
    kind: str
    state: str
    attempts: int
    sent: str
    error: str


@router.get("/reception/mail")
def mail_page(request: Request, ctx: CtxDep, session: ReadSession) -> HTMLResponse:
    lang = page_lang(request, request.query_params.get("lang"))
    form = Form.of(request)
    values = {
        "page_id": "mail",
        "zone": ctx.site.site.timezone,
        "states": outbox.STATES,
        "sending": bool(ctx.settings.smtp_url),
    } | LIST
    template = "reception/mail.html"
    try:
        if form.state and form.state not in outbox.STATES:
            raise Invalid("mailq.bad_state")
        before = cursor(request)
    except Invalid as bad:
        return refuse(request, template, lang, form=form, bad=bad, **values)
    found = outbox.listed(session, state=form.state or None, limit=PAGE + 1, before=before)
    after = found[PAGE - 1].id if len(found) > PAGE else None
    zone = ZoneInfo(ctx.site.site.timezone)
    rows = [
        Line(
            created=m.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            iso=m.created_at.astimezone(zone).isoformat(timespec="seconds"),
            to=m.to_addr,
            subject=m.subject,
            kind=m.kind,
            state=m.state,
            attempts=m.attempts,
            sent=m.sent_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if m.sent_at else "",
            error=m.last_error or "",
        )
        for m in found[:PAGE]
    ]
    return show(
        request, template, lang, form=form, rows=rows, after=after, first=before is None,
        **values,
    )  # fmt: skip
