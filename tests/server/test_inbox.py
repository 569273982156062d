"""The inbox fed directly (server/adapters/inbox.py): every message acknowledged exactly once; what
fails on the database held and tried again with backoff without holding up other
devices; what can never apply counted and acknowledged; bugs dead-lettered at once; a
copy the broker sends again after a reconnect acknowledged once. A moved clock, no sleep."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as paho
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from support.clock import MonotonicClock as Clock
from support.waiting import wait_for

from protocol import topics
from protocol.messages import Tap
from server.adapters.inbox import ELSEWHERE_MAX, Inbox
from server.adapters.letters import retry_delay
from server.adapters.rejections import INVALID, Rejections, decoded
from server.adapters.writehealth import WriteHealth, transient
from server.context import ServerContext
from server.db import models
from server.errors import NotYet, Rejected

SITE = "piaseczno"
WALL = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FULL = OperationalError("INSERT ...", {}, Exception("database or disk is full"))


class Handler:
    """A handler whose outcome per topic the test sets: a list of exceptions raised on
    the next calls (None: applied)."""

    def __init__(self) -> None:
        self.plan: dict[str, list[BaseException | None]] = {}
        self.applied: list[tuple[str, bytes]] = []
        self.needs: dict[str, str] = {}  # topic -> topic of a message it waits for (NotYet)
        self.calls = 0

    def fail(self, topic: str, *outcomes: BaseException | None) -> None:
        self.plan[topic] = list(outcomes)

    def __call__(self, topic: str, payload: bytes) -> None:
        self.calls += 1
        outcomes = self.plan.get(topic)
        outcome = outcomes.pop(0) if outcomes else None
        if outcome is not None:
            raise outcome
        if topic in self.needs and all(t != self.needs[topic] for t, _ in self.applied):
            raise NotYet("result_without_tap")
        self.applied.append((topic, payload))


class Store:
    """The dead-letter table, as the inbox sees it; `down` makes it fail as a full disk."""

    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []
        self.down = False

    def __call__(self, **letter: Any) -> None:
        if self.down:
            raise FULL
        self.kept.append(letter)


class Setup:
    def __init__(self, **kwargs: Any) -> None:
        self.clock = Clock(1000.0)
        self.handler = Handler()
        self.store = Store()
        self.acks: list[int] = []
        self.health = WriteHealth()
        self.inbox = Inbox(
            "test",
            self.handler,
            ack=lambda msg: self.acks.append(msg.mid),
            store=self.store,
            rejections=Rejections("test", clock=self.clock),
            health=self.health,
            wall=lambda: WALL,
            clock=self.clock,
            **kwargs,
        )
        self.mid = 0

    def msg(self, topic: str, payload: bytes = b"{}") -> paho.MQTTMessage:
        self.mid += 1
        msg = paho.MQTTMessage(mid=self.mid, topic=topic.encode())
        msg.payload, msg.qos = payload, 1
        return msg

    def receive(self, topic: str, payload: bytes = b"{}") -> int:
        msg = self.msg(topic, payload)
        self.inbox.receive(msg)
        return msg.mid

    def until_settled(self, step: float = 0.05, limit: int = 200) -> None:
        """Move the clock and retry until nothing is held."""
        for _ in range(limit):
            if not self.inbox.held():
                return
            self.clock.advance(step)
            self.inbox.retry_due()
        raise AssertionError("still held")


TAP_A = topics.tap(SITE, "reader-main")
TAP_B = topics.tap(SITE, "reader-cowork")
RESULT_A = topics.result(SITE, "reader-main")


@pytest.fixture
def s() -> Setup:
    return Setup()


def test_an_applied_message_is_acknowledged_once(s: Setup) -> None:
    mid = s.receive(TAP_A)
    assert s.acks == [mid]
    assert s.inbox.lag_s() == 0.0
    assert s.inbox.retry_due() == 0
    assert s.acks == [mid]


def test_a_transient_failure_is_held_and_retried_with_backoff_until_it_applies(s: Setup) -> None:
    s.handler.fail(TAP_A, FULL, FULL, FULL)
    mid = s.receive(TAP_A)
    assert (s.acks, s.inbox.held()) == ([], 1)
    tried_at = []
    for _ in range(40):
        s.clock.advance(0.01)
        if s.inbox.retry_due():
            tried_at.append(round(s.clock.now - 1000.0, 2))
    # tried again after 0.05, then 0.1 and 0.2 more (doubling), and applied the third time
    assert tried_at == pytest.approx([0.05, 0.15, 0.35], abs=0.025)
    assert s.acks == [mid]
    assert s.handler.applied == [(TAP_A, b"{}")]
    assert [retry_delay(n) for n in (1, 2, 3, 6, 7, 30)] == [0.05, 0.1, 0.2, 1.6, 2.0, 2.0]


def test_one_devices_held_message_does_not_delay_another_devices(s: Setup) -> None:
    s.handler.fail(TAP_A, FULL)
    held = s.receive(TAP_A)
    s.clock.advance(0.01)
    other = s.receive(TAP_B)
    assert s.acks == [other]  # at once, while the first one waits for its retry
    s.clock.advance(1.0)
    assert s.inbox.lag_s() == pytest.approx(1.01)
    s.until_settled()
    assert s.acks == [other, held]
    assert s.inbox.lag_s() == 0.0


def test_what_can_never_apply_is_counted_logged_once_a_minute_and_acknowledged(
    s: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    s.handler.fail(TAP_A, *[Rejected("invalid_payload", "Tap.card: bad")] * 4)
    s.handler.fail(TAP_B, Rejected("unknown_device", "no such device"))
    with caplog.at_level(logging.WARNING, logger="server.adapters.rejections"):
        mids = [s.receive(TAP_A) for _ in range(3)] + [s.receive(TAP_B)]
        s.clock.advance(61)
        mids.append(s.receive(TAP_A))
    assert s.acks == mids
    assert s.inbox.rejections.counts() == {
        ("reader-main", "invalid_payload"): 4,
        ("reader-cowork", "unknown_device"): 1,
    }
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines  # reader-main twice (a minute apart), reader-cowork once
    assert "2 more from it" in lines[2]
    assert s.handler.applied == []


def test_a_bad_topic_is_counted_under_one_device(s: Setup) -> None:
    s.handler.fail("hub/piaseczno/dev/BAD/evt/tap", Rejected("bad_topic"))
    mid = s.receive("hub/piaseczno/dev/BAD/evt/tap")
    assert s.acks == [mid]
    assert s.inbox.rejections.counts() == {(INVALID, "bad_topic"): 1}


def test_a_bug_is_dead_lettered_at_once_and_acknowledged(s: Setup) -> None:
    s.handler.fail(TAP_A, OverflowError("date value out of range"))
    mid = s.receive(TAP_A, b'{"card":"04A1B2C3"}')
    assert s.acks == [mid]
    [kept] = s.store.kept
    assert kept == {
        "topic": TAP_A,
        "payload": b'{"card":"04A1B2C3"}',
        "device_id": "reader-main",
        "error": "OverflowError: date value out of range",
        "attempts": 1,
        "received": WALL,
    }
    assert s.inbox.stats.dead_letters == 1


def test_a_bug_while_the_database_is_full_waits_for_its_dead_letter(s: Setup) -> None:
    s.handler.fail(TAP_A, ProgrammingError("SELECT", {}, Exception("no such column")))
    s.store.down = True
    s.receive(TAP_A)
    for _ in range(5):
        s.clock.advance(2.0)
        s.inbox.retry_due()
    assert (s.acks, s.store.kept, s.handler.calls) == ([], [], 1)  # the handler not again
    assert not s.health.writable
    s.store.down = False
    s.until_settled()
    assert s.acks == [1]
    assert len(s.store.kept) == 1


def test_failing_past_give_up_is_set_aside_once_the_database_takes_it() -> None:
    s = Setup(give_up_s=10.0)
    s.handler.fail(TAP_A, *[IntegrityError("INSERT", {}, Exception("UNIQUE"))] * 1000)
    s.store.down = True
    s.receive(TAP_A)
    for _ in range(20):  # 40 s: past the give-up time, but nothing takes it
        s.clock.advance(2.0)
        s.inbox.retry_due()
    assert (s.acks, s.store.kept) == ([], [])
    assert s.inbox.lag_s() == pytest.approx(40.0)
    s.store.down = False
    s.until_settled()
    assert s.acks == [1]
    [kept] = s.store.kept
    assert kept["error"].startswith("IntegrityError") and kept["attempts"] > 10


def test_while_the_database_takes_nothing_messages_stay_held_and_resume_by_themselves(
    s: Setup,
) -> None:
    s.handler.fail(TAP_A, *[FULL] * 30)
    s.handler.fail(TAP_B, *[FULL] * 30)
    first, second = s.receive(TAP_A), s.receive(TAP_B)
    for _ in range(10):
        s.clock.advance(2.0)
        s.inbox.retry_due()
    assert s.acks == [] and s.inbox.held() == 2
    s.handler.plan.clear()  # the disk has room again
    s.until_settled(step=2.0)
    assert sorted(s.acks) == [first, second]
    assert s.store.kept == []  # applied, not set aside


def test_not_yet_waits_while_an_earlier_message_of_its_device_is_held(s: Setup) -> None:
    s.handler.fail(TAP_A, FULL, FULL)
    s.handler.needs[RESULT_A] = TAP_A
    tap, result = s.receive(TAP_A), s.receive(RESULT_A)
    assert s.acks == [] and s.inbox.held() == 2
    s.until_settled()
    assert sorted(s.acks) == [tap, result]
    assert [t for t, _ in s.handler.applied] == [TAP_A, RESULT_A]
    assert s.inbox.rejections.counts() == {}


def test_not_yet_without_anything_earlier_is_rejected_at_once(s: Setup) -> None:
    s.handler.fail(TAP_B, FULL)  # another device's held message changes nothing
    s.receive(TAP_B)
    s.handler.fail(RESULT_A, NotYet("result_without_tap"))
    result = s.receive(RESULT_A)
    assert s.acks == [result]
    assert s.inbox.rejections.counts() == {("reader-main", "result_without_tap"): 1}


def test_forged_results_do_not_wait_on_each_other(s: Setup) -> None:
    s.handler.fail(RESULT_A, *[NotYet("result_without_tap")] * 30)
    forged = [s.receive(RESULT_A, f"forged {i}".encode()) for i in range(30)]
    assert s.acks == forged and s.inbox.held() == 0


def test_not_yet_is_rejected_after_its_time() -> None:
    s = Setup(not_yet_s=5.0)
    s.handler.fail(TAP_A, *[FULL] * 1000)
    s.handler.fail(RESULT_A, *[NotYet("result_without_tap")] * 1000)
    s.receive(TAP_A)
    result = s.receive(RESULT_A)
    for _ in range(6):
        s.clock.advance(1.0)
        s.inbox.retry_due()
    assert s.acks == [result]
    assert s.inbox.rejections.counts() == {("reader-main", "result_without_tap"): 1}


def test_with_replicas_a_result_waits_a_while_for_a_tap_another_applies() -> None:
    """A tap and its Result may reach different replicas: the Result is held up to
    `elsewhere_s` for the other's commit, a few at most at once, then rejected."""
    s = Setup(elsewhere_s=2.0)
    s.handler.fail(RESULT_A, NotYet("result_without_tap"))  # the tap not committed yet
    first = s.receive(RESULT_A, b"first")
    assert s.acks == [] and s.inbox.held() == 1
    s.until_settled(step=0.1)  # committed meanwhile: applied on its next try
    assert s.acks == [first] and s.inbox.rejections.counts() == {}
    # forged ones: a few held, the rest rejected at once, each within elsewhere_s
    s.handler.plan[RESULT_A] = [NotYet("result_without_tap")] * 1000
    forged = [s.receive(RESULT_A, f"forged {i}".encode()) for i in range(20)]
    assert s.inbox.held() == ELSEWHERE_MAX
    assert len(s.acks) == 1 + 20 - ELSEWHERE_MAX
    s.until_settled(step=0.5)
    assert sorted(s.acks) == sorted([first, *forged])
    assert s.inbox.rejections.counts() == {("reader-main", "result_without_tap"): 20}


