"""The dashboard as a receptionist meets it: on a phone every column of the door feed is
on screen; at a desktop's width, in Polish (long words), a room card's buttons stay inside
their card; a refused action is told in the page's language, not the API's English."""

from __future__ import annotations

from typing import Any

import pytest
from support.livedata import book_now, busy_day

pytestmark = pytest.mark.browser


def _open(chromium: Any, site: Any, width: int, height: int) -> Any:
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{site.url}/login?token={site.token}&lang=pl")
    page.wait_for_selector('#live-status[data-state="on"]', timeout=5000)
    page.wait_for_timeout(500)  # the fragments the stream's snapshot refetches
    return context, page


# An element's box and each of its buttons' (their text and box), as `bounding_box` gives.
BOXES = """el => {
  const box = (e) => { const r = e.getBoundingClientRect();
                       return {x: r.x, y: r.y, width: r.width, height: r.height}; };
  return [box(el), [...el.querySelectorAll("button")].map((b) => [b.innerText, box(b)])];
}"""


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


def test_the_feed_is_readable_on_a_phone(chromium: Any, live_site: Any) -> None:
    busy_day(live_site)
    context, page = _open(chromium, live_site, 390, 844)
    try:
        rows = page.locator("#feed-body tbody tr")
        assert rows.count() >= 3
        for i in range(rows.count()):
            for cell in rows.nth(i).locator("td").all():
                box = cell.bounding_box()
                assert box is not None
                assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (
                    f"feed row {i}: {cell.inner_text()!r} lies at {box}, off a 390 px screen"
                )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        body = page.locator("#feed-body")
        assert body.evaluate("e => e.scrollWidth <= e.clientWidth"), "the feed scrolls sideways"
    finally:
        context.close()


def test_a_waiting_rooms_buttons_stay_in_its_card(chromium: Any, live_site: Any) -> None:
    busy_day(live_site)  # Sala B: booked now, its holder not yet arrived
    context, page = _open(chromium, live_site, 1440, 900)
    try:
        card = page.locator("#room-sala-b")
        assert card.locator("article").get_attribute("class") == "room state-booked_waiting"
        # The card and its buttons measured in one go: a live update may replace the card
        # between two separate measurements.
        outer, buttons = card.evaluate(BOXES)
        assert len(buttons) >= 6  # release, cancel, and the door's four
        for label, box in buttons:
            assert _inside(box, outer), f"{label!r} at {box} spills out of {outer}"
    finally:
        context.close()


def test_a_refused_action_is_told_in_the_readers_language(chromium: Any, live_site: Any) -> None:
    from playwright.sync_api import expect

    from server.db import models

    booking_id = book_now(live_site, "sala-a", title="Próba chóru")
    context, page = _open(chromium, live_site, 1440, 900)
    try:
        page.on("dialog", lambda dialog: dialog.accept())
        button = page.locator(f"#cancel-{booking_id}")
        expect(button).to_be_visible()
        # Cancelled behind the page's back, with no event: the button is still there.
        with live_site.ctx.writes() as session, session.begin():
            session.get(models.Booking, booking_id).status = "cancelled"
        button.click()
        announcer = page.locator("#announcer")
        expect(announcer).to_have_class("announcer failed")
        expect(announcer).to_contain_text("Nie udało się: stan już się zmienił")
        assert "booking" not in announcer.inner_text()
    finally:
        context.close()


def test_the_building_card_and_the_evacuation_count_agree_live(
    chromium: Any, live_site: Any
) -> None:
    from playwright.sync_api import expect

    from protocol.messages import Count, new_id
    from server.live.kinds import RoomEvent
    from server.occupancy.readings import Reading, record_readings

    context, page = _open(chromium, live_site, 1440, 900)
    try:
        expect(page.locator("#building-body #room-main .count")).to_have_text("0")
        ctx = live_site.ctx
        count = Count(id=new_id(), ts=ctx.clock(), entered=4, left=0)
        with ctx.writes() as session, session.begin():
            reading = Reading("counter-main", count)
            record_readings(session, site=ctx.site, readings=[reading], now=ctx.clock())
        ctx.events.publish(
            RoomEvent(id="main", occupied=True, people=4, last_motion=None, over_capacity=False)
        )
        expect(page.locator("#room-main .count")).to_have_text("4", timeout=3000)
        expect(page.locator("#evacuation-body .count")).to_have_text("4", timeout=3000)
        assert page.locator("#rooms-list #room-main").count() == 0
    finally:
        context.close()
