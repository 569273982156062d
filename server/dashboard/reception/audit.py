"""The audit trail page (`GET /reception/audit`, staff): every change a person or a token
made, newest first, a page at a time: when (local time), who (by name), what (in words,
`audit.action.<action>` of the catalogue), to what, and a short detail; filtered by
action and by who. The entries come from server.people.audit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from server.context import ServerContext
from server.dashboard.health import member_names
from server.dashboard.pages import page_lang
from server.dashboard.reception.accesslog import doors
from server.dashboard.reception.listing import Filters, cursor, list_texts, refuse, show
from server.db import models
from server.deps import CtxDep, ReadSession, Staff
from server.errors import Invalid
from server.notify import texts
from server.people import audit

router = APIRouter(include_in_schema=False, dependencies=[Staff])

PAGE = 50
LIST = list_texts("audit", "/reception/audit")
DETAIL_CHARS = 120
MAX_ACTOR = 200


@dataclass(frozen=True)
class Form(Filters):
    action: str = ""
    actor: str = ""


@dataclass(frozen=True)
class Line:
    day: str
    time: str
    iso: str
    who: str
    action: str
    target: str
    detail: str


def actor_words(lang: str, actor: audit.Actor, recorded: str) -> str:
    """Who, in the reader's language: a user by name, the administrator's token, ..."""
    if actor.kind == "user":
        return actor.name or recorded
    if actor.kind == "token":
        return texts.text(lang, "audit.actor.token", name=actor.name or "?", label=actor.label)
    if actor.kind == "session":
        return texts.text(lang, "audit.actor.session", label=actor.label)
    if actor.kind in ("admin_token", "gateway_token"):
        return texts.text(lang, f"audit.actor.{actor.kind}")
    return recorded


def _targets(
    session: Session, ctx: ServerContext, entries: list[models.AuditEntry]
) -> dict[tuple[str, str], str]:
    """Names of the doors and members the entries act on, by (area, target)."""
    members = [
        int(e.target) for e in entries if e.target and e.target.isdigit() and _area(e) == "member"
    ]
    named = {("member", str(k)): f"{v} (#{k})" for k, v in member_names(session, members).items()}
    return named | {("door", k): v for k, v in doors(ctx).items()}


def _area(entry: models.AuditEntry) -> str | None:
    return entry.action.split(".")[0] if entry.target else None


def short(detail: dict[str, Any] | None) -> str:
    """The detail in a line: `key: value, ...` of its plain values, cut short."""
    parts = [
        f"{key}: {value}"
        for key, value in (detail or {}).items()
        if isinstance(value, str | int | float | bool) or value is None
    ]
    text = ", ".join(parts)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def lines(
    session: Session, ctx: ServerContext, lang: str, entries: list[models.AuditEntry]
) -> list[Line]:
    zone = ZoneInfo(ctx.site.site.timezone)
    who = audit.who(session, [e.actor for e in entries])
    targets = _targets(session, ctx, entries)
    shown = []
    for entry in entries:
        local = entry.ts.astimezone(zone)
        target = entry.target or ""
        shown.append(
            Line(
                day=local.strftime("%Y-%m-%d"),
                time=local.strftime("%H:%M:%S"),
                iso=local.isoformat(timespec="seconds"),
                who=actor_words(lang, who[entry.actor], entry.actor),
                action=texts.text(lang, f"audit.action.{entry.action}")
                if entry.action in audit.ACTIONS
                else entry.action,
                target=targets.get((_area(entry) or "", target), target),
                detail=short(entry.detail),
            )
        )
    return shown


def read_form(form: Form) -> None:
    """Invalid with a catalogue key for a filter that is not valid."""
    if form.action and form.action not in audit.ACTIONS:
        raise Invalid("audit.bad_action")
    if len(form.actor) > MAX_ACTOR:
        raise Invalid("audit.bad_actor")


@router.get("/reception/audit")
def audit_page(request: Request, ctx: CtxDep, session: ReadSession) -> HTMLResponse:
    lang = page_lang(request, request.query_params.get("lang"))
    form = Form.of(request)
    known = audit.actors(session)
    who = audit.who(session, known)
    values = {
        "page_id": "audit",
        "zone": ctx.site.site.timezone,
        "actions": [(a, texts.text(lang, f"audit.action.{a}")) for a in audit.ACTIONS],
        "actors": [(a, actor_words(lang, who[a], a)) for a in known],
    } | LIST
    template = "reception/audit.html"
    try:
        read_form(form)
        before = cursor(request)
    except Invalid as bad:
        return refuse(request, template, lang, form=form, bad=bad, **values)
    found, after = audit.page(
        session, limit=PAGE, before=before, action=form.action or None, actor=form.actor or None
    )
    rows = lines(session, ctx, lang, found)
    return show(
        request, template, lang, form=form, rows=rows, after=after, first=before is None,
        **values,
    )  # fmt: skip
