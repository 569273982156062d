"""`spacehub simulate` on a few simulated days: reproducible for a seed, every released
booking accounted for, and nothing done but through the server's own domain functions."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.db import models
from server.reports.freed import nobody_came
from server.reports.intervals import clip, hours
from server.reports.weeks import local_midnight
from spacehub.simulate import FIRST_DAY, simulate, simulated
from spacehub.simulate.outcome import MonthOutcome
from spacehub.simulate.world import World

ROOT = Path(__file__).resolve().parent.parent
DAYS = 3  # enough for no-shows, releases, reuse, walk-ins and offers; each day costs ~0.5 s
KEYS = {
    "days",
    "bookings",
    "no_show_rate",
    "no_show_hours",
    "released_hours",
    "reused_hours",
    "released_share",
    "reused_share",
}


@pytest.fixture(scope="module")
def week() -> Iterator[tuple[World, MonthOutcome]]:
    with simulated(days=DAYS, no_show_rate=0.3, seed=7) as played:
        yield played


def bookings(world: World) -> list[models.Booking]:
    with world.ctx.reads() as session:
        found = list(session.scalars(select(models.Booking)))
        session.expunge_all()
        return found


@pytest.mark.slow  # a second simulation, ~2 s
def test_the_same_seed_gives_the_same_days(week: tuple[World, MonthOutcome]) -> None:
    _world, first = week
    again = simulate(days=DAYS, no_show_rate=0.3, seed=7)
    assert json.dumps(again.as_json()) == json.dumps(first.as_json())
    assert first.bookings > 0 and first.outcome.total.no_show > 0  # days with something in them


@pytest.mark.slow  # the module's three simulated days, ~2 s before it starts
def test_every_released_booking_is_accounted_for(week: tuple[World, MonthOutcome]) -> None:
    world, result = week
    tz = ZoneInfo(world.ctx.site.site.timezone)
    start = local_midnight(FIRST_DAY, tz)
    end = local_midnight(FIRST_DAY + timedelta(days=DAYS), tz)
    grace = timedelta(seconds=world.ctx.site.access.no_show_grace)
    released = [b for b in bookings(world) if b.status == "released"]
    assert released, "a week at a 30% no-show rate releases bookings"
    # each released booking's hours from its release (or its grace's end) to its end
    expected = 0.0
    for b in released:
        assert b.released_at is not None and b.checked_in_at is None
        _no_show, freed = nobody_came(
            status=b.status,
            start=b.start,
            end=b.end,
            released_at=b.released_at,
            grace=grace,
            now=world.now,
        )
        assert freed is not None
        expected += hours(clip([freed], start, end))
    assert result.outcome.total.released == pytest.approx(expected)
    # every booking nobody came to was released: the server's sweep ran where it would have
    assert result.outcome.total.released_share == pytest.approx(1.0)
    total = result.outcome.total
    assert 0 < total.reused <= total.released <= total.no_show


@pytest.mark.slow  # the module's three simulated days, ~2 s before it starts
def test_every_change_was_made_by_the_servers_own_paths(week: tuple[World, MonthOutcome]) -> None:
    """Released by the sweep (a no-show row each), walk-ins made by a tap at the door,
    waitlist bookings by an accepted offer, check-ins by a tap or a sensor."""
    world, _result = week
    with world.ctx.reads() as session:
        no_shows = set(session.scalars(select(models.NoShow.booking_id)))
        by_tap = {
            booking_id: reason
            for booking_id, reason in session.execute(
                select(models.AccessEvent.booking_id, models.AccessEvent.reason).where(
                    models.AccessEvent.booking_id.is_not(None)
                )
            )
        }
        accepted = set(
            session.scalars(
                select(models.Offer.booking_id).where(models.Offer.status == "accepted")
            )
        )
        motion = session.scalar(
            select(models.DeviceEvent.id).where(models.DeviceEvent.kind == "motion").limit(1)
        )
    assert motion is not None
    made = bookings(world)
    sources = {b.source for b in made}
    assert {"api", "walk_in", "waitlist"} <= sources
    for b in made:
        if b.status == "released":
            assert b.id in no_shows
        if b.source == "walk_in":
            assert by_tap.get(b.id) == "walk_in"
        if b.source == "waitlist":
            assert b.id in accepted
    checked_in = [b for b in made if b.checked_in_at is not None and b.source == "api"]
    assert any(b.id in by_tap for b in checked_in)  # by a tap at the door
    assert any(b.id not in by_tap for b in checked_in)  # by motion in the room


# What would change rows behind the domain's back: a row's fields set, the store's or the
# lifecycle's functions, SQL statements, a session told to add, delete or execute.
ROW_FIELDS = ("status", "start", "end", "source")
WRITERS = ("insert_booking", "transition", "update", "insert", "delete")
SESSION_WRITES = ("add", "add_all", "delete", "execute", "merge")


def test_the_simulation_never_writes_rows_itself() -> None:
    """No code in spacehub/simulate sets a booking's status or times, calls the store or
    the lifecycle, or writes SQL: everything it changes, a domain function changes."""
    found = []
    for path in sorted((ROOT / "spacehub" / "simulate").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.name}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if node.attr in ROW_FIELDS or node.attr.endswith("_at"):
                    found.append(f"{where} sets .{node.attr}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                told = isinstance(owner, ast.Name) and owner.id == "session"
                if told and node.func.attr in SESSION_WRITES and not _reads(node):
                    found.append(f"{where} session.{node.func.attr}")
                if node.func.attr in WRITERS:
                    found.append(f"{where} calls {node.func.attr}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in WRITERS:
                    found.append(f"{where} calls {node.func.id}")
            elif isinstance(node, ast.ImportFrom) and node.module == "server.bookings.lifecycle":
                found.append(f"{where} imports the lifecycle")
            elif isinstance(node, ast.ImportFrom) and node.module == "server.bookings.store":
                writers = {a.name for a in node.names} - STORE_READS
                if writers:
                    found.append(f"{where} imports {sorted(writers)} from the store")
    assert found == []


STORE_READS = {"current_booking", "current_bookings", "get_booking", "list_bookings"}


def _reads(call: ast.Call) -> bool:
    """`session.execute(select(...))`: a query, not a write."""
    first = call.args[0] if call.args else None
    while isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute):
        first = first.func.value  # select(...).where(...).group_by(...)
    return isinstance(first, ast.Call) and getattr(first.func, "id", "") == "select"


@pytest.mark.slow  # a subprocess simulating a week
def test_the_command_prints_one_json_object() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "spacehub.cli", "simulate", "--json", "--days", "7"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    outcome = json.loads(lines[0])
    assert set(outcome) >= KEYS
    assert outcome["days"] == 7 and outcome["no_show_rate"] == 0.3
    assert outcome["released_share"] == pytest.approx(
        outcome["released_hours"] / outcome["no_show_hours"], abs=0.001
    )


@pytest.mark.slow  # a subprocess
def test_bad_arguments_are_refused_in_one_line() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "spacehub.cli", "simulate", "--no-show-rate", "1.5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert run.returncode == 2
    assert "'1.5' is not a rate from 0 to 1" in run.stderr


@pytest.mark.slow  # the module's three simulated days, ~2 s before it starts
def test_nobody_who_came_to_the_door_in_time_is_released(
    week: tuple[World, MonthOutcome],
) -> None:
    # A holder at their room's door in the booking's check-in window (refused early
    # because the meeting before still held the room, or come for an offer's booking)
    # gets in: a booking released as a no-show saw no tap of its holder at its door then.
    world, _ = week
    early = timedelta(seconds=world.site.access.early_entry)
    grace = timedelta(seconds=world.site.access.no_show_grace)
    doors = {d.id: d.room for d in world.site.devices if d.kind == "door"}
    released = [b for b in bookings(world) if b.status == "released"]
    assert released  # a week at a 30% no-show rate releases some
    A = models.AccessEvent
    with world.ctx.reads() as session:
        for b in released:
            taps = session.scalars(
                select(A.device_id).where(
                    A.member_id == b.member_id, A.ts >= b.start - early, A.ts < b.start + grace
                )
            ).all()
            assert [t for t in taps if doors.get(t) == b.room_id] == [], b.id
