"""A tap answered as it arrives and recorded after (issue 12): `AccessService.look` sends a
decision that changes nothing from one read (`TapLookup`), `handle_tap` then records the
tap from that look without answering it again; a copy of a tap under way is never
answered twice; and the inbox with a first look applies its messages on its own thread,
in order, acknowledging each once it is applied."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import paho.mqtt.client as paho
from sqlalchemy import select, text
from support.clock import MonotonicClock as Clock
from support.factories import card, member

from protocol import topics
from protocol.cards import card_hash
from protocol.messages import Decision, Tap, new_id
from server.access.fates import TapFate
from server.adapters.inbox import BEHIND_S, Inbox
from server.context import ServerContext
from server.db import models

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

UID = "04A1B2C3D4E5F6"


def staff(ctx: ServerContext, name: str = "Ewa Nowak") -> int:
    with ctx.writes() as s, s.begin():
        ewa = member(s, name, category="staff")
        card(s, ewa.id, UID, ctx.card_key)
        return ewa.id


def rows(ctx: ServerContext) -> list[models.AccessEvent]:
    with ctx.reads() as s:
        return list(s.scalars(select(models.AccessEvent)))


def tap(now: datetime) -> Tap:
    return Tap(id=new_id(), ts=now, card=UID)


def test_a_tap_looked_at_is_answered_once_and_recorded_from_that_look(
    ctx: ServerContext, clock: FakeClock
) -> None:
    ewa = staff(ctx)
    answers: list[Decision] = []
    t = tap(clock.now)
    ctx.access.look("reader-main", t, answers.append)
    assert [(a.id, a.granted, a.name) for a in answers] == [(t.id, True, "Ewa N.")]
    assert rows(ctx) == []  # answered before any write
    assert ctx.access.handle_tap("reader-main", t, answers.append) is TapFate.ANSWERED
    assert len(answers) == 1
    [row] = rows(ctx)
    assert (row.event_id, row.granted, row.by, row.member_id) == (t.id, True, "server", ewa)


def test_the_gateway_s_decision_recorded_between_the_answer_and_the_record_goes_beside_it(
    ctx: ServerContext, clock: FakeClock
) -> None:
    """The server answered as the tap arrived; the gateway's decision (it took over) is
    recorded before the tap is: the server's decision stays the one of record."""
    ewa = staff(ctx)
    answers: list[Decision] = []
    t = tap(clock.now)
    ctx.access.look("reader-main", t, answers.append)
    late = Decision(id=t.id, granted=False, reason="no_access", by="gateway")
    assert ctx.access.handle_decision("reader-main", late)
    assert ctx.access.handle_tap("reader-main", t, answers.append) is TapFate.ANSWERED
    assert len(answers) == 1
    [row] = rows(ctx)
    assert (row.by, row.granted, row.reason, row.member_id) == ("server", True, "staff", ewa)
    assert (row.other_by, row.other_granted, row.other_reason) == ("gateway", False, "no_access")
    assert row.card_hash == card_hash(ctx.card_key, UID)


def test_a_copy_of_a_tap_under_way_is_not_answered_again(
    ctx: ServerContext, clock: FakeClock
) -> None:
    staff(ctx)
    answers: list[Decision] = []
    t = tap(clock.now)
    ctx.access.look("reader-main", t, answers.append)
    ctx.access.look("reader-main", t, answers.append)  # the broker's copy, before the record
    assert ctx.access.handle_tap("reader-main", t, answers.append) is TapFate.ANSWERED
    assert ctx.access.handle_tap("reader-main", t, answers.append) is TapFate.DUPLICATE
    ctx.access.look("reader-main", t, answers.append)  # a copy once recorded
    assert ctx.access.handle_tap("reader-main", t, answers.append) is TapFate.DUPLICATE
    assert len(answers) == 1
    assert len(rows(ctx)) == 1


