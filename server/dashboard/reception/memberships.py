"""The reception desk's memberships: a member's plans with their first and last days in
the site's local time (a membership runs from the first day's midnight to the midnight
after the last day).

| route | what |
| --- | --- |
| `POST /reception/members/{id}/memberships` | add (`plan`, `from`, `until`: local dates) |
| `POST /reception/memberships/{id}` | change plan and days |
| `POST /reception/memberships/{id}/delete` | delete |
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from server.context import ServerContext
from server.dashboard.pages import LangQuery, page_lang
from server.dashboard.reception.forms import Form, day_start, parse_date
from server.dashboard.reception.members import MemberId, member_change, zone_of
from server.db.models import Membership
from server.deps import CtxDep, ReadSession, Staff, WriteSession, audited
from server.people import members
from server.schemas import MAX_ID

router = APIRouter(include_in_schema=False, dependencies=[Staff])

MembershipId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _span(form: dict[str, str], ctx: ServerContext) -> tuple[datetime, datetime]:
    """[first day's midnight, the midnight after the last day), local, in UTC."""
    zone = zone_of(ctx)
    first = parse_date(form.get("from", ""), "error.date")
    last = parse_date(form.get("until", ""), "error.date")
    return day_start(first, zone), day_start(last + timedelta(days=1), zone)


def _detail(membership: Membership) -> dict[str, object]:
    return {"member_id": membership.member_id, "plan": membership.plan}


@router.post("/reception/members/{member_id}/memberships")
def add_membership(
    member_id: MemberId,
    request: Request,
    form: Form,
    session: WriteSession,
    ctx: CtxDep,
    lang: LangQuery = None,
) -> Response:
    def change() -> None:
        start, end = _span(form, ctx)
        added = members.add_membership(
            session,
            site=ctx.site,
            member_id=member_id,
            plan=form.get("plan", ""),
            valid_from=start,
            valid_until=end,
        )
        audited(request, session, "membership.create", added.id, _detail(added))

    return member_change(request, session, ctx, member_id, page_lang(request, lang), change)


@router.post("/reception/memberships/{membership_id}")
def edit_membership(
    membership_id: MembershipId,
    request: Request,
    form: Form,
    reads: ReadSession,
    session: WriteSession,
    ctx: CtxDep,
    lang: LangQuery = None,
) -> Response:
    member_id = members.get_membership(reads, membership_id=membership_id).member_id

    def change() -> None:
        start, end = _span(form, ctx)
        changed = members.update_membership(
            session,
            site=ctx.site,
            membership_id=membership_id,
            plan=form.get("plan", ""),
            valid_from=start,
            valid_until=end,
        )
        audited(request, session, "membership.update", membership_id, _detail(changed))

    return member_change(request, session, ctx, member_id, page_lang(request, lang), change)


@router.post("/reception/memberships/{membership_id}/delete")
def delete_membership(
    membership_id: MembershipId,
    request: Request,
    form: Form,
    reads: ReadSession,
    session: WriteSession,
    ctx: CtxDep,
    lang: LangQuery = None,
) -> Response:
    member_id = members.get_membership(reads, membership_id=membership_id).member_id

    def change() -> None:
        gone = members.delete_membership(session, membership_id=membership_id)
        audited(request, session, "membership.delete", membership_id, _detail(gone))

    return member_change(request, session, ctx, member_id, page_lang(request, lang), change)
