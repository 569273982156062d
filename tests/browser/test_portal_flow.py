"""A member's booking, end to end in headless Chromium at a phone's width (390 px) against
the demo site: sign in to the portal with a password, pick tomorrow, tap a free hour of a
room, tap "Book", see the booking in my bookings, and cancel it. Every step is found by
its role and accessible name, as a screen reader user would."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from support.signin import make_user

from server.db import models
from server.notify.texts import text

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "piotr@example.org", "correct horse battery"
ROOM = "Sala warsztatowa A"
PHONE = {"width": 390, "height": 844}


def tr(key: str, **params: object) -> str:
    return text("en", key, **params)


def member_user(live_site: Any) -> int:
    """Piotr Wiśniewski of the demo (a resident) with a password; his member id."""
    ctx = live_site.ctx
    with ctx.reads() as session:
        piotr = session.scalars(
            select(models.Member.id).where(models.Member.name == "Piotr Wiśniewski")
        ).one()
    make_user(ctx, "member", EMAIL, member_id=piotr)
    return piotr


def test_a_member_books_a_free_hour_in_two_taps_and_cancels_it(
    chromium: Any, live_site: Any
) -> None:
    from playwright.sync_api import expect

    piotr = member_user(live_site)
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{live_site.url}/me/?lang=en")
        expect(page.get_by_role("heading", name=tr("portal.signin.title"))).to_be_visible()
        with_password = page.get_by_role("form", name=tr("portal.signin.by_password"))
        with_password.get_by_role("textbox", name=tr("signin.email")).fill(EMAIL)
        with_password.get_by_label(tr("signin.password"), exact=True).fill(PASSWORD)
        with_password.get_by_role("button", name=tr("signin.submit")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Piotr")

        page.get_by_role("link", name=tr("portal.home.find")).click()
        page.get_by_role("navigation", name=tr("portal.rooms.days")).get_by_role("link").nth(
            1
        ).click()  # tomorrow: hours left whatever the time of day
        free = page.get_by_role(
            "link", name=re.compile(rf"^{ROOM} \d\d:00–\d\d:00 {tr('portal.rooms.free')}$")
        ).first
        hours = re.search(r"(\d\d:00)–(\d\d:00)", free.inner_text())
        assert hours is not None
        free.click()  # the first tap
        expect(page.get_by_role("heading", name=tr("portal.book.title"))).to_be_visible()
        expect(page.get_by_label(tr("portal.book.start"))).to_have_value(hours.group(1))
        page.get_by_role("button", name=tr("portal.book.submit")).click()  # the second

        expect(page.get_by_role("status")).to_contain_text(tr("portal.done.booked", n=1))
        upcoming = page.get_by_role("region", name=tr("portal.bk.upcoming"))
        expect(upcoming).to_contain_text(ROOM)
        expect(upcoming).to_contain_text(hours.group(1))
        with live_site.ctx.reads() as session:
            made = session.scalars(
                select(models.Booking).where(models.Booking.member_id == piotr)
            ).one()
            assert made.status == "booked"

        upcoming.get_by_role("link", name=re.compile(f"^{tr('portal.bk.cancel')} {ROOM}")).click()
        page.get_by_role("button", name=tr("portal.cancel.submit")).click()
        expect(page.get_by_role("status")).to_contain_text(tr("portal.done.cancelled"))
        expect(page.get_by_role("region", name=tr("portal.bk.upcoming"))).not_to_contain_text(ROOM)
        with live_site.ctx.reads() as session:
            assert session.get(models.Booking, made.id).status == "cancelled"  # type: ignore[union-attr]
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    finally:
        context.close()
