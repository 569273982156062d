"""A receptionist's day, end to end in headless Chromium against the demo site with its
door controllers on mock pins: a staff member signs in with a password, adds a member,
enrols the member's card by tapping it at a reader, books a weekly slot for them, and the
member's tap then opens the room's door."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from support.signin import make_user
from support.waiting import eventually

from server.db import models
from server.notify.texts import text

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "recepcja@example.org", "correct horse battery"
CARD = "0A1B2C3D4E"  # a card no member has yet
READER, ROOM = "reader-sala-a", "sala-a"


def tr(key: str, **params: object) -> str:
    return text("en", key, **params)


def _slot(ctx: Any) -> tuple[str, str, str]:
    """(day, start, end) in local time: a slot that began this minute, an hour at most,
    within the day."""
    zone = ZoneInfo(ctx.site.site.timezone)
    now = ctx.clock().astimezone(zone)
    if now.hour == 23 and now.minute >= 58:
        pytest.skip("the last two minutes of a day leave no slot to book within it")
    start = now.replace(second=0, microsecond=0)
    end = min(start + timedelta(hours=1), start.replace(hour=23, minute=59))
    return start.date().isoformat(), start.strftime("%H:%M"), end.strftime("%H:%M")


def _bookings_of(ctx: Any, name: str) -> list[models.Booking]:
    with ctx.reads() as session:
        member = session.scalars(select(models.Member).where(models.Member.name == name)).one()
        return list(
            session.scalars(
                select(models.Booking)
                .where(models.Booking.member_id == member.id)
                .order_by(models.Booking.start)
            )
        )


def test_a_receptionist_books_a_new_member_whose_tap_then_opens_the_door(
    page: Any, live_site: Any
) -> None:
    from playwright.sync_api import expect

    ctx = live_site.ctx
    make_user(ctx, "staff", EMAIL, password=PASSWORD)
    name = "Marta Wiśniewska"

    # signs in with a password
    page.goto(f"{live_site.url}/?lang=en")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.locator("form", has=page.locator("#password")).get_by_role(
        "button", name=tr("signin.submit")
    ).click()
    page.wait_for_selector('#live-status[data-state="on"]', timeout=10_000)

    # adds a member
    page.goto(f"{live_site.url}/reception/members?lang=en")
    page.fill("#new-name", name)
    page.fill("#new-email", "marta@example.org")
    page.get_by_role("button", name=tr("members.add_go")).click()
    expect(page.locator("main h2")).to_have_text(name)

    # enrols the card by tapping it at the room's reader
    page.get_by_role("link", name=tr("cards.by_tap")).click()
    page.select_option("#device", READER)
    page.get_by_role("button", name=tr("tap.wait")).click()
    page.wait_for_selector("#tap-status")
    live_site.building.doors[READER].reader.present(CARD)  # unknown yet: refused
    enrol = page.get_by_role("button", name=tr("tap.enrol", name=name))
    enrol.wait_for(timeout=10_000)  # the page polls for the card tapped there
    enrol.click()
    expect(page.locator("main h2")).to_have_text(name)
    with ctx.reads() as session:
        member = session.scalars(select(models.Member).where(models.Member.name == name)).one()
        cards = session.scalars(select(models.Card).where(models.Card.member_id == member.id))
        assert len(list(cards)) == 1
    assert not live_site.strike(READER)

    # books a weekly slot for them, from now
    day, start, end = _slot(ctx)
    page.goto(f"{live_site.url}/reception/bookings/new?room={ROOM}&day={day}&q=Marta&lang=en")
    page.fill("#f-day", day)
    page.fill("#f-start", start)
    page.fill("#f-end", end)
    page.select_option("#f-holder", str(member.id))
    page.fill("#f-title", "Konsultacje")
    page.fill("#f-weeks", "4")
    page.get_by_role("button", name=tr("desk.bk.book")).click()
    page.wait_for_url("**/reception/bookings?*done=created*")
    made = _bookings_of(ctx, name)
    assert len(made) == 4 and len({b.series_id for b in made}) == 1
    assert [b.start - made[0].start for b in made] == [timedelta(weeks=w) for w in range(4)]
    assert made[0].status == "booked"

    # the member's tap opens the room's door and checks the booking in
    live_site.building.doors[READER].reader.present(CARD)
    assert eventually(lambda: live_site.strike(READER)), "the door did not open for the member"
    assert eventually(lambda: _bookings_of(ctx, name)[0].status == "checked_in")
