"""Payload models of docs/protocol.md v1: encode/decode, tolerance of newer senders, and limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from protocol.messages import (
    MAX_PAYLOAD,
    Count,
    Decision,
    DeviceEvent,
    DoorCommand,
    DoorEvent,
    DoorMode,
    EmergencyList,
    Message,
    Motion,
    PolicyNotice,
    ProtocolError,
    Reason,
    Result,
    Status,
    Tap,
    decode,
    encode,
    format_time,
    new_id,
    utcnow,
)

PAYLOADS = Path(__file__).parent / "payloads"
TS = datetime(2024, 1, 15, 12, 0, 0, 123000, tzinfo=UTC)  # whole milliseconds: exact on the wire
HASH = "ab" * 32

SAMPLES: list[Message] = [
    Status(state="online", kind="door", ts=TS),
    Status(
        state="offline", kind="server", version="1.2.3", ts=TS, interval_s=15,
        clock_synced=False, queued=7, dropped=2,
    ),
    Tap(id="e1", ts=TS, card="04A1B2C3"),
    Tap(id="e2", ts=TS, card="0A1B2C3D4E", tech="em4100", reader="out", replay=True,
        boot="boot-1", seq=9),
    Decision(id="e1", granted=True, reason=Reason.MEMBERSHIP, unlock_s=7.5, name="Anna K."),
    Decision(id="e1", granted=False, reason="no_access", unlock_s=0, by="gateway", reader="in"),
    Result(id="r1", tap="e1", applied="gateway", granted=True),
    Result(id="r2", tap="e2", applied="none", granted=False, ts=TS, reason="timeout",
           boot="b", seq=1),
    DoorEvent(id="d1", ts=TS, event="forced"),
    Motion(id="m1", ts=TS, motion=False),
    Count(id="c1", ts=TS, entered=4, left=2),
    DoorCommand(id="k1", ts=TS, expires=TS + timedelta(seconds=30), unlock_s=3),
    DoorMode(ts=TS, mode="unlocked"),
    EmergencyList(ts=TS, salt="0123abcd", cards=[HASH, "cd" * 32]),
    PolicyNotice(epoch="db-1", n=0, ts=TS),
]  # fmt: skip


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_every_model_round_trips(message: Message) -> None:
    data = encode(message)
    assert isinstance(data, bytes)
    assert decode(type(message), data) == message
    assert decode(type(message), data.decode()) == message  # text is read the same


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_encoded_payload_carries_v1_and_no_nulls(message: Message) -> None:
    obj = json.loads(encode(message))
    assert obj["v"] == 1
    assert None not in obj.values()
    assert b" " not in encode(message).replace(b"Anna K.", b"")  # compact JSON


# -- fixture payloads, as devices send them -------------------------------------------

FIXTURES: dict[str, type[Message]] = {
    "status.json": Status,
    "status_offline_will.json": Status,
    "tap.json": Tap,
    "tap_em4100_replay.json": Tap,
    "decision.json": Decision,
    "decision_denied.json": Decision,
    "result.json": Result,
    "result_timeout.json": Result,
    "door_event.json": DoorEvent,
    "motion.json": Motion,
    "count.json": Count,
    "door_command.json": DoorCommand,
    "door_mode.json": DoorMode,
    "emergency_list.json": EmergencyList,
    "policy_notice.json": PolicyNotice,
}


def test_every_fixture_is_listed() -> None:
    assert {p.name for p in PAYLOADS.glob("*.json")} == set(FIXTURES)


@pytest.mark.parametrize(("name", "model"), FIXTURES.items())
def test_fixture_decodes_and_re_encodes_its_values(name: str, model: type[Message]) -> None:
    raw = (PAYLOADS / name).read_bytes()
    message = decode(model, raw)
    sent = {k: v for k, v in json.loads(raw).items() if v is not None}
    encoded = json.loads(encode(message))
    assert {k: encoded.get(k) for k in sent} == sent  # defaults may be added, nothing changed
    assert decode(model, encode(message)) == message


def test_fixture_values_are_read() -> None:
    tap = decode(Tap, (PAYLOADS / "tap.json").read_bytes())
    assert tap.card == "04A1B2C3" and tap.tech == "iso14443" and tap.seq == 42
    assert tap.ts == datetime(2024, 1, 15, 12, 0, 0, 123000, tzinfo=UTC)
    decision = decode(Decision, (PAYLOADS / "decision_denied.json").read_bytes())
    assert decision.name is None and decision.by == "gateway" and not decision.granted
    command = decode(DoorCommand, (PAYLOADS / "door_command.json").read_bytes())
    assert command.expires - command.ts == timedelta(seconds=30)


# -- tolerance of newer senders ---------------------------------------------------------


def _tap(**changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"v": 1, "id": "e1", "ts": "2024-01-15T12:00:00Z", "card": "04A1B2C3"}
    obj.update(changes)
    return {k: v for k, v in obj.items() if v is not ...}


def test_unknown_fields_are_accepted_and_ignored() -> None:
    plain = decode(Tap, json.dumps(_tap()))
    newer = decode(Tap, json.dumps(_tap(rssi=-40, antenna={"gain": 3}, flags=[1, 2])))
    assert (newer.id, newer.ts, newer.card, newer.replay) == (
        plain.id, plain.ts, plain.card, plain.replay,
    )  # fmt: skip
    assert newer.model_dump(exclude=set(newer.model_extra or {})) == plain.model_dump()


@pytest.mark.parametrize("v", [2, 7])
def test_a_higher_version_is_read(v: int) -> None:
    tap = decode(Tap, json.dumps(_tap(v=v, new_field="x")))
    assert tap.v == v and tap.card == "04A1B2C3"


@pytest.mark.parametrize("v", [0, -1])
def test_version_below_one_is_rejected(v: int) -> None:
    with pytest.raises(ProtocolError, match="v"):
        decode(Tap, json.dumps(_tap(v=v)))
    with pytest.raises(ValidationError):
        Status(v=v, state="online", kind="door", ts=TS)


# -- size -----------------------------------------------------------------------------------


def _padded(size: int) -> bytes:
    """A valid Tap payload of exactly `size` bytes, padded with an unknown field."""
    base = json.dumps(_tap(pad=""), separators=(",", ":")).encode()
    data = base.replace(b'"pad":""', b'"pad":"' + b"x" * (size - len(base)) + b'"')
    assert len(data) == size
    return data


def test_decode_accepts_exactly_4_kib() -> None:
    assert decode(Tap, _padded(MAX_PAYLOAD)).card == "04A1B2C3"


def test_decode_rejects_over_4_kib() -> None:
    with pytest.raises(ProtocolError, match="4096"):
        decode(Tap, _padded(MAX_PAYLOAD + 1))


def test_decode_counts_bytes_not_characters() -> None:
    text = json.dumps(_tap(note="ż" * 2100), ensure_ascii=False)
    assert len(text) < MAX_PAYLOAD < len(text.encode())
    with pytest.raises(ProtocolError, match="4096"):
        decode(Tap, text)


def test_encode_rejects_over_4_kib() -> None:
    assert MAX_PAYLOAD == 4096
    small = Tap(id="e1", ts=TS, card="04A1B2C3", note="x" * 3900)
    assert len(encode(small)) <= MAX_PAYLOAD
    with pytest.raises(ProtocolError, match="4096"):
        encode(Tap(id="e1", ts=TS, card="04A1B2C3", note="x" * 4100))


def test_encode_accepts_exactly_4_kib() -> None:
    base = len(encode(Tap(id="e1", ts=TS, card="04A1B2C3", note="")))
    exact = Tap(id="e1", ts=TS, card="04A1B2C3", note="x" * (MAX_PAYLOAD - base))
    assert len(encode(exact)) == MAX_PAYLOAD
    one_over = Tap(id="e1", ts=TS, card="04A1B2C3", note="x" * (MAX_PAYLOAD - base + 1))
    with pytest.raises(ProtocolError):
        encode(one_over)


def test_largest_emergency_list_fits_in_a_payload() -> None:
    full = EmergencyList(ts=TS, salt="f" * 128, cards=[HASH] * 50)
    assert len(encode(full)) <= MAX_PAYLOAD
    with pytest.raises(ValidationError):
        EmergencyList(ts=TS, salt="f" * 128, cards=[HASH] * 51)


# -- not JSON, not an object ------------------------------------------------------------

NOT_JSON: list[bytes | str] = [
    b"",
    b"not json",
    b"{'v': 1}",
    b'{"v": 1,',
    b"\xff\xfe\x00",
    b"\xc3\x28",  # invalid UTF-8
    "\ud800",  # a lone surrogate has no UTF-8 form
    json.dumps(_tap()).encode("utf-16"),  # valid JSON, but not UTF-8
    b'{"v": 1, "id": "e1", "ts": "2024-01-15T12:00:00Z", "card": "04A1B2C3", "x": NaN}',
    b'{"v": 1, "id": "e1", "ts": "2024-01-15T12:00:00Z", "card": "04A1B2C3", "x": Infinity}',
    b"[" * 2048 + b"]" * 2048,  # deeper than Python's recursion limit, within 4 KiB
]


@pytest.mark.parametrize("payload", NOT_JSON)
def test_non_json_is_a_protocol_error(payload: bytes | str) -> None:
    with pytest.raises(ProtocolError):
        decode(Tap, payload)


@pytest.mark.parametrize("payload", [b"[]", b'"tap"', b"1", b"null", b"true", b"[{}]"])
def test_non_object_is_a_protocol_error(payload: bytes) -> None:
    with pytest.raises(ProtocolError, match="object"):
        decode(Tap, payload)


def test_invalid_fields_are_a_protocol_error_naming_the_field() -> None:
    with pytest.raises(ProtocolError, match=r"Status\.state"):
        decode(Status, b'{"v":1,"state":"maybe","kind":"door","ts":"2024-01-15T12:00:00Z"}')
    with pytest.raises(ProtocolError, match=r"Tap\.card"):
        decode(Tap, json.dumps(_tap(card=...)))


def test_protocol_error_is_a_value_error() -> None:
    assert issubclass(ProtocolError, ValueError)


@pytest.mark.parametrize("field", ["interval_s"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_numbers_cannot_be_built(field: str, value: float) -> None:
    # pydantic would write them as null, which no reader could decode back
    with pytest.raises(ValidationError):
        Status(state="online", kind="door", ts=TS, **{field: value})


# -- times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ts",
    ["2024-01-15T12:00:00Z", "2024-01-15T12:00:00.000Z", "2024-01-15T12:00:00+00:00",
     "2024-01-15T12:00:00z"],
)  # fmt: skip
def test_utc_times_are_accepted(ts: str) -> None:
    decoded = decode(Tap, json.dumps(_tap(ts=ts))).ts
    assert decoded == datetime(2024, 1, 15, 12, tzinfo=UTC)
    assert decoded.tzinfo is UTC  # the same zone object as utcnow(), whatever was parsed


@pytest.mark.parametrize(
    "ts",
    ["2024-01-15T12:00:00", "2024-01-15T13:00:00+01:00", "2024-01-15T10:00:00-02:00",
     "2024-01-15", "yesterday", ""],
)  # fmt: skip
def test_naive_or_offset_times_are_rejected(ts: str) -> None:
    with pytest.raises(ProtocolError, match="ts"):
        decode(Tap, json.dumps(_tap(ts=ts)))


def test_models_refuse_naive_and_non_utc_datetimes() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        DoorMode(ts=datetime(2024, 1, 15, 12), mode="normal")
    with pytest.raises(ValidationError, match="UTC"):
        DoorMode(ts=datetime(2024, 1, 15, 13, tzinfo=timezone(timedelta(hours=1))), mode="normal")


def test_time_output_is_utc_with_z_to_the_millisecond() -> None:
    command = DoorCommand(id="k", ts=TS, expires=TS + timedelta(seconds=30))
    obj = json.loads(encode(command))
    assert obj["ts"] == "2024-01-15T12:00:00.123Z"
    assert obj["expires"] == "2024-01-15T12:00:30.123Z"
    for message in SAMPLES:
        for key in ("ts", "expires"):
            value = json.loads(encode(message)).get(key)
            if value is not None:
                assert value.endswith("Z"), (type(message).__name__, key, value)


def test_format_time() -> None:
    assert format_time(datetime(2024, 1, 15, 12, 0, 0, 999999, tzinfo=UTC)) == (
        "2024-01-15T12:00:00.999Z"
    )
    warsaw = timezone(timedelta(hours=1))
    assert format_time(datetime(2024, 1, 15, 13, 0, tzinfo=warsaw)) == "2024-01-15T12:00:00.000Z"
    assert format_time(datetime(2024, 7, 1, 0, 0, tzinfo=UTC)) == "2024-07-01T00:00:00.000Z"


def test_utcnow_is_aware_utc() -> None:
    now = utcnow()
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


# -- event ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "good", ["a", "E1", "x" * 64, "01HMBX3K9Q4Z7VQ2N8W5T6Y1RA", "3f2b8c1e-6d4a-4f0b-9a3e",
             "a_B-9"],
)  # fmt: skip
def test_event_ids_accepted(good: str) -> None:
    assert decode(Tap, json.dumps(_tap(id=good))).id == good
    assert (
        decode(
            Result, json.dumps({"id": good, "tap": good, "applied": "none", "granted": False})
        ).tap
        == good
    )


@pytest.mark.parametrize("bad", ["", "x" * 65, "a b", "a.b", "a/b", "a+b", "ą", "e1\n", " e1"])
def test_event_ids_rejected(bad: str) -> None:
    with pytest.raises(ProtocolError, match="id"):
        decode(Tap, json.dumps(_tap(id=bad)))
    with pytest.raises(ValidationError):
        Decision(id=bad, granted=False, reason="unknown_card")
    with pytest.raises(ValidationError):
        Result(id="r", tap=bad, applied="none", granted=False)


def test_new_id_is_a_valid_fresh_event_id() -> None:
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100
    for event_id in ids:
        Tap(id=event_id, ts=TS, card="04A1B2C3")


# -- Tap ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["04a1b2c3", "04:a1:b2:c3", "04-A1-B2-C3", "04 a1 b2 c3", "0x04A1B2C3"]
)
def test_tap_card_is_normalised(raw: str) -> None:
    assert Tap(id="e1", ts=TS, card=raw).card == "04A1B2C3"
    assert decode(Tap, json.dumps(_tap(card=raw))).card == "04A1B2C3"
    assert json.loads(encode(Tap(id="e1", ts=TS, card=raw)))["card"] == "04A1B2C3"


@pytest.mark.parametrize("raw", ["", "zz", "04A1B2", "04A1B2C", "04A1B2C3G0", "0" * 22])
def test_tap_invalid_card_is_rejected(raw: str) -> None:
    with pytest.raises(ProtocolError, match="card"):
        decode(Tap, json.dumps(_tap(card=raw)))


def test_tap_defaults() -> None:
    tap = decode(Tap, json.dumps(_tap()))
    assert (tap.replay, tap.tech, tap.reader, tap.boot, tap.seq) == (False, None, None, None, None)


@pytest.mark.parametrize("seq", [0, -1])
def test_seq_starts_at_one(seq: int) -> None:
    with pytest.raises(ProtocolError, match="seq"):
        decode(Tap, json.dumps(_tap(seq=seq)))
    assert decode(Tap, json.dumps(_tap(seq=1))).seq == 1


def test_device_events_share_the_base() -> None:
    for model in (Tap, DoorEvent, Motion, Count):
        assert issubclass(model, DeviceEvent)


# -- Decision -----------------------------------------------------------------------------

PROTOCOL_REASONS = {
    "staff", "membership", "booking", "walk_in", "unknown_card", "card_revoked",
    "member_suspended", "outside_hours", "no_membership", "room_booked", "booking_released",
    "no_access", "unknown_door", "locked_down", "too_many_attempts", "policy_stale",
}  # fmt: skip


def test_reason_enum_is_the_protocol_list() -> None:
    assert {r.value for r in Reason} == PROTOCOL_REASONS


@pytest.mark.parametrize("reason", sorted(PROTOCOL_REASONS) + ["a_reason_added_later"])
def test_decision_reason_accepted(reason: str) -> None:
    decision = decode(
        Decision, json.dumps({"v": 1, "id": "e1", "granted": False, "reason": reason})
    )
    assert decision.reason == reason


@pytest.mark.parametrize(
    "reason", ["", "Staff", "no-access", "no access", "x" * 41, "é", "staff\n", "1"]
)
def test_decision_reason_pattern(reason: str) -> None:
    with pytest.raises(ProtocolError, match="reason"):
        decode(Decision, json.dumps({"v": 1, "id": "e1", "granted": False, "reason": reason}))


def test_decision_reason_enum_encodes_as_its_value() -> None:
    obj = json.loads(encode(Decision(id="e1", granted=True, reason=Reason.STAFF)))
    assert obj["reason"] == "staff"
    assert obj["by"] == "server" and obj["unlock_s"] == 5.0
    assert "name" not in obj  # a None name is left out; readers take it as null


@pytest.mark.parametrize("unlock_s", [-1, 3601])
def test_decision_unlock_bounds(unlock_s: float) -> None:
    with pytest.raises(ValidationError):
        Decision(id="e1", granted=True, reason="staff", unlock_s=unlock_s)


def test_decision_by_is_server_or_gateway() -> None:
    with pytest.raises(ProtocolError, match="by"):
        decode(Decision, b'{"v":1,"id":"e1","granted":true,"reason":"staff","by":"door"}')


# -- other models --------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["entered", "left"])
def test_count_is_non_negative(field: str) -> None:
    base = {"v": 1, "id": "c1", "ts": "2024-01-15T12:00:00Z"}
    with pytest.raises(ProtocolError, match=field):
        decode(Count, json.dumps({**base, field: -1}))
    zero = decode(Count, json.dumps(base))
    assert (zero.entered, zero.left) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value"), [("queued", -1), ("dropped", -1), ("interval_s", 0), ("interval_s", -5)]
)
def test_status_counters_and_interval_bounds(field: str, value: int) -> None:
    with pytest.raises(ValidationError):
        Status(state="online", kind="door", ts=TS, **{field: value})


def test_status_enums() -> None:
    with pytest.raises(ValidationError):
        Status(state="online", kind="toaster", ts=TS)  # type: ignore[arg-type]


def test_door_event_kinds() -> None:
    for kind in (
        "opened",
        "closed",
        "forced",
        "held_open",
        "exit_request",
        "fire_release",
        "tamper",
    ):
        assert DoorEvent(id="d", ts=TS, event=kind).event == kind  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        DoorEvent(id="d", ts=TS, event="exploded")  # type: ignore[arg-type]


def test_door_mode_values() -> None:
    with pytest.raises(ValidationError):
        DoorMode(ts=TS, mode="open")  # type: ignore[arg-type]


def test_door_command_is_an_unlock_with_a_positive_time() -> None:
    with pytest.raises(ValidationError):
        DoorCommand(id="k", ts=TS, expires=TS, command="lock")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        DoorCommand(id="k", ts=TS, expires=TS, unlock_s=0)


@pytest.mark.parametrize(
    ("salt", "cards"),
    [("0123abc", [HASH]), ("0123ABCD", [HASH]), ("0123abcd", [HASH.upper()]),
     ("0123abcd", [HASH[:-1]]), ("0123abcd", ["zz" * 32])],
)  # fmt: skip
def test_emergency_list_patterns(salt: str, cards: list[str]) -> None:
    with pytest.raises(ValidationError):
        EmergencyList(ts=TS, salt=salt, cards=cards)


def test_policy_notice_bounds() -> None:
    with pytest.raises(ValidationError):
        PolicyNotice(epoch="", n=0, ts=TS)
    with pytest.raises(ValidationError):
        PolicyNotice(epoch="db", n=-1, ts=TS)


def test_messages_are_frozen() -> None:
    tap = Tap(id="e1", ts=TS, card="04A1B2C3")
    with pytest.raises(ValidationError):
        tap.card = "04A1B2C4"  # type: ignore[misc]