def test_a_copy_sent_again_after_a_reconnect_is_acknowledged_once(s: Setup) -> None:
    s.handler.fail(TAP_A, FULL)
    s.receive(TAP_A, b"held")
    done_late = s.inbox.open(s.msg(TAP_B, b"late"))  # under way when the connection drops
    assert done_late is not None
    s.inbox.new_connection()
    s.inbox.settle(done_late)  # applied, but its packet id belongs to the old connection
    assert s.acks == []
    again_held = s.receive(TAP_A, b"held")  # the broker sends both again
    again_late = s.receive(TAP_B, b"late")
    assert s.acks == [again_late]  # owed: acknowledged without applying it twice
    s.until_settled()
    assert s.acks == [again_late, again_held]
    assert s.handler.applied == [(TAP_A, b"held")]  # and the late one not again
    assert s.inbox.stats.redelivered == 2


def test_settled_through_tells_when_everything_before_a_point_is_done(s: Setup) -> None:
    s.handler.fail(TAP_A, FULL)
    s.receive(TAP_A)
    point = s.inbox.last_seq
    s.receive(TAP_B)
    assert not s.inbox.settled_through(point)
    s.until_settled()
    assert s.inbox.settled_through(point)


def test_the_inbox_thread_retries_by_itself() -> None:
    handler = Handler()
    handler.fail(TAP_A, FULL, FULL)
    acks: list[int] = []
    inbox = Inbox("test", handler, ack=lambda m: acks.append(m.mid), store=Store())
    msg = paho.MQTTMessage(mid=7, topic=TAP_A.encode())
    msg.payload, msg.qos = b"{}", 1
    inbox.start()
    try:
        inbox.receive(msg)
        wait_for(lambda: acks == [7])
    finally:
        inbox.stop()


