"""The reception desk's waitlist: who waits for which room and time, the open offers and
when they lapse (local times), removing an entry and accepting an offer for a member
(both audited, as through the API), and adding a member to it (as `POST /api/waitlist`).

| route | what |
| --- | --- |
| `GET /reception/waitlist?q=` | who waits, open offers, a form to add someone (`q`: whom) |
| `POST /reception/waitlist/join` | add a member for a room or any like it (`waitlist.join`) |
| `POST /reception/waitlist/{id}/remove` | the member leaves the waitlist (`waitlist.leave`) |
| `POST /reception/offers/{id}/accept` | book the offered slot for them (`offer.accept`) |"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.dashboard.reception import refusals
from server.dashboard.reception.bookings import MEMBER_CHOICES, member_names
from server.dashboard.reception.desk import Desk, DeskDep, FormDep, local_span
from server.db import models
from server.deps import ReadSession, Staff, WriteSession, audited
from server.errors import DomainError
from server.notify.texts import text
from server.people import members
from server.schemas import MAX_ID, whole_number
from server.waitlist import entries, offers

router = APIRouter(prefix="/reception", include_in_schema=False, dependencies=[Staff])

ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
DONE = ("removed", "accepted", "joined")
JOIN_FIELDS = ("member", "room", "any_similar", "day", "start", "end", "q")
LISTED = 500


@dataclass(frozen=True)
class Line:
    """An entry or an offer as the page lists it (times in the site's zone); `last` is
    its last column: an entry's state, an offer's deadline."""

    id: int
    member: str
    room: str
    day: str
    start: str
    end: str
    last: str


@dataclass(frozen=True)
class Part:
    """One table of the page and the button on each of its rows."""

    id: str
    heading: str
    empty: str
    last: str
    row: str
    path: str
    label: str
    css: str
    lines: list[Line]


def _line(desk: Desk, names: dict[int, str], item: models.WaitlistEntry | models.Offer) -> Line:
    zone = desk.zone
    room = desk.ctx.site.room(item.room_id) if item.room_id else None
    where = room.name if room else (item.room_id or getattr(item, "kind", None) or "–")
    start = item.start.astimezone(zone)
    if isinstance(item, models.Offer):
        last = item.expires_at.astimezone(zone).strftime("%d.%m.%Y %H:%M")
    else:
        last = text(desk.lang, f"desk.wl.is_{item.status}")
    return Line(
        id=item.id,
        member=names.get(item.member_id, f"#{item.member_id}"),
        room=where,
        day=start.strftime("%d.%m.%Y"),
        start=start.strftime("%H:%M"),
        end=item.end.astimezone(zone).strftime("%H:%M"),
        last=last,
    )


def _page(
    desk: Desk,
    session: Session,
    *,
    error: str | None = None,
    done: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    waiting = [
        e
        for state in entries.OPEN
        for e in entries.list_entries(session, status=state, limit=LISTED, site_id=desk.ctx.site.id)
    ]
    waiting.sort(key=lambda e: (e.room_id or e.kind or "", e.start, e.created_at, e.id))
    open_offers = sorted(
        offers.list_offers(session, status="offered", limit=LISTED, site_id=desk.ctx.site.id),
        key=lambda o: o.expires_at,
    )
    names = member_names(
        session, {e.member_id for e in waiting} | {o.member_id for o in open_offers}
    )
    parts = [
        Part("waiting", "desk.wl.waiting", "desk.wl.none", "desk.bk.status", "entry",
             "/reception/waitlist/{id}/remove", "desk.wl.remove", "danger",
             [_line(desk, names, e) for e in waiting]),
        Part("offers", "desk.wl.offers", "desk.wl.no_offers", "desk.wl.expires", "offer",
             "/reception/offers/{id}/accept", "desk.wl.accept", "primary",
             [_line(desk, names, o) for o in open_offers]),
    ]  # fmt: skip
    asked = dict.fromkeys(JOIN_FIELDS, "") | {"day": desk.today.isoformat()} | (values or {})
    found = members.list_members(session, query=asked.get("q") or None, limit=MEMBER_CHOICES)
    return desk.render(
        "reception/waitlist.html",
        status=status,
        parts=parts,
        error=error,
        done=done,
        values=asked,
        members=[(m.id, m.name) for m in found],
        rooms=[(r.id, r.name) for r in desk.ctx.site.rooms if r.bookable],
    )


@router.get("/waitlist")
def waitlist(
    desk: DeskDep,
    session: ReadSession,
    done: Annotated[str | None, Query(max_length=16)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The waiting entries by room and time, the offers open now, and the form to add
    someone (`q` narrows the members to choose from: name or e-mail)."""
    return _page(desk, session, done=done if done in DONE else None, values={"q": q or ""})


@router.post("/waitlist/join")
def join(desk: DeskDep, form: FormDep, session: WriteSession) -> Response:
    """Put a member on the waitlist for a room (or any similar one) and time, as the API
    does; back to the page, or the page with the refusal and the form as sent."""
    values = {f: form.get(f) for f in JOIN_FIELDS}
    try:
        _, start, end = local_span(values["day"], values["start"], values["end"], desk.zone)
        member_id = whole_number(values["member"])
        if member_id is None:
            raise refusals.FormError("desk.bk.err.holder")
        with session.begin():
            entry = entries.join(
                session,
                site=desk.ctx.site,
                member_id=member_id,
                start=start,
                end=end,
                now=desk.ctx.clock(),
                room_id=values["room"],
                any_similar=values["any_similar"] == "on",
            )
            audited(desk.request, session, "waitlist.join", entry.id, {"member_id": member_id})
    except (refusals.FormError, DomainError) as exc:
        status = exc.status if isinstance(exc, DomainError) else 422
        with desk.ctx.reads() as reader:
            return _page(desk, reader, error=desk.explain(exc), status=status, values=values)
    return desk.redirect("/reception/waitlist", done="joined")


def _change(
    desk: Desk, session: Session, done: str, change: Callable[[Session], DomainError | None]
) -> Response:
    """Make `change` in one transaction (a refusal it returns is raised once that has
    committed), then back to the page; a refusal shows the page with it."""
    try:
        with session.begin():
            refused = change(session)
        if refused is not None:
            raise refused
    except DomainError as exc:
        with desk.ctx.reads() as reader:
            return _page(desk, reader, error=desk.explain(exc), status=exc.status)
    return desk.redirect("/reception/waitlist", done=done)


@router.post("/waitlist/{entry_id}/remove")
def remove(entry_id: ItemId, desk: DeskDep, session: WriteSession) -> Response:
    """Take a member off the waitlist; an offer they held passes to the next in line."""

    def leave(s: Session) -> None:
        entry = entries.cancel_entry(s, site=desk.ctx.site, entry_id=entry_id, now=desk.ctx.clock())
        audited(desk.request, s, "waitlist.leave", entry_id, {"member_id": entry.member_id})

    return _change(desk, session, "removed", leave)


@router.post("/offers/{offer_id}/accept")
def accept(offer_id: ItemId, desk: DeskDep, session: WriteSession) -> Response:
    """Book an offered slot on the member's behalf (they asked at the desk); a room taken
    meanwhile lapses the offer (committed) and is told."""

    def take(s: Session) -> DomainError | None:
        got = offers.accept_or_lapse(s, site=desk.ctx.site, offer_id=offer_id, now=desk.ctx.clock())
        if isinstance(got, offers.RoomTaken):
            return got
        audited(desk.request, s, "offer.accept", offer_id, {"booking_id": got.id})
        return None

    return _change(desk, session, "accepted", take)
