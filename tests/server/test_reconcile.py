"""Reconciliation through a real broker: what every door did ends up in the access log
exactly once, whoever answered; the gateway's applied grants check bookings in, take
walk-ins and clear no-show strikes; the server never answers a tap the gateway did."""

from __future__ import annotations

import queue
import time
from datetime import UTC, datetime, timedelta

import pytest
from doorwire import Clock, door_path
from sqlalchemy import select
from support.waiting import wait_for

from protocol import topics
from protocol.cards import card_hash
from protocol.messages import Decision, Result, Status, Tap, decode, new_id
from protocol.mqtt import MqttClient
from server.access.accesslog import access_event
from server.access.schemas import AccessEventOut
from server.access.service import TapFate
from server.bookings.store import insert_booking
from server.context import ServerContext
from server.db import models
from server.noshows.release import sweep

SITE = "piaseczno"
KEY = "test-card-key-0123456789"
START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 18:00 in Warsaw
GRACE = timedelta(minutes=15)
CARDS = {"anna": "04B2C3D4", "piotr": "04C3D4E5", "ewa": "04A1B2C3", "olena": "04D4E5F6"}
CATEGORY = {"anna": "business", "piotr": "resident", "ewa": "staff", "olena": "ngo"}


class Wire:
    """The doors' and the gateway's side of the wire: taps, gateway decisions, Results;
    and every decision sent to a door, whoever sent it."""

    def __init__(self, url: str) -> None:
        self.decisions: queue.Queue[Decision] = queue.Queue()
        self.client = MqttClient(url, client_id=f"test-wire-{new_id()[:8]}")
        self.client.subscribe(
            topics.all_commands(SITE, "decision"),
            lambda m: self.decisions.put(decode(Decision, m.payload)),
        )
        self.client.start()
        assert self.client.wait_connected(10)

    def tap(self, device: str, who: str, at: datetime, **fields: object) -> Tap:
        tap = Tap(id=new_id(), ts=at, card=CARDS[who], **fields)  # type: ignore[arg-type]
        self.client.publish(topics.tap(SITE, device), tap).wait_for_publish(5)
        return tap

    def gateway(self, device: str, tap: Tap, reason: str, *, granted: bool = True) -> None:
        decision = Decision(id=tap.id, granted=granted, reason=reason, by="gateway")
        self.client.publish(topics.decision(SITE, device), decision).wait_for_publish(5)

    def result(self, device: str, tap: Tap, applied: str, *, granted: bool = True) -> Result:
        result = Result(id=new_id(), tap=tap.id, applied=applied, granted=granted)  # type: ignore[arg-type]
        self.send(device, result)
        return result

    def send(self, device: str, result: Result) -> None:
        self.client.publish(topics.result(SITE, device), result).wait_for_publish(5)

    def server_decision(self, tap: Tap, timeout: float = 5.0) -> Decision:
        deadline = time.monotonic() + timeout
        while True:
            decision = self.decisions.get(timeout=max(0.01, deadline - time.monotonic()))
            if decision.id == tap.id and decision.by == "server":
                return decision

    def sync(self, clock: Clock) -> None:
        """Wait until the server has handled everything sent before: the door path is
        one ordered stream, so once a staff tap sent now is answered, it has."""
        self.server_decision(self.tap("reader-main", "ewa", clock.now))

    def no_server_decision(self, tap: Tap, wait: float = 0.7) -> None:
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            try:
                decision = self.decisions.get(timeout=left)
            except queue.Empty:
                return
            assert not (decision.id == tap.id and decision.by == "server"), decision


@pytest.fixture
def hub(broker, tmp_path):
    clock = Clock(START - timedelta(hours=1))
    members = {who: (CATEGORY[who], CARDS[who]) for who in CATEGORY}
    with door_path(broker.url, tmp_path, clock=clock, key=KEY, members=members, wire=Wire) as (
        ctx,
        wire,
        ids,
    ):
        yield ctx, clock, wire, ids


def book(ctx, member_id, room="sala-a", start=START, hours=1.0) -> int:
    with ctx.writes() as s, s.begin():
        return insert_booking(
            s,
            site=ctx.site,
            room_id=room,
            member_id=member_id,
            start=start,
            end=start + timedelta(hours=hours),
            now=start - timedelta(days=1),
        ).id


def booking(ctx, booking_id) -> models.Booking:
    with ctx.reads() as s:
        return s.get(models.Booking, booking_id)


