"""What is PostgreSQL's own: writer transactions wait for each other as on SQLite (one
advisory lock); the bookings' overlap rule is the database's (migration 0008), an
exclusion constraint that refuses an overlapping booking from any writer, one that bypasses
the code included, and the API answers its refusal as it answers its own check, 409."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError
from support.database import ON_POSTGRES

from server.bookings import store
from server.context import ServerContext
from server.db import models
from server.people import members

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's constraint (SPACEHUB_TEST_DATABASE)"),
]

TEN = datetime(2026, 3, 3, 9, tzinfo=UTC)  # 10:00 in Warsaw
NOON = datetime(2026, 3, 3, 11, tzinfo=UTC)
ONE = datetime(2026, 3, 3, 12, tzinfo=UTC)
INSERT = text(
    'INSERT INTO bookings (room_id, member_id, start, "end", status, source, public, price, '
    "created_at, sequence) VALUES (:room, :member, :start, :end, :status, 'api', false, 0, "
    ":start, 0)"
)


def add_member(ctx: ServerContext) -> int:
    with ctx.writes() as session, session.begin():
        return members.create_member(session, name="Anna", category="resident").id


def raw_insert(
    conn: Connection,
    member: int,
    start: datetime,
    end: datetime,
    *,
    room: str = "sala-a",
    status: str = "booked",
) -> None:
    """An INSERT of the kind a script or another program would write: no lock, no check."""
    naive = {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)}
    conn.execute(INSERT, {"room": room, "member": member, "status": status} | naive)


def test_a_writer_waits_for_the_writer_before_it_and_readers_for_none(
    ctx: ServerContext,
) -> None:
    with ctx.writes() as first, ThreadPoolExecutor(max_workers=1) as pool:
        first.begin()
        first.execute(text("SELECT 1"))  # the transaction has begun: it holds the lock
        second = pool.submit(writer_sees_the_room_name, ctx)
        try:
            wait_for_a_wait(ctx, "Lock", "advisory")
            with ctx.reads() as reader:  # a reader does not wait
                assert reader.get(models.Room, "sala-a") is not None
            first.get(models.Room, "sala-a").name = "Renamed"  # type: ignore[union-attr]
        finally:
            first.commit()
        assert second.result(timeout=30) == "Renamed"


def writer_sees_the_room_name(ctx: ServerContext) -> str:
    with ctx.writes() as session, session.begin():
        room = session.get(models.Room, "sala-a")
        assert room is not None
        return room.name


def test_the_constraint_holds_the_statuses_that_occupy_a_room(ctx: ServerContext) -> None:
    with ctx.engine.connect() as conn:
        definition = conn.execute(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"),
            {"name": "bookings_no_overlap"},
        ).scalar_one()
    assert definition.startswith("EXCLUDE USING gist (room_id WITH =, tsrange(start, ")
    for status in store.STATUSES:
        assert (f"'{status}'" in definition) == (status in store.OCCUPYING), definition


def test_a_writer_that_bypasses_the_code_is_refused(ctx: ServerContext) -> None:
    member = add_member(ctx)
    with ctx.engine.begin() as conn:
        raw_insert(conn, member, TEN, NOON)
    for status in store.OCCUPYING:
        with pytest.raises(IntegrityError) as refused, ctx.engine.begin() as conn:
            raw_insert(conn, member, NOON.replace(minute=0, hour=10), ONE, status=status)
        assert getattr(refused.value.orig, "sqlstate", None) == store.EXCLUSION_VIOLATION
    with ctx.engine.begin() as conn:
        raw_insert(conn, member, NOON, ONE)  # touching: [10:00, 12:00) and [12:00, 13:00)
        raw_insert(conn, member, TEN, NOON, room="sala-b")  # the same time, another room
        raw_insert(conn, member, TEN, ONE, status="cancelled")  # holds no time
        raw_insert(conn, member, TEN, ONE, status="released")
    with ctx.reads() as session:
        assert session.query(models.Booking).count() == 5


def test_twenty_concurrent_raw_inserts_of_one_slot_one_wins(ctx: ServerContext) -> None:
    people = [add_member(ctx) for _ in range(20)]

    def attempt(member: int) -> str:
        try:
            with ctx.engine.begin() as conn:
                raw_insert(conn, member, TEN, NOON)
        except IntegrityError:
            return "refused"
        return "booked"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, people))
    assert sorted(outcomes) == ["booked"] + ["refused"] * 19
    with ctx.reads() as session:
        assert len(store.list_bookings(session, room_id="sala-a")) == 1


def test_the_constraints_refusal_is_a_409(
    client: TestClient, admin: dict[str, str], ctx: ServerContext
) -> None:
    """Another program's booking, not yet committed, is invisible to the API's own overlap
    check; the API's insert waits for it, and is refused by the constraint when it commits."""
    member_id = add_member(ctx)
    body = {
        "room_id": "sala-a",
        "member_id": member_id,
        "start": "2026-03-03T10:00:00+01:00",
        "end": "2026-03-03T12:00:00+01:00",
    }
    with ctx.engine.connect() as other:
        transaction = other.begin()
        raw_insert(other, member_id, TEN, NOON)
        with ThreadPoolExecutor(max_workers=1) as pool:
            response = pool.submit(client.post, "/api/bookings", json=body, headers=admin)
            try:
                wait_for_a_wait(ctx, "Lock", "transactionid", "INSERT INTO bookings")
            finally:
                transaction.commit()
            answer: Any = response.result(timeout=30)
    assert answer.status_code == 409, answer.text
    assert answer.json() == {
        "detail": "room sala-a is already booked between 2026-03-03T09:00:00Z "
        "and 2026-03-03T11:00:00Z"
    }
    with ctx.reads() as session:
        assert len(store.list_bookings(session, room_id="sala-a")) == 1


def wait_for_a_wait(ctx: ServerContext, kind: str, event: str, query: str = "") -> None:
    """Wait until a session of the database waits for a lock (`kind`, `event`: as
    pg_stat_activity says), while running a statement that begins with `query`."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = :kind AND wait_event = :event AND query LIKE :query"
    )
    with ctx.engine.connect() as conn:
        for _ in range(1000):
            if conn.execute(waiting, {"kind": kind, "event": event, "query": f"{query}%"}).scalar():
                return
            conn.rollback()  # a new snapshot of pg_stat_activity
            time.sleep(0.01)
    raise AssertionError(f"no session waited for a {event} lock")
