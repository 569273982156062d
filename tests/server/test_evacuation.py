"""The evacuation list (server.occupancy.evacuation): who a door at an entrance let in
since the site's local midnight, and the entrance counter's count, at explicit times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.clock import Clock as FakeClock

from protocol.messages import Count, new_id
from server.context import ServerContext
from server.db import models
from server.occupancy.evacuation import evacuation_list, first_and_last
from server.occupancy.readings import Reading, record_readings
from server.people.members import create_member

MIDNIGHT = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # 00:00 CET on Monday 2 March (Warsaw)


def member(ctx: ServerContext, name: str) -> int:
    with ctx.writes() as s, s.begin():
        return create_member(s, name=name, category="resident").id


def tap(
    ctx: ServerContext,
    member_id: int,
    at: datetime,
    *,
    device: str = "reader-main",
    granted: bool = True,
    applied: bool | None = None,
) -> None:
    """An access event of record at `at`; `applied`: the door's Result, if it sent one."""
    with ctx.writes() as s, s.begin():
        s.add(
            models.AccessEvent(
                device_id=device,
                event_id=new_id(),
                received=at,
                member_id=member_id,
                granted=granted,
                by="server",
                result_applied=None if applied is None else ("relay" if applied else "none"),
                result_granted=applied,
            )
        )


def listed(ctx: ServerContext, now: datetime) -> list[tuple[str, datetime, datetime]]:
    with ctx.reads() as s:
        found = evacuation_list(s, site=ctx.site, now=now)
    return [(e.name, e.first, e.last) for e in found.entered]


def test_members_let_in_at_the_entrance_today_are_listed_by_name(
    ctx: ServerContext, clock: FakeClock
) -> None:
    zofia, adam, ewa = member(ctx, "Zofia"), member(ctx, "adam"), member(ctx, "Ewa")
    t = clock.now  # 10:00 in Warsaw
    tap(ctx, zofia, t - timedelta(hours=2))
    tap(ctx, zofia, t - timedelta(minutes=30))
    tap(ctx, adam, t - timedelta(hours=1))
    tap(ctx, ewa, t - timedelta(minutes=5), device="reader-sala-a")  # not an entrance
    assert listed(ctx, t) == [
        ("adam", t - timedelta(hours=1), t - timedelta(hours=1)),
        ("Zofia", t - timedelta(hours=2), t - timedelta(minutes=30)),
    ]


def test_only_grants_the_door_applied_since_local_midnight_count(
    ctx: ServerContext, clock: FakeClock
) -> None:
    anna, jan, ola, piotr = (member(ctx, n) for n in ("Anna", "Jan", "Ola", "Piotr"))
    tap(ctx, anna, MIDNIGHT - timedelta(seconds=1))  # 23:59:59 the day before
    tap(ctx, jan, MIDNIGHT)  # 00:00 local: today
    tap(ctx, ola, MIDNIGHT + timedelta(hours=8), granted=False)
    tap(ctx, piotr, MIDNIGHT + timedelta(hours=8), applied=False)  # the door stayed shut
    tap(ctx, ola, MIDNIGHT + timedelta(hours=9), granted=False, applied=True)  # it opened
    names = [name for name, _first, _last in listed(ctx, clock.now)]
    assert names == ["Jan", "Ola"]
    # Nothing after `now` is listed.
    assert listed(ctx, MIDNIGHT + timedelta(hours=8)) == [("Jan", MIDNIGHT, MIDNIGHT)]


def test_the_count_is_the_entrance_counter_s(ctx: ServerContext, clock: FakeClock) -> None:
    with ctx.reads() as s:
        assert evacuation_list(s, site=ctx.site, now=clock.now).people in (None, 0)
    count = Count(id=new_id(), ts=clock.now, entered=5, left=2)
    with ctx.writes() as s, s.begin():
        record_readings(s, site=ctx.site, readings=[Reading("counter-main", count)], now=clock.now)
    with ctx.reads() as s:
        assert evacuation_list(s, site=ctx.site, now=clock.now).people == 3


def test_the_list_is_cut_at_its_limit(ctx: ServerContext, clock: FakeClock) -> None:
    for name in ("C", "A", "B"):
        tap(ctx, member(ctx, name), clock.now - timedelta(minutes=1))
    with ctx.reads() as s:
        found = evacuation_list(s, site=ctx.site, now=clock.now, limit=2)
    assert [e.name for e in found.entered] == ["A", "B"]


def test_first_and_last_take_any_order() -> None:
    a, b, c = (MIDNIGHT + timedelta(hours=h) for h in (8, 9, 10))
    assert first_and_last([(1, b), (2, a), (1, c), (1, a)]) == {1: (a, c), 2: (a, a)}
    assert first_and_last([]) == {}
