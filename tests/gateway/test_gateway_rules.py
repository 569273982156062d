"""What the gateway answers from what it holds (no broker): stale and missing snapshots,
devices that are no door, which server replicas count as online, and when the answers
that can wait go out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from gatewire import CARDS, KEY, MONDAY_NOON, UNKNOWN_CARD

from gateway.answer import gateway_outcome
from gateway.snapshot import HeldSnapshot
from gateway.takeover import Pending, Replicas
from protocol.cards import card_hash
from protocol.messages import Decision, Reason, Status, Tap, new_id
from server.context import ServerContext

MAX_AGE = timedelta(days=7)


@pytest.fixture
def held(ctx: ServerContext) -> HeldSnapshot:
    """The seeded server's snapshot, as if fetched at MONDAY_NOON."""
    with ctx.reads() as session:
        snapshot = ctx.policy.get(session, MONDAY_NOON)
    return HeldSnapshot(snapshot, '"tag"', fetched_at=MONDAY_NOON)


def _answer(held: HeldSnapshot | None, door: str, card: str, age: timedelta):
    now = MONDAY_NOON + age
    return gateway_outcome(held, door, card_hash(KEY, card), now, max_age=MAX_AGE)


@pytest.mark.parametrize(
    ("card", "granted", "reason"),
    [
        (CARDS["staff"], True, Reason.STAFF),
        (CARDS["coworker"], True, Reason.MEMBERSHIP),
        (CARDS["resident"], False, Reason.NO_MEMBERSHIP),
        (UNKNOWN_CARD, False, Reason.UNKNOWN_CARD),
    ],
)
def test_fresh_snapshot_decides_as_the_server_would(held, card, granted, reason) -> None:
    outcome = _answer(held, "reader-main", card, timedelta(minutes=1))
    assert (outcome.granted, outcome.reason) == (granted, reason)


@pytest.mark.parametrize(
    ("card", "granted", "reason"),
    [
        (CARDS["staff"], True, Reason.STAFF),
        (CARDS["coworker"], False, Reason.POLICY_STALE),
        (CARDS["resident"], False, Reason.NO_MEMBERSHIP),  # denials keep their reason
        (UNKNOWN_CARD, False, Reason.UNKNOWN_CARD),
    ],
)
def test_stale_snapshot_admits_staff_only(held, card, granted, reason) -> None:
    outcome = _answer(held, "reader-main", card, MAX_AGE + timedelta(seconds=1))
    assert (outcome.granted, outcome.reason) == (granted, reason)


def test_age_counts_from_the_last_confirmation_not_the_build(held) -> None:
    confirmed = HeldSnapshot(held.snapshot, held.etag, MONDAY_NOON + timedelta(days=6))
    outcome = _answer(confirmed, "reader-main", CARDS["coworker"], timedelta(days=8))
    assert (outcome.granted, outcome.reason) == (True, Reason.MEMBERSHIP)


def test_without_a_snapshot_nobody_is_admitted() -> None:
    for card in (CARDS["staff"], UNKNOWN_CARD):
        outcome = _answer(None, "reader-main", card, timedelta(0))
        assert (outcome.granted, outcome.reason) == (False, Reason.POLICY_STALE)


def test_a_device_that_is_no_door_gets_no_answer(held) -> None:
    assert _answer(held, "counter-main", CARDS["staff"], timedelta(0)) is None
    assert _answer(held, "reader-ghost", CARDS["staff"], timedelta(0)) is None


def test_walk_in_is_admitted_without_booking_anything(held) -> None:
    """A resident may take a free bookable room: the gateway opens, the server books later
    (from the door's Result); the snapshot is not changed."""
    outcome = _answer(held, "reader-sala-a", CARDS["resident"], timedelta(minutes=1))
    assert (outcome.granted, outcome.reason, outcome.effect) == (True, Reason.WALK_IN, "walk_in")
    assert held.snapshot.bookings == []


def _status(state: str, interval_s: float = 10.0) -> Status:
    return Status(state=state, kind="server", ts=MONDAY_NOON, interval_s=interval_s)


def test_a_replica_is_online_while_heard_within_three_intervals() -> None:
    replicas = Replicas()
    assert not replicas.any_online(100.0)
    replicas.update("a", _status("online"), heard=100.0)
    assert replicas.any_online(129.0)
    assert not replicas.any_online(131.0)  # silent for three intervals: gone


def test_last_will_or_an_emptied_topic_takes_a_replica_away() -> None:
    replicas = Replicas()
    replicas.update("a", _status("online"), heard=100.0)
    replicas.update("b", _status("online"), heard=100.0)
    replicas.update("a", _status("offline"), heard=101.0)
    assert replicas.any_online(102.0)  # b is still up
    replicas.update("b", None, heard=102.0)
    assert not replicas.any_online(102.0)


def _tap() -> Tap:
    return Tap(id=new_id(), ts=MONDAY_NOON, card=CARDS["staff"])


def _refusal(tap: Tap) -> Decision:
    return Decision(id=tap.id, granted=False, reason="too_many_attempts", by="gateway")


def test_a_flood_s_answers_wait_for_a_pause_in_the_taps() -> None:
    pending = Pending(quiet_s=0.05, late_max_s=1.0)
    first = _tap()
    assert pending.take(("reader-main", first.id), now=10.0)
    pending.defer("reader-main", _refusal(first), now=10.0)
    with pending.cond:
        assert pending.late(10.04) == []
        assert pending.next_at(99.0) == pytest.approx(10.05)
    pending.take(("reader-main", new_id()), now=10.04)  # the flood goes on
    with pending.cond:
        assert pending.late(10.06) == []
        assert [d.id for _, d in pending.late(10.09)] == [first.id]
        assert pending.late(10.5) == []  # taken once


def test_a_flood_s_answers_wait_a_second_at_most() -> None:
    pending = Pending(quiet_s=0.05, late_max_s=1.0)
    first = _tap()
    pending.defer("reader-main", _refusal(first), now=10.0)
    for i in range(33):  # a tap every 30 ms until 10.96: never a pause
        pending.take(("reader-main", new_id()), now=10.0 + 0.03 * i)
        with pending.cond:
            assert pending.late(10.0 + 0.03 * i) == []
    with pending.cond:
        assert [d.id for _, d in pending.late(11.0)] == [first.id]


def test_a_tap_heard_twice_is_answered_once() -> None:
    pending = Pending()
    tap = _tap()
    assert pending.take(("reader-main", tap.id), now=1.0)
    assert not pending.take(("reader-main", tap.id), now=1.1)
    assert not pending.add(("reader-main", tap.id), tap, now=1.1, due=1.6)
    other = _tap()
    assert pending.add(("reader-main", other.id), other, now=2.0, due=2.5)
    assert pending.decided(("reader-main", other.id), now=2.1)  # the server was in time
    with pending.cond:
        assert pending.due(3.0) == []
