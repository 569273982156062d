"""A room's door panel in real headless Chromium, against the demo site running for real:
it changes without a reload when the holder taps their card at the room's door (checked
in: in use) and when the scheduler's sweep releases a booking nobody came to (free); a
key replaced by staff takes the open panel down."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from support.livedata import tap

from server.bookings import roomkeys
from server.bookings.store import insert_booking
from server.db import models

pytestmark = pytest.mark.browser

HOLDER_CARD = "04B2C3D4"  # Anna Kowalska's
TITLE = "Spotkanie klubu książki"
# How soon the panel must show a change (the event is immediate; the page re-fetches one
# small fragment): a behaviour, not a benchmark.
SOON_MS = 1500


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def panel_url(site: Any, room_id: str = "sala-a") -> str:
    with site.ctx.writes() as session, session.begin():
        room, _ = roomkeys.panel_key(session, site=site.ctx.site, room_id=room_id)
        return site.url + roomkeys.panel_path(room.id, room.panel_key or "")


def book_now(site: Any, room_id: str = "sala-a") -> int:
    """A booking of Anna Kowalska's that began two minutes ago; she has not come yet."""
    ctx = site.ctx
    now = ctx.clock()
    with ctx.writes() as session, session.begin():
        anna = session.scalars(
            select(models.Member.id).where(models.Member.name == "Anna Kowalska")
        ).one()
        return insert_booking(
            session,
            site=ctx.site,
            room_id=room_id,
            member_id=anna,
            start=now - timedelta(minutes=2),
            end=now + timedelta(minutes=58),
            now=now,
            title=TITLE,
        ).id


def open_panel(page: Any, url: str) -> Any:
    expect = _expect()
    page.goto(url)
    state = page.locator("#panel-now")
    expect(state).to_have_attribute("data-status", "booked")
    expect(state.locator(".state-word .word")).to_have_text("Zarezerwowana")
    expect(state).to_contain_text(TITLE)
    expect(state.locator("[data-countdown]")).to_have_text(_countdown())  # ticking, m:ss
    page.evaluate("window.__notReloaded = true")
    return state


def _countdown() -> Any:
    import re

    return re.compile(r"^1[0-3]:\d\d$")  # 15 minutes' grace, two of them gone


def test_a_tap_at_the_door_turns_the_panel_to_in_use_and_a_new_key_takes_it_down(
    page: Any, live_site: Any
) -> None:
    expect = _expect()
    book_now(live_site)
    url = panel_url(live_site)
    state = open_panel(page, url)

    tap(live_site, "reader-sala-a", HOLDER_CARD)  # through the door controller, for real
    expect(state.locator(".state-word .word")).to_have_text("Zajęta", timeout=SOON_MS)
    expect(page.locator("#panel-now")).to_have_attribute("data-status", "in_use")
    expect(page.locator("#panel-now")).to_contain_text("obecność potwierdzona")
    expect(page.locator("[data-countdown]")).to_have_count(0)
    expect(page.locator("#panel-announce")).to_have_text("Zajęta")
    assert page.evaluate("window.__notReloaded") is True

    with live_site.ctx.writes() as session, session.begin():
        roomkeys.rotate_panel_key(session, site=live_site.ctx.site, room_id="sala-a")
    # the stream ends, the browser reconnects, finds 404, and the page says so
    expect(page.get_by_role("heading", level=1)).to_have_text("Nie ma takiego panelu", timeout=8000)


def test_the_sweep_releasing_a_no_show_frees_the_panel(page: Any, live_site: Any) -> None:
    expect = _expect()
    booking_id = book_now(live_site)
    state = open_panel(page, panel_url(live_site))

    # Its grace is over: the scheduler's sweep (every quarter second) releases it.
    ctx = live_site.ctx
    grace = timedelta(seconds=ctx.site.access.no_show_grace)
    with ctx.writes() as session, session.begin():
        session.execute(
            update(models.Booking)
            .where(models.Booking.id == booking_id)
            .values(start=ctx.clock() - grace - timedelta(seconds=1))
        )
    expect(state.locator(".state-word .word")).to_have_text("Wolna", timeout=SOON_MS + 500)
    expect(page.locator("#panel-now")).to_have_attribute("data-status", "free")
    expect(page.locator("#panel-now")).not_to_contain_text(TITLE)
    assert page.evaluate("window.__notReloaded") is True
    with ctx.reads() as session:
        assert session.get(models.Booking, booking_id).status == "released"  # type: ignore[union-attr]
