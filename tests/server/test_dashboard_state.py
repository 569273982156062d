"""The room state words, the page script's share of them, and the session cookie's value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.dashboard import i18n
from server.notify import texts
from server.occupancy.live import Evidence, in_use_evidence
from server.occupancy.roomstate import RoomState, room_state

S = RoomState


@pytest.mark.parametrize(
    ("occupied", "people", "capacity", "bookable", "current", "released", "expected"),
    [
        # nobody there
        (False, None, 12, True, None, False, S.FREE),
        (False, 0, 40, True, None, False, S.FREE),
        (False, None, 12, True, "booked", False, S.BOOKED_WAITING),
        (False, None, 12, True, None, True, S.RELEASED),
        # checked in, but nobody counted and no motion: not "in use" without evidence
        (False, None, 12, True, "checked_in", False, S.CHECKED_IN_UNSEEN),
        (False, 0, 40, True, "checked_in", False, S.CHECKED_IN_UNSEEN),
        # somebody there
        (True, None, 12, True, "checked_in", False, S.IN_USE),
        (True, 3, 12, True, "booked", False, S.IN_USE),  # holders in, not yet checked in
        (True, None, 12, True, None, False, S.IN_USE_UNBOOKED),
        (True, 2, 12, True, None, True, S.IN_USE_UNBOOKED),  # released, then taken anyway
        (True, 5, 20, False, None, False, S.IN_USE),  # coworking: nobody books it
        (True, 1, None, False, None, False, S.IN_USE),  # the entrance
        # too many
        (True, 13, 12, True, "checked_in", False, S.OVER_CAPACITY),
        (True, 41, 40, True, None, False, S.OVER_CAPACITY),
        (True, 12, 12, True, "checked_in", False, S.IN_USE),  # full is not over
        (True, 300, None, False, None, False, S.IN_USE),  # no capacity: never over
    ],
)
def test_room_state(
    occupied: bool,
    people: int | None,
    capacity: int | None,
    bookable: bool,
    current: str | None,
    released: bool,
    expected: RoomState,
) -> None:
    state = room_state(
        occupied=occupied,
        people=people,
        capacity=capacity,
        bookable=bookable,
        current=current,
        released_now=released,
    )
    assert state is expected


def test_an_early_check_in_holds_the_room() -> None:
    def state(occupied: bool, early: bool) -> RoomState:
        return room_state(
            occupied=occupied,
            people=None,
            capacity=12,
            bookable=True,
            current=None,
            arrived_early=early,
        )

    assert state(True, True) is S.IN_USE
    assert state(False, True) is S.CHECKED_IN_UNSEEN  # nobody seen: not "in use"
    assert state(True, False) is S.IN_USE_UNBOOKED


T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("occupied", "people", "motion_ago", "expected"),
    [
        (False, 0, None, None),  # 0 of 40, no motion: no evidence
        (False, None, 20, None),  # motion long ago: the room has emptied
        (True, 3, None, Evidence(people=3)),
        (True, 3, 1, Evidence(people=3)),  # people counted say more than motion
        (True, 0, 2, Evidence(motion_minutes=2)),
        (True, None, 0, Evidence(motion_minutes=0)),  # motion just now
        (True, 0, 40, Evidence(motion_minutes=0)),  # still occupied after 40 min: it goes on
    ],
)
def test_in_use_needs_evidence(
    occupied: bool, people: int | None, motion_ago: int | None, expected: Evidence | None
) -> None:
    last = None if motion_ago is None else T - timedelta(minutes=motion_ago, seconds=5)
    found = in_use_evidence(
        occupied=occupied,
        people=people,
        last_motion=last,
        now=T,
        vacancy_timeout=timedelta(minutes=15),
    )
    assert found == expected


def test_every_state_and_reason_has_words() -> None:
    from protocol.messages import Reason

    for state in RoomState:
        assert texts.known(f"state.{state}")
    for reason in Reason:
        assert texts.known(f"reason.{reason}")


def test_the_page_script_gets_its_words_in_the_page_language() -> None:
    uk = i18n.client_strings("uk")
    assert uk["live.on"] == "Наживо" and uk["failed"] == "Не вдалося: {detail}"
    assert i18n.client_strings("de") == i18n.client_strings("pl")
    assert not any(key.startswith(("state.", "notice.")) for key in uk)


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
