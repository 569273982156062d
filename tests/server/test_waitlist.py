"""The waitlist: joining, offers when a slot frees, accepting, lapsing, over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.bookings.store import insert_booking
from server.context import ServerContext
from server.db import models
from server.errors import Conflict, Forbidden, Invalid
from server.noshows.release import sweep
from server.notify.texts import text
from server.waitlist import entries as waitlist_entries
from server.waitlist import offers as waitlist_offers
from server.waitlist.freed import cancel_booking

if TYPE_CHECKING:
    from tests.server.conftest import FakeClock

Headers = dict[str, str]

# The clock stands at 2026-03-02 09:00 UTC (10:00 in Warsaw); the slot is 13:00-15:00 there.
SLOT = (datetime(2026, 3, 2, 12, 0, tzinfo=UTC), datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
HOUR = timedelta(hours=1)


def add_member(ctx: ServerContext, name: str = "Anna Kowalska", **fields: Any) -> int:
    with ctx.writes() as s, s.begin():
        member = models.Member(name=name, category="resident", **fields)
        s.add(member)
        s.flush()
        return member.id


def book(
    ctx: ServerContext, member_id: int, room_id: str = "sala-a", span: tuple = SLOT, **kw: Any
) -> int:
    with ctx.writes() as s, s.begin():
        start, end = span
        booking = insert_booking(
            s, site=ctx.site, room_id=room_id, member_id=member_id, start=start, end=end,
            now=ctx.clock(), **kw,
        )  # fmt: skip
        return booking.id


def join(ctx: ServerContext, member_id: int, span: tuple = SLOT, **kw: Any) -> int:
    if "kind" not in kw:
        kw.setdefault("room_id", "sala-a")
    with ctx.writes() as s, s.begin():
        start, end = span
        entry = waitlist_entries.join(
            s, site=ctx.site, member_id=member_id, start=start, end=end, now=ctx.clock(), **kw
        )
        return entry.id


def free(ctx: ServerContext, room_id: str = "sala-a", span: tuple = SLOT) -> int | None:
    """Tell the waitlist that `span` of the room freed; the offer's id, if one was made."""
    with ctx.writes() as s, s.begin():
        start, end = span
        offer = waitlist_offers.offer_freed_slot(
            s, site=ctx.site, room_id=room_id, start=start, end=end, now=ctx.clock()
        )
        return None if offer is None else offer.id


def accept(ctx: ServerContext, offer_id: int) -> models.Booking:
    with ctx.writes() as s, s.begin():
        return waitlist_offers.accept(s, site=ctx.site, offer_id=offer_id, now=ctx.clock())


def expire(ctx: ServerContext) -> int:
    with ctx.writes() as s, s.begin():
        return waitlist_offers.expire_offers(s, site=ctx.site, now=ctx.clock())


def entry_status(ctx: ServerContext, entry_id: int) -> str:
    with ctx.reads() as s:
        return s.get(models.WaitlistEntry, entry_id).status  # type: ignore[union-attr]


def offers(ctx: ServerContext) -> list[models.Offer]:
    with ctx.reads() as s:
        return list(s.scalars(select(models.Offer).order_by(models.Offer.id)))


def bookings_of(ctx: ServerContext, room_id: str = "sala-a") -> list[models.Booking]:
    with ctx.reads() as s:
        stmt = select(models.Booking).where(models.Booking.room_id == room_id)
        return list(s.scalars(stmt.order_by(models.Booking.id)))


def notes(ctx: ServerContext, member_id: int) -> list[models.Notification]:
    with ctx.reads() as s:
        stmt = select(models.Notification).where(models.Notification.member_id == member_id)
        return list(s.scalars(stmt.order_by(models.Notification.id)))


# --- joining ---------------------------------------------------------------------------


def test_join_waits_for_a_room(ctx: ServerContext, clock: FakeClock) -> None:
    anna = add_member(ctx)
    entry_id = join(ctx, anna)
    with ctx.reads() as s:
        entry = s.get(models.WaitlistEntry, entry_id)
        assert entry is not None
        assert (entry.room_id, entry.kind, entry.status) == ("sala-a", None, "waiting")
        assert (entry.start, entry.end, entry.created_at) == (*SLOT, clock.now)


