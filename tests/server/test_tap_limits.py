"""Tap limits on the server (protocol.attempts; issue 8, item 5): a card refused too often
is answered `too_many_attempts` for a cooling period, unknown cards are throttled per
door, both from memory without a row of their own, and staff are alerted once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support.factories import membership

from protocol.messages import Decision, Result, Tap, new_id
from server.access.limiter import COOLING, FLOOD
from server.access.service import TapFate
from server.db import models
from server.errors import Rejected
from server.people import members

COWORKER, STAFF = "04B2C3D4", "04A1B2C3"


class Monotonic:
    """The tap limits' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def door(ctx, clock):
    """The access service with a coworker (entrance and coworking zone, in opening hours)
    and a staff member; `door.tap(device, card)` decides a tap and returns the answer."""
    with ctx.writes() as s, s.begin():
        anna = members.create_member(s, name="Anna Kowalska", category="business")
        ewa = members.create_member(s, name="Ewa Nowak", category="staff")
        members.add_card(s, card_key=ctx.card_key, member_id=anna.id, uid=COWORKER)
        members.add_card(s, card_key=ctx.card_key, member_id=ewa.id, uid=STAFF)
        start, end = clock.now - timedelta(days=1), clock.now + timedelta(days=30)
        membership(s, anna.id, "coworking", start, end)
    monotonic = Monotonic()
    ctx.access.monotonic = monotonic

    class Door:
        ids = {"anna": anna.id, "ewa": ewa.id}

        def __init__(self) -> None:
            self.monotonic = monotonic
            self.fates: list[TapFate] = []

        def tap(self, device: str, card: str, *, replay: bool = False) -> Decision | None:
            answers: list[Decision] = []
            tap = Tap(id=new_id(), ts=clock.now, card=card, replay=replay)
            self.fates.append(ctx.access.handle_tap(device, tap, answers.append))
            return answers[0] if answers else None

        def move(self, seconds: float) -> None:
            monotonic.now += seconds
            clock.advance(seconds=seconds)

    return Door()


def access_rows(ctx) -> int:
    with ctx.reads() as s:
        return int(s.scalar(select(func.count()).select_from(models.AccessEvent)) or 0)


def open_alerts(ctx, kind: str) -> list[models.Alert]:
    assert ctx.access.after.wait_idle(10)
    with ctx.reads() as s:
        A = models.Alert
        return list(s.scalars(select(A).where(A.kind == kind, A.acknowledged_at.is_(None))))


def test_five_denials_within_a_minute_and_the_card_cools_down(door, ctx):
    for _ in range(5):  # the coworking plan does not open Sala A
        assert door.tap("reader-sala-a", COWORKER).reason == "no_access"
        door.move(10)
    rows = access_rows(ctx)
    sixth = door.tap("reader-main", COWORKER)  # where she would be let in
    assert (sixth.granted, sixth.reason, sixth.name) == (False, "too_many_attempts", None)
    assert access_rows(ctx) == rows  # answered from memory: no row of its own
    assert door.fates[-1] is TapFate.LIMITED
    assert ctx.access.counters.limited == {("reader-main", COOLING): 1}
    [alert] = open_alerts(ctx, "too_many_attempts")
    assert (alert.room_id, alert.device_id) == ("sala-a", "reader-sala-a")
    assert alert.details["member_id"] == door.ids["anna"]
    assert alert.details["room"] == "Sala warsztatowa A"
    # others are not held up, and the cooling card raises no second alert
    assert door.tap("reader-main", STAFF).granted
    assert door.tap("reader-cowork", COWORKER).reason == "too_many_attempts"
    door.move(289)  # 299 s after the fifth denial
    assert door.tap("reader-main", COWORKER).reason == "too_many_attempts"
    door.move(1)  # the 5-minute cooling period is over: decided as usual
    assert door.tap("reader-main", COWORKER).reason == "membership"
    assert len(open_alerts(ctx, "too_many_attempts")) == 1
    assert open_alerts(ctx, "too_many_attempts")[0].details["count"] == 1


def test_a_card_in_its_cooling_period_is_answered_even_at_a_flooded_door(door):
    """Unanswered, the door would fall back on its emergency list, which may hold it."""
    for _ in range(5):
        door.tap("reader-sala-a", COWORKER)
    junk = [door.tap("reader-main", f"0E{i:06X}") for i in range(40)]
    assert junk[-1] is None  # the door's bucket of answers to refused taps is empty
    for _ in range(20):
        assert door.tap("reader-main", COWORKER).reason == "too_many_attempts"


