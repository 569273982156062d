"""The bookings domain service over a real SQLite file, with a frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.bookings import availability as free_time
from server.bookings import pricing, rules, store
from server.context import ServerContext
from server.db import meta, models
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.people import members
from server.site import Room, SiteConfig
from server.waitlist import entries as waitlist_entries
from server.waitlist import freed
from server.waitlist import offers as waitlist_offers

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the clock fixture: Monday 10:00 in Warsaw


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A Warsaw wall-clock time of 2026, in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=WARSAW).astimezone(UTC)


def add_member(ctx: ServerContext, category: str = "resident", **fields: Any) -> int:
    with ctx.writes() as session, session.begin():
        member = members.create_member(session, name="Anna", category=category)
        for name, value in fields.items():
            setattr(member, name, value)
        return member.id


def book(
    ctx: ServerContext,
    member_id: int,
    start: datetime,
    end: datetime,
    *,
    site: SiteConfig | None = None,
    room_id: str = "sala-a",
    **kw: Any,
) -> int:
    """Book through `create_booking` (the API's rules) in a transaction of its own."""
    with ctx.writes() as session, session.begin():
        request = rules.BookingRequest(room_id, member_id, start, end, **kw)
        booking = rules.create_booking(
            session, site=site or ctx.site, request=request, now=ctx.clock()
        )
        return booking.id


def set_status(ctx: ServerContext, booking_id: int, status: str) -> None:
    with ctx.writes() as session, session.begin():
        session.execute(
            update(models.Booking).where(models.Booking.id == booking_id).values(status=status)
        )


def policy_n(ctx: ServerContext) -> int:
    with ctx.reads() as session:
        return meta.version(session)[1]


def in_write(ctx: ServerContext, fn: Callable[[Session], Any]) -> Any:
    with ctx.writes() as session, session.begin():
        return fn(session)


def with_room(site: SiteConfig, room_id: str, **changes: Any) -> SiteConfig:
    rooms = [r.model_copy(update=changes) if r.id == room_id else r for r in site.rooms]
    return site.model_copy(update={"rooms": rooms})


# --- overlap and insert -------------------------------------------------------------------


def test_overlap_counts_booked_checked_in_and_completed_only(ctx: ServerContext) -> None:
    member = add_member(ctx)
    ids = {}
    for i, status in enumerate(store.STATUSES):
        ids[status] = book(ctx, member, at(3 + i, 10), at(3 + i, 12))
        set_status(ctx, ids[status], status)
    with ctx.reads() as session:
        found = {
            status: [
                b.id
                for b in store.overlapping(
                    session, room_id="sala-a", start=at(3 + i, 11), end=at(3 + i, 13)
                )
            ]
            for i, status in enumerate(store.STATUSES)
        }
    assert found == {
        "booked": [ids["booked"]],
        "checked_in": [ids["checked_in"]],
        "completed": [ids["completed"]],
        "released": [],
        "cancelled": [],
    }


def test_overlap_is_half_open_and_per_room(ctx: ServerContext) -> None:
    member = add_member(ctx)
    booking_id = book(ctx, member, at(3, 10), at(3, 12))
    with ctx.reads() as session:

        def clash(start: datetime, end: datetime, room: str = "sala-a", **kw: Any) -> list[int]:
            found = store.overlapping(session, room_id=room, start=start, end=end, **kw)
            return [b.id for b in found]

        assert clash(at(3, 12), at(3, 13)) == []  # touching end to start
        assert clash(at(3, 9), at(3, 10)) == []
        assert clash(at(3, 11, 59), at(3, 13)) == [booking_id]
        assert clash(at(3, 9), at(3, 13)) == [booking_id]
        assert clash(at(3, 10, 30), at(3, 11)) == [booking_id]
        assert clash(at(3, 10), at(3, 12), room="sala-b") == []
        assert clash(at(3, 10), at(3, 12), exclude_id=booking_id) == []


def test_insert_booking_refuses_an_overlap_naming_it(ctx: ServerContext) -> None:
    member = add_member(ctx)
    first = book(ctx, member, at(3, 10), at(3, 12))
    with pytest.raises(Conflict) as err:
        in_write(
            ctx,
            lambda s: store.insert_booking(
                s,
                site=ctx.site,
                room_id="sala-a",
                member_id=member,
                start=at(3, 11),
                end=at(3, 13),
                now=NOW,
            ),
        )
    assert f"booking {first}" in str(err.value)
    assert "2026-03-03T09:00:00Z" in str(err.value)


def test_insert_booking_skips_the_rules_but_not_the_overlap(ctx: ServerContext) -> None:
    member = add_member(ctx)

    def walk_in(session: Session) -> models.Booking:
        # In the past, in a room the API would not book: the caller's own rules apply.
        return store.insert_booking(
            session,
            site=ctx.site,
            room_id="coworking",
            member_id=member,
            start=NOW - timedelta(days=1),
            end=NOW + timedelta(hours=1),
            now=NOW,
            title="Walk-in",
            status="checked_in",
            source="walk_in",
        )

    booking = in_write(ctx, walk_in)
    assert (booking.status, booking.source, booking.room_id) == (
        "checked_in",
        "walk_in",
        "coworking",
    )
    with pytest.raises(Conflict):
        in_write(ctx, walk_in)


def test_create_stores_everything(ctx: ServerContext) -> None:
    holder = add_member(ctx, "business")
    guest = add_member(ctx)
    before = policy_n(ctx)
    booking_id = book(
        ctx, holder, at(3, 10), at(3, 11, 30), title="Board", attendees=[guest], public=True
    )
    assert policy_n(ctx) == before + 1
    with ctx.reads() as session:
        b = store.get_booking(session, booking_id=booking_id)
        assert (b.room_id, b.member_id, b.status, b.source) == ("sala-a", holder, "booked", "api")
        assert (b.start, b.end) == (at(3, 10), at(3, 11, 30))
        assert (b.title, b.attendee_ids, b.public, b.series_id) == ("Board", [guest], True, None)
        assert b.price == Decimal("120.00")
        assert b.created_at == NOW


# --- the API's rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": at(3, 12), "end": at(3, 12)}, "end must be after start"),
        ({"start": at(3, 12), "end": at(3, 11)}, "end must be after start"),
        ({"room_id": "sala-z"}, "unknown room 'sala-z'"),
        ({"room_id": "coworking"}, "room 'coworking' cannot be booked"),
        ({"room_id": "main"}, "room 'main' cannot be booked"),
        ({"start": at(3, 8), "end": at(3, 20, 1)}, "at most 12h"),
        ({"start": NOW - timedelta(minutes=6), "end": NOW + timedelta(hours=1)}, "in the past"),
        ({"start": NOW + timedelta(days=91), "end": NOW + timedelta(days=91, hours=1)}, "90 days"),
        ({"member_id": 999}, "member 999 does not exist"),
        ({"attendees": [999]}, "attendee 999 does not exist"),
        ({"attendees": ["guest", "guest"]}, "must not repeat"),
        ({"attendees": ["holder"]}, "holder is not one of its attendees"),
        ({"title": "x" * 201}, "at most 200 characters"),
    ],
)
def test_create_refuses_invalid_input(
    ctx: ServerContext, fields: dict[str, Any], message: str
) -> None:
    holder, guest = add_member(ctx), add_member(ctx)
    names = {"holder": holder, "guest": guest}
    if "attendees" in fields:
        fields = fields | {"attendees": [names.get(a, a) for a in fields["attendees"]]}
    kw = {"member_id": holder, "start": at(3, 10), "end": at(3, 12)} | fields
    with pytest.raises(Invalid, match=message):
        book(ctx, **kw)