@pytest.mark.parametrize(
    ("kw", "span", "message"),
    [
        ({"room_id": "sala-a", "kind": "meeting"}, SLOT, "exactly one of"),
        ({"room_id": None}, SLOT, "exactly one of"),
        ({"room_id": "nowhere"}, SLOT, "does not exist"),
        ({"room_id": "coworking"}, SLOT, "not bookable"),
        ({"room_id": "sala-a", "min_capacity": 5}, SLOT, "min_capacity goes with kind"),
        ({"kind": "meeting", "min_capacity": 41}, SLOT, "no bookable room of kind"),
        ({"kind": "coworking"}, SLOT, "no bookable room of kind"),
        ({}, (SLOT[1], SLOT[0]), "end must be after start"),
        ({}, (SLOT[0], SLOT[0]), "end must be after start"),
        ({}, (SLOT[0] - 4 * HOUR, SLOT[1]), "in the future"),
        ({}, (SLOT[0], SLOT[0] + 13 * HOUR), "longer than the longest booking"),
        ({}, (SLOT[0] + timedelta(days=91), SLOT[1] + timedelta(days=91)), "later than"),
    ],
)
def test_join_refuses_bad_requests(
    ctx: ServerContext, kw: dict[str, Any], span: tuple, message: str
) -> None:
    anna = add_member(ctx)
    with pytest.raises(Invalid, match=message):
        join(ctx, anna, span, **kw)


def test_join_accepts_a_start_as_far_back_as_a_booking_may(
    ctx: ServerContext, clock: FakeClock
) -> None:
    # The tolerance is the booking's (protocol.bookingrules.PAST_TOLERANCE, 5 minutes).
    anna = add_member(ctx)
    join(ctx, anna, (clock.now - timedelta(seconds=30), clock.now + HOUR))
    join(ctx, anna, (clock.now - timedelta(minutes=5), clock.now + 2 * HOUR), room_id="sala-b")
    with pytest.raises(Invalid, match="in the future"):
        join(ctx, anna, (clock.now - timedelta(minutes=5, seconds=1), clock.now + HOUR))


def test_join_twice_for_the_same_time_is_a_conflict(ctx: ServerContext) -> None:
    anna = add_member(ctx)
    first = join(ctx, anna)
    with pytest.raises(Conflict, match=f"already waits for that time \\(entry {first}\\)"):
        join(ctx, anna, (SLOT[0] + HOUR, SLOT[1] + HOUR))
    join(ctx, anna, (SLOT[1], SLOT[1] + HOUR))  # the next slot: another request
    join(ctx, anna, room_id="sala-b")
    join(ctx, anna, kind="meeting")
    join(ctx, add_member(ctx), room_id="sala-a")  # someone else


def test_join_refuses_unknown_and_suspended_members(ctx: ServerContext, clock: FakeClock) -> None:
    with pytest.raises(Invalid, match="member 999 does not exist"):
        join(ctx, 999)
    banned = add_member(ctx, booking_suspended_until=clock.now + timedelta(days=3))
    with pytest.raises(Forbidden, match="may not book"):
        join(ctx, banned)
    lapsed = add_member(ctx, booking_suspended_until=clock.now - timedelta(days=1))
    join(ctx, lapsed)  # a suspension that has ended no longer counts


# --- offers when a slot frees -------------------------------------------------------------


def test_a_freed_slot_is_offered_to_the_first_member_waiting_only(
    ctx: ServerContext, clock: FakeClock
) -> None:
    anna, bob = add_member(ctx, "Anna Kowalska"), add_member(ctx, "Bob Nowak")
    first = join(ctx, anna)
    clock.advance(seconds=1)
    second = join(ctx, bob)
    offer_id = free(ctx)
    assert offer_id is not None
    [offer] = offers(ctx)
    assert (offer.member_id, offer.waitlist_id, offer.room_id) == (anna, first, "sala-a")
    assert (offer.start, offer.end, offer.status) == (*SLOT, "offered")
    assert offer.expires_at == clock.now + timedelta(minutes=10)
    assert (entry_status(ctx, first), entry_status(ctx, second)) == ("offered", "waiting")
    assert notes(ctx, bob) == []
    # The same slot freed again (another path) is not offered twice while it is held.
    assert free(ctx) is None
    assert bookings_of(ctx) == []  # nobody is booked without accepting


def test_entries_made_at_the_same_moment_are_served_by_id(ctx: ServerContext) -> None:
    anna, bob = add_member(ctx), add_member(ctx)
    join(ctx, bob)
    join(ctx, anna)
    free(ctx)
    assert [o.member_id for o in offers(ctx)] == [bob]


