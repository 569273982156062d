"""A room's door panel: the page a tablet beside the room's door shows, in large colour and
words (server.occupancy.panel says what), live without reload.

| route | what |
| --- | --- |
| `GET /panel/{room_id}?key=...` | the page (`?lang=pl|en|uk`) |
| `GET /panel/{room_id}/state?key=...` | its state part, which the page's script fetches again |
| `GET /panel/{room_id}/stream?key=...` | Server-Sent Events: `change` when the room changes |

The key in the URL is the credential (server.bookings.roomkeys); a wrong or missing key
and an unknown room get the same 404. The stream sends no data about what changed (a tap
names a member: the panel is public), only that the room or one of its bookings did; it
ends once the key is replaced, and the page, reconnecting, then finds its 404."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from server.bookings import roomkeys
from server.context import ServerContext
from server.dashboard.pages import LangQuery, RoomIdPath, page_lang, render, static_file
from server.deps import CtxDep, ReadSession
from server.errors import NotFound
from server.live.events import Event
from server.notify.texts import text
from server.occupancy.panel import PanelBooking, PanelState, panel_state

router = APIRouter(include_in_schema=False)

KeyQuery = Annotated[str | None, Query(max_length=64)]
# The stream's timing, as `GET /api/stream`'s: the browser reconnects after RETRY_MS; a
# quiet stream wakes every POLL_S to see whether its client is still there, and sends a
# heartbeat after HEARTBEAT_S; it checks that its key still opens the panel every
# KEY_CHECK_S.
RETRY_MS = 2000
POLL_S = 1.0
HEARTBEAT_S = 15.0
KEY_CHECK_S = 1.0
# The panel is also read again this often, events or not (occupancy that grows old).
PERIODIC_S = 30


@dataclass(frozen=True)
class BookingLine:
    title: str
    when: str
    checked_in: bool


@dataclass(frozen=True)
class PanelView:
    """A panel's state worded in the reader's language, times in the site's zone."""

    status: str
    headline: str  # the status in words
    hint: str | None  # free until when, or none today
    current: BookingLine | None
    next: BookingLine | None
    release: str | None  # the release sentence
    minutes_left: int | None
    release_ms: int | None  # the release, for the countdown the script keeps
    now_ms: int
    refresh_ms: int  # when the clock alone changes what the panel shows
    clock: str


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _line(booking: PanelBooking, lang: str, zone: ZoneInfo, today: datetime) -> BookingLine:
    start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
    hours = {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
    when = (
        text(lang, "panel.times", **hours)
        if start.date() == today.date()
        else text(lang, "panel.day_times", day=start.strftime("%d.%m"), **hours)
    )
    return BookingLine(
        title=booking.title or text(lang, "panel.untitled"),
        when=when,
        checked_in=booking.checked_in,
    )


def panel_view(state: PanelState, lang: str, zone: ZoneInfo) -> PanelView:
    """The words and times a panel shows of `state`."""
    now = state.now.astimezone(zone)
    hint = None
    if state.status == "free":
        upcoming = state.next
        hint = (
            text(lang, "panel.free_until", time=upcoming.start.astimezone(zone).strftime("%H:%M"))
            if upcoming is not None and upcoming.start.astimezone(zone).date() == now.date()
            else text(lang, "panel.free_rest")
        )
    releases = state.release_at
    return PanelView(
        status=state.status.value,
        headline=text(lang, f"panel.status.{state.status.value}"),
        hint=hint,
        current=_line(state.current, lang, zone, now) if state.current else None,
        next=_line(state.next, lang, zone, now) if state.next else None,
        release=text(lang, "panel.release", time=releases.astimezone(zone).strftime("%H:%M"))
        if releases
        else None,
        minutes_left=max(0, -(-int((releases - state.now).total_seconds()) // 60))
        if releases
        else None,
        release_ms=_ms(releases) if releases else None,
        now_ms=_ms(state.now),
        refresh_ms=_ms(state.changes_at),
        clock=text(lang, "panel.clock", date=now.strftime("%d.%m.%Y"), time=now.strftime("%H:%M")),
    )


@lru_cache(maxsize=64)
def qr_svg(url: str, label: str) -> Markup:
    """The QR code of `url` as inline SVG (segno escapes the title it writes)."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(
        scale=6, dark="#000", light="#fff", title=label, svgclass="qr-code", omitsize=True
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704


def book_url(ctx: ServerContext, room_id: str) -> str:
    """Where the panel's QR code leads: the member portal, to book this room."""
    return f"{ctx.settings.public_url.rstrip('/')}/me/?room={room_id}"


@dataclass(frozen=True)
class Opened:
    """A request for a panel: its reader's language, the key it came with and the room's
    panel now (None: no such panel, the key wrong or the room unknown)."""

    request: Request
    lang: str
    key: str | None
    state: PanelState | None


def _opened(
    room_id: RoomIdPath,
    request: Request,
    ctx: CtxDep,
    session: ReadSession,
    key: KeyQuery = None,
    lang: LangQuery = None,
) -> Opened:
    try:
        roomkeys.panel_room(session, site=ctx.site, room_id=room_id, key=key)
        state = panel_state(session, site=ctx.site, room_id=room_id, now=ctx.clock())
    except NotFound:
        state = None
    return Opened(request, page_lang(request, lang), key, state)


OpenedDep = Annotated[Opened, Depends(_opened)]


def _view(opened: Opened, state: PanelState) -> PanelView:
    zone = ZoneInfo(opened.request.app.state.ctx.site.site.timezone)
    return panel_view(state, opened.lang, zone)


@router.get("/panel/{room_id}")
def panel_page(opened: OpenedDep, ctx: CtxDep) -> Response:
    """The door panel; a page saying there is no such panel (404) for a wrong key."""
    state, lang = opened.state, opened.lang
    if state is None:
        return render(opened.request, "panel_missing.html", lang, status=404)
    url = book_url(ctx, state.room_id)
    return render(
        opened.request,
        "panel.html",
        lang,
        room_id=state.room_id,
        room_name=state.room_name,
        view=_view(opened, state),
        key=opened.key,
        book=url,
        qr=qr_svg(url, text(lang, "panel.qr_alt", room=state.room_name)),
        periodic_s=PERIODIC_S,
        panel_version=static_file("panel.js")[1] + static_file("panel.css")[1],
    )


@router.get("/panel/{room_id}/state")
def panel_fragment(opened: OpenedDep) -> Response:
    """The panel's state part; 404 for a wrong key."""
    if opened.state is None:
        raise NotFound(roomkeys.PANEL_NOT_FOUND)
    view = _view(opened, opened.state)
    return render(opened.request, "fragments/panel_state.html", opened.lang, view=view)


def _concerns(event: Event, room_id: str) -> bool:
    """Whether a live event changes what the room's panel shows."""
    if event.kind == "room":
        return event.data.get("id") == room_id
    if event.kind == "booking":
        return event.data.get("room_id") == room_id
    return False


def _still_open(ctx: ServerContext, room_id: str, key: str | None) -> bool:
    with ctx.reads() as session:
        try:
            roomkeys.panel_room(session, site=ctx.site, room_id=room_id, key=key)
        except NotFound:
            return False
    return True


async def _changes(
    request: Request, ctx: ServerContext, room_id: str, key: str | None
) -> AsyncIterator[str]:
    """`change` for every live event about the room, a heartbeat when quiet; ends when the
    client goes or the key no longer opens the panel."""
    sub = ctx.events.subscribe()
    try:
        yield f"retry: {RETRY_MS}\n\n"
        checked = written = time.monotonic()
        while True:
            event = await sub.get(timeout=POLL_S)
            now = time.monotonic()
            if now - checked >= KEY_CHECK_S:
                checked = now
                if not await run_in_threadpool(_still_open, ctx, room_id, key):
                    return
            if event is not None and _concerns(event, room_id):
                yield f"event: change\nid: {event.id}\ndata: {{}}\n\n"
                written = now
            elif await request.is_disconnected():
                return
            elif now - written >= HEARTBEAT_S:
                yield ": heartbeat\n\n"
                written = now
    finally:
        sub.close()


@router.get("/panel/{room_id}/stream", response_class=StreamingResponse)
async def panel_stream(
    room_id: RoomIdPath, request: Request, ctx: CtxDep, key: KeyQuery = None
) -> StreamingResponse:
    """Server-Sent Events of the room's changes; 404 for a wrong key."""
    if not await run_in_threadpool(_still_open, ctx, room_id, key):
        raise NotFound(roomkeys.PANEL_NOT_FOUND)
    return StreamingResponse(
        _changes(request, ctx, room_id, key),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