def strike(ctx, booking_id) -> models.NoShow:
    with ctx.reads() as s:
        return s.scalars(select(models.NoShow).where(models.NoShow.booking_id == booking_id)).one()


def events(ctx, tap: Tap) -> list[models.AccessEvent]:
    with ctx.reads() as s:
        stmt = select(models.AccessEvent).where(models.AccessEvent.event_id == tap.id)
        return list(s.scalars(stmt))


def recorded(ctx, tap: Tap, **fields) -> models.AccessEvent:
    """Wait until the tap's row has these values; return it."""

    def matches() -> bool:
        rows = events(ctx, tap)
        return len(rows) == 1 and all(getattr(rows[0], k) == v for k, v in fields.items())

    wait_for(matches)
    return events(ctx, tap)[0]


def release_no_show(ctx, clock, booking_id) -> None:
    clock.now = START + GRACE
    with ctx.writes() as s, s.begin():
        assert booking_id in sweep(s, site=ctx.site, now=clock.now).released
    assert strike(ctx, booking_id).removed_at is None


def gateway_entry(wire, ctx, device, who, at, reason) -> Tap:
    """A tap the gateway answered and the door applied, as the server learns it after a
    silence: the gateway's decision, then the tap (a duplicate), then the door's Result."""
    tap = Tap(id=new_id(), ts=at, card=CARDS[who])
    wire.gateway(device, tap, reason)
    recorded(ctx, tap, by="gateway", reason=reason)
    wire.client.publish(topics.tap(SITE, device), tap).wait_for_publish(5)
    recorded(ctx, tap, ts=at)
    result = wire.result(device, tap, "gateway")
    recorded(ctx, tap, result_id=result.id)
    return tap


# -- the access log ---------------------------------------------------------------------


def test_gateway_decision_is_the_taps_once_and_the_server_never_answers_it(hub):
    ctx, clock, wire, ids = hub
    tap = Tap(id=new_id(), ts=clock.now, card=CARDS["ewa"])
    for _ in range(2):  # a redelivered decision is a no-op
        wire.gateway("reader-main", tap, "staff")
    recorded(ctx, tap, by="gateway", granted=True, reason="staff")
    wire.client.publish(topics.tap(SITE, "reader-main"), tap).wait_for_publish(5)
    event = recorded(ctx, tap, card_hash=card_hash(KEY, CARDS["ewa"]))
    wire.no_server_decision(tap)
    assert (event.by, event.granted, event.reason) == ("gateway", True, "staff")
    assert (event.ts, event.member_id, event.result_id) == (clock.now, ids["ewa"], None)
    assert ctx.access.counters.gateway_decisions == 1
    assert ctx.access.counters.answered == 0
    assert len(events(ctx, tap)) == 1


def test_gateway_decision_for_a_tap_the_server_let_expire(hub):
    ctx, clock, wire, _ids = hub
    tap = wire.tap("reader-main", "ewa", clock.now, replay=True)
    recorded(ctx, tap, by="expired")
    wire.gateway("reader-main", tap, "staff")
    event = recorded(ctx, tap, by="gateway")
    assert (event.granted, event.reason) == (True, "staff")
    wire.no_server_decision(tap)


def test_slow_server_keeps_its_decision_and_the_result_says_which_one_the_door_applied(hub):
    ctx, clock, wire, _ids = hub
    tap = wire.tap("reader-sala-a", "anna", clock.now)
    assert wire.server_decision(tap).reason == "no_membership"
    wire.gateway("reader-sala-a", tap, "no_access", granted=False)  # the gateway, too late
    event = recorded(ctx, tap, other_reason="no_access")
    assert (event.by, event.reason) == ("server", "no_membership")
    assert (event.other_by, event.other_granted) == ("gateway", False)
    wire.result("reader-sala-a", tap, "gateway", granted=False)
    event = recorded(ctx, tap, result_applied="gateway")
    # the decision the door applied is the one of record, the other kept beside it
    assert (event.by, event.granted, event.reason) == ("gateway", False, "no_access")
    assert (event.other_by, event.other_reason) == ("server", "no_membership")
    for shown in (access_event(event), AccessEventOut.of(event).model_dump()):
        assert (shown["by"], shown["reason"], shown["granted"]) == ("gateway", "no_access", False)
    # the server's own decision came back on the same subscription and was ignored
    assert ctx.access.counters.gateway_decisions == 1