def test_a_kind_and_size_match_rooms_that_are_big_enough(ctx: ServerContext) -> None:
    anna, bob = add_member(ctx), add_member(ctx)
    big = join(ctx, anna, kind="meeting", min_capacity=20)
    small = join(ctx, bob, kind="meeting", min_capacity=10)
    # Sala A holds 12: too small for the first entry, so the second one gets it.
    assert free(ctx, "sala-a") is not None
    assert (entry_status(ctx, big), entry_status(ctx, small)) == ("waiting", "offered")
    assert free(ctx, "sala-b") is not None
    assert entry_status(ctx, big) == "offered"
    assert [(o.member_id, o.room_id) for o in offers(ctx)] == [(bob, "sala-a"), (anna, "sala-b")]


def test_a_request_for_another_room_or_kind_is_not_offered(ctx: ServerContext) -> None:
    anna, bob = add_member(ctx), add_member(ctx)
    join(ctx, anna, room_id="sala-b")
    join(ctx, bob, kind="meeting", min_capacity=30)
    assert free(ctx, "sala-a") is None
    assert free(ctx, "coworking") is None  # not bookable: nothing to offer
    assert offers(ctx) == []


def test_a_room_or_any_like_it_is_offered_a_room_of_its_kind_big_enough(
    ctx: ServerContext,
) -> None:
    anna, bob, carol = add_member(ctx), add_member(ctx), add_member(ctx)
    only_a = join(ctx, anna, room_id="sala-a")
    a_or_like = join(ctx, bob, room_id="sala-a", any_similar=True)  # Sala A holds 12
    b_or_like = join(ctx, carol, (SLOT[0], SLOT[0] + HOUR), room_id="sala-b", any_similar=True)
    with ctx.reads() as s:
        entry = s.get(models.WaitlistEntry, a_or_like)
        assert entry is not None
        assert (entry.room_id, entry.kind, entry.min_capacity) == ("sala-a", "meeting", 12)
    assert free(ctx, "sala-b") is not None  # Sala B (40) is like Sala A, and big enough
    [offer] = offers(ctx)
    assert (offer.member_id, offer.room_id, offer.waitlist_id) == (bob, "sala-b", a_or_like)
    assert entry_status(ctx, only_a) == "waiting"  # it asked for Sala A only
    # Sala A does not hold the 40 the entry for Sala B needs; the entry for Sala A only does.
    assert free(ctx, "sala-a") is not None
    assert [(o.member_id, o.room_id) for o in offers(ctx)][1:] == [(anna, "sala-a")]
    assert entry_status(ctx, b_or_like) == "waiting"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "meeting", "any_similar": True}, "any_similar goes with room_id"),
        ({"any_similar": True, "min_capacity": 13}, "holds 12 people"),
    ],
)
def test_join_any_similar_needs_a_room_that_holds_them(
    ctx: ServerContext, kw: dict[str, Any], message: str
) -> None:
    anna = add_member(ctx)
    if "kind" in kw:
        kw["room_id"] = None
    with pytest.raises(Invalid, match=message):
        join(ctx, anna, **kw)
    join(ctx, anna, any_similar=True, min_capacity=8)  # fewer than it holds: fine


def test_join_any_similar_conflicts_with_the_same_room_and_time(ctx: ServerContext) -> None:
    anna = add_member(ctx)
    first = join(ctx, anna)
    with pytest.raises(Conflict, match=f"entry {first}"):
        join(ctx, anna, any_similar=True)


@pytest.mark.parametrize(
    ("wanted", "part"),
    [
        ((SLOT[0] - HOUR, SLOT[1]), SLOT),  # starts before the freed slot: its two hours
        ((SLOT[0], SLOT[1] + HOUR), SLOT),  # ends after it
        ((SLOT[0] + HOUR, SLOT[1] + HOUR), (SLOT[0] + HOUR, SLOT[1])),  # one hour of two
        ((SLOT[0] - HOUR, SLOT[1] + HOUR), SLOT),  # around it
    ],
)
def test_a_range_overlapping_the_freed_slot_by_an_hour_is_offered_the_overlap(
    ctx: ServerContext, wanted: tuple, part: tuple
) -> None:
    anna = add_member(ctx)
    entry = join(ctx, anna, wanted)
    assert free(ctx) is not None
    [offer] = offers(ctx)
    assert (offer.member_id, offer.waitlist_id, offer.start, offer.end) == (anna, entry, *part)
    assert entry_status(ctx, entry) == "offered"


