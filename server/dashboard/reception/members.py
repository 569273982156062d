"""The reception desk's members: the list with its search, adding a member, and a
member's page (details, suspension, cards, memberships, no-show strikes), whose forms
post here or to the cards, memberships and strikes modules beside this one.

| route | what |
| --- | --- |
| `GET /reception/members?q=` | members, searched by name or e-mail; the form to add one |
| `POST /reception/members` | add a member, then to their page |
| `GET /reception/members/{id}` | a member's page |
| `POST /reception/members/{id}` | change name, e-mail, category, language, guardian |
| `POST /reception/members/{id}/suspend` | suspend through a local date (`until`) |
| `POST /reception/members/{id}/unsuspend` | lift the suspension |

Administrators also see the member's GDPR export and erasure (server.dashboard.reception.gdpr).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, get_args
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from protocol.policy import Category
from server.context import ServerContext
from server.dashboard.pages import LangQuery, page_lang, render
from server.dashboard.reception.forms import (
    Post,
    PostDep,
    day_start,
    last_day,
    local,
    parse_date,
    refusal,
    submit,
    url,
)
from server.db import models
from server.deps import CtxDep, ReadSession, Staff, role_of
from server.errors import DomainError
from server.noshows import strikes
from server.people import members
from server.people.members import Refusal
from server.people.schemas import MemberCreate
from server.schemas import MAX_ID
from server.site import LANGUAGES

router = APIRouter(include_in_schema=False, dependencies=[Staff])

MemberId = Annotated[int, Path(ge=1, le=MAX_ID)]
CATEGORIES: tuple[str, ...] = get_args(Category)


def zone_of(ctx: ServerContext) -> ZoneInfo:
    return ZoneInfo(ctx.site.site.timezone)


# -- the list ---------------------------------------------------------------------------


@router.get("/reception/members")
def member_list(
    request: Request,
    session: ReadSession,
    ctx: CtxDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    lang: LangQuery = None,
) -> Response:
    return list_page(request, session, ctx, page_lang(request, lang), q=q)


def list_page(
    request: Request,
    session: Session,
    ctx: ServerContext,
    lang: str,
    *,
    q: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    found = members.list_members(session, query=q or None, limit=200)
    return render(
        request,
        "reception/members.html",
        lang,
        status=422 if error else 200,
        members=found,
        q=q or "",
        error=error,
        values=values or {},
        categories=CATEGORIES,
        languages=LANGUAGES,
        zone=zone_of(ctx),
        local=local,
        now=ctx.clock(),
    )


@router.post("/reception/members")
def add_member(post: PostDep) -> Response:
    def change() -> str:
        member = members.create_member(
            post.session, site=post.ctx.site, **_member_fields(post.form, post.ctx)
        )
        post.audited("member.create", member.id)
        return url(f"/reception/members/{member.id}", post.lang)

    def failed(exc: DomainError) -> Response:
        error = refusal(post.lang, exc)
        return list_page(
            post.request, post.session, post.ctx, post.lang, error=error, values=post.form
        )

    return submit(post.session, change, failed)


def _member_fields(form: dict[str, str], ctx: ServerContext) -> dict[str, Any]:
    """A member's fields from the form, checked as the API checks them (MemberCreate)."""
    minor = form.get("minor") == "on"
    consent = form.get("guardian_consent_at", "")
    consent_at = day_start(parse_date(consent, "error.date"), zone_of(ctx)) if consent else None
    try:
        body = MemberCreate(
            name=form.get("name", ""),
            email=form.get("email") or None,
            category=form.get("category", ""),  # type: ignore[arg-type]
            lang=form.get("lang") or None,  # type: ignore[arg-type]
            minor=minor,
            guardian_name=form.get("guardian_name") or None,
            guardian_consent_at=consent_at,
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        raise Refusal(f"error.field_{field}", f"{field} is not valid") from None
    return body.model_dump()


# -- a member ---------------------------------------------------------------------------


@router.get("/reception/members/{member_id}")
def member(
    member_id: MemberId, request: Request, session: ReadSession, ctx: CtxDep, lang: LangQuery = None
) -> Response:
    return member_page(request, session, ctx, page_lang(request, lang), member_id)


def member_page(
    request: Request,
    session: Session,
    ctx: ServerContext,
    lang: str,
    member_id: int,
    *,
    error: str | None = None,
) -> Response:
    """A member's page (404 for no member); with `error`, a 422 saying it."""
    found = members.get_member(session, member_id=member_id)
    zone = zone_of(ctx)
    return render(
        request,
        "reception/member.html",
        lang,
        status=422 if error else 200,
        m=found,
        values=_values(found, zone),
        error=error,
        cards=members.list_cards(session, member_id=member_id),
        memberships=members.list_memberships(session, member_id=member_id),
        strikes=strikes.strikes(session, member_id=member_id),
        admin=role_of(request) == "admin",
        plans=ctx.site.plans,
        readers=ctx.site.door_devices(),
        categories=CATEGORIES,
        languages=LANGUAGES,
        zone=zone,
        local=local,
        last_day=last_day,
        now=ctx.clock(),
    )


def _values(member: models.Member, zone: ZoneInfo) -> dict[str, Any]:
    """The edit form's fields as the member has them."""
    return {
        "name": member.name,
        "email": member.email or "",
        "category": member.category,
        "lang": member.lang,
        "minor": member.minor,
        "guardian_name": member.guardian_name or "",
        "guardian_consent_at": local(member.guardian_consent_at, zone, "%Y-%m-%d"),
    }


def member_change(post: Post, member_id: int, change: Callable[[], object]) -> Response:
    """Make a change on a member's page: back to the page, or the page with the error."""

    def done() -> str:
        change()
        return url(f"/reception/members/{member_id}", post.lang)

    def failed(exc: DomainError) -> Response:
        error = refusal(post.lang, exc)
        return member_page(post.request, post.session, post.ctx, post.lang, member_id, error=error)

    return submit(post.session, done, failed)


def _update(post: Post, member_id: int, changes: Callable[[], dict[str, Any]]) -> Response:
    """Change a member's fields (`changes` read from the form), audited as
    members.change_action says."""

    def change() -> None:
        fields = changes()
        members.update_member(post.session, member_id=member_id, changes=fields)
        action, detail = members.change_action(fields)
        post.audited(action, member_id, detail)

    return member_change(post, member_id, change)


@router.post("/reception/members/{member_id}")
def edit_member(member_id: MemberId, post: PostDep) -> Response:
    return _update(post, member_id, lambda: _member_fields(post.form, post.ctx))


@router.post("/reception/members/{member_id}/suspend")
def suspend(member_id: MemberId, post: PostDep) -> Response:
    def changes() -> dict[str, Any]:
        last = parse_date(post.form.get("until", ""), "error.date")
        # suspended through that day: until the start of the next, local time
        return {"suspended_until": day_start(last + timedelta(days=1), zone_of(post.ctx))}

    return _update(post, member_id, changes)


@router.post("/reception/members/{member_id}/unsuspend")
def unsuspend(member_id: MemberId, post: PostDep) -> Response:
    return _update(post, member_id, lambda: {"suspended_until": None})