@pytest.mark.parametrize("door_did", ["gateway_denial", "nothing_in_time"])
def test_a_slow_servers_walk_in_is_cancelled_when_the_door_stayed_shut(hub, door_did):
    """The server answered late with a walk-in; the door had applied the gateway's
    denial (or given up): nobody took the room, so no booking holds it. The server's
    clock moves between taking the tap in and deciding it, as a real one does."""
    ctx, clock, wire, ids = hub
    clock.now, clock.tick = START, timedelta(milliseconds=1)
    tap = wire.tap("reader-sala-a", "piotr", clock.now)
    assert wire.server_decision(tap).reason == "walk_in"
    event = recorded(ctx, tap, by="server")
    with ctx.reads() as s:
        walk_in = s.get(models.Booking, event.booking_id)
    assert (walk_in.source, walk_in.status) == ("walk_in", "checked_in")
    if door_did == "gateway_denial":
        wire.gateway("reader-sala-a", tap, "policy_stale", granted=False)
        recorded(ctx, tap, other_reason="policy_stale")
        wire.result("reader-sala-a", tap, "gateway", granted=False)
    else:
        wire.result("reader-sala-a", tap, "none", granted=False)
    event = recorded(ctx, tap, booking_id=None)
    assert booking(ctx, walk_in.id).status == "cancelled"
    # the room is free again, for the server too
    assert wire.server_decision(wire.tap("reader-sala-a", "olena", clock.now)).reason == "walk_in"


def test_a_slow_servers_check_in_is_undone_when_the_door_stayed_shut(hub):
    ctx, clock, wire, ids = hub
    booking_id = book(ctx, ids["anna"])
    clock.now, clock.tick = START + timedelta(minutes=1), timedelta(milliseconds=1)
    tap = wire.tap("reader-sala-a", "anna", clock.now)
    assert wire.server_decision(tap).reason == "booking"
    assert booking(ctx, booking_id).status == "checked_in"
    wire.gateway("reader-sala-a", tap, "policy_stale", granted=False)
    recorded(ctx, tap, other_reason="policy_stale")
    wire.result("reader-sala-a", tap, "gateway", granted=False)
    recorded(ctx, tap, booking_id=None)
    undone = booking(ctx, booking_id)
    assert (undone.status, undone.checked_in_at) == ("booked", None)
    # she taps again and is let in: checked in as of then
    clock.tick = timedelta(0)
    clock.now += timedelta(seconds=10)
    again = wire.tap("reader-sala-a", "anna", clock.now)
    assert wire.server_decision(again).reason == "booking"
    wire.result("reader-sala-a", again, "server")
    recorded(ctx, again, result_applied="server")
    assert booking(ctx, booking_id).checked_in_at == clock.now


def test_a_check_in_stands_when_someone_the_booking_admits_was_let_in_since(hub):
    ctx, clock, wire, ids = hub
    with ctx.writes() as s, s.begin():
        booking_id = insert_booking(
            s,
            site=ctx.site,
            room_id="sala-a",
            member_id=ids["anna"],
            start=START,
            end=START + timedelta(hours=1),
            now=START - timedelta(days=1),
            attendees=[ids["olena"]],
        ).id
    clock.now = START + timedelta(minutes=1)
    first = wire.tap("reader-sala-a", "anna", clock.now)
    assert wire.server_decision(first).reason == "booking"
    clock.now += timedelta(seconds=30)
    second = wire.tap("reader-sala-a", "olena", clock.now)
    assert wire.server_decision(second).reason == "booking"  # no check-in: it is checked in
    wire.result("reader-sala-a", second, "server")
    recorded(ctx, second, result_applied="server")
    wire.result("reader-sala-a", first, "none", granted=False)  # Anna's door gave up
    recorded(ctx, first, result_applied="none")
    assert booking(ctx, booking_id).status == "checked_in"


