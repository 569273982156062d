"""An open workshop: its room and the entrance in passage mode for its duration, and no
no-show release for a booking nobody taps in to."""

from __future__ import annotations

from datetime import timedelta

from support.factories import add_booking, add_member

from server.access.doormodes import effective_modes
from server.db import models
from server.noshows.release import sweep


def _workshop(ctx, clock, *, public: bool = True) -> int:
    ngo = add_member(ctx, "Fundacja Razem", "ngo")
    start, end = clock.now + timedelta(hours=1), clock.now + timedelta(hours=3)
    return add_booking(ctx, ngo, start, end, now=clock.now, room_id="sala-b", public=public)


def _modes(ctx, clock):
    with ctx.reads() as s:
        return effective_modes(s, ctx.site, clock.now)


def test_public_booking_opens_its_room_and_the_entrance_for_its_duration(ctx, clock):
    _workshop(ctx, clock)
    closed = {
        d: "normal" for d in ("reader-main", "reader-sala-a", "reader-sala-b", "reader-cowork")
    }
    assert _modes(ctx, clock) == closed
    clock.advance(hours=1)
    opened = _modes(ctx, clock)
    assert opened == closed | {"reader-main": "unlocked", "reader-sala-b": "unlocked"}
    clock.advance(hours=2)
    assert _modes(ctx, clock) == closed


def test_a_mode_staff_set_wins_over_a_public_booking(ctx, clock):
    _workshop(ctx, clock)
    with ctx.writes() as s, s.begin():
        s.get(models.Door, "main").mode = "locked"
    clock.advance(hours=1)
    assert _modes(ctx, clock)["reader-main"] == "locked"
    assert _modes(ctx, clock)["reader-sala-b"] == "unlocked"


def test_public_booking_is_checked_in_at_its_start_not_released(ctx, clock):
    public = _workshop(ctx, clock)
    clock.advance(hours=1)
    with ctx.writes() as s, s.begin():
        report = sweep(s, site=ctx.site, now=clock.now)
    assert report.opened == [public]
    clock.advance(minutes=30)
    with ctx.writes() as s, s.begin():
        assert sweep(s, site=ctx.site, now=clock.now).released == []
    with ctx.reads() as s:
        assert s.get(models.Booking, public).status == "checked_in"


def test_private_booking_keeps_doors_closed_and_is_released_when_nobody_comes(ctx, clock):
    private = _workshop(ctx, clock, public=False)
    clock.advance(hours=1, minutes=15)
    assert set(_modes(ctx, clock).values()) == {"normal"}
    with ctx.writes() as s, s.begin():
        assert sweep(s, site=ctx.site, now=clock.now).released == [private]
