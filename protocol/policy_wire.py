"""The policy snapshot as bytes: the forms it travels and rests in (docs/protocol.md, "The
policy snapshot").

Form 1 is the PolicySnapshot model's own JSON, which every gateway reads; a member, card or
booking leaves out the fields that hold their default. Form 2, the compact one a gateway
asks for (`GET /api/sites/{site}/policy?v=2`) and keeps on its disk, writes those three
tables as rows of values in a fixed order (MEMBER_ROW, CARD_ROW, BOOKING_ROW), times in
them as milliseconds since the Unix epoch, trailing values at their default left out.
Both read back into the same snapshot.

>>> body = encode(snapshot)  # doctest: +SKIP
>>> decode(body) == decode(encode(snapshot, form=1))  # doctest: +SKIP
True
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from protocol.policy import BookingPolicy, CardPolicy, MemberPolicy, PolicySnapshot

FULL, COMPACT = 1, 2
FORMS = (FULL, COMPACT)
TABLES = ("members", "cards", "bookings")

# The values of a row of form 2, in order; the times among them.
MEMBER_ROW = ("category", "suspended_until")
CARD_ROW = ("member_id", "active")
BOOKING_ROW = ("id", "room", "member_id", "start", "end", "status", "attendees")
TIMES = frozenset({"suspended_until", "start", "end"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_SNAPSHOT = TypeAdapter(PolicySnapshot)
_FULL_TABLES: dict[str, TypeAdapter[Any]] = {
    "members": TypeAdapter(dict[int, MemberPolicy]),
    "cards": TypeAdapter(dict[str, CardPolicy]),
    "bookings": TypeAdapter(list[BookingPolicy]),
}


def encode(snapshot: PolicySnapshot, form: int = COMPACT) -> bytes:
    """The snapshot in `form` (FULL or COMPACT), as UTF-8 JSON."""
    if form == FULL:
        return _full_json(snapshot)
    return json.dumps(to_wire(snapshot, form), ensure_ascii=False, separators=(",", ":")).encode()


def _full_json(snapshot: PolicySnapshot) -> bytes:
    """Form 1 serialised by pydantic straight to bytes, its tables after the rest: not
    through a dict and a str per member, card and booking first, which at 50,000 bookings
    would take as much memory again as the snapshot itself for every answer."""
    rest = _SNAPSHOT.dump_json(snapshot, exclude=set(TABLES))
    tables = [
        b',"%s":%s'
        % (table.encode(), adapter.dump_json(getattr(snapshot, table), exclude_defaults=True))
        for table, adapter in _FULL_TABLES.items()
    ]
    return b"".join([rest[:-1], *tables, b"}"])


def decode(body: bytes | str) -> PolicySnapshot:
    """A snapshot from JSON in either form. Raises ValueError (a pydantic ValidationError
    among them) for anything else."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("a policy snapshot is a JSON object")
    return from_wire(data)


def to_wire(snapshot: PolicySnapshot, form: int = COMPACT) -> dict[str, Any]:
    """The snapshot as the JSON-ready object of `form`."""
    if form not in FORMS:
        raise ValueError(f"no policy snapshot form {form}")
    data = snapshot.model_dump(mode="json", exclude=set(TABLES))
    if form == FULL:
        for table, adapter in _FULL_TABLES.items():
            value = getattr(snapshot, table)
            data[table] = adapter.dump_python(value, mode="json", exclude_defaults=True)
        return data
    data["v"] = COMPACT
    data["members"] = {str(k): _member_row(m) for k, m in snapshot.members.items()}
    data["cards"] = {
        k: (c.member_id,) if c.active else (c.member_id, False) for k, c in snapshot.cards.items()
    }
    data["bookings"] = [_booking_row(b) for b in snapshot.bookings]
    return data


def from_wire(data: dict[str, Any]) -> PolicySnapshot:
    """A snapshot from the JSON-ready object of either form, validated as form 1 is."""
    form = data.get("v", FULL)
    if form == FULL:
        return PolicySnapshot.model_validate(data)
    if form != COMPACT:
        raise ValueError(f"no policy snapshot form {form!r}")
    full = {k: v for k, v in data.items() if k not in TABLES and k != "v"}
    members, cards, bookings = (data.get(table, {}) for table in TABLES)
    if not isinstance(members, dict) or not isinstance(cards, dict):
        raise ValueError("members and cards of a policy snapshot are JSON objects")
    if not isinstance(bookings, list):
        raise ValueError("bookings of a policy snapshot are a JSON array")
    full["members"] = {k: _fields(MEMBER_ROW, row) for k, row in members.items()}
    full["cards"] = {k: _fields(CARD_ROW, row) for k, row in cards.items()}
    full["bookings"] = [_fields(BOOKING_ROW, row) for row in bookings]
    return PolicySnapshot.model_validate(full)


# Rows are tuples: tuples of plain values are soon untracked by the garbage collector, so
# tens of thousands of them do not set off a full collection while the body is made.
def _member_row(member: MemberPolicy) -> tuple[Any, ...]:
    until = member.suspended_until
    return (member.category,) if until is None else (member.category, _ms(until))


def _booking_row(booking: BookingPolicy) -> tuple[Any, ...]:
    row = (
        booking.id,
        booking.room,
        booking.member_id,
        _ms(booking.start),
        _ms(booking.end),
        booking.status,
    )
    return (*row, booking.attendees) if booking.attendees else row


def _ms(time: datetime) -> int:
    """Whole milliseconds since the epoch (as form 1's times, to the millisecond)."""
    return (time - _EPOCH) // _MS


def _fields(names: tuple[str, ...], row: Any) -> dict[str, Any]:
    """A row of form 2 back as the fields of form 1 (a missing trailing value is left to
    the model's default; a time in milliseconds becomes a datetime)."""
    if not isinstance(row, list | tuple) or len(row) > len(names):
        raise ValueError(f"a row of {len(names)} values at most, not {row!r:.80}")
    fields = dict(zip(names, row, strict=False))
    for name in TIMES.intersection(fields):
        fields[name] = _time(fields[name])
    return fields


def _time(value: Any) -> Any:
    """Milliseconds since the epoch as a datetime; anything else is left for the model to
    take (RFC 3339) or refuse."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return _EPOCH + value * _MS
        except OverflowError:
            pass
    return value
