"""Two sites on one database, as two sites' servers see it over HTTP: each lists and
shows its own site's rows only (bookings, taps, alerts, waitlist, offers, dead letters,
reports), and an account bound to one site signs in and acts at that site only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from support.factories import booking_row, member
from support.signin import bearer_of, make_user, sign_in, sign_in_with_token

from protocol import topics
from server.adapters.dead_letters import DeadLetterBox
from server.bookings import member_calendar
from server.context import ServerContext
from server.db import models
from server.people.sessions import COOKIE, digest, issue

pytestmark = pytest.mark.unit

PASSWORD = "correct horse battery"
HOUR = timedelta(hours=1)


# -- rows of both sites -----------------------------------------------------------------

SITES = {
    # site: (a bookable room, a door device, its door, the member named there)
    "piaseczno": ("sala-a", "reader-main", "main", "Ala Piaseczyńska"),
    "konstancin": ("kon-sala", "reader-kon-main", "kon-main", "Kasia Konstancińska"),
}


def _rows_of_both(ctx: ServerContext) -> dict[str, dict[str, int]]:
    """A booking, a tap, an alert, two waitlist entries (one for the room, and one of a
    network member for any room of its kind, the same at both), an offer and a dead letter
    at each site; their ids by site."""
    now = ctx.clock()
    ids: dict[str, dict[str, int]] = {}
    with ctx.writes() as s, s.begin():
        anyone = member(s, "Nina Sieciowa").id
        for site, (room, device, door, name) in SITES.items():
            who = member(s, name)
            booking = booking_row(s, who.id, now + 2 * HOUR, room_id=room, status="booked")
            entry = models.WaitlistEntry(
                site_id=site,
                member_id=who.id,
                room_id=room,
                start=now + 3 * HOUR,
                end=now + 4 * HOUR,
            )
            any_room = models.WaitlistEntry(
                site_id=site,
                member_id=anyone,
                kind="meeting",
                start=now + 5 * HOUR,
                end=now + 6 * HOUR,
            )
            s.add_all(
                [
                    entry,
                    any_room,
                    models.AccessEvent(
                        device_id=device,
                        event_id=f"tap-{site}",
                        door_id=door,
                        received=now,
                        member_id=who.id,
                        granted=True,
                    ),
                    models.Alert(kind="door_forced", device_id=device, created_at=now),
                ]
            )
            s.flush()
            offer = models.Offer(
                waitlist_id=entry.id,
                member_id=who.id,
                room_id=room,
                start=now + 3 * HOUR,
                end=now + 4 * HOUR,
                expires_at=now + HOUR,
                created_at=now,
            )
            s.add(offer)
            s.flush()
            ids[site] = {"member": who.id, "booking": booking.id, "entry": entry.id}
            ids[site] |= {"offer": offer.id, "any": any_room.id}
    for site, (_, device, _, _) in SITES.items():
        DeadLetterBox(ctx.writes, ctx.card_key)(
            topic=topics.door_event(site, device),
            payload=b"{}",
            device_id=device,
            error=f"broken at {site}",
            attempts=3,
            received=now,
        )
    return ids


def _ids(client: TestClient, path: str, headers: dict[str, str], key: str = "id") -> set[Any]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return {row[key] for row in response.json()}


@pytest.mark.parametrize("site", ["piaseczno", "konstancin"])
def test_each_sites_lists_hold_its_own_rows_only(ctx, kon, serve, admin, site):
    ids = _rows_of_both(ctx)
    here, there = (ctx, kon) if site == "piaseczno" else (kon, ctx)
    other = next(s for s in SITES if s != site)
    room, device, _, name = SITES[site]
    client = serve(here)

    assert {b["room_id"] for b in client.get("/api/bookings", headers=admin).json()} == {room}
    assert _ids(client, "/api/access-events", admin, "device") == {device}
    assert _ids(client, "/api/alerts", admin, "device_id") == {device}
    assert _ids(client, "/api/waitlist", admin) == {ids[site]["entry"], ids[site]["any"]}
    assert _ids(client, "/api/offers", admin) == {ids[site]["offer"]}
    letters = client.get("/api/dead-letters?status=all", headers=admin).json()
    assert [letter["error"] for letter in letters] == [f"broken at {site}"]
    rooms = client.get("/api/reports/utilisation", headers=admin).json()["weeks"][0]["rooms"]
    assert {r["room_id"] for r in rooms} == {r.id for r in here.site.rooms if r.bookable}

    # another site's booking, entry (even one for any room of a kind), offer or alert is
    # none here, to see or to change
    theirs = ids[other]
    for path in (
        f"/api/bookings/{theirs['booking']}",
        f"/api/waitlist/{theirs['entry']}",
        f"/api/waitlist/{theirs['any']}",
        f"/api/offers/{theirs['offer']}",
    ):
        assert client.get(path, headers=admin).status_code == 404, path
    for method, path in (
        ("POST", f"/api/bookings/{theirs['booking']}/cancel"),
        ("POST", f"/api/bookings/{theirs['booking']}/release"),
        ("DELETE", f"/api/waitlist/{theirs['entry']}"),
        ("DELETE", f"/api/waitlist/{theirs['any']}"),
        ("POST", f"/api/offers/{theirs['offer']}/accept"),
    ):
        assert client.request(method, path, headers=admin).status_code == 404, path
    with there.reads() as s:
        assert s.get(models.Booking, theirs["booking"]).status == "booked"  # type: ignore[union-attr]
        for entry_id in (theirs["entry"], theirs["any"]):
            assert s.get(models.WaitlistEntry, entry_id).status == "waiting"  # type: ignore[union-attr]
        assert s.get(models.Offer, theirs["offer"]).status == "offered"  # type: ignore[union-attr]
        alert_ids = {a.device_id: a.id for a in s.scalars(select(models.Alert))}
    their_alert = alert_ids[SITES[other][1]]
    assert client.post(f"/api/alerts/{their_alert}/ack", headers=admin).status_code == 404
    assert client.post(f"/api/alerts/{alert_ids[device]}/ack", headers=admin).status_code == 200
    assert client.get(f"/api/waitlist/{ids[site]['any']}", headers=admin).status_code == 200

    # and the pages say the same
    sign_in_with_token(client)
    other_name = SITES[other][3]
    log = client.get("/reception/access-log").text
    assert name in log and other_name not in log
    waiting = client.get("/reception/waitlist").text  # (its form offers every member)
    listed = [n for n in (name, other_name, "Nina Sieciowa") if f'"vh">: {n},' in waiting]
    assert listed == [name, "Nina Sieciowa"]
    letters_page = client.get("/reception/dead-letters").text
    assert f"broken at {site}" in letters_page and f"broken at {other}" not in letters_page
    feed = client.get("/dashboard/fragments/feed").text
    assert name in feed and other_name not in feed


def test_a_room_of_another_site_cannot_be_booked_or_waited_for_here(ctx, kon, serve, admin):
    client = serve(ctx)
    who = client.post(
        "/api/members", json={"name": "Ala", "category": "resident"}, headers=admin
    ).json()
    start = ctx.clock() + 2 * HOUR
    asked = {"room_id": "kon-sala", "member_id": who["id"]}
    asked |= {"start": start.isoformat(), "end": (start + HOUR).isoformat()}

    booked = client.post("/api/bookings", json=asked, headers=admin)
    waiting = client.post("/api/waitlist", json=asked, headers=admin)

    # refused as a room the site does not have is (422), and nothing written
    assert booked.status_code == 422 and "unknown room 'kon-sala'" in booked.text
    assert waiting.status_code == 422 and "room 'kon-sala' does not exist" in waiting.text
    with ctx.reads() as s:
        assert s.scalars(select(models.Booking)).all() == []
        assert s.scalars(select(models.WaitlistEntry)).all() == []


def test_a_member_sees_their_bookings_at_this_site_on_its_server(ctx, kon, serve):
    now = ctx.clock()
    with ctx.writes() as s, s.begin():
        who = member(s, "Ewa Sieciowa", email="ewa@example.org")
        for room in ("sala-a", "kon-sala"):
            booking_row(s, who.id, now + 2 * HOUR, room_id=room, status="booked", title=room)
        key = member_calendar.calendar_key(s, member_id=who.id)
    user = make_user(ctx, "member", "ewa.konto@example.org", member_id=who.id)
    token = bearer_of(ctx, user.id)
    for context, room, elsewhere in ((ctx, "sala-a", "kon-sala"), (kon, "kon-sala", "sala-a")):
        client = serve(context)
        listed = client.get("/api/bookings", headers=token).json()
        assert [b["room_id"] for b in listed] == [room]
        feed = client.get(f"/api/me/calendar.ics?key={key}").text
        assert f"SUMMARY:{room}" in feed and f"SUMMARY:{elsewhere}" not in feed


# -- staff per site -----------------------------------------------------------------------


def _staff_of_konstancin(kon: ServerContext, serve: Any, admin: dict[str, str]) -> int:
    """A staff account made at Konstancin's server (bound there by default)."""
    made = serve(kon).post(
        "/api/users",
        json={"email": "kasia@example.org", "name": "Kasia", "role": "staff", "password": PASSWORD},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    assert made.json()["site_id"] == "konstancin"
    return made.json()["id"]  # type: ignore[no-any-return]


def test_staff_bound_to_one_site_cannot_sign_in_at_another(ctx, kon, serve, admin):
    user_id = _staff_of_konstancin(kon, serve, admin)
    login = {"email": "kasia@example.org", "password": PASSWORD}

    refused = serve(ctx).post("/api/auth/login", json=login)
    assert refused.status_code == 403
    assert "konstancin" in refused.json()["detail"]
    assert COOKIE not in refused.cookies

    page = serve(ctx).post("/login?lang=en", data=login, follow_redirects=False)
    assert page.status_code == 403
    assert "works at the site konstancin only" in page.text and 'role="alert"' in page.text
    polish = serve(ctx).post("/login", data=login, follow_redirects=False)
    assert polish.status_code == 403 and "tylko w placówce konstancin" in polish.text

    with ctx.reads() as s:
        sessions = s.scalars(
            select(models.AuthSession).where(models.AuthSession.user_id == user_id)
        )
        assert list(sessions) == []

    at_home = serve(kon)
    sign_in(at_home, "kasia@example.org", PASSWORD)
    assert at_home.get("/api/bookings").status_code == 200


def test_a_bound_accounts_token_link_and_session_work_at_its_site_only(ctx, kon, serve, admin):
    user_id = _staff_of_konstancin(kon, serve, admin)
    token = bearer_of(kon, user_id)
    now = ctx.clock()
    with ctx.writes() as s, s.begin():
        cookie, _ = issue(s, user_id=user_id, role="staff", now=now, client="test")
        s.add(
            models.SignInLink(
                user_id=user_id,
                token_hash=digest("link-secret"),
                created_at=now,
                expires_at=now + timedelta(minutes=15),
            )
        )

    here = serve(ctx)
    assert here.get("/api/bookings", headers=token).status_code == 403
    here.cookies.set(COOKIE, cookie)
    assert here.get("/api/bookings").status_code == 403
    page = here.get("/?lang=en")
    assert page.status_code == 403 and "konstancin" in page.text
    here.cookies.clear()
    link = here.get("/auth/magic?token=link-secret&lang=uk", follow_redirects=False)
    assert link.status_code == 403 and "осередку konstancin" in link.text

    there = serve(kon)
    assert there.get("/api/bookings", headers=token).status_code == 200
    assert there.get("/auth/magic?token=link-secret", follow_redirects=False).status_code == 303


def test_an_unbound_administrator_works_at_every_site(ctx, kon, serve, admin):
    made = serve(ctx).post(
        "/api/users",
        json={"email": "boss@example.org", "name": "Boss", "role": "admin", "password": PASSWORD},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["site_id"] is None
    token = bearer_of(ctx, made.json()["id"])
    for context in (ctx, kon):
        client = serve(context)
        sign_in(client, "boss@example.org", PASSWORD)
        assert client.get("/api/users").status_code == 200
        client.cookies.clear()
        assert client.get("/api/alerts", headers=token).status_code == 200


def test_administrators_set_an_accounts_site(ctx, kon, serve, admin):
    user_id = _staff_of_konstancin(kon, serve, admin)
    client = serve(ctx)

    def patch(body: dict[str, Any]) -> Any:
        return client.patch(f"/api/users/{user_id}", json=body, headers=admin)

    assert patch({"site_id": None}).json()["site_id"] is None  # every site
    assert patch({"name": "Kasia K."}).json()["site_id"] is None  # unchanged when not given
    assert patch({"site_id": "piaseczno"}).json()["site_id"] == "piaseczno"
    unknown = patch({"site_id": "nowhere"})
    assert unknown.status_code == 422 and "nowhere" in unknown.text
    member_bound = patch({"role": "member", "member_id": None, "site_id": "piaseczno"})
    assert member_bound.status_code == 422
    assert client.get(f"/api/users/{user_id}", headers=admin).json()["site_id"] == "piaseczno"
    staff_anywhere = client.post(
        "/api/users",
        json={"email": "net@example.org", "name": "Net", "role": "staff", "site_id": None},
        headers=admin,
    )
    assert staff_anywhere.status_code == 201 and staff_anywhere.json()["site_id"] is None
    member = client.post(
        "/api/users",
        json={
            "email": "m@example.org",
            "name": "M",
            "role": "member",
            "category": "resident",
            "site_id": "konstancin",
        },
        headers=admin,
    )
    assert member.status_code == 422


def test_the_account_pages_set_an_accounts_site(ctx, kon, serve, admin):
    staff = make_user(ctx, "staff", "ola@example.org")
    client = serve(ctx)
    csrf = sign_in_with_token(client)["X-CSRF-Token"]

    page = client.get(f"/reception/accounts/{staff.id}?lang=en").text
    assert '<label for="e-site">Site</label>' in page
    assert '<option value="konstancin">' in page
    form = {"csrf_token": csrf, "name": "ola", "email": "ola@example.org", "role": "staff"}
    saved = client.post(f"/reception/accounts/{staff.id}", data=form | {"site_id": "konstancin"})
    assert saved.status_code == 200  # followed to the list
    with ctx.reads() as s:
        assert s.get(models.User, staff.id).site_id == "konstancin"  # type: ignore[union-attr]
    bad = client.post(f"/reception/accounts/{staff.id}?lang=en", data=form | {"site_id": "x"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text

    made = client.post(
        "/reception/accounts",
        data={"csrf_token": csrf, "name": "Piotr", "email": "piotr@example.org", "role": "staff"}
        | {"site_id": ""},
    )
    assert made.status_code == 200
    with ctx.reads() as s:
        new = s.scalar(select(models.User).where(models.User.email == "piotr@example.org"))
        assert new is not None and new.site_id == "piaseczno"  # the role's default here

    # staff manage member accounts only: no site field for them
    helper = make_user(ctx, "staff", "desk@example.org")
    with ctx.writes() as s, s.begin():
        s.get(models.User, helper.id).site_id = "piaseczno"  # type: ignore[union-attr]
    client.cookies.clear()
    sign_in(client, "desk@example.org", PASSWORD)
    assert 'name="site_id"' not in client.get("/reception/accounts").text
