"""decide() with bookings: check-in, early entry, walk-in, no-show release, at explicit times.

The rules (docs/architecture.md "Bookings, check-in and no-show release", docs/protocol.md
reasons): the current booking of a room decides who may enter it; its holder and attendees
get `booking` at the room's door and at the entrance from early entry before its start
until its end; early entry only into a room no other booking holds; anyone else at that
door gets `room_booked` (staff: `staff`); a free bookable room admits a walk-in category
with a walk-in booking until the next booking, at most `walk_in_max`; a booking still
`booked` at start + grace counts as released, and its holder gets `booking_released`
unless walk-in lets them take the free room.

Every `now` is built from a Warsaw wall-clock time with `at()`, on Monday 2026-01-12
(winter, UTC+1), so that "10:50" below is what the people at the door see.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from protocol.cards import card_hash
from protocol.decide import GRANTS, Outcome, decide
from protocol.messages import Reason
from protocol.policy import BookingPolicy, PolicySnapshot

KEY = b"test-bookings-key"
WARSAW = ZoneInfo("Europe/Warsaw")

# Members. BIZ is a business member with a coworking plan (entrance + coworking, opening
# hours); BIZ2 a business member with no plan at all.
STAFF, BIZ, BIZ2, RESIDENT, RESIDENT2, NGO = 1, 2, 3, 4, 5, 6
CATEGORY = {
    STAFF: "staff",
    BIZ: "business",
    BIZ2: "business",
    RESIDENT: "resident",
    RESIDENT2: "resident",
    NGO: "ngo",
}
UIDS = {member: f"04{member:06X}" for member in CATEGORY}

MAIN, SALA_A, SALA_B, COWORK = "reader-main", "reader-sala-a", "reader-sala-b", "reader-cowork"
DEVICES = [MAIN, SALA_A, SALA_B, COWORK]
UNLOCK = {MAIN: 5.0, SALA_A: 3.0, SALA_B: 4.0, COWORK: 8.0}
ROOM_OF = {MAIN: "main", SALA_A: "sala-a", SALA_B: "sala-b", COWORK: "coworking"}

GRACE = timedelta(minutes=15)
EARLY = timedelta(minutes=15)
WALK_IN_MAX = timedelta(hours=3)


def at(hour: int, minute: int = 0, second: int = 0, day: int = 12) -> datetime:
    """The UTC instant of a Warsaw wall-clock time in January 2026 (UTC+1)."""
    return datetime(2026, 1, day, hour, minute, second, tzinfo=WARSAW).astimezone(UTC)


def test_the_day_is_winter_time() -> None:
    # Every "at(10, 50)" below is 09:50Z; a wrong premise here would make the rest moot.
    assert at(10, 50) == datetime(2026, 1, 12, 9, 50, tzinfo=UTC)
    assert at(10).weekday() == 0  # Monday


def booking(
    id: int,
    member: int,
    start: datetime,
    end: datetime,
    status: str = "booked",
    room: str = "sala-a",
    attendees: tuple[int, ...] = (),
) -> dict[str, Any]:
    return {
        "id": id,
        "room": room,
        "member_id": member,
        "attendees": list(attendees),
        "start": start,
        "end": end,
        "status": status,
    }


def snapshot_data(*bookings: dict[str, Any]) -> dict[str, Any]:
    weekday = ["08:00-21:00"]
    return {
        "site": "piaseczno",
        "epoch": "db-test",
        "n": 7,
        "generated_at": at(0),
        "timezone": "Europe/Warsaw",
        "opening_hours": {
            "days": {d: weekday for d in ("mon", "tue", "wed", "thu", "fri")}
            | {"sat": ["10:00-16:00"]}
        },
        "doors": {
            MAIN: {"id": "main", "room": "main", "kind": "entrance", "unlock_s": UNLOCK[MAIN]},
            SALA_A: {"id": "sala-a", "room": "sala-a", "kind": "room", "unlock_s": UNLOCK[SALA_A]},
            SALA_B: {"id": "sala-b", "room": "sala-b", "kind": "room", "unlock_s": UNLOCK[SALA_B]},
            COWORK: {
                "id": "coworking",
                "room": "coworking",
                "kind": "room",
                "unlock_s": UNLOCK[COWORK],
            },
        },
        "members": {m: {"category": c} for m, c in CATEGORY.items()},
        "cards": {card_hash(KEY, UIDS[m]): {"member_id": m} for m in CATEGORY},
        "plans": {"coworking": {"doors": ["main", "coworking"], "hours": "opening"}},
        "memberships": {
            BIZ: [
                {
                    "plan": "coworking",
                    "valid_from": datetime(2025, 1, 1, tzinfo=UTC),
                    "valid_until": datetime(2027, 1, 1, tzinfo=UTC),
                }
            ]
        },
        "rooms": {
            "main": {"kind": "entrance", "bookable": False},
            "sala-a": {"kind": "meeting", "bookable": True},
            "sala-b": {"kind": "meeting", "bookable": True},
            "coworking": {"kind": "coworking", "bookable": False},
        },
        "bookings": list(bookings),
        "rules": {
            "early_entry_s": EARLY.total_seconds(),
            "no_show_grace_s": GRACE.total_seconds(),
            "walk_in_categories": ["resident", "ngo", "staff"],
            "walk_in_max_s": WALK_IN_MAX.total_seconds(),
        },
    }


def snap(*bookings: dict[str, Any], locked: tuple[str, ...] = ()) -> PolicySnapshot:
    data = snapshot_data(*bookings)
    for device in locked:
        data["doors"][device]["mode"] = "locked"
    return PolicySnapshot.model_validate(data)


def tap(snapshot: PolicySnapshot, device: str, member: int, now: datetime) -> Outcome:
    return decide(snapshot, device, card_hash(KEY, UIDS[member]), now)


def check_in(id: int, device: str, member: int) -> Outcome:
    """The outcome of a grant that checks booking `id` in."""
    return Outcome(True, Reason.BOOKING, member, UNLOCK[device], booking_id=id,
                   effect="check_in", room=ROOM_OF[device])  # fmt: skip


def admitted(id: int, device: str, member: int) -> Outcome:
    """The outcome of a `booking` grant that changes nothing."""
    return Outcome(True, Reason.BOOKING, member, UNLOCK[device], booking_id=id,
                   room=ROOM_OF[device])  # fmt: skip


def walk_in(device: str, member: int, until: datetime) -> Outcome:
    return Outcome(True, Reason.WALK_IN, member, UNLOCK[device], effect="walk_in",
                   room=ROOM_OF[device], until=until)  # fmt: skip


def denied(reason: Reason, member: int, booking_id: int | None = None) -> Outcome:
    return Outcome(False, reason, member, 0.0, booking_id=booking_id)


# A's meeting 10:00-11:00 in sala-a, held by a business member with a resident attendee.
A = booking(10, BIZ2, at(10), at(11), attendees=(RESIDENT2,))


# -- the holder and attendees inside the access window --------------------------------------


@pytest.mark.parametrize(
    "now",
    [at(9, 45), at(9, 50), at(10), at(10, 5), at(10, 14, 59)],
    ids=["early-entry-opens", "early", "start", "in-grace", "last-second-of-grace"],
)
def test_holder_checks_in_at_the_room_door_from_early_entry_to_the_end_of_grace(
    now: datetime,
) -> None:
    assert tap(snap(A), SALA_A, BIZ2, now) == check_in(10, SALA_A, BIZ2)


@pytest.mark.parametrize(
    "now", [at(9, 45), at(10), at(10, 14, 59)], ids=["early", "start", "in-grace"]
)
def test_holder_passes_the_entrance_without_a_check_in(now: datetime) -> None:
    # Only the room's door checks a booking in: passing the entrance is not arriving.
    assert tap(snap(A), MAIN, BIZ2, now) == admitted(10, MAIN, BIZ2)


def test_attendee_checks_the_booking_in_too() -> None:
    assert tap(snap(A), SALA_A, RESIDENT2, at(10, 3)) == check_in(10, SALA_A, RESIDENT2)
    assert tap(snap(A), SALA_A, RESIDENT2, at(9, 46)) == check_in(10, SALA_A, RESIDENT2)
    assert tap(snap(A), MAIN, RESIDENT2, at(9, 46)) == admitted(10, MAIN, RESIDENT2)


@pytest.mark.parametrize(
    "now",
    [at(9, 50), at(10), at(10, 20), at(10, 59, 59)],
    ids=["early", "start", "past-grace", "last-second"],
)
def test_checked_in_booking_admits_without_an_effect_until_its_end(now: datetime) -> None:
    # Grace is for arriving: once checked in, the booking holds the room until its end.
    checked_in = snap(A | {"status": "checked_in"})
    for device in (SALA_A, MAIN):
        for member in (BIZ2, RESIDENT2):
            assert tap(checked_in, device, member, now) == admitted(10, device, member)


def test_booking_ends_at_its_end() -> None:
    # The end is exclusive: at 11:00 the holder is an ordinary business member again.
    checked_in = snap(A | {"status": "checked_in"})
    assert tap(checked_in, SALA_A, BIZ2, at(11)) == denied(Reason.NO_MEMBERSHIP, BIZ2)
    assert tap(checked_in, MAIN, BIZ2, at(11)) == denied(Reason.NO_MEMBERSHIP, BIZ2)
    # Its resident attendee may take the now free room as a walk-in, not as `booking`.
    assert tap(checked_in, SALA_A, RESIDENT2, at(11)) == walk_in(SALA_A, RESIDENT2, at(14))


def test_a_booking_admits_only_at_its_own_room_and_the_entrance() -> None:
    # BIZ holds sala-b; sala-a is not theirs, whatever their booking says.
    b = booking(20, BIZ, at(10), at(11), room="sala-b")
    snapshot = snap(b)
    assert tap(snapshot, SALA_B, BIZ, at(10, 1)) == check_in(20, SALA_B, BIZ)
    assert tap(snapshot, SALA_A, BIZ, at(10, 1)) == denied(Reason.NO_ACCESS, BIZ)
    assert tap(snapshot, MAIN, BIZ, at(10, 1)) == admitted(20, MAIN, BIZ)


# -- early entry ----------------------------------------------------------------------------


def test_early_entry_is_exactly_early_entry_s() -> None:
    assert tap(snap(A), SALA_A, BIZ2, at(9, 45)).reason == Reason.BOOKING
    assert tap(snap(A), SALA_A, BIZ2, at(9, 44, 59)).reason == Reason.NO_MEMBERSHIP
    assert tap(snap(A), MAIN, BIZ2, at(9, 45)).reason == Reason.BOOKING
    assert tap(snap(A), MAIN, BIZ2, at(9, 44, 59)).reason == Reason.NO_MEMBERSHIP


def test_sixteen_minutes_early() -> None:
    resident_holds = booking(30, RESIDENT, at(10), at(11))
    snapshot = snap(resident_holds)
    # Before early entry the booking grants nothing yet; the room is free, so a resident
    # (a walk-in category) may take it now as a walk-in -- but only until the start of
    # their own booking, which is the next booking of the room. No check-in yet.
    assert tap(snapshot, SALA_A, RESIDENT, at(9, 44)) == walk_in(SALA_A, RESIDENT, at(10))
    # The entrance does not grant walk-ins: a resident with no plan is not let in yet.
    assert tap(snapshot, MAIN, RESIDENT, at(9, 44)) == denied(Reason.NO_MEMBERSHIP, RESIDENT)
    # A business holder is no walk-in category: the booking cannot let them in yet, and
    # their coworking plan (BIZ) does not cover sala-a; with no plan at all (BIZ2) it is
    # no_membership.
    biz_holds = snap(booking(31, BIZ, at(10), at(11)))
    assert tap(biz_holds, SALA_A, BIZ, at(9, 44)) == denied(Reason.NO_ACCESS, BIZ)
    assert tap(snap(A), SALA_A, BIZ2, at(9, 44)) == denied(Reason.NO_MEMBERSHIP, BIZ2)
    # BIZ's plan does cover the entrance in opening hours, so there they are let in on it.
    assert tap(biz_holds, MAIN, BIZ, at(9, 44)).reason == Reason.MEMBERSHIP


# -- back-to-back bookings --------------------------------------------------------------------

B = booking(11, BIZ, at(11), at(12))


@pytest.mark.parametrize("order", ["A,B", "B,A"])
def test_back_to_back_the_current_booking_wins_over_the_next_ones_early_entry(
    order: str,
) -> None:
    # A's holder came (checked in), so A holds sala-a until 11:00. (A still `booked` at
    # 10:50 would be a no-show past its grace: see test_early_entry_after_a_released_booking.)
    a = A | {"status": "checked_in"}
    snapshot = snap(a, B) if order == "A,B" else snap(B, a)
    # 10:50: A holds sala-a; B's holder is inside B's early entry but may not enter it.
    assert tap(snapshot, SALA_A, BIZ, at(10, 50)) == denied(Reason.ROOM_BOOKED, BIZ)
    # ... yet the entrance lets them in to wait: early entry there depends on no room.
    assert tap(snapshot, MAIN, BIZ, at(10, 50)) == admitted(11, MAIN, BIZ)
    assert tap(snapshot, SALA_A, BIZ2, at(10, 50)) == admitted(10, SALA_A, BIZ2)
    assert tap(snapshot, SALA_A, BIZ2, at(10, 59, 59)) == admitted(10, SALA_A, BIZ2)
    # 11:00: B is current; A's holder is someone else now.
    assert tap(snapshot, SALA_A, BIZ, at(11)) == check_in(11, SALA_A, BIZ)
    assert tap(snapshot, SALA_A, BIZ2, at(11)) == denied(Reason.ROOM_BOOKED, BIZ2)
    assert tap(snapshot, SALA_A, RESIDENT2, at(11)) == denied(Reason.ROOM_BOOKED, RESIDENT2)
    assert tap(snapshot, MAIN, BIZ, at(11)) == admitted(11, MAIN, BIZ)


def test_back_to_back_a_walk_in_category_does_not_break_in_early() -> None:
    # A resident holding the next booking is refused too: the room is not free for walk-in.
    next_booking = booking(12, RESIDENT, at(11), at(12))
    snapshot = snap(A | {"status": "checked_in"}, next_booking)
    assert tap(snapshot, SALA_A, RESIDENT, at(10, 50)) == denied(Reason.ROOM_BOOKED, RESIDENT)
    assert tap(snapshot, MAIN, RESIDENT, at(10, 50)) == admitted(12, MAIN, RESIDENT)


def test_early_entry_after_a_released_booking() -> None:
    # A was a no-show: the room is free at 10:50, so B's early entry opens it.
    for released in (A | {"status": "released"}, A):  # swept, or booked past its grace
        snapshot = snap(released, B)
        assert tap(snapshot, SALA_A, BIZ, at(10, 50)) == check_in(11, SALA_A, BIZ)


def test_holder_of_the_next_booking_in_the_current_one_is_admitted_by_the_current() -> None:
    # BIZ attends A and holds B: at 10:50 A admits them; at 10:05 A is checked in by them.
    snapshot = snap(A | {"attendees": [BIZ], "status": "checked_in"}, B)
    assert tap(snapshot, SALA_A, BIZ, at(10, 50)) == admitted(10, SALA_A, BIZ)
    assert tap(snapshot, MAIN, BIZ, at(10, 50)) == admitted(10, MAIN, BIZ)
    booked = snap(A | {"attendees": [BIZ]}, B)
    assert tap(booked, SALA_A, BIZ, at(10, 5)) == check_in(10, SALA_A, BIZ)


def test_a_booking_checked_in_by_early_entry_holds_the_room() -> None:
    # B's holder came at 10:47 into a free room and checked B in: from then on B holds
    # sala-a, although it starts at 11:00. Nobody else may walk in on them for the last
    # minutes before the start (which would also make a walk-in booking that, as the room's
    # current booking, refused B's own attendees).
    early = snap(B | {"status": "checked_in", "attendees": [NGO]})
    assert tap(early, SALA_A, RESIDENT, at(10, 50)) == denied(Reason.ROOM_BOOKED, RESIDENT)
    assert tap(early, SALA_A, BIZ2, at(10, 50)) == denied(Reason.ROOM_BOOKED, BIZ2)
    assert tap(early, SALA_A, NGO, at(10, 50)) == admitted(11, SALA_A, NGO)
    assert tap(early, SALA_A, BIZ, at(10, 50)) == admitted(11, SALA_A, BIZ)
    assert tap(early, SALA_A, STAFF, at(10, 50)).reason == Reason.STAFF
    # While B is only `booked` (nobody came yet) the room is free until 11:00.
    waiting = snap(B)
    assert tap(waiting, SALA_A, RESIDENT, at(10, 50)) == walk_in(SALA_A, RESIDENT, at(11))


def test_the_earliest_booking_names_the_answer_whatever_the_snapshot_order() -> None:
    # Two released bookings of the same holder in two rooms, both in their slot: the
    # entrance names the one that started first, in either order of the list.
    first = booking(91, BIZ2, at(10), at(12), status="released", room="sala-b")
    second = booking(92, BIZ2, at(10, 30), at(12), status="released")
    for snapshot in (snap(first, second), snap(second, first)):
        assert tap(snapshot, MAIN, BIZ2, at(11)) == denied(Reason.BOOKING_RELEASED, BIZ2, 91)
        assert tap(snapshot, SALA_A, BIZ2, at(11)) == denied(Reason.BOOKING_RELEASED, BIZ2, 92)


# -- others at a booked room ---------------------------------------------------------------------


@pytest.mark.parametrize("member", [BIZ, RESIDENT, NGO], ids=["business", "resident", "ngo"])
@pytest.mark.parametrize("status", ["booked", "checked_in"])
def test_anyone_else_is_refused_room_booked(member: int, status: str) -> None:
    snapshot = snap(A | {"status": status})
    # A `booked` booking holds the room to the end of its grace, a checked-in one to its end.
    times = [at(10), at(10, 10), at(10, 14, 59)] + ([at(10, 59)] if status == "checked_in" else [])
    for now in times:
        outcome = tap(snapshot, SALA_A, member, now)
        assert outcome.reason == Reason.ROOM_BOOKED
        assert not outcome.granted and outcome.effect is None and outcome.unlock_s == 0
    # Other rooms and the entrance are not affected by sala-a's booking.
    assert tap(snapshot, SALA_B, RESIDENT, at(10, 10)).reason == Reason.WALK_IN
    assert tap(snapshot, MAIN, BIZ, at(10, 10)).reason == Reason.MEMBERSHIP


def test_early_entry_window_of_someone_elses_booking_is_not_room_booked() -> None:
    # At 09:50 A is not current yet: the room is free, only A's holder gets check-in.
    assert tap(snap(A), SALA_A, BIZ, at(9, 50)) == denied(Reason.NO_ACCESS, BIZ)


def test_staff_enter_a_booked_room_without_touching_the_booking() -> None:
    for status in ("booked", "checked_in"):
        snapshot = snap(A | {"status": status})
        outcome = tap(snapshot, SALA_A, STAFF, at(10, 5))
        assert outcome == Outcome(True, Reason.STAFF, STAFF, UNLOCK[SALA_A], room="sala-a")


def test_staff_at_a_free_room_are_staff_not_a_walk_in() -> None:
    # Staff is a walk-in category, but the precedence (docs/architecture.md) puts staff first: a
    # caretaker's tap must not book the room.
    outcome = tap(snap(), SALA_A, STAFF, at(10))
    assert outcome == Outcome(True, Reason.STAFF, STAFF, UNLOCK[SALA_A], room="sala-a")


def test_staff_holding_a_booking_checks_it_in() -> None:
    snapshot = snap(booking(40, STAFF, at(10), at(11)))
    assert tap(snapshot, SALA_A, STAFF, at(10, 1)) == check_in(40, SALA_A, STAFF)


# -- walk-in -------------------------------------------------------------------------------------


def test_walk_in_until_the_next_booking_starts() -> None:
    snapshot = snap(A)
    assert tap(snapshot, SALA_A, RESIDENT, at(8, 30)) == walk_in(SALA_A, RESIDENT, at(10))
    assert tap(snapshot, SALA_A, NGO, at(9, 44)) == walk_in(SALA_A, NGO, at(10))
    # Inside A's early entry the room is still free to a walk-in, until A starts.
    assert tap(snapshot, SALA_A, RESIDENT, at(9, 50)) == walk_in(SALA_A, RESIDENT, at(10))


def test_walk_in_takes_the_nearest_of_several_next_bookings() -> None:
    snapshot = snap(booking(51, BIZ, at(12), at(13)), booking(50, BIZ2, at(11), at(12)))
    assert tap(snapshot, SALA_A, RESIDENT, at(9, 30)) == walk_in(SALA_A, RESIDENT, at(11))


def test_walk_in_is_capped_at_walk_in_max() -> None:
    assert tap(snap(), SALA_A, RESIDENT, at(9)) == walk_in(SALA_A, RESIDENT, at(12))
    later = snap(booking(52, BIZ, at(12, 30), at(13)))
    assert tap(later, SALA_A, RESIDENT, at(9)) == walk_in(SALA_A, RESIDENT, at(12))
    exactly = snap(booking(53, BIZ, at(12), at(13)))
    assert tap(exactly, SALA_A, RESIDENT, at(9)) == walk_in(SALA_A, RESIDENT, at(12))
    assert at(12) - at(9) == WALK_IN_MAX


def test_walk_in_ignores_bookings_of_other_rooms() -> None:
    snapshot = snap(booking(54, BIZ, at(10), at(11), room="sala-b"))
    assert tap(snapshot, SALA_A, RESIDENT, at(9)) == walk_in(SALA_A, RESIDENT, at(12))


def test_walk_in_after_the_current_booking_ends() -> None:
    snapshot = snap(A | {"status": "checked_in"}, booking(55, BIZ, at(12), at(13)))
    assert tap(snapshot, SALA_A, RESIDENT, at(11)) == walk_in(SALA_A, RESIDENT, at(12))


@pytest.mark.parametrize(("member", "reason"), [(BIZ, Reason.NO_ACCESS),
                                                (BIZ2, Reason.NO_MEMBERSHIP)])  # fmt: skip
def test_business_members_are_not_a_walk_in_category(member: int, reason: Reason) -> None:
    assert tap(snap(), SALA_A, member, at(9)) == denied(reason, member)


def test_no_walk_in_into_the_coworking_room() -> None:
    # Not bookable: membership rules only, for residents as for anyone.
    assert tap(snap(), COWORK, RESIDENT, at(12)) == denied(Reason.NO_MEMBERSHIP, RESIDENT)
    assert tap(snap(), COWORK, NGO, at(12)) == denied(Reason.NO_MEMBERSHIP, NGO)
    outcome = tap(snap(), COWORK, BIZ, at(12))
    assert outcome == Outcome(True, Reason.MEMBERSHIP, BIZ, UNLOCK[COWORK], room="coworking")
    assert tap(snap(), COWORK, BIZ, at(22)) == denied(Reason.OUTSIDE_HOURS, BIZ)


def test_no_walk_in_at_the_entrance() -> None:
    assert tap(snap(), MAIN, RESIDENT, at(12)) == denied(Reason.NO_MEMBERSHIP, RESIDENT)


def test_no_walk_in_when_the_room_is_missing_from_the_snapshot() -> None:
    data = snapshot_data()
    del data["rooms"]["sala-a"]
    snapshot = PolicySnapshot.model_validate(data)
    assert tap(snapshot, SALA_A, RESIDENT, at(9)) == denied(Reason.NO_MEMBERSHIP, RESIDENT)


# -- released bookings ------------------------------------------------------------------------

RELEASED = booking(60, BIZ2, at(10), at(12), status="released", attendees=(BIZ,))
RELEASED_RESIDENT = booking(61, RESIDENT, at(10), at(12), status="released")


def test_released_booking_refuses_a_business_holder() -> None:
    snapshot = snap(RELEASED)
    for now in (at(10, 15), at(10, 30), at(11, 59)):
        assert tap(snapshot, SALA_A, BIZ2, now) == denied(Reason.BOOKING_RELEASED, BIZ2, 60)
        assert tap(snapshot, MAIN, BIZ2, now) == denied(Reason.BOOKING_RELEASED, BIZ2, 60)
    # After its slot the release is history: an ordinary denial.
    assert tap(snapshot, SALA_A, BIZ2, at(12)) == denied(Reason.NO_MEMBERSHIP, BIZ2)


def test_released_booking_does_not_admit_its_attendees() -> None:
    snapshot = snap(RELEASED)
    assert tap(snapshot, SALA_A, BIZ, at(10, 30)) == denied(Reason.NO_ACCESS, BIZ)
    # At the entrance BIZ's own coworking plan still lets them in, in opening hours.
    assert tap(snapshot, MAIN, BIZ, at(10, 30)).reason == Reason.MEMBERSHIP


def test_released_holder_with_a_plan_passes_the_entrance_on_the_plan() -> None:
    # "booking_released" at the entrance is for a holder with nothing else.
    evening = RELEASED | {"member_id": BIZ, "attendees": [], "start": at(20), "end": at(22)}
    snapshot = snap(evening)
    assert tap(snapshot, MAIN, BIZ, at(20, 30)).reason == Reason.MEMBERSHIP
    assert tap(snapshot, SALA_A, BIZ, at(20, 30)) == denied(Reason.BOOKING_RELEASED, BIZ, 60)
    # After 21:00 the plan grants nothing either: now the release is the reason.
    assert tap(snapshot, MAIN, BIZ, at(21, 30)) == denied(Reason.BOOKING_RELEASED, BIZ, 60)


def test_released_resident_holder_may_walk_in_while_the_room_is_free() -> None:
    snapshot = snap(RELEASED_RESIDENT, booking(62, BIZ, at(12), at(13)))
    assert tap(snapshot, SALA_A, RESIDENT, at(10, 30)) == walk_in(SALA_A, RESIDENT, at(12))
    # The entrance grants no walk-in: there the resident is told why.
    assert tap(snapshot, MAIN, RESIDENT, at(10, 30)) == denied(
        Reason.BOOKING_RELEASED, RESIDENT, 61
    )


def test_released_booking_does_not_block_others() -> None:
    snapshot = snap(RELEASED)
    assert tap(snapshot, SALA_A, RESIDENT, at(10, 30)) == walk_in(SALA_A, RESIDENT, at(13, 30))
    # A business member who is nothing to the booking gets the ordinary answer, not
    # room_booked: nobody holds the room.
    assert tap(snapshot, SALA_B, BIZ2, at(10, 30)) == denied(Reason.NO_MEMBERSHIP, BIZ2)
    assert tap(snap(A | {"attendees": []}), SALA_A, BIZ, at(10, 30)) == denied(
        Reason.NO_ACCESS, BIZ
    )


def test_a_walk_in_after_a_release_holds_the_room() -> None:
    # Someone walked in after the release: their walk-in booking is now the current one,
    # and it decides first (docs/architecture.md precedence), also for the released holder.
    taken = booking(63, RESIDENT2, at(10, 20), at(12), status="checked_in")
    snapshot = snap(RELEASED_RESIDENT, taken)
    assert tap(snapshot, SALA_A, RESIDENT2, at(10, 30)) == admitted(63, SALA_A, RESIDENT2)
    assert tap(snapshot, SALA_A, RESIDENT, at(10, 30)) == denied(Reason.ROOM_BOOKED, RESIDENT)
    assert tap(snapshot, MAIN, RESIDENT, at(10, 30)) == denied(
        Reason.BOOKING_RELEASED, RESIDENT, 61
    )


# -- booked past start + grace counts as released (before the sweep marks it) ---------------------


def test_booked_past_grace_is_released_without_the_sweep() -> None:
    snapshot = snap(A)  # still "booked" in the snapshot
    assert tap(snapshot, SALA_A, BIZ2, at(10, 14, 59)) == check_in(10, SALA_A, BIZ2)
    for now in (at(10, 15), at(10, 40)):
        outcome = tap(snapshot, SALA_A, BIZ2, now)
        assert outcome == denied(Reason.BOOKING_RELEASED, BIZ2, 10)
        assert outcome.effect is None  # never checked in late
        assert tap(snapshot, MAIN, BIZ2, now) == denied(Reason.BOOKING_RELEASED, BIZ2, 10)
        # The resident attendee is not admitted on the booking; the room is free, so they
        # may walk in (until A's end is no limit: A no longer holds the room).
        assert tap(snapshot, SALA_A, RESIDENT2, now) == walk_in(
            SALA_A, RESIDENT2, now + WALK_IN_MAX
        )
        assert tap(snapshot, MAIN, RESIDENT2, now) == denied(Reason.NO_MEMBERSHIP, RESIDENT2)


def test_booked_past_grace_frees_the_room_for_others() -> None:
    snapshot = snap(A)
    assert tap(snapshot, SALA_A, RESIDENT, at(10, 14)) == denied(Reason.ROOM_BOOKED, RESIDENT)
    assert tap(snapshot, SALA_A, RESIDENT, at(10, 15)) == walk_in(SALA_A, RESIDENT, at(13, 15))


def test_booked_past_grace_resident_holder_walks_in() -> None:
    snapshot = snap(booking(64, RESIDENT, at(10), at(11)))
    assert tap(snapshot, SALA_A, RESIDENT, at(10, 20)) == walk_in(SALA_A, RESIDENT, at(13, 20))


def test_grace_follows_the_rules() -> None:
    data = snapshot_data(A)
    data["rules"]["no_show_grace_s"] = 300
    snapshot = PolicySnapshot.model_validate(data)
    assert tap(snapshot, SALA_A, BIZ2, at(10, 4, 59)) == check_in(10, SALA_A, BIZ2)
    assert tap(snapshot, SALA_A, BIZ2, at(10, 5)) == denied(Reason.BOOKING_RELEASED, BIZ2, 10)


# -- lockdown --------------------------------------------------------------------------------


def test_lockdown_beats_booking_and_walk_in() -> None:
    snapshot = snap(A, locked=(SALA_A, MAIN))
    # No grant, so no check-in and no walk-in booking either.
    assert tap(snapshot, SALA_A, BIZ2, at(10, 5)) == denied(Reason.LOCKED_DOWN, BIZ2)
    assert tap(snapshot, MAIN, BIZ2, at(10, 5)) == denied(Reason.LOCKED_DOWN, BIZ2)
    assert tap(snapshot, SALA_A, STAFF, at(10, 5)) == denied(Reason.LOCKED_DOWN, STAFF)
    assert tap(snapshot, SALA_A, RESIDENT, at(8)) == denied(Reason.LOCKED_DOWN, RESIDENT)
    checked_in = snap(A | {"status": "checked_in"}, locked=(SALA_A,))
    assert tap(checked_in, SALA_A, BIZ2, at(10, 30)) == denied(Reason.LOCKED_DOWN, BIZ2)
    # Denials keep their own reason.
    assert tap(snapshot, SALA_A, RESIDENT, at(10, 5)).reason == Reason.ROOM_BOOKED
    # Lockdown is per door.
    assert tap(snapshot, SALA_B, RESIDENT, at(10, 5)).reason == Reason.WALK_IN


# -- cancelled bookings ---------------------------------------------------------------------------


def test_cancelled_bookings_are_not_in_the_snapshot() -> None:
    # The server leaves them out; the model refuses them rather than admit on one.
    for status in ("cancelled", "completed", "pending"):
        with pytest.raises(ValidationError):
            snap(A | {"status": status})
    # A cancelled booking is simply absent: the room is free, its holder a stranger to it.
    snapshot = snap()
    assert tap(snapshot, SALA_A, BIZ2, at(10, 5)) == denied(Reason.NO_MEMBERSHIP, BIZ2)
    assert tap(snapshot, SALA_A, RESIDENT, at(10, 5)) == walk_in(SALA_A, RESIDENT, at(13, 5))


def test_booking_times_must_be_utc() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(BookingPolicy).validate_python(A | {"start": datetime(2026, 1, 12, 10)})
    local_start = datetime(2026, 1, 12, 10, tzinfo=WARSAW)
    with pytest.raises(ValidationError):
        TypeAdapter(BookingPolicy).validate_python(A | {"start": local_start})


# -- Outcome.room and other fields -----------------------------------------------------------------


def test_grants_name_the_doors_room_and_denials_none() -> None:
    snapshot = snap(A, booking(70, BIZ, at(10), at(11), room="sala-b"))
    cases = [
        (SALA_A, BIZ2, at(10)),  # booking, check-in
        (MAIN, BIZ2, at(10)),  # booking at the entrance
        (SALA_B, BIZ, at(10)),  # booking in another room
        (SALA_B, STAFF, at(10)),  # staff
        (COWORK, BIZ, at(10)),  # membership
        (SALA_A, RESIDENT, at(8)),  # walk-in
        (SALA_A, RESIDENT, at(10)),  # room_booked
        (MAIN, RESIDENT, at(10)),  # no_membership
    ]
    seen = set()
    for device, member, now in cases:
        outcome = tap(snapshot, device, member, now)
        seen.add(outcome.reason)
        if outcome.granted:
            assert outcome.room == snapshot.doors[device].room == ROOM_OF[device]
            assert outcome.unlock_s == UNLOCK[device]
        else:
            assert outcome.room is None and outcome.effect is None and outcome.until is None
    assert seen >= {Reason.BOOKING, Reason.STAFF, Reason.MEMBERSHIP, Reason.WALK_IN,
                    Reason.ROOM_BOOKED, Reason.NO_MEMBERSHIP}  # fmt: skip


def test_only_walk_in_carries_until_and_only_check_in_a_booking_effect() -> None:
    snapshot = snap(A, booking(71, RESIDENT, at(13), at(14), status="checked_in"))
    for device in DEVICES:
        for member in CATEGORY:
            for now in (at(8), at(9, 50), at(10, 5), at(10, 20), at(13, 30)):
                outcome = tap(snapshot, device, member, now)
                if outcome.effect == "walk_in":
                    assert outcome.reason == Reason.WALK_IN and outcome.until is not None
                    assert outcome.until > now and outcome.booking_id is None
                elif outcome.effect == "check_in":
                    assert outcome.reason == Reason.BOOKING and outcome.booking_id is not None
                    assert device != MAIN and outcome.until is None
                else:
                    assert outcome.reason != Reason.WALK_IN and outcome.until is None


# -- the snapshot as the gateway receives it ----------------------------------------------


def test_json_round_trip_with_bookings_decides_identically() -> None:
    original = snap(
        A,
        B | {"attendees": [NGO]},
        RELEASED | {"room": "sala-b"},
        booking(80, RESIDENT, at(14), at(15), status="checked_in"),
        booking(81, BIZ2, at(18), at(20), room="sala-b"),
    )
    text = original.model_dump_json()
    assert '"start":"2026-01-12T09:00:00.000Z"' in text  # 10:00 Warsaw, in UTC with Z
    received = PolicySnapshot.model_validate_json(text)
    assert received == original
    assert received.bookings == original.bookings
    times = [at(h, m) for h in range(7, 22) for m in (0, 14, 15, 44, 45, 50, 59)]
    reasons = set()
    for device in [*DEVICES, "reader-garage"]:
        for member in CATEGORY:
            for now in times:
                expected = tap(original, device, member, now)
                assert tap(received, device, member, now) == expected, (device, member, now)
                reasons.add(expected.reason)
                if expected.granted:
                    assert expected.reason in GRANTS
    assert reasons >= {Reason.BOOKING, Reason.WALK_IN, Reason.ROOM_BOOKED,
                       Reason.BOOKING_RELEASED, Reason.STAFF, Reason.MEMBERSHIP,
                       Reason.NO_ACCESS, Reason.NO_MEMBERSHIP, Reason.OUTSIDE_HOURS,
                       Reason.UNKNOWN_DOOR}  # fmt: skip


def test_decide_does_not_care_about_the_order_of_bookings() -> None:
    bookings = [A, B, RELEASED | {"room": "sala-b"}, booking(82, RESIDENT, at(13), at(14))]
    forward, backward = snap(*bookings), snap(*reversed(bookings))
    for device in DEVICES:
        for member in CATEGORY:
            for now in [at(h, m) for h in range(8, 15) for m in (0, 10, 15, 46, 50)]:
                assert tap(forward, device, member, now) == tap(backward, device, member, now)
