"""`GET /api/sites/{site}/policy`: the snapshot the server decides from, with an ETag."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from gatewire import ADMIN_TOKEN, CARDS, GATEWAY_TOKEN, KEY, SITE, Clock
from pydantic import TypeAdapter
from sqlalchemy import select, update
from support.factories import booking_row, card, member

from protocol.cards import card_hash
from protocol.policy import PolicySnapshot
from protocol.policy_wire import decode
from server.access.snapshot import build_snapshot
from server.context import ServerContext
from server.db import models
from server.db.meta import bump

PATH = f"/api/sites/{SITE}/policy"
GATEWAY = {"Authorization": f"Bearer {GATEWAY_TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_gateway_gets_the_snapshot_the_server_decides_from(api, ctx: ServerContext) -> None:
    response = api.get(PATH, headers=GATEWAY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    snapshot = PolicySnapshot.model_validate_json(response.content)
    with ctx.reads() as session:
        assert snapshot == ctx.policy.get(session, ctx.clock())
    assert card_hash(KEY, CARDS["coworker"]) in snapshot.cards
    assert "Anna" not in response.text  # no names
    assert CARDS["staff"] not in response.text  # no raw card numbers
    epoch, n = snapshot.epoch, snapshot.n
    assert response.headers["etag"].startswith(f'"{epoch}-{n}-')


def test_admin_may_read_it_too(api) -> None:
    assert api.get(PATH, headers=ADMIN).status_code == 200


def test_without_a_valid_token_401(api) -> None:
    assert api.get(PATH).status_code == 401
    assert api.get(PATH, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_another_site_404(api) -> None:
    response = api.get("/api/sites/elsewhere/policy", headers=GATEWAY)
    assert response.status_code == 404
    assert "elsewhere" in response.json()["detail"]


def test_unchanged_snapshot_is_304_without_a_body(api) -> None:
    tag = api.get(PATH, headers=GATEWAY).headers["etag"]
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        response = api.get(PATH, headers=GATEWAY | {"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == tag
    assert api.get(PATH, headers=GATEWAY | {"If-None-Match": '"e-1-1"'}).status_code == 200


def test_a_change_gives_a_new_snapshot_and_tag(api, ctx: ServerContext) -> None:
    first = api.get(PATH, headers=GATEWAY)
    with ctx.writes() as s, s.begin():
        bump(s)
    response = api.get(PATH, headers=GATEWAY | {"If-None-Match": first.headers["etag"]})
    assert response.status_code == 200
    assert response.headers["etag"] != first.headers["etag"]
    before = PolicySnapshot.model_validate_json(first.content)
    assert PolicySnapshot.model_validate_json(response.content).n == before.n + 1


def test_hourly_rebuild_of_an_unchanged_policy_gets_a_new_tag(api, server_clock: Clock) -> None:
    """The rebuilt snapshot carries a booking window moved on: a gateway must get it."""
    first = api.get(PATH, headers=GATEWAY)
    server_clock.advance(hours=2)
    response = api.get(PATH, headers=GATEWAY | {"If-None-Match": first.headers["etag"]})
    assert response.status_code == 200
    snapshot = PolicySnapshot.model_validate_json(response.content)
    assert snapshot.generated_at == server_clock.now


# -- the compact form (`?v=2`) ------------------------------------------------------------


def _with_more_of_every_kind(ctx: ServerContext, now: datetime) -> None:
    """A suspended member with a revoked card and an active one, and bookings of each
    status the doors know, one with attendees and times off the whole second."""
    with ctx.writes() as s, s.begin():
        held = member(
            s, "Olga Wrona", "ngo", suspended_until=now + timedelta(days=2, milliseconds=7)
        )
        card(s, held.id, "04E5F607", KEY)
        card(s, held.id, "04E5F608", KEY, active=False)
        guest = member(s, "Piotr Lis", "resident")
        first = booking_row(s, held.id, now + timedelta(hours=1, microseconds=123_456))
        first.attendees.append(models.BookingAttendee(member_id=guest.id))
        booking_row(s, guest.id, now - timedelta(hours=2), status="checked_in")
        booking_row(s, guest.id, now + timedelta(days=1), room_id="sala-b", status="released")
        bump(s)


def test_compact_form_reads_into_the_snapshot_an_older_gateway_reads(
    api, ctx: ServerContext, server_clock: Clock
) -> None:
    _with_more_of_every_kind(ctx, server_clock.now)
    full = api.get(PATH, headers=GATEWAY)
    compact = api.get(f"{PATH}?v=2", headers=GATEWAY)
    assert compact.status_code == 200
    assert compact.headers["content-type"] == "application/json"
    assert compact.headers["etag"] == full.headers["etag"]
    received = decode(compact.content)
    assert received == PolicySnapshot.model_validate_json(full.content)  # an older gateway
    assert received == decode(full.content)
    assert len(compact.content) < len(full.content)
    assert len(received.bookings) == 3 and len(received.cards) == 5
    with ctx.reads() as session:
        served = ctx.policy.get(session, server_clock.now)
    # the server's own snapshot, with its times to the millisecond as on the wire
    assert received == PolicySnapshot.model_validate_json(served.model_dump_json())
    assert "Olga" not in compact.text


def test_compact_form_unchanged_is_304_too(api) -> None:
    tag = api.get(f"{PATH}?v=2", headers=GATEWAY).headers["etag"]
    response = api.get(f"{PATH}?v=2", headers=GATEWAY | {"If-None-Match": tag})
    assert (response.status_code, response.content) == (304, b"")


def test_a_form_the_server_does_not_know_is_422(api) -> None:
    for form in ("3", "0", "two"):
        response = api.get(f"{PATH}?v={form}", headers=GATEWAY)
        assert response.status_code == 422, form
        assert response.json()["detail"][0]["loc"] == ["query", "v"]


def test_the_built_snapshot_is_what_validation_would_make(
    ctx: ServerContext, server_clock: Clock
) -> None:
    """The build makes its members, cards and bookings without validating
    (server.access.snapshot._Made): they equal, field for field, what validation makes of
    the same values, and read and write the same."""
    _with_more_of_every_kind(ctx, server_clock.now)
    with ctx.reads() as session:
        built = build_snapshot(session, ctx.site, server_clock.now)
    items = [*built.members.values(), *built.cards.values(), *built.bookings]
    assert len(items) == 5 + 5 + 3
    for item in items:
        adapter = TypeAdapter(type(item))
        again = adapter.validate_python(dataclasses.asdict(item))
        assert item == again
        types = [type(value) for value in dataclasses.astuple(item)]
        assert types == [type(value) for value in dataclasses.astuple(again)]
        assert adapter.dump_json(item) == adapter.dump_json(again)
    assert {b.status for b in built.bookings} == {"booked", "checked_in", "released"}
    assert any(b.attendees for b in built.bookings)


def test_a_rebuild_is_a_build_from_nothing_that_keeps_unchanged_models(
    ctx: ServerContext, server_clock: Clock
) -> None:
    now = server_clock.now
    _with_more_of_every_kind(ctx, now)
    with ctx.reads() as session:
        first = build_snapshot(session, ctx.site, now)
    revoked = card_hash(KEY, CARDS["resident"])
    with ctx.writes() as s, s.begin():
        s.execute(update(models.Card).where(models.Card.uid_hash == revoked).values(active=False))
        moved = s.scalars(select(models.Booking).where(models.Booking.status == "booked")).one()
        moved.end += timedelta(minutes=30)
        moved_id, moved_end = moved.id, moved.end
        staff = s.scalars(select(models.Member).where(models.Member.category == "staff")).one()
        staff.suspended_until = now + timedelta(days=1)
        staff_id = staff.id
        bump(s)
    with ctx.reads() as session:
        again = build_snapshot(session, ctx.site, now, first)
        fresh = build_snapshot(session, ctx.site, now)
    assert again == fresh != first
    assert not again.cards[revoked].active and first.cards[revoked].active
    assert again.members[staff_id].suspended_until == now + timedelta(days=1)
    kept = [h for h in again.cards if again.cards[h] is first.cards[h]]
    assert len(kept) == len(first.cards) - 1 and revoked not in kept
    changed = [b for b, old in zip(again.bookings, first.bookings, strict=True) if b is not old]
    assert [(b.id, b.end) for b in changed] == [(moved_id, moved_end)]