def test_start_a_few_minutes_late_and_at_the_horizon_are_accepted(ctx: ServerContext) -> None:
    member = add_member(ctx, "business")  # no weekly quota (a resident's is 10 h)
    book(ctx, member, NOW - timedelta(minutes=4), NOW + timedelta(hours=1))
    book(ctx, member, NOW + timedelta(days=90), NOW + timedelta(days=90, hours=12))


def test_booking_suspended_member_is_forbidden_with_the_date(ctx: ServerContext) -> None:
    until = NOW + timedelta(days=14)
    member = add_member(ctx, booking_suspended_until=until)
    with pytest.raises(Forbidden, match="may not book until 2026-03-16T09:00:00Z.*no-show"):
        book(ctx, member, at(3, 10), at(3, 12))
    lapsed = add_member(ctx, booking_suspended_until=NOW - timedelta(seconds=1))
    book(ctx, lapsed, at(3, 10), at(3, 12))


def test_suspended_member_is_forbidden(ctx: ServerContext) -> None:
    member = add_member(ctx, suspended_until=NOW + timedelta(days=1))
    with pytest.raises(Forbidden, match="suspended until 2026-03-03T09:00:00Z"):
        book(ctx, member, at(3, 10), at(3, 12))


def test_room_hours_in_local_time_across_dst(ctx: ServerContext) -> None:
    site = with_room(ctx.site, "sala-a", hours={"tue": ["18:00-22:00"], "sat": ["10:00-24:00"]})
    member = add_member(ctx)

    def try_book(start: datetime, end: datetime) -> None:
        book(ctx, member, start, end, site=site)

    try_book(at(24, 18), at(24, 22))  # Tuesday before the change: 17:00Z
    try_book(at(31, 18), at(31, 20))  # Tuesday after it: 16:00Z
    try_book(at(7, 20), at(8, 0))  # Saturday to midnight
    for start, end in [
        (at(3, 17, 59), at(3, 19)),  # starts before the hours
        (at(3, 21), at(3, 22, 1)),  # ends after them
        (at(4, 18), at(4, 19)),  # Wednesday: no hours
        (at(7, 23), at(8, 1)),  # runs into Sunday
    ]:
        with pytest.raises(Invalid, match="only inside its hours"):
            try_book(start, end)


