"""Two server replicas on one PostgreSQL and one Mosquitto, splitting the doors' and the
sensors' messages through shared subscriptions: 2,000 taps (each decision answered with the
door's Result) and 500 sensor events, one replica killed with SIGKILL in the middle and
started again. Every tap and event is recorded exactly once and answered at most once, the
Results recorded whichever replica they reach, what the broker queued for the dead replica
is applied once it is back, every no-show is released exactly once (the periodic jobs move
to the other replica), no booking is checked in twice, and a dashboard on one replica hears
the other's taps (docs/architecture.md, Several replicas)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from procs import ADMIN_TOKEN, Proc, query, wait_synced, wait_until
from stream import Stream, sensor_rows
from support.database import ON_POSTGRES

from spacehub.broker import mosquitto_path

pytestmark = [
    pytest.mark.mosquitto,
    pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed"),
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="replicas share one PostgreSQL database: set SPACEHUB_TEST_DATABASE "
        "(e.g. `.ci/postgres pytest tests/faults/test_replicas.py`)",
    ),
]

STAFF, HOLDER, ABSENT, UNKNOWN = "04A1B2C3", "04C3D4E5", "04D4E5F6", "0DEADBEEF0"
GRACE_S = 2
SLOT_S = 4  # back-to-back bookings this long, in each of sala-a and sala-b
SLOTS = 5
DOWN_S = 3.0  # longer than a door's wait: the taps queued for the dead replica expire
LEADS = "now runs the periodic jobs"
RELEASED = "SELECT id FROM bookings WHERE status = 'released'"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class Dashboard:
    """A staff dashboard's live stream (`GET /api/stream`) on one replica: the tap ids of
    the `access` events it heard."""

    def __init__(self, url: str) -> None:
        self.heard: set[str] = set()
        self.ready = threading.Event()
        self._client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=None
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.ready.wait(10), "the dashboard's stream did not begin"

    def _read(self) -> None:
        kind = None
        try:
            with self._client.stream("GET", "/api/stream") as response:
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        kind = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        self.ready.set()  # the snapshot: live events follow
                        if kind == "access":
                            self.heard.add(json.loads(line.removeprefix("data: "))["id"])
        except httpx.HTTPError:
            pass  # the replica went away at the end of the test

    def close(self) -> None:
        self._client.close()


def this_run(proc: Proc) -> str:
    """A process's output since its latest start."""
    return proc.log_path.read_text(errors="replace").rsplit(f"start #{proc.starts} =====", 1)[-1]


