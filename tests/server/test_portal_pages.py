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
    assert "Your limit: 10 h of bookings a week (10 h left this week)" in page
    free = "/me/book?room=sala-a&amp;start=2026-03-03T13:00"
    taken = "/me/waitlist/join?room=sala-a&amp;start=2026-03-03T14:00"
    assert free in page and taken in page
    assert "/me/book?room=sala-a&amp;start=2026-03-03T14:00" not in page


def test_a_door_panel_s_code_leads_to_its_room(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    moved = client.get("/me/?room=sala-b&lang=en", follow_redirects=False)
    assert moved.headers["location"] == "/me/rooms?room=sala-b&lang=en"
    page = client.get(moved.headers["location"]).text
    assert "Sala konferencyjna B" in page and "Sala warsztatowa A" not in page
    assert "All rooms" in page and 'href="/me/rooms?day=2026-03-03&amp;room=sala-b' in page
    assert "Sala warsztatowa A" in client.get("/me/rooms?room=nowhere").text


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
    assert "Próba chóru" not in client.get("/me/bookings?lang=en").text


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


def _book_form(ola: dict[str, Any], **changes: str) -> dict[str, str]:
    fields = {
        "room": "sala-a",
        "day": "2026-03-03",
        "start": "13:00",
        "end": "14:00",
        "title": "",
        "attendees": "",
        "weeks": "1",
        "csrf_token": ola["csrf"],
    }
    return fields | changes


def test_attendees_by_e_mail_and_a_weekly_repeat(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    inna = add_member(ctx, "Inna", "Inna@Example.org")
    form = _book_form(ola, attendees="inna@example.org", weeks="3", start="18:00", end="19:00")
    assert client.post("/me/book", data=form, follow_redirects=False).status_code == 303
    with ctx.reads() as s:
        made = s.scalars(select(models.Booking).order_by(models.Booking.start)).all()
        assert [b.start for b in made] == [local(3, 18), local(10, 18), local(17, 18)]
        assert {b.series_id for b in made} != {None} and len({b.series_id for b in made}) == 1
        assert all(b.attendee_ids == [inna] for b in made)
    listed = client.get("/me/bookings?lang=en").text
    assert listed.count("attendees: 1") == 3
    # an address no member has: refused, saying which, nothing booked
    refused = client.post(
        "/me/book?lang=en", data=_book_form(ola, attendees="inna@example.org, ghost@example.org")
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text and "ghost@example.org" in refused.text
    assert "Inna" not in refused.text  # no other member's name is shown
    with ctx.reads() as s:
        assert len(s.scalars(select(models.Booking)).all()) == 3


def test_adding_attendees_to_my_booking(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    inna = add_member(ctx, "Inna", "inna@example.org")
    piotr = add_member(ctx, "Piotr", "piotr@example.org")
    mine = book(ctx, ola["id"], local(3, 13), local(3, 14))
    page = client.get(f"/me/bookings/{mine}/attendees?lang=en")
    assert page.status_code == 200 and 'for="f-emails"' in page.text
    added = client.post(
        f"/me/bookings/{mine}/attendees?lang=en",
        data={"emails": "inna@example.org\npiotr@example.org", "csrf_token": ola["csrf"]},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert sorted(booking(ctx, mine).attendee_ids) == sorted([inna, piotr])
    unknown = client.post(
        f"/me/bookings/{mine}/attendees?lang=pl",
        data={"emails": "nikt@example.org", "csrf_token": ola["csrf"]},
    )
    assert unknown.status_code == 422 and "Żaden członek nie ma adresu" in unknown.text
    myself = client.post(
        f"/me/bookings/{mine}/attendees?lang=en",
        data={"emails": "ola@example.org", "csrf_token": ola["csrf"]},
    )
    assert myself.status_code == 422 and "do not add yourself" in myself.text


def test_another_member_s_booking_is_refused_on_pages_and_api(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    inna = add_member(ctx, "Inna", "inna@example.org")
    theirs = book(ctx, inna, local(3, 13), local(3, 14), title="Cudze spotkanie")
    attended = book(ctx, inna, local(3, 15), local(3, 16), attendees=[ola["id"]])
    csrf = {"csrf_token": ola["csrf"]}
    for path in (f"/me/bookings/{theirs}/cancel", f"/me/bookings/{theirs}/attendees"):
        seen = client.get(f"{path}?lang=en")
        assert seen.status_code == 403 and "not your booking" in seen.text
        assert "Cudze spotkanie" not in seen.text
    assert client.post(f"/me/bookings/{theirs}/cancel", data=csrf).status_code == 403
    emails = {"emails": "ola@example.org", **csrf}
    assert client.post(f"/me/bookings/{theirs}/attendees", data=emails).status_code == 403
    # an attendee sees the booking, but only its holder changes it
    assert client.post(f"/me/bookings/{attended}/cancel", data=csrf).status_code == 403
    assert "you attend" in client.get("/me/bookings?lang=en").text
    assert "Cudze spotkanie" not in client.get("/me/bookings?lang=en").text
    header = {"X-CSRF-Token": ola["csrf"]}
    assert client.post(f"/api/bookings/{theirs}/cancel", headers=header).status_code == 403
    assert client.get(f"/api/bookings/{theirs}").status_code == 403
    assert booking(ctx, theirs).status == booking(ctx, attended).status == "booked"
    # a member id in the form is not who the booking is for
    forged = _book_form(ola, member_id=str(inna), start="17:00", end="18:00")
    made = client.post("/me/book", data=forged, follow_redirects=False)
    assert made.status_code == 303
    with ctx.reads() as s:
        newest = s.scalars(select(models.Booking).order_by(models.Booking.id.desc())).first()
        assert newest is not None and newest.member_id == ola["id"]


def test_the_weekly_quota_refuses_past_the_limit_with_the_reason(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    book(ctx, ola["id"], local(3, 8), local(3, 16))  # 8 of a resident's 10 hours this week
    refused = client.post("/me/book?lang=en", data=_book_form(ola, start="17:00", end="20:00"))
    assert refused.status_code == 409 and 'role="alert"' in refused.text
    assert "Your limit is 10 h of bookings a week; 2 h is left in the week of 02.03.2026" in (
        refused.text
    )
    pl = client.post("/me/book?lang=pl", data=_book_form(ola, start="17:00", end="20:00"))
    assert "Twój limit to 10 godz." in pl.text and "zostało 2 godz." in pl.text
    fits = client.post("/me/book", data=_book_form(ola, start="17:00", end="19:00"))
    assert fits.status_code == 200  # after the redirect: my bookings
    # counted per week: the next week is a new one
    next_week = _book_form(ola, day="2026-03-09", start="08:00", end="18:00")
    assert client.post("/me/book", data=next_week, follow_redirects=False).status_code == 303
    # the API says the same, naming the limit and what is left
    body = {
        "room_id": "sala-b",
        "member_id": ola["id"],
        "start": local(5, 10).isoformat(),
        "end": local(5, 11).isoformat(),
    }
    api = client.post("/api/bookings", json=body, headers={"X-CSRF-Token": ola["csrf"]})
    assert api.status_code == 409
    assert api.json()["detail"] == (
        "the weekly quota of resident members is 10h of bookings; nothing left in the week "
        "of 2026-03-02"
    )
    # a cancelled booking gives its hours back
    with ctx.reads() as s:
        first = s.scalars(select(models.Booking).order_by(models.Booking.id)).first()
        assert first is not None
    client.post(f"/me/bookings/{first.id}/cancel", data={"csrf_token": ola["csrf"]})
    again = client.post("/api/bookings", json=body, headers={"X-CSRF-Token": ola["csrf"]})
    assert again.status_code == 201, again.text


def test_a_category_without_a_quota_has_no_limit(client, ctx, admin) -> None:  # type: ignore[no-untyped-def]
    firm = add_member(ctx, "Firma", "firma@example.org", category="business")
    for day in (3, 4):
        book(ctx, firm, local(day, 8), local(day, 20))  # 24 hours in one week


def test_waitlist_join_offer_and_accept(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    inna = add_member(ctx, "Inna", "inna@example.org")
    theirs = book(ctx, inna, local(3, 14), local(3, 15))
    ask = client.get(
        "/me/waitlist/join?room=sala-a&start=2026-03-03T14:00&end=2026-03-03T15:00&lang=en"
    )
    assert ask.status_code == 200 and "Put me on the waitlist" in ask.text
    assert re.search(r'name="any_similar" value="on" checked', ask.text)  # proposed
    fields = {
        "room": "sala-a",
        "start": "2026-03-03T14:00",
        "end": "2026-03-03T15:00",
        "csrf_token": ola["csrf"],
    }
    joined = client.post("/me/waitlist/join?lang=en", data=fields, follow_redirects=False)
    assert joined.status_code == 303
    with ctx.reads() as s:
        entry = s.scalars(select(models.WaitlistEntry)).one()
        assert (entry.room_id, entry.kind) == ("sala-a", None)  # the box left unticked
    page = client.get(joined.headers["location"]).text
    assert "You are on the waitlist." in page and "waiting" in page
    twice = client.post("/me/waitlist/join?lang=en", data=fields)
    assert twice.status_code == 409 and 'role="alert"' in twice.text
    # the holder cancels: the hour is offered to Ola, who accepts it in the portal
    from server.waitlist import freed

    with ctx.writes() as s, s.begin():
        freed.cancel_booking(s, site=ctx.site, booking_id=theirs, now=ctx.clock(), by="api")
    page = client.get("/me/waitlist?lang=en").text
    offer = re.search(r'action="/me/offers/(\d+)/accept', page)
    assert offer is not None and "Accept by 10:10" in page
    assert "offered to you" in client.get("/me/waitlist?lang=en").text
    home = client.get("/me/?lang=en").text
    assert "Offers to accept" in home
    notes = client.get("/me/notifications?lang=en").text
    assert "Sala warsztatowa A" in notes
    accepted = client.post(
        f"/me/offers/{offer.group(1)}/accept?lang=en",
        data={"csrf_token": ola["csrf"]},
        follow_redirects=False,
    )
    assert accepted.status_code == 303
    with ctx.reads() as s:
        got = s.scalars(select(models.Booking).where(models.Booking.member_id == ola["id"])).one()
        assert (got.start, got.source) == (local(3, 14), "waitlist")
    again = client.post(f"/me/offers/{offer.group(1)}/accept?lang=en", data=fields)
    assert again.status_code == 409


def test_leaving_the_waitlist(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    fields = {
        "room": "sala-b",
        "start": "2026-03-04T10:00",
        "end": "2026-03-04T11:00",
        "csrf_token": ola["csrf"],
    }
    client.post("/me/waitlist/join", data=fields)
    entry = re.search(r'action="/me/waitlist/(\d+)/leave', client.get("/me/waitlist").text)
    assert entry is not None
    left = client.post(
        f"/me/waitlist/{entry.group(1)}/leave?lang=en",
        data={"csrf_token": ola["csrf"]},
        follow_redirects=False,
    )
    assert left.status_code == 303
    with ctx.reads() as s:
        assert s.get(models.WaitlistEntry, int(entry.group(1))).status == "cancelled"  # type: ignore[union-attr]


def test_my_calendar_feed_by_its_key_and_a_new_key(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    mine = book(ctx, ola["id"], local(3, 13), local(3, 14), title="Próba")
    inna = add_member(ctx, "Inna", "inna@example.org")
    book(ctx, inna, local(3, 15), local(3, 16), title="Nie moje")
    page = client.get("/me/calendar?lang=en").text
    link = re.search(r'value="http://[^"]+(/api/me/calendar\.ics\?key=[^"]+)"', page)
    assert link is not None
    assert client.get("/me/calendar").text.count(link.group(1)) >= 1  # the same key again
    client.cookies.clear()  # no sign-in: the key is all a calendar app has
    feed = client.get(link.group(1))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"booking-{mine}@spacehub"]
    assert "Próba" in str(events[0]["summary"]) and events[0].decoded("dtstart") == local(3, 13)
    assert client.get("/api/me/calendar.ics?key=wrong-key-0123456789").status_code == 404
    assert client.get("/api/me/calendar.ics").status_code == 404
    # a new key: the old link stops working
    client.post(
        "/login", data={"email": "ola@example.org", "password": PASSWORD}, follow_redirects=False
    )
    renewed = client.post(
        "/me/calendar/new?lang=en",
        data={"csrf_token": csrf_of(client, "/me/")},
        follow_redirects=True,
    )
    assert "the old one no longer works" in renewed.text
    new = re.search(r'(/api/me/calendar\.ics\?key=[^"]+)"', renewed.text)
    assert new is not None and new.group(1) != link.group(1)
    assert client.get(link.group(1)).status_code == 404
    assert client.get(new.group(1)).status_code == 200


def test_strikes_and_the_rule_in_words(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    mine = book(ctx, ola["id"], local(2, 10, 5), local(2, 11))
    with ctx.writes() as s, s.begin():
        s.add(models.NoShow(member_id=ola["id"], booking_id=mine, at=ctx.clock()))
        s.get(models.Member, ola["id"]).booking_suspended_until = ctx.clock() + timedelta(days=3)  # type: ignore[union-attr]
    page = client.get("/me/strikes?lang=en").text
    assert "After 3 no-shows within 30 days you may not book for 14 days" in page
    assert "No-shows in the last 30 days: 1 of 3." in page
    assert "You may not book until 05.03.2026 10:00" in page
    assert '<th scope="col">' in page
    refused = client.post("/me/book?lang=en", data=_book_form(ola))
    assert refused.status_code == 403 and "repeated no-shows" in refused.text


@pytest.mark.parametrize(
    ("lang", "words"),
    [("pl", "Sale i wolne godziny"), ("en", "Rooms and free hours"), ("uk", "Зали та вільні")],
)
def test_every_page_in_each_language(client, ctx, ola, lang: str, words: str) -> None:  # type: ignore[no-untyped-def]
    assert words in client.get(f"/me/rooms?lang={lang}").text
    for path in (
        "/me/",
        "/me/rooms",
        "/me/bookings",
        "/me/waitlist",
        "/me/notifications",
        "/me/calendar",
        "/me/strikes",
        "/me/book?room=sala-a&start=2026-03-03T12:00",
    ):
        page = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert page.status_code == 200, path
        assert f'<html lang="{lang}">' in page.text, path
        assert "<h1" in page.text and "style=" not in page.text and "<script" not in page.text


def test_the_member_s_own_language_unless_asked(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    with ctx.writes() as s, s.begin():
        s.get(models.Member, ola["id"]).lang = "uk"  # type: ignore[union-attr]
    assert '<html lang="uk">' in client.get("/me/bookings").text
    page = client.get("/me/rooms?day=2026-03-04&lang=en").text
    assert '<html lang="en">' in page
    # the switch keeps the page and its day
    assert 'href="/me/rooms?day=2026-03-04&amp;lang=pl"' in page


def test_waiting_for_any_room_like_it_as_the_form_proposes(client, ctx, ola) -> None:  # type: ignore[no-untyped-def]
    inna = add_member(ctx, "Inna", "inna@example.org")
    book(ctx, inna, local(3, 14), local(3, 15))
    fields = {
        "room": "sala-a",
        "start": "2026-03-03T14:00",
        "end": "2026-03-03T15:00",
        "any_similar": "on",
        "csrf_token": ola["csrf"],
    }
    assert client.post("/me/waitlist/join", data=fields, follow_redirects=False).status_code == 303
    with ctx.reads() as s:
        entry = s.scalars(select(models.WaitlistEntry)).one()
    room = ctx.site.room("sala-a")
    assert room is not None
    assert (entry.room_id, entry.kind, entry.min_capacity) == ("sala-a", room.kind, room.capacity)