# --- recurrence ----------------------------------------------------------------------------


def series(ctx: ServerContext, member: int, start: datetime, end: datetime, weekly: int) -> Any:
    return in_write(
        ctx,
        lambda s: rules.create_series(
            s,
            site=ctx.site,
            request=rules.BookingRequest("sala-a", member, start, end, title="NGO weekly"),
            weekly=weekly,
            now=ctx.clock(),
        ),
    )


def test_weekly_series_of_26_is_created_with_one_series_id(ctx: ServerContext) -> None:
    member = add_member(ctx)
    before = policy_n(ctx)
    created = series(ctx, member, at(3, 18), at(3, 20), 26)
    assert len(created) == 26
    assert len({b.series_id for b in created}) == 1 and len(created[0].series_id) == 16
    assert policy_n(ctx) > before
    # Past the 90-day horizon: only the first occurrence must start inside it.
    assert created[-1].start.astimezone(WARSAW).date().isoformat() == "2026-08-25"
    with ctx.reads() as session:
        stored = store.list_bookings(session, member_id=member, limit=1000)
    assert [b.id for b in stored] == [b.id for b in created]
    assert {b.title for b in stored} == {"NGO weekly"}


def test_series_with_a_conflict_creates_nothing_and_names_it(ctx: ServerContext) -> None:
    member = add_member(ctx)
    other = add_member(ctx)
    blocking = book(ctx, other, at(17, 19), at(17, 21))
    with pytest.raises(rules.SeriesConflictError) as err:
        series(ctx, member, at(3, 18), at(3, 20), 4)
    assert err.value.conflicts == [
        rules.SeriesConflict(start=at(17, 18), end=at(17, 20), booking_id=blocking)
    ]
    message = str(err.value)
    assert "1 of 4 occurrences conflict" in message
    assert f"2026-03-17T17:00:00Z to 2026-03-17T19:00:00Z (booking {blocking})" in message
    with ctx.reads() as session:
        assert store.list_bookings(session, member_id=member) == []