@pytest.mark.parametrize(
    "wanted",
    [
        (SLOT[1] - timedelta(minutes=59), SLOT[1] + HOUR),  # 59 minutes of it: too short
        (SLOT[0] - HOUR, SLOT[0] + timedelta(minutes=30)),  # half an hour
        (SLOT[1], SLOT[1] + HOUR),  # touches it only
        (SLOT[0] + 3 * HOUR, SLOT[1] + 3 * HOUR),  # another time altogether
    ],
)
def test_a_range_overlapping_the_freed_slot_by_less_than_an_hour_is_not_offered(
    ctx: ServerContext, wanted: tuple
) -> None:
    anna = add_member(ctx)
    entry = join(ctx, anna, wanted)
    assert free(ctx) is None
    assert entry_status(ctx, entry) == "waiting"


def test_the_shortest_part_offered_is_the_sites_setting(ctx: ServerContext) -> None:
    anna = add_member(ctx)
    wanted = (SLOT[0] + HOUR, SLOT[1] + HOUR)  # one hour of it
    entry = join(ctx, anna, wanted)
    bookings = ctx.site.bookings.model_copy(update={"min_partial_offer": 2 * 3600.0})
    ctx.site = ctx.site.model_copy(update={"bookings": bookings})
    assert free(ctx) is None
    assert entry_status(ctx, entry) == "waiting"


def test_a_part_that_has_begun_counts_what_is_left_of_it(
    ctx: ServerContext, clock: FakeClock
) -> None:
    anna, bob = add_member(ctx), add_member(ctx)
    early = join(ctx, anna, (SLOT[0] - HOUR, SLOT[0] + HOUR))  # an hour of the slot
    late = join(ctx, bob, (SLOT[0] + HOUR, SLOT[1] + HOUR))  # its second hour
    clock.now = SLOT[0] + timedelta(minutes=15)  # a no-show released after its grace
    free(ctx)
    [offer] = offers(ctx)  # 45 minutes left of the first: too short; the second gets it
    assert (offer.waitlist_id, offer.start, offer.end) == (late, SLOT[0] + HOUR, SLOT[1])
    assert entry_status(ctx, early) == "waiting"


def test_a_part_is_offered_as_a_part_and_accepted_it_books_the_overlap(
    ctx: ServerContext, clock: FakeClock
) -> None:
    anna = add_member(ctx)
    entry = join(ctx, anna, (SLOT[0] + HOUR, SLOT[1] + HOUR))
    offer_id = free(ctx)
    assert offer_id is not None
    [note] = notes(ctx, anna)
    assert note.text_en == (
        "Sala warsztatowa A is free 02.03 14:00–15:00 (part of the 02.03 14:00–16:00 you "
        "waited for). Accept by 10:10 to book it."
    )
    assert "02.03 14:00–15:00 (część terminu 02.03 14:00–16:00, na który czekasz)" in note.text_pl
    booking = accept(ctx, offer_id)
    assert (booking.start, booking.end, booking.source) == (SLOT[0] + HOUR, SLOT[1], "waitlist")
    assert entry_status(ctx, entry) == "booked"  # the entry is done, as with the whole


def test_a_range_inside_the_freed_slot_is_offered_for_its_own_range(ctx: ServerContext) -> None:
    anna = add_member(ctx)
    wanted = (SLOT[0] + timedelta(minutes=30), SLOT[0] + HOUR)
    join(ctx, anna, wanted)
    free(ctx)
    [offer] = offers(ctx)
    assert (offer.start, offer.end) == wanted


def test_a_range_still_booked_or_over_is_skipped(ctx: ServerContext, clock: FakeClock) -> None:
    anna, bob, carol = add_member(ctx), add_member(ctx), add_member(ctx)
    book(ctx, carol, span=(SLOT[0], SLOT[0] + HOUR))  # the first hour is still taken
    join(ctx, anna)  # wants both hours: not free
    past = join(ctx, bob, (clock.now, clock.now + HOUR))
    wanted = (SLOT[0] + HOUR, SLOT[1])
    later = join(ctx, bob, wanted)
    clock.advance(hours=1, minutes=1)
    assert free(ctx, span=(clock.now - HOUR, SLOT[1])) is not None
    [offer] = offers(ctx)
    assert (offer.member_id, offer.waitlist_id, offer.start) == (bob, later, wanted[0])
    assert entry_status(ctx, past) == "waiting"  # over already: never offered