def test_transient_tells_the_database_from_a_bug() -> None:
    assert transient(FULL)
    assert transient(IntegrityError("INSERT", {}, Exception("UNIQUE")))
    assert not transient(ProgrammingError("SELECT", {}, Exception("syntax")))
    assert not transient(OverflowError("date value out of range"))
    assert not transient(Rejected("bad_topic"))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not_json"),
        (b"\xff\xfe", "not_json"),
        (b"[1, 2]", "not_an_object"),
        (b"null", "not_an_object"),
        (b'{"v":1,"id":"x"}', "invalid_payload"),
        (b'{"v":1,"id":"x","ts":"2026-03-02T09:00:00Z","card":"04A1B2C3","seq":1e30}',
         "invalid_payload"),
        (b'{"v":1,"pad":"' + b"x" * 5000 + b'"}', "too_large"),
    ],
)  # fmt: skip
def test_decoded_names_why_a_payload_is_refused(payload: bytes, reason: str) -> None:
    with pytest.raises(Rejected) as refused:
        decoded(Tap, payload)
    assert refused.value.reason == reason


def test_write_health_follows_the_commits_that_wrote(ctx: ServerContext) -> None:
    health = WriteHealth()
    health.watch(ctx.writes)
    try:
        assert health.writable
        health.failed()
        assert not health.writable
        with ctx.writes() as session, session.begin():
            session.get(models.Device, "reader-main")  # a commit that wrote nothing
        assert not health.writable
        with ctx.writes() as session, session.begin():
            session.get(models.Device, "reader-main").online = True  # type: ignore[union-attr]
        assert health.writable
    finally:
        health.unwatch(ctx.writes)
    health.failed()
    with ctx.writes() as session, session.begin():
        session.get(models.Device, "reader-main").online = False  # type: ignore[union-attr]
    assert not health.writable  # no longer watching
