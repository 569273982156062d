"""The reception desk's bookings pages: a room's day and week with names and local times,
booking with attendees and a weekly repeat, refusals in the reader's language, and cancel,
release and end early after a confirmation, each audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from support.signin import csrf_of, sign_in_with_token

from server.bookings import rules
from server.context import ServerContext
from server.db import models
from server.people import members

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

Headers = dict[str, str]
WARSAW = ZoneInfo("Europe/Warsaw")


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WARSAW).astimezone(UTC)


def add_member(ctx: ServerContext, name: str) -> int:
    with ctx.writes() as s, s.begin():
        return members.create_member(s, name=name, category="ngo").id


def book(ctx: ServerContext, member_id: int, start: datetime, end: datetime, **kw: Any) -> int:
    with ctx.writes() as s, s.begin():
        asked = rules.BookingRequest(
            room_id="sala-a", member_id=member_id, start=start, end=end, **kw
        )
        return rules.create_booking(s, site=ctx.site, request=asked, now=ctx.clock()).id


def bookings(ctx: ServerContext) -> list[models.Booking]:
    with ctx.reads() as s:
        return list(s.scalars(select(models.Booking).order_by(models.Booking.start)))


def audit_actions(ctx: ServerContext) -> list[tuple[str, str | None]]:
    with ctx.reads() as s:
        rows = s.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id))
        return [(e.action, e.target) for e in rows]


def rows_of(html: str) -> list[str]:
    """The text of each booking row of a schedule, tags dropped, spaces squeezed."""
    found = re.findall(r'<tr id="booking-\d+">(.*?)</tr>', html, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in found]


def test_the_week_and_the_day_show_names_and_local_times_across_a_dst_change(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    anna = add_member(ctx, "Anna Kowalska")
    ola = add_member(ctx, "Ola Nowak")
    # 10:00 on the wall clock both times: 09:00 UTC before the change on 29 March, 08:00 after
    book(ctx, anna, local(25, 10), local(25, 12), title="Próba chóru", attendees=[ola])
    book(ctx, ola, local(29, 10), local(29, 11, 30))
    week = client.get("/reception/bookings?room=sala-a&day=2026-03-27&view=week", headers=admin)
    assert week.status_code == 200
    assert rows_of(week.text) == [
        "10:00–12:00 Anna Kowalska Próba chóru zarezerwowana 1 Anuluj rezerwację"
        " : Anna Kowalska, 10:00–12:00 Zwolnij salę teraz : Anna Kowalska, 10:00–12:00",
        "10:00–11:30 Ola Nowak – zarezerwowana 0 Anuluj rezerwację : Ola Nowak, 10:00–11:30 "
        "Zwolnij salę teraz : Ola Nowak, 10:00–11:30",
    ]
    assert "śr. 25.03.2026" in week.text and "niedz. 29.03.2026" in week.text
    day = client.get("/reception/bookings?room=sala-a&day=2026-03-29&lang=en", headers=admin)
    assert [r.split(" Cancel")[0] for r in rows_of(day.text)] == [
        "10:00–11:30 Ola Nowak – booked 0"
    ]
    assert 'href="?room=sala-a&amp;day=2026-03-28&amp;view=day&amp;lang=en" rel="prev"' in day.text
    assert 'href="?room=sala-a&amp;day=2026-03-30&amp;view=day&amp;lang=en" rel="next"' in day.text
    assert '<th scope="col">Booked by</th>' in day.text
    book(ctx, anna, local(30, 23), local(31, 1))  # into Tuesday: shown on Tuesday too
    tuesday = client.get("/reception/bookings?room=sala-a&day=2026-03-31&lang=pl", headers=admin)
    assert [r.split(" Anuluj")[0] for r in rows_of(tuesday.text)] == [
        "23:00–01:00 Anna Kowalska – zarezerwowana 0"
    ]


def form(**fields: Any) -> dict[str, Any]:
    return {
        "room": "sala-a",
        "day": "2026-03-04",
        "start": "18:00",
        "end": "20:00",
        "title": "Spotkanie NGO",
        "weeks": "",
        "until": "",
        "csrf_token": "",
    } | fields


def test_a_weekly_booking_with_attendees_makes_one_booking_a_week(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    holder = add_member(ctx, "Fundacja Źródło")
    guests = [add_member(ctx, "Jan"), add_member(ctx, "Ewa")]
    page = client.get("/reception/bookings/new?room=sala-a&day=2026-03-04", headers=admin)
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    assert '<label for="f-holder">' in page.text and "Fundacja Źródło" in page.text
    sent = form(holder=str(holder), attendees=[str(g) for g in guests], weeks="5")
    done = client.post("/reception/bookings/new", data=sent, headers=admin, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == (
        "/reception/bookings?room=sala-a&day=2026-03-04&view=week&done=created&n=5"
    )
    made = bookings(ctx)
    assert len(made) == 5 and len({b.series_id for b in made}) == 1
    # the wall clock stays at 18:00 across the change to summer time on 29 March
    assert [b.start.astimezone(WARSAW).strftime("%d.%m %H:%M") for b in made] == [
        "04.03 18:00",
        "11.03 18:00",
        "18.03 18:00",
        "25.03 18:00",
        "01.04 18:00",
    ]
    assert all(sorted(b.attendee_ids) == guests for b in made)
    assert audit_actions(ctx) == [("booking.create", str(made[0].id))]
    shown = client.get(done.headers["location"], headers=admin)
    assert "Zarezerwowano (liczba rezerwacji: 5)." in shown.text


def test_a_repeat_until_a_day_counts_the_weeks_to_it(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    holder = add_member(ctx, "Anna")
    sent = form(holder=str(holder), until="2026-03-19")
    assert client.post("/reception/bookings/new", data=sent, headers=admin).status_code == 200
    assert len(bookings(ctx)) == 3  # 4, 11 and 18 March


@pytest.mark.parametrize(
    ("fields", "says", "status"),
    [
        ({"start": "09:00", "end": "11:00"}, "Sala jest już zarezerwowana w tym czasie", 409),
        (
            {"weeks": "3", "start": "11:00", "end": "13:00"},
            "Tygodnie kolidujące z innymi rezerwacjami: 1 (04.03 11:00–13:00)",
            409,
        ),
        ({"day": "2026-03-01"}, "Początek jest w przeszłości.", 422),
        ({"end": "17:00"}, "Koniec musi być po początku.", 422),
        ({"start": "late"}, "Podaj dzień oraz godzinę", 422),
        ({"weeks": "2", "until": "2026-03-30"}, "nie oba naraz", 422),
        ({"weeks": "40"}, "od 1 do 26", 422),
    ],
)
def test_a_refused_booking_says_why_in_polish_keeps_the_form_and_books_nothing(
    client: TestClient,
    admin: Headers,
    ctx: ServerContext,
    fields: dict[str, str],
    says: str,
    status: int,
) -> None:
    holder = add_member(ctx, "Anna Kowalska")
    existing = book(ctx, holder, local(4, 10), local(4, 12))
    sent = form(**({"holder": str(holder)} | fields))
    page = client.post("/reception/bookings/new", data=sent, headers=admin)
    assert page.status_code == status
    assert re.search(r'role="alert">.*' + re.escape(says), page.text)
    assert 'value="Spotkanie NGO"' in page.text  # the form is kept filled in
    assert f'<option value="{holder}" selected>' in page.text
    assert [b.id for b in bookings(ctx)] == [existing]
    assert audit_actions(ctx) == []


def test_a_suspended_member_is_refused_in_english(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    holder = add_member(ctx, "Anna")
    with ctx.writes() as s, s.begin():
        member = s.get(models.Member, holder)
        assert member is not None
        member.suspended_until = ctx.clock() + timedelta(days=7)
    page = client.post(
        "/reception/bookings/new?lang=en", data=form(holder=str(holder)), headers=admin
    )
    assert page.status_code == 403
    assert "This member is suspended and may not book." in page.text
    assert "suspended until" not in page.text  # the domain's English is not shown raw
    assert bookings(ctx) == []


@pytest.mark.parametrize(
    ("action", "status_before", "after", "stamp"),
    [
        ("cancel", "booked", "cancelled", "cancelled_at"),
        ("release", "booked", "released", "released_at"),
        ("end", "checked_in", "completed", "completed_at"),
    ],
)
def test_cancel_release_and_end_early_after_a_confirmation_are_audited(
    client: TestClient,
    admin: Headers,
    ctx: ServerContext,
    clock: FakeClock,
    action: str,
    status_before: str,
    after: str,
    stamp: str,
) -> None:
    holder = add_member(ctx, "Anna Kowalska")
    booking_id = book(ctx, holder, clock.now, clock.now + timedelta(hours=2))
    if status_before == "checked_in":
        with ctx.writes() as s, s.begin():
            row = s.get(models.Booking, booking_id)
            assert row is not None
            row.status = "checked_in"
    clock.advance(minutes=30)
    path = f"/reception/bookings/{booking_id}/{action}"
    confirm = client.get(path, headers=admin)
    assert confirm.status_code == 200
    assert f'<form method="post" action="{path}?lang=None"' not in confirm.text
    assert f'action="{path}?lang=' in confirm.text and "Anna Kowalska" in confirm.text
    assert bookings(ctx)[0].status == status_before  # asking changes nothing
    done = client.post(path, data={"csrf_token": ""}, headers=admin, follow_redirects=False)
    assert done.status_code == 303
    assert f"done={action}" in done.headers["location"]
    (row,) = bookings(ctx)
    assert row.status == after and getattr(row, stamp) == clock.now
    if action == "end":
        assert row.end == clock.now
    assert audit_actions(ctx) == [(f"booking.{action}", str(booking_id))]
    again = client.post(path, data={"csrf_token": ""}, headers=admin)
    assert again.status_code == 409
    assert "Niczego nie zmieniono." in again.text and 'role="alert"' in again.text
    assert len(audit_actions(ctx)) == 1


def test_a_form_posted_with_the_session_cookie_needs_its_csrf_token(
    client: TestClient, ctx: ServerContext
) -> None:
    holder = add_member(ctx, "Fundacja Źródło")
    sent = form(holder=str(holder))
    other = TestClient(client.app)
    sign_in_with_token(other)
    theirs = csrf_of(other, "/reception/bookings/new")
    sign_in_with_token(client)
    ours = csrf_of(client, "/reception/bookings/new")
    for given in ("", "wrong", theirs):  # another session's token is no better
        refused = client.post("/reception/bookings/new", data=sent | {"csrf_token": given})
        assert refused.status_code == 403, given
    assert bookings(ctx) == []
    done = client.post(
        "/reception/bookings/new", data=sent | {"csrf_token": ours}, follow_redirects=False
    )
    assert done.status_code == 303 and len(bookings(ctx)) == 1


def test_a_signed_in_browser_gets_the_pages_with_its_forms_token(
    client: TestClient, ctx: ServerContext
) -> None:
    token = ctx.settings.admin_token
    assert client.get(f"/login?token={token}", follow_redirects=False).status_code == 303
    page = client.get("/reception/bookings/new")
    assert page.status_code == 200
    # every form of the page (the booking's, signing out) carries the session's token
    values = set(re.findall(r'name="csrf_token" value="([^"]*)"', page.text))
    assert values == {csrf_of(client, "/reception/bookings/new")}
    # the pages' navigation, the page itself marked
    assert '<a href="/reception/bookings" aria-current="page">Rezerwacje</a>' in page.text