def test_a_suspended_member_is_passed_over(ctx: ServerContext, clock: FakeClock) -> None:
    anna, bob = add_member(ctx), add_member(ctx)
    join(ctx, anna)
    join(ctx, bob)
    with ctx.writes() as s, s.begin():
        s.get(models.Member, anna).booking_suspended_until = clock.now + HOUR  # type: ignore[union-attr]
    free(ctx)
    assert [o.member_id for o in offers(ctx)] == [bob]


def test_the_offer_is_told_in_polish_and_english(ctx: ServerContext, clock: FakeClock) -> None:
    anna = add_member(ctx)
    join(ctx, anna)
    offer_id = free(ctx)
    [note] = notes(ctx, anna)
    assert (note.kind, note.offer_id, note.created_at) == ("offer", offer_id, clock.now)
    # Local times (UTC+1 in March); the deadline is 10 minutes from 10:00.
    assert note.text_pl == (
        "Zwolnił się termin: Sala warsztatowa A, 02.03 13:00–15:00. "
        "Potwierdź do 10:10, aby go zarezerwować."
    )
    assert (
        note.text_en == "Sala warsztatowa A is free 02.03 13:00–15:00. Accept by 10:10 to book it."
    )


def test_offer_texts_use_summer_time_and_dates_only_where_needed(ctx: ServerContext) -> None:
    now = datetime(2026, 6, 30, 21, 55, tzinfo=UTC)  # 23:55 in Warsaw (UTC+2)
    params = waitlist_offers.offer_params(
        site=ctx.site,
        room_name="Sala konferencyjna B",
        start=datetime(2026, 6, 30, 22, 0, tzinfo=UTC),
        end=datetime(2026, 7, 1, 1, 0, tzinfo=UTC),
        deadline=now + timedelta(minutes=10),
        now=now,
    )
    pl, en, uk = (text(lang, "notice.offer", **params) for lang in ("pl", "en", "uk"))
    assert en == "Sala konferencyjna B is free 01.07 00:00–03:00. Accept by 01.07 00:05 to book it."
    assert "01.07 00:00–03:00" in pl and "Potwierdź do 01.07 00:05" in pl
    assert "01.07 00:00–03:00" in uk and "Підтвердьте до 01.07 00:05" in uk


def test_cancelling_a_booking_offers_the_rest_of_its_time(
    ctx: ServerContext, clock: FakeClock
) -> None:
    anna, bob = add_member(ctx), add_member(ctx)
    booking_id = book(ctx, bob)
    join(ctx, anna)
    with ctx.writes() as s, s.begin():
        cancel_booking(s, site=ctx.site, booking_id=booking_id, now=clock.now, by="api")
    [offer] = offers(ctx)
    assert (offer.member_id, offer.start, offer.end) == (anna, *SLOT)


# --- accepting ------------------------------------------------------------------------


def test_accept_books_the_room_from_the_waitlist(ctx: ServerContext, clock: FakeClock) -> None:
    anna = add_member(ctx)
    entry = join(ctx, anna)
    offer_id = free(ctx)
    assert offer_id is not None
    clock.advance(minutes=9)
    booking = accept(ctx, offer_id)
    assert (booking.room_id, booking.member_id, booking.source) == ("sala-a", anna, "waitlist")
    assert (booking.start, booking.end, booking.status) == (*SLOT, "booked")
    [offer] = offers(ctx)
    assert (offer.status, offer.booking_id) == ("accepted", booking.id)
    assert entry_status(ctx, entry) == "booked"


def test_a_no_show_frees_the_rest_of_a_time_already_begun(
    ctx: ServerContext, clock: FakeClock
) -> None:
    """Released after its grace, a no-show's slot is offered to the member waiting for
    that very time; accepted, it is booked from the acceptance, whose grace it then has."""
    holder, anna = add_member(ctx), add_member(ctx)
    book(ctx, holder)
    entry = join(ctx, anna)
    clock.now = SLOT[0] + timedelta(minutes=15)  # the sweep releases the no-show
    with ctx.writes() as s, s.begin():
        report = sweep(s, site=ctx.site, now=clock.now)
    [offer_id] = report.offered
    [note] = notes(ctx, anna)
    assert "13:15" in note.text_en  # offered from now, not from its start
    clock.advance(minutes=4)
    booking = accept(ctx, offer_id)
    assert (booking.start, booking.end, booking.status) == (clock.now, SLOT[1], "booked")
    assert entry_status(ctx, entry) == "booked"


