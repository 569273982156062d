"""The member portal as a browser without JavaScript uses it: sign in, find a free hour,
book it (with attendees, weekly), see it in my bookings, cancel it, wait for a taken hour
and accept the offer, read notifications, the calendar link and feed, the no-show rule;
each page in Polish, English and Ukrainian, every form refused without its CSRF token,
and nobody's booking but the member's own to act on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select
from support.signin import csrf_of, make_user

from server.bookings import rules
from server.context import ServerContext
from server.db import models
from server.people import members

WARSAW = ZoneInfo("Europe/Warsaw")
PASSWORD = "correct horse battery"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=WARSAW).astimezone(UTC)


def add_member(ctx: ServerContext, name: str, email: str, category: str = "ngo") -> int:
    with ctx.writes() as s, s.begin():
        return members.create_member(s, name=name, category=category, email=email).id


def book(ctx: ServerContext, member_id: int, start: datetime, end: datetime, **kw: Any) -> int:
    with ctx.writes() as s, s.begin():
        asked = rules.BookingRequest(
            room_id=kw.pop("room_id", "sala-a"), member_id=member_id, start=start, end=end, **kw
        )
        return rules.create_booking(s, site=ctx.site, request=asked, now=ctx.clock()).id


def booking(ctx: ServerContext, booking_id: int) -> models.Booking:
    with ctx.reads() as s:
        found = s.get(models.Booking, booking_id)
        assert found is not None
        s.expunge(found)
        return found


@pytest.fixture
def ola(client, ctx) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A resident member signed in with the password form; her id and CSRF token."""
    user = make_user(ctx, "member", "ola@example.org", category="resident")
    with ctx.writes() as s, s.begin():
        s.get(models.Member, user.member_id).email = "ola@example.org"  # type: ignore[union-attr]
    signed_in = client.post(
        "/login?lang=en",
        data={"email": "ola@example.org", "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/me/?lang=en"
    return {"id": user.member_id, "csrf": csrf_of(client, "/me/")}


def test_signed_out_the_portal_is_its_sign_in_form(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/me/?lang=en")
    assert page.status_code == 200
    assert "Sign in to the members" in page.text
    assert 'action="/me/signin/link?lang=en"' in page.text
    assert 'action="/login?lang=en"' in page.text
    # every other page leads there
    moved = client.get("/me/rooms?lang=uk", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (303, "/me/?lang=uk")


def test_the_link_form_says_the_same_for_any_address(client, ctx, admin) -> None:  # type: ignore[no-untyped-def]
    make_user(ctx, "member", "ola@example.org", category="resident")
    known = client.post("/me/signin/link?lang=en", data={"email": "ola@example.org"})
    unknown = client.post("/me/signin/link?lang=en", data={"email": "nobody@example.org"})
    assert known.text == unknown.text and "sign-in link" in known.text.lower()
    assert len(client.get("/api/mail", headers=admin).json()) == 1


def test_rooms_show_free_and_taken_hours_with_price_and_quota(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    other = add_member(ctx, "Inna", "inna@example.org")
    book(ctx, other, local(3, 14), local(3, 15))
    page = client.get("/me/rooms?day=2026-03-03&lang=en").text
    assert "Sala warsztatowa A" in page and "up to 12 people" in page and "projector" in page
    assert "free of charge" in page  # a resident's rate is 0
    assert "Your limit: 10 h of bookings a week; 10 h left this week." in page
    free = "/me/book?room=sala-a&amp;start=2026-03-03T13:00"
    taken = "/me/waitlist/join?room=sala-a&amp;start=2026-03-03T14:00"
    assert free in page and taken in page
    assert "/me/book?room=sala-a&amp;start=2026-03-03T14:00" not in page


def test_booking_in_two_taps_then_cancelling(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    form = client.get("/me/book?room=sala-a&start=2026-03-03T13:00&lang=en")
    assert form.status_code == 200
    assert 'value="2026-03-03"' in form.text and 'value="13:00"' in form.text
    assert 'value="14:00"' in form.text
    fields = {
        "room": "sala-a",
        "day": "2026-03-03",
        "start": "13:00",
        "end": "14:00",
        "title": "Próba chóru",
        "attendees": "",
        "weeks": "1",
        "csrf_token": ola["csrf"],
    }
    done = client.post("/me/book?lang=en", data=fields, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/me/bookings?")
    listed = client.get(done.headers["location"]).text
    assert "Próba chóru" in listed and "Booked" in listed
    with ctx.reads() as s:
        made = s.scalars(select(models.Booking)).one()
        assert (made.member_id, made.start, made.end) == (ola["id"], local(3, 13), local(3, 14))
        actions = [a.action for a in s.scalars(select(models.AuditEntry))]
    assert "booking.create" in actions
    confirm = client.get(f"/me/bookings/{made.id}/cancel?lang=en")
    assert "Yes, cancel the booking" in confirm.text
    cancelled = client.post(
        f"/me/bookings/{made.id}/cancel?lang=en",
        data={"csrf_token": ola["csrf"]},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    assert booking(ctx, made.id).status == "cancelled"
    assert "cancelled" in client.get("/me/bookings?lang=en").text


def test_a_form_without_its_csrf_token_changes_nothing(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    mine = book(ctx, ola["id"], local(3, 13), local(3, 14))
    refused = client.post(f"/me/bookings/{mine}/cancel", data={}, follow_redirects=False)
    assert refused.status_code == 403
    wrong = client.post(f"/me/bookings/{mine}/cancel", data={"csrf_token": "x" * 20})
    assert wrong.status_code == 403
    fields = {"room": "sala-a", "day": "2026-03-03", "start": "15:00", "end": "16:00"}
    assert client.post("/me/book", data=fields).status_code == 403
    assert client.post("/me/calendar/new", data={}).status_code == 403
    assert booking(ctx, mine).status == "booked"
    with ctx.reads() as s:
        assert len(s.scalars(select(models.Booking)).all()) == 1
