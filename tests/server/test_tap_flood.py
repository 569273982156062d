"""Tap limits through a broker and the server's real door path (issue 8, item 5): a flood
of junk taps at one door never keeps a known card waiting past the door's timeout, and a
card refused five times within a minute cools down. The junk comes from a process of its
own (`flooder.py`), as from an attacker's machine.

The bound asserted is the door's own: a door gives up on a decision after 2 s
(`decision_timeout_s`), so a known card's tap answered later has failed whatever the
machine."""

from __future__ import annotations

import gc
import queue
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from doorwire import Clock, door_path
from sqlalchemy import func, select
from support.waiting import wait_for

from protocol import topics
from protocol.messages import Decision, Tap, decode, new_id
from protocol.mqtt import MqttClient
from server.access.limiter import COOLING, FLOOD
from server.db import models

SITE = "piaseczno"
KEY = "test-card-key-0123456789"
NOW = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # a Monday, noon in Warsaw
STAFF = "04A1B2C3"
JUNK = 5_000
DOOR_TIMEOUT_S = 2.0  # a door's decision_timeout_s
EVERY_S = 0.1  # the known card taps this often
FLOODER = Path(__file__).with_name("flooder.py")


class Doors:
    """The doors' side: a junk publisher at one door, a known card at another, and when
    each decision came back."""

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self.answered: dict[str, tuple[float, Decision]] = {}  # tap id -> (when, decision)
        self.client = MqttClient(url, client_id=f"test-doors-{new_id()[:8]}")
        self.client.subscribe(topics.decision(SITE, "reader-main"), self._known)
        self.client.start()
        assert self.client.wait_connected(10)

    def _known(self, msg) -> None:  # type: ignore[no-untyped-def]
        decision = decode(Decision, msg.payload)
        with self._lock:
            self.answered[decision.id] = (time.monotonic(), decision)


