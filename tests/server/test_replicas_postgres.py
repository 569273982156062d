"""What several replicas share through PostgreSQL: one of them at a time runs the periodic
jobs (an advisory lock that goes with its holder's connection), and every replica's live
events reach every other replica's dashboards, its unknown cards every reception desk, and
its tap counts every replica's tap limits (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import create_engine
from support.database import ON_POSTGRES
from support.waiting import wait_for

from protocol.decide import Outcome
from protocol.messages import Reason
from server.access.limiter import Limiter
from server.access.unknown_cards import RecentUnknownCards
from server.adapters.live_relay import LiveRelay
from server.context import ServerContext
from server.db.leader import Lead, jobs_lock
from server.live.events import EventBus
from server.live.kinds import RoomEvent

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's locks and LISTEN/NOTIFY"),
]


def room(id_: str) -> RoomEvent:
    return RoomEvent(id=id_, occupied=True, people=None, last_motion=None, over_capacity=False)


def test_one_replica_at_a_time_runs_the_periodic_jobs_and_another_takes_over(
    ctx: ServerContext,
) -> None:
    other_engine = create_engine(ctx.engine.url)  # another replica: its own connections
    key = jobs_lock(ctx.site.id)
    first, second = Lead(ctx.engine, key), Lead(other_engine, key)
    try:
        assert first.held()
        assert not second.held()
        assert first.held()  # still held, asked again
        first.release()  # as when its process dies: the connection ends
        assert second.held()
        assert not first.held()
    finally:
        first.release()
        second.release()
        other_engine.dispose()


Relays = tuple[LiveRelay, LiveRelay]


@pytest.fixture
def relays(ctx: ServerContext) -> Iterator[Relays]:
    """The relays of two replicas on one database, listening: `here` on `ctx`, `there`
    with connections, a bus, unknown cards and tap limits of its own."""
    other_engine = create_engine(ctx.engine.url)
    here, there = LiveRelay(ctx), LiveRelay(ctx)
    there.engine, there.bus, there.unknown_cards = other_engine, EventBus(), RecentUnknownCards()
    there.limiter = Limiter(
        site=ctx.site, after=ctx.access.after, counts=Counter(), monotonic=time.monotonic
    )
    there.start()
    here.start()
    try:
        wait_for(lambda: here.listening.is_set() and there.listening.is_set(), 10)
        yield here, there
    finally:
        here.stop()
        there.stop()
        other_engine.dispose()


def test_a_replicas_live_events_reach_the_others_dashboards_once(
    ctx: ServerContext, relays: Relays
) -> None:
    here, there = relays
    heard: list[tuple[str, dict]] = []  # what a dashboard on `there` hears

    async def listen() -> None:
        sub = there.bus.subscribe()
        ctx.events.publish(room("sala-a"))
        there.bus.publish(room("sala-b"))  # its own: not heard back
        while len(heard) < 2:
            event = await sub.get(timeout=10)
            assert event is not None, f"heard only {heard}"
            heard.append((event.kind, event.data))
        await asyncio.sleep(0.5)  # nothing more comes (sala-a once, no echo)
        assert sub.delivered() == []

    asyncio.run(listen())
    assert sorted((kind, data["id"]) for kind, data in heard) == [
        ("room", "sala-a"),  # relayed from `here`
        ("room", "sala-b"),  # its own
    ]
    assert (here.relayed, there.relayed) == (1, 1)


def test_an_unknown_card_tapped_at_one_replica_is_offered_at_the_others(
    ctx: ServerContext, relays: Relays
) -> None:
    _here, there = relays
    now = ctx.clock()
    ctx.access.unknown_cards.add("reader-main", "a-card-hash", at=now)

    def offered() -> object:
        return there.unknown_cards.latest("reader-main", since=now - timedelta(seconds=1), now=now)

    tap = wait_for(offered, 10, "the card offered at the other replica")
    assert (tap.device_id, tap.card_hash, tap.at) == ("reader-main", "a-card-hash", now)


def test_a_cards_denials_add_up_across_replicas(ctx: ServerContext, relays: Relays) -> None:
    _here, there = relays
    limiter = ctx.access.limiter
    door = ctx.site.device("reader-main")
    assert door is not None
    denied = Outcome(granted=False, reason=Reason.NO_ACCESS)
    limit = limiter.limits.max_denied
    for _ in range(limit - 1):  # denied at `here`: not blocked yet, anywhere
        limiter.count(door, "a-card", denied)
    wait_for(lambda: there.relayed == limit - 1, 10, "the denials relayed, each")
    assert not there.limiter.limits.blocked("a-card", now=time.monotonic())
    there.limiter.count(door, "a-card", denied)  # the last one, at `there`
    assert there.limiter.limits.blocked("a-card", now=time.monotonic())
    wait_for(
        lambda: limiter.limits.blocked("a-card", now=time.monotonic()),
        10,
        "the card blocked at `here` too",
    )
