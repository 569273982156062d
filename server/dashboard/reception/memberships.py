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
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from server.context import ServerContext
from server.dashboard.reception.forms import Post, PostDep, day_start, parse_date
from server.dashboard.reception.members import MemberId, member_change, zone_of
from server.db.models import Membership
from server.deps import ReadSession, Staff
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


def _terms(post: Post) -> dict[str, Any]:
    """The plan and the span of a membership's form."""
    start, end = _span(post.form, post.ctx)
    return {"plan": post.form.get("plan", ""), "valid_from": start, "valid_until": end}


def _audit(post: Post, action: str, membership: Membership) -> None:
    detail = {"member_id": membership.member_id, "plan": membership.plan}
    post.audited(action, membership.id, detail)


@router.post("/reception/members/{member_id}/memberships")
def add_membership(member_id: MemberId, post: PostDep) -> Response:
    def change() -> None:
        site, terms = post.ctx.site, _terms(post)
        added = members.add_membership(post.session, site=site, member_id=member_id, **terms)
        _audit(post, "membership.create", added)

    return member_change(post, member_id, change)


@router.post("/reception/memberships/{membership_id}")
def edit_membership(membership_id: MembershipId, post: PostDep, reads: ReadSession) -> Response:
    member_id = members.get_membership(reads, membership_id=membership_id).member_id

    def change() -> None:
        site, terms = post.ctx.site, _terms(post)
        changed = members.update_membership(
            post.session, site=site, membership_id=membership_id, **terms
        )
        _audit(post, "membership.update", changed)

    return member_change(post, member_id, change)


@router.post("/reception/memberships/{membership_id}/delete")
def delete_membership(membership_id: MembershipId, post: PostDep, reads: ReadSession) -> Response:
    member_id = members.get_membership(reads, membership_id=membership_id).member_id

    def change() -> None:
        gone = members.delete_membership(
            post.session, site=post.ctx.site, membership_id=membership_id
        )
        _audit(post, "membership.delete", gone)

    return member_change(post, member_id, change)