def test_a_second_accept_books_nothing_more(ctx: ServerContext) -> None:
    anna = add_member(ctx)
    join(ctx, anna)
    offer_id = free(ctx)
    assert offer_id is not None
    accept(ctx, offer_id)
    with pytest.raises(Conflict, match="already accepted"):
        accept(ctx, offer_id)
    assert len(bookings_of(ctx)) == 1


def test_accept_after_the_deadline_is_refused(ctx: ServerContext, clock: FakeClock) -> None:
    anna = add_member(ctx)
    entry = join(ctx, anna)
    offer_id = free(ctx)
    assert offer_id is not None
    clock.advance(minutes=10)  # the deadline itself is too late; the sweep has not run
    with pytest.raises(Conflict, match="offer expired"):
        accept(ctx, offer_id)
    expire(ctx)
    with pytest.raises(Conflict, match="offer expired"):
        accept(ctx, offer_id)
    assert bookings_of(ctx) == []
    assert entry_status(ctx, entry) == "expired"


def test_accept_when_the_room_was_booked_meanwhile(ctx: ServerContext) -> None:
    anna, bob = add_member(ctx), add_member(ctx)
    entry = join(ctx, anna)
    offer_id = free(ctx)
    assert offer_id is not None
    book(ctx, bob, span=(SLOT[0] + HOUR, SLOT[1]))
    with ctx.writes() as s, s.begin(), pytest.raises(waitlist_offers.RoomTaken, match="meanwhile"):
        waitlist_offers.accept(s, site=ctx.site, offer_id=offer_id, now=ctx.clock())
    [offer] = offers(ctx)
    assert (offer.status, offer.booking_id) == ("expired", None)
    assert entry_status(ctx, entry) == "waiting"
    assert [b.member_id for b in bookings_of(ctx)] == [bob]


def test_accept_while_suspended_is_forbidden(ctx: ServerContext, clock: FakeClock) -> None:
    anna = add_member(ctx)
    join(ctx, anna)
    offer_id = free(ctx)
    assert offer_id is not None
    with ctx.writes() as s, s.begin():
        s.get(models.Member, anna).booking_suspended_until = clock.now + HOUR  # type: ignore[union-attr]
    with pytest.raises(Forbidden):
        accept(ctx, offer_id)
    assert [o.status for o in offers(ctx)] == ["offered"]


# --- lapsing and passing on ---------------------------------------------------------------


def test_an_offer_not_taken_passes_to_the_next_member(ctx: ServerContext, clock: FakeClock) -> None:
    anna, bob, carol = add_member(ctx), add_member(ctx), add_member(ctx)
    first, second, third = join(ctx, anna), join(ctx, bob), join(ctx, carol)
    free(ctx)
    assert expire(ctx) == 0  # nothing due yet
    clock.advance(minutes=10)
    assert expire(ctx) == 1
    old, new = offers(ctx)
    assert (old.member_id, old.status) == (anna, "expired")
    assert (new.member_id, new.status, new.start, new.end) == (bob, "offered", *SLOT)
    assert new.expires_at == clock.now + timedelta(minutes=10)
    assert [entry_status(ctx, e) for e in (first, second, third)] == [
        "expired",
        "offered",
        "waiting",
    ]
    assert [n.kind for n in notes(ctx, bob)] == ["offer"]
    assert bookings_of(ctx) == []  # the first member was not booked
    assert expire(ctx) == 0


def test_nobody_is_booked_when_no_one_accepts(ctx: ServerContext, clock: FakeClock) -> None:
    members = [add_member(ctx) for _ in range(3)]
    entries = [join(ctx, m) for m in members]
    free(ctx)
    for _ in range(4):
        clock.advance(minutes=10)
        expire(ctx)
    assert [entry_status(ctx, e) for e in entries] == ["expired"] * 3
    assert [o.status for o in offers(ctx)] == ["expired"] * 3
    assert bookings_of(ctx) == []


