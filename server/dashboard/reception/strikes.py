"""The reception desk's no-show strikes and booking suspensions (server.noshows.strikes).

| route | what |
| --- | --- |
| `POST /reception/no-shows/{id}/remove` | remove a strike |
| `POST /reception/members/{id}/lift-booking-suspension` | let the member book again |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from server.dashboard.reception.forms import PostDep
from server.dashboard.reception.members import MemberId, member_change
from server.db.models import NoShow
from server.deps import ReadSession, Staff
from server.errors import NotFound
from server.noshows import strikes
from server.schemas import MAX_ID

router = APIRouter(include_in_schema=False, dependencies=[Staff])

NoShowId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/reception/no-shows/{no_show_id}/remove")
def remove_strike(no_show_id: NoShowId, post: PostDep, reads: ReadSession) -> Response:
    strike = reads.get(NoShow, no_show_id)
    if strike is None:
        raise NotFound(f"no-show {no_show_id} not found")
    member_id = strike.member_id

    def change() -> None:
        now = post.ctx.clock()
        strikes.remove_strike(post.session, site=post.ctx.site, no_show_id=no_show_id, now=now)
        post.audited("noshow.remove", no_show_id, {"member_id": member_id})

    return member_change(post, member_id, change)


@router.post("/reception/members/{member_id}/lift-booking-suspension")
def lift_booking_suspension(member_id: MemberId, post: PostDep) -> Response:
    def change() -> None:
        strikes.lift_booking_suspension(post.session, member_id=member_id)
        post.audited("member.update", member_id, {"booking_suspended_until": None})

    return member_change(post, member_id, change)
