"""The tap limits as the gateway applies them, the server's way: a card denied 5 times in a
minute is refused `too_many_attempts` for its cooling period; unknown cards are throttled
per door, from memory, and a flood of them never holds up a known card."""

from __future__ import annotations

import logging
import queue
import time
from collections import Counter
from datetime import timedelta

import pytest
from gatewire import CARDS, KEY, MONDAY_NOON, SITE, Ticker, wait_for

from gateway.answer import Silent, TapAnswers
from gateway.snapshot import SnapshotStore
from protocol import topics
from protocol.messages import Decision, Reason, Tap, decode, encode, new_id, utcnow
from protocol.policy import AccessRules
from server.context import ServerContext

NOW = MONDAY_NOON + timedelta(minutes=1)
COOLDOWN_S = 300.0  # the site's attempts_cooldown


@pytest.fixture
def store(ctx: ServerContext, tmp_path) -> SnapshotStore:
    """A store holding the seeded server's snapshot (the site's limits: 5 denials a
    minute, 5 minutes' cooling, 10 unknown cards a door then 30 a minute)."""
    with ctx.reads() as session:
        snapshot = ctx.policy.get(session, MONDAY_NOON)
    held = SnapshotStore(tmp_path / "gw")
    held.offer(snapshot, '"seeded"', MONDAY_NOON)
    return held


def _answers(store: SnapshotStore) -> TapAnswers:
    return TapAnswers(store, KEY, max_age=timedelta(days=7))


def _reason(answers: TapAnswers, door: str, card: str, at: float) -> Reason | Silent:
    outcome = answers.outcome(door, card, now=NOW, mono_now=at)
    assert outcome is not None
    return outcome if isinstance(outcome, Silent) else outcome.reason


def test_five_denials_in_a_minute_cool_the_card_down(
    store: SnapshotStore, caplog: pytest.LogCaptureFixture
) -> None:
    answers = _answers(store)
    resident = CARDS["resident"]
    # Sala A would take the resident as a walk-in: the limit must refuse even that.
    assert _reason(_answers(store), "reader-sala-a", resident, 0.0) is Reason.WALK_IN
    caplog.set_level(logging.WARNING, logger="gateway.answer")
    for i in range(5):
        assert _reason(answers, "reader-main", resident, 10.0 * i) is Reason.NO_MEMBERSHIP
    assert _reason(answers, "reader-sala-a", resident, 45.0) is Reason.TOO_MANY_ATTEMPTS
    assert _reason(answers, "reader-main", CARDS["staff"], 46.0) is Reason.STAFF  # only that card
    assert (
        _reason(answers, "reader-sala-a", resident, 40.0 + COOLDOWN_S - 1)
        is Reason.TOO_MANY_ATTEMPTS
    )
    assert _reason(answers, "reader-sala-a", resident, 40.0 + COOLDOWN_S) is Reason.WALK_IN
    assert answers.cooling == 1
    assert len([r for r in caplog.records if "too_many_attempts" in r.getMessage()]) == 1


def test_denials_spread_over_more_than_a_minute_do_not_count(store: SnapshotStore) -> None:
    answers = _answers(store)
    for i in range(10):
        assert _reason(answers, "reader-main", CARDS["resident"], 20.0 * i) is Reason.NO_MEMBERSHIP
    assert answers.cooling == 0


def test_unknown_cards_are_throttled_per_door_and_known_cards_never(store: SnapshotStore) -> None:
    answers = _answers(store)
    unknown = [f"0D{i:08X}" for i in range(40)]
    reasons = Counter(_reason(answers, "reader-main", card, 0.0) for card in unknown)
    # refused from memory: the first 10 answered why, the rest only counted
    assert reasons == {Reason.UNKNOWN_CARD: 10, Reason.TOO_MANY_ATTEMPTS: 10, Silent.FLOOD: 20}
    assert answers.throttled == 30
    assert _reason(answers, "reader-main", CARDS["coworker"], 0.0) is Reason.MEMBERSHIP
    assert (
        _reason(answers, "reader-cowork", unknown[0], 0.0) is Reason.UNKNOWN_CARD
    )  # its own bucket
    # 30 a minute: one more every 2 s.
    assert _reason(answers, "reader-main", unknown[0], 2.0) is Reason.UNKNOWN_CARD
    assert _reason(answers, "reader-main", unknown[1], 2.0) is Reason.TOO_MANY_ATTEMPTS


