"""Members, cards and memberships over HTTP: parse, call `server.people.members`, return."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request, Response

from protocol.policy import Category
from server.deps import Admin, CallerDep, CtxDep, ReadSession, WriteSession, audited, own, routers
from server.people import gdpr, members
from server.people.schemas import (
    CardCreate,
    CardOut,
    MemberCreate,
    MemberOut,
    MemberPatch,
    MembershipCreate,
    MembershipOut,
)
from server.schemas import MAX_ID

# staff's routes, and those a member may call too, for their own only
router, member_router = routers("members")

MemberId = Annotated[int, Path(ge=1, le=MAX_ID)]
CardId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/members", status_code=201)
def create_member(
    body: MemberCreate, request: Request, session: WriteSession, ctx: CtxDep
) -> MemberOut:
    """Add a member (told things in the site's language unless `lang` is given); 201 with
    the whole member. A minor needs `guardian_name` and `guardian_consent_at` (422)."""
    with session.begin():
        member = members.create_member(
            session,
            name=body.name,
            email=body.email,
            category=body.category,
            lang=body.lang,
            site=ctx.site,
            minor=body.minor,
            guardian_name=body.guardian_name,
            guardian_consent_at=body.guardian_consent_at,
        )
        audited(request, session, "member.create", member.id)
    return MemberOut.of(member)


@router.get("/members")
def list_members(
    session: ReadSession,
    category: Category | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[MemberOut]:
    """Members by id; `q` matches part of a name or e-mail."""
    found = members.list_members(session, category=category, query=q, limit=limit, offset=offset)
    return [MemberOut.of(m) for m in found]


@member_router.get("/members/{member_id}")
def get_member(member_id: MemberId, principal: CallerDep, session: ReadSession) -> MemberOut:
    """One member; 404 when unknown."""
    own(principal, member_id)
    return MemberOut.of(members.get_member(session, member_id=member_id))


@router.patch("/members/{member_id}")
def update_member(
    member_id: MemberId, body: MemberPatch, request: Request, session: WriteSession
) -> MemberOut:
    """Change the fields given; `null` clears e-mail, suspension or guardian; 409 for an
    erased member."""
    changes = body.changes()
    with session.begin():
        member = members.update_member(session, member_id=member_id, changes=changes)
        action, detail = members.change_action(changes)
        audited(request, session, action, member_id, detail)
    return MemberOut.of(member)


@router.get("/members/{member_id}/export", dependencies=[Admin])
def export_member(
    member_id: MemberId, request: Request, session: WriteSession
) -> dict[str, object]:
    """GDPR: everything held about a member (docs/api.md lists what); 404 when unknown."""
    with session.begin():
        held = gdpr.export(session, member_id=member_id)
        audited(request, session, "member.export", member_id)
    return held


@router.delete(
    "/members/{member_id}", status_code=204, response_class=Response, dependencies=[Admin]
)
def erase_member(
    member_id: MemberId, request: Request, session: WriteSession, ctx: CtxDep
) -> Response:
    """GDPR erasure (204): personal data removed, cards deleted, events kept under the
    member's id. Again for an erased member: 204, nothing changes; 404 when unknown."""
    with session.begin():
        if gdpr.erase(session, site=ctx.site, member_id=member_id, now=ctx.clock()):
            audited(request, session, "member.erase", member_id)
    return Response(status_code=204)


@router.post("/members/{member_id}/cards", status_code=201)
def add_card(
    member_id: MemberId, body: CardCreate, request: Request, session: WriteSession, ctx: CtxDep
) -> CardOut:
    """Register a card; 409 when an active card with that UID is registered already."""
    with session.begin():
        card = members.add_card(
            session, card_key=ctx.card_key, member_id=member_id, uid=body.uid, label=body.label
        )
        audited(request, session, "card.create", card.id, {"member_id": member_id})
    return CardOut.of(card)


@router.get("/members/{member_id}/cards")
def list_cards(member_id: MemberId, session: ReadSession) -> list[CardOut]:
    """A member's cards, revoked ones included."""
    return [CardOut.of(c) for c in members.list_cards(session, member_id=member_id)]


@router.delete("/cards/{card_id}", status_code=204, response_class=Response)
def revoke_card(card_id: CardId, request: Request, session: WriteSession, ctx: CtxDep) -> Response:
    """Revoke a card (204); revoking it again is no error."""
    with session.begin():
        card = members.revoke_card(session, card_id=card_id, now=ctx.clock())
        audited(request, session, "card.revoke", card_id, {"member_id": card.member_id})
    return Response(status_code=204)


@router.post("/memberships", status_code=201)
def add_membership(
    body: MembershipCreate, request: Request, session: WriteSession, ctx: CtxDep
) -> MembershipOut:
    """Give a member one of the site's plans; 422 for an unknown plan or member."""
    with session.begin():
        membership = members.add_membership(
            session,
            site=ctx.site,
            member_id=body.member_id,
            plan=body.plan,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
        )
        audited(
            request,
            session,
            "membership.create",
            membership.id,
            {"member_id": membership.member_id, "plan": membership.plan},
        )
    return MembershipOut.of(membership)


@router.get("/members/{member_id}/memberships")
def list_memberships(member_id: MemberId, session: ReadSession) -> list[MembershipOut]:
    """A member's memberships, by start."""
    return [MembershipOut.of(m) for m in members.list_memberships(session, member_id=member_id)]
