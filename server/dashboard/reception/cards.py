"""The reception desk's cards: enrol a member's card by typing its UID, or by tapping it
at a door's reader (the next unknown card tapped there after the page was opened is
offered: server.access.unknown_cards), and revoke a lost one.

| route | what |
| --- | --- |
| `POST /reception/members/{id}/cards` | enrol by UID (`uid`, `label`) |
| `GET /reception/members/{id}/cards/tap?device=&since=` | choose a reader, wait for a tap |
| `GET /reception/members/{id}/cards/tap/fragment?device=&since=` | what was tapped (polled) |
| `POST /reception/members/{id}/cards/tapped` | enrol the card tapped (`device`, `card`) |
| `POST /reception/cards/{id}/revoke` | revoke a card |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from server.access.unknown_cards import UnknownTap
from server.context import ServerContext
from server.dashboard.pages import LangQuery, page_lang, render
from server.dashboard.reception.forms import PostDep, local, url
from server.dashboard.reception.members import MemberId, member_change, zone_of
from server.db import models
from server.deps import CtxDep, ReadSession, Staff
from server.people import members
from server.people.members import Refusal
from server.schemas import MAX_ID
from server.timefmt import format_utc

router = APIRouter(include_in_schema=False, dependencies=[Staff])

CardId = Annotated[int, Path(ge=1, le=MAX_ID)]
DeviceQuery = Annotated[str | None, Query(max_length=64)]
SinceQuery = Annotated[str | None, Query(max_length=40)]


@router.post("/reception/members/{member_id}/cards")
def add_card(member_id: MemberId, post: PostDep) -> Response:
    def change() -> None:
        card = members.add_card(
            post.session,
            card_key=post.ctx.card_key,
            member_id=member_id,
            uid=post.form.get("uid", ""),
            label=post.form.get("label") or None,
        )
        post.audited("card.create", card.id, {"member_id": member_id})

    return member_change(post, member_id, change)


@router.post("/reception/cards/{card_id}/revoke")
def revoke_card(card_id: CardId, post: PostDep, reads: ReadSession) -> Response:
    member_id = members.get_card(reads, card_id=card_id).member_id

    def change() -> None:
        members.revoke_card(post.session, card_id=card_id, now=post.ctx.clock())
        post.audited("card.revoke", card_id, {"member_id": member_id})

    return member_change(post, member_id, change)


# -- enrolment by a tap ---------------------------------------------------------------


@dataclass(frozen=True)
class Tapped:
    """An unknown card tapped at a reader, as the page offers it."""

    device_id: str
    reader: str
    at: str  # HH:MM:SS, local
    card: str  # the card's keyed hash: what enrolment registers


def _since(since: str | None, ctx: ServerContext) -> datetime:
    """When the page was opened (`since`, UTC), or now."""
    if since:
        try:
            return datetime.fromisoformat(since).astimezone(UTC)
        except ValueError:
            pass
    return ctx.clock()


def _reader(ctx: ServerContext, device_id: str | None) -> str | None:
    """A door reader's name for people: its room (and door); None for no such reader."""
    device = ctx.site.device(device_id) if device_id else None
    if device is None or device.kind != "door":
        return None
    room = ctx.site.room(device.room)
    return room.name if room else device.id


def _tapped(ctx: ServerContext, device_id: str, tap: UnknownTap | None) -> Tapped | None:
    if tap is None:
        return None
    return Tapped(
        device_id=device_id,
        reader=_reader(ctx, device_id) or device_id,
        at=local(tap.at, zone_of(ctx), "%H:%M:%S"),
        card=tap.card_hash,
    )


@dataclass(frozen=True)
class TapView:
    """What the tap page and its fragment show: the member, the reader chosen (None for
    none, or one that is not a door's), since when, and the card tapped there since."""

    request: Request
    member: models.Member
    device: str | None
    reader: str | None
    since: datetime
    tapped: Tapped | None
    lang: str


def _tap_view(
    member_id: MemberId,
    request: Request,
    session: ReadSession,
    ctx: CtxDep,
    device: DeviceQuery = None,
    since: SinceQuery = None,
    lang: LangQuery = None,
) -> TapView:
    found = members.get_member(session, member_id=member_id)
    opened = _since(since, ctx)
    reader = _reader(ctx, device)
    tapped = None
    if reader is not None and device is not None:
        seen = ctx.access.unknown_cards.latest(device, since=opened, now=ctx.clock())
        tapped = _tapped(ctx, device, seen)
    chosen = device if reader is not None else None
    return TapView(request, found, chosen, reader, opened, tapped, page_lang(request, lang))


TapViewDep = Annotated[TapView, Depends(_tap_view)]


def _render_tap(view: TapView, template: str, **values: Any) -> Response:
    return render(
        view.request,
        template,
        view.lang,
        m=view.member,
        device=view.device,
        reader=view.reader,
        since=format_utc(view.since),
        tapped=view.tapped,
        url=url,
        **values,
    )


@router.get("/reception/members/{member_id}/cards/tap")
def tap_page(view: TapViewDep, ctx: CtxDep) -> Response:
    readers = [(d.id, _reader(ctx, d.id)) for d in ctx.site.door_devices()]
    return _render_tap(view, "reception/card_tap.html", readers=readers)


@router.get("/reception/members/{member_id}/cards/tap/fragment")
def tap_fragment(view: TapViewDep) -> Response:
    """What the tap page shows while it waits: the card tapped, or still waiting; 404
    without a reader."""
    if view.device is None:
        return Response(status_code=404)
    return _render_tap(view, "reception/card_tapped.html")


@router.post("/reception/members/{member_id}/cards/tapped")
def enrol_tapped(member_id: MemberId, post: PostDep) -> Response:
    recent = post.ctx.access.unknown_cards

    def change() -> None:
        device, card = post.form.get("device", ""), post.form.get("card", "")
        tap = recent.find(device, card, now=post.ctx.clock())
        if tap is None:
            raise Refusal("error.tap_gone", "no such card tapped lately at that reader")
        enrolled = members.add_card_by_hash(
            post.session,
            member_id=member_id,
            uid_hash=tap.card_hash,
            label=post.form.get("label") or None,
        )
        post.audited("card.create", enrolled.id, {"member_id": member_id, "by": "tap"})
        recent.taken(tap.card_hash)

    return member_change(post, member_id, change)