def test_denials_spread_over_more_than_a_minute_do_not_add_up(door):
    for _ in range(8):
        assert door.tap("reader-sala-a", COWORKER).reason == "no_access"
        door.move(15)  # four denials at most in any minute
    assert door.tap("reader-main", COWORKER).reason == "membership"


def test_a_grant_clears_the_count(door):
    for _ in range(4):
        door.tap("reader-sala-a", COWORKER)
    assert door.tap("reader-main", COWORKER).granted
    assert door.tap("reader-sala-a", COWORKER).reason == "no_access"


def test_unknown_cards_are_throttled_per_door_and_known_ones_are_not(door, ctx):
    """A burst of 10 unknown-card taps a door is decided and recorded; past it they are
    refused from memory (30 a minute come back), whichever unknown card it is."""
    junk = [f"0E{i:06X}" for i in range(30)]
    for card in junk[:10]:
        assert door.tap("reader-sala-b", card).reason == "unknown_card"
    assert access_rows(ctx) == 10
    # refused from memory: the first 10 answered why, the rest only counted (a flood's
    # answers would cost everyone a message each)
    answers = [door.tap("reader-sala-b", card) for card in junk[10:]]
    assert [a.reason if a else None for a in answers] == ["too_many_attempts"] * 10 + [None] * 10
    assert door.tap("reader-sala-b", junk[0], replay=True) is None  # not answered either
    assert access_rows(ctx) == 10
    assert ctx.access.counters.limited[("reader-sala-b", FLOOD)] == 21
    # known cards at that door, and unknown ones at another, are decided as usual
    assert door.tap("reader-sala-b", STAFF).reason == "staff"
    assert door.tap("reader-main", junk[29]).reason == "unknown_card"
    [alert] = open_alerts(ctx, "unknown_card_flood")
    assert (alert.device_id, alert.details["room"]) == ("reader-sala-b", "Sala konferencyjna B")
    assert alert.details["throttled"] == 1
    door.move(2)  # one tap's worth of the bucket back
    assert door.tap("reader-sala-b", "0EFFFFFF").reason == "unknown_card"
    assert door.tap("reader-sala-b", "0EFFFFFE").reason == "too_many_attempts"
    assert len(open_alerts(ctx, "unknown_card_flood")) == 1  # one per door per cooldown


def test_one_unknown_card_tapped_over_and_over_cools_down_too(door, ctx):
    for _ in range(5):
        assert door.tap("reader-main", "0DEADBEEF0").reason == "unknown_card"
    assert door.tap("reader-main", "0DEADBEEF0").reason == "too_many_attempts"
    [alert] = open_alerts(ctx, "too_many_attempts")
    assert alert.details["member_id"] is None


def test_the_limits_follow_the_site_rules(door, ctx):
    """The limits come from the snapshot's rules (the site config's `[access]`)."""
    door.tap("reader-main", STAFF)
    limits = ctx.access.limiter.limits
    rules = ctx.site.access
    assert (limits.max_denied, limits.denied_window_s, limits.cooldown_s) == (
        rules.max_denied_taps,
        rules.denied_window,
        rules.attempts_cooldown,
    )
    assert (limits.unknown_burst, limits.unknown_per_minute) == (
        rules.unknown_taps_burst,
        rules.unknown_taps_per_minute,
    )


def test_the_gateways_too_many_attempts_is_not_recorded_on_its_own(door, ctx):
    """Like the server's own: during a flood the gateway's answers would cost a row each."""
    decision = Decision(id=new_id(), granted=False, reason="too_many_attempts", by="gateway")
    assert ctx.access.handle_decision("reader-sala-b", decision) is False
    assert access_rows(ctx) == 0
    assert ctx.access.counters.limited[("reader-sala-b", "gateway")] == 1
    other = Decision(id=new_id(), granted=False, reason="unknown_card", by="gateway")
    assert ctx.access.handle_decision("reader-sala-b", other) is True
    assert access_rows(ctx) == 1


def test_the_result_of_a_tap_answered_from_memory_is_refused_without_a_row(door, ctx):
    for i in range(10):
        door.tap("reader-sala-b", f"0E{i:06X}")
    answers: list[Decision] = []
    junk = Tap(id=new_id(), ts=ctx.clock(), card="0EFFFFFF")
    assert ctx.access.handle_tap("reader-sala-b", junk, answers.append) is TapFate.LIMITED
    result = Result(id=new_id(), tap=junk.id, applied="server", granted=False)
    with pytest.raises(Rejected) as refused:
        ctx.access.handle_result("reader-sala-b", result)
    assert refused.value.reason == "result_of_limited_tap"
    assert access_rows(ctx) == 10
