"""A member's personal data at the reception desk (GDPR), for administrators only, as on
the API (`GET /api/members/{id}/export`, `DELETE /api/members/{id}`): server.people.gdpr.

| route | what |
| --- | --- |
| `GET /reception/members/{id}/export` | all held about the member, a JSON file (audited) |
| `GET /reception/members/{id}/erase` | are you sure? what erasure does, and one button |
| `POST /reception/members/{id}/erase` | erase (audited), then back to the member's page |
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.dashboard.pages import SECURITY_HEADERS, LangQuery, page_lang, render
from server.dashboard.reception.forms import PostDep
from server.dashboard.reception.members import MemberId, member_change
from server.deps import Admin, ReadSession, WriteSession, audited
from server.people import gdpr
from server.people.members import get_member

router = APIRouter(include_in_schema=False, dependencies=[Admin])


@router.get("/reception/members/{member_id}/export")
def export(member_id: MemberId, request: Request, session: WriteSession) -> Response:
    """The member's data as a file to download; 404 for no member."""
    with session.begin():
        held = gdpr.export(session, member_id=member_id)
        audited(request, session, "member.export", member_id)
    headers = SECURITY_HEADERS | {
        "Content-Disposition": f'attachment; filename="member-{member_id}.json"'
    }
    body = json.dumps(held, ensure_ascii=False, indent=2)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/reception/members/{member_id}/erase")
def confirm_erase(
    member_id: MemberId, request: Request, session: ReadSession, lang: LangQuery = None
) -> Response:
    member = get_member(session, member_id=member_id)
    return render(request, "reception/member_erase.html", page_lang(request, lang), m=member)


@router.post("/reception/members/{member_id}/erase")
def erase(member_id: MemberId, post: PostDep) -> Response:
    """Erase the member (nothing changes, and nothing is audited, when erased already)."""

    def change() -> None:
        ctx = post.ctx
        if gdpr.erase(post.session, site=ctx.site, member_id=member_id, now=ctx.clock()):
            post.audited("member.erase", member_id)

    return member_change(post, member_id, change)