def test_after_a_restart_backlog_taps_are_judged_by_the_stored_clock_status(settings, clock):
    """A restarted server goes through the taps queued for it before the devices'
    retained statuses: it knows from its database whose clocks are synced, and answers
    none of their taps the doors have given up on (the gateway answered those)."""
    first = ServerContext.create(settings, clock=clock)
    status = Status(state="online", kind="door", ts=clock.now, clock_synced=True)
    first.access.handle_status("reader-main", status)
    first.close()
    again = ServerContext.create(settings, clock=clock)
    try:
        answers: list[Decision] = []
        old = Tap(id=new_id(), ts=clock.now - timedelta(seconds=5), card=CARDS["ewa"])
        assert again.access.handle_tap("reader-main", old, answers.append) is TapFate.EXPIRED
        # Nor one the door gives up on within the gateway's takeover time (2 s - 0.5 s):
        # the gateway has answered it, and an answer would come too late anyway.
        late = Tap(id=new_id(), ts=clock.now - timedelta(seconds=1.6), card=CARDS["ewa"])
        assert again.access.handle_tap("reader-main", late, answers.append) is TapFate.EXPIRED
        fresh = Tap(id=new_id(), ts=clock.now - timedelta(seconds=1.2), card=CARDS["ewa"])
        assert again.access.handle_tap("reader-main", fresh, answers.append) is TapFate.ANSWERED
        # a door never heard from is given the benefit of the doubt, as before
        unknown = Tap(id=new_id(), ts=clock.now - timedelta(hours=1), card=CARDS["ewa"])
        assert again.access.handle_tap("reader-sala-a", unknown, answers.append) is (
            TapFate.ANSWERED
        )
        assert [a.id for a in answers] == [fresh.id, unknown.id]
    finally:
        again.close()


# -- check-ins and walk-ins the gateway's grants imply ----------------------------------


@pytest.mark.parametrize(
    "order",
    [
        ("decision", "tap", "result"),
        ("replay", "decision", "result"),  # the tap came first, too late to answer
    ],
)
def test_gateway_grant_applied_at_the_room_door_checks_the_booking_in(hub, order):
    ctx, clock, wire, ids = hub
    booking_id = book(ctx, ids["anna"])
    at = START + timedelta(minutes=2)
    clock.now = START + timedelta(minutes=6)  # the server hears it all a little later
    tap = Tap(id=new_id(), ts=at, card=CARDS["anna"], replay="replay" in order)
    result = Result(id=new_id(), tap=tap.id, applied="gateway", granted=True)
    for step in order:
        if step == "decision":
            wire.gateway("reader-sala-a", tap, "booking")
            recorded(ctx, tap, by="gateway", reason="booking")
        elif step == "result":
            wire.send("reader-sala-a", result)
            recorded(ctx, tap, result_id=result.id)
        else:
            wire.client.publish(topics.tap(SITE, "reader-sala-a"), tap).wait_for_publish(5)
            recorded(ctx, tap, ts=at)
    checked = booking(ctx, booking_id)
    assert (checked.status, checked.checked_in_at) == ("checked_in", at)
    wire.no_server_decision(tap)
    event = events(ctx, tap)[0]
    assert (event.by, event.reason, event.member_id) == ("gateway", "booking", ids["anna"])

    # Redelivered decisions and results change nothing.
    wire.gateway("reader-sala-a", tap, "booking")
    wire.send("reader-sala-a", result)
    wire.send("reader-sala-a", Result(id=new_id(), tap=tap.id, applied="none", granted=False))
    wire.sync(clock)
    [again] = events(ctx, tap)
    assert (again.result_id, again.result_applied) == (result.id, "gateway")
    assert booking(ctx, booking_id).checked_in_at == at


@pytest.mark.parametrize(("applied", "granted"), [("none", False), ("gateway", False)])
def test_a_grant_the_door_did_not_apply_checks_nothing_in(hub, applied, granted):
    ctx, clock, wire, ids = hub
    booking_id = book(ctx, ids["anna"])
    clock.now = START + timedelta(minutes=3)
    tap = Tap(id=new_id(), ts=START + timedelta(minutes=2), card=CARDS["anna"])
    wire.gateway("reader-sala-a", tap, "booking")
    recorded(ctx, tap, reason="booking")
    wire.client.publish(topics.tap(SITE, "reader-sala-a"), tap).wait_for_publish(5)
    recorded(ctx, tap, ts=tap.ts)
    result = wire.result("reader-sala-a", tap, applied, granted=granted)
    recorded(ctx, tap, result_id=result.id)
    assert booking(ctx, booking_id).status == "booked"