def access_rows(db: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every access-log row by its tap's id: (by, booking_id, the door's Result's applied)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    sql = "SELECT event_id, by, booking_id, result_applied FROM access_events"
    for event_id, by, booking_id, applied in query(db, sql):
        rows.setdefault(event_id, []).append((by, booking_id, applied))
    return rows


def by_booking(db: str, sql: str) -> dict[int, int]:
    return {booking: n for booking, n in query(db, sql)}


def test_two_replicas_split_the_stream_and_a_killed_one_loses_nothing(processes, broker, wires):
    access = {"no_show_grace": f"{GRACE_S}s", "early_entry": "15m"}
    a = processes.server(instance="a", **access)
    wait_until(lambda: LEADS in a.log_tail(400), 10, "replica a running the periodic jobs")
    b = processes.server(instance="b", database=a.database, **access)
    db = a.database
    api = processes.api(b)  # b stays up throughout
    api.member("Ewa Nowak", "staff", STAFF)
    holder = api.member("Jan Zieliński", "resident", HOLDER)
    absent = api.member("Olena Kowal", "ngo", ABSENT)
    wire = wires(broker.url, name="devices", doors=True)  # each decision's Result sent back
    wire.door_statuses()
    wait_synced(db)

    first = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    kept, missed = [], []
    for k in range(SLOTS):
        start = first + timedelta(seconds=k * SLOT_S)
        span = {"start": iso(start), "end": iso(start + timedelta(seconds=SLOT_S))}
        booking = {"room_id": "sala-a", "member_id": holder, **span}
        kept.append(api.post("/api/bookings", booking)["id"])
        booking = {"room_id": "sala-b", "member_id": absent, **span}
        missed.append(api.post("/api/bookings", booking)["id"])
    dashboard = Dashboard(b.url)

    # The taps go round the doors: staff at the entrance and the coworking room, the
    # holder at sala-a (each booking checked in by the first tap in its time), an unknown
    # card at sala-b (whose bookings nobody comes to); the sensors outside both rooms (their
    # motion would check a booking in).
    stream = Stream(
        wire,
        sensor_events=500,
        taps=2000,
        rate=60.0,  # with each decision's Result, what one writer lock takes with room to spare
        cards=(STAFF, HOLDER, UNKNOWN, STAFF),
        sensors=("pir-cowork", "counter-main"),
    )
    try:
        stream.start()
        began = time.monotonic()
        wait_until(lambda: stream.progress >= stream.total // 3, 20, "a third of the stream sent")
        killed_at = time.monotonic()
        a.kill()  # the replica running the periodic jobs
        wait_until(lambda: LEADS in b.log_tail(400), 10, "replica b taking the periodic jobs")
        time.sleep(DOWN_S)
        a.start()
        a.wait_healthy()
        # Back, it goes through what the broker queued for it while it was away (taps
        # that expired) before the taps the broker hands it now: those wait behind them.
        caught_up = "door path: backlog applied"
        wait_until(lambda: caught_up in this_run(a), 30, "a's backlog applied", every=0.1)
        back_at = time.monotonic()
        stream.join(60)
        ended = time.monotonic()
        wire.settle(30)

        def all_in() -> bool:
            taps = len(access_rows(db))
            return sensor_rows(db)[1] >= stream.sensor_events and taps >= len(stream.tap_ids)

        wait_until(all_in, 30, "every tap and sensor event recorded", every=0.25)
        absent_released = f"{RELEASED} AND member_id = {absent}"
        wait_until(lambda: len(query(db, absent_released)) == SLOTS, 15, "every no-show released")
    finally:
        dashboard.close()

    # Every sensor event and every tap recorded exactly once.
    rows, distinct = sensor_rows(db)
    assert (rows, distinct) == (stream.sensor_events, stream.sensor_events)
    log = access_rows(db)
    assert set(log) == set(stream.tap_ids)
    assert all(len(found) == 1 for found in log.values())

    # Answered at most once, and a tap is answered exactly when its row says the server
    # decided it; the others were recorded expired (their door had stopped waiting).
    # Before the kill every tap was answered. Expired after it: what was queued for the
    # dead replica or under way there, and what the broker handed it behind that backlog
    # (or the other replica, sharing the writer lock with that catch-up, took too long for).
    expired, wrong = [], []
    for tap in stream.tap_ids:
        heard = wire.decisions(tap)
        by = log[tap][0][0]
        sent = stream.tap_sent[tap]
        assert len(heard) <= 1, f"tap {tap} answered {len(heard)} times"
        if sent < killed_at - 1.0 and not (by == "server" and heard):
            wrong.append(f"{sent - began:.2f} s: {log[tap]}, {len(heard)} heard")
        elif not killed_at - 1.0 <= sent <= killed_at:  # around the kill: either may be
            assert (by == "server") == bool(heard), (tap, sent - began, log[tap], heard)
        assert by in ("server", "expired"), (tap, log[tap])
        if by == "expired":
            expired.append(tap)
    assert not wrong, f"{len(wrong)} taps not answered before the kill: " + "; ".join(wrong[:9])
    # The door's Result of each tap answered before the kill is recorded on the tap's row,
    # whichever replica the Result reached (it may come before the other commits the tap).
    before = [t for t in stream.tap_ids if stream.tap_sent[t] < killed_at - 1.0]
    no_result = [t for t in before if log[t][0][2] != "server"]
    assert not no_result, f"{len(no_result)} Results not recorded, e.g. {no_result[:3]}"
    assert expired, "no tap was queued for the killed replica"
    during = [t for t, at in stream.tap_sent.items() if killed_at + 0.5 < at < killed_at + DOWN_S]
    assert any(log[t][0][0] == "server" for t in during), "the other replica answered nothing"
    after = [t for t, at in stream.tap_sent.items() if at > back_at]
    assert not after or any(log[t][0][0] == "server" for t in after), "none answered after"

    # No booking checked in twice: each of the holder's checked in by one tap (the first
    # certainly, before the kill), or, when none of the holder's taps in its time was
    # answered (they waited too long, see above), released; a walk-in the holder took
    # after the last one, if any, by one tap too. Every release once: one strike, one
    # notice; every no-show released.
    checked_in = by_booking(
        db,
        "SELECT booking_id, COUNT(*) FROM access_events WHERE booking_id IS NOT NULL "
        "GROUP BY booking_id",
    )
    assert set(checked_in.values()) == {1}, checked_in
    assert checked_in.get(kept[0]) == 1
    for booking in kept:
        status = api.get(f"/api/bookings/{booking}")["status"]
        taps = checked_in.get(booking, 0)
        assert (status, taps) in (("checked_in", 1), ("completed", 1), ("released", 0))
    released = {booking for (booking,) in query(db, RELEASED)}
    assert set(missed) <= released
    strikes = by_booking(db, "SELECT booking_id, COUNT(*) FROM no_shows GROUP BY booking_id")
    assert strikes == dict.fromkeys(released, 1)
    notices = by_booking(
        db,
        "SELECT booking_id, COUNT(*) FROM notifications WHERE kind = 'released' "
        "GROUP BY booking_id",
    )
    assert notices == dict.fromkeys(released, 1)

    # The dashboard on b heard the taps a answered, relayed: all of those answered while a
    # was up (but for its last moment before the kill).
    answered_by_both = {
        t
        for t, at in stream.tap_sent.items()
        if log[t][0][0] == "server" and (at < killed_at - 1.0 or at > back_at)
    }
    missing = answered_by_both - dashboard.heard
    assert not missing, f"{len(missing)} taps not on b's dashboard, e.g. {sorted(missing)[:3]}"
    print(
        f"\n{len(stream.tap_ids)} taps, {len(expired)} expired (queued for the killed "
        f"replica), {stream.sensor_events} sensor events; {SLOTS} no-shows released once; "
        f"a killed {killed_at - began:.1f} s into the stream, its backlog applied "
        f"{back_at - killed_at:.1f} s after; the stream took {ended - began:.1f} s"
    )
