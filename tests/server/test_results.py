"""A door's Result counts only for a tap that the same door sent, from the same boot: a
forged one changes nothing (docs/protocol.md, Result; issue 8, item 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from doorwire import Clock, Device, door_path
from sqlalchemy import select
from support import factories
from support.waiting import wait_for

from protocol import topics
from protocol.messages import Result, Tap, new_id
from server.db import models
from server.errors import NotYet, Rejected
from server.noshows.release import sweep

SITE = "piaseczno"
KEY = "test-card-key-0123456789"
START = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 18:00 in Warsaw
GRACE = timedelta(minutes=15)
DAY = timedelta(days=1)
ANNA, EWA = "04B2C3D4", "04A1B2C3"
BOOT = "boot-one"


@pytest.fixture
def hub(broker, tmp_path):
    clock = Clock(START + timedelta(minutes=2))
    members = {"anna": ("business", ANNA), "ewa": ("staff", EWA)}
    with door_path(broker.url, tmp_path, clock=clock, key=KEY, members=members, wire=Device) as (
        ctx,
        wire,
        ids,
    ):
        yield ctx, clock, wire, ids


@pytest.fixture
def service(ctx, clock):
    """The access service alone (no broker), with Anna booked into Sala A from `clock`."""
    from server.people import members

    with ctx.writes() as s, s.begin():
        anna = members.create_member(s, name="Anna Kowalska", category="business")
        members.add_card(s, card_key=ctx.card_key, member_id=anna.id, uid=ANNA)
        booked = factories.booking(s, ctx.site, anna.id, clock.now, now=clock.now - DAY)
    return ctx.access, booked.id


def rows(ctx, tap_id: str) -> list[models.AccessEvent]:
    with ctx.reads() as s:
        stmt = select(models.AccessEvent).where(models.AccessEvent.event_id == tap_id)
        return list(s.scalars(stmt))


def booking_status(ctx, booking_id: int) -> str:
    with ctx.reads() as s:
        return s.get(models.Booking, booking_id).status  # type: ignore[union-attr]


def strikes(ctx) -> list[models.NoShow]:
    with ctx.reads() as s:
        return list(s.scalars(select(models.NoShow)))


# -- the access service -----------------------------------------------------------------


def test_a_result_for_a_tap_never_seen_is_not_yet_and_records_nothing(service, ctx):
    access, _booking = service
    forged = Result(id=new_id(), tap=new_id(), applied="gateway", granted=True)
    with pytest.raises(NotYet) as refused:
        access.handle_result("reader-sala-a", forged)
    assert refused.value.reason == "result_without_tap"
    assert rows(ctx, forged.tap) == []


def test_a_result_before_its_tap_applies_once_the_tap_is_recorded(service, ctx, clock):
    access, booking_id = service
    tap = Tap(id=new_id(), ts=clock.now, card=ANNA, boot=BOOT)
    result = Result(id=new_id(), tap=tap.id, applied="server", granted=False, boot=BOOT)
    with pytest.raises(NotYet):
        access.handle_result("reader-sala-a", result)
    answers: list = []
    access.handle_tap("reader-sala-a", tap, answers.append)
    assert [a.reason for a in answers] == ["booking"]
    assert booking_status(ctx, booking_id) == "checked_in"
    assert access.handle_result("reader-sala-a", result) is True  # the door stayed shut
    assert booking_status(ctx, booking_id) == "booked"
    assert access.handle_result("reader-sala-a", result) is False  # redelivered: a no-op


@pytest.mark.parametrize(
    ("device", "boot", "refusal"),
    [
        ("reader-main", BOOT, NotYet),  # another door's topic: that door sent no such tap
        ("reader-sala-a", "another-boot", Rejected),
        ("reader-sala-a", None, Rejected),  # the tap carried a boot, the Result none
    ],
)
def test_a_result_from_another_door_or_boot_changes_nothing(
    service, ctx, clock, device, boot, refusal
):
    access, booking_id = service
    tap = Tap(id=new_id(), ts=clock.now, card=ANNA, boot=BOOT)
    access.handle_tap("reader-sala-a", tap, lambda decision: None)
    assert booking_status(ctx, booking_id) == "checked_in"
    forged = Result(id=new_id(), tap=tap.id, applied="none", granted=False, boot=boot)
    with pytest.raises(refusal):
        access.handle_result(device, forged)
    [event] = rows(ctx, tap.id)
    assert (event.result_id, event.granted, event.by) == (None, True, "server")
    assert booking_status(ctx, booking_id) == "checked_in"


def test_a_second_result_saying_otherwise_is_rejected(service, ctx, clock):
    access, booking_id = service
    tap = Tap(id=new_id(), ts=clock.now, card=ANNA, boot=BOOT)
    access.handle_tap("reader-sala-a", tap, lambda decision: None)
    real = Result(id=new_id(), tap=tap.id, applied="server", granted=True, boot=BOOT)
    assert access.handle_result("reader-sala-a", real) is True
    forged = Result(id=new_id(), tap=tap.id, applied="none", granted=False, boot=BOOT)
    with pytest.raises(Rejected) as refused:
        access.handle_result("reader-sala-a", forged)
    assert refused.value.reason == "result_conflict"
    [event] = rows(ctx, tap.id)
    assert (event.result_id, event.result_granted) == (real.id, True)
    assert booking_status(ctx, booking_id) == "checked_in"


def test_a_tap_without_a_boot_takes_a_result_without_one(service, ctx, clock):
    """Doors of older versions send no boot: their Results still count."""
    access, _booking = service
    tap = Tap(id=new_id(), ts=clock.now, card=ANNA)
    access.handle_tap("reader-sala-a", tap, lambda decision: None)
    result = Result(id=new_id(), tap=tap.id, applied="server", granted=True)
    assert access.handle_result("reader-sala-a", result) is True


def test_messages_of_an_unknown_device_are_rejected(service, ctx, clock):
    access, _booking = service
    tap = Tap(id=new_id(), ts=clock.now, card=ANNA)
    with pytest.raises(Rejected) as refused:
        access.handle_tap("reader-ghost", tap, lambda decision: None)
    assert refused.value.reason == "unknown_device"
    with pytest.raises(Rejected):
        access.handle_result(
            "reader-ghost", Result(id=new_id(), tap=tap.id, applied="none", granted=False)
        )
    assert rows(ctx, tap.id) == []


# -- through a broker -------------------------------------------------------------------


def test_a_forged_result_on_the_wire_changes_nothing(hub):
    """Anna is let in and her booking checked in; a Result saying the door stayed shut,
    for her sniffed tap id, sent on another door's topic or with another boot, neither
    undoes the check-in nor has her released as a no-show; one for a tap id never seen
    makes no access event."""
    ctx, clock, wire, ids = hub
    booking_id = factories.add_booking(ctx, ids["anna"], START, now=START - DAY)
    tap = wire.tap("reader-sala-a", ANNA, ts=clock.now, boot=BOOT)
    assert wire.decision(tap)[1].reason == "booking"
    wait_for(lambda: booking_status(ctx, booking_id) == "checked_in")

    def forge(device: str, tap_id: str, boot: str | None) -> None:
        result = Result(id=new_id(), tap=tap_id, applied="none", granted=False, boot=boot)
        wire.client.publish(topics.result(SITE, device), result).wait_for_publish(5)

    forge("reader-main", tap.id, BOOT)
    forge("reader-sala-a", tap.id, "another-boot")
    never = new_id()
    forge("reader-sala-a", never, BOOT)
    # The door path is one ordered stream: once a tap sent after them is answered, they
    # have been handled (or set aside to try again, which changes nothing either).
    assert wire.decision(wire.tap("reader-main", EWA, ts=clock.now))[1].granted
    clock.now = START + GRACE
    with ctx.writes() as s, s.begin():
        swept = sweep(s, site=ctx.site, now=clock.now)
    assert booking_id not in swept.released
    assert booking_status(ctx, booking_id) == "checked_in"
    assert strikes(ctx) == []
    [event] = rows(ctx, tap.id)
    assert (event.granted, event.by, event.result_id) == (True, "server", None)
    assert rows(ctx, never) == []
