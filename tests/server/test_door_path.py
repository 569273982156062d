"""A tap on the wire yields the right decision and access event, through a real broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from doorwire import Device
from sqlalchemy import select
from support.clock import Clock
from support.factories import card, live_settings, member, membership
from support.waiting import wait_for

from protocol import topics
from protocol.cards import card_hash
from protocol.messages import Decision, Result, Status, Tap, new_id
from server.adapters.door_ingest import DoorIngest
from server.context import ServerContext
from server.db import models
from server.db.meta import bump

SITE = "piaseczno"
KEY = "test-card-key-0123456789"
# Monday 2026-11-30 12:00 in Warsaw (UTC+1): inside opening hours.
MONDAY_NOON = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
CARDS = {
    "staff": "04A1B2C3",
    "coworker": "04B2C3D4",
    "resident": "04C3D4E5",
    "suspended": "04D4E5F6",
    "revoked": "04E5F6A7",
}


def _seed(ctx: ServerContext) -> None:
    with ctx.writes() as s, s.begin():
        staff = member(s, "Ewa Nowak", "staff")
        coworker = member(s, "Anna Kowalska", "business")
        resident = member(s, "Jan Zieliński", "resident")
        suspended = member(
            s, "Piotr Wiśniewski", "resident", suspended_until=MONDAY_NOON + timedelta(days=3)
        )
        for who, key in [
            (staff, "staff"),
            (coworker, "coworker"),
            (resident, "resident"),
            (suspended, "suspended"),
        ]:
            card(s, who.id, CARDS[key], KEY)
        card(s, coworker.id, CARDS["revoked"], KEY, active=False)
        plan = (MONDAY_NOON - timedelta(days=10), MONDAY_NOON + timedelta(days=20))
        membership(s, coworker.id, "coworking", *plan)
        bump(s)


@pytest.fixture
def running(broker, tmp_path):
    """(ctx, clock, the doors' wire, the door path) on the broker."""
    clock = Clock(MONDAY_NOON)
    ctx = ServerContext.create(live_settings(tmp_path, broker.url, KEY), clock=clock)
    _seed(ctx)
    ingest = DoorIngest(ctx)
    ingest.start()
    assert ingest.wait_connected(10)
    device = Device(broker.url)
    try:
        yield ctx, clock, device, ingest
    finally:
        device.client.stop()
        ingest.stop()
        ctx.close()


@pytest.fixture
def system(running):
    return running[:3]


@pytest.fixture
def ingest(running) -> DoorIngest:
    return running[3]


def _events(ctx: ServerContext, event_id: str) -> list[models.AccessEvent]:
    with ctx.reads() as s:
        return list(
            s.scalars(select(models.AccessEvent).where(models.AccessEvent.event_id == event_id))
        )


def _wait_event(ctx: ServerContext, event_id: str, timeout: float = 5.0) -> models.AccessEvent:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = _events(ctx, event_id)
        if events:
            return events[0]
        time.sleep(0.02)
    raise AssertionError(f"no access event {event_id}")


@pytest.mark.parametrize(
    ("device", "card", "hour_shift", "granted", "reason"),
    [
        ("reader-main", "staff", 0, True, "staff"),
        ("reader-sala-a", "staff", 15, True, "staff"),  # 03:00 local, any door
        ("reader-main", "coworker", 0, True, "membership"),
        ("reader-cowork", "coworker", 0, True, "membership"),
        ("reader-cowork", "coworker", 10, False, "outside_hours"),  # 22:00 local
        ("reader-sala-a", "coworker", 0, False, "no_access"),
        ("reader-main", "resident", 0, False, "no_membership"),
        ("reader-main", "suspended", 0, False, "member_suspended"),
        ("reader-main", "revoked", 0, False, "card_revoked"),
        ("reader-main", "unknown", 0, False, "unknown_card"),
        ("counter-main", "staff", 0, False, "unknown_door"),
    ],
)
def test_tap_is_decided_and_recorded(system, device, card, hour_shift, granted, reason):
    ctx, clock, wire = system
    clock.now = MONDAY_NOON + timedelta(hours=hour_shift)
    tap = wire.tap(device, CARDS.get(card, "0DEADBEEF0"), ts=clock.now)
    answered_device, decision = wire.decision(tap)
    assert answered_device == device
    assert (decision.granted, decision.reason, decision.by) == (granted, reason, "server")
    if granted:
        assert decision.unlock_s == 5.0
    event = _wait_event(ctx, tap.id)
    assert (event.device_id, event.granted, event.reason, event.by) == (
        device,
        granted,
        reason,
        "server",
    )
    assert event.card_hash == card_hash(KEY, CARDS.get(card, "0DEADBEEF0"))


def test_locked_door_refuses_even_staff(system):
    ctx, _clock, wire = system
    with ctx.writes() as s, s.begin():
        s.get(models.Door, "main").mode = "locked"
        bump(s)
    tap = wire.tap("reader-main", CARDS["staff"])
    assert wire.decision(tap)[1].reason == "locked_down"
    assert not wire.decision(wire.tap("reader-cowork", CARDS["resident"]))[1].granted


def test_duplicate_delivery_is_one_event_and_one_answer(system):
    ctx, _clock, wire = system
    tap = wire.tap("reader-main", CARDS["staff"])
    wire.client.publish(topics.tap(SITE, "reader-main"), tap).wait_for_publish(5)
    wire.decision(tap)
    wire.no_decision()
    assert len(_events(ctx, tap.id)) == 1
    assert ctx.access.counters.duplicates == 1


def test_replayed_tap_is_recorded_expired_and_not_answered(system):
    ctx, _clock, wire = system
    tap = wire.tap("reader-main", CARDS["staff"], replay=True)
    wire.no_decision()
    event = _wait_event(ctx, tap.id)
    assert (event.by, event.granted, event.replay) == ("expired", False, True)


def test_stale_tap_from_synced_device_is_expired(system):
    ctx, clock, wire = system
    status = Status(state="online", kind="door", ts=clock.now, clock_synced=True)
    wire.client.publish(topics.status(SITE, "reader-main"), status, retain=True).wait_for_publish(5)
    wait_for(lambda: ctx.access._clock_synced.get("reader-main") is True)
    stale = wire.tap("reader-main", CARDS["staff"], ts=clock.now - timedelta(seconds=3))
    wire.no_decision()
    assert _wait_event(ctx, stale.id).by == "expired"
    fresh = wire.tap("reader-main", CARDS["staff"], ts=clock.now - timedelta(seconds=1))
    assert wire.decision(fresh)[1].granted
    wire.client.publish(topics.status(SITE, "reader-main"), b"", retain=True).wait_for_publish(5)


def test_stale_tap_from_unsynced_device_is_still_answered(system):
    ctx, clock, wire = system
    tap = wire.tap("reader-main", CARDS["staff"], ts=clock.now - timedelta(hours=1))
    assert wire.decision(tap)[1].granted


def test_unknown_device_gets_no_answer_and_is_counted(system, ingest):
    ctx, _clock, wire = system
    tap = wire.tap("reader-ghost", CARDS["staff"])
    wire.no_decision()
    wait_for(lambda: ingest.rejections.counts() == {("reader-ghost", "unknown_device"): 1})
    assert _events(ctx, tap.id) == []


def test_result_is_recorded_against_its_tap_once(system):
    ctx, _clock, wire = system
    tap = wire.tap("reader-main", CARDS["staff"])
    wire.decision(tap)
    result = Result(id=new_id(), tap=tap.id, applied="server", granted=True)
    for _ in range(2):
        wire.client.publish(topics.result(SITE, "reader-main"), result).wait_for_publish(5)
    # the decision may come before the tap's row is committed (it changes nothing)
    wait_for(lambda: [e.result_id for e in _events(ctx, tap.id)] == [result.id])
    [event] = _events(ctx, tap.id)
    assert (event.result_applied, event.result_granted) == ("server", True)


def test_invalid_payload_is_dropped_and_the_loop_goes_on(system, ingest):
    ctx, _clock, wire = system
    wire.client.publish(topics.tap(SITE, "reader-main"), b'{"v":1,"id":"x"}').wait_for_publish(5)
    wire.client.publish(topics.tap(SITE, "reader-main"), b"not json").wait_for_publish(5)
    tap = wire.tap("reader-main", CARDS["staff"])
    assert wire.decision(tap)[1].granted
    assert ingest.rejections.counts() == {
        ("reader-main", "invalid_payload"): 1,
        ("reader-main", "not_json"): 1,
    }


def test_decisions_sent_and_the_gateways_recorded_are_counted_for_metrics(system) -> None:
    ctx, _clock, wire = system
    for who in ("staff", "staff", "resident"):
        wire.decision(wire.tap("reader-main", CARDS[who]))
    unanswered = Tap(id=new_id(), ts=MONDAY_NOON, card=CARDS["coworker"])
    grant = Decision(id=unanswered.id, granted=True, reason="membership", by="gateway")
    wire.client.publish(topics.decision(SITE, "reader-main"), grant).wait_for_publish(5)
    _wait_event(ctx, unanswered.id)

    def sample(name: str, **labels: str) -> float | None:
        return ctx.metrics.registry.get_sample_value(name, labels)

    assert sample("spacehub_decisions_total", reason="staff", by="server", granted="true") == 2
    refused = sample(
        "spacehub_decisions_total", reason="no_membership", by="server", granted="false"
    )
    assert refused == 1
    by_gateway = sample(
        "spacehub_decisions_total", reason="membership", by="gateway", granted="true"
    )
    assert by_gateway == 1
    assert sample("spacehub_tap_latency_seconds_count") == 3  # the server's answers only