def test_a_card_in_its_cooling_period_is_always_answered(store: SnapshotStore) -> None:
    """Unanswered, a door would fall back on its emergency list, which may hold the card."""
    answers = _answers(store)
    for at in range(5):
        assert _reason(answers, "reader-main", CARDS["resident"], float(at)) is Reason.NO_MEMBERSHIP
    cooling = [_reason(answers, "reader-main", CARDS["resident"], 5.0) for _ in range(30)]
    assert cooling == [Reason.TOO_MANY_ATTEMPTS] * 30


def test_the_limits_follow_each_new_snapshot(store: SnapshotStore) -> None:
    answers = _answers(store)
    assert _reason(answers, "reader-main", CARDS["resident"], 0.0) is Reason.NO_MEMBERSHIP
    held = store.current
    assert held is not None
    stricter = held.snapshot.model_copy(
        update={"n": held.snapshot.n + 1, "rules": AccessRules(max_denied_taps=2)}
    )
    store.offer(stricter, '"stricter"', MONDAY_NOON)
    assert _reason(answers, "reader-main", CARDS["resident"], 1.0) is Reason.NO_MEMBERSHIP
    assert _reason(answers, "reader-main", CARDS["resident"], 2.0) is Reason.TOO_MANY_ATTEMPTS


def test_without_a_snapshot_or_at_no_door_nothing_is_counted(tmp_path) -> None:
    answers = _answers(SnapshotStore(tmp_path))
    for _ in range(10):
        assert _reason(answers, "reader-main", CARDS["resident"], 0.0) is Reason.POLICY_STALE
    assert answers.cooling == 0


# -- through a broker, the server down ----------------------------------------------------


def test_the_gateway_cools_a_card_down_and_lets_it_in_after(system, make_gateway) -> None:
    ticker = Ticker()
    make_gateway(limits_clock=ticker)
    doors = system.doors
    for _ in range(5):
        tap, _ = doors.tap("reader-main", CARDS["resident"])
        assert doors.first(tap).decision.reason == "no_membership"
        ticker.advance(5)
    tap, _ = doors.tap("reader-sala-a", CARDS["resident"])
    decision = doors.first(tap).decision
    assert (decision.by, decision.granted, decision.reason) == (
        "gateway",
        False,
        "too_many_attempts",
    )
    ticker.advance(COOLDOWN_S)
    tap, _ = doors.tap("reader-sala-a", CARDS["resident"])
    decision = doors.first(tap).decision
    assert (decision.by, decision.granted, decision.reason) == ("gateway", True, "walk_in")


@pytest.mark.mosquitto
@pytest.mark.parametrize("broker_kind", ["mosquitto"], indirect=True)
def test_a_known_card_is_answered_in_time_during_a_flood(system, make_gateway, mqtt_client) -> None:
    """Mosquitto only: the embedded broker runs inside the test's own interpreter, and is
    for showing the system, not for keeping promises."""
    gw = make_gateway()
    topic = topics.tap(SITE, "reader-main")
    known = Tap(id=new_id(), ts=utcnow(), card=CARDS["coworker"])
    answers: queue.Queue[Decision] = queue.Queue()
    # The door's side, as light as a door: it hears its own decisions, and reads only the
    # known card's (the test shares its interpreter with the gateway).
    door = mqtt_client(system.broker_url, client_id=f"test-door-{new_id()[:8]}")
    door.subscribe(
        topics.decision(SITE, "reader-main"),
        lambda msg: (
            answers.put(decode(Decision, msg.payload)) if known.id.encode() in msg.payload else None
        ),
    )
    door.start()
    assert door.wait_connected(10)
    flood = [encode(Tap(id=new_id(), ts=utcnow(), card=f"0D{i:08X}")) for i in range(2000)]
    for payload in flood[:1000]:
        door.publish(topic, payload)
    sent = time.monotonic()
    door.publish(topic, known)
    for payload in flood[1000:]:
        door.publish(topic, payload)
    # The door gives up after 2 s; the known card's answer comes well before.
    decision = answers.get(timeout=max(0.0, 2.0 - (time.monotonic() - sent)))
    assert (decision.by, decision.granted, decision.reason) == ("gateway", True, "membership")

    # Every tap handled, nearly all refused from memory (the door's bucket holds 10, then
    # 30 a minute), and of those only the first 10 or so answered: the rest are counted.
    wait_for(lambda: gw.counters.answered + gw.rejects.total("flood") == 2001, timeout=30)
    assert gw.answers.throttled >= 1980
    assert gw.counters.answered < 40
