"""The policy snapshot built from the database (server.access.snapshot): its bookings' times
as the database holds them, aware and in UTC, one object for each distinct time."""

from __future__ import annotations

from datetime import UTC, timedelta

from support.factories import member

from server.access.snapshot import build_snapshot
from server.bookings.store import insert_booking
from server.context import ServerContext


def test_bookings_at_the_same_time_share_one_aware_time(ctx: ServerContext, clock) -> None:
    start = clock.now + timedelta(hours=2, microseconds=250)
    spans = {
        "sala-a": (start, start + timedelta(hours=1)),
        "sala-b": (start, start + timedelta(hours=2)),
    }
    with ctx.writes() as s, s.begin():
        anna = member(s)
        s.flush()
        for room, (begins, ends) in spans.items():
            insert_booking(
                s,
                site=ctx.site,
                room_id=room,
                member_id=anna.id,
                start=begins,
                end=ends,
                now=clock.now,
            )
    with ctx.reads() as s:
        snapshot = build_snapshot(s, ctx.site, clock.now)
    held = {b.room: b for b in snapshot.bookings}
    assert {room: (b.start, b.end) for room, b in held.items()} == spans
    assert all(b.start.tzinfo is UTC and b.end.tzinfo is UTC for b in held.values())
    assert held["sala-a"].start is held["sala-b"].start