def flood(url: str, cards: str) -> subprocess.Popen[str]:
    """Start the flooder; return once it is connected and about to send."""
    proc = subprocess.Popen(
        [sys.executable, str(FLOODER), url, "reader-sala-b", cards, str(JUNK)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "flooding"
    return proc


def recorded_at(ctx, device: str) -> int:
    with ctx.reads() as s:
        A = models.AccessEvent
        found = s.scalar(select(func.count()).select_from(A).where(A.device_id == device))
    return int(found or 0)


def junk_handled(ctx) -> int:
    """Junk taps the server has answered: from memory, or decided and recorded."""
    limited = ctx.access.counters.limited
    return (
        limited[("reader-sala-b", FLOOD)]
        + limited[("reader-sala-b", COOLING)]
        + recorded_at(ctx, "reader-sala-b")
    )


@pytest.fixture(autouse=True)
def heap_of_a_server() -> None:
    """The server runs in this process: the garbage of the tests before must not cost it a
    full collection mid-flood, as a server process of its own would not carry it. What is
    left stays frozen for the rest of the run, like the collection's heap (tests/conftest)."""
    gc.collect()
    gc.freeze()


@pytest.mark.alone
@pytest.mark.mosquitto
@pytest.mark.parametrize("cards", ["one", "many"])
def test_a_known_card_is_answered_in_time_through_a_junk_flood(mosquitto_broker, tmp_path, cards):
    members = {"ewa": ("staff", STAFF)}
    with door_path(
        mosquitto_broker.url,
        tmp_path,
        clock=Clock(NOW),
        key=KEY,
        members=members,
        wire=Doors,
    ) as (ctx, doors, _ids):
        # A server that has been running: its snapshot built, the staff card's emergency
        # hashes stored (a first tap does both).
        warm = Tap(id=new_id(), ts=NOW, card=STAFF)
        doors.client.publish(topics.tap(SITE, "reader-main"), warm)
        wait_for(lambda: warm.id in doors.answered)
        assert ctx.access.after.wait_idle(10)
        doors.answered.clear()
        flooder = flood(mosquitto_broker.url, cards)
        try:
            sent: dict[str, float] = {}
            deadline = time.monotonic() + 60
            # The known card keeps tapping until the whole flood has been answered.
            while junk_handled(ctx) < JUNK and time.monotonic() < deadline:
                tap = Tap(id=new_id(), ts=NOW, card=STAFF)
                sent[tap.id] = time.monotonic()
                doors.client.publish(topics.tap(SITE, "reader-main"), tap)
                time.sleep(EVERY_S)
            assert flooder.wait(10) == 0
            assert junk_handled(ctx) == JUNK, "the flood was not answered in full"
            wait = time.monotonic() + DOOR_TIMEOUT_S + 1
            while len(doors.answered) < len(sent) and time.monotonic() < wait:
                time.sleep(0.02)
        finally:
            flooder.kill()
            flooder.wait()
            assert flooder.stdout is not None
            flooder.stdout.close()

        assert len(sent) >= 3, "the flood was over before the known card tapped"
        late = {}
        for tap_id, at in sent.items():
            assert tap_id in doors.answered, "a known card's tap was never answered"
            when, decision = doors.answered[tap_id]
            assert (decision.granted, decision.reason) == (True, "staff")
            late[tap_id] = when - at
        slowest = max(late.values())
        assert slowest <= DOOR_TIMEOUT_S, f"a known tap answered after {slowest:.2f} s"
        # the junk was refused from memory: a burst's worth of rows at most
        assert recorded_at(ctx, "reader-sala-b") < 50
        assert ctx.access.after.wait_idle(10)
        with ctx.reads() as s:
            kinds = set(s.scalars(select(models.Alert.kind)))
        assert "unknown_card_flood" in kinds


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Refused:
    """A door's side of the wire, one tap and its decision at a time."""

    def __init__(self, url: str) -> None:
        self.decisions: queue.Queue[Decision] = queue.Queue()
        self.client = MqttClient(url, client_id=f"test-door-{new_id()[:8]}")
        self.client.subscribe(
            topics.all_commands(SITE, "decision"),
            lambda m: self.decisions.put(decode(Decision, m.payload)),
        )
        self.client.start()
        assert self.client.wait_connected(10)

    def tap(self, device: str, card: str, clock: Clock) -> Decision:
        tap = Tap(id=new_id(), ts=clock.now, card=card)
        self.client.publish(topics.tap(SITE, device), tap).wait_for_publish(5)
        while True:
            decision = self.decisions.get(timeout=5)
            if decision.id == tap.id:
                return decision


def test_a_card_refused_five_times_cools_down_on_the_wire(broker, tmp_path):
    """Five denials of a resident's card within a minute: the sixth tap, at a free room
    he could take as a walk-in, is `too_many_attempts` and staff are alerted; after the
    cooldown he takes the room."""
    clock = Clock(NOW)
    members = {"piotr": ("resident", "04C3D4E5")}
    with door_path(broker.url, tmp_path, clock=clock, key=KEY, members=members, wire=Doors) as (
        ctx,
        _doors,
        _ids,
    ):
        ctx.access.monotonic = monotonic = Monotonic()
        refused = Refused(broker.url)
        try:
            for _ in range(5):
                assert refused.tap("reader-cowork", "04C3D4E5", clock).reason == "no_membership"
                monotonic.now += 5
            sixth = refused.tap("reader-sala-a", "04C3D4E5", clock)
            assert (sixth.granted, sixth.reason) == (False, "too_many_attempts")
            assert ctx.access.after.wait_idle(10)
            with ctx.reads() as s:
                [alert] = s.scalars(
                    select(models.Alert).where(models.Alert.kind == "too_many_attempts")
                )
            assert alert.details["room"] == "Strefa coworkingu"
            monotonic.now += 300
            assert refused.tap("reader-sala-a", "04C3D4E5", clock).reason == "walk_in"
        finally:
            refused.client.stop()
