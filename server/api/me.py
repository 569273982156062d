"""`GET /api/me`: who the caller is, and their member for a member user."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from server.api.users import UserOut
from server.deps import CallerDep, ReadSession, allow
from server.people import accounts, members
from server.people.schemas import MemberOut

router = APIRouter(prefix="/api", tags=["accounts"], dependencies=[allow("staff", "member")])


class MeOut(BaseModel):
    """`user` is null for the bootstrap administrator token, which is nobody's."""

    role: str
    user: UserOut | None
    member: MemberOut | None


@router.get("/me")
def me(principal: CallerDep, session: ReadSession) -> MeOut:
    """The caller's role, user and member."""
    user = (
        None if principal.user_id is None else accounts.get_user(session, user_id=principal.user_id)
    )
    member = (
        None
        if principal.member_id is None
        else members.get_member(session, member_id=principal.member_id)
    )
    return MeOut(
        role=principal.role,
        user=None if user is None else UserOut.of(user),
        member=None if member is None else MemberOut.of(member),
    )
