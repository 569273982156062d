"""The staff dashboard in real headless Chromium, against the demo site running for real:
sign in, every room, a room that changes live when its sensor sees motion, and a remote
unlock that releases the door controller's strike relay."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.waiting import eventually

from protocol import topics
from protocol.messages import Motion, Status, new_id, utcnow
from protocol.mqtt import MqttClient

pytestmark = pytest.mark.browser

SITE = "piaseczno"
ROOMS = ["Wejście główne", "Sala warsztatowa A", "Sala konferencyjna B", "Strefa coworkingu"]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _sign_in(page: Any, site: Any) -> None:
    page.goto(f"{site.url}/login?token={site.token}")
    assert page.url == f"{site.url}/"
    # Live once the event stream has delivered its snapshot.
    _expect()(page.locator("#live-status")).to_have_attribute("data-state", "on", timeout=5000)


def test_sign_in_and_see_every_room(page: Any, live_site: Any) -> None:
    expect = _expect()
    page.goto(live_site.url)
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_label("E-mail").first).to_be_visible()  # the password form first
    page.locator("details.admin-token summary").click()  # the token form is secondary
    page.get_by_label("Token administratora").fill("not the token")
    page.locator("details.admin-token").get_by_role("button", name="Zaloguj się").click()
    expect(page.get_by_role("alert")).to_contain_text("nieprawidłowy")

    _sign_in(page, live_site)
    cards = page.locator("#rooms-list > li")
    expect(cards).to_have_count(3)  # the entrance is the building's card
    expect(page.locator("#building-body #room-main")).to_be_visible()
    for name in ROOMS:
        expect(page.get_by_role("heading", name=name, level=3)).to_be_visible()
    expect(page.locator("#room-sala-a .state-word")).to_have_text("Wolna")
    # The door controllers announced themselves: their devices are online.
    expect(page.locator('#devices-body tr[data-device="reader-sala-a"] .health')).to_contain_text(
        "działa"
    )


def test_motion_changes_the_room_card_without_a_reload(page: Any, live_site: Any) -> None:
    expect = _expect()
    _sign_in(page, live_site)
    card = page.locator("#room-sala-a")
    expect(card.locator(".state-word")).to_have_text("Wolna")
    page.evaluate("window.__notReloaded = true")

    sensor = MqttClient(live_site.broker_url, client_id="browser-test-pir-sala-a")
    sensor.start()
    try:
        assert sensor.wait_connected(10)
        motion = Motion(id=new_id(), ts=utcnow(), motion=True, boot="browser-test", seq=1)
        sensor.publish(topics.motion(SITE, "pir-sala-a"), motion).wait_for_publish(5)
        published = time.monotonic()
        expect(card.locator(".state-word")).to_have_text("W użyciu bez rezerwacji", timeout=5000)
        took = time.monotonic() - published
    finally:
        sensor.stop()
    expect(card.locator("article")).to_have_class("room state-in_use_unbooked")
    expect(card.locator(".motion")).to_contain_text("ostatnio")
    assert page.evaluate("window.__notReloaded") is True
    assert took < 1.5, f"the card changed {took:.2f} s after the motion event"


def test_remote_unlock_releases_the_strike(page: Any, live_site: Any) -> None:
    expect = _expect()
    _sign_in(page, live_site)
    assert not live_site.strike("reader-sala-a")
    button = page.get_by_role("button", name="Otwórz zdalnie: Sala warsztatowa A")
    button.focus()
    page.keyboard.press("Enter")  # keyboard operable
    assert eventually(lambda: live_site.strike("reader-sala-a")), "the strike never released"
    assert not live_site.strike("reader-sala-b")
    expect(page.locator("#announcer")).to_have_text(
        "Wysłano polecenie otwarcia: Sala warsztatowa A."
    )


def test_lockdown_and_back_to_normal(page: Any, live_site: Any) -> None:
    expect = _expect()
    _sign_in(page, live_site)
    page.on("dialog", lambda dialog: dialog.accept())
    card = page.locator("#room-coworking")
    card.get_by_role("button", name="Zablokuj: Strefa coworkingu").click()
    expect(card.locator(".door-mode strong")).to_have_text("zablokowane")
    expect(card.get_by_role("button", name="Zablokuj: Strefa coworkingu")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(card.get_by_role("button", name="Otwórz zdalnie: Strefa coworkingu")).to_be_disabled()
    card.get_by_role("button", name="Na kartę: Strefa coworkingu").click()
    expect(card.locator(".door-mode strong")).to_have_text("na kartę")
    expect(card.get_by_role("button", name="Otwórz zdalnie: Strefa coworkingu")).to_be_enabled()


def test_a_list_answered_late_keeps_the_newer_card_of_a_changed_room(
    page: Any, live_site: Any
) -> None:
    """The rooms' list asked for before a lockdown, and answered after the locked room's
    own card, does not bring the old mode back."""
    expect = _expect()
    held: list[Any] = []

    def rooms_list(url: str) -> bool:
        return urlsplit(url).path == "/dashboard/fragments/rooms"

    def hold(route: Any) -> None:  # the first request, answered by the test; no other
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(rooms_list, hold)
    _sign_in(page, live_site)  # the stream's snapshot asks for every list
    deadline = time.monotonic() + 5
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    assert held, "the page never asked for the rooms' list"
    before = held[0].fetch()  # the list as it is before the lockdown
    page.on("dialog", lambda dialog: dialog.accept())
    card = page.locator("#room-coworking")
    card.get_by_role("button", name="Zablokuj: Strefa coworkingu").click()
    expect(card.locator(".door-mode strong")).to_have_text("zablokowane")
    page.evaluate("document.getElementById('rooms-list').dataset.old = 'yes'")
    held[0].fulfill(response=before)
    page.wait_for_function("!document.getElementById('rooms-list').dataset.old")
    assert card.locator(".door-mode strong").inner_text() == "zablokowane"
    expect(page.locator("#room-sala-a .state-word")).to_have_text("Wolna")  # the rest came


def test_the_language_switch(page: Any, live_site: Any) -> None:
    expect = _expect()
    _sign_in(page, live_site)
    page.get_by_role("link", name="Українська").click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page.get_by_role("heading", name="Зали", level=2)).to_be_visible()
    page.goto(live_site.url)  # remembered
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    page.get_by_role("link", name="English").click()
    expect(page.locator("#room-sala-a .state-word")).to_have_text("Free")


def test_an_alert_appears_live_and_is_acknowledged(page: Any, live_site: Any) -> None:
    from server.monitoring import alerts

    expect = _expect()
    _sign_in(page, live_site)
    expect(page.locator("#alerts-body")).to_contain_text("Brak otwartych alertów")
    ctx = live_site.ctx
    with ctx.writes() as session, session.begin():
        alert = alerts.raise_alert(session, kind="forced", device_id="reader-main", now=ctx.clock())
        event = alerts.alert_event(alert)
    ctx.events.publish(event)
    item = page.locator("#alerts-body li")
    expect(item).to_contain_text("Drzwi otwarte siłą", timeout=3000)
    expect(item).to_contain_text("Wejście główne · czytnik drzwi")
    item.get_by_role("button", name="Potwierdź: Drzwi otwarte siłą").click()
    expect(page.locator("#alerts-body")).to_contain_text("Brak otwartych alertów")
    expect(page.locator("#announcer")).to_have_text("Alert potwierdzony.")


def _fragments(page: Any) -> list[str]:
    """The paths of the dashboard fragments the page fetches from now on (finished)."""
    seen: list[str] = []

    def finished(request: Any) -> None:
        path = request.url.split("//", 1)[1].split("/", 1)[1].split("?", 1)[0]
        if path.startswith("dashboard/fragments/"):
            seen.append(path.removeprefix("dashboard/fragments/"))

    page.on("requestfinished", finished)
    return seen


def _until(page: Any, condition: Any, timeout_ms: int = 5000) -> bool:
    """Whether `condition` holds within the time, letting the page run meanwhile."""
    for _ in range(timeout_ms // 20):
        if condition():
            return True
        page.wait_for_timeout(20)
    return bool(condition())


def test_a_change_refetches_only_what_it_is_about(page: Any, live_site: Any) -> None:
    """A booking event for Sala A fetches Sala A's card and nothing else; a device event
    fetches that device's row of the table, not the table; a room event its card."""
    import json
    import urllib.request
    from datetime import timedelta

    from sqlalchemy import select

    from server.db import models
    from server.live.kinds import RoomEvent

    expect = _expect()
    ctx = live_site.ctx
    now = utcnow()
    with ctx.writes() as session, session.begin():
        member = session.scalars(select(models.Member.id).limit(1)).one()
        booking = models.Booking(
            room_id="sala-a",
            member_id=member,
            start=now + timedelta(minutes=30),
            end=now + timedelta(minutes=90),
            status="booked",
            title="Próba chóru",
        )
        session.add(booking)
        session.flush()
        booking_id = booking.id
    fetched = _fragments(page)
    _sign_in(page, live_site)
    card = page.locator("#room-sala-a")
    expect(card).to_contain_text("Próba chóru")
    first = {"rooms", "alerts", "feed", "evacuation", "devices", "health"}
    assert _until(page, lambda: first <= set(fetched)), fetched
    page.wait_for_timeout(200)  # anything else the snapshot asked for
    fetched.clear()

    request = urllib.request.Request(
        f"{live_site.url}/api/bookings/{booking_id}/cancel",
        method="POST",
        headers={"Authorization": f"Bearer {live_site.token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response)["status"] == "cancelled"
    expect(card).not_to_contain_text("Próba chóru", timeout=3000)
    page.wait_for_timeout(300)
    assert fetched == ["rooms/sala-a"]

    fetched.clear()
    status = Status(state="online", kind="occupancy", ts=utcnow())
    ctx.access.handle_status("pir-sala-b", status)  # a `device` event: now online
    row = page.locator("#device-pir-sala-b .health")
    expect(row).to_contain_text("działa", timeout=3000)
    page.wait_for_timeout(300)
    assert fetched == ["devices/pir-sala-b"]

    fetched.clear()  # a room other than the entrance: its card, not the evacuation list
    ctx.events.publish(
        RoomEvent(id="sala-b", occupied=True, people=3, last_motion=None, over_capacity=False)
    )
    assert _until(page, lambda: "rooms/sala-b" in fetched), fetched
    page.wait_for_timeout(300)
    assert fetched == ["rooms/sala-b"]
