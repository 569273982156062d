"""decide(): every reason, on a snapshot like the demo site, at explicit times.

Warsaw is UTC+1 in winter and UTC+2 in summer; every `now` below is UTC, and its local
time is written next to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from protocol.cards import card_hash
from protocol.decide import GRANTS, Outcome, decide
from protocol.messages import Reason
from protocol.policy import PolicySnapshot

KEY = b"test-card-key"

STAFF, COWORKER, H24, RESIDENT, SUSPENDED, EXPIRED, WAS_SUSPENDED, ORPHAN = range(1, 9)

UIDS = {
    "staff": "04A1B2C3",
    "coworker": "04112233445566",
    "h24": "0A1B2C3D4E",
    "resident": "04D4E5F6",
    "suspended": "04000005",
    "expired": "04000006",
    "was_suspended": "04000007",
    "revoked": "04000099",  # the coworker's old card, deactivated
    "orphan": "04000098",  # points at a member the snapshot does not carry
}
UNKNOWN_UID = "04FFFFFF"


def h(uid: str) -> str:
    return card_hash(KEY, uid)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Winter (UTC+1): 2024-01-13 Sat, 14 Sun, 15 Mon. Summer (UTC+2): 2024-07-01 Mon.
MON_NOON = utc(2024, 1, 15, 11, 0)  # 12:00 local
MON_0800 = utc(2024, 1, 15, 7, 0)  # 08:00 local, opening
MON_0759 = utc(2024, 1, 15, 6, 59)  # 07:59 local
MON_0830_WINTER = utc(2024, 1, 15, 7, 30)  # 08:30 local; 07:30 UTC is before opening
MON_2059 = utc(2024, 1, 15, 19, 59)  # 20:59 local
MON_2100 = utc(2024, 1, 15, 20, 0)  # 21:00 local, closing
MON_2200 = utc(2024, 1, 15, 21, 0)  # 22:00 local
MON_0300 = utc(2024, 1, 15, 2, 0)  # 03:00 local
SUN_NOON = utc(2024, 1, 14, 11, 0)  # 12:00 local, Sunday
SUN_0300 = utc(2024, 1, 14, 2, 0)  # 03:00 local, Sunday
SAT_1030 = utc(2024, 1, 13, 9, 30)  # 10:30 local
SAT_0930 = utc(2024, 1, 13, 8, 30)  # 09:30 local, before Saturday opening
SAT_1630 = utc(2024, 1, 13, 15, 30)  # 16:30 local, after Saturday closing
SUMMER_0830 = utc(2024, 7, 1, 6, 30)  # 08:30 local; 06:30 UTC is before opening
SUMMER_2130 = utc(2024, 7, 1, 19, 30)  # 21:30 local; 19:30 UTC would be inside hours

WEEKDAY = ["08:00-21:00"]


def snapshot_data() -> dict[str, Any]:
    """The demo site as the server would send it, as plain data a test may change."""
    return {
        "v": 1,
        "site": "piaseczno",
        "epoch": "db-test",
        "n": 3,
        "generated_at": "2024-01-01T00:00:00Z",
        "timezone": "Europe/Warsaw",
        "opening_hours": {
            "days": {d: WEEKDAY for d in ("mon", "tue", "wed", "thu", "fri")}
            | {"sat": ["10:00-16:00"]}
        },
        "closed_dates": [],
        "doors": {
            "reader-main": {"id": "main", "room": "main", "kind": "entrance", "unlock_s": 5.0},
            "reader-cowork": {
                "id": "coworking",
                "room": "coworking",
                "kind": "room",
                "unlock_s": 8.0,
            },
            "reader-sala-a": {"id": "sala-a", "room": "sala-a", "kind": "room", "unlock_s": 3.0},
        },  # fmt: skip
        "members": {
            STAFF: {"category": "staff"},
            COWORKER: {"category": "business"},
            H24: {"category": "ngo"},
            RESIDENT: {"category": "resident"},
            SUSPENDED: {"category": "business", "suspended_until": utc(2030, 1, 1)},
            EXPIRED: {"category": "business"},
            WAS_SUSPENDED: {"category": "resident", "suspended_until": utc(2023, 6, 1)},
        },
        "cards": {
            h(UIDS["staff"]): {"member_id": STAFF},
            h(UIDS["coworker"]): {"member_id": COWORKER},
            h(UIDS["h24"]): {"member_id": H24},
            h(UIDS["resident"]): {"member_id": RESIDENT},
            h(UIDS["suspended"]): {"member_id": SUSPENDED},
            h(UIDS["expired"]): {"member_id": EXPIRED},
            h(UIDS["was_suspended"]): {"member_id": WAS_SUSPENDED},
            h(UIDS["revoked"]): {"member_id": COWORKER, "active": False},
            h(UIDS["orphan"]): {"member_id": ORPHAN},
        },
        "plans": {
            "coworking": {"doors": ["main", "coworking"], "hours": "opening"},
            "coworking-24h": {"doors": ["main", "coworking"], "hours": "always"},
        },
        "memberships": {
            COWORKER: [_membership("coworking")],
            H24: [_membership("coworking-24h")],
            SUSPENDED: [_membership("coworking")],
            EXPIRED: [_membership("coworking", until=utc(2023, 12, 31))],
            WAS_SUSPENDED: [_membership("coworking")],
        },
    }


def _membership(plan: str, until: datetime | None = None) -> dict[str, Any]:
    return {
        "plan": plan,
        "valid_from": utc(2023, 1, 1),
        "valid_until": until or utc(2025, 1, 1),
    }


def build(**changes: Any) -> PolicySnapshot:
    data = snapshot_data()
    data.update(changes)
    return PolicySnapshot.model_validate(data)


def locked(*devices: str) -> PolicySnapshot:
    data = snapshot_data()
    for device in devices:
        data["doors"][device]["mode"] = "locked"
    return PolicySnapshot.model_validate(data)


@pytest.fixture
def snapshot() -> PolicySnapshot:
    return build()


def tap(snapshot: PolicySnapshot, device: str, who: str, now: datetime) -> Outcome:
    uid = UNKNOWN_UID if who == "unknown" else UIDS[who]
    return decide(snapshot, device, h(uid), now)


# -- every reason -------------------------------------------------------------------------

CASES = [
    # (what, device, card, now, reason)
    ("staff, entrance, Sunday 3 a.m.", "reader-main", "staff", SUN_0300, Reason.STAFF),
    ("staff, any room, Sunday 3 a.m.", "reader-sala-a", "staff", SUN_0300, Reason.STAFF),
    ("staff, coworking, 22:00", "reader-cowork", "staff", MON_2200, Reason.STAFF),
    ("coworker, entrance, Monday noon", "reader-main", "coworker", MON_NOON, Reason.MEMBERSHIP),
    ("coworker, coworking room", "reader-cowork", "coworker", MON_NOON, Reason.MEMBERSHIP),
    ("coworker, Saturday 10:30", "reader-main", "coworker", SAT_1030, Reason.MEMBERSHIP),
    ("coworker, opening minute", "reader-main", "coworker", MON_0800, Reason.MEMBERSHIP),
    ("coworker, last minute", "reader-main", "coworker", MON_2059, Reason.MEMBERSHIP),
    ("coworker, 08:30 winter local", "reader-main", "coworker", MON_0830_WINTER,
     Reason.MEMBERSHIP),
    ("coworker, 08:30 summer local", "reader-main", "coworker", SUMMER_0830, Reason.MEMBERSHIP),
    ("coworker, 07:59", "reader-main", "coworker", MON_0759, Reason.OUTSIDE_HOURS),
    ("coworker, closing minute", "reader-main", "coworker", MON_2100, Reason.OUTSIDE_HOURS),
    ("coworker, 22:00", "reader-main", "coworker", MON_2200, Reason.OUTSIDE_HOURS),
    ("coworker, 21:30 summer local", "reader-main", "coworker", SUMMER_2130,
     Reason.OUTSIDE_HOURS),
    ("coworker, Sunday noon", "reader-main", "coworker", SUN_NOON, Reason.OUTSIDE_HOURS),
    ("coworker, Saturday 09:30", "reader-main", "coworker", SAT_0930, Reason.OUTSIDE_HOURS),
    ("coworker, Saturday 16:30", "reader-main", "coworker", SAT_1630, Reason.OUTSIDE_HOURS),
    ("24h, 3 a.m. Monday", "reader-main", "h24", MON_0300, Reason.MEMBERSHIP),
    ("24h, 3 a.m. Sunday", "reader-cowork", "h24", SUN_0300, Reason.MEMBERSHIP),
    ("24h, noon", "reader-main", "h24", MON_NOON, Reason.MEMBERSHIP),
    ("resident without membership", "reader-main", "resident", MON_NOON, Reason.NO_MEMBERSHIP),
    ("expired membership", "reader-main", "expired", MON_NOON, Reason.NO_MEMBERSHIP),
    ("coworker at sala-a", "reader-sala-a", "coworker", MON_NOON, Reason.NO_ACCESS),
    ("24h at sala-a", "reader-sala-a", "h24", MON_0300, Reason.NO_ACCESS),
    ("unknown card", "reader-main", "unknown", MON_NOON, Reason.UNKNOWN_CARD),
    ("card of a member not in the snapshot", "reader-main", "orphan", MON_NOON,
     Reason.UNKNOWN_CARD),
    ("inactive card", "reader-main", "revoked", MON_NOON, Reason.CARD_REVOKED),
    ("suspended member", "reader-main", "suspended", MON_NOON, Reason.MEMBER_SUSPENDED),
    ("suspension over", "reader-main", "was_suspended", MON_NOON, Reason.MEMBERSHIP),
    ("unknown door, staff", "reader-garage", "staff", MON_NOON, Reason.UNKNOWN_DOOR),
    ("unknown door, unknown card", "counter-hall", "unknown", MON_NOON, Reason.UNKNOWN_DOOR),
]  # fmt: skip


@pytest.mark.parametrize(
    ("device", "who", "now", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_reason(
    snapshot: PolicySnapshot, device: str, who: str, now: datetime, reason: Reason
) -> None:
    outcome = tap(snapshot, device, who, now)
    assert outcome.reason == reason
    assert outcome.granted == (reason in GRANTS)


def test_cases_cover_every_reason_decide_can_give() -> None:
    given = {c[4] for c in CASES} | {Reason.LOCKED_DOWN}  # locked_down: tests below
    assert given == {
        Reason.STAFF, Reason.MEMBERSHIP, Reason.OUTSIDE_HOURS, Reason.NO_MEMBERSHIP,
        Reason.NO_ACCESS, Reason.UNKNOWN_CARD, Reason.CARD_REVOKED, Reason.MEMBER_SUSPENDED,
        Reason.UNKNOWN_DOOR, Reason.LOCKED_DOWN,
    }  # fmt: skip


def test_grants_are_the_granting_reasons() -> None:
    assert {Reason.STAFF, Reason.MEMBERSHIP, Reason.BOOKING, Reason.WALK_IN} == GRANTS


# -- the time zone is applied ---------------------------------------------------------------


def test_local_time_not_utc_decides_hours(snapshot: PolicySnapshot) -> None:
    # 07:30 UTC is before 08:00, but it is 08:30 in Warsaw: open.
    assert MON_0830_WINTER.hour == 7
    assert tap(snapshot, "reader-main", "coworker", MON_0830_WINTER).granted
    # 19:30 UTC is before 21:00, but it is 21:30 in Warsaw in summer: closed.
    assert SUMMER_2130.hour == 19
    assert not tap(snapshot, "reader-main", "coworker", SUMMER_2130).granted
    # The same instants at a site kept in UTC decide the other way round.
    in_utc = build(timezone="UTC")
    assert not tap(in_utc, "reader-main", "coworker", MON_0830_WINTER).granted
    assert tap(in_utc, "reader-main", "coworker", SUMMER_2130).granted


def test_daylight_saving_shift(snapshot: PolicySnapshot) -> None:
    # 06:30 UTC is 07:30 local in winter (closed) and 08:30 local in summer (open).
    assert not tap(snapshot, "reader-main", "coworker", utc(2024, 1, 15, 6, 30)).granted
    assert tap(snapshot, "reader-main", "coworker", utc(2024, 7, 1, 6, 30)).granted


def test_now_in_another_zone_is_the_same_instant(snapshot: PolicySnapshot) -> None:
    from zoneinfo import ZoneInfo

    local = MON_0830_WINTER.astimezone(ZoneInfo("Europe/Warsaw"))
    assert decide(snapshot, "reader-main", h(UIDS["coworker"]), local) == decide(
        snapshot, "reader-main", h(UIDS["coworker"]), MON_0830_WINTER
    )


# -- grants carry the door's unlock time and the member ----------------------------------------


@pytest.mark.parametrize(
    ("device", "who", "member_id", "unlock_s"),
    [
        ("reader-main", "staff", STAFF, 5.0),
        ("reader-cowork", "staff", STAFF, 8.0),
        ("reader-sala-a", "staff", STAFF, 3.0),
        ("reader-main", "coworker", COWORKER, 5.0),
        ("reader-cowork", "coworker", COWORKER, 8.0),
        ("reader-cowork", "h24", H24, 8.0),
    ],
)
def test_grant_carries_unlock_time_and_member(
    snapshot: PolicySnapshot, device: str, who: str, member_id: int, unlock_s: float
) -> None:
    outcome = tap(snapshot, device, who, MON_NOON)
    assert outcome.granted
    assert outcome.member_id == member_id
    assert outcome.unlock_s == unlock_s == snapshot.doors[device].unlock_s


def test_denials_do_not_unlock(snapshot: PolicySnapshot) -> None:
    for what, device, who, now, reason in CASES:
        outcome = tap(snapshot, device, who, now)
        if reason not in GRANTS:
            assert outcome.unlock_s == 0, what


def test_denials_name_the_member_when_known(snapshot: PolicySnapshot) -> None:
    assert tap(snapshot, "reader-main", "revoked", MON_NOON).member_id == COWORKER
    assert tap(snapshot, "reader-main", "suspended", MON_NOON).member_id == SUSPENDED
    assert tap(snapshot, "reader-main", "resident", MON_NOON).member_id == RESIDENT
    assert tap(snapshot, "reader-main", "coworker", MON_2200).member_id == COWORKER
    assert tap(snapshot, "reader-main", "unknown", MON_NOON).member_id is None
    assert tap(snapshot, "reader-garage", "staff", MON_NOON) == Outcome(False, Reason.UNKNOWN_DOOR)


# -- suspension and validity boundaries --------------------------------------------------------


def test_suspension_ends_at_suspended_until() -> None:
    data = snapshot_data()
    data["members"][SUSPENDED]["suspended_until"] = MON_NOON
    snapshot = PolicySnapshot.model_validate(data)
    before = utc(2024, 1, 15, 10, 59)
    assert tap(snapshot, "reader-main", "suspended", before).reason == Reason.MEMBER_SUSPENDED
    assert tap(snapshot, "reader-main", "suspended", MON_NOON).reason == Reason.MEMBERSHIP


def test_suspension_comes_before_staff() -> None:
    data = snapshot_data()
    data["members"][STAFF]["suspended_until"] = utc(2030, 1, 1)
    snapshot = PolicySnapshot.model_validate(data)
    assert tap(snapshot, "reader-main", "staff", MON_NOON).reason == Reason.MEMBER_SUSPENDED


def test_revoked_card_comes_before_the_member() -> None:
    # The coworker is welcome now, but not with the card that was deactivated.
    snapshot = build()
    assert tap(snapshot, "reader-main", "coworker", MON_NOON).granted
    assert tap(snapshot, "reader-main", "revoked", MON_NOON).reason == Reason.CARD_REVOKED


def test_membership_validity_is_half_open() -> None:
    data = snapshot_data()
    data["memberships"][COWORKER] = [
        {"plan": "coworking", "valid_from": MON_0800, "valid_until": MON_NOON}
    ]
    snapshot = PolicySnapshot.model_validate(data)
    assert tap(snapshot, "reader-main", "coworker", MON_0759).reason == Reason.NO_MEMBERSHIP
    assert tap(snapshot, "reader-main", "coworker", MON_0800).reason == Reason.MEMBERSHIP
    assert tap(snapshot, "reader-main", "coworker", MON_NOON).reason == Reason.NO_MEMBERSHIP


def test_membership_of_a_plan_the_snapshot_lacks_is_none() -> None:
    data = snapshot_data()
    data["memberships"][RESIDENT] = [_membership("retired-plan")]
    snapshot = PolicySnapshot.model_validate(data)
    assert tap(snapshot, "reader-main", "resident", MON_NOON).reason == Reason.NO_MEMBERSHIP


def test_a_24h_plan_next_to_an_expired_one_still_grants() -> None:
    data = snapshot_data()
    data["memberships"][EXPIRED].append(_membership("coworking-24h"))
    snapshot = PolicySnapshot.model_validate(data)
    assert tap(snapshot, "reader-main", "expired", MON_0300).reason == Reason.MEMBERSHIP


def test_cards_hashed_with_another_key_are_unknown(snapshot: PolicySnapshot) -> None:
    other = card_hash(b"another-key", UIDS["staff"])
    assert decide(snapshot, "reader-main", other, MON_NOON).reason == Reason.UNKNOWN_CARD


def test_any_spelling_of_a_card_finds_it(snapshot: PolicySnapshot) -> None:
    spelled = card_hash(KEY, "04:11:22:33:44:55:66".lower())
    assert decide(snapshot, "reader-main", spelled, MON_NOON).reason == Reason.MEMBERSHIP


# -- lockdown -----------------------------------------------------------------------------


def test_locked_door_refuses_staff_and_members() -> None:
    snapshot = locked("reader-main")
    for who, member_id, now in [
        ("staff", STAFF, SUN_0300),
        ("coworker", COWORKER, MON_NOON),
        ("h24", H24, MON_0300),
    ]:
        outcome = tap(snapshot, "reader-main", who, now)
        assert outcome == Outcome(False, Reason.LOCKED_DOWN, member_id, 0.0), who


def test_locked_door_keeps_denial_reasons() -> None:
    snapshot = locked("reader-main")
    assert tap(snapshot, "reader-main", "unknown", MON_NOON).reason == Reason.UNKNOWN_CARD
    assert tap(snapshot, "reader-main", "revoked", MON_NOON).reason == Reason.CARD_REVOKED
    assert tap(snapshot, "reader-main", "resident", MON_NOON).reason == Reason.NO_MEMBERSHIP
    assert tap(snapshot, "reader-main", "coworker", MON_2200).reason == Reason.OUTSIDE_HOURS
    assert tap(snapshot, "reader-main", "suspended", MON_NOON).reason == Reason.MEMBER_SUSPENDED


def test_lockdown_is_per_door() -> None:
    snapshot = locked("reader-main")
    assert tap(snapshot, "reader-cowork", "staff", MON_NOON).reason == Reason.STAFF
    assert tap(snapshot, "reader-cowork", "coworker", MON_NOON).reason == Reason.MEMBERSHIP


def test_unlocked_mode_does_not_change_decisions() -> None:
    data = snapshot_data()
    data["doors"]["reader-main"]["mode"] = "unlocked"
    snapshot = PolicySnapshot.model_validate(data)
    assert tap(snapshot, "reader-main", "staff", MON_NOON).reason == Reason.STAFF
    assert tap(snapshot, "reader-main", "unknown", MON_NOON).reason == Reason.UNKNOWN_CARD


# -- closed dates ---------------------------------------------------------------------------


def test_closed_date_closes_opening_hours_plans_only() -> None:
    snapshot = build(closed_dates=[date(2024, 1, 15)])
    assert tap(snapshot, "reader-main", "coworker", MON_NOON).reason == Reason.OUTSIDE_HOURS
    assert tap(snapshot, "reader-main", "h24", MON_NOON).reason == Reason.MEMBERSHIP
    assert tap(snapshot, "reader-sala-a", "staff", MON_NOON).reason == Reason.STAFF
    # The day after is an ordinary Tuesday.
    tuesday = utc(2024, 1, 16, 11, 0)
    assert tap(snapshot, "reader-main", "coworker", tuesday).reason == Reason.MEMBERSHIP


def test_closed_date_is_the_local_date() -> None:
    every_day = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    snapshot = build(opening_hours={"days": every_day}, closed_dates=[date(2024, 1, 16)])
    # 22:30 UTC on the 15th is 23:30 on the 15th in Warsaw: open.
    assert tap(snapshot, "reader-main", "coworker", utc(2024, 1, 15, 22, 30)).granted
    # 23:30 UTC on the 15th is already 00:30 on the 16th in Warsaw: closed.
    outcome = tap(snapshot, "reader-main", "coworker", utc(2024, 1, 15, 23, 30))
    assert outcome.reason == Reason.OUTSIDE_HOURS


def test_model_copy_with_new_closed_dates_or_zone_takes_effect(snapshot: PolicySnapshot) -> None:
    # Read the zone and open state first, so any cached value would be stale below.
    assert snapshot.is_open(MON_NOON) and str(snapshot.zone) == "Europe/Warsaw"
    closed = snapshot.model_copy(update={"closed_dates": [date(2024, 1, 15)]})
    assert not closed.is_open(MON_NOON)
    moved = snapshot.model_copy(update={"timezone": "UTC"})
    assert str(moved.zone) == "UTC"
    assert not moved.is_open(MON_0830_WINTER)


# -- the snapshot as the gateway receives it ----------------------------------------------------

VARIANTS = {
    "normal": build,
    "locked": lambda: locked("reader-main", "reader-sala-a"),
    "closed": lambda: build(closed_dates=[date(2024, 1, 15), date(2024, 7, 1)]),
}
DEVICES = ["reader-main", "reader-cowork", "reader-sala-a", "reader-garage"]
WHO = [*UIDS, "unknown"]
TIMES = [
    MON_NOON, MON_0759, MON_0800, MON_0830_WINTER, MON_2059, MON_2100, MON_2200, MON_0300,
    SUN_NOON, SUN_0300, SAT_1030, SAT_0930, SAT_1630, SUMMER_0830, SUMMER_2130,
]  # fmt: skip


@pytest.mark.parametrize("variant", VARIANTS)
def test_snapshot_json_round_trip_decides_identically(variant: str) -> None:
    original = VARIANTS[variant]()
    received = PolicySnapshot.model_validate_json(original.model_dump_json())
    assert received == original
    assert set(received.members) == {STAFF, COWORKER, H24, RESIDENT, SUSPENDED, EXPIRED,
                                     WAS_SUSPENDED}  # fmt: skip
    reasons = set()
    for device in DEVICES:
        for who in WHO:
            for now in TIMES:
                expected = tap(original, device, who, now)
                assert tap(received, device, who, now) == expected, (device, who, now)
                reasons.add(expected.reason)
    assert len(reasons) >= 7  # the matrix exercises most reasons, not one repeated answer


def test_snapshot_json_carries_utc_times_with_z() -> None:
    text = build().model_dump_json()
    assert '"generated_at":"2024-01-01T00:00:00.000Z"' in text
    assert '"suspended_until":"2030-01-01T00:00:00.000Z"' in text


# -- snapshot validation ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Europe/Nowhere", "", "../etc/passwd", "utc "])
def test_unknown_time_zone_is_refused_on_load(name: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        build(timezone=name)


@pytest.mark.parametrize(
    "days",
    [
        {"monday": WEEKDAY},
        {"mon": ["8:00-21:00"]},
        {"mon": ["21:00-08:00"]},
        {"mon": ["08:00-08:00"]},
        {"mon": ["08:00-24:30"]},
        {"mon": ["08:00-25:00"]},
        {"mon": ["08:00-21:00\n"]},
        {"mon": ["08:00 - 21:00"]},
    ],
)
def test_bad_opening_hours_are_refused(days: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError):
        build(opening_hours={"days": days})


def test_several_intervals_a_day() -> None:
    snapshot = build(opening_hours={"days": {"mon": ["08:00-12:00", "13:00-21:00"]}})
    assert snapshot.is_open(utc(2024, 1, 15, 10, 0))  # 11:00 local
    assert not snapshot.is_open(utc(2024, 1, 15, 11, 30))  # 12:30 local
    assert snapshot.is_open(utc(2024, 1, 15, 12, 0))  # 13:00 local
