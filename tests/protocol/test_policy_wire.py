"""The policy snapshot's wire forms (protocol.policy_wire): the compact form reads back into
the very snapshot the full form gives, every decision over it is the same, and the full
form is still what an older gateway reads (the unchanged PolicySnapshot model)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from protocol.cards import card_hash
from protocol.decide import Outcome, decide
from protocol.messages import UtcTime
from protocol.policy import Category, PolicySnapshot
from protocol.policy_wire import COMPACT, FULL, decode, encode, from_wire, to_wire

pytestmark = pytest.mark.unit

KEY = b"wire-test-key"
MONDAY = datetime(2024, 1, 15, tzinfo=UTC)  # 01:00 in Warsaw
CARDS = {f"04{n:06X}": n for n in range(1, 9)} | {"04AAAAAA": 2}  # member 2 has a second card


def at(hour: int, minute: int = 0, ms: int = 0) -> datetime:
    return MONDAY + timedelta(hours=hour, minutes=minute, milliseconds=ms)


def booking(id_: int, room: str, member: int, start: datetime, hours: float, **more: Any) -> dict:
    return {"id": id_, "room": room, "member_id": member, "start": start,
            "end": start + timedelta(hours=hours), "status": "booked"} | more  # fmt: skip


def site_data() -> dict[str, Any]:
    """A site with something of every kind the tables carry: suspended and former members,
    revoked cards, bookings of each status, with and without attendees."""
    return {
        "site": "piaseczno", "epoch": "db-wire", "n": 12, "generated_at": at(6),
        "timezone": "Europe/Warsaw",
        "opening_hours": {"days": {"mon": ["08:00-21:00"], "sat": ["10:00-16:00"]}},
        "closed_dates": ["2024-01-01"],
        "doors": {
            "reader-main": {"id": "main", "room": "main", "kind": "entrance"},
            "reader-sala-a": {"id": "sala-a", "room": "sala-a", "kind": "room", "unlock_s": 3},
            "reader-cowork": {"id": "coworking", "room": "coworking", "kind": "room",
                              "mode": "locked"},
        },
        "members": {
            1: {"category": "staff"},
            2: {"category": "business"},
            3: {"category": "resident"},
            4: {"category": "ngo", "suspended_until": at(30, 0, 250)},
            5: {"category": "resident", "suspended_until": at(-50)},
            6: {"category": "resident"},
            7: {"category": "ngo"},
        },
        "cards": {card_hash(KEY, uid): {"member_id": m} for uid, m in CARDS.items()}
        | {card_hash(KEY, "04000002"): {"member_id": 2, "active": False}},
        "plans": {"coworking": {"doors": ["main", "coworking"]}},
        "memberships": {2: [{"plan": "coworking", "valid_from": at(-900),
                             "valid_until": at(900)}]},
        "rooms": {"main": {"kind": "entrance"}, "sala-a": {"kind": "meeting", "bookable": True},
                  "coworking": {"kind": "coworking"}},
        "bookings": [
            booking(40, "sala-a", 3, at(10), 1, attendees=[6, 7]),
            booking(41, "sala-a", 6, at(12, 0, 999), 2, status="checked_in"),
            booking(42, "sala-a", 7, at(15), 1, status="released"),
            booking(43, "coworking", 3, at(9), 8),
        ],
        "rules": {"early_entry_s": 600, "walk_in_categories": ["resident", "ngo"]},
    }  # fmt: skip


@pytest.fixture
def snapshot() -> PolicySnapshot:
    return PolicySnapshot.model_validate(site_data())


# The tables' models as a gateway from before the compact form has them (its bookings'
# attendees a list); the rest of the snapshot is read by the model as it is.
class _OlderMember(BaseModel):
    category: Category
    suspended_until: UtcTime | None = None


class _OlderCard(BaseModel):
    member_id: int
    active: bool = True


class _OlderBooking(BaseModel):
    id: int
    room: str
    member_id: int
    attendees: list[int] = Field(default_factory=list)
    start: UtcTime
    end: UtcTime
    status: Literal["booked", "checked_in", "released"]


class _OlderSnapshot(PolicySnapshot):
    members: dict[int, _OlderMember] = Field(default_factory=dict)  # type: ignore[assignment]
    cards: dict[str, _OlderCard] = Field(default_factory=dict)  # type: ignore[assignment]
    bookings: list[_OlderBooking] = Field(default_factory=list)  # type: ignore[assignment]


def as_an_older_gateway_reads_it(body: bytes | str) -> PolicySnapshot:
    """What a gateway from before the compact form reads from `body`, as this model."""
    older = _OlderSnapshot.model_validate_json(body)
    return PolicySnapshot.model_validate_json(older.model_dump_json())


def test_the_compact_form_reads_back_into_the_same_snapshot(snapshot: PolicySnapshot) -> None:
    compact = encode(snapshot, COMPACT)
    assert decode(compact) == snapshot
    assert decode(compact) == as_an_older_gateway_reads_it(snapshot.model_dump_json())
    assert json.loads(compact)["v"] == COMPACT


def test_an_older_gateway_reads_the_full_form_as_before(snapshot: PolicySnapshot) -> None:
    full = encode(snapshot, FULL)
    assert as_an_older_gateway_reads_it(full) == snapshot
    assert decode(full) == snapshot
    # ... and its own full dump still reads, as from an older server
    assert decode(snapshot.model_dump_json()) == snapshot


def test_the_full_form_leaves_out_defaults_of_members_cards_and_bookings_only(
    snapshot: PolicySnapshot,
) -> None:
    data = json.loads(encode(snapshot, FULL))
    assert data["members"]["1"] == {"category": "staff"}
    assert data["members"]["4"] == {
        "category": "ngo",
        "suspended_until": "2024-01-16T06:00:00.250Z",
    }
    assert data["cards"][card_hash(KEY, "04000002")] == {"member_id": 2, "active": False}
    assert data["cards"][card_hash(KEY, "04000001")] == {"member_id": 1}
    assert "attendees" not in data["bookings"][1] and data["bookings"][0]["attendees"] == [6, 7]
    # everything else in full, defaults included
    assert data["v"] == 1
    assert data["doors"]["reader-main"] == {"id": "main", "room": "main", "kind": "entrance",
                                            "mode": "normal", "unlock_s": 5.0}  # fmt: skip
    assert data["rules"]["no_show_grace_s"] == 900.0


def test_the_compact_form_has_rows_with_times_in_milliseconds(snapshot: PolicySnapshot) -> None:
    data = json.loads(encode(snapshot, COMPACT))
    ms = int(at(10).timestamp()) * 1000
    assert data["members"]["1"] == ["staff"]
    assert data["members"]["4"] == ["ngo", int(at(30).timestamp()) * 1000 + 250]
    assert data["cards"][card_hash(KEY, "04000001")] == [1]
    assert data["cards"][card_hash(KEY, "04000002")] == [2, False]
    assert data["bookings"][0] == [40, "sala-a", 3, ms, ms + 3_600_000, "booked", [6, 7]]
    assert data["bookings"][1][3:] == [ms + 7_200_999, ms + 14_400_999, "checked_in"]
    assert data["generated_at"] == "2024-01-15T06:00:00.000Z"  # outside the tables: as ever
    assert len(encode(snapshot, COMPACT)) < len(encode(snapshot, FULL))


def test_times_go_to_the_millisecond_in_both_forms() -> None:
    data = site_data()
    data["bookings"] = [booking(1, "sala-a", 3, at(10, 0, 1) + timedelta(microseconds=999), 1)]
    snapshot = PolicySnapshot.model_validate(data)
    start = decode(encode(snapshot, COMPACT)).bookings[0].start
    assert start == as_an_older_gateway_reads_it(encode(snapshot, FULL)).bookings[0].start
    assert start == at(10, 0, 1)


DEVICES = ("reader-main", "reader-sala-a", "reader-cowork", "reader-nowhere")
TIMES = [at(h, m) for h in range(0, 24) for m in (0, 5, 29, 50)] + [at(12, 0, 999), at(31)]


def decisions(snapshot: PolicySnapshot) -> dict[tuple[str, str, datetime], Outcome]:
    """decide() for every door (and one unknown), card (and an unknown one) and time."""
    hashes = [card_hash(KEY, uid) for uid in [*CARDS, "04000002", "04FFFFFF"]]
    return {
        (device, hashed, now): decide(snapshot, device, hashed, now)
        for device in DEVICES
        for hashed in hashes
        for now in TIMES
    }


def test_every_decision_is_the_same_over_the_compact_form(snapshot: PolicySnapshot) -> None:
    expected = decisions(snapshot)
    assert decisions(decode(encode(snapshot, COMPACT))) == expected
    # the grid reaches every kind of answer the fixture can give
    assert {outcome.reason.value for outcome in expected.values()} >= {
        "staff", "membership", "booking", "walk_in", "unknown_card", "card_revoked",
        "member_suspended", "unknown_door", "locked_down", "no_access", "outside_hours",
    }  # fmt: skip


def test_the_gateway_s_disk_object_round_trips(snapshot: PolicySnapshot) -> None:
    assert from_wire(json.loads(json.dumps(to_wire(snapshot, COMPACT)))) == snapshot
    assert from_wire(json.loads(json.dumps(to_wire(snapshot, FULL)))) == snapshot


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda d: d.update(v=3), "no policy snapshot form 3"),
        (lambda d: d["bookings"].append([1, "sala-a", 3, 0, 1, "booked", [], "more"]), "at most"),
        (lambda d: d["bookings"].append([1, "sala-a", 3, 0, 1, "lost"]), "status"),
        (lambda d: d["bookings"].append([1, "sala-a"]), "member_id"),
        (lambda d: d["cards"].update(abc=5), "at most"),
        (lambda d: d["members"].update({"9": ["pirate"]}), "category"),
        (lambda d: d["members"].update({"9": ["staff", "soon"]}), "suspended_until"),
        (lambda d: d.update(members=[]), "JSON objects"),
        (lambda d: d.update(bookings={}), "JSON array"),
    ],
    ids=["form", "long-row", "status", "short-row", "not-a-row", "category", "time", "members",
         "bookings"],
)  # fmt: skip
def test_a_bad_compact_body_is_refused(snapshot: PolicySnapshot, change: Any, error: str) -> None:
    data = json.loads(encode(snapshot, COMPACT))
    change(data)
    with pytest.raises(ValueError, match=error):
        decode(json.dumps(data))


@pytest.mark.parametrize("body", [b"[]", b"<html>", b"\xff\xfe", b'{"v":1,"site":"x"}'])
def test_what_is_no_snapshot_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        decode(body)


def test_a_bad_time_is_a_validation_error(snapshot: PolicySnapshot) -> None:
    data = json.loads(encode(snapshot, COMPACT))
    data["bookings"][0][3] = 10**30
    with pytest.raises(ValidationError):
        decode(json.dumps(data))