def test_series_keeps_local_time_across_march_dst(ctx: ServerContext) -> None:
    member = add_member(ctx)
    created = series(ctx, member, at(17, 18), at(17, 20), 3)  # Tuesdays 17, 24, 31 March
    assert [b.start.astimezone(WARSAW).strftime("%m-%d %H:%M") for b in created] == [
        "03-17 18:00",
        "03-24 18:00",
        "03-31 18:00",
    ]
    assert [b.start.strftime("%H:%M") for b in created] == ["17:00", "17:00", "16:00"]
    assert all(b.end - b.start == timedelta(hours=2) for b in created)


def test_series_keeps_local_time_across_october_dst(ctx: ServerContext, clock: FakeClock) -> None:
    clock.now = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    member = add_member(ctx)
    created = series(ctx, member, at(18, 18, month=10), at(18, 20, month=10), 3)  # Sundays
    assert [b.start.astimezone(WARSAW).strftime("%m-%d %H:%M") for b in created] == [
        "10-18 18:00",
        "10-25 18:00",  # the day the clocks go back
        "11-01 18:00",
    ]
    assert [b.start.strftime("%H:%M") for b in created] == ["16:00", "17:00", "17:00"]


@pytest.mark.parametrize("weekly", [1, 27])
def test_series_length_is_bounded(ctx: ServerContext, weekly: int) -> None:
    member = add_member(ctx)
    with pytest.raises(Invalid, match="from 2 to 26"):
        series(ctx, member, at(3, 18), at(3, 20), weekly)


# --- the twenty-way race ---------------------------------------------------------------------


def test_twenty_concurrent_bookings_of_one_slot_one_wins(ctx: ServerContext) -> None:
    members_ = [add_member(ctx) for _ in range(20)]

    def attempt(member: int) -> str:
        try:
            book(ctx, member, at(3, 14), at(3, 16))
        except Conflict:
            return "conflict"
        return "booked"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, members_))
    assert sorted(outcomes) == ["booked"] + ["conflict"] * 19
    with ctx.reads() as session:
        assert len(store.list_bookings(session, room_id="sala-a")) == 1


# --- cancel --------------------------------------------------------------------------------


def cancel(ctx: ServerContext, booking_id: int) -> models.Booking:
    booking, _event = in_write(
        ctx,
        lambda s: freed.cancel_booking(s, site=ctx.site, booking_id=booking_id, now=NOW, by="api"),
    )
    return booking  # type: ignore[no-any-return]


def test_cancel_frees_the_slot_and_bumps_the_policy(ctx: ServerContext) -> None:
    member = add_member(ctx)
    booking_id = book(ctx, member, at(3, 10), at(3, 12))
    before = policy_n(ctx)
    cancelled = cancel(ctx, booking_id)
    assert (cancelled.status, cancelled.cancelled_at) == ("cancelled", NOW)
    assert policy_n(ctx) == before + 1
    book(ctx, member, at(3, 10), at(3, 12))


@pytest.mark.parametrize("status", ["cancelled", "checked_in", "released", "completed"])
def test_cancel_only_a_booked_booking(ctx: ServerContext, status: str) -> None:
    member = add_member(ctx)
    booking_id = book(ctx, member, at(3, 10), at(3, 12))
    set_status(ctx, booking_id, status)
    before = policy_n(ctx)
    with pytest.raises(Conflict, match=f"booking {booking_id} is {status}"):
        cancel(ctx, booking_id)
    assert policy_n(ctx) == before


def test_cancel_unknown_booking(ctx: ServerContext) -> None:
    with pytest.raises(NotFound):
        cancel(ctx, 12345)


