"""After a restart the door path knows when its backlog is applied by a marker it sends
itself, never by waiting for a quiet moment: under steady traffic the first release sweep
runs as soon as the gateway's grants queued meanwhile are applied, and not before
(issue 8). Through Mosquitto and its persistent session, on a moved clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from doorwire import Clock
from ingestwire import SITE, STAFF, Doors, wait_for
from sqlalchemy.exc import OperationalError
from support import factories

from protocol import topics
from protocol.messages import Decision, Result, Tap, new_id
from server.adapters.door_ingest import DoorIngest
from server.adapters.scheduler import Scheduler
from server.context import ServerContext
from server.db import models
from server.db.meta import bump

pytestmark = pytest.mark.mosquitto

KEY = "test-card-key-0123456789"
HOLDER = "04B2C3D4"
START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 18:00 in Warsaw


def test_the_marker_topic_round_trips() -> None:
    topic = topics.server_marker(SITE, "main")
    assert topic == "hub/piaseczno/sys/server/main/marker"
    assert topics.parse(topic) == topics.Topic(SITE, None, "sys", "marker", "main")
    with pytest.raises(topics.TopicError):
        topics.server_marker(SITE, "Main")


class Hub:
    """A server context with a staff member and a resident's booking in sala-a at START,
    whose door path is started and stopped by the test; the doors' (and the gateway's)
    side of the wire."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.clock = Clock(START - timedelta(hours=1))
        settings = factories.live_settings(tmp_path, url, KEY)
        self.ctx = ServerContext.create(settings, clock=self.clock)
        with self.ctx.writes() as s, s.begin():
            staff = factories.member(s, "Ewa Nowak", "staff")
            holder = factories.member(s, "Jan Zieliński", "resident")
            factories.card(s, staff.id, STAFF, KEY)
            factories.card(s, holder.id, HOLDER, KEY)
            made = START - timedelta(days=1)
            self.booking = factories.booking(s, self.ctx.site, holder.id, START, now=made).id
            bump(s)
        self.doors = Doors(url)
        self.ingest: DoorIngest | None = None
        self.scheduler: Scheduler | None = None
        self.traffic = threading.Event()
        self._tapping: threading.Thread | None = None

    def start(self) -> DoorIngest:
        self.ingest = DoorIngest(self.ctx)
        self.scheduler = Scheduler(self.ctx, interval=0.05, start_after=self.ingest.backlog_applied)
        self.ingest.start()
        self.scheduler.start()
        return self.ingest

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.ingest is not None:
            self.ingest.stop()
        self.ingest = self.scheduler = None

    def steady_taps(self) -> None:
        """A staff tap at the entrance every 0.1 s from now on: the door path is never
        quiet for a second."""

        def tap() -> None:
            while not self.traffic.wait(0.1):
                tap = Tap(id=new_id(), ts=datetime.now(UTC), card=STAFF)
                self.doors.send(topics.tap(SITE, "reader-main"), tap)

        self._tapping = threading.Thread(target=tap, daemon=True)
        self._tapping.start()

    def gateway_let_the_holder_in(self) -> Tap:
        """While the server is away: the holder's tap at sala-a inside the check-in window,
        the gateway's grant and the door's Result, queued in the server's session."""
        tap = Tap(id=new_id(), ts=START + timedelta(minutes=2), card=HOLDER)
        device = "reader-sala-a"
        self.doors.send(topics.tap(SITE, device), tap).wait_for_publish(5)
        grant = Decision(id=tap.id, granted=True, reason="booking", by="gateway")
        self.doors.send(topics.decision(SITE, device), grant).wait_for_publish(5)
        result = Result(id=new_id(), tap=tap.id, applied="gateway", granted=True)
        self.doors.send(topics.result(SITE, device), result).wait_for_publish(5)
        return tap

    def booking_row(self) -> models.Booking:
        with self.ctx.reads() as s:
            row = s.get(models.Booking, self.booking)
            assert row is not None
            return row

    def close(self) -> None:
        self.traffic.set()
        if self._tapping is not None:
            self._tapping.join(5)
        self.stop()
        self.doors.client.stop()
        self.ctx.close()


@pytest.fixture
def hub(mosquitto_broker: Any, tmp_path: Path) -> Iterator[Hub]:
    made = Hub(mosquitto_broker.url, tmp_path)
    try:
        made.start()  # the persistent session and its subscriptions exist from now on
        made.stop()
        yield made
    finally:
        made.close()


def test_a_restart_under_steady_taps_applies_the_gateways_grant_before_the_first_sweep(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    hub.steady_taps()
    for _ in range(200):  # a backlog that takes a while to go through, before the grant
        tap = Tap(id=new_id(), ts=datetime.now(UTC), card=STAFF)
        hub.doors.send(topics.tap(SITE, "reader-cowork"), tap)
    hub.gateway_let_the_holder_in()
    hub.clock.now = START + timedelta(minutes=20)  # past the grace: a sweep now releases
    ingest = hub.start()
    assert hub.scheduler is not None
    scheduler = hub.scheduler
    wait_for(lambda: scheduler.passes > 0, 5, "the first sweep, with taps still coming")
    booking = hub.booking_row()
    assert (booking.status, booking.released_at) == ("checked_in", None)
    assert booking.checked_in_at == START + timedelta(minutes=2)
    assert ingest.backlog_applied.is_set()
    assert "sweeping anyway" not in caplog.text


def test_a_held_message_of_the_backlog_holds_the_first_sweep_back(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = hub.ctx.access.handle_result
    gate = threading.Event()

    def locked_until_the_gate_opens(device: str, result: Result) -> object:
        if not gate.is_set():
            raise OperationalError("UPDATE", {}, Exception("database is locked"))
        return real(device, result)

    monkeypatch.setattr(hub.ctx.access, "handle_result", locked_until_the_gate_opens)
    hub.gateway_let_the_holder_in()
    hub.clock.now = START + timedelta(minutes=20)
    ingest = hub.start()
    assert ingest.marker_back.wait(5)
    wait_for(lambda: ingest.inbox.held() == 1, 5, "the Result held")
    assert not ingest.backlog_applied.is_set()
    assert hub.scheduler is not None and hub.scheduler.passes == 0
    gate.set()
    wait_for(ingest.backlog_applied.is_set, 5, "the backlog applied once the Result is")
    wait_for(lambda: hub.booking_row().status == "checked_in", 5, "checked in")
    assert hub.booking_row().released_at is None