def test_cancelling_an_entry_with_an_offer_passes_it_on(ctx: ServerContext) -> None:
    anna, bob = add_member(ctx), add_member(ctx)
    first, second = join(ctx, anna), join(ctx, bob)
    offer_id = free(ctx)
    assert offer_id is not None
    with ctx.writes() as s, s.begin():
        waitlist_entries.cancel_entry(s, site=ctx.site, entry_id=first, now=ctx.clock())
    assert (entry_status(ctx, first), entry_status(ctx, second)) == ("cancelled", "offered")
    with pytest.raises(Conflict, match="offer expired"):
        accept(ctx, offer_id)
    booking = accept(ctx, offers(ctx)[-1].id)
    assert booking.member_id == bob
    with ctx.writes() as s, s.begin(), pytest.raises(Conflict, match="entry is booked"):
        waitlist_entries.cancel_entry(s, site=ctx.site, entry_id=second, now=ctx.clock())


# --- over HTTP ------------------------------------------------------------------------------


def new_member(client: TestClient, admin: Headers, name: str = "Anna Kowalska") -> int:
    body = {"name": name, "category": "resident"}
    response = client.post("/api/members", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


def wait_body(member: int, **fields: Any) -> dict[str, Any]:
    return {
        "member_id": member,
        "start": "2026-03-02T13:00:00+01:00",
        "end": "2026-03-02T15:00:00+01:00",
    } | fields


def test_http_join_list_and_leave(client: TestClient, admin: Headers, clock: FakeClock) -> None:
    anna = new_member(client, admin)
    response = client.post("/api/waitlist", json=wait_body(anna, room_id="sala-a"), headers=admin)
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry == {
        "id": entry["id"],
        "member_id": anna,
        "room_id": "sala-a",
        "kind": None,
        "min_capacity": None,
        "start": "2026-03-02T12:00:00Z",
        "end": "2026-03-02T14:00:00Z",
        "status": "waiting",
        "created_at": "2026-03-02T09:00:00Z",
    }
    by_kind = client.post(
        "/api/waitlist", json=wait_body(anna, kind="meeting", min_capacity=30), headers=admin
    ).json()
    assert (by_kind["kind"], by_kind["min_capacity"], by_kind["room_id"]) == ("meeting", 30, None)
    body = wait_body(anna, room_id="sala-b", any_similar=True)
    similar = client.post("/api/waitlist", json=body, headers=admin).json()
    assert similar["room_id"] == "sala-b"
    assert (similar["kind"], similar["min_capacity"]) == ("meeting", 40)

    listed = client.get("/api/waitlist", params={"member_id": anna}, headers=admin).json()
    assert [e["id"] for e in listed] == [entry["id"], by_kind["id"], similar["id"]]
    assert client.get(f"/api/waitlist/{entry['id']}", headers=admin).json() == entry

    assert client.delete(f"/api/waitlist/{entry['id']}", headers=admin).status_code == 204
    cancelled = client.get("/api/waitlist", params={"status": "cancelled"}, headers=admin).json()
    assert [e["id"] for e in cancelled] == [entry["id"]]
    waiting = client.get("/api/waitlist", params={"status": "waiting"}, headers=admin).json()
    assert [e["id"] for e in waiting] == [by_kind["id"], similar["id"]]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, 422),  # neither room nor kind
        ({"room_id": "sala-a", "kind": "meeting"}, 422),
        ({"room_id": "sala-a", "min_capacity": 3}, 422),
        ({"kind": "meeting", "any_similar": True}, 422),
        ({"room_id": "sala-a", "any_similar": True, "min_capacity": 13}, 422),  # holds 12
        ({"room_id": "sala-a", "colour": "red"}, 422),
        ({"room_id": "sala-a", "start": "2026-03-02T13:00:00"}, 422),  # no offset
        ({"room_id": "nowhere"}, 422),
        ({"room_id": "sala-a", "end": "2026-03-02T12:00:00+01:00"}, 422),
        ({"room_id": "sala-a", "member_id": 999}, 422),
    ],
)
def test_http_join_refuses_bad_bodies(
    client: TestClient, admin: Headers, fields: dict[str, Any], status: int
) -> None:
    anna = new_member(client, admin)
    response = client.post("/api/waitlist", json=wait_body(anna, **fields), headers=admin)
    assert response.status_code == status, response.text


def test_http_join_while_suspended_is_403(
    client: TestClient, admin: Headers, ctx: ServerContext
) -> None:
    anna = new_member(client, admin)
    with ctx.writes() as s, s.begin():
        s.get(models.Member, anna).booking_suspended_until = ctx.clock() + HOUR  # type: ignore[union-attr]
    response = client.post("/api/waitlist", json=wait_body(anna, room_id="sala-a"), headers=admin)
    assert response.status_code == 403