def test_cancel_offers_the_rest_of_the_slot_to_the_waitlist(
    ctx: ServerContext, clock: FakeClock
) -> None:
    holder, waiting = add_member(ctx), add_member(ctx)
    booking_id = book(ctx, holder, at(2, 10), at(2, 13))  # from now (10:00 local)
    in_write(
        ctx,
        lambda s: waitlist_entries.join(
            s,
            site=ctx.site,
            member_id=waiting,
            room_id="sala-a",
            start=at(2, 11),
            end=at(2, 12),
            now=NOW,
        ),
    )
    cancel(ctx, booking_id)
    with ctx.reads() as session:
        offers = list(session.scalars(select(models.Offer)))
    assert [(o.member_id, o.room_id, o.start, o.end) for o in offers] == [
        (waiting, "sala-a", at(2, 11), at(2, 12))
    ]


def test_cancel_passes_the_freed_part_to_offer_freed_slot(
    ctx: ServerContext, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = add_member(ctx)
    started = book(ctx, member, at(2, 9, 58), at(2, 11))
    future = book(ctx, member, at(3, 10), at(3, 11))
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(waitlist_offers, "offer_freed_slot", lambda session, **kw: calls.append(kw))
    cancel(ctx, started)
    cancel(ctx, future)
    assert [(c["room_id"], c["start"], c["end"], c["now"]) for c in calls] == [
        # its whole span: a member waiting for a time already begun is offered what is
        # left of it, from now (server.waitlist.offers)
        ("sala-a", at(2, 9, 58), at(2, 11), NOW),
        ("sala-a", at(3, 10), at(3, 11), NOW),
    ]


# --- reading -------------------------------------------------------------------------------


def test_list_filters_and_overlap_window(ctx: ServerContext) -> None:
    anna, jan = add_member(ctx), add_member(ctx)
    a1 = book(ctx, anna, at(3, 10), at(3, 12))
    a2 = book(ctx, anna, at(4, 10), at(4, 12), room_id="sala-b")
    j1 = book(ctx, jan, at(5, 10), at(5, 12))
    set_status(ctx, j1, "cancelled")
    with ctx.reads() as session:

        def ids(**kw: Any) -> list[int]:
            return [b.id for b in store.list_bookings(session, **kw)]

        assert ids() == [a1, a2, j1]
        assert ids(member_id=anna) == [a1, a2]
        assert ids(room_id="sala-a") == [a1, j1]
        assert ids(status="cancelled") == [j1]
        assert ids(start_from=at(3, 12)) == [a2, j1]  # a1 ends exactly there
        assert ids(start_from=at(3, 11, 59)) == [a1, a2, j1]
        assert ids(end_to=at(4, 10)) == [a1]  # a2 starts exactly there
        assert ids(start_from=at(4, 11), end_to=at(4, 11, 1)) == [a2]
        assert ids(limit=1, offset=1) == [a2]


def test_current_booking(ctx: ServerContext) -> None:
    member = add_member(ctx)
    booking_id = book(ctx, member, at(2, 10), at(2, 11))
    book(ctx, member, at(2, 11), at(2, 12))
    with ctx.reads() as session:

        def current(now: datetime, room: str = "sala-a") -> int | None:
            b = store.current_booking(session, room_id=room, now=now)
            return None if b is None else b.id

        assert current(NOW) == booking_id
        assert current(NOW - timedelta(seconds=1)) is None
        assert current(at(2, 11)) == booking_id + 1
        assert current(NOW, "sala-b") is None
    set_status(ctx, booking_id, "released")
    with ctx.reads() as session:
        assert store.current_booking(session, room_id="sala-a", now=NOW) is None


# --- availability ----------------------------------------------------------------------------


def free(ctx: ServerContext, start: datetime, end: datetime, **kw: Any) -> list[tuple[Any, Any]]:
    with ctx.reads() as session:
        fields: dict[str, Any] = {"site": ctx.site, "room_id": "sala-a"} | kw
        return free_time.availability(session, start=start, end=end, **fields)


def test_availability_of_an_empty_room_is_the_whole_range(ctx: ServerContext) -> None:
    assert free(ctx, at(3, 0), at(4, 0)) == [(at(3, 0), at(4, 0))]


def test_availability_around_bookings_ignoring_cancelled_and_released(
    ctx: ServerContext,
) -> None:
    member = add_member(ctx)
    book(ctx, member, at(3, 9), at(3, 10))  # starts before the range
    book(ctx, member, at(3, 12), at(3, 13))
    book(ctx, member, at(3, 13), at(3, 14))  # back to back
    for status in ("cancelled", "released"):
        set_status(ctx, book(ctx, member, at(3, 15), at(3, 16)), status)
    completed = book(ctx, member, at(3, 17), at(3, 18))
    set_status(ctx, completed, "completed")
    book(ctx, member, at(3, 19), at(3, 23))  # runs past the range
    book(ctx, member, at(3, 12), at(3, 14), room_id="sala-b")
    assert free(ctx, at(3, 9, 30), at(3, 20)) == [
        (at(3, 10), at(3, 12)),
        (at(3, 14), at(3, 17)),
        (at(3, 18), at(3, 19)),
    ]


def test_availability_inside_room_hours(ctx: ServerContext) -> None:
    site = with_room(ctx.site, "sala-a", hours={"tue": ["08:00-12:00", "18:00-22:00"]})
    member = add_member(ctx)
    book(ctx, member, at(3, 19), at(3, 20))
    assert free(ctx, at(2, 0), at(5, 0), site=site) == [
        (at(3, 8), at(3, 12)),
        (at(3, 18), at(3, 19)),
        (at(3, 20), at(3, 22)),
    ]


def test_availability_refusals(ctx: ServerContext) -> None:
    assert free(ctx, at(3, 0), at(4, 0), room_id="coworking") == []
    with pytest.raises(NotFound):
        free(ctx, at(3, 0), at(4, 0), room_id="nope")
    with pytest.raises(Invalid, match="after"):
        free(ctx, at(3, 0), at(3, 0))
    with pytest.raises(Invalid, match="31 days"):
        free(ctx, at(3, 0), at(3, 0) + timedelta(days=31, seconds=1))
    assert len(free(ctx, at(3, 0), at(3, 0) + timedelta(days=31))) == 1


def test_subtract() -> None:
    t = [NOW + timedelta(hours=h) for h in range(10)]
    assert free_time.subtract([(t[0], t[9])], []) == [(t[0], t[9])]
    assert free_time.subtract([(t[0], t[9])], [(t[0], t[9])]) == []
    # overlapping busy intervals (a long one hiding a short one)
    assert free_time.subtract([(t[1], t[9])], [(t[0], t[5]), (t[2], t[3]), (t[6], t[7])]) == [
        (t[5], t[6]),
        (t[7], t[9]),
    ]
    assert free_time.subtract([(t[0], t[2]), (t[4], t[8])], [(t[1], t[5])]) == [
        (t[0], t[1]),
        (t[5], t[8]),
    ]


# --- price ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "minutes", "expected"),
    [
        ("business", 60, "80.00"),
        ("business", 90, "120.00"),
        ("business", 25, "33.33"),
        ("business", 720, "960.00"),
        ("resident", 120, "0.00"),
        ("ngo", 120, "0.00"),
        ("staff", 120, "0.00"),
    ],
)
def test_price(ctx: ServerContext, category: str, minutes: int, expected: str) -> None:
    price = pricing.price(ctx.site, category, NOW, NOW + timedelta(minutes=minutes))
    assert price == Decimal(expected)
    assert str(price) == expected


def test_price_is_stored_with_the_booking(ctx: ServerContext) -> None:
    business, resident = add_member(ctx, "business"), add_member(ctx, "resident")
    b1 = book(ctx, business, at(3, 10), at(3, 12))
    b2 = book(ctx, resident, at(3, 12), at(3, 14))
    with ctx.reads() as session:
        assert store.get_booking(session, booking_id=b1).price == Decimal("160.00")
        assert store.get_booking(session, booking_id=b2).price == Decimal("0.00")


def test_unknown_room_in_site_file_only(ctx: ServerContext) -> None:
    assert isinstance(store.site_room(ctx.site, room_id="sala-b"), Room)
    with pytest.raises(NotFound):
        store.site_room(ctx.site, room_id="attic")