def test_a_record_that_waits_for_another_writer_is_received_once_it_has_the_lock(
    ctx: ServerContext, clock: FakeClock
) -> None:
    """A tap's row is received when its transaction holds the write lock, not when the
    record began: a wait behind another writer counts against the door."""
    staff(ctx)
    t = tap(clock.now)
    ctx.access.look("reader-main", t, lambda decision: None)
    writing, done = threading.Event(), threading.Event()

    def other_writer() -> None:
        with ctx.writes() as s, s.begin():
            s.execute(text("UPDATE meta SET policy_n = policy_n WHERE id = 1"))
            writing.set()
            done.wait(10)

    holder = threading.Thread(target=other_writer)
    holder.start()
    assert writing.wait(10)
    record = threading.Thread(
        target=ctx.access.handle_tap, args=("reader-main", t, lambda decision: None)
    )
    record.start()
    deadline = time.monotonic() + 10
    while not ctx.access._lock.locked() and time.monotonic() < deadline:  # the record began
        time.sleep(0.001)
    time.sleep(0.05)  # and waits for the write lock
    clock.advance(seconds=7)
    done.set()
    holder.join(10)
    record.join(10)
    [row] = rows(ctx)
    assert row.received == t.ts + timedelta(seconds=7)


def test_the_lookup_reads_the_row_the_version_and_the_holder(
    ctx: ServerContext, clock: FakeClock
) -> None:
    ewa = staff(ctx, "Ewa Maria Nowak")
    hashed = card_hash(ctx.card_key, UID)
    t = tap(clock.now)
    looked = ctx.access.lookup("reader-main", t.id, hashed)
    with ctx.reads() as s:
        meta = s.get(models.Meta, 1)
        assert meta is not None
        assert looked.version == (meta.epoch, meta.policy_n)
    assert (looked.recorded, looked.holder, looked.name) == (False, ewa, "Ewa Maria Nowak")
    assert (looked.name_of(ewa), looked.name_of(ewa + 1)) == ("Ewa Maria Nowak", None)
    unknown = ctx.access.lookup("reader-main", t.id, card_hash(ctx.card_key, "0A0B0C0D"))
    assert (unknown.holder, unknown.name) == (None, None)
    ctx.access.handle_tap("reader-main", t, lambda decision: None)
    assert ctx.access.lookup("reader-main", t.id, hashed).recorded


def test_with_a_first_look_messages_are_applied_on_the_inbox_thread_in_order() -> None:
    looked: list[str] = []
    applied: list[str] = []
    acks: list[int] = []

    def first(topic: str, payload: bytes) -> None:
        looked.append(payload.decode())
        if payload == b"bad":
            raise ValueError("met again by the handler")

    def handle(topic: str, payload: bytes) -> None:
        if payload == b"bad":
            raise ValueError("a bug")
        applied.append(payload.decode())

    inbox = Inbox(
        "test", handle, ack=lambda msg: acks.append(msg.mid), store=lambda **_: None, first=first
    )
    for mid, payload in enumerate([b"a", b"bad", b"c"], start=1):
        msg = paho.MQTTMessage(mid=mid, topic=topics.tap("piaseczno", "reader-main").encode())
        msg.payload, msg.qos = payload, 1
        inbox.receive(msg)
    assert (looked, applied, acks) == (["a", "bad", "c"], [], [])  # looked at, not applied
    assert inbox.lag_s() >= 0.0 and inbox.settled_through(0)
    assert not inbox.settled_through(1)
    assert inbox.retry_due() == 3  # what the inbox's thread does
    assert (applied, acks) == (["a", "c"], [1, 2, 3])  # the bug dead-lettered, acknowledged
    assert inbox.settled_through(3)


def test_an_inbox_behind_takes_no_first_look_so_no_record_lags_far_behind_its_answer() -> None:
    clock = Clock(1000.0)
    looked: list[bytes] = []
    applied: list[bytes] = []
    inbox = Inbox(
        "test",
        lambda topic, payload: applied.append(payload),
        ack=lambda msg: None,
        store=lambda **_: None,
        clock=clock,
        first=lambda topic, payload: looked.append(payload),
    )
    for mid, payload in enumerate([b"a", b"b", b"c"], start=1):
        msg = paho.MQTTMessage(mid=mid, topic=topics.tap("piaseczno", "reader-main").encode())
        msg.payload, msg.qos = payload, 1
        inbox.receive(msg)
        clock.advance(BEHIND_S / 2 + 0.01)  # "a" waits, unhandled, longer and longer
    assert looked == [b"a", b"b"]  # "c" came with "a" waiting past BEHIND_S
    inbox.retry_due()
    assert applied == [b"a", b"b", b"c"]