def test_http_offer_and_accept(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    anna, bob = new_member(client, admin), new_member(client, admin, "Bob Nowak")
    booking = client.post(
        "/api/bookings",
        json={"room_id": "sala-a", "member_id": bob, "start": "2026-03-02T12:00:00Z",
              "end": "2026-03-02T14:00:00Z"},
        headers=admin,
    )  # fmt: skip
    assert booking.status_code == 201, booking.text
    entry = client.post("/api/waitlist", json=wait_body(anna, room_id="sala-a"), headers=admin)
    cancel = client.post(f"/api/bookings/{booking.json()['id']}/cancel", headers=admin)
    assert cancel.status_code == 200, cancel.text

    [offer] = client.get("/api/offers", params={"member_id": anna}, headers=admin).json()
    assert offer == {
        "id": offer["id"],
        "waitlist_id": entry.json()["id"],
        "member_id": anna,
        "room_id": "sala-a",
        "start": "2026-03-02T12:00:00Z",
        "end": "2026-03-02T14:00:00Z",
        "expires_at": "2026-03-02T09:10:00Z",
        "status": "offered",
        "booking_id": None,
        "created_at": "2026-03-02T09:00:00Z",
    }
    assert client.get("/api/offers", params={"member_id": bob}, headers=admin).json() == []
    assert client.get(f"/api/offers/{offer['id']}", headers=admin).json() == offer

    accepted = client.post(f"/api/offers/{offer['id']}/accept", headers=admin)
    assert accepted.status_code == 201, accepted.text
    made = accepted.json()
    assert (made["member_id"], made["room_id"], made["source"], made["status"]) == (
        anna,
        "sala-a",
        "waitlist",
        "booked",
    )
    again = client.post(f"/api/offers/{offer['id']}/accept", headers=admin)
    assert again.status_code == 409
    assert again.json() == {"detail": "offer already accepted"}
    shown = client.get(f"/api/offers/{offer['id']}", headers=admin).json()
    assert (shown["status"], shown["booking_id"]) == ("accepted", made["id"])
    booked = client.get("/api/bookings", params={"room_id": "sala-a", "status": "booked"},
                        headers=admin).json()  # fmt: skip
    assert [b["id"] for b in booked] == [made["id"]]
    assert client.get(f"/api/waitlist/{entry.json()['id']}", headers=admin).json()["status"] == (
        "booked"
    )


def test_http_accept_late_or_taken_is_409(
    client: TestClient, admin: Headers, ctx: ServerContext, clock: FakeClock
) -> None:
    anna, bob = new_member(client, admin), new_member(client, admin, "Bob Nowak")
    first = client.post("/api/waitlist", json=wait_body(anna, room_id="sala-a"), headers=admin)
    offer_id = free(ctx)
    clock.advance(minutes=11)
    late = client.post(f"/api/offers/{offer_id}/accept", headers=admin)
    assert (late.status_code, late.json()) == (409, {"detail": "offer expired"})

    # A fresh offer, then the room is taken before it is accepted: 409, and the member
    # is back on the waitlist (committed, not rolled back with the refusal).
    expire(ctx)
    second = client.post("/api/waitlist", json=wait_body(anna, room_id="sala-a"), headers=admin)
    offer_id = free(ctx)
    book(ctx, bob)
    taken = client.post(f"/api/offers/{offer_id}/accept", headers=admin)
    assert taken.status_code == 409
    assert client.get(f"/api/offers/{offer_id}", headers=admin).json()["status"] == "expired"
    statuses = {
        e["id"]: e["status"]
        for e in client.get("/api/waitlist", params={"member_id": anna}, headers=admin).json()
    }
    assert statuses == {first.json()["id"]: "expired", second.json()["id"]: "waiting"}


def test_http_unknown_ids_and_tokens(client: TestClient, admin: Headers) -> None:
    assert client.get("/api/offers/77", headers=admin).status_code == 404
    assert client.post("/api/offers/77/accept", headers=admin).status_code == 404
    assert client.get("/api/waitlist/77", headers=admin).status_code == 404
    assert client.delete("/api/waitlist/77", headers=admin).status_code == 404
    for method, path in [
        ("GET", "/api/waitlist"),
        ("POST", "/api/waitlist"),
        ("DELETE", "/api/waitlist/1"),
        ("GET", "/api/offers"),
        ("GET", "/api/offers/1"),
        ("POST", "/api/offers/1/accept"),
    ]:
        assert client.request(method, path).status_code == 401, (method, path)