def test_gateway_walk_in_applied_books_the_free_room_from_the_tap(hub):
    ctx, clock, wire, ids = hub
    book(ctx, ids["anna"], start=START + timedelta(hours=2))
    at = START
    clock.now = START + timedelta(minutes=1)
    tap = gateway_entry(wire, ctx, "reader-sala-a", "piotr", at, "walk_in")
    wire.send("reader-sala-a", Result(id=new_id(), tap=tap.id, applied="gateway", granted=True))
    wire.sync(clock)
    with ctx.reads() as s:
        [walk_in] = s.scalars(select(models.Booking).where(models.Booking.source == "walk_in"))
    assert (walk_in.member_id, walk_in.status, walk_in.checked_in_at) == (
        ids["piotr"],
        "checked_in",
        at,
    )
    assert (walk_in.start, walk_in.end) == (at, START + timedelta(hours=2))
    # the room is the walk-in's now, for the server too
    clock.now = START + timedelta(minutes=2)
    assert wire.server_decision(wire.tap("reader-sala-a", "olena", clock.now)).reason == (
        "room_booked"
    )


def test_gateway_grant_of_another_kind_books_nothing(hub):
    """A free room the gateway opened for another reason (an older snapshot, say) is not
    booked as a walk-in: the server books nobody who did not take the room."""
    ctx, clock, wire, _ids = hub
    clock.now = START + timedelta(minutes=1)
    gateway_entry(wire, ctx, "reader-sala-a", "piotr", START, "membership")
    with ctx.reads() as s:
        assert s.scalars(select(models.Booking)).all() == []


# -- no-show strikes of holders who did come --------------------------------------------


def test_released_booking_whose_holder_the_gateway_let_in_is_checked_in_again(hub):
    ctx, clock, wire, ids = hub
    booking_id = book(ctx, ids["anna"])
    release_no_show(ctx, clock, booking_id)
    at = START + timedelta(minutes=5)  # in time, learnt only after the release
    clock.now = START + GRACE + timedelta(minutes=1)
    gateway_entry(wire, ctx, "reader-sala-a", "anna", at, "booking")
    late = booking(ctx, booking_id)
    assert (late.status, late.checked_in_at) == ("checked_in", at)
    assert strike(ctx, booking_id).removed_at == clock.now
    # the holder gets in again
    assert wire.server_decision(wire.tap("reader-sala-a", "anna", clock.now)).reason == "booking"


def test_released_booking_whose_room_was_taken_keeps_released_without_its_strike(hub):
    ctx, clock, wire, ids = hub
    booking_id = book(ctx, ids["anna"])
    release_no_show(ctx, clock, booking_id)
    assert wire.server_decision(wire.tap("reader-sala-a", "piotr", clock.now)).reason == "walk_in"
    clock.now += timedelta(minutes=1)
    gateway_entry(wire, ctx, "reader-sala-a", "anna", START + timedelta(minutes=5), "booking")
    wait_for(lambda: strike(ctx, booking_id).removed_at is not None)
    assert booking(ctx, booking_id).status == "released"


@pytest.mark.parametrize("applied", ["gateway", "server"])
def test_entry_at_the_entrance_in_time_removes_the_strike(hub, applied):
    ctx, clock, wire, ids = hub
    booking_id = book(ctx, ids["anna"])
    at = START + timedelta(minutes=5)
    if applied == "server":
        # The server let her in at the entrance; the door's Result comes after the release.
        clock.now = at
        tap = wire.tap("reader-main", "anna", at)
        assert wire.server_decision(tap).reason == "booking"
        recorded(ctx, tap, by="server")
        release_no_show(ctx, clock, booking_id)
        result = wire.result("reader-main", tap, "server")
        recorded(ctx, tap, result_id=result.id)
    else:
        release_no_show(ctx, clock, booking_id)
        gateway_entry(wire, ctx, "reader-main", "anna", at, "booking")
    wait_for(lambda: strike(ctx, booking_id).removed_at is not None)
    assert booking(ctx, booking_id).status == "released"  # she never came to the room


def test_entry_outside_the_check_in_window_keeps_the_strike(hub):
    ctx, clock, wire, ids = hub
    booking_id = book(ctx, ids["anna"])
    release_no_show(ctx, clock, booking_id)
    late = START + GRACE + timedelta(seconds=1)
    clock.now = late + timedelta(minutes=1)
    gateway_entry(wire, ctx, "reader-main", "anna", late, "membership")
    assert strike(ctx, booking_id).removed_at is None
    assert booking(ctx, booking_id).status == "released"
